"""Every amount the API takes is below 10^12 (domain/money.py `Amount`): one more digit is a 422 naming the field,
on every route that takes money, and nothing is written — it was the money column's overflow, a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

BIG = "1000000000000"  # 10^12: thirteen digits
MOST = "999999999999.99"

# (method, path, body with {amount} where the amount goes, pointer of the amount, the count of rows that must not
# change)
CASES = [
    (
        "POST",
        "/v1/skus/LO-30/prices",
        {"kind": "sale", "amount": "{amount}", "currency": "CNY", "valid_from": "2099-01-01T00:00:00Z"},
        "/amount",
        "SELECT count(*) FROM prices",
    ),
    (
        "POST",
        "/v1/skus/LO-30/prices/corrections",
        {
            "kind": "sale",
            "currency": "CNY",
            "amount": "{amount}",
            "valid_from": "2020-01-01T00:00:00Z",
            "valid_to": "2020-02-01T00:00:00Z",
            "reason": "bounds",
        },
        "/amount",
        "SELECT count(*) FROM prices",
    ),
    (
        "POST",
        "/v1/stock/movements",
        {
            "type": "receive",
            "sku": "LO-30",
            "qty": 1,
            "warehouse": "hz",
            "location": "A-01-02-01",
            "unit_cost": {"amount": "{amount}", "currency": "CNY"},
        },
        "/unit_cost/amount",
        "SELECT count(*) FROM stock_movements",
    ),
    (
        "PATCH",
        "/v1/products/lavender-oil-30ml/suppliers/provence-oils",
        {"purchase_price": {"amount": "{amount}", "currency": "EUR"}},
        "/purchase_price/amount",
        "SELECT sum(version) FROM product_suppliers",
    ),
    (
        "POST",
        "/v1/promotions",
        {
            "code": "bounds",
            "labels": {"en": "Bounds"},
            "starts_at": "2099-01-01T00:00:00Z",
            "ends_at": "2099-02-01T00:00:00Z",
            "spend": {"amount": "{amount}", "currency": "CNY"},
        },
        "/spend/amount",
        "SELECT count(*) FROM promotions",
    ),
    (
        "POST",
        "/v1/sales",
        {
            "facts": [
                {
                    "day": "2026-01-05",
                    "sku": "LO-30",
                    "channel": "web",
                    "qty": 1,
                    "revenue": {"amount": "{amount}", "currency": "CNY"},
                }
            ]
        },
        "/facts/0/revenue/amount",
        "SELECT count(*) FROM sales_facts",
    ),
]


pytestmark = pytest.mark.usefixtures("demo_catalog")  # seeded once for the module (tests/conftest.py)


def with_amount(body: Any, amount: str) -> Any:
    if isinstance(body, dict):
        return {k: with_amount(v, amount) for k, v in body.items()}
    if isinstance(body, list):
        return [with_amount(v, amount) for v in body]
    return amount if body == "{amount}" else body


@pytest.mark.parametrize(("method", "path", "body", "pointer", "count"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
async def test_an_amount_of_thirteen_digits_is_a_422_and_writes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection, method: str, path: str, body: Any, pointer: str, count: str
) -> None:
    before = await conn.fetchval(count)
    r = await api.request(method, path, json=with_amount(body, BIG))
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("validation-failed", "invalid-movements")
    assert pointer in {e["pointer"] for e in r.json()["errors"]}, r.json()
    assert await conn.fetchval(count) == before
    # the largest amount the bound lets through is stored (no overflow behind the bound)
    assert (await api.request(method, path, json=with_amount(body, MOST))).status_code < 300


async def test_the_largest_quantity_at_the_largest_cost_is_costed_without_overflow(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A day's cost is its units times the cost price in force: 2×10^9 units at just under 10^12 each."""
    fact = {"day": "2026-11-01", "sku": "LO-30", "channel": "web", "qty": 2_000_000_000}
    r = await api.post("/v1/sales", json={"facts": [{**fact, "revenue": {"amount": "1.00", "currency": "CNY"}}]})
    assert r.status_code == 200, r.text
    r = await api.post(
        "/v1/skus/LO-30/prices/corrections",
        json={
            "kind": "cost",
            "currency": "CNY",
            "amount": MOST,
            "valid_from": "2026-11-01T00:00:00Z",
            "valid_to": "2026-11-02T00:00:00Z",
            "reason": "bounds",
        },
    )
    assert r.status_code == 201, r.text
    cost = await conn.fetchval(
        "SELECT f.cost FROM sales_facts f JOIN skus s ON s.id = f.sku_id WHERE s.sku = 'LO-30' AND f.day = '2026-11-01'"
    )
    assert cost == 2_000_000_000 * Decimal(MOST)
