"""The storefront kept by the refresh of the products a write touched equals the storefront rebuilt from nothing,
after every write of a mixed sequence — including the writes whose refresh leaves rows alone because they came
out the same (the storefront row, its shelf rows, its pages, the known words) — and the feed says what changed."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests import storefront_catalog as shop
from tests.storefront_catalog import PAGES, ROWS, SHELF

# every word search can correct to that a storefront row holds is known
UNKNOWN_WORDS = """
    SELECT DISTINCT u.lexeme FROM storefront_products s CROSS JOIN LATERAL unnest(s.words) u
     WHERE length(u.lexeme) BETWEEN 3 AND 40 AND u.lexeme ~ '^[a-z]+$'
       AND NOT EXISTS (SELECT 1 FROM storefront_words w WHERE w.word = u.lexeme)"""
# where each stored version of a product's rows is: an update writes a new one
PLACES = """
    SELECT 'row' AS t, s.ctid::text FROM storefront_products s WHERE s.code = $1
    UNION ALL SELECT 'shelf', h.ctid::text FROM storefront_shelf h JOIN storefront_products s USING (product_id)
     WHERE s.code = $1
    UNION ALL SELECT 'page', d.ctid::text FROM storefront_documents d WHERE d.code = $1
    ORDER BY 1, 2"""
SELLING_POINTS = "UPDATE products SET selling_points = $2::jsonb WHERE code = $1"


async def state(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: [tuple(r) for r in await conn.fetch(sql)]
        for name, sql in (("rows", ROWS), ("shelf", SHELF), ("pages", PAGES))
    }


async def rebuilt(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The storefront computed from nothing for every product (then put back as it was)."""
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("DELETE FROM storefront_products")  # (its shelf rows and pages with it)
        await conn.execute("SELECT merch_refresh_model('storefront', ARRAY(SELECT id FROM products ORDER BY id))")
        return await state(conn)
    finally:
        await tx.rollback()


async def events_since(conn: asyncpg.Connection, after: int) -> list[tuple[str, str, list[str]]]:
    rows = await conn.fetch("SELECT type, code, fields FROM events WHERE id > $1 ORDER BY id", after)
    return [(r["type"], r["code"], list(r["fields"] or [])) for r in rows]


async def test_the_kept_storefront_equals_a_rebuild_after_every_write_of_a_mixed_sequence(
    conn: asyncpg.Connection,
) -> None:
    await shop.shop(conn)
    assert await state(conn) == await rebuilt(conn)
    last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events")
    sold_out_and_recoded = (
        "WITH gone AS (UPDATE stock_levels SET on_hand = 0 WHERE sku_id = (SELECT id FROM skus WHERE sku = 'CHECK-1')"
        " RETURNING 1) UPDATE skus SET barcode = '6901234567892' WHERE sku = 'CHECK-1'"
    )
    writes: list[tuple[str, tuple[Any, ...], list[tuple[str, str, list[str]]]]] = [
        # one locale's selling points: both pages (zh-CN falls back to English), the words; no shelf row
        (SELLING_POINTS, ("peony", [{"en": "Hand rolled edges"}]), [("product.changed", "peony", ["selling_points"])]),
        # an internal attribute's value: refreshed, nothing comes out different, nothing is written, nothing
        # for the feed
        ("UPDATE products SET attributes = attributes || '{\"hs-code\": \"6214999999\"}' WHERE code = 'peony'", (), []),
        # the other locale alone: its page only
        (
            SELLING_POINTS,
            ("peony", [{"en": "Hand rolled edges", "zh-CN": "手工卷边"}]),
            [("product.changed", "peony", ["selling_points"])],
        ),
        # a filter value: the shelf rows and the attribute groups
        (
            "UPDATE products SET attributes = attributes || '{\"color\": \"green\"}' WHERE code = 'wave'",
            (),
            [("product.changed", "wave", ["attribute_groups"])],
        ),
        # out of stock, nothing else: its own event only
        (
            "UPDATE stock_levels SET on_hand = 0 WHERE sku_id = (SELECT id FROM skus WHERE sku = 'PEONY-1')",
            (),
            [("product.out_of_stock", "peony", [])],
        ),
        # out of stock and a SKU's barcode in one statement: the SKUs changed besides their in-stock flags
        (sold_out_and_recoded, (), [("product.out_of_stock", "check", []), ("product.changed", "check", ["skus"])]),
        # a label: the card, so the series' part of its fellows' pages
        (
            "UPDATE products SET labels = labels || '{\"en\": \"Wave, renamed\"}' WHERE code = 'wave'",
            (),
            [("product.changed", "wave", ["label"]), ("product.changed", "peony", ["series"])],
        ),
        # listed: its series' part of its fellows' pages names it
        (
            "UPDATE products SET lifecycle = 'listed' WHERE code = 'lotus'",
            (),
            [
                ("product.listed", "lotus", []),
                ("product.changed", "peony", ["series"]),
                ("product.changed", "wave", ["series"]),
            ],
        ),
        (
            "UPDATE prices SET amount = 59"
            " WHERE kind = 'sale' AND sku_id = (SELECT id FROM skus WHERE sku = 'LOTUS-1')",
            (),
            [("product.changed", "lotus", ["price", "regular_price", "skus"])],
        ),
        ("UPDATE products SET lifecycle = 'delisted' WHERE code = 'check'", (), [("product.delisted", "check", [])]),
        (
            "UPDATE products SET category_id = (SELECT id FROM categories WHERE code = 'bags') WHERE code = 'wave'",
            (),
            [("product.changed", "wave", ["category"])],
        ),
        # labels in neither configured locale: shown in the first of its own (by code)
        (
            'UPDATE products SET labels = \'{"fr": "Écharpe vague", "de": "Wellenschal"}\' WHERE code = \'wave\'',
            (),
            [
                ("product.changed", "wave", ["label"]),
                ("product.changed", "peony", ["series"]),
                ("product.changed", "lotus", ["series"]),
            ],
        ),
    ]
    for sql, args, expected in writes:
        before = await conn.fetch(PLACES, "peony")
        await conn.execute(sql, *args)
        assert await state(conn) == await rebuilt(conn), sql
        assert await conn.fetch(UNKNOWN_WORDS) == [], sql
        events = await events_since(conn, last)
        assert sorted(events) == sorted(expected), sql
        if not expected:  # nothing came out different: the row, its shelf rows and its pages were not rewritten
            assert await conn.fetch(PLACES, "peony") == before
        last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events")
    labels = (
        "SELECT array_agg(DISTINCT convert_from(body, 'UTF8')::jsonb ->> 'label') FROM storefront_documents"
        " WHERE code = $1"
    )
    assert await conn.fetchval(labels, "wave") == ["Wellenschal"]
    # (the sequence went through what it means to: a new word, shelves that moved)
    assert await conn.fetchval("SELECT EXISTS (SELECT 1 FROM storefront_words WHERE word = 'rolled')")
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM storefront_shelf h JOIN categories c ON c.id = h.category_id"
            " WHERE c.code = 'bags' AND 'color=green' = ANY (h.tokens)"
        )
        == 1
    )
