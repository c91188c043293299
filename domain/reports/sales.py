"""Reports over sales: assortment, ABC, purchasing scorecard and receivables.

They read sales through `merch_report_sku_sales`: the monthly rollup `sales_monthly` for the whole months of
the period (a period covering most of the history as the per-SKU totals `sales_sku_totals` minus the months
outside it), and for a month the period cuts, that month's rollup rows' checkpoints (sums through day 8, 16 and
24) plus the few days between each cut and its nearest checkpoint from the facts (`rollup=False`: every day
from the facts, to check the rollup). A fact is costed (cost and distribution price in force on its day) when
uploaded, and re-costed when those prices change on its day (a price correction, or a price recorded today: the price
service re-costs the SKU's facts of the days it changed, in its transaction); a price changed by any other
way (SQL by hand) needs `merch_recost_sales` over those months."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg

from domain.errors import param_error
from domain.keys.model import Principal
from domain.money import CURRENCIES
from domain.reports import store
from domain.reports.model import HIDDEN, AbcRow, AssortmentRow, ReceivableRow, Report, ReportScope, ScorecardRow
from domain.reports.service import COST_FIELDS, amount, dec, open_scope, report

DEFAULT_CLASSES = "70,20,5,5"
DEFAULT_WEIGHTS = "volume:0.3,margin:0.25,appeal:0.15,value:0.15,quality:0.15"
WEIGHT_KEYS = ("volume", "margin", "appeal", "value", "quality")
RECEIVABLES_BASIS = (
    "accrual: distribution-channel sales facts at qty × the distribution price in force on the day, by month; "
    "not invoices, not payments"
)


def _mix(raw: str, parameter: str, keys: Sequence[str] | None, total: Decimal) -> dict[str, Decimal]:
    """Parse `key:number,key:number`; the numbers sum to `total`."""
    out: dict[str, Decimal] = {}
    for part in raw.split(","):
        key, sep, number = part.strip().partition(":")
        try:
            value = Decimal(number.strip()) if sep else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0 or not key.strip():
            raise param_error(parameter, "invalid_format", f"{part.strip()!r} is not name:number.")
        if key.strip() in out:
            raise param_error(parameter, "duplicate", f"{key.strip()!r} is named twice.")
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


def _shares(bounds: list[Decimal]) -> list[Decimal]:
    return [b - a for a, b in zip([Decimal(0), *bounds[:-1]], bounds, strict=True)]


async def assortment(
    conn: asyncpg.Connection,
    principal: Principal,
    scope: ReportScope,
    *,
    target: str | None,
    category_target: str | None = None,
    rollup: bool = True,
) -> Report[AssortmentRow]:
    """Per home category, per role and per series of a subtree: products, revenue and margin with their shares,
    and each role's (and each category's) revenue share against a target mix."""
    mixes = {
        "role": _mix(target, "target", None, Decimal(100)) if target is not None else {},
        "category": _mix(category_target, "category_target", None, Decimal(100)) if category_target else {},
    }
    ids = await open_scope(conn, scope)
    rows = await store.list_assortment(conn, ids, scope.since, scope.until, rollup)
    if mixes["role"] and ids.role_id is None:
        roles = {r["group"] for r in rows if r["dimension"] == "role"}
        unknown = sorted(set(mixes["role"]) - roles)
        if unknown:
            raise param_error("target", "unknown_code", f"No product role has the code {unknown[0]!r}.")
    if mixes["category"]:
        categories = {r["group"] for r in rows if r["dimension"] == "category"}
        unknown = sorted(set(mixes["category"]) - categories)
        if unknown:
            raise param_error(
                "category_target",
                "unknown_code",
                f"No product in scope has the home category {unknown[0]!r}.",
            )
    show = principal.sees_confidential
    items = []
    for r in rows:
        mix = mixes.get(r["dimension"], {})
        goal = mix.get(r["group"]) if mix else None
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
    params = {**scope.echo(period=True), "target": target, "category_target": category_target}
    return report("assortment", AssortmentRow, items, params, omitted=() if show else COST_FIELDS)


async def abc(
    conn: asyncpg.Connection,
    principal: Principal,
    scope: ReportScope,
    *,
    classes: str | None,
    limit: int,
    rollup: bool = True,
) -> Report[AbcRow]:
    """SKUs ranked by revenue over the period, classed by the cumulative share before each one."""
    bounds = class_bounds(classes or DEFAULT_CLASSES)
    ids = await open_scope(conn, scope)
    rows = await store.list_abc(conn, ids, scope.since, scope.until, bounds, limit + 1, rollup)
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
    params = {**scope.echo(period=True), "classes": ",".join(dec(b) or "" for b in _shares(bounds))}
    return report("abc", AbcRow, items, params, limit=limit, omitted=() if show else COST_FIELDS)


async def purchasing_scorecard(
    conn: asyncpg.Connection,
    scope: ReportScope,
    *,
    weights: str | None,
    currency: str,
    limit: int,
    rollup: bool = True,
) -> Report[ScorecardRow]:
    """Products ranked by a weighted score of volume, margin, appeal and value, each normalised 0..1."""
    mix = _mix(weights or DEFAULT_WEIGHTS, "weights", WEIGHT_KEYS, Decimal(1))
    if currency not in CURRENCIES:
        raise param_error("currency", "unknown_currency", f"{currency} is not an ISO 4217 currency merchflow knows.")
    ids = await open_scope(conn, scope)
    vector = [mix.get(k, Decimal(0)) for k in WEIGHT_KEYS]
    rows = await store.list_purchasing_scorecard(
        conn, ids, scope.since, scope.until, vector, currency, limit + 1, rollup
    )
    suppliers = {
        s["product"]: s
        for s in await store.list_scorecard_suppliers(conn, [r["product"] for r in rows], scope.since, scope.until)
    }
    none: dict[str, Any] = {"supplier": None, "return_rate": None, "defective_share": None}
    items = [
        ScorecardRow(
            rank=r["rank"],
            product=r["product"],
            volume=r["volume"],
            margin_pct=dec(r["margin_pct"]),
            appeal=dec(r["appeal"]) or "0",
            value=amount(r["value"], currency) or "0",
            currency=currency,
            return_rate=dec(r["return_rate"]),
            volume_score=dec(r["volume_score"]) or "0",
            margin_score=dec(r["margin_score"]) or "0",
            appeal_score=dec(r["appeal_score"]) or "0",
            value_score=dec(r["value_score"]) or "0",
            quality_score=dec(r["quality_score"]) or "0",
            score=dec(r["score"]) or "0",
            supplier=suppliers.get(r["product"], none)["supplier"],
            supplier_return_rate=dec(suppliers.get(r["product"], none)["return_rate"]),
            supplier_defective_share=dec(suppliers.get(r["product"], none)["defective_share"]),
        )
        for r in rows
    ]
    params = {
        **scope.echo(period=True),
        "weights": ",".join(f"{k}:{v}" for k, v in zip(WEIGHT_KEYS, vector, strict=True)),
        "currency": currency,
    }
    return report("purchasing-scorecard", ScorecardRow, items, params, limit=limit)


async def receivables(
    conn: asyncpg.Connection, scope: ReportScope, *, limit: int, rollup: bool = True
) -> Report[ReceivableRow]:
    """Accrued receivables: distribution-channel sales at the distribution price in force, by month."""
    ids = await open_scope(conn, scope)
    rows = await store.list_receivables(conn, ids, scope.since, scope.until, limit + 1, rollup)
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
    params = scope.echo(period=True)
    return report("receivables", ReceivableRow, items, params, limit=limit, basis=RECEIVABLES_BASIS)
