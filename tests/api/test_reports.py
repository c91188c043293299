"""The reports over HTTP, on a small shop whose every figure is computed by hand in the comments:
margins, inventory valuation, assortment, ABC (both sides of a class boundary), the purchasing
scorecard, payables and receivables; CSV output; and which role sees which money field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from domain.jobs.service import refresh_due
from domain.keys.model import Principal
from domain.reports import sales
from domain.reports.model import ReportScope
from domain.sql import load
from tests import factories as f

SALES = load("sales")

# The shop. Prices from 2025-01-01, open-ended, CNY:
#   A-1 (silk-square: scarves, destination, series silk, famous+new)  sale 100  distribution 80  cost 60 → 70
#       from 2026-01-15
#   B-1 (silk-long: scarves, routine, no series)                      sale 50   distribution 40  cost 30
#   C-1 (lavender-oil: home, image, quality)                          sale 200  distribution 150 cost 90
#   D-1 (lavender-oil)                                                no prices
# Sales facts:
#   A-1 web 2026-01-10 5 × 500.00 (cost 5 × 60 = 300)   A-1 web 2026-01-20 3 × 300.00 (cost 3 × 70 = 210)
#   A-1 distribution 2026-01-10 10 × 800.00 (cost 600)   B-1 web 2026-01-10 4 × 200.00 (cost 120)
#   B-1 distribution 2026-02-03 2 × 80.00 (cost 60)      C-1 web 2026-01-10 1 × 200.00 (cost 90)
# Revenue: A-1 1600, B-1 280, C-1 200 = 2080; cost: A-1 1110, B-1 180, C-1 90; margin 490 + 100 + 110 = 700.


async def price(conn: asyncpg.Connection, sku: str, kind: str, amount: str, start: str, end: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor)"
        " SELECT id, $2, 'CNY', $3::text::numeric, $4::text::timestamptz, $5::text::timestamptz, 'test'"
        " FROM skus WHERE sku = $1",
        sku,
        kind,
        amount,
        start,
        end,
    )


async def sale(conn: asyncpg.Connection, day: str, sku: str, channel: str, qty: int, revenue: str) -> None:
    """One fact through the upload's own statements, so it is costed and rolled up as an upload would."""
    sku_id = await conn.fetchval("SELECT id FROM skus WHERE sku = $1", sku)
    days = [date.fromisoformat(day)]
    await conn.fetchrow(SALES.upsert_sales_facts.sql, days, [sku_id], [channel], [qty], [Decimal(revenue)], ["CNY"])


async def shop(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "apparel")
    await f.category(conn, "scarves", parent="apparel")
    await f.category(conn, "home")
    await f.series(conn, "silk")
    await f.product(conn, "silk-square", "scarves", role="destination", quality_tags=["famous", "new"])
    await f.product(conn, "silk-long", "scarves", role="routine")
    await f.product(conn, "lavender-oil", "home", role="image", quality_tags=["quality"])
    await conn.execute(
        "INSERT INTO product_series (product_id, series_id)"
        " SELECT p.id, s.id FROM products p, series s WHERE p.code = 'silk-square' AND s.code = 'silk'"
    )
    await f.sku(conn, "A-1", "silk-square")
    await f.sku(conn, "B-1", "silk-long")
    await f.sku(conn, "C-1", "lavender-oil", axes={"size": "10ml"})
    await f.sku(conn, "D-1", "lavender-oil", axes={"size": "30ml"})
    start = "2025-01-01T00:00:00Z"
    for sku, sale_price, dist, cost in (
        ("A-1", "100", "80", None),
        ("B-1", "50", "40", "30"),
        ("C-1", "200", "150", "90"),
    ):
        await price(conn, sku, "sale", sale_price, start)
        await price(conn, sku, "distribution", dist, start)
        if cost:
            await price(conn, sku, "cost", cost, start)
    await price(conn, "A-1", "cost", "60", start, "2026-01-15T00:00:00Z")
    await price(conn, "A-1", "cost", "70", "2026-01-15T00:00:00Z")
    for args in (
        ("2026-01-10", "A-1", "web", 5, "500.00"),
        ("2026-01-20", "A-1", "web", 3, "300.00"),
        ("2026-01-10", "A-1", "distribution", 10, "800.00"),
        ("2026-01-10", "B-1", "web", 4, "200.00"),
        ("2026-02-03", "B-1", "distribution", 2, "80.00"),
        ("2026-01-10", "C-1", "web", 1, "200.00"),
    ):
        await sale(conn, *args)
    # listing completeness: silk-square 3 of 4 (+ 2 tags: appeal capped at 1), silk-long 2 of 4, lavender none
    await conn.execute("DELETE FROM product_completeness")
    await conn.execute(
        "INSERT INTO product_completeness (product_id, stages, computed_at)"
        " SELECT id, jsonb_build_object('listing', jsonb_build_object('required', 4, 'present', $2::integer)), now()"
        " FROM products WHERE code = $1",
        "silk-square",
        3,
    )
    await conn.execute(
        "INSERT INTO product_completeness (product_id, stages, computed_at)"
        " SELECT id, jsonb_build_object('listing', jsonb_build_object('required', 4, 'present', $2::integer)), now()"
        " FROM products WHERE code = $1",
        "silk-long",
        2,
    )


async def warehouse(conn: asyncpg.Connection, code: str) -> tuple[int, int]:
    wid = await conn.fetchval("INSERT INTO warehouses (code, labels) VALUES ($1, $2) RETURNING id", code, {"en": code})
    lid = await conn.fetchval(
        "INSERT INTO locations (warehouse_id, code, zone) VALUES ($1, 'A-01', 'A') RETURNING id", wid
    )
    return int(wid), int(lid)


async def stock(conn: asyncpg.Connection, sku: str, where: tuple[int, int], on_hand: int) -> None:
    await conn.execute(
        "INSERT INTO stock_levels (sku_id, location_id, warehouse_id, on_hand) SELECT id, $2, $3, $4 FROM skus"
        " WHERE sku = $1",
        sku,
        where[1],
        where[0],
        on_hand,
    )


async def receipt(
    conn: asyncpg.Connection,
    sku: str,
    where: tuple[int, int],
    qty: int,
    unit_cost: str | None,
    supplier: str | None,
    at: str,
    type_: str = "receive",
) -> None:
    request = await conn.fetchval(
        "INSERT INTO stock_requests (actor, request_hash) VALUES ('test', '\\x00') RETURNING id"
    )
    await conn.execute(
        "INSERT INTO stock_movements (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta,"
        " reserved_delta, unit_cost, currency, supplier, actor, created_at)"
        " SELECT $1, 0, $8, id, $2, $3, $4, $4, 0, $5::text::numeric,"
        " CASE WHEN $5::text IS NULL THEN NULL ELSE 'CNY' END, $6,"
        " 'test', $7::text::timestamptz FROM skus WHERE sku = $9",
        request,
        where[0],
        where[1],
        qty,
        unit_cost,
        supplier,
        at,
        type_,
        sku,
    )


async def report(client: httpx.AsyncClient, name: str, **params: str) -> Any:
    r = await client.get(f"/v1/reports/{name}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def margin(group: str | None, skus: int, sale: tuple[str, ...], dist: tuple[str, ...]) -> dict[str, Any]:
    return {
        "group": group,
        "currency": "CNY",
        "skus": skus,
        "sale": sale[0],
        "sale_cost": sale[1],
        "sale_margin": sale[2],
        "sale_margin_pct": sale[3],
        "distribution": dist[0],
        "distribution_cost": dist[1],
        "distribution_margin": dist[2],
        "distribution_margin_pct": dist[3],
    }


MARGIN_COLUMNS = [
    "group",
    "currency",
    "skus",
    "sale",
    "sale_cost",
    "sale_margin",
    "sale_margin_pct",
    "distribution",
    "distribution_cost",
    "distribution_margin",
    "distribution_margin_pct",
]


async def test_margins_per_sku_use_the_prices_in_force_at_the_moment_asked(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    body = await report(api, "margins", at="2026-01-10T00:00:00Z")
    assert body == {
        "report": "margins",
        "parameters": {"category": None, "role": None, "series": None, "by": "sku", "at": "2026-01-10T00:00:00+00:00"},
        "columns": MARGIN_COLUMNS,
        "items": [
            # (100 − 60) / 100 = 40.00 %, (80 − 60) / 80 = 25.00 %
            margin("A-1", 1, ("100.00", "60.00", "40.00", "40.00"), ("80.00", "60.00", "20.00", "25.00")),
            margin("B-1", 1, ("50.00", "30.00", "20.00", "40.00"), ("40.00", "30.00", "10.00", "25.00")),
            # (200 − 90) / 200 = 55.00 %, (150 − 90) / 150 = 40.00 %
            margin("C-1", 1, ("200.00", "90.00", "110.00", "55.00"), ("150.00", "90.00", "60.00", "40.00")),
        ],
    }


async def test_margins_group_by_category_role_and_series_and_follow_the_category_filter(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    at = "2026-02-01T00:00:00Z"  # A-1 costs 70 now
    by_category = await report(api, "margins", by="category", at=at)
    assert by_category["items"] == [
        # A-1 + B-1: sale 150 − cost 100 = 50 → 33.33 %; distribution 120 − 100 = 20 → 16.67 %
        margin("home", 1, ("200.00", "90.00", "110.00", "55.00"), ("150.00", "90.00", "60.00", "40.00")),
        margin("scarves", 2, ("150.00", "100.00", "50.00", "33.33"), ("120.00", "100.00", "20.00", "16.67")),
    ]
    by_role = await report(api, "margins", by="role", at=at)
    assert by_role["items"] == [
        # 80 − 70 = 10 → 12.50 %
        margin("destination", 1, ("100.00", "70.00", "30.00", "30.00"), ("80.00", "70.00", "10.00", "12.50")),
        margin("image", 1, ("200.00", "90.00", "110.00", "55.00"), ("150.00", "90.00", "60.00", "40.00")),
        margin("routine", 1, ("50.00", "30.00", "20.00", "40.00"), ("40.00", "30.00", "10.00", "25.00")),
    ]
    by_series = await report(api, "margins", by="series", at=at)
    assert by_series["items"] == [
        margin("silk", 1, ("100.00", "70.00", "30.00", "30.00"), ("80.00", "70.00", "10.00", "12.50")),
        # B-1 + C-1: 250 − 120 = 130 → 52.00 %; 190 − 120 = 70 → 36.84 %
        margin(None, 2, ("250.00", "120.00", "130.00", "52.00"), ("190.00", "120.00", "70.00", "36.84")),
    ]
    apparel = await report(api, "margins", by="product", at=at, category="apparel")
    assert [i["group"] for i in apparel["items"]] == ["silk-long", "silk-square"]
    assert apparel["parameters"]["category"] == "apparel"


async def test_margins_now_come_from_the_maintained_read_model_and_equal_the_history(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    # a price written through the API: the trigger keeps prices_in_force current in the same transaction
    r = await api.post("/v1/skus/B-1/prices", json={"kind": "sale", "currency": "CNY", "amount": "55.00"})
    assert r.status_code == 201, r.text
    moment = await conn.fetchval(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    )
    for by, category in (("sku", None), ("category", None), ("sku", "apparel"), ("product", "apparel")):
        scope = {"category": category} if category else {}
        now = await report(api, "margins", by=by, **scope)
        history = await report(api, "margins", by=by, at=moment, **scope)
        assert now["items"] == history["items"], (by, category)
        assert now["items"], (by, category)
    now = await report(api, "margins")
    assert now["items"] == [
        # A-1 costs 70 since 2026-01-15; B-1 sells at 55 since the write above
        margin("A-1", 1, ("100.00", "70.00", "30.00", "30.00"), ("80.00", "70.00", "10.00", "12.50")),
        margin("B-1", 1, ("55.00", "30.00", "25.00", "45.45"), ("40.00", "30.00", "10.00", "25.00")),
        margin("C-1", 1, ("200.00", "90.00", "110.00", "55.00"), ("150.00", "90.00", "60.00", "40.00")),
    ]
    stored = await conn.fetch("SELECT sku_id, currency, sale, distribution, cost FROM prices_in_force ORDER BY 1, 2")
    live = await conn.fetch(
        "SELECT sku_id, currency, sale, distribution, cost FROM merch_prices_in_force_at(clock_timestamp())"
        " ORDER BY 1, 2"
    )
    assert [tuple(x) for x in stored] == [tuple(x) for x in live]


async def test_a_row_gone_stale_with_time_is_recomputed_by_readers_and_by_the_runner(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    assert await refresh_due(conn) == 3  # (the units sold of the shop's sales, queued for the storefront)
    # a sale price of A-1 scheduled for 2099: the row knows when it goes stale
    r = await api.post(
        "/v1/skus/A-1/prices",
        json={"kind": "sale", "currency": "CNY", "amount": "120.00", "valid_from": "2099-01-01T00:00:00Z"},
    )
    assert r.status_code == 201, r.text
    row = await conn.fetchrow(
        "SELECT f.sale, f.stale_at FROM prices_in_force f JOIN skus s ON s.id = f.sku_id WHERE s.sku = 'A-1'"
    )
    assert row["sale"] == Decimal("100") and row["stale_at"].year == 2099
    # time passing a boundary with no write, simulated: the row says it went stale a moment after it was
    # computed, and holds a figure that is no longer true
    await conn.execute(
        "UPDATE prices_in_force f SET sale = 1, stale_at = computed_at + interval '1 microsecond'"
        " FROM skus s WHERE s.id = f.sku_id AND s.sku = 'A-1'"
    )
    now = await report(api, "margins")
    assert now["items"][0] == margin(
        "A-1", 1, ("100.00", "70.00", "30.00", "30.00"), ("80.00", "70.00", "10.00", "12.50")
    )
    assert await refresh_due(conn) == 1  # A-1's product
    row = await conn.fetchrow(
        "SELECT f.sale, f.stale_at FROM prices_in_force f JOIN skus s ON s.id = f.sku_id WHERE s.sku = 'A-1'"
    )
    assert row["sale"] == Decimal("100") and row["stale_at"].year == 2099
    assert await refresh_due(conn) == 0


async def test_a_product_moved_or_given_another_role_moves_its_margins(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    r = await api.patch("/v1/products/silk-long", json={"category": "home", "role": "image"})
    assert r.status_code == 200, r.text
    by_category = await report(api, "margins", by="category")
    assert by_category["items"] == [
        # B-1 joins C-1 under home: sale 250 − cost 120 = 130 → 52.00 %; 190 − 120 = 70 → 36.84 %
        margin("home", 2, ("250.00", "120.00", "130.00", "52.00"), ("190.00", "120.00", "70.00", "36.84")),
        margin("scarves", 1, ("100.00", "70.00", "30.00", "30.00"), ("80.00", "70.00", "10.00", "12.50")),
    ]
    by_role = await report(api, "margins", by="role")
    assert [(i["group"], i["skus"]) for i in by_role["items"]] == [("destination", 1), ("image", 2)]


async def test_the_sales_totals_stay_the_sum_of_the_rollup_through_uploads_resends_recosts_and_deletes(
    conn: asyncpg.Connection,
) -> None:
    await shop(conn)
    compare = (
        "SELECT t.sku_id, t.currency, t.product_id, facts, qty, revenue, cost, costed_qty, costed_facts,"
        " costed_revenue, distribution_value, distributed_qty, distributed_facts, returned_qty FROM sales_sku_totals t"
        " ORDER BY 1, 2",
        "SELECT m.sku_id, m.currency, s.product_id, sum(facts), sum(qty), sum(revenue), sum(cost), sum(costed_qty),"
        " sum(costed_facts), sum(costed_revenue), sum(distribution_value), sum(distributed_qty),"
        " sum(distributed_facts), sum(returned_qty) FROM sales_monthly m JOIN skus s ON s.id = m.sku_id"
        " GROUP BY 1, 2, 3 HAVING sum(facts) <> 0 ORDER BY 1, 2",
    )

    async def same() -> int:
        totals, rollup = [await conn.fetch(q) for q in compare]
        assert [tuple(x) for x in totals] == [tuple(x) for x in rollup]
        return len(totals)

    assert await same() == 3  # A-1, B-1, C-1 in CNY
    await sale(conn, "2026-01-10", "A-1", "web", 7, "700.00")  # a re-sent day replaces
    await sale(conn, "2026-03-01", "B-1", "web", 6, "300.00")  # a new month
    assert await same() == 3
    await conn.execute("UPDATE prices SET amount = amount + 1 WHERE kind = 'cost'")  # a retroactive change
    await conn.execute("SELECT merch_recost_sales('2026-01-01', '2026-03-01')")
    assert await same() == 3
    assert await conn.fetchval("SELECT count(*) FROM sales_monthly") > 0
    await conn.execute("DELETE FROM sales_facts")  # any writer of facts moves the rollup and the totals
    assert await conn.fetchval("SELECT count(*) FROM sales_monthly") == 0
    assert await same() == 0


async def test_inventory_valuation_uses_the_moving_average_else_the_cost_price_and_says_which(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    hz, sh = await warehouse(conn, "hz"), await warehouse(conn, "sh")
    await stock(conn, "A-1", hz, 10)
    await conn.execute(
        "INSERT INTO sku_costs (sku_id, currency, avg_unit_cost) SELECT id, 'CNY', 65.5 FROM skus WHERE sku = 'A-1'"
    )
    await stock(conn, "B-1", hz, 4)
    await stock(conn, "D-1", hz, 7)
    await stock(conn, "C-1", sh, 3)
    body = await report(api, "inventory-valuation")
    assert body == {
        "report": "inventory-valuation",
        "parameters": {"category": None, "role": None, "series": None},
        "columns": ["warehouse", "category", "cost_source", "currency", "skus", "on_hand", "value"],
        "items": [
            {
                "warehouse": "hz",
                "category": "home",
                "cost_source": "none",
                "currency": None,
                "skus": 1,
                "on_hand": 7,
                "value": None,
            },
            # 4 × 30 = 120
            {
                "warehouse": "hz",
                "category": "scarves",
                "cost_source": "cost-price",
                "currency": "CNY",
                "skus": 1,
                "on_hand": 4,
                "value": "120.00",
            },
            # 10 × 65.5 = 655
            {
                "warehouse": "hz",
                "category": "scarves",
                "cost_source": "moving-average",
                "currency": "CNY",
                "skus": 1,
                "on_hand": 10,
                "value": "655.00",
            },
            # 3 × 90 = 270
            {
                "warehouse": "sh",
                "category": "home",
                "cost_source": "cost-price",
                "currency": "CNY",
                "skus": 1,
                "on_hand": 3,
                "value": "270.00",
            },
        ],
    }
    scarves = await report(api, "inventory-valuation", category="scarves")
    assert [(i["cost_source"], i["value"]) for i in scarves["items"]] == [
        ("cost-price", "120.00"),
        ("moving-average", "655.00"),
    ]


def mix_row(
    dimension: str,
    group: str | None,
    products: int,
    figures: tuple[Any, ...] | None,
    target: tuple[str, str] | None = None,
    cost: bool = True,
) -> dict[str, Any]:
    qty, revenue, share, cost_amount, margin_amount, pct, margin_share = figures or (0, "0.00", None, *[None] * 4)
    row: dict[str, Any] = {
        "dimension": dimension,
        "group": group,
        "products": products,
        "currency": "CNY" if figures else None,
        "qty": qty,
        "revenue": revenue,
        "revenue_share": share if figures or not target else "0.00",
    }
    if cost:
        row |= {"cost": cost_amount, "margin": margin_amount}
    return row | {
        "margin_pct": pct,
        "margin_share": margin_share,
        "target_share": target[0] if target else None,
        "target_diff": target[1] if target else None,
    }


# Per product: silk-square qty 18, revenue 1600, cost 1110, margin 490; silk-long 6, 280, 180, 100;
# lavender-oil 1, 200, 90, 110. Totals 2080 and 700.
DESTINATION = (18, "1600.00", "76.92", "1110.00", "490.00", "30.63", "70.00")  # 490/1600 = 30.625 → 30.63
IMAGE = (1, "200.00", "9.62", "90.00", "110.00", "55.00", "15.71")
ROUTINE = (6, "280.00", "13.46", "180.00", "100.00", "35.71", "14.29")
NO_SERIES = (7, "480.00", "23.08", "270.00", "210.00", "43.75", "30.00")
# silk-square and silk-long: 24, 1880 (1880/2080 = 90.38 %), cost 1290, margin 590 (31.38 %, 590/700 = 84.29 %)
SCARVES = (24, "1880.00", "90.38", "1290.00", "590.00", "31.38", "84.29")


async def test_assortment_gives_shares_per_role_and_series_and_each_role_against_the_target_mix(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    body = await report(api, "assortment", target="destination:30,routine:50,image:10,promotion:10")
    assert body == {
        "report": "assortment",
        "parameters": {
            "category": None,
            "role": None,
            "series": None,
            "from": None,
            "to": None,
            "target": "destination:30,routine:50,image:10,promotion:10",
            "category_target": None,
        },
        "columns": [
            "dimension",
            "group",
            "products",
            "currency",
            "qty",
            "revenue",
            "revenue_share",
            "cost",
            "margin",
            "margin_pct",
            "margin_share",
            "target_share",
            "target_diff",
        ],
        "items": [
            mix_row("role", "destination", 1, DESTINATION, ("30.00", "46.92")),
            mix_row("role", "image", 1, IMAGE, ("10.00", "-0.38")),
            mix_row("role", "promotion", 0, None, ("10.00", "-10.00")),
            mix_row("role", "routine", 1, ROUTINE, ("50.00", "-36.54")),
            mix_row("series", "silk", 1, DESTINATION),
            mix_row("series", None, 2, NO_SERIES),
            mix_row("category", "home", 1, IMAGE),
            mix_row("category", "scarves", 2, SCARVES),
        ],
    }


async def test_assortment_of_a_subtree_takes_its_own_totals_and_a_period(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    # January only, scarves only: silk-square 1600 (margin 490), silk-long 200 (cost 120, margin 80); 1800, 570
    body = await report(api, "assortment", category="apparel", **{"from": "2026-01-01", "to": "2026-01-31"})
    assert body["items"] == [
        mix_row("role", "destination", 1, (18, "1600.00", "88.89", "1110.00", "490.00", "30.63", "85.96")),
        mix_row("role", "image", 0, None),
        mix_row("role", "promotion", 0, None),
        mix_row("role", "routine", 1, (4, "200.00", "11.11", "120.00", "80.00", "40.00", "14.04")),
        mix_row("series", "silk", 1, (18, "1600.00", "88.89", "1110.00", "490.00", "30.63", "85.96")),
        mix_row("series", None, 1, (4, "200.00", "11.11", "120.00", "80.00", "40.00", "14.04")),
        # both home in scarves: 1800 (cost 1230, margin 570: 31.67 %)
        mix_row("category", "scarves", 2, (22, "1800.00", "100.00", "1230.00", "570.00", "31.67", "100.00")),
    ]


async def test_assortment_answers_each_category_against_a_target_mix_with_the_gap(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await shop(conn)
    body = await report(api, "assortment", category_target="scarves:80,home:20")
    assert body["parameters"]["category_target"] == "scarves:80,home:20"
    assert [i for i in body["items"] if i["dimension"] == "category"] == [
        mix_row("category", "home", 1, IMAGE, ("20.00", "-10.38")),  # 9.62 − 20
        mix_row("category", "scarves", 2, SCARVES, ("80.00", "10.38")),  # 90.38 − 80
    ]
    # roles keep their own target, or none
    assert {i["target_share"] for i in body["items"] if i["dimension"] == "role"} == {None}
    # marketing sees the shares and the gap, never cost or margin amounts
    async with as_role("marketing") as client:
        seen = (await client.get("/v1/reports/assortment", params={"category_target": "scarves:80,home:20"})).json()
    assert [i for i in seen["items"] if i["dimension"] == "category"] == [
        mix_row("category", "home", 1, IMAGE, ("20.00", "-10.38"), cost=False),
        mix_row("category", "scarves", 2, SCARVES, ("80.00", "10.38"), cost=False),
    ]
    for target, code in (("scarves:80,oils:20", "unknown_code"), ("scarves:80,home:10", "invalid_total")):
        r = await api.get("/v1/reports/assortment", params={"category_target": target})
        assert r.status_code == 400
        assert [(e["parameter"], e["code"]) for e in r.json()["errors"]] == [("category_target", code)]


def abc_row(rank: int, sku: str, product: str, qty: int, figures: tuple[str, ...], cls: str) -> dict[str, Any]:
    revenue, share, cumulative, cost, margin_amount, pct = figures
    return {
        "rank": rank,
        "sku": sku,
        "product": product,
        "currency": "CNY",
        "qty": qty,
        "revenue": revenue,
        "share": share,
        "cumulative_share": cumulative,
        "class": cls,
        "cost": cost,
        "margin": margin_amount,
        "margin_pct": pct,
    }


ABC_COLUMNS = [
    "rank",
    "sku",
    "product",
    "currency",
    "qty",
    "revenue",
    "share",
    "cumulative_share",
    "class",
    "cost",
    "margin",
    "margin_pct",
]


async def test_abc_ranks_skus_by_revenue_and_classes_them_by_the_cumulative_share_before_each(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    body = await report(api, "abc")
    assert body == {
        "report": "abc",
        "parameters": {
            "category": None,
            "role": None,
            "series": None,
            "from": None,
            "to": None,
            "classes": "70,20,5,5",
        },
        "columns": ABC_COLUMNS,
        "items": [
            # 1600 / 2080 = 76.92 %, before it 0 → A
            abc_row(1, "A-1", "silk-square", 18, ("1600.00", "76.92", "76.92", "1110.00", "490.00", "30.63"), "A"),
            # 280 / 2080 = 13.46 %, before it 76.92 → B (70 ≤ 76.92 < 90)
            abc_row(2, "B-1", "silk-long", 6, ("280.00", "13.46", "90.38", "180.00", "100.00", "35.71"), "B"),
            # before it 90.38 → C (90 ≤ 90.38 < 95)
            abc_row(3, "C-1", "lavender-oil", 1, ("200.00", "9.62", "100.00", "90.00", "110.00", "55.00"), "C"),
        ],
    }
    scarves = await report(api, "abc", category="scarves")
    # 1600 / 1880 = 85.11 %; silk-long starts at 85.11 → B
    assert [(i["sku"], i["share"], i["cumulative_share"], i["class"]) for i in scarves["items"]] == [
        ("A-1", "85.11", "85.11", "A"),
        ("B-1", "14.89", "100.00", "B"),
    ]


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        ("70,20,5,5", ["A", "B", "C"]),  # B-1 starts exactly at 70 → B; C-1 exactly at 90 → C
        ("71,19,5,5", ["A", "A", "C"]),  # 70 < 71: B-1 still an A; C-1 starts exactly at 90 → C
        ("69,22,5,4", ["A", "B", "B"]),  # 70 ≥ 69 → B; 90 < 91 → B
        ("50,50", ["A", "B", "B"]),
    ],
)
async def test_abc_puts_a_sku_that_starts_exactly_on_a_boundary_in_the_next_class(
    api: httpx.AsyncClient, conn: asyncpg.Connection, classes: str, expected: list[str]
) -> None:
    await shop(conn)
    # March: A-1 70, B-1 20, C-1 10 of 100
    for sku, revenue in (("A-1", "70.00"), ("B-1", "20.00"), ("C-1", "10.00")):
        await sale(conn, "2026-03-01", sku, "web", 1, revenue)
    body = await report(api, "abc", classes=classes, **{"from": "2026-03-01", "to": "2026-03-31"})
    assert [(i["cumulative_share"], i["class"]) for i in body["items"]] == list(
        zip(["70.00", "90.00", "100.00"], expected, strict=True)
    )


async def test_abc_classes_must_add_up_to_100(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    r = await api.get("/v1/reports/abc", params={"classes": "70,20,5"})
    assert r.status_code == 400
    assert r.json() == {
        "type": "/problems/invalid-parameter",
        "title": "Invalid query parameter",
        "status": 400,
        "detail": "The classes add up to 95, not 100.",
        "code": "invalid-parameter",
        "instance": "/v1/reports/abc",
        "errors": [{"parameter": "classes", "code": "invalid_total", "message": "The classes add up to 95, not 100."}],
    }


# The scorecard's weights before its quality component (the return rate: tests/api/test_returns.py)
NO_QUALITY = "volume:0.3,margin:0.3,appeal:0.2,value:0.2"


async def test_the_purchasing_scorecard_normalises_each_component_and_ranks_by_the_weighted_score(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    body = await report(api, "purchasing-scorecard", weights=NO_QUALITY)
    # volume 18, 6, 1 → 1, 5/17, 0; margin 30.63, 35.71, 55.00 → 0, 5.08/24.37, 1;
    # appeal min(1, 3/4 + 0.5) = 1, 2/4 = 0.5, 0 + 0.25 → 1, 1/3, 0; value 1600, 280, 200 → 1, 80/1400, 0
    # silk-square 0.3 + 0.2 + 0.2 = 0.7; lavender-oil 0.3 × 1 = 0.3;
    # silk-long 0.3 × 0.294118 + 0.3 × 0.208453 + 0.2 × 0.333333 + 0.2 × 0.057143 = 0.228867
    assert body == {
        "report": "purchasing-scorecard",
        "parameters": {
            "category": None,
            "role": None,
            "series": None,
            "from": None,
            "to": None,
            "weights": "volume:0.3,margin:0.3,appeal:0.2,value:0.2,quality:0",
            "currency": "CNY",
        },
        "columns": [
            "rank",
            "product",
            "volume",
            "margin_pct",
            "appeal",
            "value",
            "currency",
            "return_rate",
            "volume_score",
            "margin_score",
            "appeal_score",
            "value_score",
            "quality_score",
            "score",
            "supplier",
            "supplier_return_rate",
            "supplier_defective_share",
        ],
        "items": [
            {
                "rank": 1,
                "product": "silk-square",
                "volume": 18,
                "margin_pct": "30.63",
                "appeal": "1.0000",
                "value": "1600.00",
                "currency": "CNY",
                "return_rate": "0.00",
                "volume_score": "1.0000",
                "margin_score": "0.0000",
                "appeal_score": "1.0000",
                "value_score": "1.0000",
                "quality_score": "1.0000",
                "score": "0.7000",
                "supplier": None,
                "supplier_return_rate": None,
                "supplier_defective_share": None,
            },
            {
                "rank": 2,
                "product": "lavender-oil",
                "volume": 1,
                "margin_pct": "55.00",
                "appeal": "0.2500",
                "value": "200.00",
                "currency": "CNY",
                "return_rate": "0.00",
                "volume_score": "0.0000",
                "margin_score": "1.0000",
                "appeal_score": "0.0000",
                "value_score": "0.0000",
                "quality_score": "1.0000",
                "score": "0.3000",
                "supplier": None,
                "supplier_return_rate": None,
                "supplier_defective_share": None,
            },
            {
                "rank": 3,
                "product": "silk-long",
                "volume": 6,
                "margin_pct": "35.71",
                "appeal": "0.5000",
                "value": "280.00",
                "currency": "CNY",
                "return_rate": "0.00",
                "volume_score": "0.2941",
                "margin_score": "0.2085",
                "appeal_score": "0.3333",
                "value_score": "0.0571",
                "quality_score": "1.0000",
                "score": "0.2289",
                "supplier": None,
                "supplier_return_rate": None,
                "supplier_defective_share": None,
            },
        ],
    }
    volume_only = await report(api, "purchasing-scorecard", weights="volume:1")
    assert [(i["product"], i["score"]) for i in volume_only["items"]] == [
        ("silk-square", "1.0000"),
        ("silk-long", "0.2941"),
        ("lavender-oil", "0.0000"),
    ]
    r = await api.get("/v1/reports/purchasing-scorecard", params={"weights": "volume:0.5,margin:0.6"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"parameter": "weights", "code": "invalid_total", "message": "The weights add up to 1.1, not 1."}
    ]


async def test_the_scorecard_ranks_unsold_products_by_their_appeal_and_breaks_ties_by_code_at_the_limit(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Unsold products rank too, alike when their appeal inputs are alike (ties by code, also where the limit cuts
    them): with them volume and value start at 0 — volume 18, 6, 1, 0 → 1, 1/3, 1/18, 0; value 1600, 280, 200, 0
    → 1, 0.175, 0.125, 0; appeal 1, 0.5, 0.25 and the unsold 0.5 (three) and 0 → the same."""
    await shop(conn)
    for code, tags in (
        ("wool-c", ["famous", "new"]),
        ("wool-d", ["famous", "new"]),
        ("wool-b", ["famous", "new"]),
        ("wool-a", []),
        ("wool-e", ["quality"]),  # appeal's inputs as lavender-oil's, which sold: counted once each
    ):
        await f.product(conn, code, "scarves", role="routine", quality_tags=tags)
    # their completeness never computed: appeal from the tags only
    await conn.execute(
        "DELETE FROM product_completeness WHERE product_id IN (SELECT id FROM products WHERE code LIKE 'wool-%')"
    )
    # silk-square 0.3 + 0.2 + 0.2 = 0.7; lavender-oil 0.3/18 + 0.3 + 0.2 × 0.25 + 0.2 × 0.125 = 0.391667;
    # silk-long 0.3/3 + 0.3 × 5.08/24.37 + 0.2 × 0.5 + 0.2 × 0.175 = 0.297536; wool-b, wool-c and wool-d
    # 0.2 × 0.5 = 0.1 (tied: by code); wool-e 0.2 × 0.25 = 0.05; wool-a 0
    ranked = [
        ("silk-square", 18, "1.0000", "0.7000"),
        ("lavender-oil", 1, "0.2500", "0.3917"),
        ("silk-long", 6, "0.5000", "0.2975"),
        ("wool-b", 0, "0.5000", "0.1000"),
        ("wool-c", 0, "0.5000", "0.1000"),
        ("wool-d", 0, "0.5000", "0.1000"),
        ("wool-e", 0, "0.2500", "0.0500"),
        ("wool-a", 0, "0.0000", "0.0000"),
    ]
    body = await report(api, "purchasing-scorecard", weights=NO_QUALITY)
    assert [(i["product"], i["volume"], i["appeal"], i["score"]) for i in body["items"]] == ranked
    assert [i["rank"] for i in body["items"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert body["items"][3]["margin_pct"] is None and body["items"][3]["value"] == "0.00"
    for limit in (4, 5, 6):  # the limit falls between and after the three tied unsold products
        cut = await report(api, "purchasing-scorecard", limit=str(limit), weights=NO_QUALITY)
        assert [(i["product"], i["volume"], i["appeal"], i["score"]) for i in cut["items"]] == ranked[:limit]
        assert cut["truncated"] is True


async def test_payables_accrue_receipts_at_unit_cost_by_supplier_and_month(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    hz = await warehouse(conn, "hz")
    await receipt(conn, "A-1", hz, 10, "60.5", "silk-mill", "2026-01-05T10:00:00Z")  # 605
    await receipt(conn, "B-1", hz, 4, "30", "silk-mill", "2026-01-20T10:00:00Z")  # 120
    await receipt(conn, "C-1", hz, 3, "90.125", "aroma-agent", "2026-02-02T10:00:00Z")  # 270.375 → 270.38
    await receipt(conn, "D-1", hz, 5, None, "aroma-agent", "2026-02-03T10:00:00Z")  # no unit cost: not accrued
    await receipt(conn, "A-1", hz, 2, None, None, "2026-02-04T10:00:00Z", type_="pick")
    body = await report(api, "payables")
    assert body == {
        "report": "payables",
        "parameters": {"category": None, "role": None, "series": None, "from": None, "to": None},
        "columns": ["month", "supplier", "currency", "receipts", "qty", "amount"],
        "items": [
            {
                "month": "2026-01",
                "supplier": "silk-mill",
                "currency": "CNY",
                "receipts": 2,
                "qty": 14,
                "amount": "725.00",
            },
            {
                "month": "2026-02",
                "supplier": "aroma-agent",
                "currency": "CNY",
                "receipts": 1,
                "qty": 3,
                "amount": "270.38",
            },
        ],
        "basis": "accrual: goods received (stock receipts with a unit cost, qty × unit cost) by supplier and month "
        "of receipt (UTC); not invoices, not payments",
    }
    february = await report(api, "payables", **{"from": "2026-02-01"})
    assert [i["amount"] for i in february["items"]] == ["270.38"]


async def test_receivables_accrue_distribution_sales_at_the_distribution_price_of_the_day(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await sale(conn, "2026-02-03", "D-1", "distribution", 5, "50.00")  # D-1 has no distribution price
    body = await report(api, "receivables")
    assert body == {
        "report": "receivables",
        "parameters": {"category": None, "role": None, "series": None, "from": None, "to": None},
        "columns": ["month", "currency", "facts", "qty", "amount", "unpriced_qty"],
        "items": [
            # A-1 10 × 80
            {"month": "2026-01", "currency": "CNY", "facts": 1, "qty": 10, "amount": "800.00", "unpriced_qty": 0},
            # B-1 2 × 40; D-1's 5 unpriced
            {"month": "2026-02", "currency": "CNY", "facts": 2, "qty": 7, "amount": "80.00", "unpriced_qty": 5},
        ],
        "basis": "accrual: distribution-channel sales facts at qty × the distribution price in force on the day, "
        "by month; not invoices, not payments",
    }


async def test_a_report_as_csv_has_a_header_line_and_the_same_rows(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop(conn)
    async with as_role("finance") as client:
        r = await client.get("/v1/reports/abc", headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.text == (
        "rank,sku,product,currency,qty,revenue,share,cumulative_share,class,cost,margin,margin_pct\r\n"
        "1,A-1,silk-square,CNY,18,1600.00,76.92,76.92,A,1110.00,490.00,30.63\r\n"
        "2,B-1,silk-long,CNY,6,280.00,13.46,90.38,B,180.00,100.00,35.71\r\n"
        "3,C-1,lavender-oil,CNY,1,200.00,9.62,100.00,C,90.00,110.00,55.00\r\n"
    )
    async with as_role("marketing") as client:
        r = await client.get("/v1/reports/abc", headers={"Accept": "text/csv"})
    assert r.text == (
        "rank,sku,product,currency,qty,revenue,share,cumulative_share,class,margin_pct\r\n"
        "1,A-1,silk-square,CNY,18,1600.00,76.92,76.92,A,30.63\r\n"
        "2,B-1,silk-long,CNY,6,280.00,13.46,90.38,B,35.71\r\n"
        "3,C-1,lavender-oil,CNY,1,200.00,9.62,100.00,C,55.00\r\n"
    )
    async with as_role("finance") as client:
        r = await client.get("/v1/reports/inventory-valuation", headers={"Accept": "text/csv"})
    assert r.text == "warehouse,category,cost_source,currency,skus,on_hand,value\r\n"


async def test_marketing_sees_margin_percentages_but_never_cost_amounts(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop(conn)
    async with as_role("marketing") as client:
        abc = await report(client, "abc")
        mix = await report(client, "assortment")
    assert abc["omitted"] == ["cost", "margin"]
    assert "cost" not in abc["columns"] and "margin" not in abc["columns"]
    assert abc["items"][0] == {
        "rank": 1,
        "sku": "A-1",
        "product": "silk-square",
        "currency": "CNY",
        "qty": 18,
        "revenue": "1600.00",
        "share": "76.92",
        "cumulative_share": "76.92",
        "class": "A",
        "margin_pct": "30.63",
    }
    assert mix["omitted"] == ["cost", "margin"]
    assert mix["items"][0] == mix_row("role", "destination", 1, DESTINATION, cost=False)
    async with as_role("finance") as client:
        abc = await report(client, "abc")
    assert "omitted" not in abc
    assert abc["items"][0]["cost"] == "1110.00"


REPORTS = ["margins", "inventory-valuation", "assortment", "abc", "purchasing-scorecard", "payables", "receivables"]
SEES = {
    "finance": set(REPORTS),
    "purchasing": set(REPORTS),
    "marketing": {"assortment", "abc"},
    "storefront": set(),
    "service": set(),
    "warehouse": set(),
}


@pytest.mark.parametrize("role", sorted(SEES))
async def test_each_role_reaches_exactly_its_reports(as_role: Any, conn: asyncpg.Connection, role: str) -> None:
    await shop(conn)
    async with as_role(role) as client:
        statuses = {name: (await client.get(f"/v1/reports/{name}")).status_code for name in REPORTS}
    assert statuses == {name: 200 if name in SEES[role] else 403 for name in REPORTS}


async def test_an_unknown_filter_code_is_a_400_naming_the_parameter(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await api.get("/v1/reports/margins", params={"category": "nope"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"parameter": "category", "code": "unknown_code", "message": "No category has the code 'nope'."}
    ]


@pytest.mark.parametrize("category", [None, "apparel"])
@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2025-12-20", "2026-03-01"),  # partial December and March, whole January and February
        ("2026-01-15", "2026-02-10"),  # two partial months
        ("2026-01-12", "2026-01-25"),  # inside one month
        ("2026-01-01", "2026-02-28"),  # whole months only
        (None, "2026-01-19"),
        ("2026-01-20", None),
        (None, None),
    ],
)
async def test_the_rollup_and_the_facts_give_the_same_figures_for_any_period(
    conn: asyncpg.Connection, category: str | None, since: str | None, until: str | None
) -> None:
    await shop(conn)
    for args in (
        ("2025-12-31", "A-1", "web", 2, "200.00"),
        ("2025-12-01", "C-1", "distribution", 3, "450.00"),
        ("2026-02-28", "A-1", "distribution", 4, "320.00"),
        ("2026-03-01", "B-1", "web", 6, "300.00"),
        ("2026-03-02", "C-1", "web", 1, "200.00"),
        ("2026-01-31", "D-1", "distribution", 5, "50.00"),
    ):
        await sale(conn, *args)
    finance = Principal(name="t", roles=frozenset({"finance"}))
    scope = ReportScope(
        category=category,
        since=date.fromisoformat(since) if since else None,
        until=date.fromisoformat(until) if until else None,
    )
    runs: dict[str, Callable[[bool], Awaitable[Any]]] = {
        "assortment": lambda r: sales.assortment(conn, finance, scope, target=None, rollup=r),
        "abc": lambda r: sales.abc(conn, finance, scope, classes=None, limit=100, rollup=r),
        "scorecard": lambda r: sales.purchasing_scorecard(
            conn, scope, weights=None, currency="CNY", limit=100, rollup=r
        ),
        "receivables": lambda r: sales.receivables(conn, scope, limit=100, rollup=r),
    }
    for name, run in runs.items():
        by_rollup, by_facts = msgspec.to_builtins(await run(True)), msgspec.to_builtins(await run(False))
        assert by_rollup == by_facts, name
        assert by_facts["items"] or name == "receivables", name  # receivables: no distribution sale in some


@pytest.mark.parametrize(("url", "name"), [("/v1/reports/margins", "at"), ("/v1/stock/movements", "since")])
@pytest.mark.parametrize("moment", ["0.5", "1767225600", "2026-01-01T00:00:00", "2026-01-01", ""])
async def test_a_moment_in_a_query_is_rfc_3339_with_an_offset_not_a_number_nor_a_local_time(
    api: httpx.AsyncClient, url: str, name: str, moment: str
) -> None:
    """The framework read `0.5` as a Unix time, and a moment without an offset in the server's time zone."""
    r = await api.get(url, params={name: moment})
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {
            "code": "invalid_moment",
            "message": f"`{name}` must be an RFC 3339 moment with an offset, e.g. 2025-03-01T00:00:00+08:00.",
            "parameter": name,
        }
    ]
    fine = await api.get(url, params={name: "2026-01-01T00:00:00+08:00"})
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    ("url", "params", "error"),
    [
        (
            "/v1/reports/purchasing-scorecard",
            {"weights": "volume:0.5,volume:0.5"},
            {"parameter": "weights", "code": "duplicate", "message": "'volume' is named twice."},
        ),
        (
            "/v1/reports/receivables",
            {"from": "2026-02-01", "to": "2026-01-31"},
            {"parameter": "from", "code": "dates_reversed", "message": "`from` is after `to`."},
        ),
        (  # (the reports take their period through a dependency: named as sent, not `since` / `until`)
            "/v1/reports/purchasing-scorecard",
            {"from": "2026-13-01"},
            {"parameter": "from", "code": "invalid", "message": "Invalid RFC3339 encoded date."},
        ),
        (
            "/v1/reports/abc",
            {"to": "2026-02-30"},
            {"parameter": "to", "code": "invalid", "message": "Invalid RFC3339 encoded date."},
        ),
    ],
)
async def test_a_name_given_twice_and_a_period_ending_before_it_starts_are_400s_saying_so(
    api: httpx.AsyncClient, url: str, params: dict[str, str], error: dict[str, str]
) -> None:
    r = await api.get(url, params=params)
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [error]
