"""Stock: movements (the ledger) and levels per SKU and bin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from domain.money import Money
from domain.types import Code, SkuCode

MovementType = Literal["receive", "pick", "ship", "transfer", "adjust", "count", "reserve", "release"]
LocationCode = Annotated[
    str, msgspec.Meta(pattern="^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", examples=["A-01-03-02"], description="A bin.")
]
Quantity = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
MAX_BATCH = 1000


class Movement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One stock movement. `qty` is positive; `adjust` is signed (not zero); `count` is the counted
    quantity (the difference is recorded). A transfer names `to_location` (and `to_warehouse` when it
    crosses warehouses); a receive may carry `unit_cost` (feeds the moving-average cost) and `supplier`."""

    type: MovementType
    sku: SkuCode
    qty: Quantity
    warehouse: Code
    location: LocationCode
    to_location: LocationCode | None = None
    to_warehouse: Code | None = None
    unit_cost: Money | None = None
    supplier: Code | None = None
    reference: Note | None = None
    reason: Note | None = None


class MovementRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/stock/movements: one movement (its fields at the top level) or a batch
    (`movements`, at most 1,000), applied all or nothing."""

    movements: list[Movement] | msgspec.UnsetType = msgspec.UNSET
    type: MovementType | msgspec.UnsetType = msgspec.UNSET
    sku: SkuCode | msgspec.UnsetType = msgspec.UNSET
    qty: Quantity | msgspec.UnsetType = msgspec.UNSET
    warehouse: Code | msgspec.UnsetType = msgspec.UNSET
    location: LocationCode | msgspec.UnsetType = msgspec.UNSET
    to_location: LocationCode | msgspec.UnsetType | None = msgspec.UNSET
    to_warehouse: Code | msgspec.UnsetType | None = msgspec.UNSET
    unit_cost: Money | msgspec.UnsetType | None = msgspec.UNSET
    supplier: Code | msgspec.UnsetType | None = msgspec.UNSET
    reference: Note | msgspec.UnsetType | None = msgspec.UNSET
    reason: Note | msgspec.UnsetType | None = msgspec.UNSET


class AppliedMovement(msgspec.Struct, frozen=True, kw_only=True):
    """A line as applied, with the bin's level after it (a transfer also has a `transfer-in` line)."""

    line: int
    type: str
    sku: str
    warehouse: str
    location: str
    qty: int
    on_hand: int
    reserved: int
    available: int


class MovementsResult(msgspec.Struct, frozen=True, kw_only=True):
    request: int
    replayed: bool
    movements: list[AppliedMovement]


class StockLevel(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    warehouse: str
    location: str
    zone: str | None
    on_hand: int
    reserved: int
    available: int
    reorder_point: int | None


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    on_hand: int
    reserved: int
    available: int


class StockAnswer(msgspec.Struct, frozen=True, kw_only=True):
    items: list[StockLevel]
    totals: Totals
    next_cursor: str | None


class LedgerEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: int
    request: int
    line: int
    type: str
    sku: str
    warehouse: str
    location: str
    counterpart_location: str | None = None
    qty: int
    on_hand_delta: int
    reserved_delta: int
    unit_cost: Money | None = None
    supplier: str | None = None
    reference: str | None = None
    reason: str | None = None
    actor: str
    created_at: datetime
