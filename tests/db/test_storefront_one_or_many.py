"""A product's storefront comes out the same whether it is refreshed alone (a write: generic plans, each value's
attribute and nearest binding looked up by index) or with more than 20 others (a bulk load or a job's chunk:
plans for the size at hand, every binding of the home categories resolved at once) — the attribute values
the pages show and their order, the storefront rows, the shelves and the pages, bit for bit."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from tests import factories as f
from tests import storefront_catalog as shop
from tests.storefront_catalog import PAGES, ROWS, SHELF

VALUES = "SELECT v.* FROM merch_storefront_values($1::bigint[]) v ORDER BY v.product_id, v.n"


async def catalog(conn: asyncpg.Connection) -> list[int]:
    """The shop, with bindings on an ancestor (one the leaf overrides, one it does not), and 24 more listed
    products under the leaf and under a sibling bound to nothing of its own: more than 20 listed in all."""
    await shop.shop(conn)
    await f.attribute(conn, "origin", "text", display_priority=5)
    await f.bind(conn, "accessories", "origin", display_priority=95)  # (only there: nearest for scarves and bags)
    await f.bind(conn, "accessories", "organic", display_priority=500)  # (scarves' own binding is nearer)
    await f.bind(conn, "accessories", "care", display_priority=1)
    for n in range(24):
        attributes: dict[str, Any] = {
            **shop.PRODUCTS["peony" if n % 2 else "check"],
            "origin": f"Hangzhou {n}",
            "color": ["red", "navy", "green"][n % 3],
        }
        code = f"more-{n:02d}"
        await f.product(conn, code, "scarves" if n % 3 else "bags", attributes=attributes, labels={"en": f"More {n}"})
        await f.sku(conn, f"MORE-{n:02d}", code)
        await shop.list_product(conn, code)
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM products ORDER BY id")]
    assert len(ids) > 21
    return ids


async def state(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: [tuple(r) for r in await conn.fetch(sql)]
        for name, sql in (("rows", ROWS), ("shelf", SHELF), ("pages", PAGES))
    }


async def test_the_values_of_products_one_at_a_time_equal_those_of_more_than_twenty_at_once(
    conn: asyncpg.Connection,
) -> None:
    ids = await catalog(conn)
    at_once = [tuple(r) for r in await conn.fetch(VALUES, ids)]
    one_by_one = [tuple(r) for i in ids for r in await conn.fetch(VALUES, [i])]
    assert at_once == one_by_one
    # (the nearest binding's priority, else the attribute's: origin's from accessories, organic's and care's own)
    one = await conn.fetchval("SELECT id FROM products WHERE code = 'more-01'")
    shown = [r["code"] for r in await conn.fetch(VALUES, [one])]
    assert shown == ["color", "origin", "material", "width", "organic", "care"]


async def test_a_refresh_of_each_product_alone_equals_one_of_them_all(conn: asyncpg.Connection) -> None:
    ids = await catalog(conn)
    await conn.execute("DELETE FROM storefront_products")  # (its shelf rows and pages with it)
    await conn.execute("SELECT merch_refresh_storefront($1::bigint[])", ids)
    at_once = await state(conn)
    await conn.execute("DELETE FROM storefront_products")
    for i in ids:
        await conn.execute("SELECT merch_refresh_storefront(ARRAY[$1::bigint])", i)
    assert await state(conn) == at_once
    assert len(at_once["pages"]) > 40


async def test_a_page_shows_an_option_by_its_label_in_the_page_locale_else_the_default_one(
    conn: asyncpg.Connection,
) -> None:
    await shop.shop(conn)
    labels = {"silk": {"en": "Silk", "zh-CN": "真丝"}, "navy": {"en": "Navy"}}
    for code, names in labels.items():
        await conn.execute("UPDATE attribute_options SET labels = $2 WHERE code = $1", code, names)
    await conn.execute("SELECT merch_refresh_storefront(ARRAY(SELECT id FROM products WHERE code = 'wave'))")
    locales, default = await conn.fetchrow("SELECT locales, locales[1] FROM storefront_config")
    assert set(locales) == {"en", "zh-CN"}
    shown = {}
    for locale in locales:
        body = await conn.fetchval(
            "SELECT convert_from(body, 'UTF8') FROM storefront_documents WHERE code = 'wave' AND locale = $1", locale
        )
        page = msgspec.json.decode(body)
        shown[locale] = {a["code"]: a["display"] for g in page["attribute_groups"] for a in g["attributes"]}
    assert shown["zh-CN"]["material"] == "真丝" and shown["en"]["material"] == "Silk"
    # navy has no Chinese label: the default locale's (or the first one's) for both
    assert shown["zh-CN"]["color"] == shown["en"]["color"] == "Navy"
    assert default in locales
