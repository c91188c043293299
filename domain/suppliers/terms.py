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

from decimal import Decimal, InvalidOperation

import asyncpg

from domain.audit import service as audit
from domain.errors import ValidationFailed, field_error, param_error
from domain.keys.model import Principal
from domain.paging import decode_cursor, encode_cursor, split_page
from domain.products.model import ProductNotFound
from domain.suppliers import store
from domain.suppliers.model import (
    LockedTerms,
    ProductSupplier,
    ProductSupplierExists,
    ProductSupplierNotFound,
    ProductSupplierPage,
    RankKey,
    SupplierNotFound,
    TermsCreate,
    TermsFields,
    TermsPatch,
    price_errors,
    ranked,
    ref,
    same_terms,
)
from domain.versioning import Versioned, VersionMismatch, check_version

# ---------------------------------------------------------------------------------------------- reads


async def _product_id(conn: asyncpg.Connection, product: str) -> int:
    product_id = await store.get_product_id(conn, product)
    if product_id is None:
        raise ProductNotFound(product)
    return product_id


async def list_terms(
    conn: asyncpg.Connection, product: str, *, ranked_order: bool, limit: int, cursor: str | None
) -> ProductSupplierPage:
    """A product's supplier terms: in supplier code order, or (`ranked_order`) in sourcing order with each
    entry's rank, reason and tie breaker."""
    product_id = await _product_id(conn, product)
    if not ranked_order:
        after = decode_cursor(cursor, (str,))
        rows = await store.list_terms(conn, product_id, after[0] if after else None, limit + 1)
        items, next_cursor = split_page(rows, limit, lambda t: [t.supplier])
        return ProductSupplierPage(items=items, next_cursor=next_cursor)
    # The cursor: the last entry's sort key, and how many entries the pages before held (for the ranks).
    key = decode_cursor(cursor, (bool, int, str, str, int, str, int))
    after_key: RankKey | None = None
    seen = 0
    if key is not None:
        try:
            price = Decimal(key[3])
        except InvalidOperation:
            raise param_error("cursor", "invalid_cursor", "The cursor is not one this list handed out.") from None
        after_key = RankKey(
            inactive=key[0], tier=key[1], currency=key[2], price=price, lead_time=key[4], supplier=key[5]
        )
        seen = key[6]
    found = await store.list_ranked_terms(conn, product_id, after_key, limit + 1)
    entries = [r.terms for r in found]
    following = entries[limit] if len(entries) > limit else None
    page = ranked(entries[:limit], following, seen + 1)
    next_cursor = None
    if following is not None:
        last = found[limit - 1].key
        next_cursor = encode_cursor(
            [last.inactive, last.tier, last.currency, str(last.price), last.lead_time, last.supplier, seen + limit]
        )
    return ProductSupplierPage(items=page, next_cursor=next_cursor)


async def get_terms(conn: asyncpg.Connection, product: str, supplier: str) -> ProductSupplier:
    """One product's terms with one supplier."""
    found = await store.get_terms(conn, product, supplier)
    if found is None:
        await _product_id(conn, product)
        raise ProductSupplierNotFound(product, supplier)
    return found


# ---------------------------------------------------------------------------------------------- writes


async def _lock_product(conn: asyncpg.Connection, product: str) -> int:
    product_id = await store.lock_product_for_terms(conn, product)
    if product_id is None:
        raise ProductNotFound(product)
    return product_id


async def _unprefer_others(conn: asyncpg.Connection, actor: Principal, product_id: int, supplier_id: int) -> None:
    """Take the preferred flag from the product's other supplier (if any), with its own audit record."""
    for before, after in await store.update_terms_unprefer(conn, product_id, supplier_id):
        await audit.record(
            conn,
            actor,
            "update",
            "product-supplier",
            ref(after.product, after.supplier),
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
    created = await store.insert_terms(conn, product_id, supplier_id, fields)
    if created is None:
        raise ProductSupplierExists(*codes)
    await audit.record(
        conn,
        actor,
        "create",
        "product-supplier",
        ref(created.product, created.supplier),
        version=created.version,
        after=created,
    )
    return created


async def create_terms(conn: asyncpg.Connection, actor: Principal, product: str, body: TermsCreate) -> ProductSupplier:
    """Add a supplier's terms to a product; an unknown supplier is a 422 at `/supplier`, terms the pair has
    already a 409."""
    async with conn.transaction():
        product_id = await _lock_product(conn, product)
        errors = price_errors(body)
        # Key-share: the supplier cannot be deleted under us, yet stays free for ordinary updates.
        supplier_id = await store.lock_supplier_key(conn, body.supplier)
        if supplier_id is None:
            errors.insert(
                0, field_error("/supplier", "unknown_supplier", f"No supplier has the code {body.supplier!r}.")
            )
        if errors or supplier_id is None:
            raise ValidationFailed(errors)
        return await _insert(conn, actor, product_id, supplier_id, (product, body.supplier), body)


async def _update(
    conn: asyncpg.Connection, actor: Principal, locked: LockedTerms, fields: TermsFields
) -> ProductSupplier:
    current = locked.terms
    errors = price_errors(fields)
    if errors:
        raise ValidationFailed(errors)
    if same_terms(current, fields):
        return current
    if fields.preferred and not current.preferred:
        await _unprefer_others(conn, actor, locked.product_id, locked.supplier_id)
    updated = await store.update_terms(conn, locked.product_id, locked.supplier_id, fields)
    await audit.record(
        conn,
        actor,
        "update",
        "product-supplier",
        ref(current.product, current.supplier),
        version=updated.version,
        before=current,
        after=updated,
    )
    return updated


async def _delete(conn: asyncpg.Connection, actor: Principal, locked: LockedTerms) -> None:
    current = locked.terms
    await store.delete_terms(conn, locked.product_id, locked.supplier_id)
    await audit.record(
        conn,
        actor,
        "delete",
        "product-supplier",
        ref(current.product, current.supplier),
        version=current.version,
        before=current,
    )


def _versioned(product: str, product_id: int, supplier: str) -> Versioned[LockedTerms, TermsFields]:
    """PATCH and DELETE of a product's terms with one supplier, the product locked already."""

    async def lock(conn: asyncpg.Connection, _ref: str) -> LockedTerms | None:
        return await store.lock_terms(conn, product_id, supplier)

    def not_found(_ref: str) -> ProductSupplierNotFound:
        return ProductSupplierNotFound(product, supplier)

    return Versioned(
        what="Terms",
        fields=TermsFields,
        create_body=TermsCreate,
        lock=lock,
        not_found=not_found,
        update=_update,
        delete=_delete,
        resource=lambda locked: locked.terms,
    )


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
        locked = await store.lock_terms(conn, product_id, supplier)
        if locked is not None:
            current = locked.terms
            check_version(expected, current.version, f"Terms {ref(current.product, current.supplier)!r}")
            return await _update(conn, actor, locked, fields), False
        # Terms are created by PUT under their supplier's code, which must name a supplier (else a 404).
        supplier_id = await store.lock_supplier_key(conn, supplier)
        if supplier_id is None:
            raise SupplierNotFound(supplier)
        if expected is not None:
            raise VersionMismatch(f"Terms {ref(product, supplier)!r} do not exist.")
        errors = price_errors(fields)
        if errors:
            raise ValidationFailed(errors)
        return await _insert(conn, actor, product_id, supplier_id, (product, supplier), fields), True


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
        terms: ProductSupplier = await _versioned(product, product_id, supplier).patch(
            conn, actor, ref(product, supplier), patch, expected
        )
        return terms


async def delete_terms(
    conn: asyncpg.Connection, actor: Principal, product: str, supplier: str, expected: int | None
) -> None:
    """Remove a supplier's terms from a product."""
    async with conn.transaction():
        product_id = await _lock_product(conn, product)
        await _versioned(product, product_id, supplier).remove(conn, actor, ref(product, supplier), expected)
