"""SKUs: the sellable variants of a product, told apart by their axes (colour, size …), with a GTIN barcode.

Axes and attribute overrides are checked against the effective attribute set of the product's home
category. Locks are taken product first, then SKU, everywhere (the product delete does the same).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
import msgspec

from domain.attributes.values import validate_values
from domain.audit import service as audit
from domain.catalog import gtin
from domain.catalog.products import AttributeValues, effective_attributes, still_referenced
from domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    field_error,
)
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Code, Page, SkuCode
from domain.validation import convert_or_raise
from domain.versioning import check_version, patched, writable

Q = load("skus")

Barcode = Annotated[
    str,
    msgspec.Meta(
        max_length=14,
        description="A GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14 with a valid mod-10 check digit; unique.",
        examples=["4006381333931"],
    ),
]


class SkuFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a SKU (body of PUT). `product` is required when PUT creates and fixed after."""

    product: Code | None = None
    barcode: Barcode | None = None
    axes: AttributeValues = {}
    attributes: AttributeValues = {}


class SkuCreate(SkuFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/products/{code}/skus (`product`, if sent, must be the product of the path)."""

    sku: SkuCode


class SkuPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a SKU: `null` removes the barcode, or one axis or override."""

    product: Code | msgspec.UnsetType | None = msgspec.UNSET
    barcode: Barcode | msgspec.UnsetType | None = msgspec.UNSET
    axes: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET
    attributes: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET


class Sku(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    product: str
    barcode: str | None
    axes: dict[str, Any]
    attributes: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


def _sku(row: asyncpg.Record) -> Sku:
    return msgspec.convert(dict(row), Sku)


def _not_found(sku: str) -> NotFound:
    return NotFound(f"No SKU has the code {sku!r}.", code="sku-not-found")


def _product_not_found(code: str) -> NotFound:
    return NotFound(f"No product has the code {code!r}.", code="product-not-found")


async def _checked(
    conn: asyncpg.Connection, product: asyncpg.Record, fields: SkuFields, errors: list[FieldError]
) -> dict[str, Any]:
    """The normalised writable fields, or one 422 with every invalid field (plus `errors` found before)."""
    if fields.barcode is not None and (problem := gtin.problem(fields.barcode)) is not None:
        errors.append(field_error("/barcode", *problem))
    defs = await effective_attributes(conn, product["category_id"])
    axes, axis_errors = validate_values(fields.axes, defs, "/axes")
    attributes, attribute_errors = validate_values(fields.attributes, defs, "/attributes")
    errors += axis_errors + attribute_errors
    if errors:
        raise ValidationFailed(errors)
    return {"product": product["code"], "barcode": fields.barcode, "axes": axes, "attributes": attributes}


async def _check_unique(conn: asyncpg.Connection, sku: str, product: asyncpg.Record, values: dict[str, Any]) -> None:
    """A barcode another SKU has, or axes another SKU of the product has, is a 409 naming that SKU."""
    if values["barcode"] is not None:
        holder = await conn.fetchval(Q.get_sku_by_barcode.sql, values["barcode"], sku)
        if holder is not None:
            raise Conflict(
                f"The barcode {values['barcode']} belongs to SKU {holder!r} already.",
                code="barcode-taken",
                sku=holder,
            )
    twin = await conn.fetchval(Q.get_sku_by_axes.sql, product["id"], values["axes"], sku)
    if twin is not None:
        raise Conflict(
            f"SKU {twin!r} of product {product['code']!r} has the same axes already; SKUs of a product "
            "differ on their axes.",
            code="duplicate-axes",
            sku=twin,
            axes=values["axes"],
        )


def _unique_conflict(exc: asyncpg.UniqueViolationError, sku: str) -> Conflict:
    # The checks above name the other SKU; this is the net for a concurrent writer they could not see.
    constraint = getattr(exc, "constraint_name", None)
    if constraint == "skus_barcode_key":
        return Conflict("The barcode was just given to another SKU.", code="barcode-taken")
    if constraint == "skus_product_id_axes_key":
        return Conflict("Another SKU of the product was just given the same axes.", code="duplicate-axes")
    return Conflict(f"A SKU with the code {sku!r} exists already.", code="sku-exists")


async def _read(conn: asyncpg.Connection, sku: str) -> Sku:
    row = await conn.fetchrow(Q.get_sku.sql, sku)
    if row is None:
        raise _not_found(sku)
    return _sku(row)


async def _insert(
    conn: asyncpg.Connection,
    actor: Principal,
    sku: str,
    product: asyncpg.Record,
    fields: SkuFields,
    errors: list[FieldError],
) -> Sku:
    values = await _checked(conn, product, fields, errors)
    if await conn.fetchval(Q.get_sku.sql, sku) is not None:
        raise Conflict(f"A SKU with the code {sku!r} exists already.", code="sku-exists")
    await _check_unique(conn, sku, product, values)
    try:
        sku_id = await conn.fetchval(
            Q.insert_sku.sql, sku, product["id"], values["barcode"], values["axes"], values["attributes"]
        )
    except asyncpg.UniqueViolationError as exc:
        raise _unique_conflict(exc, sku) from None
    if sku_id is None:
        raise Conflict(f"A SKU with the code {sku!r} exists already.", code="sku-exists")
    created = await _read(conn, sku)
    await audit.record(conn, actor, "create", "sku", sku, version=created.version, after=created)
    return created


async def _update(
    conn: asyncpg.Connection,
    actor: Principal,
    product: asyncpg.Record,
    row: asyncpg.Record,
    fields: SkuFields,
    expected: int | None,
) -> Sku:
    current = _sku(row)
    check_version(expected, current.version, f"SKU {current.sku!r}")
    if fields.product is not None and fields.product != current.product:
        raise Conflict(
            f"SKU {current.sku!r} belongs to product {current.product!r}; it cannot move to {fields.product!r}.",
            code="sku-product-fixed",
            product=current.product,
        )
    values = await _checked(conn, product, fields, [])
    if values == writable(current, SkuFields):
        return current
    await _check_unique(conn, current.sku, product, values)
    try:
        await conn.execute(Q.update_sku.sql, row["id"], values["barcode"], values["axes"], values["attributes"])
    except asyncpg.UniqueViolationError as exc:
        raise _unique_conflict(exc, current.sku) from None
    sku = await _read(conn, current.sku)
    await audit.record(conn, actor, "update", "sku", sku.sku, version=sku.version, before=current, after=sku)
    return sku


async def _lock(conn: asyncpg.Connection, sku: str) -> tuple[asyncpg.Record, asyncpg.Record] | None:
    """The SKU's product (share-locked), then the SKU (locked for update); None when there is no such SKU."""
    product = await conn.fetchrow(Q.lock_sku_product.sql, sku)
    if product is None:
        return None
    row = await conn.fetchrow(Q.lock_sku.sql, sku)
    if row is None:
        return None
    return product, row


# ---------------------------------------------------------------------------------------------- reads


async def list_skus(conn: asyncpg.Connection, product: str, *, limit: int, cursor: str | None) -> Page[Sku]:
    """The SKUs of one product in sku order."""
    after = decode_cursor(cursor, (str,))
    product_id = await conn.fetchval(Q.get_product_id.sql, product)
    if product_id is None:
        raise _product_not_found(product)
    rows = await conn.fetch(Q.list_product_skus.sql, product_id, after[0] if after else None, limit + 1)
    items, next_cursor = split_page([_sku(r) for r in rows], limit, lambda s: [s.sku])
    return Page(items=items, next_cursor=next_cursor)


async def get_sku(conn: asyncpg.Connection, sku: str) -> Sku:
    """One SKU."""
    return await _read(conn, sku)


# --------------------------------------------------------------------------------------------- writes


async def create_sku(conn: asyncpg.Connection, actor: Principal, product: str, body: SkuCreate) -> Sku:
    """Create a SKU of a product; a taken sku code, barcode or set of axes is a 409."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_product_for_skus.sql, product)
        if row is None:
            raise _product_not_found(product)
        errors: list[FieldError] = []
        if body.product is not None and body.product != product:
            errors.append(
                field_error(
                    "/product",
                    "product_mismatch",
                    f"This SKU is created under product {product!r}, not {body.product!r}.",
                )
            )
        return await _insert(conn, actor, body.sku, row, body, errors)


async def put_sku(
    conn: asyncpg.Connection, actor: Principal, sku: str, fields: SkuFields, expected: int | None
) -> tuple[Sku, bool]:
    """Idempotent upsert: create the SKU (its `product` is then required), or replace its fields."""
    async with conn.transaction():
        locked = await _lock(conn, sku)
        if locked is not None:
            return await _update(conn, actor, *locked, fields, expected), False
        if expected is not None:
            raise PreconditionFailed(f"SKU {sku!r} does not exist.", code="version-mismatch")
        errors: list[FieldError] = []
        try:
            convert_or_raise(sku, SkuCode, "/sku")
        except ValidationFailed as exc:
            errors += exc.errors
        if fields.product is None:
            errors.append(field_error("/product", "required", "`product` is required to create a SKU."))
            raise ValidationFailed(errors)
        product = await conn.fetchrow(Q.lock_product_for_skus.sql, fields.product)
        if product is None:
            errors.append(field_error("/product", "unknown_product", f"No product has the code {fields.product!r}."))
            raise ValidationFailed(errors)
        return await _insert(conn, actor, sku, product, fields, errors), True


async def patch_sku(conn: asyncpg.Connection, actor: Principal, sku: str, patch: SkuPatch, expected: int | None) -> Sku:
    """Apply a JSON merge patch to a SKU; the result is checked like a full body."""
    async with conn.transaction():
        locked = await _lock(conn, sku)
        if locked is None:
            raise _not_found(sku)
        product, row = locked
        return await _update(conn, actor, product, row, patched(_sku(row), patch, SkuFields), expected)


async def delete_sku(conn: asyncpg.Connection, actor: Principal, sku: str, expected: int | None) -> None:
    """Delete a SKU; stock, prices or anything else still referencing it is a 409."""
    async with conn.transaction():
        locked = await _lock(conn, sku)
        if locked is None:
            raise _not_found(sku)
        current = _sku(locked[1])
        check_version(expected, current.version, f"SKU {sku!r}")
        try:
            await conn.execute(Q.delete_sku.sql, locked[1]["id"])
        except asyncpg.ForeignKeyViolationError as exc:
            raise still_referenced(f"SKU {sku!r}", exc) from None
        await audit.record(conn, actor, "delete", "sku", sku, version=current.version, before=current)
