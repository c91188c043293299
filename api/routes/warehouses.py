"""Warehouses, their locations (bins) and pick lists: /v1/warehouses."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upsert, upserted
from domain.stock import picking
from domain.stock.model import PickList, PickListRequest
from domain.warehouses import service as warehouses
from domain.warehouses.model import (
    Location,
    LocationCode,
    LocationCreate,
    LocationFields,
    LocationPage,
    LocationPatch,
    Warehouse,
    WarehouseCreate,
    WarehouseFields,
    WarehousePage,
    WarehousePatch,
)

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow("warehouse")
PICKERS = allow("warehouse")

ActiveQ = Annotated[
    bool | None,
    QueryParameter(name="active", required=False, description="`true`: only active ones; `false`: only inactive."),
]
ZoneQ = Annotated[
    str | None, QueryParameter(name="zone", required=False, max_length=64, description="Only bins of this zone.")
]


class WarehouseController(Controller):
    path = "/v1/warehouses"
    tags = ["Warehouses"]

    @get("", operation_id="listWarehouses", summary="List warehouses", opt=READERS)
    async def list_warehouses(
        self, conn: Conn, active: ActiveQ = None, limit: LimitQ = 50, cursor: CursorQ = None
    ) -> WarehousePage:
        """Every warehouse, in code order, one keyset page at a time; `?active=` filters."""
        return await warehouses.list_warehouses(conn, active=active, limit=limit, cursor=cursor)

    @post("", operation_id="createWarehouse", summary="Create a warehouse", opt=WRITERS)
    async def create_warehouse(
        self, conn: Conn, principal: Actor, data: JSONBody[WarehouseCreate]
    ) -> Response[Warehouse]:
        """Create a warehouse (active unless `active: false`). A taken code is a 409."""
        created = await warehouses.create_warehouse(conn, principal, data)
        return entity(created, version=created.version, created_at=f"{self.path}/{created.code}")

    @get("/{code:str}", operation_id="getWarehouse", summary="Get a warehouse", opt=READERS)
    async def get_warehouse(
        self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Warehouse]:
        """One warehouse; `If-None-Match` with its ETag answers 304."""
        found = await warehouses.get_warehouse(conn, code)
        return entity(found, version=found.version, if_none_match=if_none_match)

    @put("/{code:str}", operation_id="putWarehouse", summary="Create or replace a warehouse", opt=WRITERS | UPSERT)
    async def put_warehouse(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[WarehouseFields],
        if_match: IfMatch = None,
    ) -> Response[Warehouse]:
        """Idempotent upsert for imports: creates the warehouse (201) or replaces its fields (200)."""
        found, created = await warehouses.put_warehouse(conn, principal, code, data, expected(if_match))
        return upserted(found, version=found.version, created=created, location=f"{self.path}/{found.code}")

    @patch("/{code:str}", operation_id="patchWarehouse", summary="Change a warehouse", opt=WRITERS)
    async def patch_warehouse(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[WarehousePatch],
        if_match: IfMatch = None,
    ) -> Response[Warehouse]:
        """A JSON merge patch (RFC 7396) of the labels and `active`; `{"active": false}` retires a warehouse."""
        changed = await warehouses.patch_warehouse(conn, principal, code, data, expected(if_match))
        return entity(changed, version=changed.version)

    @delete("/{code:str}", operation_id="deleteWarehouse", summary="Delete a warehouse", opt=WRITERS)
    async def delete_warehouse(
        self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None
    ) -> None:
        """Delete a warehouse without locations; one that still has locations is a 409 naming them
        (deactivate it instead)."""
        await warehouses.delete_warehouse(conn, principal, code, expected(if_match))


class LocationController(Controller):
    path = "/v1/warehouses/{code:str}/locations"
    tags = ["Locations"]

    @get("", operation_id="listLocations", summary="List a warehouse's locations", opt=READERS)
    async def list_locations(
        self,
        conn: Conn,
        code: FromPath[str],
        zone: ZoneQ = None,
        active: ActiveQ = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> LocationPage:
        """The warehouse's bins in walk order (`pick_sequence`, then code), one keyset page at a time;
        `?zone=` and `?active=` filter."""
        return await warehouses.list_locations(conn, code, zone=zone, active=active, limit=limit, cursor=cursor)

    @post("", operation_id="createLocation", summary="Create a location", opt=WRITERS)
    async def create_location(
        self, conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[LocationCreate]
    ) -> Response[Location]:
        """Create a bin in the warehouse; its code is unique within the warehouse (a taken one is a 409)."""
        created = await warehouses.create_location(conn, principal, code, data)
        return entity(created, version=created.version, created_at=f"/v1/warehouses/{code}/locations/{created.code}")

    @get("/{location:str}", operation_id="getLocation", summary="Get a location", opt=READERS)
    async def get_location(
        self, conn: Conn, code: FromPath[str], location: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Location]:
        """One bin; `If-None-Match` with its ETag answers 304."""
        found = await warehouses.get_location(conn, code, location)
        return entity(found, version=found.version, if_none_match=if_none_match)

    @put(
        "/{location:str}",
        operation_id="putLocation",
        summary="Create or replace a location",
        opt=WRITERS | upsert(LocationCode),
    )
    async def put_location(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        location: FromPath[str],
        data: JSONBody[LocationFields],
        if_match: IfMatch = None,
    ) -> Response[Location]:
        """Idempotent upsert for imports: creates the bin (201) or replaces its zone, pick sequence and
        `active` (200)."""
        found, created = await warehouses.put_location(conn, principal, code, location, data, expected(if_match))
        return upserted(
            found, version=found.version, created=created, location=f"/v1/warehouses/{code}/locations/{found.code}"
        )

    @patch("/{location:str}", operation_id="patchLocation", summary="Change a location", opt=WRITERS)
    async def patch_location(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        location: FromPath[str],
        data: JSONBody[LocationPatch],
        if_match: IfMatch = None,
    ) -> Response[Location]:
        """A JSON merge patch (RFC 7396); `"zone": null` clears the zone, `{"active": false}` retires the bin
        (allowed while it holds stock: movements to and from it are refused from then on)."""
        changed = await warehouses.patch_location(conn, principal, code, location, data, expected(if_match))
        return entity(changed, version=changed.version)

    @delete("/{location:str}", operation_id="deleteLocation", summary="Delete a location", opt=WRITERS)
    async def delete_location(
        self, conn: Conn, principal: Actor, code: FromPath[str], location: FromPath[str], if_match: IfMatch = None
    ) -> None:
        """Delete an empty, never-used bin; one that holds stock or appears in the stock ledger is a 409
        naming the SKUs (deactivate it instead)."""
        await warehouses.delete_location(conn, principal, code, location, expected(if_match))


class PickListController(Controller):
    path = "/v1/warehouses/{code:str}/pick-lists"
    tags = ["Pick lists"]

    @post("", status_code=200, operation_id="planPickList", summary="Plan a pick list", opt=PICKERS)
    async def plan_pick_list(self, conn: Conn, code: FromPath[str], data: JSONBody[PickListRequest]) -> PickList:
        """For each line, the bins to take from in walk order (`pick_sequence`), split across bins when one
        does not hold enough, counting only available stock (on hand − reserved) unless `include_reserved`;
        a line that cannot be filled says what is missing in `short`. `route` lists every pick in walk
        order. It only plans: nothing is reserved or moved. An inactive warehouse is a 409; inactive bins
        are never proposed."""
        return await picking.plan_pick_list(conn, code, data)
