"""Warehouses and their locations (bins): use cases, each in its own transaction."""

from __future__ import annotations

import dataclasses

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, StillReferenced, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.versioning import Versioned
from domain.warehouses import store
from domain.warehouses.model import (
    Location,
    LocationCode,
    LocationCreate,
    LocationExists,
    LocationFields,
    LocationNotFound,
    LocationPage,
    LocationPatch,
    LockedLocation,
    LockedWarehouse,
    Warehouse,
    WarehouseCreate,
    WarehouseExists,
    WarehouseFields,
    WarehouseNotFound,
    WarehousePage,
    WarehousePatch,
    location_blocked_detail,
    location_ref,
)

# Warehouses


async def list_warehouses(
    conn: asyncpg.Connection, *, active: bool | None, limit: int, cursor: str | None
) -> WarehousePage:
    """Warehouses in code order, optionally only the active (or inactive) ones."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_warehouses(conn, active, after[0] if after else None, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda w: [w.code])
    return WarehousePage(items=items, next_cursor=next_cursor)


async def get_warehouse(conn: asyncpg.Connection, code: str) -> Warehouse:
    """One warehouse."""
    found = await store.get_warehouse(conn, code)
    if found is None:
        raise WarehouseNotFound(code)
    return found


async def create_warehouse(conn: asyncpg.Connection, actor: Principal, body: WarehouseCreate) -> Warehouse:
    """Create a warehouse; a taken code is a 409."""
    async with conn.transaction():
        created = await store.insert_warehouse(conn, body.code, body)
        if created is None:
            raise WarehouseExists(body.code)
        await audit.record(conn, actor, "create", "warehouse", created.code, version=created.version, after=created)
        return created


async def _update_warehouse(
    conn: asyncpg.Connection, actor: Principal, found: LockedWarehouse, fields: WarehouseFields
) -> Warehouse:
    current = found.warehouse
    updated = await store.update_warehouse(conn, found.id, fields)
    await audit.record(
        conn, actor, "update", "warehouse", updated.code, version=updated.version, before=current, after=updated
    )
    return updated


async def _delete(conn: asyncpg.Connection, actor: Principal, found: LockedWarehouse) -> None:
    code = found.warehouse.code
    blocking = await store.list_warehouse_location_codes(conn, found.id, REFERENCES_SHOWN)
    if blocking:
        raise StillReferenced(
            f"Warehouse {code!r} still has locations ({listed(blocking)}); delete them first, "
            "or deactivate the warehouse (`active: false`).",
            references={"locations": blocking},
        )
    constraint = await store.delete_warehouse(conn, found.id)
    if constraint is not None:
        # Locations are locked out above; this is the net for rows that name the warehouse directly.
        raise StillReferenced(
            f"Warehouse {code!r} is still referenced ({constraint}); deactivate it instead.",
            references={"constraint": constraint},
        )
    current = found.warehouse
    await audit.record(conn, actor, "delete", "warehouse", code, version=current.version, before=current)


WAREHOUSES: Versioned[LockedWarehouse, WarehouseFields] = Versioned(
    what="Warehouse",
    fields=WarehouseFields,
    create_body=WarehouseCreate,
    lock=store.lock_warehouse,
    not_found=WarehouseNotFound,
    create=create_warehouse,
    update=_update_warehouse,
    delete=_delete,
    resource=lambda locked: locked.warehouse,
)
# A delete locks the warehouse against everything that could still come to reference it.
WAREHOUSES_FOR_DELETE = dataclasses.replace(WAREHOUSES, lock=store.lock_warehouse_for_delete)


async def put_warehouse(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: WarehouseFields, expected: int | None
) -> tuple[Warehouse, bool]:
    """Idempotent upsert: create the warehouse, or replace its fields; answers (warehouse, created)."""
    return await WAREHOUSES.put(conn, actor, code, fields, expected)


async def patch_warehouse(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: WarehousePatch, expected: int | None
) -> Warehouse:
    """Apply a JSON merge patch to a warehouse (`{"active": false}` retires it)."""
    changed: Warehouse = await WAREHOUSES.patch(conn, actor, code, patch, expected)
    return changed


async def delete_warehouse(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a warehouse without locations; one that still has some is a 409 naming them."""
    await WAREHOUSES_FOR_DELETE.remove(conn, actor, code, expected)


# Locations


async def list_locations(
    conn: asyncpg.Connection,
    warehouse: str,
    *,
    zone: str | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> LocationPage:
    """A warehouse's locations in walk order (pick sequence, then code)."""
    after = decode_cursor(cursor, (int, str))
    warehouse_id = await store.get_warehouse_id(conn, warehouse)
    if warehouse_id is None:
        raise WarehouseNotFound(warehouse)
    rows = await store.list_locations(
        conn, warehouse_id, zone, active, (after[0], after[1]) if after else None, limit + 1
    )
    items, next_cursor = split_page(rows, limit, lambda loc: [loc.pick_sequence, loc.code])
    return LocationPage(items=items, next_cursor=next_cursor)


async def get_location(conn: asyncpg.Connection, warehouse: str, location: str) -> Location:
    """One location of a warehouse."""
    found = await store.get_location(conn, warehouse, location)
    if found is None:
        if await store.get_warehouse_id(conn, warehouse) is None:
            raise WarehouseNotFound(warehouse)
        raise LocationNotFound(warehouse, location)
    return found


async def _create_location(
    conn: asyncpg.Connection, actor: Principal, warehouse: str, body: LocationCreate
) -> Location:
    # Key-share: the warehouse cannot be deleted under us, yet stays free for ordinary updates.
    warehouse_id = await store.lock_warehouse_key(conn, warehouse)
    if warehouse_id is None:
        raise WarehouseNotFound(warehouse)
    created = await store.insert_location(conn, warehouse_id, body.code, body)
    if created is None:
        raise LocationExists(warehouse, body.code)
    await audit.record(
        conn,
        actor,
        "create",
        "location",
        location_ref(warehouse, created.code),
        version=created.version,
        after=created,
    )
    return created


async def create_location(conn: asyncpg.Connection, actor: Principal, warehouse: str, body: LocationCreate) -> Location:
    """Create a location in a warehouse; a code taken in that warehouse is a 409."""
    async with conn.transaction():
        return await _create_location(conn, actor, warehouse, body)


async def _update_location(
    conn: asyncpg.Connection, actor: Principal, found: LockedLocation, fields: LocationFields
) -> Location:
    current = found.location
    updated = await store.update_location(conn, found.id, fields)
    await audit.record(
        conn,
        actor,
        "update",
        "location",
        location_ref(current.warehouse, current.code),
        version=updated.version,
        before=current,
        after=updated,
    )
    return updated


async def _delete_location(conn: asyncpg.Connection, actor: Principal, found: LockedLocation) -> None:
    current = found.location
    ref = location_ref(current.warehouse, current.code)
    refs = await store.get_location_references(conn, found.id, REFERENCES_SHOWN)
    references = msgspec.to_builtins(refs)
    if refs.stock or refs.ledger:
        raise StillReferenced(location_blocked_detail(ref, refs), references=references)
    constraint = await store.delete_location(conn, found.id)
    if constraint is not None:
        # An empty stock row with no ledger behind it, or a reference added since: still a 409, never a 500.
        raise StillReferenced(
            f"Location {ref!r} is still referenced ({constraint}); deactivate it instead (`active: false`).",
            references={**references, "constraint": constraint},
        )
    await audit.record(conn, actor, "delete", "location", ref, version=current.version, before=current)


def _locations(warehouse: str, *, for_delete: bool = False) -> Versioned[LockedLocation, LocationFields]:
    """PUT, PATCH and DELETE of the locations of one warehouse; messages name a location by its ref
    (`warehouse/location`). When the location is missing, a missing warehouse is a 404 of its own. A delete
    locks the row against concurrent movements (their foreign keys key-share it: they wait or are seen)."""
    lock = store.lock_location_for_delete if for_delete else store.lock_location

    async def locked(conn: asyncpg.Connection, location: str) -> LockedLocation | None:
        found = await lock(conn, warehouse, location)
        if found is None and await store.get_warehouse_id(conn, warehouse) is None:
            raise WarehouseNotFound(warehouse)
        return found

    async def create(conn: asyncpg.Connection, actor: Principal, body: LocationCreate) -> Location:
        return await _create_location(conn, actor, warehouse, body)

    return Versioned(
        what="Location",
        fields=LocationFields,
        create_body=LocationCreate,
        lock=locked,
        not_found=lambda location: LocationNotFound(warehouse, location),
        create=create,
        update=_update_location,
        delete=_delete_location,
        resource=lambda found: found.location,
        code_type=LocationCode,
        named=lambda location: location_ref(warehouse, location),
    )


async def put_location(
    conn: asyncpg.Connection,
    actor: Principal,
    warehouse: str,
    location: str,
    fields: LocationFields,
    expected: int | None,
) -> tuple[Location, bool]:
    """Idempotent upsert: create the location, or replace its fields; answers (location, created)."""
    return await _locations(warehouse).put(conn, actor, location, fields, expected)


async def patch_location(
    conn: asyncpg.Connection,
    actor: Principal,
    warehouse: str,
    location: str,
    patch: LocationPatch,
    expected: int | None,
) -> Location:
    """Apply a JSON merge patch to a location (`{"active": false}` retires it, even while it holds stock)."""
    changed: Location = await _locations(warehouse).patch(conn, actor, location, patch, expected)
    return changed


async def delete_location(
    conn: asyncpg.Connection, actor: Principal, warehouse: str, location: str, expected: int | None
) -> None:
    """Delete an empty, never-used location; one that holds stock or appears in the ledger is a 409 naming
    the SKUs (deactivate it instead)."""
    await _locations(warehouse, for_delete=True).remove(conn, actor, location, expected)
