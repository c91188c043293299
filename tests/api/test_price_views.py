"""Prices in the stage views and in completeness: what is in force now counts, margins are hidden from
roles that may not see costs, and a price that starts or ends with no write is caught by the minute check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from domain.jobs.service import refresh_due
from tests import scenario
from tests.prices import history


def money(amount: str, currency: str = "CNY") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


async def post_price(api: httpx.AsyncClient, sku: str, kind: str, amount: str, **fields: Any) -> None:
    r = await api.post(f"/v1/skus/{sku}/prices", json={"kind": kind, "amount": amount, "currency": "CNY", **fields})
    assert r.status_code == 201, r.text


async def completeness(api: httpx.AsyncClient) -> dict[str, Any]:
    r = await api.get("/v1/products/p1/completeness")
    assert r.status_code == 200, r.text
    stages: dict[str, Any] = r.json()["stages"]
    return stages


async def items_of(client: httpx.AsyncClient, stage: str) -> dict[str, Any]:
    r = await client.get(f"/v1/products/p1/views/{stage}")
    assert r.status_code == 200, r.text
    return {i["item"]: i for i in r.json()["items"]}


async def test_posting_sale_prices_for_both_skus_removes_sale_price_from_listings_missing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    await post_price(api, "S1", "sale", "129.00")
    assert (await completeness(api))["listing"] == scenario.stage(
        9, 7, [{"item": "colour"}, {"item": "sale_price", "sku": "S2"}]
    )
    await post_price(api, "S2", "sale", "139.00")
    stages = await completeness(api)
    assert stages["listing"] == scenario.stage(9, 8, [{"item": "colour"}])
    assert stages["finance"] == scenario.stage(
        6,
        2,
        [
            {"item": "cost_price", "sku": "S1"},
            {"item": "cost_price", "sku": "S2"},
            {"item": "distribution_price", "sku": "S1"},
            {"item": "distribution_price", "sku": "S2"},
        ],
    )


async def test_a_price_that_starts_later_or_has_ended_does_not_count(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    now = await conn.fetchval("SELECT now()")
    await post_price(api, "S1", "sale", "129.00", valid_from=(now + timedelta(days=1)).isoformat())
    await history(
        api, "S2", "sale", "139.00", (now - timedelta(days=2)).isoformat(), (now - timedelta(days=1)).isoformat()
    )
    assert (await completeness(api))["listing"] == scenario.P1["listing"]


async def test_the_finance_view_shows_prices_in_force_their_history_and_the_margin(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await scenario.build(conn, api)
    await history(api, "S1", "sale", "119.00", "2025-01-01T00:00:00Z")
    await history(api, "S1", "sale", "129", "2025-06-01T00:00:00+08:00")
    await history(api, "S1", "cost", "79.72", "2025-01-01T00:00:00Z")
    await history(api, "S1", "distribution", "99.00", "2025-01-01T00:00:00Z")
    await history(api, "S2", "cost", "80.00", "2025-01-01T00:00:00Z")
    async with as_role("finance") as client:
        items = await items_of(client, "finance")
    assert items["sale_price"]["value"] == {"S1": money("129.00")}
    assert items["cost_price"]["value"] == {"S1": money("79.72"), "S2": money("80.00")}
    assert items["distribution_price"]["value"] == {"S1": money("99.00")}
    assert items["price_history"] == {
        "item": "price_history",
        "kind": "field",
        "labels": {"zh-CN": "价格历史", "en": "Price history"},
        "required": False,
        "present": True,
        "value": {
            "S1": [
                {
                    "kind": "sale",
                    "amount": "129.00",
                    "currency": "CNY",
                    "valid_from": "2025-05-31T16:00:00Z",
                    "valid_to": None,
                },
                {
                    "kind": "cost",
                    "amount": "79.72",
                    "currency": "CNY",
                    "valid_from": "2025-01-01T00:00:00Z",
                    "valid_to": None,
                },
                {
                    "kind": "distribution",
                    "amount": "99.00",
                    "currency": "CNY",
                    "valid_from": "2025-01-01T00:00:00Z",
                    "valid_to": None,
                },
                {
                    "kind": "sale",
                    "amount": "119.00",
                    "currency": "CNY",
                    "valid_from": "2025-01-01T00:00:00Z",
                    "valid_to": "2025-05-31T16:00:00Z",
                },
            ],
            "S2": [
                {
                    "kind": "cost",
                    "amount": "80.00",
                    "currency": "CNY",
                    "valid_from": "2025-01-01T00:00:00Z",
                    "valid_to": None,
                }
            ],
        },
    }
    # 129.00 − 79.72 = 49.28, which is 38.2015…% of 129.00; S2 has no sale price, so no margin.
    assert items["margin"] == {
        "item": "margin",
        "kind": "field",
        "labels": {"zh-CN": "毛利", "en": "Margin"},
        "required": False,
        "present": True,
        "value": {"S1": {"amount": money("49.28"), "percent": "38.20"}},
    }


async def test_marketing_sees_running_promotions_and_the_margin_percent_but_not_its_amount(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await scenario.build(conn, api)
    now = await conn.fetchval("SELECT now()")
    await history(api, "S1", "sale", "129.00", "2025-01-01T00:00:00Z")
    await history(api, "S1", "cost", "79.72", "2025-01-01T00:00:00Z")
    running = {"starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": "2999-01-01T00:00:00Z"}
    promotions = [
        {"code": "now", "labels": {"en": "Now"}, **running, "items": [{"sku": "S1", "price": money("99.00")}]},
        {
            "code": "off",
            "active": False,
            **running,
            "items": [{"sku": "S1", "price": money("9.00")}],
        },
        {
            "code": "past",
            "starts_at": "2020-01-01T00:00:00Z",
            "ends_at": "2020-02-01T00:00:00Z",
            "items": [{"sku": "S2", "price": money("9.00")}],
        },
    ]
    for promotion in promotions:
        r = await api.post("/v1/promotions", json=promotion)
        assert r.status_code == 201, r.text
    async with as_role("marketing") as client:
        items = await items_of(client, "marketing")
    assert items["margin"]["value"] == {"S1": {"percent": "38.20"}}
    assert items["sale_price"]["value"] == {"S1": money("129.00")}
    assert items["promotions"] == {
        "item": "promotions",
        "kind": "field",
        "labels": {"zh-CN": "活动", "en": "Promotions"},
        "required": False,
        "present": True,
        "value": [
            {
                "code": "now",
                "labels": {"en": "Now"},
                "ends_at": "2999-01-01T00:00:00Z",
                "prices": {"S1": money("99.00")},
            }
        ],
    }
    async with as_role("purchasing") as client:
        items = await items_of(client, "purchasing")
    assert items["margin"]["value"] == {"S1": {"amount": money("49.28"), "percent": "38.20"}}
    assert items["cost_price"]["value"] == {"S1": money("79.72")}


async def test_a_price_that_comes_into_force_without_a_write_is_caught_by_the_clock(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    before = await conn.fetchval(
        "SELECT pc.stages FROM product_completeness pc JOIN products p ON p.id = pc.product_id WHERE p.code = 'p1'"
    )
    # Written straight to the table, as if recorded earlier for a moment that has just passed.
    for sku in ("S1", "S2"):
        await conn.execute(
            "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
            " SELECT id, 'sale', 'CNY', 129, now() - interval '30 seconds', 'test' FROM skus WHERE sku = $1",
            sku,
        )
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor)"
        " SELECT id, 'cost', 'CNY', 80, now() - interval '1 day', now() - interval '30 seconds', 'test'"
        " FROM skus WHERE sku = 'S1'"
    )
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
        " SELECT id, 'cost', 'CNY', 80, now() - interval '1 day', 'test' FROM skus WHERE sku = 'S2'"
    )
    # As the read models would stand had they been computed before those moments passed (the writes above
    # refreshed them at once): prices in force computed a minute ago and stale since the boundary 30 s ago,
    # completeness as it was before.
    await conn.execute(
        "UPDATE prices_in_force f"
        " SET computed_at = now() - interval '1 minute', stale_at = now() - interval '30 seconds'"
        " FROM skus s WHERE s.id = f.sku_id AND s.sku IN ('S1', 'S2')"
    )
    await conn.execute(
        "UPDATE product_completeness pc SET stages = $1 FROM products p WHERE p.id = pc.product_id AND p.code = 'p1'",
        before,
    )
    assert (await completeness(api))["listing"] == scenario.P1["listing"]
    assert await refresh_due(conn) == 1
    stages = await completeness(api)
    assert stages["listing"] == scenario.stage(9, 8, [{"item": "colour"}])
    # S1's cost price ended 30 s ago and S2's started a day ago (refreshed with the product).
    assert stages["purchasing"] == scenario.stage(6, 4, [{"item": "cost_price", "sku": "S1"}, {"item": "supplier"}])


async def test_the_clock_leaves_products_alone_when_no_price_boundary_just_passed(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
        " SELECT id, 'sale', 'CNY', 129, now() - interval '5 minutes', 'test' FROM skus WHERE sku = 'S1'"
    )
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
        " SELECT id, 'sale', 'CNY', 129, now() + interval '30 seconds', 'test' FROM skus WHERE sku = 'S2'"
    )
    written = await completeness(api)
    assert written["listing"] != scenario.P1["listing"], "S1's sale price counts at once"
    assert await refresh_due(conn) == 0
    assert await completeness(api) == written


async def test_completeness_computed_while_a_prices_in_force_row_is_stale_reads_the_price_history(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
        " SELECT id, 'sale', 'CNY', 129, now() - interval '30 seconds', 'test' FROM skus WHERE sku = 'S1'"
    )
    # The read model as it stood before that moment: no sale price, stale since the boundary passed.
    await conn.execute(
        "UPDATE prices_in_force f SET sale = NULL, computed_at = now() - interval '1 minute',"
        " stale_at = now() - interval '30 seconds' FROM skus s WHERE s.id = f.sku_id AND s.sku = 'S1'"
    )
    computed = await conn.fetchval(
        "SELECT c.stages -> 'listing' -> 'missing' FROM merch_completeness(ARRAY(SELECT id FROM products)) c"
    )
    assert "sale_price S1" not in computed and "sale_price S2" in computed
