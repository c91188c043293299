"""Shapes of sales facts: the upload body, its answer and the listed facts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from domain.money import Money
from domain.types import Code, SkuCode

MAX_FACTS = 10_000

Qty = Annotated[int, msgspec.Meta(ge=0, le=2_000_000_000, description="Units sold that day (0 or more).")]


class SalesFact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One day's sales of one SKU in one channel."""

    day: date
    sku: SkuCode
    channel: Annotated[Code, msgspec.Meta(examples=["web", "distribution"])]
    qty: Qty
    revenue: Money


class SalesUpload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/sales (JSON form)."""

    facts: Annotated[list[SalesFact], msgspec.Meta(min_length=1, max_length=MAX_FACTS)]


class SalesResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an upload did: facts accepted, new (day, SKU, channel) rows, and rows it replaced."""

    accepted: int
    inserted: int
    replaced: int


class SalesFactRow(msgspec.Struct, frozen=True, kw_only=True):
    """A stored sales fact."""

    day: date
    sku: str
    channel: str
    qty: int
    revenue: Money
    updated_at: datetime
