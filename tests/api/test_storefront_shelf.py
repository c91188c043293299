"""The shelves behind category pages (storefront_shelf, migration 0009): a page walks the category's shelf
in the sort's order and stops at its last match, or takes every match from the tokens' index when the walk
does not fill it — both ways give the same pages; and the shelf follows every change of what it holds."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from domain.storefront import listing
from tests import storefront_catalog as shop

QUERIES: list[dict[str, Any]] = [
    {"category": "accessories"},
    {"category": "scarves", "filter": "color:navy"},
    {"category": "scarves", "filter": "color:red"},
    {"category": "scarves", "filter": ["color:navy,red", "material:silk"]},
    {"category": "scarves", "filter": "width:55..95cm"},
    {"category": "scarves", "price": "100..200"},
    {"category": "scarves", "in_stock": "true"},
    {"category": "web-gifts", "filter": "organic:true"},
    {"category": "bags"},
]
MODES = [(probe, limit) for probe in (0, 1, 2, listing.PROBE_ROWS) for limit in (1, 2, 50)]


async def walk(http: Any, params: dict[str, Any], limit: int) -> list[str]:
    """Every card of a query, page by page."""
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page_params = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await http.get("/v1/storefront/products", params=page_params)
        assert r.status_code == 200, r.text
        seen += [c["code"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError(f"{params} does not end: {seen}")


@pytest.mark.parametrize("sort", ["position", "price_asc", "price_desc", "newest", "best_selling"])
async def test_the_shelf_walk_and_the_index_give_the_same_pages(
    as_role: Any, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    await shop.shop(conn)
    await conn.execute("UPDATE products SET created_at = now() - make_interval(days => (id % 3)::integer)")
    await shop.sold(conn, {"WAVE-1": 30, "CHECK-1": 20, "PEONY-1": 30})  # (a tie: product ids break it)
    walked: dict[tuple[int, int], list[list[str]]] = {}
    async with as_role("storefront") as http:
        for probe, limit in MODES:
            monkeypatch.setattr(listing, "PROBE_ROWS", probe)
            walked[(probe, limit)] = [await walk(http, {**q, "sort": sort}, limit) for q in QUERIES]
    reference = walked[(0, 50)]  # every match from the index, sorted, one page
    assert sum(len(r) for r in reference) == 15  # (the queries find something to compare)
    for mode, pages in walked.items():
        assert pages == reference, mode


def expected_shelf() -> str:
    """The shelf as the storefront rows say it should be."""
    return """
        SELECT c.id AS category_id, s.product_id,
               ARRAY(SELECT t FROM unnest(s.tokens) t WHERE t NOT LIKE 'c:%' OR t = 'c:' || c.id ORDER BY t) AS tokens,
               s.numbers, s.price, -extract(epoch FROM s.created_at) AS newest, s.sold
          FROM storefront_products s CROSS JOIN LATERAL unnest(s.categories) c(id)
         WHERE s.listed ORDER BY 1, 2"""


SHELF = "SELECT category_id, product_id, tokens, numbers, price, newest, sold FROM storefront_shelf ORDER BY 1, 2"
# the listed products per category that navigation reads, as kept, and as counted from the shelf
COUNTS = "SELECT category_id, listed FROM storefront_shelf_counts WHERE listed > 0 ORDER BY 1"
COUNTED = "SELECT category_id, count(*) FROM storefront_shelf GROUP BY 1 ORDER BY 1"


async def test_the_shelf_follows_every_change(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    ids = dict(await conn.fetch("SELECT code::text, id FROM products"))
    cats = dict(await conn.fetch("SELECT code::text, id FROM categories"))
    shelf = {(r["category_id"], r["product_id"]) for r in await conn.fetch(SHELF)}
    # peony and check: scarves, accessories, web-gifts; wave: scarves, accessories
    assert shelf == {
        (cats[c], ids[p])
        for p, cs in (
            ("peony", ("scarves", "accessories", "web-gifts")),
            ("check", ("scarves", "accessories", "web-gifts")),
            ("wave", ("scarves", "accessories")),
        )
        for c in cs
    }
    changes = [
        "UPDATE products SET attributes = attributes || '{\"color\": \"green\"}' WHERE code = 'wave'",
        "UPDATE products SET lifecycle = 'delisted' WHERE code = 'check'",
        "UPDATE products SET lifecycle = 'listed' WHERE code = 'lotus'",
        "UPDATE products SET category_id = (SELECT id FROM categories WHERE code = 'bags') WHERE code = 'wave'",
        "INSERT INTO product_placements (product_id, tree_id, category_id) SELECT p.id, c.tree_id, c.id"
        " FROM products p, categories c WHERE p.code = 'lotus' AND c.code = 'web-new'",
        "DELETE FROM stock_levels WHERE sku_id = (SELECT id FROM skus WHERE sku = 'PEONY-1')",
        "UPDATE prices SET amount = 59 WHERE kind = 'sale' AND sku_id = (SELECT id FROM skus WHERE sku = 'LOTUS-1')",
        "UPDATE products SET lifecycle = 'listed' WHERE code = 'check'",
        "UPDATE products SET lifecycle = 'retired' WHERE code = 'check'",
    ]
    for change in changes:
        await conn.execute(change)
        assert [tuple(r) for r in await conn.fetch(SHELF)] == [tuple(r) for r in await conn.fetch(expected_shelf())]
        assert [tuple(r) for r in await conn.fetch(COUNTS)] == [tuple(r) for r in await conn.fetch(COUNTED)]
    rows = {(r["category_id"], r["product_id"]): r for r in await conn.fetch(SHELF)}
    assert rows[(cats["bags"], ids["wave"])]["tokens"] == sorted(
        ["c:" + str(cats["bags"]), "color=green", "material=silk", "organic=true", "role:routine", "series:silk-series"]
    )
    assert (cats["scarves"], ids["wave"]) not in rows and (cats["scarves"], ids["check"]) not in rows
    assert rows[(cats["web-new"], ids["lotus"])]["price"] == 59
    assert "in-stock" not in rows[(cats["scarves"], ids["peony"])]["tokens"]
    async with as_role("storefront") as http:
        assert await walk(http, {"category": "bags", "filter": "color:green"}, 50) == ["wave"]
        assert await walk(http, {"category": "web-new", "price": "..60"}, 50) == ["lotus"]
        assert await walk(http, {"category": "scarves", "in_stock": "true"}, 50) == []


async def test_a_deleted_listed_product_leaves_its_shelves_pages_and_counts_and_the_feed_says_so(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    # (prices and stock hold a product: one with neither can be deleted while listed)
    await conn.execute("DELETE FROM prices WHERE sku_id = (SELECT id FROM skus WHERE sku = 'LOTUS-1')")
    await shop.list_product(conn, "lotus")
    before = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events")
    async with as_role("admin") as http:
        gone = await http.delete("/v1/products/lotus")
    assert gone.status_code == 204, gone.text
    assert await conn.fetchval("SELECT count(*) FROM storefront_products WHERE code = 'lotus'") == 0
    assert await conn.fetchval("SELECT count(*) FROM storefront_documents WHERE code = 'lotus'") == 0
    assert [tuple(r) for r in await conn.fetch(COUNTS)] == [tuple(r) for r in await conn.fetch(COUNTED)]
    feed = await conn.fetch("SELECT type, code FROM events WHERE id > $1 ORDER BY id", before)
    assert ("product.delisted", "lotus") in [tuple(r) for r in feed]
    series = "SELECT convert_from(body, 'UTF8') FROM storefront_series WHERE locale = 'en'"
    assert '"lotus"' not in await conn.fetchval(series)  # its series' part of the other pages
    async with as_role("storefront") as http:
        shelves = (await http.get("/v1/storefront/categories", params={"tree": "merch"})).json()
    assert shelves["categories"][0]["listed_products"] == 3  # accessories: peony, check, wave
