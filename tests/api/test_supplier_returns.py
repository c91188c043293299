"""The purchasing scorecard's quality columns (issue 14): each product's preferred supplier, that supplier's
return rate over the period (over every product it is the preferred supplier of, as the returns report by
supplier counts it) and the share of its returned units that came back defective — figures by hand below."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from tests.api.test_returns import returns_scenario

QUALITY = ("product", "supplier", "supplier_return_rate", "supplier_defective_share")


async def scorecard(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    r = await client.get("/v1/reports/purchasing-scorecard", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def quality(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The quality columns of each row, by product (the ranks are the scorecard's own tests' business)."""
    return sorted(tuple(i[k] for k in QUALITY) for i in body["items"])


async def suppliers(conn: asyncpg.Connection) -> None:
    """aroma: preferred for silk-long and lavender-oil (mill is silk-square's, from the scenario)."""
    await conn.execute("INSERT INTO suppliers (code, type, labels) VALUES ('aroma', 'agent', '{}')")
    await conn.execute(
        "INSERT INTO product_suppliers (product_id, supplier_id, purchase_price, currency, preferred)"
        " SELECT p.id, s.id, 10, 'CNY', true FROM products p, suppliers s"
        " WHERE (p.code IN ('silk-long', 'lavender-oil') AND s.code = 'aroma')"
    )
    # aroma also supplies silk-square, not as its preferred supplier: silk-square's returns are not aroma's
    await conn.execute(
        "INSERT INTO product_suppliers (product_id, supplier_id, purchase_price, currency, preferred)"
        " SELECT p.id, s.id, 12, 'CNY', false FROM products p, suppliers s WHERE p.code = 'silk-square'"
        " AND s.code = 'aroma'"
    )


async def test_the_scorecard_shows_each_products_preferred_supplier_with_its_return_rate_and_defective_share(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await returns_scenario(api, conn)
    await suppliers(conn)
    body = await scorecard(api)
    assert body["columns"][-4:] == ["score", "supplier", "supplier_return_rate", "supplier_defective_share"]
    # mill (silk-square): 3 back of 18 sold = 16.67 %, 1 of the 3 defective; aroma (silk-long 6 sold, 1 back
    # defective; lavender-oil 1 sold, 1 back changed_mind): 2 of 7 = 28.57 %, 1 of 2 defective
    assert quality(body) == [
        ("lavender-oil", "aroma", "28.57", "50.00"),
        ("silk-long", "aroma", "28.57", "50.00"),
        ("silk-square", "mill", "16.67", "33.33"),
    ]
    by_supplier = (await api.get("/v1/reports/returns", params={"by": "supplier"})).json()["items"]
    assert {(r["group"], r["return_rate"]) for r in by_supplier} == {("mill", "16.67"), ("aroma", "28.57")}
    # a subtree: the rows are the scarves', the supplier's rate is over all its products still
    assert quality(await scorecard(api, category="scarves")) == [
        ("silk-long", "aroma", "28.57", "50.00"),
        ("silk-square", "mill", "16.67", "33.33"),
    ]
    # before the returns came back: sold, nothing back (0 %) and no defective share (nothing came back)
    assert quality(await scorecard(api, to="2026-06-30")) == [
        ("lavender-oil", "aroma", "0.00", None),
        ("silk-long", "aroma", "0.00", None),
        ("silk-square", "mill", "0.00", None),
    ]
    # today alone: units back, none sold — no rate (not 0 / 0), the defective share all the same
    today = datetime.now(UTC).date().isoformat()
    assert quality(await scorecard(api, **{"from": today, "to": today})) == [
        ("lavender-oil", "aroma", None, "50.00"),
        ("silk-long", "aroma", None, "50.00"),
        ("silk-square", "mill", None, "33.33"),
    ]
    r = await api.get("/v1/reports/purchasing-scorecard", headers={"Accept": "text/csv"})
    header, *lines = r.text.splitlines()
    assert header.endswith(",score,supplier,supplier_return_rate,supplier_defective_share")
    assert [line.split(",")[-3:] for line in lines if ",silk-square," in line] == [["mill", "16.67", "33.33"]]


async def test_a_product_without_a_preferred_supplier_has_no_supplier_figures(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await returns_scenario(api, conn)  # only silk-square has a (preferred) supplier
    assert quality(await scorecard(api)) == [
        ("lavender-oil", None, None, None),
        ("silk-long", None, None, None),
        ("silk-square", "mill", "16.67", "33.33"),
    ]
    for role, status in (("purchasing", 200), ("finance", 200), ("marketing", 403), ("service", 403)):
        async with as_role(role) as client:
            r = await client.get("/v1/reports/purchasing-scorecard")
        assert r.status_code == status, role
        if status == 200:
            assert quality(r.json())[-1] == ("silk-square", "mill", "16.67", "33.33")
