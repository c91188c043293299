"""Test data written straight to the database (fast, and independent of the API under test)."""

from __future__ import annotations

from typing import Any

import asyncpg


async def tree(
    conn: asyncpg.Connection,
    code: str = "merch",
    levels: tuple[str, ...] = ("major", "middle", "minor"),
    labels: dict[str, str] | None = None,
) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO category_trees (code, labels, level_names) VALUES ($1, $2, $3) RETURNING id",
            code,
            labels or {"en": code},
            list(levels),
        )
    )


async def category(
    conn: asyncpg.Connection,
    code: str,
    tree: str = "merch",
    parent: str | None = None,
    labels: dict[str, str] | None = None,
) -> int:
    """A category appended as the last child of `parent` (or as the last root)."""
    tree_id = await conn.fetchval("SELECT id FROM category_trees WHERE code = $1", tree)
    parent_row = await conn.fetchrow("SELECT id, path FROM categories WHERE code = $1", parent) if parent else None
    parent_id = parent_row["id"] if parent_row else None
    position = await conn.fetchval(
        "SELECT count(*) FROM categories WHERE tree_id = $1 AND parent_id IS NOT DISTINCT FROM $2", tree_id, parent_id
    )
    return int(
        await conn.fetchval(
            """
            WITH new AS (SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id)
            INSERT INTO categories (id, code, tree_id, parent_id, position, labels, path)
            OVERRIDING SYSTEM VALUE
            SELECT new.id, $1, $2, $3, $4, $5,
                   CASE WHEN $6::ltree IS NULL THEN text2ltree(new.id::text) ELSE $6::ltree || new.id::text END
              FROM new
            RETURNING id
            """,
            code,
            tree_id,
            parent_id,
            position,
            labels or {"en": code},
            parent_row["path"] if parent_row else None,
        )
    )


async def attribute(
    conn: asyncpg.Connection,
    code: str,
    type: str = "text",
    *,
    visibility: str = "public",
    validation: dict[str, Any] | None = None,
    options: tuple[str, ...] = (),
    display_priority: int = 0,
    filterable: bool = False,
    group: str | None = None,
) -> int:
    group_id = await conn.fetchval("SELECT id FROM attribute_groups WHERE code = $1", group) if group else None
    attribute_id = await conn.fetchval(
        """
        INSERT INTO attributes (code, type, group_id, labels, visibility, display_priority, filterable, validation)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
        """,
        code,
        type,
        group_id,
        {"en": code},
        visibility,
        display_priority,
        filterable,
        validation or {},
    )
    for position, option in enumerate(options):
        await conn.execute(
            "INSERT INTO attribute_options (attribute_id, code, labels, position) VALUES ($1, $2, $3, $4)",
            attribute_id,
            option,
            {"en": option},
            position,
        )
    return int(attribute_id)


async def bind(
    conn: asyncpg.Connection,
    category: str,
    attribute: str,
    required_for: tuple[str, ...] = (),
    display_priority: int | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO category_attributes (category_id, attribute_id, required_for, display_priority)
        SELECT c.id, a.id, $3, $4 FROM categories c, attributes a WHERE c.code = $1 AND a.code = $2
        """,
        category,
        attribute,
        list(required_for),
        display_priority,
    )


async def series(conn: asyncpg.Connection, code: str) -> int:
    return int(
        await conn.fetchval("INSERT INTO series (code, labels) VALUES ($1, $2) RETURNING id", code, {"en": code})
    )


async def product(
    conn: asyncpg.Connection,
    code: str,
    category: str,
    role: str = "routine",
    attributes: dict[str, Any] | None = None,
    **fields: Any,
) -> int:
    columns = {"labels": {"en": code}, **fields}
    names = ", ".join(columns)
    params = ", ".join(f"${i}" for i in range(5, 5 + len(columns)))
    return int(
        await conn.fetchval(
            f"""
            INSERT INTO products (code, category_id, role_id, attributes, {names})
            SELECT $1, c.id, r.id, $4, {params} FROM categories c, roles r WHERE c.code = $2 AND r.code = $3
            RETURNING id
            """,
            code,
            category,
            role,
            attributes or {},
            *columns.values(),
        )
    )


async def sku(
    conn: asyncpg.Connection, sku: str, product: str, barcode: str | None = None, axes: dict[str, Any] | None = None
) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO skus (sku, product_id, barcode, axes)"
            " SELECT $1, id, $3, $4 FROM products WHERE code = $2 RETURNING id",
            sku,
            product,
            barcode,
            axes or {},
        )
    )
