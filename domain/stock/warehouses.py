"""Warehouses and their locations (库位, bins): codes, walk order (`pick_sequence`), activity.

Retiring a warehouse or a bin is done by deactivating it; deletion is only for one that was never used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NoReturn

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, Conflict, NotFound, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Code, Labels, Page
from domain.versioning import check_version, created_by_put, patched, unchanged

Q = load("warehouses")

BIN_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
LocationCode = Annotated[
    str,
    msgspec.Meta(
        pattern=BIN_PATTERN,
        min_length=1,
        max_length=64,
        description="A bin code, unique within its warehouse: letters, digits, `_`, `.` and `-`.",
        examples=["A-01-03-02"],
    ),
]
Zone = Annotated[
    str,
    msgspec.Meta(
        pattern=BIN_PATTERN,
        min_length=1,
        max_length=64,
        description="The zone a bin belongs to (same characters as bin codes).",
        examples=["A"],
    ),
]
PickSequence = Annotated[
    int,
    msgspec.Meta(ge=0, le=100_000_000, description="The bin's place in the picking walk: lower is visited first."),
]


class WarehouseFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a warehouse (body of PUT)."""

    labels: Labels = {}
    active: bool = True


class WarehouseCreate(WarehouseFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/warehouses."""

    code: Code


class WarehousePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a warehouse: absent fields stay, `null` in `labels` removes a locale."""

    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class Warehouse(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class LocationFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a location (body of PUT)."""

    zone: Zone | None = None
    pick_sequence: PickSequence = 0
    active: bool = True


class LocationCreate(LocationFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/warehouses/{code}/locations."""

    code: LocationCode


class LocationPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a location: absent fields stay, `"zone": null` clears the zone."""

    zone: Zone | msgspec.UnsetType | None = msgspec.UNSET
    pick_sequence: PickSequence | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class Location(msgspec.Struct, frozen=True, kw_only=True):
    warehouse: str
    code: str
    zone: str | None
    pick_sequence: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


def _warehouse(row: asyncpg.Record) -> Warehouse:
    return msgspec.convert({k: row[k] for k in Warehouse.__struct_fields__}, Warehouse)


def _location(row: asyncpg.Record) -> Location:
    return msgspec.convert({k: row[k] for k in Location.__struct_fields__}, Location)


def _warehouse_not_found(code: str) -> NotFound:
    return NotFound(f"No warehouse has the code {code!r}.", code="warehouse-not-found")


def _location_not_found(warehouse: str, location: str) -> NotFound:
    return NotFound(f"Warehouse {warehouse!r} has no location {location!r}.", code="location-not-found")


async def _raise_location_not_found(conn: asyncpg.Connection, warehouse: str, location: str) -> NoReturn:
    if await conn.fetchval(Q.get_warehouse_id.sql, warehouse) is None:
        raise _warehouse_not_found(warehouse)
    raise _location_not_found(warehouse, location)


# Warehouses


async def list_warehouses(
    conn: asyncpg.Connection, *, active: bool | None, limit: int, cursor: str | None
) -> Page[Warehouse]:
    """Warehouses in code order, optionally only the active (or inactive) ones."""
    after = decode_cursor(cursor, (str,))
    rows = await conn.fetch(Q.list_warehouses.sql, active, after[0] if after else None, limit + 1)
    items, next_cursor = split_page([_warehouse(r) for r in rows], limit, lambda w: [w.code])
    return Page(items=items, next_cursor=next_cursor)


async def get_warehouse(conn: asyncpg.Connection, code: str) -> Warehouse:
    """One warehouse."""
    row = await conn.fetchrow(Q.get_warehouse.sql, code)
    if row is None:
        raise _warehouse_not_found(code)
    return _warehouse(row)


async def create_warehouse(conn: asyncpg.Connection, actor: Principal, body: WarehouseCreate) -> Warehouse:
    """Create a warehouse; a taken code is a 409."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.insert_warehouse.sql, body.code, body.labels, body.active)
        if row is None:
            raise Conflict(f"A warehouse with the code {body.code!r} exists already.", code="warehouse-exists")
        created = _warehouse(row)
        await audit.record(conn, actor, "create", "warehouse", created.code, version=created.version, after=created)
        return created


async def _update_warehouse(
    conn: asyncpg.Connection,
    actor: Principal,
    warehouse_id: int,
    current: Warehouse,
    fields: WarehouseFields,
    expected: int | None,
) -> Warehouse:
    check_version(expected, current.version, f"Warehouse {current.code!r}")
    if unchanged(current, fields):
        return current
    row = await conn.fetchrow(Q.update_warehouse.sql, warehouse_id, fields.labels, fields.active)
    updated = _warehouse(row)
    await audit.record(
        conn, actor, "update", "warehouse", updated.code, version=updated.version, before=current, after=updated
    )
    return updated


async def put_warehouse(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: WarehouseFields, expected: int | None
) -> tuple[Warehouse, bool]:
    """Idempotent upsert: create the warehouse, or replace its fields; answers (warehouse, created)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_warehouse.sql, code)
        if row is None:
            body = created_by_put(WarehouseCreate, f"Warehouse {code!r}", code, fields, expected)
            return await create_warehouse(conn, actor, body), True
        return await _update_warehouse(conn, actor, row["id"], _warehouse(row), fields, expected), False


async def patch_warehouse(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: WarehousePatch, expected: int | None
) -> Warehouse:
    """Apply a JSON merge patch to a warehouse (`{"active": false}` retires it)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_warehouse.sql, code)
        if row is None:
            raise _warehouse_not_found(code)
        current = _warehouse(row)
        fields = patched(current, patch, WarehouseFields)
        return await _update_warehouse(conn, actor, row["id"], current, fields, expected)


async def delete_warehouse(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a warehouse without locations; one that still has some is a 409 naming them."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_warehouse_for_delete.sql, code)
        if row is None:
            raise _warehouse_not_found(code)
        current = _warehouse(row)
        check_version(expected, current.version, f"Warehouse {code!r}")
        blocking = [
            r["code"] for r in await conn.fetch(Q.list_warehouse_location_codes.sql, row["id"], REFERENCES_SHOWN)
        ]
        if blocking:
            raise Conflict(
                f"Warehouse {code!r} still has locations ({listed(blocking)}); delete them first, "
                "or deactivate the warehouse (`active: false`).",
                code="still-referenced",
                references={"locations": blocking},
            )
        try:
            await conn.execute(Q.delete_warehouse.sql, row["id"])
        except asyncpg.ForeignKeyViolationError as exc:
            # Locations are locked out above; this is the net for rows that name the warehouse directly.
            raise Conflict(
                f"Warehouse {code!r} is still referenced ({exc.constraint_name}); deactivate it instead.",
                code="still-referenced",
                references={"constraint": exc.constraint_name},
            ) from None
        await audit.record(conn, actor, "delete", "warehouse", code, version=current.version, before=current)


# Locations


async def list_locations(
    conn: asyncpg.Connection,
    warehouse: str,
    *,
    zone: str | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> Page[Location]:
    """A warehouse's locations in walk order (pick sequence, then code)."""
    after = decode_cursor(cursor, (int, str))
    warehouse_id = await conn.fetchval(Q.get_warehouse_id.sql, warehouse)
    if warehouse_id is None:
        raise _warehouse_not_found(warehouse)
    seq, code = after if after else (None, None)
    rows = await conn.fetch(Q.list_locations.sql, warehouse_id, zone, active, seq, code, limit + 1)
    items, next_cursor = split_page([_location(r) for r in rows], limit, lambda loc: [loc.pick_sequence, loc.code])
    return Page(items=items, next_cursor=next_cursor)


async def get_location(conn: asyncpg.Connection, warehouse: str, location: str) -> Location:
    """One location of a warehouse."""
    row = await conn.fetchrow(Q.get_location.sql, warehouse, location)
    if row is None:
        await _raise_location_not_found(conn, warehouse, location)
    return _location(row)


async def _create_location(
    conn: asyncpg.Connection, actor: Principal, warehouse: str, body: LocationCreate
) -> Location:
    # Key-share: the warehouse cannot be deleted under us, yet stays free for ordinary updates.
    warehouse_id = await conn.fetchval(Q.lock_warehouse_key.sql, warehouse)
    if warehouse_id is None:
        raise _warehouse_not_found(warehouse)
    row = await conn.fetchrow(
        Q.insert_location.sql, warehouse_id, body.code, body.zone, body.pick_sequence, body.active
    )
    if row is None:
        raise Conflict(
            f"Warehouse {warehouse!r} has a location {body.code!r} already.",
            code="location-exists",
        )
    created = _location(row)
    await audit.record(
        conn, actor, "create", "location", f"{warehouse}/{created.code}", version=created.version, after=created
    )
    return created


async def create_location(conn: asyncpg.Connection, actor: Principal, warehouse: str, body: LocationCreate) -> Location:
    """Create a location in a warehouse; a code taken in that warehouse is a 409."""
    async with conn.transaction():
        return await _create_location(conn, actor, warehouse, body)


async def _update_location(
    conn: asyncpg.Connection,
    actor: Principal,
    location_id: int,
    current: Location,
    fields: LocationFields,
    expected: int | None,
) -> Location:
    ref = f"{current.warehouse}/{current.code}"
    check_version(expected, current.version, f"Location {ref!r}")
    if unchanged(current, fields):
        return current
    row = await conn.fetchrow(Q.update_location.sql, location_id, fields.zone, fields.pick_sequence, fields.active)
    updated = _location(row)
    await audit.record(conn, actor, "update", "location", ref, version=updated.version, before=current, after=updated)
    return updated


async def put_location(
    conn: asyncpg.Connection,
    actor: Principal,
    warehouse: str,
    location: str,
    fields: LocationFields,
    expected: int | None,
) -> tuple[Location, bool]:
    """Idempotent upsert: create the location, or replace its fields; answers (location, created)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_location.sql, warehouse, location)
        if row is None:
            if await conn.fetchval(Q.get_warehouse_id.sql, warehouse) is None:
                raise _warehouse_not_found(warehouse)
            body = created_by_put(
                LocationCreate, f"Location {warehouse + '/' + location!r}", location, fields, expected, LocationCode
            )
            return await _create_location(conn, actor, warehouse, body), True
        return await _update_location(conn, actor, row["id"], _location(row), fields, expected), False


async def patch_location(
    conn: asyncpg.Connection,
    actor: Principal,
    warehouse: str,
    location: str,
    patch: LocationPatch,
    expected: int | None,
) -> Location:
    """Apply a JSON merge patch to a location (`{"active": false}` retires it, even while it holds stock)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_location.sql, warehouse, location)
        if row is None:
            await _raise_location_not_found(conn, warehouse, location)
        current = _location(row)
        fields = patched(current, patch, LocationFields)
        return await _update_location(conn, actor, row["id"], current, fields, expected)


async def delete_location(
    conn: asyncpg.Connection, actor: Principal, warehouse: str, location: str, expected: int | None
) -> None:
    """Delete an empty, never-used location; one that holds stock or appears in the ledger is a 409 naming
    the SKUs (deactivate it instead)."""
    async with conn.transaction():
        # The row lock makes concurrent movements (their foreign keys key-share this row) wait or be seen.
        row = await conn.fetchrow(Q.lock_location_for_delete.sql, warehouse, location)
        if row is None:
            await _raise_location_not_found(conn, warehouse, location)
        current = _location(row)
        ref = f"{current.warehouse}/{current.code}"
        check_version(expected, current.version, f"Location {ref!r}")
        refs = await conn.fetchrow(Q.get_location_references.sql, row["id"], REFERENCES_SHOWN)
        stock, ledger = list(refs["stock"]), list(refs["ledger"])
        if stock or ledger:
            raise Conflict(
                _blocked_detail(ref, stock, ledger), code="still-referenced", references=_refs(stock, ledger)
            )
        try:
            await conn.execute(Q.delete_location.sql, row["id"])
        except asyncpg.ForeignKeyViolationError as exc:
            # An empty stock row with no ledger behind it, or a reference added since: still a 409, never a 500.
            raise Conflict(
                f"Location {ref!r} is still referenced ({exc.constraint_name}); deactivate it instead "
                "(`active: false`).",
                code="still-referenced",
                references={**_refs(stock, ledger), "constraint": exc.constraint_name},
            ) from None
        await audit.record(conn, actor, "delete", "location", ref, version=current.version, before=current)


def _refs(stock: list[str], ledger: list[str]) -> dict[str, list[str]]:
    return {"stock": stock, "ledger": ledger}


def _blocked_detail(ref: str, stock: list[str], ledger: list[str]) -> str:
    parts = []
    if stock:
        parts.append(f"holds stock of {listed(stock)}")
    if ledger:
        parts.append(f"has stock movements of {listed(ledger)} in the ledger")
    return f"Location {ref!r} {' and '.join(parts)}; it cannot be deleted: deactivate it instead (`active: false`)."
