"""The attribute application table: stages, the items each reads and requires, completeness, the product
lifecycle that completeness gates — shapes, pure rules and errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from domain.errors import Conflict, FieldError, Forbidden, NotFound, pointer_join
from domain.jobs.model import JobRef
from domain.products.model import Lifecycle
from domain.types import STAGES, Stage

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


def may_read(roles: frozenset[str], stage: str) -> bool:
    """Whether a key with `roles` may read `stage`'s view of a product: a role reads its own stage's view."""
    return "admin" in roles or STAGE_ROLE[stage] in roles


def recomputing(job: int) -> Recomputing:
    return Recomputing(job=job, href=f"/v1/jobs/{job}")


def covers(scope: str | None, path: str | None) -> bool:
    """Whether a job over `scope` touches products under the category path `path` (None: everywhere)."""
    if scope is None or path is None:
        return True
    return path == scope or path.startswith(scope + ".") or scope.startswith(path + ".")


def stage_completeness(doc: dict[str, Any]) -> StageCompleteness:
    """One stage of a stored completeness document (`missing` entries are `item` or `item sku`)."""
    required, present = int(doc["required"]), int(doc["present"])
    missing = []
    for entry in sorted(doc["missing"]):
        item, _, sku = entry.partition(" ")
        missing.append(Missing(item=item, sku=sku or None))
    ratio = 1.0 if required == 0 else round(present / required, 4)
    return StageCompleteness(required=required, present=present, ratio=ratio, missing=missing)


def stages_of(doc: dict[str, Any], only: list[str] | None = None) -> dict[str, StageCompleteness]:
    """The stages of a completeness document, in flow order (only some of them when `only` names them)."""
    return {s: stage_completeness(doc[s]) for s in STAGES if s in doc and (only is None or s in only)}


def needs_errors(body: NeedsBody, fields: dict[str, InformationField], attributes: set[str]) -> list[FieldError]:
    """Every invalid item of a needs body: unknown or listed twice in `reads`, required but not read, derived."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, item in enumerate(body.reads):
        where = pointer_join("/reads", i)
        if item in seen:
            errors.append(FieldError(pointer=where, code="duplicate_item", message=f"`{item}` is listed twice."))
        elif item not in fields and item not in attributes:
            errors.append(
                FieldError(
                    pointer=where,
                    code="unknown_item",
                    message=f"`{item}` is neither a built-in field nor an attribute.",
                )
            )
        seen.add(item)
    for i, item in enumerate(body.requires):
        where = pointer_join("/requires", i)
        if item not in seen:
            errors.append(
                FieldError(
                    pointer=where, code="not_read", message=f"`{item}` is required but not read; add it to `reads`."
                )
            )
        elif item in fields and not fields[item].requirable:
            errors.append(
                FieldError(
                    pointer=where,
                    code="not_requirable",
                    message=f"`{item}` is derived; a stage can read it but not require it.",
                )
            )
    if len(set(body.requires)) != len(body.requires):
        errors.append(FieldError(pointer="/requires", code="duplicate_item", message="An item is required twice."))
    return errors


# The product lifecycle ------------------------------------------------------------------------------------

# Where a product may go from each state.
MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("sourced",),
    "sourced": ("stocked",),
    "stocked": ("listed",),
    "listed": ("delisted",),
    "delisted": ("listed", "retired"),
    "retired": (),
}
# The stage whose completeness gates entering a state.
GATES: dict[str, str] = {"sourced": "purchasing", "stocked": "warehousing", "listed": "listing"}
# Who may move a product into each state (admin may do all).
MOVERS: dict[str, frozenset[str]] = {
    "sourced": frozenset({"purchasing"}),
    "stocked": frozenset({"warehouse"}),
    "listed": frozenset({"listing"}),
    "delisted": frozenset({"listing", "marketing"}),
    "retired": frozenset({"purchasing", "listing"}),
}


class TransitionBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/products/{code}/transitions."""

    to: Lifecycle


def may_move(roles: frozenset[str], target: str) -> bool:
    """Whether a key with `roles` may move a product into `target`."""
    return "admin" in roles or not roles.isdisjoint(MOVERS.get(target, frozenset()))


def gate_gaps(
    target: str, gaps: list[Missing], stock_received: bool, unpriced: list[str | None]
) -> dict[str, list[dict[str, str]]]:
    """What keeps a product from entering `target`, per stage: the gating stage's missing items (`gaps`),
    stock not received (for `stocked`), SKUs without a sale price in force (for `listed`; None: no SKU)."""
    missing: dict[str, list[dict[str, str]]] = {}
    if target in GATES and gaps:
        missing[GATES[target]] = [msgspec.to_builtins(m) for m in gaps]
    if target == "stocked" and not stock_received:
        missing.setdefault("warehousing", []).append({"item": "stock"})
    if target == "listed":
        listing = missing.setdefault("listing", [])
        for sku in unpriced:
            entry = {"item": "sale_price", **({"sku": sku} if sku else {})}
            if entry not in listing:
                listing.append(entry)
        if not listing:
            del missing["listing"]
    return missing


# Errors ---------------------------------------------------------------------------------------------------


class StageNotFound(NotFound):
    """The stage the request names is not one of the six stages."""

    code = "stage-not-found"

    def __init__(self, stage: str) -> None:
        super().__init__(f"{stage!r} is not a stage; stages are {', '.join(STAGES)}.")


class StageViewForbidden(Forbidden):
    """A key asks for the view of a stage its roles do not work in (admin reads every view)."""

    def __init__(self, stage: str, roles: frozenset[str]) -> None:
        super().__init__(
            f"The {stage} view is for the {STAGE_ROLE[stage]} role; the key has {', '.join(sorted(roles))}."
        )


class TransitionForbidden(Forbidden):
    """A key's roles may not move a product into the lifecycle state the request names."""

    def __init__(self, target: str) -> None:
        allowed = ", ".join(sorted(MOVERS.get(target, frozenset())))
        super().__init__(f"Moving a product to {target} is for the roles {allowed}.")


class InvalidTransition(Conflict):
    """A product cannot go from its lifecycle state to the one the request names: `allowed` lists where it can."""

    code = "invalid-transition"

    def __init__(self, current: str, target: str) -> None:
        allowed = ", ".join(MOVES[current]) or "none"
        super().__init__(
            f"A product cannot go from {current} to {target}; from {current} it can go to: {allowed}.",
            lifecycle=current,
            allowed=list(MOVES[current]),
        )


class GateNotMet(Conflict):
    """A product may not enter a lifecycle state before the stage that works in it is complete (and, for
    `stocked`, stock is received; for `listed`, every SKU has a sale price): `missing` lists what is
    missing per stage."""

    code = "gate-not-met"

    def __init__(self, code: str, target: str, missing: dict[str, list[dict[str, str]]]) -> None:
        summary = "; ".join(
            f"{stage}: {', '.join(m['item'] + (' ' + m['sku'] if 'sku' in m else '') for m in items)}"
            for stage, items in missing.items()
        )
        super().__init__(f"{code} cannot become {target} yet — missing {summary}.", to=target, missing=missing)
