"""Stage views show the trade items whenever the data exists — supplier and its terms (purchasing, finance),
units sold (purchasing, marketing), the stock valued at moving-average cost (finance) — and say `present:
false` with no value when it does not (the views used to say missing for a scarf that had all of them)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from api import demo


def items(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["item"]: i for i in view["items"]}


async def test_the_trade_items_show_their_values_when_the_data_exists(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await demo.seed(conn)
    purchasing = items((await api.get("/v1/products/silk-square-peony/views/purchasing")).json())
    finance = items((await api.get("/v1/products/silk-square-peony/views/finance")).json())
    marketing = items((await api.get("/v1/products/silk-square-peony/views/marketing")).json())

    supplier = purchasing["supplier"]
    assert supplier["present"] is True and supplier["value"]["supplier"] == "hz-silk-mill"  # ranked first
    terms = purchasing["supplier_terms"]["value"]
    assert [t["supplier"] for t in terms] == ["hz-silk-mill", "shanghai-trading"]
    assert set(terms[0]) >= {"purchase_price", "moq", "lead_time_days", "preferred", "type"}
    assert finance["supplier_terms"]["present"] is True

    sold = purchasing["sales_volume"]["value"]
    assert sold["units"] > 0 and 0 <= sold["units_last_30_days"] <= sold["units"]
    assert marketing["sales_volume"] == purchasing["sales_volume"]
    units = await conn.fetchval(
        "SELECT sum(t.qty) FROM sales_sku_totals t JOIN skus s ON s.id = t.sku_id"
        " JOIN products p ON p.id = s.product_id WHERE p.code = 'silk-square-peony'"
    )
    assert sold["units"] == units

    valuation = finance["stock_valuation"]
    assert valuation["present"] is True
    expected = await conn.fetchval(
        "SELECT round(sum(l.on_hand * c.avg_unit_cost), 2)::text FROM stock_levels l"
        " JOIN sku_costs c ON c.sku_id = l.sku_id JOIN skus s ON s.id = l.sku_id"
        " JOIN products p ON p.id = s.product_id WHERE p.code = 'silk-square-peony'"
    )
    assert valuation["value"] == [{"currency": "CNY", "amount": expected, "units": valuation["value"][0]["units"]}]


async def test_without_the_data_the_items_are_absent_not_invented(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await demo.seed(conn)
    await conn.execute("DELETE FROM sales_facts")
    await conn.execute(
        "DELETE FROM product_suppliers WHERE product_id = (SELECT id FROM products WHERE code = 'lavender-sachet-gift')"
    )
    purchasing = items((await api.get("/v1/products/lavender-sachet-gift/views/purchasing")).json())
    finance = items((await api.get("/v1/products/lavender-sachet-gift/views/finance")).json())
    assert (purchasing["supplier"]["present"], purchasing["supplier"].get("value")) == (False, None)
    assert purchasing["supplier_terms"].get("value") is None
    assert (purchasing["sales_volume"]["present"], purchasing["sales_volume"].get("value")) == (False, None)
    assert (finance["stock_valuation"]["present"], finance["stock_valuation"].get("value")) == (False, None)


async def test_terms_and_valuation_are_redacted_for_roles_outside_finance_and_purchasing(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await demo.seed(conn)
    async with as_role("marketing") as http:
        view = items((await http.get("/v1/products/silk-square-peony/views/marketing")).json())
    assert view["sales_volume"]["present"] is True  # units: marketing's to see
    for item in view.values():
        if item["item"] in ("supplier_terms", "stock_valuation"):
            assert item.get("redacted") is True and item.get("value") is None
