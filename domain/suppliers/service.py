"""Suppliers (供应商): a tier (manufacturer > agent > wholesaler > trading company), labels, contacts, activity.

Retiring a supplier is done by deactivating it; deletion is only for one that has no product terms. A
supplier's activity decides whether its terms count for the purchasing stage (the refresh point recomputes the
completeness of every product it supplies when `active` changes).
"""

from __future__ import annotations

import dataclasses

import asyncpg

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, StillReferenced, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.suppliers import store
from domain.suppliers.model import (
    LockedSupplier,
    Supplier,
    SupplierCreate,
    SupplierExists,
    SupplierFields,
    SupplierNotFound,
    SupplierPage,
    SupplierPatch,
)
from domain.versioning import Versioned


async def list_suppliers(
    conn: asyncpg.Connection, *, type: str | None, active: bool | None, limit: int, cursor: str | None
) -> SupplierPage:
    """Suppliers in code order, optionally of one type and only the active (or inactive) ones."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_suppliers(conn, type, active, after[0] if after else None, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda s: [s.code])
    return SupplierPage(items=items, next_cursor=next_cursor)


async def get_supplier(conn: asyncpg.Connection, code: str) -> Supplier:
    """One supplier."""
    supplier = await store.get_supplier(conn, code)
    if supplier is None:
        raise SupplierNotFound(code)
    return supplier


async def create_supplier(conn: asyncpg.Connection, actor: Principal, body: SupplierCreate) -> Supplier:
    """Create a supplier; a taken code is a 409."""
    async with conn.transaction():
        created = await store.insert_supplier(conn, body.code, body)
        if created is None:
            raise SupplierExists(body.code)
        await audit.record(conn, actor, "create", "supplier", created.code, version=created.version, after=created)
        return created


async def _update(
    conn: asyncpg.Connection, actor: Principal, locked: LockedSupplier, fields: SupplierFields
) -> Supplier:
    current = locked.supplier
    updated = await store.update_supplier(conn, locked.id, fields)
    await audit.record(
        conn, actor, "update", "supplier", updated.code, version=updated.version, before=current, after=updated
    )
    return updated


async def _delete(conn: asyncpg.Connection, actor: Principal, locked: LockedSupplier) -> None:
    code = locked.supplier.code
    blocking = await store.list_supplier_product_codes(conn, locked.id, REFERENCES_SHOWN)
    if blocking:
        raise StillReferenced(
            f"Supplier {code!r} still has terms for products ({listed(blocking)}); delete those terms first, "
            "or deactivate the supplier (`active: false`).",
            references={"products": blocking},
        )
    await store.delete_supplier(conn, locked.id)
    current = locked.supplier
    await audit.record(conn, actor, "delete", "supplier", code, version=current.version, before=current)


SUPPLIERS: Versioned[LockedSupplier, SupplierFields] = Versioned(
    what="Supplier",
    fields=SupplierFields,
    create_body=SupplierCreate,
    lock=store.lock_supplier,
    not_found=SupplierNotFound,
    create=create_supplier,
    update=_update,
    delete=_delete,
    resource=lambda locked: locked.supplier,
)
# A delete locks the supplier against terms that would come to reference it (an update lets them be written).
SUPPLIER_DELETES = dataclasses.replace(SUPPLIERS, lock=store.lock_supplier_for_delete)


async def put_supplier(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: SupplierFields, expected: int | None
) -> tuple[Supplier, bool]:
    """Idempotent upsert: create the supplier, or replace its fields; answers (supplier, created)."""
    return await SUPPLIERS.put(conn, actor, code, fields, expected)


async def patch_supplier(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: SupplierPatch, expected: int | None
) -> Supplier:
    """Apply a JSON merge patch to a supplier (`{"active": false}` retires it)."""
    supplier: Supplier = await SUPPLIERS.patch(conn, actor, code, patch, expected)
    return supplier


async def delete_supplier(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a supplier without product terms; one that still has some is a 409 naming the products."""
    await SUPPLIER_DELETES.remove(conn, actor, code, expected)
