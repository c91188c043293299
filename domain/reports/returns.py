"""The returns report (售后): what came back, why, and how much of what was sold.

Units sold are the sales facts of the period's days as uploaded (gross: the rollup's units net of returns plus
the units returned of those days' sales); units returned are the `return` stock
movements of the period's days (UTC), each with its reason and condition (sql/functions/stock.sql). The other
sales reports count sales net of the returns that name their sale."""

from __future__ import annotations

import asyncpg

from domain.reports import store
from domain.reports.model import Report, ReportScope, ReturnRow, ReturnsBy
from domain.reports.service import dec, open_scope, report

RETURNS_BASIS = (
    "returned: units of return movements on the period's days (UTC); sold: units of the sales facts of those "
    "days (before returns); return_rate = returned / sold × 100"
)


async def returns(
    conn: asyncpg.Connection, scope: ReportScope, *, by: ReturnsBy, limit: int, rollup: bool = True
) -> Report[ReturnRow]:
    """Return rates by SKU, product, category, preferred supplier or reason over a period (`rollup=False`: the
    units sold from every day's facts, to check the rollup's)."""
    ids = await open_scope(conn, scope)
    rows = await store.list_returns(conn, ids, scope.since, scope.until, by, limit + 1, rollup)
    items = [
        ReturnRow(
            group=r["group"],
            sold=r["sold"],
            returned=r["returned"],
            resellable=r["resellable"],
            not_resellable=r["not_resellable"],
            return_rate=dec(r["return_rate"]),
            top_reason=r["top_reason"],
        )
        for r in rows
    ]
    params = {**scope.echo(period=True), "by": by}
    return report("returns", ReturnRow, items, params, limit=limit, basis=RETURNS_BASIS)
