"""SKU prices: effective-dated periods [valid_from, valid_to) per kind and currency — shapes, rules and errors;
and the parsing of moments given as query parameters (promotions take them too)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from domain.errors import Conflict, param_error
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


class Price(msgspec.Struct, frozen=True, kw_only=True):
    """One price period of a SKU; `valid_to` null is open-ended."""

    sku: str
    kind: str
    amount: str
    currency: str
    valid_from: datetime
    valid_to: datetime | None


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


def closes(overlapping: list[StoredPrice], valid_from: datetime) -> StoredPrice | None:
    """The period a new price starting at `valid_from` closes: the only overlapping one, open-ended and begun
    before it. None when the new price overlaps nothing; an overlap it may not close is a PricePeriodOverlap."""
    if not overlapping:
        return None
    current = overlapping[0]
    if len(overlapping) > 1 or current.price.valid_to is not None or current.price.valid_from >= valid_from:
        raise PricePeriodOverlap(current.price.sku, current.price.kind, current.price.currency, current.price)
    return current


# A `+` in a query string arrives as a space when the client did not percent-encode it.
_SPACED_OFFSET = re.compile(r"^(.*T[0-9:.]+) ([0-9]{2}:?[0-9]{2})$")


def parse_moment(value: str | None, parameter: str) -> datetime | None:
    """An RFC 3339 query parameter as a UTC datetime; one without an offset, or unparseable, is a 400."""
    if value is None or value == "":
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
