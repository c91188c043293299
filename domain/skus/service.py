"""SKUs: use cases, each writing one in its own transaction.

Axes and attribute overrides are checked against the effective attribute set of the product's home
category. Locks are taken product first, then SKU, everywhere (the product delete does the same).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.attributes.sets import effective_definitions
from domain.audit import service as audit
from domain.errors import FieldError, ValidationFailed, field_error
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.products.model import ProductNotFound
from domain.skus import store
from domain.skus.model import (
    BarcodeTaken,
    DuplicateAxes,
    LockedSku,
    Sku,
    SkuCreate,
    SkuExists,
    SkuFields,
    SkuNotFound,
    SkuOwner,
    SkuPage,
    SkuPatch,
    SkuProductFixed,
    SkuPut,
    checked,
)
from domain.types import SkuCode
from domain.validation import convert_or_raise
from domain.versioning import Versioned, writable


async def _lock(conn: asyncpg.Connection, sku: str) -> LockedSku | None:
    """The SKU's product (locked first), then the SKU (locked for update); None when there is no such SKU."""
    owner = await store.lock_sku_product(conn, sku)
    if owner is None:
        return None
    return await store.lock_sku(conn, sku, owner)


async def list_skus(conn: asyncpg.Connection, product: str, *, limit: int, cursor: str | None) -> SkuPage:
    """The SKUs of one product in sku order."""
    after = decode_cursor(cursor, (str,))
    product_id = await store.get_product_id(conn, product)
    if product_id is None:
        raise ProductNotFound(product)
    rows = await store.list_product_skus(conn, product_id, after[0] if after else None, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda s: [s.sku])
    return SkuPage(items=items, next_cursor=next_cursor)


async def get_sku(conn: asyncpg.Connection, sku: str) -> Sku:
    """One SKU."""
    found = await store.get_sku(conn, sku)
    if found is None:
        raise SkuNotFound(sku)
    return found


async def _checked(
    conn: asyncpg.Connection, owner: SkuOwner, fields: SkuFields, errors: list[FieldError]
) -> dict[str, Any]:
    """The normalised writable fields, checked against the product's attribute set (share-locked)."""
    return checked(owner, fields, await effective_definitions(conn, owner.category_id), errors)


async def _check_unique(conn: asyncpg.Connection, sku: str, owner: SkuOwner, values: dict[str, Any]) -> None:
    """A barcode another SKU has, or axes another SKU of the product has, is a 409 naming that SKU."""
    if values["barcode"] is not None:
        holder = await store.get_sku_by_barcode(conn, values["barcode"], sku)
        if holder is not None:
            raise BarcodeTaken(values["barcode"], holder)
    twin = await store.get_sku_by_axes(conn, owner.id, values["axes"], sku)
    if twin is not None:
        raise DuplicateAxes(owner.code, twin, values["axes"])


async def _insert(
    conn: asyncpg.Connection, actor: Principal, sku: str, owner: SkuOwner, fields: SkuFields, errors: list[FieldError]
) -> Sku:
    values = await _checked(conn, owner, fields, errors)
    if await store.get_sku(conn, sku) is not None:
        raise SkuExists(sku)
    await _check_unique(conn, sku, owner, values)
    if await store.insert_sku(conn, sku, owner.id, values["barcode"], values["axes"], values["attributes"]) is None:
        raise SkuExists(sku)
    created = await get_sku(conn, sku)
    await audit.record(conn, actor, "create", "sku", sku, version=created.version, after=created)
    return created


async def _update(conn: asyncpg.Connection, actor: Principal, locked: LockedSku, fields: SkuFields) -> Sku:
    current = locked.sku
    if fields.product is not None and fields.product != current.product:
        raise SkuProductFixed(current.sku, current.product, fields.product)
    values = await _checked(conn, locked.owner, fields, [])
    if values == writable(current, SkuFields):
        return current
    await _check_unique(conn, current.sku, locked.owner, values)
    await store.update_sku(conn, locked.id, current.sku, values["barcode"], values["axes"], values["attributes"])
    sku = await get_sku(conn, current.sku)
    await audit.record(conn, actor, "update", "sku", sku.sku, version=sku.version, before=current, after=sku)
    return sku


async def _create_by_put(conn: asyncpg.Connection, actor: Principal, body: SkuPut) -> Sku:
    """A PUT that names no SKU creates one: its code and its `product` (required) are checked with the rest."""
    errors: list[FieldError] = []
    try:
        convert_or_raise(body.code, SkuCode, "/sku")
    except ValidationFailed as exc:
        errors += exc.errors
    if body.product is None:
        errors.append(field_error("/product", "required", "`product` is required to create a SKU."))
        raise ValidationFailed(errors)
    owner = await store.lock_product_for_skus(conn, body.product)
    if owner is None:
        errors.append(field_error("/product", "unknown_product", f"No product has the code {body.product!r}."))
        raise ValidationFailed(errors)
    return await _insert(conn, actor, body.code, owner, body, errors)


async def create_sku(conn: asyncpg.Connection, actor: Principal, product: str, body: SkuCreate) -> Sku:
    """Create a SKU of a product; a taken sku code, barcode or set of axes is a 409."""
    async with conn.transaction():
        owner = await store.lock_product_for_skus(conn, product)
        if owner is None:
            raise ProductNotFound(product)
        errors: list[FieldError] = []
        if body.product is not None and body.product != product:
            errors.append(
                field_error(
                    "/product",
                    "product_mismatch",
                    f"This SKU is created under product {product!r}, not {body.product!r}.",
                )
            )
        return await _insert(conn, actor, body.sku, owner, body, errors)


async def _delete(conn: asyncpg.Connection, actor: Principal, locked: LockedSku) -> None:
    await store.delete_sku(conn, locked.id, locked.sku.sku)
    await audit.record(conn, actor, "delete", "sku", locked.sku.sku, version=locked.sku.version, before=locked.sku)


# A PUT that creates gets its code unchecked (`code_type=str`): _create_by_put checks it with the body.
SKUS: Versioned[LockedSku, SkuFields] = Versioned(
    what="SKU",
    fields=SkuFields,
    create_body=SkuPut,
    lock=_lock,
    not_found=SkuNotFound,
    create=_create_by_put,
    update=_update,
    delete=_delete,
    resource=lambda locked: locked.sku,
    code_type=str,
)


async def put_sku(
    conn: asyncpg.Connection, actor: Principal, sku: str, fields: SkuFields, expected: int | None
) -> tuple[Sku, bool]:
    """Idempotent upsert: create the SKU (its `product` is then required), or replace its fields."""
    return await SKUS.put(conn, actor, sku, fields, expected)


async def patch_sku(conn: asyncpg.Connection, actor: Principal, sku: str, patch: SkuPatch, expected: int | None) -> Sku:
    """Apply a JSON merge patch to a SKU; the result is checked like a full body."""
    found: Sku = await SKUS.patch(conn, actor, sku, patch, expected)
    return found


async def delete_sku(conn: asyncpg.Connection, actor: Principal, sku: str, expected: int | None) -> None:
    """Delete a SKU; stock, prices or anything else still referencing it is a 409."""
    await SKUS.remove(conn, actor, sku, expected)
