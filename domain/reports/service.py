"""The reports: each one set-based statement over the scope a request names (a category subtree, a role,
a series), shaped into a `Report`; cost amounts are left out for roles that may not see them.

Prices "now" come from the read model `prices_in_force` (merch_prices_in_force_now: kept by triggers on
prices; a row gone stale with time is recomputed by the reader), another moment from the price history.
The reports over sales (assortment, abc, purchasing-scorecard, receivables) read them through
`merch_report_sku_sales`: the monthly rollup `sales_monthly` for the whole months of the period (a period
covering most of the history as the per-SKU totals `sales_sku_totals` minus the months outside it), the facts
for the days of its partial edge months (`rollup=False`: every day from the facts, to check the rollup). A
fact is costed (cost and distribution price in force on its day) when uploaded: a price changed
retroactively for past days does not re-cost loaded facts until `merch_recost_sales` is run over
those months."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

import asyncpg
import msgspec

from domain.errors import param_error
from domain.keys.model import Principal
from domain.money import CURRENCIES
from domain.reports.model import (
    HIDDEN,
    AbcRow,
    AssortmentRow,
    MarginRow,
    PayableRow,
    ReceivableRow,
    Report,
    ScorecardRow,
    ValuationRow,
)
from domain.sql import load

Q = load("reports")
R = TypeVar("R", bound=msgspec.Struct)

COST_FIELDS = ("cost", "margin")
MarginsBy = Literal["sku", "product", "category", "role", "series"]
DEFAULT_CLASSES = "70,20,5,5"
DEFAULT_WEIGHTS = "volume:0.3,margin:0.3,appeal:0.2,value:0.2"
WEIGHT_KEYS = ("volume", "margin", "appeal", "value")
PAYABLES_BASIS = (
    "accrual: goods received (stock receipts with a unit cost, qty × unit cost) by supplier and month of "
    "receipt (UTC); not invoices, not payments"
)
RECEIVABLES_BASIS = (
    "accrual: distribution-channel sales facts at qty × the distribution price in force on the day, by month; "
    "not invoices, not payments"
)


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The filters every report takes: codes as given, and the ids behind them."""

    category: str | None = None
    role: str | None = None
    series: str | None = None
    path: str | None = None
    role_id: int | None = None
    series_id: int | None = None

    def args(self) -> tuple[Any, ...]:
        return (self.path, self.role_id, self.series_id)

    def echo(self) -> dict[str, str | None]:
        return {"category": self.category, "role": self.role, "series": self.series}


async def scope_of(conn: asyncpg.Connection, category: str | None, role: str | None, series: str | None) -> Scope:
    """Resolve the filter codes; a code that names nothing is a 400 naming the parameter."""
    if category is None and role is None and series is None:
        return Scope()
    row = await conn.fetchrow(Q.get_report_scope.sql, category, role, series)
    for name, value, found in (
        ("category", category, row["category_path"]),
        ("role", role, row["role_id"]),
        ("series", series, row["series_id"]),
    ):
        if value is not None and found is None:
            raise param_error(
                name, "unknown_code", f"No {name if name != 'role' else 'product role'} has the code {value!r}."
            )
    return Scope(
        category=category,
        role=role,
        series=series,
        path=row["category_path"],
        role_id=row["role_id"],
        series_id=row["series_id"],
    )


# A report is one large statement: it gets memory to hash and sort in (not spill to disk) and a plan made for
# its parameters, so that the branches for "no filter" are planned away (see merch_report_products).
# The working set is in memory (random reads cost about what sequential ones do); JIT compilation costs more
# than it saves on these plans.
REPORT_SETTINGS = (
    "SET LOCAL work_mem = '256MB'; SET LOCAL plan_cache_mode = force_custom_plan;"
    " SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1"
)


async def _fetch(conn: asyncpg.Connection, sql: str, *args: Any) -> list[asyncpg.Record]:
    async with conn.transaction():
        await conn.execute(REPORT_SETTINGS)
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows


def amount(value: Decimal | None, currency: str | None) -> str | None:
    """An amount rounded (half up) to the currency's minor units, as a decimal string."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-CURRENCIES.get(currency or "", 2))
    return format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _columns(row_type: type[msgspec.Struct], omitted: Sequence[str]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(row_type) if f.encode_name not in omitted]


def _report(
    name: str,
    row_type: type[R],
    rows: list[R],
    parameters: dict[str, str | None],
    *,
    limit: int | None = None,
    omitted: Sequence[str] = (),
    basis: str | None = None,
) -> Report[R]:
    truncated = limit is not None and len(rows) > limit
    return Report(
        report=name,
        parameters=parameters,
        columns=_columns(row_type, omitted),
        items=rows[:limit] if limit is not None else rows,
        truncated=truncated,
        omitted=list(omitted),
        basis=basis,
    )


def _period(since: date | None, until: date | None) -> dict[str, str | None]:
    if since is not None and until is not None and since > until:
        raise param_error("from", "out_of_range", "`from` is after `to`.")
    return {"from": since.isoformat() if since else None, "to": until.isoformat() if until else None}


def _mix(raw: str, parameter: str, keys: Sequence[str] | None, total: Decimal) -> dict[str, Decimal]:
    """Parse `key:number,key:number`; the numbers sum to `total`."""
    out: dict[str, Decimal] = {}
    for part in raw.split(","):
        key, sep, number = part.strip().partition(":")
        try:
            value = Decimal(number.strip()) if sep else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0 or not key.strip() or key.strip() in out:
            raise param_error(parameter, "invalid_format", f"{part.strip()!r} is not name:number (each name once).")
        if keys is not None and key.strip() not in keys:
            raise param_error(parameter, "invalid_choice", f"{key.strip()!r} is not one of {', '.join(keys)}.")
        out[key.strip()] = value
    if sum(out.values()) != total:
        raise param_error(parameter, "invalid_total", f"The {parameter} add up to {sum(out.values())}, not {total}.")
    return out


def class_bounds(raw: str) -> list[Decimal]:
    """`70,20,5,5` → the cumulative upper bounds [70, 90, 95, 100] of classes A, B, C, D."""
    try:
        shares = [Decimal(p.strip()) for p in raw.split(",")]
    except InvalidOperation:
        shares = []
    if not 2 <= len(shares) <= 6 or any(not s.is_finite() or s <= 0 for s in shares):
        raise param_error("classes", "invalid_format", "Give 2 to 6 positive percentages, e.g. 70,20,5,5.")
    if sum(shares) != 100:
        raise param_error("classes", "invalid_total", f"The classes add up to {sum(shares)}, not 100.")
    bounds, running = [], Decimal(0)
    for s in shares:
        running += s
        bounds.append(running)
    return bounds


async def margins(
    conn: asyncpg.Connection,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    by: MarginsBy,
    at: datetime | None,
    limit: int,
) -> Report[MarginRow]:
    """Sale and distribution prices in force at `at` against the cost price, per group and currency."""
    scope = await scope_of(conn, category, role, series)
    moment = at or datetime.now(UTC)
    # no moment given: the prices in force now, from the maintained read model (see merch_prices_in_force)
    if by == "sku":
        rows = await _fetch(conn, Q.list_margins_by_sku.sql, *scope.args(), at, limit + 1)
    else:
        rows = await _fetch(conn, Q.list_margins.sql, *scope.args(), at, by, limit + 1)
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
    params = {**scope.echo(), "by": by, "at": moment.isoformat()}
    return _report("margins", MarginRow, items, params, limit=limit)


async def inventory_valuation(
    conn: asyncpg.Connection, *, category: str | None, role: str | None, series: str | None, limit: int
) -> Report[ValuationRow]:
    """On-hand stock × unit cost per warehouse and category, saying where each unit cost came from."""
    scope = await scope_of(conn, category, role, series)
    rows = await _fetch(conn, Q.list_inventory_valuation.sql, *scope.args(), limit + 1)
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
    return _report("inventory-valuation", ValuationRow, items, scope.echo(), limit=limit)


async def assortment(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    since: date | None,
    until: date | None,
    target: str | None,
    rollup: bool = True,
) -> Report[AssortmentRow]:
    """Per role and per series of a subtree: products, revenue and margin with their shares, and each role's
    revenue share against a target mix.

    Sales as described in the module docstring."""
    period = _period(since, until)
    mix = _mix(target, "target", None, Decimal(100)) if target is not None else {}
    scope = await scope_of(conn, category, role, series)
    rows = await _fetch(conn, Q.list_assortment.sql, *scope.args(), since, until, rollup)
    if mix and scope.role_id is None:
        roles = {r["group"] for r in rows if r["dimension"] == "role"}
        unknown = sorted(set(mix) - roles)
        if unknown:
            raise param_error("target", "unknown_code", f"No product role has the code {unknown[0]!r}.")
    show = principal.sees_confidential
    items = []
    for r in rows:
        goal = mix.get(r["group"]) if r["dimension"] == "role" and mix else None
        share = (
            r["revenue_share"] if r["revenue_share"] is not None else (Decimal("0.00") if goal is not None else None)
        )
        items.append(
            AssortmentRow(
                dimension=r["dimension"],
                group=r["group"],
                products=r["products"],
                currency=r["currency"],
                qty=r["qty"],
                revenue=amount(r["revenue"], r["currency"]) or "0",
                revenue_share=dec(share),
                cost=amount(r["cost"], r["currency"]) if show else HIDDEN,
                margin=amount(r["margin"], r["currency"]) if show else HIDDEN,
                margin_pct=dec(r["margin_pct"]),
                margin_share=dec(r["margin_share"]),
                target_share=dec(goal.quantize(Decimal("0.01"))) if goal is not None else None,
                target_diff=dec((share - goal).quantize(Decimal("0.01")))
                if goal is not None and share is not None
                else None,
            )
        )
    params = {**scope.echo(), **period, "target": target}
    return _report("assortment", AssortmentRow, items, params, omitted=() if show else COST_FIELDS)


async def abc(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    since: date | None,
    until: date | None,
    classes: str | None,
    limit: int,
    rollup: bool = True,
) -> Report[AbcRow]:
    """SKUs ranked by revenue over the period, classed by the cumulative share before each one.

    Sales as described in the module docstring."""
    period = _period(since, until)
    bounds = class_bounds(classes or DEFAULT_CLASSES)
    scope = await scope_of(conn, category, role, series)
    rows = await _fetch(conn, Q.list_abc.sql, *scope.args(), since, until, bounds, limit + 1, rollup)
    show = principal.sees_confidential
    items = [
        AbcRow(
            rank=r["rank"],
            sku=r["sku"],
            product=r["product"],
            currency=r["currency"],
            qty=r["qty"],
            revenue=amount(r["revenue"], r["currency"]) or "0",
            share=dec(r["share"]),
            cumulative_share=dec(r["cumulative_share"]),
            class_=chr(ord("A") + r["class_index"] - 1),
            cost=amount(r["cost"], r["currency"]) if show else HIDDEN,
            margin=amount(r["margin"], r["currency"]) if show else HIDDEN,
            margin_pct=dec(r["margin_pct"]),
        )
        for r in rows
    ]
    params = {**scope.echo(), **period, "classes": ",".join(dec(b) or "" for b in _shares(bounds))}
    return _report("abc", AbcRow, items, params, limit=limit, omitted=() if show else COST_FIELDS)


def _shares(bounds: list[Decimal]) -> list[Decimal]:
    return [b - a for a, b in zip([Decimal(0), *bounds[:-1]], bounds, strict=True)]


async def purchasing_scorecard(
    conn: asyncpg.Connection,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    since: date | None,
    until: date | None,
    weights: str | None,
    currency: str,
    limit: int,
    rollup: bool = True,
) -> Report[ScorecardRow]:
    """Products ranked by a weighted score of volume, margin, appeal and value, each normalised 0..1.

    Sales as described in the module docstring."""
    period = _period(since, until)
    mix = _mix(weights or DEFAULT_WEIGHTS, "weights", WEIGHT_KEYS, Decimal(1))
    if currency not in CURRENCIES:
        raise param_error("currency", "unknown_currency", f"{currency} is not an ISO 4217 currency merchflow knows.")
    scope = await scope_of(conn, category, role, series)
    vector = [mix.get(k, Decimal(0)) for k in WEIGHT_KEYS]
    rows = await _fetch(
        conn, Q.list_purchasing_scorecard.sql, *scope.args(), since, until, vector, currency, limit + 1, rollup
    )
    items = [
        ScorecardRow(
            rank=r["rank"],
            product=r["product"],
            volume=r["volume"],
            margin_pct=dec(r["margin_pct"]),
            appeal=dec(r["appeal"]) or "0",
            value=amount(r["value"], currency) or "0",
            currency=currency,
            volume_score=dec(r["volume_score"]) or "0",
            margin_score=dec(r["margin_score"]) or "0",
            appeal_score=dec(r["appeal_score"]) or "0",
            value_score=dec(r["value_score"]) or "0",
            score=dec(r["score"]) or "0",
        )
        for r in rows
    ]
    params = {
        **scope.echo(),
        **period,
        "weights": ",".join(f"{k}:{v}" for k, v in zip(WEIGHT_KEYS, vector, strict=True)),
        "currency": currency,
    }
    return _report("purchasing-scorecard", ScorecardRow, items, params, limit=limit)


async def payables(
    conn: asyncpg.Connection,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    since: date | None,
    until: date | None,
    limit: int,
) -> Report[PayableRow]:
    """Accrued payables: receipts at their unit cost, by supplier and month."""
    period = _period(since, until)
    scope = await scope_of(conn, category, role, series)
    rows = await _fetch(conn, Q.list_payables.sql, *scope.args(), since, until, limit + 1)
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
    return _report("payables", PayableRow, items, {**scope.echo(), **period}, limit=limit, basis=PAYABLES_BASIS)


async def receivables(
    conn: asyncpg.Connection,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    rollup: bool = True,
) -> Report[ReceivableRow]:
    """Accrued receivables: distribution-channel sales at the distribution price in force, by month.

    Sales as described in the module docstring."""
    period = _period(since, until)
    scope = await scope_of(conn, category, role, series)
    rows = await _fetch(conn, Q.list_receivables.sql, *scope.args(), since, until, limit + 1, rollup)
    items = [
        ReceivableRow(
            month=r["month"],
            currency=r["currency"],
            facts=r["facts"],
            qty=r["qty"],
            amount=amount(r["amount"], r["currency"]),
            unpriced_qty=r["unpriced_qty"],
        )
        for r in rows
    ]
    return _report(
        "receivables", ReceivableRow, items, {**scope.echo(), **period}, limit=limit, basis=RECEIVABLES_BASIS
    )


def to_rows(report: Report[Any]) -> tuple[list[str], list[list[Any]]]:
    """The report as a header and rows of plain values (for CSV): hidden fields are not columns."""
    rows = [msgspec.to_builtins(item) for item in report.items]
    return report.columns, [[row.get(c) for c in report.columns] for row in rows]
