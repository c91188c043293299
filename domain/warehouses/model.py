"""Warehouses and their locations (库位, bins): shapes, rules and errors.

Retiring a warehouse or a bin is done by deactivating it; deletion is only for one that was never used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from domain.errors import Conflict, NotFound, listed
from domain.types import Code, Labels

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


class WarehousePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of warehouses."""

    items: list[Warehouse]
    next_cursor: str | None


class LockedWarehouse(msgspec.Struct, frozen=True, kw_only=True):
    """A warehouse as its lock reads it: the resource and the id its writes use."""

    id: int
    warehouse: Warehouse


class LocationFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a location (body of PUT)."""

    zone: Zone | None = None
    pick_sequence: PickSequence = 0
    active: bool = True
    quarantine: Annotated[
        bool,
        msgspec.Meta(description="A quarantine bin (returns that cannot be resold): its units are never available."),
    ] = False


class LocationCreate(LocationFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/warehouses/{code}/locations."""

    code: LocationCode


class LocationPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a location: absent fields stay, `"zone": null` clears the zone."""

    zone: Zone | msgspec.UnsetType | None = msgspec.UNSET
    pick_sequence: PickSequence | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    quarantine: bool | msgspec.UnsetType = msgspec.UNSET


class Location(msgspec.Struct, frozen=True, kw_only=True):
    warehouse: str
    code: str
    zone: str | None
    pick_sequence: int
    active: bool
    quarantine: bool
    version: int
    created_at: datetime
    updated_at: datetime


class LocationPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a warehouse's locations."""

    items: list[Location]
    next_cursor: str | None


class LockedLocation(msgspec.Struct, frozen=True, kw_only=True):
    """A location as its lock reads it: the resource and the id its writes use."""

    id: int
    location: Location


class LocationReferences(msgspec.Struct, frozen=True, kw_only=True):
    """What blocks a location's deletion: a few SKUs it holds stock of, a few SKUs of ledger rows naming it."""

    stock: list[str]
    ledger: list[str]


def location_ref(warehouse: str, location: str) -> str:
    """How messages name a location: `warehouse/location`."""
    return f"{warehouse}/{location}"


class WarehouseNotFound(NotFound):
    """No warehouse has the code the request names."""

    code = "warehouse-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No warehouse has the code {code!r}.")


class WarehouseExists(Conflict):
    """A warehouse with the code exists already."""

    code = "warehouse-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"A warehouse with the code {code!r} exists already.")


class LocationNotFound(NotFound):
    """The warehouse the request names has no location with the code it names."""

    code = "location-not-found"

    def __init__(self, warehouse: str, location: str) -> None:
        super().__init__(f"Warehouse {warehouse!r} has no location {location!r}.")


class LocationExists(Conflict):
    """The warehouse has a location with the code already."""

    code = "location-exists"

    def __init__(self, warehouse: str, location: str) -> None:
        super().__init__(f"Warehouse {warehouse!r} has a location {location!r} already.")


def location_blocked_detail(ref: str, refs: LocationReferences) -> str:
    """Why a location that holds stock or appears in the ledger cannot be deleted."""
    parts = []
    if refs.stock:
        parts.append(f"holds stock of {listed(refs.stock)}")
    if refs.ledger:
        parts.append(f"has stock movements of {listed(refs.ledger)} in the ledger")
    return f"Location {ref!r} {' and '.join(parts)}; it cannot be deleted: deactivate it instead (`active: false`)."
