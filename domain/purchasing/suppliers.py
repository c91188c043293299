"""Suppliers (供应商): a tier (manufacturer > agent > wholesaler > trading company), labels, contacts, activity.

Retiring a supplier is done by deactivating it; deletion is only for one that has no product terms. A
supplier's activity decides whether its terms count for the purchasing stage (the refresh point recomputes the
completeness of every product it supplies when `active` changes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, Conflict, NotFound, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Code, Labels, Page
from domain.versioning import check_version, created_by_put, patched, unchanged

Q = load("suppliers")

SupplierType = Literal["manufacturer", "agent", "wholesaler", "trading_company"]
# The preferred order of sourcing, best first.
TIERS: tuple[SupplierType, ...] = ("manufacturer", "agent", "wholesaler", "trading_company")

ContactName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["王丽"])]
Phone = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\+?[0-9][0-9 ()-]{2,39}$",
        max_length=40,
        description="Digits, spaces, `(`, `)`, `-` and a leading `+`.",
        examples=["+86 571 8888 1234"],
    ),
]
Email = Annotated[
    str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254, examples=["sales@silk.example.cn"])
]
ContactRole = Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["sales"])]


class Contact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A person to talk to at the supplier."""

    name: ContactName
    phone: Phone | None = None
    email: Email | None = None
    role: ContactRole | None = None


Contacts = Annotated[list[Contact], msgspec.Meta(max_length=20, description="At most 20 contacts.")]


class SupplierFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a supplier (body of PUT)."""

    type: SupplierType
    labels: Labels = {}
    contacts: Contacts = []
    active: bool = True


class SupplierCreate(SupplierFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/suppliers."""

    code: Code


class SupplierPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a supplier: absent fields stay, `null` in `labels` removes a locale, `contacts`
    is replaced as a whole."""

    type: SupplierType | msgspec.UnsetType = msgspec.UNSET
    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    contacts: Contacts | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class Supplier(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    type: SupplierType
    labels: dict[str, str]
    contacts: list[Contact]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


def _supplier(row: asyncpg.Record) -> Supplier:
    return msgspec.convert({k: row[k] for k in Supplier.__struct_fields__}, Supplier)


def _not_found(code: str) -> NotFound:
    return NotFound(f"No supplier has the code {code!r}.", code="supplier-not-found")


async def list_suppliers(
    conn: asyncpg.Connection, *, type: str | None, active: bool | None, limit: int, cursor: str | None
) -> Page[Supplier]:
    """Suppliers in code order, optionally of one type and only the active (or inactive) ones."""
    after = decode_cursor(cursor, (str,))
    rows = await conn.fetch(Q.list_suppliers.sql, type, active, after[0] if after else None, limit + 1)
    items, next_cursor = split_page([_supplier(r) for r in rows], limit, lambda s: [s.code])
    return Page(items=items, next_cursor=next_cursor)


async def get_supplier(conn: asyncpg.Connection, code: str) -> Supplier:
    """One supplier."""
    row = await conn.fetchrow(Q.get_supplier.sql, code)
    if row is None:
        raise _not_found(code)
    return _supplier(row)


async def create_supplier(conn: asyncpg.Connection, actor: Principal, body: SupplierCreate) -> Supplier:
    """Create a supplier; a taken code is a 409."""
    async with conn.transaction():
        row = await conn.fetchrow(
            Q.insert_supplier.sql,
            body.code,
            body.type,
            body.labels,
            msgspec.to_builtins(body.contacts),
            body.active,
        )
        if row is None:
            raise Conflict(f"A supplier with the code {body.code!r} exists already.", code="supplier-exists")
        created = _supplier(row)
        await audit.record(conn, actor, "create", "supplier", created.code, version=created.version, after=created)
        return created


async def _update(
    conn: asyncpg.Connection,
    actor: Principal,
    supplier_id: int,
    current: Supplier,
    fields: SupplierFields,
    expected: int | None,
) -> Supplier:
    check_version(expected, current.version, f"Supplier {current.code!r}")
    if unchanged(current, fields):
        return current
    row = await conn.fetchrow(
        Q.update_supplier.sql,
        supplier_id,
        fields.type,
        fields.labels,
        msgspec.to_builtins(fields.contacts),
        fields.active,
    )
    updated = _supplier(row)
    await audit.record(
        conn, actor, "update", "supplier", updated.code, version=updated.version, before=current, after=updated
    )
    return updated


async def put_supplier(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: SupplierFields, expected: int | None
) -> tuple[Supplier, bool]:
    """Idempotent upsert: create the supplier, or replace its fields; answers (supplier, created)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_supplier.sql, code)
        if row is None:
            body = created_by_put(SupplierCreate, f"Supplier {code!r}", code, fields, expected)
            return await create_supplier(conn, actor, body), True
        return await _update(conn, actor, row["id"], _supplier(row), fields, expected), False


async def patch_supplier(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: SupplierPatch, expected: int | None
) -> Supplier:
    """Apply a JSON merge patch to a supplier (`{"active": false}` retires it)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_supplier.sql, code)
        if row is None:
            raise _not_found(code)
        current = _supplier(row)
        fields = patched(current, patch, SupplierFields)
        return await _update(conn, actor, row["id"], current, fields, expected)


async def delete_supplier(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a supplier without product terms; one that still has some is a 409 naming the products."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_supplier_for_delete.sql, code)
        if row is None:
            raise _not_found(code)
        current = _supplier(row)
        check_version(expected, current.version, f"Supplier {code!r}")
        blocking = [r["code"] for r in await conn.fetch(Q.list_supplier_product_codes.sql, row["id"], REFERENCES_SHOWN)]
        if blocking:
            raise Conflict(
                f"Supplier {code!r} still has terms for products ({listed(blocking)}); delete those terms first, "
                "or deactivate the supplier (`active: false`).",
                code="still-referenced",
                references={"products": blocking},
            )
        await conn.execute(Q.delete_supplier.sql, row["id"])
        await audit.record(conn, actor, "delete", "supplier", code, version=current.version, before=current)
