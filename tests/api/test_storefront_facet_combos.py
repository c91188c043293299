"""The facets counted from the shelf's combinations (storefront_shelf_combos, migration 0024): per category,
how many listed products carry each combination of tokens and numbers, kept by delta from the shelf — equal
to a recount after every kind of write, after a rebuild, and when writers of one combination commit at once;
and the facets counted from them equal those counted from the shelf's rows."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from domain.jobs import service as jobs
from tests import storefront_catalog as shop

COMBOS = "SELECT category_id, tokens, numbers, products FROM storefront_shelf_combos ORDER BY 1, 2, 3"
RECOUNTED = "SELECT category_id, tokens, numbers, count(*) FROM storefront_shelf GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
# wave made check's twin on the shelf (same attributes, in stock, no series): one combination of two products
TWIN = [
    "UPDATE products SET attributes = (SELECT attributes FROM products WHERE code = 'check') WHERE code = 'wave'",
    "DELETE FROM product_series WHERE product_id = (SELECT id FROM products WHERE code = 'wave')",
    "UPDATE stock_levels SET reserved = 0 WHERE sku_id = (SELECT id FROM skus WHERE sku = 'WAVE-1')",
]
SHARED = (
    "SELECT max(products) FROM storefront_shelf_combos"
    " WHERE category_id = (SELECT id FROM categories WHERE code = 'scarves')"
)
WAITING = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"


async def assert_recounted(conn: asyncpg.Connection) -> None:
    kept = [tuple(r) for r in await conn.fetch(COMBOS)]
    assert kept == [tuple(r) for r in await conn.fetch(RECOUNTED)]
    assert all(r[3] > 0 for r in kept)  # a combination no product carries is gone


async def test_the_combinations_equal_a_recount_after_a_burst_of_writes_and_after_a_rebuild(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await assert_recounted(conn)
    assert await conn.fetchval(SHARED) == 1
    scarves = await conn.fetchval("SELECT id FROM categories WHERE code = 'scarves'")
    for change in TWIN:
        await conn.execute(change)
        await assert_recounted(conn)
    assert await conn.fetchval(SHARED) == 2
    burst = [
        "UPDATE products SET attributes = attributes || '{\"color\": \"navy\"}' WHERE code = 'peony'",
        'UPDATE products SET attributes = attributes || \'{"width": {"value": "80", "unit": "cm"}}\''
        " WHERE code = 'check'",
        "UPDATE products SET attributes = attributes - 'organic' WHERE code = 'wave'",
        "UPDATE products SET lifecycle = 'listed' WHERE code = 'lotus'",  # listing
        "UPDATE products SET lifecycle = 'delisted' WHERE code = 'check'",  # delisting
        "UPDATE products SET category_id = (SELECT id FROM categories WHERE code = 'bags') WHERE code = 'wave'",
        "INSERT INTO product_placements (product_id, tree_id, category_id) SELECT p.id, c.tree_id, c.id"
        " FROM products p, categories c WHERE p.code = 'lotus' AND c.code = 'web-new'",
        "DELETE FROM stock_levels WHERE sku_id = (SELECT id FROM skus WHERE sku = 'PEONY-1')",  # out of stock
        "UPDATE prices SET amount = 59 WHERE kind = 'sale' AND sku_id = (SELECT id FROM skus WHERE sku = 'LOTUS-1')",
        "UPDATE products SET lifecycle = 'listed' WHERE code = 'check'",
        "UPDATE products SET lifecycle = 'retired' WHERE code = 'peony'",
    ]
    for change in burst:
        await conn.execute(change)
        await assert_recounted(conn)
    # a category moved: the products under it leave their old ancestors' shelves (refreshed by the runner)
    async with as_role("admin") as http:
        moved = await http.patch("/v1/categories/scarves", json={"parent": None})
    assert moved.status_code == 200, moved.text
    await jobs.refresh_due(conn)
    accessories = await conn.fetchval("SELECT id FROM categories WHERE code = 'accessories'")
    assert not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM storefront_shelf WHERE category_id = $1 AND product_id IN"
        " (SELECT id FROM products WHERE category_id = $2))",
        accessories,
        scarves,
    )
    await assert_recounted(conn)
    assert await conn.fetchval("SELECT count(*) FROM storefront_shelf_combos") > 3

    # a rebuild from nothing: every storefront row gone (the shelf with it), then every product refreshed
    await conn.execute("DELETE FROM storefront_products")
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM products ORDER BY id")]
    await jobs.rebuild_chunk(conn, ids, ["storefront"])
    await assert_recounted(conn)
    assert (
        await conn.fetchval("SELECT sum(products) FROM storefront_shelf_combos")
        == await conn.fetchval("SELECT count(*) FROM storefront_shelf")
        > 0
    )


async def test_writers_of_one_combination_committing_at_once_both_count(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        await shop.shop(conn)
        for change in TWIN:
            await conn.execute(change)
        assert await conn.fetchval(SHARED) == 2
    async with (
        fresh_pool.acquire() as gate,
        fresh_pool.acquire() as a,
        fresh_pool.acquire() as b,
        fresh_pool.acquire() as watcher,
    ):
        # hold every combination of scarves: both writers' merges wait here, after their refreshes
        held = gate.transaction()
        await held.start()
        await gate.execute(
            "SELECT 1 FROM storefront_shelf_combos"
            " WHERE category_id = (SELECT id FROM categories WHERE code = 'scarves') FOR UPDATE"
        )

        async def write(conn: asyncpg.Connection, sql: str) -> None:
            async with conn.transaction():
                await conn.execute(sql)

        # check and wave share a combination in scarves: both leave it for another at once
        first = asyncio.ensure_future(
            write(a, "UPDATE products SET attributes = attributes || '{\"color\": \"red\"}' WHERE code = 'check'")
        )
        second = asyncio.ensure_future(
            write(b, "UPDATE products SET attributes = attributes || '{\"color\": \"red\"}' WHERE code = 'wave'")
        )
        while await watcher.fetchval(WAITING) < 2:
            assert not first.done() and not second.done()
        await held.commit()
        await asyncio.gather(first, second)
        await assert_recounted(gate)
        navy = await gate.fetchval("SELECT count(*) FROM storefront_shelf_combos WHERE tokens @> '{color=navy}'")
        assert navy == 0 and await gate.fetchval(SHARED) == 2
        assert await gate.fetchval("SELECT count(*) FROM storefront_shelf_combos_pending") == 0


QUERIES: list[dict[str, Any]] = [
    {"category": "scarves"},
    {"category": "scarves", "filter": "color:navy"},
    {"category": "scarves", "filter": ["color:navy,red", "material:silk"]},
    {"category": "scarves", "filter": "width:55..95cm"},
    {"category": "scarves", "filter": ["width:60..80cm", "color:navy"]},
    {"category": "scarves", "filter": ["width:..600mm", "organic:true"]},
    {"category": "accessories", "in_stock": "true"},
    {"category": "web-gifts", "filter": "organic:true"},
    {"category": "bags"},
]


@pytest.mark.parametrize("query", QUERIES)
async def test_facets_from_the_combinations_equal_those_from_the_shelf_rows(
    as_role: Any, conn: asyncpg.Connection, query: dict[str, Any]
) -> None:
    """A price range every product passes sends the same query to the shelf's rows: the same answer."""
    await shop.shop(conn)
    async with as_role("storefront") as http:
        combos = await http.get("/v1/storefront/facets", params=query)
        rows = await http.get("/v1/storefront/facets", params={**query, "price": "0..100000"})
    assert combos.status_code == 200 and rows.status_code == 200, (combos.text, rows.text)
    assert combos.json() == rows.json()
    if query["category"] == "scarves" and "filter" not in query:
        body = combos.json()
        assert body["total"] == 3 and body["price"] == {"min": shop.cny("99.00"), "max": shop.cny("199.00")}
        width = next(f for f in body["facets"] if f["attribute"] == "width")
        assert (width["min"], width["max"]) == ("50", "90")
