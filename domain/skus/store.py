"""The only place that runs the SKUs' statements (sql/queries/skus.sql)."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from domain.products.model import still_referenced
from domain.skus.model import LockedSku, Sku, SkuOwner, unique_conflict
from domain.sql import load

Q = load("skus")
LIST_PRODUCT_SKUS = Q.list_product_skus.sql
GET_SKU = Q.get_sku.sql
LOCK_SKU = Q.lock_sku.sql
LOCK_SKU_PRODUCT = Q.lock_sku_product.sql
LOCK_PRODUCT_FOR_SKUS = Q.lock_product_for_skus.sql
GET_PRODUCT_ID = Q.get_product_id.sql
GET_SKU_BY_BARCODE = Q.get_sku_by_barcode.sql
GET_SKU_BY_AXES = Q.get_sku_by_axes.sql
INSERT_SKU = Q.insert_sku.sql
UPDATE_SKU = Q.update_sku.sql
DELETE_SKU = Q.delete_sku.sql


def _sku(row: asyncpg.Record) -> Sku:
    return msgspec.convert(dict(row), Sku)


def _owner(row: asyncpg.Record | None) -> SkuOwner | None:
    return None if row is None else msgspec.convert(dict(row), SkuOwner)


async def list_product_skus(conn: asyncpg.Connection, product_id: int, after: str | None, limit: int) -> list[Sku]:
    return [_sku(r) for r in await conn.fetch(LIST_PRODUCT_SKUS, product_id, after, limit)]


async def get_sku(conn: asyncpg.Connection, sku: str) -> Sku | None:
    row = await conn.fetchrow(GET_SKU, sku)
    return None if row is None else _sku(row)


async def lock_sku_product(conn: asyncpg.Connection, sku: str) -> SkuOwner | None:
    """The product of a SKU, locked; None when there is no such SKU."""
    return _owner(await conn.fetchrow(LOCK_SKU_PRODUCT, sku))


async def lock_sku(conn: asyncpg.Connection, sku: str, owner: SkuOwner) -> LockedSku | None:
    """The SKU, locked for update (its product `owner` is locked already)."""
    row = await conn.fetchrow(LOCK_SKU, sku)
    return None if row is None else LockedSku(id=row["id"], owner=owner, sku=_sku(row))


async def lock_product_for_skus(conn: asyncpg.Connection, code: str) -> SkuOwner | None:
    return _owner(await conn.fetchrow(LOCK_PRODUCT_FOR_SKUS, code))


async def get_product_id(conn: asyncpg.Connection, code: str) -> int | None:
    product_id: int | None = await conn.fetchval(GET_PRODUCT_ID, code)
    return product_id


async def get_sku_by_barcode(conn: asyncpg.Connection, barcode: str, other_than: str) -> str | None:
    holder: str | None = await conn.fetchval(GET_SKU_BY_BARCODE, barcode, other_than)
    return holder


async def get_sku_by_axes(
    conn: asyncpg.Connection, product_id: int, axes: dict[str, Any], other_than: str
) -> str | None:
    twin: str | None = await conn.fetchval(GET_SKU_BY_AXES, product_id, axes, other_than)
    return twin


async def insert_sku(
    conn: asyncpg.Connection,
    sku: str,
    product_id: int,
    barcode: str | None,
    axes: dict[str, Any],
    attributes: dict[str, Any],
) -> int | None:
    """The new SKU's id; None when the code is taken. A barcode or axes a concurrent writer took is a 409."""
    try:
        sku_id: int | None = await conn.fetchval(INSERT_SKU, sku, product_id, barcode, axes, attributes)
    except asyncpg.UniqueViolationError as exc:
        raise unique_conflict(getattr(exc, "constraint_name", None), sku) from None
    return sku_id


async def update_sku(
    conn: asyncpg.Connection,
    sku_id: int,
    sku: str,
    barcode: str | None,
    axes: dict[str, Any],
    attributes: dict[str, Any],
) -> None:
    """Replace a SKU's writable columns. A barcode or axes a concurrent writer took is a 409."""
    try:
        await conn.execute(UPDATE_SKU, sku_id, barcode, axes, attributes)
    except asyncpg.UniqueViolationError as exc:
        raise unique_conflict(getattr(exc, "constraint_name", None), sku) from None


async def delete_sku(conn: asyncpg.Connection, sku_id: int, sku: str) -> None:
    """Delete one SKU; a foreign key from stock, prices or anything else is a 409 naming the table."""
    try:
        await conn.execute(DELETE_SKU, sku_id)
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError) as exc:  # (RESTRICT: 23001)
        raise still_referenced(
            f"SKU {sku!r}", getattr(exc, "table_name", None), getattr(exc, "constraint_name", None)
        ) from None
