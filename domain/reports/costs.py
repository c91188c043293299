"""Reports at cost: margins (prices in force against the cost price), inventory valuation (stock at its unit
cost) and payables (receipts at their unit cost)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from domain.prices.model import parse_moment
from domain.reports import store
from domain.reports.model import MarginRow, MarginsBy, PayableRow, Report, ReportScope, ValuationRow
from domain.reports.service import amount, dec, open_scope, report

PAYABLES_BASIS = (
    "accrual: goods received (stock receipts with a unit cost, qty × unit cost) by supplier and month of "
    "receipt (UTC); not invoices, not payments"
)


async def margins(
    conn: asyncpg.Connection, scope: ReportScope, *, by: MarginsBy, at: str | None, limit: int
) -> Report[MarginRow]:
    """Sale and distribution prices in force at `at` (an RFC 3339 moment with an offset; None: now) against the
    cost price, per group and currency."""
    given = parse_moment(at, "at")
    ids = await open_scope(conn, scope)
    moment = given or datetime.now(UTC)
    # no moment given: the prices in force now, from the maintained read model (see merch_prices_in_force)
    if by == "sku":
        rows = await store.list_margins_by_sku(conn, ids, given, limit + 1)
    else:
        rows = await store.list_margins(conn, ids, given, by, limit + 1)
    items = [
        MarginRow(
            group=r["group"],
            currency=r["currency"],
            skus=r["skus"],
            sale=amount(r["sale"], r["currency"]),
            sale_cost=amount(r["sale_cost"], r["currency"]),
            sale_margin=amount(r["sale_margin"], r["currency"]),
            sale_margin_pct=dec(r["sale_margin_pct"]),
            distribution=amount(r["distribution"], r["currency"]),
            distribution_cost=amount(r["distribution_cost"], r["currency"]),
            distribution_margin=amount(r["distribution_margin"], r["currency"]),
            distribution_margin_pct=dec(r["distribution_margin_pct"]),
        )
        for r in rows
    ]
    params = {**scope.echo(period=False), "by": by, "at": moment.isoformat()}
    return report("margins", MarginRow, items, params, limit=limit)


async def inventory_valuation(conn: asyncpg.Connection, scope: ReportScope, *, limit: int) -> Report[ValuationRow]:
    """On-hand stock × unit cost per warehouse and category, saying where each unit cost came from."""
    ids = await open_scope(conn, scope)
    rows = await store.list_inventory_valuation(conn, ids, limit + 1)
    items = [
        ValuationRow(
            warehouse=r["warehouse"],
            category=r["category"],
            cost_source=r["cost_source"],
            currency=r["currency"],
            skus=r["skus"],
            on_hand=r["on_hand"],
            value=amount(r["value"], r["currency"]),
        )
        for r in rows
    ]
    return report("inventory-valuation", ValuationRow, items, scope.echo(period=False), limit=limit)


async def payables(conn: asyncpg.Connection, scope: ReportScope, *, limit: int) -> Report[PayableRow]:
    """Accrued payables: receipts at their unit cost, by supplier and month."""
    ids = await open_scope(conn, scope)
    rows = await store.list_payables(conn, ids, scope.since, scope.until, limit + 1)
    items = [
        PayableRow(
            month=r["month"],
            supplier=r["supplier"],
            currency=r["currency"],
            receipts=r["receipts"],
            qty=r["qty"],
            amount=amount(r["amount"], r["currency"]) or "0",
        )
        for r in rows
    ]
    params = scope.echo(period=True)
    return report("payables", PayableRow, items, params, limit=limit, basis=PAYABLES_BASIS)
