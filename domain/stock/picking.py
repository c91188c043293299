"""Pick lists: which bins to take each line from, in the warehouse's walk order. It only plans: nothing
is reserved or moved, and a line that cannot be filled says how much is missing."""

from __future__ import annotations

from collections import defaultdict

import asyncpg

from domain.stock import store
from domain.stock.model import (
    Pick,
    PickCandidate,
    PickLine,
    PickList,
    PickListRequest,
    RouteStop,
    WarehouseInactive,
    check_pick_lines,
)
from domain.warehouses.model import WarehouseNotFound


async def plan_pick_list(conn: asyncpg.Connection, warehouse: str, body: PickListRequest) -> PickList:
    """Plan a pick list: earliest bins in the walk first, a line split across bins when one is not enough,
    only available stock (on hand − reserved) unless `include_reserved`."""
    found = await store.get_warehouse_for_picking(conn, warehouse)
    if found is None:
        raise WarehouseNotFound(warehouse)
    if not found.active:
        raise WarehouseInactive(warehouse)
    skus = [line.sku for line in body.lines]
    check_pick_lines(skus, await store.list_known_skus(conn, skus))

    bins: dict[str, list[PickCandidate]] = defaultdict(list)
    for candidate in await store.list_pick_candidates(conn, found.id, skus, body.include_reserved):
        bins[candidate.sku].append(candidate)  # already in walk order per SKU

    lines: list[PickLine] = []
    stops: list[tuple[int, str, int, RouteStop]] = []
    for index, line in enumerate(body.lines):
        wanted = line.qty
        picks: list[Pick] = []
        for c in bins[line.sku]:
            if wanted == 0:
                break
            take = min(wanted, c.takeable)
            wanted -= take
            picks.append(Pick(location=c.location, zone=c.zone, pick_sequence=c.pick_sequence, qty=take))
            stop = RouteStop(location=c.location, zone=c.zone, pick_sequence=c.pick_sequence, sku=line.sku, qty=take)
            stops.append((c.pick_sequence, c.location, index, stop))
        lines.append(PickLine(sku=line.sku, qty=line.qty, picks=picks, short=wanted))
    # The walk: bins by pick sequence then code; within a bin, lines in request order.
    route = [stop for *_, stop in sorted(stops, key=lambda s: s[:3])]
    return PickList(warehouse=warehouse, lines=lines, route=route, complete=all(line.short == 0 for line in lines))
