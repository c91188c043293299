"""Pick lists: which bins to take each line from, in the warehouse's walk order. It only plans: nothing
is reserved or moved, and a line that cannot be filled says how much is missing."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

import asyncpg
import msgspec

from domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from domain.sql import load
from domain.types import SkuCode

Q = load("stock")

MAX_LINES = 500
PickQty = Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000, description="Units wanted.")]


class PickLineRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: SkuCode
    qty: PickQty


class PickListRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/warehouses/{code}/pick-lists: 1 to 500 lines, each SKU at most once."""

    lines: Annotated[list[PickLineRequest], msgspec.Meta(min_length=1, max_length=MAX_LINES)]
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


async def plan_pick_list(conn: asyncpg.Connection, warehouse: str, body: PickListRequest) -> PickList:
    """Plan a pick list: earliest bins in the walk first, a line split across bins when one is not enough,
    only available stock (on hand − reserved) unless `include_reserved`."""
    found = await conn.fetchrow(Q.get_warehouse_for_picking.sql, warehouse)
    if found is None:
        raise NotFound(f"No warehouse has the code {warehouse!r}.", code="warehouse-not-found")
    if not found["active"]:
        raise Conflict(
            f"Warehouse {warehouse!r} is inactive; nothing can be picked from it.", code="warehouse-inactive"
        )
    skus = [line.sku for line in body.lines]
    known = {r["sku"] for r in await conn.fetch(Q.list_known_skus.sql, skus)}
    _check_lines(skus, known)

    bins: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for row in await conn.fetch(Q.list_pick_candidates.sql, found["id"], skus, body.include_reserved):
        bins[row["sku"]].append(row)  # already in walk order per SKU

    lines: list[PickLine] = []
    stops: list[tuple[int, str, int, RouteStop]] = []
    for index, line in enumerate(body.lines):
        wanted = line.qty
        picks: list[Pick] = []
        for row in bins[line.sku]:
            if wanted == 0:
                break
            take = min(wanted, row["takeable"])
            wanted -= take
            picks.append(Pick(location=row["location"], zone=row["zone"], pick_sequence=row["pick_sequence"], qty=take))
            stop = RouteStop(
                location=row["location"], zone=row["zone"], pick_sequence=row["pick_sequence"], sku=line.sku, qty=take
            )
            stops.append((row["pick_sequence"], row["location"], index, stop))
        lines.append(PickLine(sku=line.sku, qty=line.qty, picks=picks, short=wanted))
    # The walk: bins by pick sequence then code; within a bin, lines in request order.
    route = [stop for *_, stop in sorted(stops, key=lambda s: s[:3])]
    return PickList(warehouse=warehouse, lines=lines, route=route, complete=all(line.short == 0 for line in lines))


def _check_lines(skus: list[str], known: set[str]) -> None:
    """Every unknown or repeated SKU at once, each at its `/lines/i/sku`."""
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
