"""A small shop for the storefront tests: two trees, typed public / internal / confidential attributes,
listed and unlisted products with SKUs, sale prices, a promotion and stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests import factories as f

# The storefront read model as tests compare it, in a fixed order: its rows (every column but computed_at, the
# moment a row last came out different), shelf rows and pages.
ROWS = """
    SELECT product_id, code, listed, categories, tokens, numbers, currency, price, regular, in_stock, sold,
           created_at, card, words, grams, stale_at
      FROM storefront_products ORDER BY product_id"""
SHELF = "SELECT category_id, product_id, tokens, numbers, price, newest, sold FROM storefront_shelf ORDER BY 1, 2"
PAGES = "SELECT code, locale, product_id, body, etag, stale_at FROM storefront_documents ORDER BY 1, 2"


def cny(amount: str) -> dict[str, str]:
    """A storefront or service amount as an answer writes it: money in the shop's currency."""
    return {"amount": amount, "currency": "CNY"}


async def price(
    conn: asyncpg.Connection,
    sku: str,
    amount: str,
    *,
    kind: str = "sale",
    days_from: int = -30,
    days_to: int | None = None,
    currency: str = "CNY",
) -> None:
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor)"
        " SELECT id, $2, $3, $4::numeric, $5, $6, 'test' FROM skus WHERE sku = $1",
        sku,
        kind,
        currency,
        amount,
        datetime.now(UTC) + timedelta(days=days_from),
        None if days_to is None else datetime.now(UTC) + timedelta(days=days_to),
    )


async def stock(
    conn: asyncpg.Connection, sku: str, qty: int, *, warehouse: str = "hz", bin_code: str = "A-1", reserved: int = 0
) -> None:
    await conn.execute("INSERT INTO warehouses (code, labels) VALUES ($1, '{}') ON CONFLICT DO NOTHING", warehouse)
    await conn.execute(
        "INSERT INTO locations (warehouse_id, code) SELECT id, $2 FROM warehouses WHERE code = $1"
        " ON CONFLICT DO NOTHING",
        warehouse,
        bin_code,
    )
    await conn.execute(
        "INSERT INTO stock_levels (sku_id, location_id, warehouse_id, on_hand, reserved)"
        " SELECT s.id, l.id, l.warehouse_id, $4, $5 FROM skus s, locations l JOIN warehouses w ON w.id = l.warehouse_id"
        " WHERE s.sku = $1 AND w.code = $2 AND l.code = $3"
        " ON CONFLICT (sku_id, location_id) DO UPDATE SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved",
        sku,
        warehouse,
        bin_code,
        qty,
        reserved,
    )


async def promotion(
    conn: asyncpg.Connection, code: str, sku: str, amount: str, *, starts_in_days: float, ends_in_days: float
) -> None:
    await conn.execute(
        "INSERT INTO promotions (code, labels, starts_at, ends_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        code,
        {"en": f"{code} sale", "zh-CN": f"{code}促销"},
        datetime.now(UTC) + timedelta(days=starts_in_days),
        datetime.now(UTC) + timedelta(days=ends_in_days),
    )
    await conn.execute(
        "INSERT INTO promotion_items (promotion_id, sku_id, price, currency)"
        " SELECT m.id, s.id, $3::numeric, 'CNY' FROM promotions m, skus s WHERE m.code = $1 AND s.sku = $2",
        code,
        sku,
        amount,
    )


async def sold(conn: asyncpg.Connection, units: dict[str, int]) -> None:
    """Units sold per SKU as the sales rollup holds them, and the storefront refreshed (best-selling order)."""
    for sku, qty in units.items():
        await conn.execute(
            "INSERT INTO sales_sku_totals (sku_id, currency, product_id, facts, qty, revenue, cost, costed_qty,"
            " costed_facts, costed_revenue, distribution_value, distributed_qty, distributed_facts, returned_qty)"
            " SELECT id, 'CNY', product_id, 1, $2, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM skus WHERE sku = $1",
            sku,
            qty,
        )
    await conn.execute("SELECT merch_touch('storefront', ARRAY(SELECT id FROM products))")


async def list_product(conn: asyncpg.Connection, code: str, state: str = "listed") -> None:
    await conn.execute("UPDATE products SET lifecycle = $2 WHERE code = $1", code, state)


PRODUCTS: dict[str, dict[str, Any]] = {
    "peony": {
        "color": "red",
        "material": "silk",
        "width": {"value": "90", "unit": "cm"},
        "organic": False,
        "care": "Hand wash",
        "hs-code": "6214100000",
        "supplier-notes": "3% off",
    },
    "check": {
        "color": "navy",
        "material": "cotton",
        "width": {"value": "50", "unit": "cm"},
        "organic": True,
        "care": "Machine wash",
    },
    "wave": {"color": "navy", "material": "silk", "width": {"value": "700", "unit": "mm"}, "organic": True},
    "lotus": {"color": "green", "material": "silk", "width": {"value": "60", "unit": "cm"}},
}


async def shop(conn: asyncpg.Connection) -> None:
    """peony (red silk, 90 cm, 199 CNY, in stock), check (navy cotton, 50 cm, 99, in stock), wave (navy silk,
    70 cm, 149, out of stock), all listed; lotus (green silk) a draft."""
    await f.tree(conn, labels={"en": "Merchandise", "zh-CN": "商品结构"})
    await f.tree(conn, "web", ("shelf", "section"), labels={"en": "Web shelves"})
    await f.category(conn, "accessories", labels={"en": "Accessories", "zh-CN": "服饰配件"})
    await f.category(conn, "scarves", parent="accessories", labels={"en": "Scarves", "zh-CN": "丝巾"})
    await f.category(conn, "bags", parent="accessories", labels={"en": "Bags", "zh-CN": "包袋"})
    await f.category(conn, "web-gifts", tree="web", labels={"en": "Gift ideas", "zh-CN": "礼物精选"})
    await f.category(conn, "web-new", tree="web", labels={"en": "New", "zh-CN": "新品"})
    await conn.execute("INSERT INTO attribute_groups (code, labels) VALUES ('basics', '{\"en\": \"Basics\"}')")
    await f.attribute(
        conn, "color", "select", options=("red", "navy", "green"), filterable=True, display_priority=100, group="basics"
    )
    await f.attribute(conn, "material", "select", options=("silk", "cotton"), filterable=True, display_priority=90)
    await f.attribute(
        conn,
        "width",
        "measurement",
        filterable=True,
        display_priority=70,
        validation={"unit_family": "length", "default_unit": "cm"},
    )
    await f.attribute(conn, "organic", "boolean", filterable=True, display_priority=20)
    await f.attribute(conn, "care", "textarea", display_priority=10)
    await f.attribute(conn, "hs-code", "text", visibility="internal", filterable=True)
    await f.attribute(conn, "supplier-notes", "textarea", visibility="confidential")
    for attribute in ("color", "material", "width", "organic", "care", "hs-code", "supplier-notes"):
        await f.bind(conn, "scarves", attribute)
    await f.series(conn, "silk-series")
    await conn.execute(
        'UPDATE series SET labels = \'{"en": "Silk series", "zh-CN": "丝巾系列"}\' WHERE code = \'silk-series\''
    )
    for n, (code, attributes) in enumerate(PRODUCTS.items()):
        await f.product(
            conn,
            code,
            "scarves",
            role="destination" if code == "peony" else "routine",
            attributes=attributes,
            labels={
                "en": f"Silk scarf {code}" if code != "check" else "Cotton check scarf",
                "zh-CN": f"真丝方巾·{code}" if code != "check" else "棉格纹方巾",
            },
            selling_points=[{"en": f"{code} point", "zh-CN": "手工卷边"}],
            images=[f"https://img.example/{code}.jpg"],
        )
        await f.sku(conn, f"{code.upper()}-1", code, barcode=f"690000000000{n}")
    await conn.execute(
        "INSERT INTO product_series (product_id, series_id) SELECT p.id, s.id FROM products p, series s"
        " WHERE p.code IN ('peony', 'wave', 'lotus') AND s.code = 'silk-series'"
    )
    await conn.execute(
        "INSERT INTO product_placements (product_id, tree_id, category_id)"
        " SELECT p.id, c.tree_id, c.id FROM products p, categories c WHERE p.code IN ('peony', 'check')"
        " AND c.code = 'web-gifts'"
    )
    await price(conn, "PEONY-1", "199")
    await price(conn, "CHECK-1", "99")
    await price(conn, "WAVE-1", "149")
    await price(conn, "LOTUS-1", "129")
    await price(conn, "PEONY-1", "80", kind="cost")
    await price(conn, "PEONY-1", "120", kind="distribution")
    await stock(conn, "PEONY-1", 5)
    await stock(conn, "CHECK-1", 3, warehouse="sh")
    await stock(conn, "WAVE-1", 2, reserved=2)
    for code in ("peony", "check", "wave"):
        await list_product(conn, code)
