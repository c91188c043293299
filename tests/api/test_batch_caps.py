"""Every route that takes a batch caps it: one more item than the cap is a 422 naming the list, and nothing is
written. (The caps: stock movements 1,000; pick list lines 500; sales facts 10,000, JSON or JSONL; promotion
items 10,000, by POST, PUT or PATCH; attribute options 5,000; an attribute set's bindings 2,000; a stage's
items 200 read and 200 required.)"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories as f
from tests import stockbed
from tests.stockbed import move

PROMOTION = {"labels": {"en": "Sale"}, "starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-03-08T00:00:00Z"}
ITEM = {"sku": "S-RED", "price": {"amount": "9.90", "currency": "CNY"}}
JSONL = "application/x-ndjson"
FACT = {"day": "2025-03-01", "sku": "S-RED", "channel": "web", "qty": 1, "revenue": {"amount": "1", "currency": "CNY"}}


async def catalog(conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    await f.attribute(conn, "colour-set", "select")
    await conn.execute(
        "INSERT INTO promotions (code, labels, starts_at, ends_at)"
        " VALUES ('spring', '{}', now(), now() + interval '1 day')"
    )


def counts(conn: asyncpg.Connection) -> Any:
    return conn.fetchrow(
        "SELECT (SELECT count(*) FROM stock_movements) AS movements, (SELECT count(*) FROM sales_facts) AS facts,"
        " (SELECT count(*) FROM promotions) AS promotions, (SELECT count(*) FROM promotion_items) AS items,"
        " (SELECT count(*) FROM attribute_options) AS options, (SELECT count(*) FROM category_attributes) AS bound"
    )


CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("POST", "/v1/stock/movements", {"json": {"movements": [move("receive", 1)] * 1001}}, "/movements", "1000"),
    ("POST", "/v1/warehouses/hz/pick-lists", {"json": {"lines": [{"sku": "S-RED", "qty": 1}] * 501}}, "/lines", "500"),
    ("POST", "/v1/sales", {"json": {"facts": [FACT] * 10_001}}, "/facts", "10,000"),
    (
        "POST",
        "/v1/sales",
        {
            "content": b"\n".join([b'{"day": "2025-03-01"}'] * 10_001),
            "headers": {"Content-Type": "application/x-ndjson"},
        },
        "/lines",
        "10,000",
    ),
    ("POST", "/v1/promotions", {"json": {"code": "big", **PROMOTION, "items": [ITEM] * 10_001}}, "/items", "10000"),
    ("PUT", "/v1/promotions/spring", {"json": {**PROMOTION, "items": [ITEM] * 10_001}}, "/items", "10000"),
    ("PATCH", "/v1/promotions/spring", {"json": {"items": [ITEM] * 10_001}}, "/items", "10000"),
    (
        "PUT",
        "/v1/attributes/colour-set/options",
        {"json": {"options": [{"code": "o", "labels": {"en": "O"}}] * 5001}},
        "/options",
        "5000",
    ),
    (
        "PUT",
        "/v1/categories/scarves/attributes",
        {"json": {"attributes": [{"attribute": "colour-set"}] * 2001}},
        "/attributes",
        "2000",
    ),
    ("PUT", "/v1/stages/listing/needs", {"json": {"reads": ["labels"] * 201}}, "/reads", "200"),
    (
        "PUT",
        "/v1/stages/listing/needs",
        {"json": {"reads": ["labels"], "requires": ["labels"] * 201}},
        "/requires",
        "200",
    ),
]


@pytest.mark.parametrize(("method", "path", "send", "pointer", "cap"), CASES)
async def test_one_more_item_than_the_cap_is_a_422_and_nothing_is_written(
    api: httpx.AsyncClient,
    conn: asyncpg.Connection,
    method: str,
    path: str,
    send: dict[str, Any],
    pointer: str,
    cap: str,
) -> None:
    await catalog(conn)
    before = await counts(conn)
    r = await api.request(method, path, **send)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [(pointer, "too_long")]
    assert cap in errors[0]["message"]
    assert await counts(conn) == before
