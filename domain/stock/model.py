"""Stock: movements (the ledger), levels per SKU and bin, pick lists — shapes, rules and errors.

Longer than 400 lines: the movement types share one body and one set of per-type rules (returns included),
which read best side by side with the refusals the database raises for them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

import msgspec

from domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    IdempotencyKeyReused,
    RuleViolation,
    ValidationFailed,
    pointer_join,
)
from domain.money import Money, money_errors
from domain.types import Code, SkuCode
from domain.warehouses.model import LocationCode

MovementType = Literal["receive", "pick", "ship", "transfer", "adjust", "count", "reserve", "release", "return"]
MOVEMENT_TYPES: tuple[MovementType, ...] = get_args(MovementType)
Condition = Literal["resellable", "not_resellable"]
Quantity = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
MAX_BATCH = 1000
MAX_PICK_LINES = 500
PickQty = Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000, description="Units wanted.")]


class SaleRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The sale a return reverses: the day's sales fact of the SKU on this channel."""

    channel: Code
    day: date


class Movement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One stock movement. `qty` is positive; `adjust` is signed (not zero); `count` is the counted
    quantity (the difference is recorded). A transfer names `to_location` (and `to_warehouse` when it
    crosses warehouses); a receive may carry `unit_cost` (feeds the moving-average cost) and `supplier`.
    A return (售后) brings units back: `return_reason` (GET /v1/return-reasons), `condition` (`resellable`
    into a bin that sells, `not_resellable` into a quarantine bin), and when known the `sale` it reverses
    (that day's fact takes the units back and the `refund` — by default its share of the day's revenue)."""

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
    return_reason: Code | None = None
    condition: Condition | None = None
    sale: SaleRef | None = None
    refund: Money | None = None


class MovementRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/stock/movements: one movement (its fields at the top level) or a batch
    (`movements`, at most 1,000), applied all or nothing."""

    movements: (
        Annotated[list[Movement], msgspec.Meta(extra_json_schema={"minItems": 1, "maxItems": 1000})] | msgspec.UnsetType
    ) = msgspec.UNSET
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
    return_reason: Code | msgspec.UnsetType | None = msgspec.UNSET
    condition: Condition | msgspec.UnsetType | None = msgspec.UNSET
    sale: SaleRef | msgspec.UnsetType | None = msgspec.UNSET
    refund: Money | msgspec.UnsetType | None = msgspec.UNSET


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
    quarantine: bool
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
    return_reason: str | None = None
    condition: str | None = None
    sale: SaleRef | None = None
    refund: Money | None = None
    actor: str
    created_at: datetime


class LedgerPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the stock ledger, newest first."""

    items: list[LedgerEntry]
    next_cursor: str | None


# Pick lists


class PickLineRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: SkuCode
    qty: PickQty


class PickListRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/warehouses/{code}/pick-lists: 1 to 500 lines, each SKU at most once."""

    lines: Annotated[list[PickLineRequest], msgspec.Meta(min_length=1, max_length=MAX_PICK_LINES)]
    include_reserved: bool = False


class Pick(msgspec.Struct, frozen=True, kw_only=True):
    """Take `qty` from this bin."""

    location: str
    zone: str | None
    pick_sequence: int
    qty: int


class PickLine(msgspec.Struct, frozen=True, kw_only=True):
    """One requested line: its picks in walk order and what the warehouse cannot supply (`short`)."""

    sku: str
    qty: int
    picks: list[Pick]
    short: int


class RouteStop(msgspec.Struct, frozen=True, kw_only=True):
    """One pick on the walk: which bin, which SKU, how many."""

    location: str
    zone: str | None
    pick_sequence: int
    sku: str
    qty: int


class PickList(msgspec.Struct, frozen=True, kw_only=True):
    """The plan: per line the bins to take from, and every pick of every line in walk order."""

    warehouse: str
    lines: list[PickLine]
    route: list[RouteStop]
    complete: bool


class PickingWarehouse(msgspec.Struct, frozen=True, kw_only=True):
    """What a pick list needs of its warehouse."""

    id: int
    active: bool


class PickCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """A bin of the warehouse holding a SKU, with how much can be taken from it."""

    sku: str
    location: str
    zone: str | None
    pick_sequence: int
    takeable: int


# Errors. Those of _REFUSALS are raised by the database function that applies movements (merch_apply_requests),
# which makes their messages and context; `refusal` gives them their class.


class InsufficientStock(Conflict):
    """A movement would take a bin's on-hand or available stock below zero; the context says what is where."""

    code = "insufficient-stock"


class InsufficientReservation(Conflict):
    """A release frees more than is reserved in the bin; the context says what is where."""

    code = "insufficient-reservation"


class BinOverfull(Conflict):
    """A movement would bring a bin's count of a SKU past 2,147,483,647 units; the context says what is where."""

    code = "bin-overfull"


class InvalidMovements(RuleViolation):
    """Movements name SKUs, warehouses or bins that do not exist or are inactive, or a transfer to the bin it
    takes from: `errors` names every one."""

    code = "invalid-movements"


class CurrencyMismatch(RuleViolation):
    """A receipt's unit cost is in another currency than the one the SKU is costed in, or a return's refund in
    another currency than the sale it reverses."""

    code = "currency-mismatch"


class ReturnExceedsSale(Conflict):
    """A return names a sale (channel, day) of which fewer units were sold than it and the earlier returns bring
    back, or a refund beyond what the sale took; the context says what was sold and returned."""

    code = "return-exceeds-sale"


class WarehouseInactive(Conflict):
    """A pick list is asked of an inactive warehouse."""

    code = "warehouse-inactive"

    def __init__(self, warehouse: str) -> None:
        super().__init__(f"Warehouse {warehouse!r} is inactive; nothing can be picked from it.")


_REFUSALS: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        InsufficientStock,
        InsufficientReservation,
        BinOverfull,
        InvalidMovements,
        CurrencyMismatch,
        ReturnExceedsSale,
    )
}


def refusal(problem: dict[str, Any]) -> DomainError | None:
    """The error that the database function applying movements raised (as a JSON message: code, detail, maybe
    `errors`, the rest context); None for a code it is not known to raise."""
    problem = dict(problem)
    code, detail = problem.pop("code", None), problem.pop("detail", None)
    if code == IdempotencyKeyReused.code:
        return IdempotencyKeyReused()
    if code not in _REFUSALS or not isinstance(detail, str):
        return None
    errors = [FieldError(pointer=e["pointer"], code=e["code"], message=e["message"]) for e in problem.pop("errors", [])]
    return _REFUSALS[code](detail, errors=errors, **problem)


# Rules


def _line_errors(m: Movement, base: str) -> list[FieldError]:
    """The rules of each movement type that the shape alone does not say."""
    errors: list[FieldError] = []

    def err(field: str, code: str, message: str) -> None:
        errors.append(FieldError(pointer=pointer_join(base, field), code=code, message=message))

    if m.type == "adjust":
        if m.qty == 0:
            err("qty", "zero_quantity", "An adjustment moves at least one unit (negative to remove).")
        if m.reason is None:
            err("reason", "required", "An adjustment needs a reason.")
    elif m.type == "count":
        if m.qty < 0:
            err("qty", "out_of_range", "A count is the quantity counted: zero or more.")
    elif m.qty <= 0:
        err("qty", "out_of_range", f"A {m.type} moves a positive quantity.")
    if m.type == "transfer":
        if m.to_location is None:
            err("to_location", "required", "A transfer names the location it moves to.")
    elif m.to_location is not None or m.to_warehouse is not None:
        err(
            "to_location" if m.to_location is not None else "to_warehouse",
            "not_applicable",
            f"Only a transfer has a destination; this is a {m.type}.",
        )
    if m.unit_cost is not None:
        if m.type != "receive":
            err("unit_cost", "not_applicable", "Only a receipt carries a unit cost.")
        else:
            errors += money_errors(m.unit_cost, pointer_join(base, "unit_cost"), extra_decimals=4)
    if m.supplier is not None and m.type != "receive":
        err("supplier", "not_applicable", "Only a receipt names a supplier.")
    if m.type == "return":
        if m.return_reason is None:
            err("return_reason", "required", "A return needs a reason code (GET /v1/return-reasons).")
        if m.condition is None:
            err("condition", "required", "A return says whether the units can be resold: resellable or not_resellable.")
        if m.refund is not None:
            errors += money_errors(m.refund, pointer_join(base, "refund"))
    else:
        for field in ("return_reason", "condition", "sale", "refund"):
            if getattr(m, field) is not None:
                err(field, "not_applicable", f"Only a return has a {field.replace('_', ' ')}; this is a {m.type}.")
    return errors


def movements_of(body: MovementRequest) -> list[Movement]:
    """The movements a request carries (one at the top level, or a batch), each checked against its type."""
    fields = {k: v for k, v in msgspec.structs.asdict(body).items() if k != "movements" and v is not msgspec.UNSET}
    if body.movements is not msgspec.UNSET:
        if fields:
            first = sorted(fields)[0]
            raise ValidationFailed(
                [
                    FieldError(
                        pointer=f"/{first}",
                        code="not_applicable",
                        message="Send either one movement or `movements`, not both.",
                    )
                ]
            )
        movements = body.movements
        if not movements:
            raise ValidationFailed([FieldError(pointer="/movements", code="too_short", message="No movements.")])
        if len(movements) > MAX_BATCH:
            raise ValidationFailed(
                [
                    FieldError(
                        pointer="/movements",
                        code="too_long",
                        message=f"At most {MAX_BATCH} movements per request; split the batch.",
                    )
                ]
            )
        base = "/movements"
    else:
        missing = [f for f in ("type", "sku", "qty", "warehouse", "location") if f not in fields]
        if missing:
            raise ValidationFailed(
                [FieldError(pointer=f"/{f}", code="required", message=f"`{f}` is required.") for f in missing]
            )
        movements = [msgspec.convert(fields, Movement, from_attributes=False)]
        base = ""
    errors: list[FieldError] = []
    for i, m in enumerate(movements):
        errors += _line_errors(m, pointer_join(base, i) if base else "")
    if errors:
        raise ValidationFailed(errors)
    return movements


def check_pick_lines(skus: list[str], known: set[str]) -> None:
    """Every unknown or repeated SKU of a pick list at once, each at its `/lines/i/sku`."""
    errors: list[FieldError] = []
    first: dict[str, int] = {}
    for i, sku in enumerate(skus):
        pointer = f"/lines/{i}/sku"
        if sku not in known:
            errors.append(FieldError(pointer=pointer, code="unknown_sku", message=f"No SKU is {sku!r}."))
        elif sku in first:
            errors.append(
                FieldError(
                    pointer=pointer, code="duplicate_sku", message=f"SKU {sku!r} is on line {first[sku]} already."
                )
            )
        first.setdefault(sku, i)
    if errors:
        raise ValidationFailed(errors)
