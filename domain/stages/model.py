"""The attribute application table: stages, the items each reads and requires, and completeness."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from domain.jobs.service import JobRef

Stage = Literal["purchasing", "warehousing", "listing", "marketing", "service", "finance"]
STAGES: tuple[Stage, ...] = ("purchasing", "warehousing", "listing", "marketing", "service", "finance")

# Which role works in which stage: a role reads its own stage's view.
STAGE_ROLE: dict[str, str] = {
    "purchasing": "purchasing",
    "warehousing": "warehouse",
    "listing": "listing",
    "marketing": "marketing",
    "service": "service",
    "finance": "finance",
}

Item = Annotated[
    str,
    msgspec.Meta(
        pattern="^[a-z0-9][a-z0-9_-]{0,63}$",
        description="A built-in field (e.g. `description`, `sale_price`, `barcode`) or an attribute code.",
        examples=["description"],
    ),
]
Items = Annotated[list[Item], msgspec.Meta(max_length=200)]


class NeedsBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /v1/stages/{stage}/needs: what the stage reads, in order, and which of those it requires."""

    reads: Items
    requires: Items = []


class Need(msgspec.Struct, frozen=True, kw_only=True):
    item: str
    kind: Literal["field", "attribute"]
    labels: dict[str, str]
    required: bool
    per_sku: bool


class StageNeeds(msgspec.Struct, frozen=True, kw_only=True):
    stage: Stage
    labels: dict[str, str]
    role: str
    needs: list[Need]
    recompute: JobRef | None = None


class StageOut(msgspec.Struct, frozen=True, kw_only=True):
    code: Stage
    position: int
    labels: dict[str, str]
    role: str
    reads: int
    requires: int


class InformationField(msgspec.Struct, frozen=True, kw_only=True):
    """A built-in item a stage may read; `requirable` ones may be required, `per_sku` ones are per SKU."""

    code: str
    labels: dict[str, str]
    per_sku: bool
    requirable: bool


class StageList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[StageOut]
    fields: list[InformationField]


class Missing(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    item: str
    sku: str | None = None


class StageCompleteness(msgspec.Struct, frozen=True, kw_only=True):
    required: int
    present: int
    ratio: float
    missing: list[Missing]


class Recomputing(msgspec.Struct, frozen=True, kw_only=True):
    """A recompute job covers this product and has not reached it yet: the figures may be stale."""

    job: int
    href: str


class Completeness(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    product: str
    lifecycle: str
    stages: dict[str, StageCompleteness]
    recomputing: Recomputing | None = None


class WorklistItem(msgspec.Struct, frozen=True, kw_only=True):
    product: str
    labels: dict[str, str]
    category: str
    role: str
    lifecycle: str
    stages: dict[str, StageCompleteness]


class CategoryCount(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    labels: dict[str, str]
    incomplete: dict[str, int]


class Worklist(msgspec.Struct, frozen=True, kw_only=True):
    items: list[WorklistItem]
    next_cursor: str | None
    incomplete_by_stage: dict[str, int]
    incomplete_by_category: list[CategoryCount]
    recomputing: list[Recomputing]
