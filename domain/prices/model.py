"""SKU prices: effective-dated periods [valid_from, valid_to) per kind and currency — shapes, rules and errors;
when a recorded price starts (never in the past) and what a correction of past periods changes; and the
parsing of moments given as query parameters (promotions take them too)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from domain.errors import Conflict, RuleViolation, param_error
from domain.keys.model import Principal
from domain.money import Amount, Currency

PriceKind = Literal["sale", "distribution", "cost"]
PRICE_KINDS: tuple[PriceKind, ...] = ("sale", "distribution", "cost")
# Cost and distribution prices are for these roles only; sale prices for every internal role.
CONFIDENTIAL_KINDS = frozenset({"cost", "distribution"})

Moment = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="An RFC 3339 moment with its offset (any offset is accepted; answers are in UTC).",
        examples=["2025-03-01T00:00:00+08:00"],
    ),
]


class PriceCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/skus/{sku}/prices: a price in force over [valid_from, valid_to)."""

    kind: PriceKind
    amount: Amount
    currency: Currency
    valid_from: Moment | None = None
    valid_to: Moment | None = None


Reason = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=500,
        description="Why the past is changed: kept with the correction and in the audit trail.",
        examples=["Supplier invoice 2026-118: the cost was 40.00 from March 1"],
    ),
]


class PriceCorrectionCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/skus/{sku}/prices/corrections: the price of one kind and currency over
    [valid_from, valid_to) (`valid_to` null: from then on) is `amount` — or, with `amount` null, there is no
    price then — whatever was recorded there before."""

    kind: PriceKind
    currency: Currency
    amount: Amount | None
    valid_from: Moment
    valid_to: Moment | None
    reason: Reason


class CorrectionRef(msgspec.Struct, frozen=True, kw_only=True):
    """The correction that last set a period's bounds or amount."""

    id: int
    at: datetime
    actor: str
    reason: str


class Price(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One price period of a SKU; `valid_to` null is open-ended. In the history, `correction` names the
    correction that last set the period's bounds or amount (absent: as recorded)."""

    sku: str
    kind: str
    amount: str
    currency: str
    valid_from: datetime
    valid_to: datetime | None
    correction: CorrectionRef | None = None


class PriceCorrection(msgspec.Struct, frozen=True, kw_only=True):
    """A correction of a SKU's price periods of one kind and currency: the range it set, to what (`amount`
    null: no price), why, who and when, and the periods it touched before and after. `id` null: the periods
    already said so — nothing was changed or recorded."""

    id: int | None
    sku: str
    kind: str
    currency: str
    amount: str | None
    valid_from: datetime
    valid_to: datetime | None
    reason: str
    actor: str
    at: datetime
    before: list[Price]
    after: list[Price]


class PriceCorrectionPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a SKU's price corrections, newest first."""

    items: list[PriceCorrection]
    next_cursor: str | None


class PricePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a SKU's prices."""

    items: list[Price]
    next_cursor: str | None


class StoredPrice(msgspec.Struct, frozen=True, kw_only=True):
    """A price period with its row id (the key of a cursor, or the row a new price closes)."""

    id: int
    price: Price


class LockedSku(msgspec.Struct, frozen=True, kw_only=True):
    """A SKU locked for a price write, with the transaction's now() (the default start of a new price)."""

    id: int
    now: datetime


def visible_kinds(principal: Principal) -> list[str]:
    """The price kinds a principal may read: sale for every internal role, all for the confidential readers."""
    if not principal.sees_confidential:
        return [k for k in PRICE_KINDS if k not in CONFIDENTIAL_KINDS]
    return list(PRICE_KINDS)


# A price recorded (POST) with a valid_from at most this long before now counts as starting now (it starts at
# the moment the server records it): clients whose clocks run a little behind are not refused.
NOW_TOLERANCE = timedelta(minutes=1)


def starts_at(valid_from: datetime | None, now: datetime, sku: str, kind: str) -> datetime:
    """When a recorded price starts: `valid_from`, or now when it is not given or within NOW_TOLERANCE before
    now; earlier is a PriceStartsInThePast — recording a price never changes the past."""
    if valid_from is None or now - NOW_TOLERANCE <= valid_from < now:
        return now
    if valid_from < now:
        raise PriceStartsInThePast(sku, kind, valid_from, now)
    return valid_from


def closes(overlapping: list[StoredPrice], valid_from: datetime) -> StoredPrice | None:
    """The period a new price starting at `valid_from` closes: the only overlapping one, open-ended and begun
    before it. None when the new price overlaps nothing; an overlap it may not close is a PricePeriodOverlap."""
    if not overlapping:
        return None
    current = overlapping[0]
    if len(overlapping) > 1 or current.price.valid_to is not None or current.price.valid_from >= valid_from:
        raise PricePeriodOverlap(current.price.sku, current.price.kind, current.price.currency, current.price)
    return current


class CorrectionPlan(msgspec.Struct, frozen=True, kw_only=True):
    """The writes of a correction: periods removed (ids), periods cut to new bounds (id, from, to) and periods
    inserted (from, to, amount) — in this order, so that no two periods ever overlap on the way."""

    removed: list[int]
    cut: list[tuple[int, datetime, datetime | None]]
    inserted: list[tuple[datetime, datetime | None, str]]


def _covers(overlapping: list[StoredPrice], start: datetime, end: datetime | None, amount: str) -> bool:
    """True when the periods, earliest first, cover [start, end) without a gap, all at `amount`."""
    reached: datetime | None = start
    for p in overlapping:
        if Decimal(p.price.amount) != Decimal(amount) or reached is None or p.price.valid_from > reached:
            return False
        reached = p.price.valid_to
        if reached is None or (end is not None and reached >= end):
            return True
    return False


def plan_correction(
    overlapping: list[StoredPrice], start: datetime, end: datetime | None, amount: str | None
) -> CorrectionPlan | None:
    """What setting [start, end) to `amount` (None: no price) does to the periods overlapping it (earliest
    first): a period inside the range goes, one that sticks out on one side is cut back to the outside, one
    that sticks out on both sides is cut before the range and its rest after the range recorded anew; then
    the range's own period. None when the periods say so already."""
    if (amount is None and not overlapping) or (amount is not None and _covers(overlapping, start, end, amount)):
        return None
    removed: list[int] = []
    cut: list[tuple[int, datetime, datetime | None]] = []
    inserted: list[tuple[datetime, datetime | None, str]] = []
    for p in overlapping:
        begins_before = p.price.valid_from < start
        ends_after = end is not None and (p.price.valid_to is None or p.price.valid_to > end)
        if begins_before:
            cut.append((p.id, p.price.valid_from, start))
            if ends_after:
                assert end is not None
                inserted.append((end, p.price.valid_to, p.price.amount))
        elif ends_after:
            assert end is not None
            cut.append((p.id, end, p.price.valid_to))
        else:
            removed.append(p.id)
    if amount is not None:
        inserted.append((start, end, amount))
    return CorrectionPlan(removed=removed, cut=cut, inserted=sorted(inserted, key=lambda x: x[0]))


# A `+` in a query string arrives as a space when the client did not percent-encode it.
_SPACED_OFFSET = re.compile(r"^(.*T[0-9:.]+) ([0-9]{2}:?[0-9]{2})$")


def parse_moment(value: str | None, parameter: str) -> datetime | None:
    """An RFC 3339 query parameter as a UTC datetime; one without an offset, unparseable or empty, is a 400."""
    if value is None:
        return None
    spaced = _SPACED_OFFSET.match(value)
    text = f"{spaced.group(1)}+{spaced.group(2)}" if spaced else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in text.upper():
        raise param_error(
            parameter,
            "invalid_moment",
            f"`{parameter}` must be an RFC 3339 moment with an offset, e.g. 2025-03-01T00:00:00+08:00.",
        )
    return moment.astimezone(UTC)


class PriceStartsInThePast(RuleViolation):
    """A recorded price would start before now (more than a minute ago): recording a price never changes
    the past — `POST /v1/skus/{sku}/prices/corrections` does, with a reason (`context.correction`)."""

    code = "price-starts-in-the-past"

    def __init__(self, sku: str, kind: str, valid_from: datetime, now: datetime) -> None:
        correction = f"/v1/skus/{sku}/prices/corrections"
        super().__init__(
            f"The {kind} price of SKU {sku!r} would start at {valid_from.astimezone(UTC).isoformat()}, before now "
            f"({now.astimezone(UTC).isoformat()}): a new price starts now or later. To change the prices of the "
            f"past, POST a correction with a reason to {correction}.",
            valid_from=valid_from.astimezone(UTC),
            now=now.astimezone(UTC),
            correction=correction,
        )


class PricePeriodOverlap(Conflict):
    """A new price overlaps a period of its SKU, kind and currency other than the open-ended current one it
    starts inside (`existing` names the period when it is known)."""

    code = "price-period-overlap"

    def __init__(self, sku: str, kind: str, currency: str, existing: Price | None) -> None:
        context: dict[str, Any] = {"existing": existing} if existing is not None else {}
        where = (
            f"[{existing.valid_from.isoformat()}, {existing.valid_to.isoformat() if existing.valid_to else 'open'})"
            if existing is not None
            else "another period"
        )
        super().__init__(
            f"The new {kind} price of SKU {sku!r} in {currency} overlaps the period {where}; "
            "only a price that starts inside the open-ended current period may close it.",
            **context,
        )
