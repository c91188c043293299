"""The shapes of prices and promotions, and the parsing of moments given as query parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from domain.errors import param_error
from domain.money import Amount, Currency, Money
from domain.types import Code, Labels

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
SkuRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["SCARF-SQ90-RED"])]


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


class PromotionItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A SKU and its promotion price."""

    sku: SkuRef
    price: Money


class PromotionFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a promotion (body of PUT); it runs over [starts_at, ends_at)."""

    labels: Labels = {}
    starts_at: Moment
    ends_at: Moment
    active: bool = True
    items: Annotated[list[PromotionItem], msgspec.Meta(max_length=10_000)] = []


class PromotionCreate(PromotionFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/promotions."""

    code: Code


class PromotionPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a promotion: absent fields stay; `items`, when sent, replaces the whole list."""

    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    starts_at: Moment | msgspec.UnsetType = msgspec.UNSET
    ends_at: Moment | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    items: list[PromotionItem] | msgspec.UnsetType = msgspec.UNSET


class Promotion(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    active: bool
    items: list[PromotionItem]
    version: int
    created_at: datetime
    updated_at: datetime


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
