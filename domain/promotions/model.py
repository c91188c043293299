"""Promotions (活动): a period [starts_at, ends_at) and SKUs with a promotion price — shapes, rules and errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from domain.errors import Conflict, NotFound
from domain.money import Amount, Currency, Money, money
from domain.prices.model import Moment
from domain.types import Code, Labels

# A promotion runs within these years: its report reaches back baseline_days before it starts, which before
# year 1 no date can say (a promotion of 0001-01-01 made GET /v1/reports/promotion-roi a 500).
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)
PROMOTION_YEARS = "A promotion runs between 2000-01-01 and 9000-01-01."
PromotionMoment = Annotated[Moment, msgspec.Meta(extra_json_schema={"pattern": "^[2-8][0-9]{3}-"})]

SkuRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["SCARF-SQ90-RED"])]


class PromotionItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A SKU and its promotion price."""

    sku: SkuRef
    price: Money


class PromotionSpend(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """What a promotion cost (ads, fees, coupons paid …), in the currency of its prices; `channel`: the one
    channel it was spent on (its outcome then counts that channel's sales only)."""

    amount: Amount
    currency: Currency
    channel: Code | None = None


class PromotionSpendPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A merge patch of a promotion's spend: absent fields stay, `"channel": null` removes the channel."""

    amount: Amount | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET
    channel: Code | msgspec.UnsetType | None = msgspec.UNSET


BaselineDays = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=366,
        description="Days right before the promotion whose daily sales make its baseline (default: its own length).",
    ),
]


class PromotionFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a promotion (body of PUT); it runs over [starts_at, ends_at)."""

    labels: Labels = {}
    starts_at: PromotionMoment
    ends_at: PromotionMoment
    active: bool = True
    items: Annotated[list[PromotionItem], msgspec.Meta(max_length=10_000)] = []
    spend: PromotionSpend | None = None
    baseline_days: BaselineDays | None = None


class PromotionCreate(PromotionFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/promotions."""

    code: Code


class PromotionPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a promotion: absent fields stay; `items`, when sent, replaces the whole list."""

    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    starts_at: PromotionMoment | msgspec.UnsetType = msgspec.UNSET
    ends_at: PromotionMoment | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    items: list[PromotionItem] | msgspec.UnsetType = msgspec.UNSET
    spend: PromotionSpendPatch | msgspec.UnsetType | None = msgspec.UNSET
    baseline_days: BaselineDays | msgspec.UnsetType | None = msgspec.UNSET


class Promotion(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    code: str
    labels: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    active: bool
    items: list[PromotionItem]
    spend: PromotionSpend | None = None
    baseline_days: int | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class PromotionPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of promotions."""

    items: list[Promotion]
    next_cursor: str | None


class LockedPromotion(msgspec.Struct, frozen=True, kw_only=True):
    """A promotion locked for a write, with its row id (what its items are written under)."""

    id: int
    promotion: Promotion


def canonical(fields: PromotionFields) -> dict[str, Any]:
    """The fields as they would be stored: moments in UTC, amounts in the currency's precision, items by SKU."""
    items = sorted(
        (PromotionItem(sku=i.sku, price=money(Decimal(i.price.amount), i.price.currency)) for i in fields.items),
        key=lambda i: i.sku,
    )
    stored: dict[str, Any] = msgspec.to_builtins(
        {
            "labels": fields.labels,
            "starts_at": fields.starts_at.astimezone(UTC),
            "ends_at": fields.ends_at.astimezone(UTC),
            "active": fields.active,
            "items": items,
            "spend": None
            if fields.spend is None
            else PromotionSpend(
                amount=money(Decimal(fields.spend.amount), fields.spend.currency).amount,
                currency=fields.spend.currency,
                channel=fields.spend.channel,
            ),
            "baseline_days": fields.baseline_days,
        }
    )
    return stored


class PromotionNotFound(NotFound):
    """No promotion has the code the request names."""

    code = "promotion-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No promotion has the code {code!r}.")


class PromotionExists(Conflict):
    """A promotion with the code exists already."""

    code = "promotion-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"A promotion with the code {code!r} exists already.")
