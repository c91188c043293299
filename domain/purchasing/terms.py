"""Product-supplier terms (供应条款): purchase price, minimum order quantity, lead time and the preferred flag.

A product has at most one preferred supplier (the partial unique index product_suppliers_product_id_preferred_key):
making one preferred un-prefers the previous one in the same transaction, and both changes are audited.
Terms writes of one product take turns on the product's row lock.

The ranked list orders suppliers for sourcing: by tier (manufacturer > agent > wholesaler > trading
company), then purchase price, then lead time, then supplier code. Prices are compared only within one
currency: when a product's terms are in several currencies, the order within a tier is by currency code
first, then price. Inactive suppliers come last, in code order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    field_error,
    param_error,
)
from domain.keys.model import Principal
from domain.money import CURRENCIES, Amount, Currency, Money, money, money_errors
from domain.paging import decode_cursor, encode_cursor, split_page
from domain.purchasing.suppliers import TIERS, SupplierType
from domain.sql import load
from domain.types import Code, Page
from domain.versioning import check_version, patched

Q = load("suppliers")

# Purchase prices may carry two more decimals than the currency's minor unit (e.g. 4 for CNY), but never more
# than the 4 the column (numeric(18, 4)) keeps: BHD, with 3, gets one more.
EXTRA_DECIMALS = 2
STORED_DECIMALS = 4

Moq = Annotated[int, msgspec.Meta(ge=1, le=100_000_000, description="Minimum order quantity (at least 1).")]
LeadTimeDays = Annotated[
    int, msgspec.Meta(ge=0, le=3650, description="Days from order to delivery, 0 to 3650.", examples=[14])
]
PURCHASE_PRICE_DOC = (
    "The purchase price: an exact decimal string in an ISO 4217 currency, with at most two more decimals than "
    "the currency has (4 for CNY); never negative."
)


class TermsFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a product's terms with a supplier (body of PUT)."""

    purchase_price: Annotated[Money, msgspec.Meta(description=PURCHASE_PRICE_DOC)]
    moq: Moq = 1
    lead_time_days: LeadTimeDays = 0
    preferred: Annotated[
        bool,
        msgspec.Meta(description="The product's preferred supplier; setting it un-prefers the previous one."),
    ] = False


class TermsCreate(TermsFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/products/{code}/suppliers."""

    supplier: Code


class MoneyPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A merge patch of an amount of money: absent fields stay."""

    amount: Amount | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET


class TermsPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a product's terms with a supplier: absent fields stay."""

    purchase_price: MoneyPatch | msgspec.UnsetType = msgspec.UNSET
    moq: Moq | msgspec.UnsetType = msgspec.UNSET
    lead_time_days: LeadTimeDays | msgspec.UnsetType = msgspec.UNSET
    preferred: bool | msgspec.UnsetType = msgspec.UNSET


class ProductSupplier(msgspec.Struct, frozen=True, kw_only=True):
    """A product's terms with one supplier; in a ranked list also its `rank` (1-based), the `reason` for its
    place and the `tie_breaker`: the criterion that put it before the next one (`active`, `tier`,
    `currency`, `price`, `lead_time` or `code`; null for the last)."""

    product: str
    supplier: str
    supplier_type: SupplierType
    supplier_active: bool
    purchase_price: Money
    moq: int
    lead_time_days: int
    preferred: bool
    version: int
    created_at: datetime
    updated_at: datetime
    # Only in a ranked list (UNSET fields are left out of the JSON).
    rank: int | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType = msgspec.UNSET
    tie_breaker: str | msgspec.UnsetType | None = msgspec.UNSET


def _terms(row: Mapping[str, Any]) -> ProductSupplier:
    return ProductSupplier(
        product=row["product"],
        supplier=row["supplier"],
        supplier_type=row["supplier_type"],
        supplier_active=row["supplier_active"],
        purchase_price=money(row["purchase_price"], row["currency"]),
        moq=row["moq"],
        lead_time_days=row["lead_time_days"],
        preferred=row["preferred"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _same(t: ProductSupplier, fields: TermsFields) -> bool:
    """Whether a write would change nothing (amounts compare as numbers: "38.5" is "38.50")."""
    return (
        Decimal(t.purchase_price.amount) == Decimal(fields.purchase_price.amount)
        and t.purchase_price.currency == fields.purchase_price.currency
        and (t.moq, t.lead_time_days, t.preferred) == (fields.moq, fields.lead_time_days, fields.preferred)
    )


def _ref(product: str, supplier: str) -> str:
    return f"{product}/{supplier}"


def _product_not_found(code: str) -> NotFound:
    return NotFound(f"No product has the code {code!r}.", code="product-not-found")


def _supplier_not_found(code: str) -> NotFound:
    return NotFound(f"No supplier has the code {code!r}.", code="supplier-not-found")


def _terms_not_found(product: str, supplier: str) -> NotFound:
    return NotFound(f"Product {product!r} has no terms with supplier {supplier!r}.", code="product-supplier-not-found")


def _price_errors(fields: TermsFields) -> list[FieldError]:
    minor = CURRENCIES.get(fields.purchase_price.currency, 0)
    extra = min(EXTRA_DECIMALS, STORED_DECIMALS - minor)
    return money_errors(fields.purchase_price, "/purchase_price", extra_decimals=extra)


# ---------------------------------------------------------------------------------------------- ranking


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def reason(t: ProductSupplier) -> str:
    """Why a supplier sits where it does in the ranked list, e.g. "manufacturer; 38.50 CNY; 14 days"."""
    if not t.supplier_active:
        return "inactive"
    price = t.purchase_price
    return f"{t.supplier_type}; {price.amount} {price.currency}; {_days(t.lead_time_days)}"


def _key(t: ProductSupplier) -> tuple[Any, ...]:
    if not t.supplier_active:
        return (True, 0, "", Decimal(0), 0, t.supplier)
    price = t.purchase_price
    return (
        False,
        TIERS.index(t.supplier_type) + 1,
        price.currency,
        Decimal(price.amount),
        t.lead_time_days,
        t.supplier,
    )


_CRITERIA = ("active", "tier", "currency", "price", "lead_time", "code")


def tie_breaker(t: ProductSupplier, following: ProductSupplier | None) -> str | None:
    """The first criterion on which `t` and the entry after it differ (None for the last entry)."""
    if following is None:
        return None
    for name, a, b in zip(_CRITERIA, _key(t), _key(following), strict=True):
        if a != b:
            return name
    return "code"


def ranked(entries: list[ProductSupplier], following: ProductSupplier | None, first_rank: int) -> list[ProductSupplier]:
    """Entries (already in ranked order) with their rank, reason and tie breaker."""
    out = []
    for i, t in enumerate(entries):
        after = entries[i + 1] if i + 1 < len(entries) else following
        out.append(msgspec.structs.replace(t, rank=first_rank + i, reason=reason(t), tie_breaker=tie_breaker(t, after)))
    return out


# ---------------------------------------------------------------------------------------------- reads


async def _product_id(conn: asyncpg.Connection, product: str) -> int:
    product_id = await conn.fetchval(Q.get_product_id.sql, product)
    if product_id is None:
        raise _product_not_found(product)
    return int(product_id)


async def list_terms(
    conn: asyncpg.Connection, product: str, *, ranked_order: bool, limit: int, cursor: str | None
) -> Page[ProductSupplier]:
    """A product's supplier terms: in supplier code order, or (`ranked_order`) in sourcing order with each
    entry's rank, reason and tie breaker."""
    product_id = await _product_id(conn, product)
    if not ranked_order:
        after = decode_cursor(cursor, (str,))
        rows = await conn.fetch(Q.list_terms.sql, product_id, after[0] if after else None, limit + 1)
        items, next_cursor = split_page([_terms(r) for r in rows], limit, lambda t: [t.supplier])
        return Page(items=items, next_cursor=next_cursor)
    key = decode_cursor(cursor, (bool, int, str, str, int, str, int))
    params: list[Any] = [None] * 6 + [0]
    if key is not None:
        try:
            params = [*key[:3], Decimal(key[3]), *key[4:]]
        except InvalidOperation:
            raise param_error("cursor", "invalid_cursor", "The cursor is not one this list handed out.") from None
    rows = await conn.fetch(Q.list_ranked_terms.sql, product_id, *params[:6], limit + 1)
    entries = [_terms(r) for r in rows]
    following = entries[limit] if len(entries) > limit else None
    page = ranked(entries[:limit], following, params[6] + 1)
    next_cursor = None
    if following is not None:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            [
                last["k_inactive"],
                last["k_tier"],
                last["k_currency"],
                str(last["k_price"]),
                last["k_lead_time"],
                last["supplier"],
                params[6] + limit,
            ]
        )
    return Page(items=page, next_cursor=next_cursor)


async def get_terms(conn: asyncpg.Connection, product: str, supplier: str) -> ProductSupplier:
    """One product's terms with one supplier."""
    row = await conn.fetchrow(Q.get_terms.sql, product, supplier)
    if row is None:
        await _product_id(conn, product)
        raise _terms_not_found(product, supplier)
    return _terms(row)


# ---------------------------------------------------------------------------------------------- writes


async def _lock_product(conn: asyncpg.Connection, product: str) -> int:
    product_id = await conn.fetchval(Q.lock_product_for_terms.sql, product)
    if product_id is None:
        raise _product_not_found(product)
    return int(product_id)


async def _unprefer_others(conn: asyncpg.Connection, actor: Principal, product_id: int, supplier_id: int) -> None:
    """Take the preferred flag from the product's other supplier (if any), with its own audit record."""
    for row in await conn.fetch(Q.update_terms_unprefer.sql, product_id, supplier_id):
        before = _terms({**dict(row), "preferred": True})
        after = msgspec.structs.replace(
            before, preferred=False, version=row["new_version"], updated_at=row["new_updated_at"]
        )
        await audit.record(
            conn,
            actor,
            "update",
            "product-supplier",
            _ref(after.product, after.supplier),
            version=after.version,
            before=before,
            after=after,
        )


async def _insert(
    conn: asyncpg.Connection,
    actor: Principal,
    product_id: int,
    supplier_id: int,
    codes: tuple[str, str],
    fields: TermsFields,
) -> ProductSupplier:
    if fields.preferred:
        await _unprefer_others(conn, actor, product_id, supplier_id)
    price = fields.purchase_price
    row = await conn.fetchrow(
        Q.insert_terms.sql,
        product_id,
        supplier_id,
        Decimal(price.amount),
        price.currency,
        fields.moq,
        fields.lead_time_days,
        fields.preferred,
    )
    if row is None:
        raise Conflict(
            f"Product {codes[0]!r} has terms with supplier {codes[1]!r} already; change them with PUT or PATCH.",
            code="product-supplier-exists",
        )
    created = _terms(row)
    await audit.record(
        conn,
        actor,
        "create",
        "product-supplier",
        _ref(created.product, created.supplier),
        version=created.version,
        after=created,
    )
    return created


async def create_terms(conn: asyncpg.Connection, actor: Principal, product: str, body: TermsCreate) -> ProductSupplier:
    """Add a supplier's terms to a product; an unknown supplier is a 422 at `/supplier`, terms the pair has
    already a 409."""
    async with conn.transaction():
        product_id = await _lock_product(conn, product)
        errors = _price_errors(body)
        # Key-share: the supplier cannot be deleted under us, yet stays free for ordinary updates.
        supplier = await conn.fetchrow(Q.lock_supplier_key.sql, body.supplier)
        if supplier is None:
            errors.insert(
                0, field_error("/supplier", "unknown_supplier", f"No supplier has the code {body.supplier!r}.")
            )
        if errors:
            raise ValidationFailed(errors)
        return await _insert(conn, actor, product_id, supplier["id"], (product, body.supplier), body)


async def _update(
    conn: asyncpg.Connection,
    actor: Principal,
    locked: asyncpg.Record,
    fields: TermsFields,
    expected: int | None,
) -> ProductSupplier:
    current = _terms(locked)
    ref = _ref(current.product, current.supplier)
    check_version(expected, current.version, f"Terms {ref!r}")
    errors = _price_errors(fields)
    if errors:
        raise ValidationFailed(errors)
    if _same(current, fields):
        return current
    product_id, supplier_id = locked["product_id"], locked["supplier_id"]
    if fields.preferred and not current.preferred:
        await _unprefer_others(conn, actor, product_id, supplier_id)
    price = fields.purchase_price
    row = await conn.fetchrow(
        Q.update_terms.sql,
        product_id,
        supplier_id,
        Decimal(price.amount),
        price.currency,
        fields.moq,
        fields.lead_time_days,
        fields.preferred,
    )
    updated = _terms(row)
    await audit.record(
        conn, actor, "update", "product-supplier", ref, version=updated.version, before=current, after=updated
    )
    return updated


async def put_terms(
    conn: asyncpg.Connection,
    actor: Principal,
    product: str,
    supplier: str,
    fields: TermsFields,
    expected: int | None,
) -> tuple[ProductSupplier, bool]:
    """Idempotent upsert: create the product's terms with the supplier, or replace them; answers (terms, created)."""
    async with conn.transaction():
        product_id = await _lock_product(conn, product)
        row = await conn.fetchrow(Q.lock_terms.sql, product_id, supplier)
        if row is not None:
            return await _update(conn, actor, row, fields, expected), False
        found = await conn.fetchrow(Q.lock_supplier_key.sql, supplier)
        if found is None:
            raise _supplier_not_found(supplier)
        if expected is not None:
            raise PreconditionFailed(f"Terms {_ref(product, supplier)!r} do not exist.", code="version-mismatch")
        errors = _price_errors(fields)
        if errors:
            raise ValidationFailed(errors)
        return await _insert(conn, actor, product_id, found["id"], (product, supplier), fields), True


async def patch_terms(
    conn: asyncpg.Connection,
    actor: Principal,
    product: str,
    supplier: str,
    patch: TermsPatch,
    expected: int | None,
) -> ProductSupplier:
    """Apply a JSON merge patch to a product's terms with a supplier; the result is checked like a full body."""
    async with conn.transaction():
        product_id = await _lock_product(conn, product)
        row = await conn.fetchrow(Q.lock_terms.sql, product_id, supplier)
        if row is None:
            raise _terms_not_found(product, supplier)
        return await _update(conn, actor, row, patched(_terms(row), patch, TermsFields), expected)


async def delete_terms(
    conn: asyncpg.Connection, actor: Principal, product: str, supplier: str, expected: int | None
) -> None:
    """Remove a supplier's terms from a product."""
    async with conn.transaction():
        product_id = await _lock_product(conn, product)
        row = await conn.fetchrow(Q.lock_terms.sql, product_id, supplier)
        if row is None:
            raise _terms_not_found(product, supplier)
        current = _terms(row)
        ref = _ref(current.product, current.supplier)
        check_version(expected, current.version, f"Terms {ref!r}")
        await conn.execute(Q.delete_terms.sql, row["product_id"], row["supplier_id"])
        await audit.record(conn, actor, "delete", "product-supplier", ref, version=current.version, before=current)
