"""The only place that runs the warehouses' and locations' statements (sql/queries/warehouses.sql)."""

from __future__ import annotations

import asyncpg
import msgspec

from domain.sql import load
from domain.warehouses.model import (
    Location,
    LocationFields,
    LocationReferences,
    LockedLocation,
    LockedWarehouse,
    Warehouse,
    WarehouseFields,
)

Q = load("warehouses")
LIST_WAREHOUSES = Q.list_warehouses.sql
GET_WAREHOUSE = Q.get_warehouse.sql
GET_WAREHOUSE_ID = Q.get_warehouse_id.sql
LOCK_WAREHOUSE = Q.lock_warehouse.sql
LOCK_WAREHOUSE_FOR_DELETE = Q.lock_warehouse_for_delete.sql
LOCK_WAREHOUSE_KEY = Q.lock_warehouse_key.sql
INSERT_WAREHOUSE = Q.insert_warehouse.sql
UPDATE_WAREHOUSE = Q.update_warehouse.sql
DELETE_WAREHOUSE = Q.delete_warehouse.sql
LIST_WAREHOUSE_LOCATION_CODES = Q.list_warehouse_location_codes.sql
LIST_LOCATIONS = Q.list_locations.sql
GET_LOCATION = Q.get_location.sql
LOCK_LOCATION = Q.lock_location.sql
LOCK_LOCATION_FOR_DELETE = Q.lock_location_for_delete.sql
INSERT_LOCATION = Q.insert_location.sql
UPDATE_LOCATION = Q.update_location.sql
GET_LOCATION_REFERENCES = Q.get_location_references.sql
DELETE_LOCATION = Q.delete_location.sql


def _warehouse(row: asyncpg.Record) -> Warehouse:
    return msgspec.convert({k: row[k] for k in Warehouse.__struct_fields__}, Warehouse)


def _location(row: asyncpg.Record) -> Location:
    return msgspec.convert({k: row[k] for k in Location.__struct_fields__}, Location)


def _locked_warehouse(row: asyncpg.Record | None) -> LockedWarehouse | None:
    return None if row is None else LockedWarehouse(id=row["id"], warehouse=_warehouse(row))


def _locked_location(row: asyncpg.Record | None) -> LockedLocation | None:
    return None if row is None else LockedLocation(id=row["id"], location=_location(row))


async def _delete(conn: asyncpg.Connection, statement: str, id_: int) -> str | None:
    try:
        await conn.execute(statement, id_)
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError) as exc:  # (RESTRICT: 23001)
        return exc.constraint_name or ""
    return None


# Warehouses


async def list_warehouses(
    conn: asyncpg.Connection, active: bool | None, after: str | None, limit: int
) -> list[Warehouse]:
    return [_warehouse(r) for r in await conn.fetch(LIST_WAREHOUSES, active, after, limit)]


async def get_warehouse(conn: asyncpg.Connection, code: str) -> Warehouse | None:
    row = await conn.fetchrow(GET_WAREHOUSE, code)
    return None if row is None else _warehouse(row)


async def get_warehouse_id(conn: asyncpg.Connection, code: str) -> int | None:
    found: int | None = await conn.fetchval(GET_WAREHOUSE_ID, code)
    return found


async def lock_warehouse(conn: asyncpg.Connection, code: str) -> LockedWarehouse | None:
    """The warehouse locked for a change of its fields (movements and new bins are not held up)."""
    return _locked_warehouse(await conn.fetchrow(LOCK_WAREHOUSE, code))


async def lock_warehouse_for_delete(conn: asyncpg.Connection, code: str) -> LockedWarehouse | None:
    """The warehouse locked against everything that could still come to reference it."""
    return _locked_warehouse(await conn.fetchrow(LOCK_WAREHOUSE_FOR_DELETE, code))


async def lock_warehouse_key(conn: asyncpg.Connection, code: str) -> int | None:
    """The warehouse's id, key-share locked: it cannot be deleted before the transaction ends."""
    found: int | None = await conn.fetchval(LOCK_WAREHOUSE_KEY, code)
    return found


async def insert_warehouse(conn: asyncpg.Connection, code: str, fields: WarehouseFields) -> Warehouse | None:
    """The new warehouse; None when the code is taken."""
    row = await conn.fetchrow(INSERT_WAREHOUSE, code, fields.labels, fields.active)
    return None if row is None else _warehouse(row)


async def update_warehouse(conn: asyncpg.Connection, warehouse_id: int, fields: WarehouseFields) -> Warehouse:
    row = await conn.fetchrow(UPDATE_WAREHOUSE, warehouse_id, fields.labels, fields.active)
    assert row is not None, "the warehouse is locked by this transaction"
    return _warehouse(row)


async def delete_warehouse(conn: asyncpg.Connection, warehouse_id: int) -> str | None:
    """None when deleted; else the name of the foreign key that still references the warehouse."""
    return await _delete(conn, DELETE_WAREHOUSE, warehouse_id)


async def list_warehouse_location_codes(conn: asyncpg.Connection, warehouse_id: int, limit: int) -> list[str]:
    return [r["code"] for r in await conn.fetch(LIST_WAREHOUSE_LOCATION_CODES, warehouse_id, limit)]


# Locations


async def list_locations(
    conn: asyncpg.Connection,
    warehouse_id: int,
    zone: str | None,
    active: bool | None,
    after: tuple[int, str] | None,
    limit: int,
) -> list[Location]:
    seq, code = after if after else (None, None)
    return [_location(r) for r in await conn.fetch(LIST_LOCATIONS, warehouse_id, zone, active, seq, code, limit)]


async def get_location(conn: asyncpg.Connection, warehouse: str, location: str) -> Location | None:
    row = await conn.fetchrow(GET_LOCATION, warehouse, location)
    return None if row is None else _location(row)


async def lock_location(conn: asyncpg.Connection, warehouse: str, location: str) -> LockedLocation | None:
    """The location locked for a change of its fields (movements through it are not held up)."""
    return _locked_location(await conn.fetchrow(LOCK_LOCATION, warehouse, location))


async def lock_location_for_delete(conn: asyncpg.Connection, warehouse: str, location: str) -> LockedLocation | None:
    """The location locked so that no movement can start to reference it."""
    return _locked_location(await conn.fetchrow(LOCK_LOCATION_FOR_DELETE, warehouse, location))


async def insert_location(
    conn: asyncpg.Connection, warehouse_id: int, code: str, fields: LocationFields
) -> Location | None:
    """The new location; None when the code is taken in that warehouse."""
    row = await conn.fetchrow(
        INSERT_LOCATION, warehouse_id, code, fields.zone, fields.pick_sequence, fields.active, fields.quarantine
    )
    return None if row is None else _location(row)


async def update_location(conn: asyncpg.Connection, location_id: int, fields: LocationFields) -> Location:
    row = await conn.fetchrow(
        UPDATE_LOCATION, location_id, fields.zone, fields.pick_sequence, fields.active, fields.quarantine
    )
    assert row is not None, "the location is locked by this transaction"
    return _location(row)


async def get_location_references(conn: asyncpg.Connection, location_id: int, limit: int) -> LocationReferences:
    row = await conn.fetchrow(GET_LOCATION_REFERENCES, location_id, limit)
    return LocationReferences(stock=list(row["stock"]), ledger=list(row["ledger"]))


async def delete_location(conn: asyncpg.Connection, location_id: int) -> str | None:
    """None when deleted; else the name of the foreign key that still references the location."""
    return await _delete(conn, DELETE_LOCATION, location_id)
