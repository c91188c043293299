"""The only place that runs the suppliers' and their terms' statements (sql/queries/suppliers.sql)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.money import money
from domain.sql import load
from domain.suppliers.model import (
    LockedSupplier,
    LockedTerms,
    ProductSupplier,
    RankedTerms,
    RankKey,
    Supplier,
    SupplierFields,
    TermsFields,
)

Q = load("suppliers")
LIST_SUPPLIERS = Q.list_suppliers.sql
GET_SUPPLIER = Q.get_supplier.sql
LOCK_SUPPLIER = Q.lock_supplier.sql
LOCK_SUPPLIER_FOR_DELETE = Q.lock_supplier_for_delete.sql
LOCK_SUPPLIER_KEY = Q.lock_supplier_key.sql
INSERT_SUPPLIER = Q.insert_supplier.sql
UPDATE_SUPPLIER = Q.update_supplier.sql
DELETE_SUPPLIER = Q.delete_supplier.sql
LIST_SUPPLIER_PRODUCT_CODES = Q.list_supplier_product_codes.sql
GET_PRODUCT_ID = Q.get_product_id.sql
LOCK_PRODUCT_FOR_TERMS = Q.lock_product_for_terms.sql
LIST_TERMS = Q.list_terms.sql
LIST_RANKED_TERMS = Q.list_ranked_terms.sql
GET_TERMS = Q.get_terms.sql
LOCK_TERMS = Q.lock_terms.sql
INSERT_TERMS = Q.insert_terms.sql
UPDATE_TERMS = Q.update_terms.sql
UPDATE_TERMS_UNPREFER = Q.update_terms_unprefer.sql
DELETE_TERMS = Q.delete_terms.sql

# ---------------------------------------------------------------------------------------------- suppliers


def _supplier(row: asyncpg.Record) -> Supplier:
    return msgspec.convert({k: row[k] for k in Supplier.__struct_fields__}, Supplier)


def _locked_supplier(row: asyncpg.Record | None) -> LockedSupplier | None:
    return None if row is None else LockedSupplier(id=row["id"], supplier=_supplier(row))


async def list_suppliers(
    conn: asyncpg.Connection, type: str | None, active: bool | None, after: str | None, limit: int
) -> list[Supplier]:
    return [_supplier(r) for r in await conn.fetch(LIST_SUPPLIERS, type, active, after, limit)]


async def get_supplier(conn: asyncpg.Connection, code: str) -> Supplier | None:
    row = await conn.fetchrow(GET_SUPPLIER, code)
    return None if row is None else _supplier(row)


async def lock_supplier(conn: asyncpg.Connection, code: str) -> LockedSupplier | None:
    return _locked_supplier(await conn.fetchrow(LOCK_SUPPLIER, code))


async def lock_supplier_for_delete(conn: asyncpg.Connection, code: str) -> LockedSupplier | None:
    return _locked_supplier(await conn.fetchrow(LOCK_SUPPLIER_FOR_DELETE, code))


async def lock_supplier_key(conn: asyncpg.Connection, code: str) -> int | None:
    """The supplier's id, key-share locked; None when no supplier has the code."""
    supplier_id = await conn.fetchval(LOCK_SUPPLIER_KEY, code)
    return None if supplier_id is None else int(supplier_id)


async def insert_supplier(conn: asyncpg.Connection, code: str, fields: SupplierFields) -> Supplier | None:
    """The new supplier; None when the code is taken."""
    row = await conn.fetchrow(
        INSERT_SUPPLIER, code, fields.type, fields.labels, msgspec.to_builtins(fields.contacts), fields.active
    )
    return None if row is None else _supplier(row)


async def update_supplier(conn: asyncpg.Connection, supplier_id: int, fields: SupplierFields) -> Supplier:
    row = await conn.fetchrow(
        UPDATE_SUPPLIER, supplier_id, fields.type, fields.labels, msgspec.to_builtins(fields.contacts), fields.active
    )
    return _supplier(row)


async def delete_supplier(conn: asyncpg.Connection, supplier_id: int) -> None:
    await conn.execute(DELETE_SUPPLIER, supplier_id)


async def list_supplier_product_codes(conn: asyncpg.Connection, supplier_id: int, limit: int) -> list[str]:
    return [r["code"] for r in await conn.fetch(LIST_SUPPLIER_PRODUCT_CODES, supplier_id, limit)]


# ---------------------------------------------------------------------------------------------- terms


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


def _terms_args(fields: TermsFields) -> tuple[Any, ...]:
    price = fields.purchase_price
    return Decimal(price.amount), price.currency, fields.moq, fields.lead_time_days, fields.preferred


async def get_product_id(conn: asyncpg.Connection, product: str) -> int | None:
    product_id = await conn.fetchval(GET_PRODUCT_ID, product)
    return None if product_id is None else int(product_id)


async def lock_product_for_terms(conn: asyncpg.Connection, product: str) -> int | None:
    product_id = await conn.fetchval(LOCK_PRODUCT_FOR_TERMS, product)
    return None if product_id is None else int(product_id)


async def list_terms(conn: asyncpg.Connection, product_id: int, after: str | None, limit: int) -> list[ProductSupplier]:
    return [_terms(r) for r in await conn.fetch(LIST_TERMS, product_id, after, limit)]


async def list_ranked_terms(
    conn: asyncpg.Connection, product_id: int, after: RankKey | None, limit: int
) -> list[RankedTerms]:
    key: list[Any] = [None] * 6
    if after is not None:
        key = [after.inactive, after.tier, after.currency, after.price, after.lead_time, after.supplier]
    rows = await conn.fetch(LIST_RANKED_TERMS, product_id, *key, limit)
    return [
        RankedTerms(
            terms=_terms(r),
            key=RankKey(
                inactive=r["k_inactive"],
                tier=r["k_tier"],
                currency=r["k_currency"],
                price=r["k_price"],
                lead_time=r["k_lead_time"],
                supplier=r["supplier"],
            ),
        )
        for r in rows
    ]


async def get_terms(conn: asyncpg.Connection, product: str, supplier: str) -> ProductSupplier | None:
    row = await conn.fetchrow(GET_TERMS, product, supplier)
    return None if row is None else _terms(row)


async def lock_terms(conn: asyncpg.Connection, product_id: int, supplier: str) -> LockedTerms | None:
    row = await conn.fetchrow(LOCK_TERMS, product_id, supplier)
    if row is None:
        return None
    return LockedTerms(product_id=row["product_id"], supplier_id=row["supplier_id"], terms=_terms(row))


async def insert_terms(
    conn: asyncpg.Connection, product_id: int, supplier_id: int, fields: TermsFields
) -> ProductSupplier | None:
    """The new terms; None when the pair has terms already."""
    row = await conn.fetchrow(INSERT_TERMS, product_id, supplier_id, *_terms_args(fields))
    return None if row is None else _terms(row)


async def update_terms(
    conn: asyncpg.Connection, product_id: int, supplier_id: int, fields: TermsFields
) -> ProductSupplier:
    return _terms(await conn.fetchrow(UPDATE_TERMS, product_id, supplier_id, *_terms_args(fields)))


async def update_terms_unprefer(
    conn: asyncpg.Connection, product_id: int, supplier_id: int
) -> list[tuple[ProductSupplier, ProductSupplier]]:
    """The product's other preferred terms (at most one), as they were and as they are now, un-preferred."""
    changed = []
    for row in await conn.fetch(UPDATE_TERMS_UNPREFER, product_id, supplier_id):
        before = _terms({**dict(row), "preferred": True})
        after = msgspec.structs.replace(
            before, preferred=False, version=row["new_version"], updated_at=row["new_updated_at"]
        )
        changed.append((before, after))
    return changed


async def delete_terms(conn: asyncpg.Connection, product_id: int, supplier_id: int) -> None:
    await conn.execute(DELETE_TERMS, product_id, supplier_id)
