"""The only place that runs the products' statements (sql/queries/products.sql)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.attributes.values import AttributeDef
from domain.products.model import CategoryRef, LockedProduct, Product, ProductPlan, SkuUse, still_referenced
from domain.sql import load

Q = load("products")
LIST_PRODUCTS = Q.list_products.sql
GET_PRODUCT = Q.get_product.sql
GET_VISIBLE_ATTRIBUTES = Q.get_visible_attributes.sql
LOCK_PRODUCT = Q.lock_product.sql
LIST_CATEGORIES_BY_CODE = Q.list_categories_by_code.sql
GET_CATEGORY_PATH = Q.get_category_path.sql
GET_ROLE_ID = Q.get_role_id.sql
LIST_SERIES_BY_CODE = Q.list_series_by_code.sql
LIST_ATTRIBUTES_BY_CODE = Q.list_attributes_by_code.sql
INSERT_PRODUCT = Q.insert_product.sql
UPDATE_PRODUCT = Q.update_product.sql
DELETE_PRODUCT_PLACEMENTS = Q.delete_product_placements.sql
INSERT_PRODUCT_PLACEMENTS = Q.insert_product_placements.sql
DELETE_PRODUCT_SERIES = Q.delete_product_series.sql
INSERT_PRODUCT_SERIES = Q.insert_product_series.sql
LOCK_PRODUCT_SKUS = Q.lock_product_skus.sql
DELETE_PRODUCT = Q.delete_product.sql


def _product(row: asyncpg.Record) -> Product:
    return msgspec.convert(dict(row), Product)


async def list_products(
    conn: asyncpg.Connection,
    path: str | None,
    role_id: int | None,
    series_id: int | None,
    lifecycle: str | None,
    contains: dict[str, Any] | None,
    decimal_codes: list[str],
    decimal_values: list[Decimal],
    after: str | None,
    limit: int,
    confidential: bool,
) -> list[Product]:
    rows = await conn.fetch(
        LIST_PRODUCTS,
        path,
        role_id,
        series_id,
        lifecycle,
        contains,
        decimal_codes,
        decimal_values,
        after,
        limit,
        confidential,
    )
    return [_product(r) for r in rows]


async def get_product(conn: asyncpg.Connection, code: str, confidential: bool) -> Product | None:
    """One product; the values of confidential attributes only with `confidential`."""
    row = await conn.fetchrow(GET_PRODUCT, code, confidential)
    return None if row is None else _product(row)


async def get_visible_attributes(
    conn: asyncpg.Connection, values: dict[str, Any], confidential: bool
) -> dict[str, Any]:
    visible: dict[str, Any] = await conn.fetchval(GET_VISIBLE_ATTRIBUTES, values, confidential)
    return visible


async def lock_product(conn: asyncpg.Connection, code: str) -> LockedProduct | None:
    row = await conn.fetchrow(LOCK_PRODUCT, code)
    if row is None:
        return None
    return LockedProduct(id=row["id"], category_id=row["category_id"], product=_product(row))


async def list_categories_by_code(conn: asyncpg.Connection, codes: list[str]) -> dict[str, CategoryRef]:
    """The categories among `codes`, by code."""
    return {r["code"]: msgspec.convert(dict(r), CategoryRef) for r in await conn.fetch(LIST_CATEGORIES_BY_CODE, codes)}


async def get_category_path(conn: asyncpg.Connection, code: str) -> str | None:
    path: str | None = await conn.fetchval(GET_CATEGORY_PATH, code)
    return path


async def get_role_id(conn: asyncpg.Connection, code: str) -> int | None:
    role_id: int | None = await conn.fetchval(GET_ROLE_ID, code)
    return role_id


async def list_series_by_code(conn: asyncpg.Connection, codes: list[str]) -> dict[str, int]:
    """The ids of the series among `codes`, by code."""
    return {r["code"]: r["id"] for r in await conn.fetch(LIST_SERIES_BY_CODE, codes)}


async def list_attributes_by_code(conn: asyncpg.Connection, codes: list[str]) -> dict[str, AttributeDef]:
    """The definitions of the attributes among `codes`, by code."""
    return {
        r["code"]: msgspec.convert(dict(r), AttributeDef, strict=False)
        for r in await conn.fetch(LIST_ATTRIBUTES_BY_CODE, codes)
    }


def _columns(plan: ProductPlan) -> tuple[Any, ...]:
    v = plan.values
    return (
        plan.category_id,
        plan.role_id,
        v["labels"],
        v["description"],
        v["selling_points"],
        v["images"],
        v["quality_tags"],
        v["attributes"],
    )


async def insert_product(conn: asyncpg.Connection, code: str, plan: ProductPlan) -> int | None:
    """The new product's id; None when the code is taken."""
    product_id: int | None = await conn.fetchval(INSERT_PRODUCT, code, *_columns(plan))
    return product_id


async def update_product(conn: asyncpg.Connection, product_id: int, plan: ProductPlan) -> None:
    await conn.execute(UPDATE_PRODUCT, product_id, *_columns(plan))


async def delete_product_placements(conn: asyncpg.Connection, product_id: int) -> None:
    await conn.execute(DELETE_PRODUCT_PLACEMENTS, product_id)


async def insert_product_placements(
    conn: asyncpg.Connection, product_id: int, tree_ids: list[int], category_ids: list[int]
) -> None:
    await conn.execute(INSERT_PRODUCT_PLACEMENTS, product_id, tree_ids, category_ids)


async def delete_product_series(conn: asyncpg.Connection, product_id: int) -> None:
    await conn.execute(DELETE_PRODUCT_SERIES, product_id)


async def insert_product_series(conn: asyncpg.Connection, product_id: int, series_ids: list[int]) -> None:
    await conn.execute(INSERT_PRODUCT_SERIES, product_id, series_ids)


async def lock_product_skus(conn: asyncpg.Connection, product_id: int) -> list[SkuUse]:
    return [msgspec.convert(dict(r), SkuUse) for r in await conn.fetch(LOCK_PRODUCT_SKUS, product_id)]


async def delete_product(conn: asyncpg.Connection, product_id: int, code: str) -> None:
    """Delete a product with its SKUs; a foreign key from anything else is a 409 naming the table."""
    try:
        await conn.execute(DELETE_PRODUCT, product_id)
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError) as exc:  # (RESTRICT: 23001)
        raise still_referenced(
            f"Product {code!r}", getattr(exc, "table_name", None), getattr(exc, "constraint_name", None)
        ) from None
