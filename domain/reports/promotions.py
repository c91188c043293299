"""The promotion ROI report (营销推广): did a promotion pay?

Per promotion and per item: units, revenue and margin during its days (UTC; net of returns, in its currency,
on its spend channel when it names one); the baseline — the same SKUs' daily rate over the days right before
it (its `baseline_days`, by default as many days as it has), never before the first day of any sales data
(fewer days known: a stated caveat; none: no baseline) — times its days; the increment over the baseline;
the discount cost ((regular − promotion price) × units); and, per promotion, its spend and
ROI = (incremental margin − spend) / spend. The other listed products of its items' home categories and
series show whether it took sales from them (cannibalisation) or brought them some (halo)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import msgspec

from domain.errors import param_error
from domain.keys.model import Principal
from domain.reports import store
from domain.reports.model import HIDDEN, PromotionRoiRow, Report, ReportScope
from domain.reports.service import amount, open_scope, report

MARGIN_FIELDS = ("margin", "baseline_margin", "incremental_margin")
CENT = Decimal("0.01")
ROI_PLACES = Decimal("0.0001")


def _q(value: Decimal | None, quantum: Decimal = CENT) -> str | None:
    return None if value is None else format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def _sub(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a - b


def _sum(values: list[Decimal | None]) -> Decimal | None:
    return None if any(v is None for v in values) else sum((v for v in values if v is not None), Decimal(0))


class _Figures:
    """Actual, baseline and incremental figures of an item or a group of SKUs over one promotion."""

    def __init__(self, r: Mapping[str, Any], days: int, known: int) -> None:
        self.units = Decimal(r["units"])
        self.revenue: Decimal = r["revenue"]
        self.margin = r["revenue"] - r["cost"] if r["costed"] else None
        scale = Decimal(days) / known if known else None
        self.baseline_units = Decimal(r["baseline_units"]) * scale if scale is not None else None
        self.baseline_revenue = r["baseline_revenue"] * scale if scale is not None else None
        self.baseline_margin = (
            (r["baseline_revenue"] - r["baseline_cost"]) * scale if scale is not None and r["baseline_costed"] else None
        )
        regular, price = r["regular"], r["price"]
        self.discount_cost = (regular - price) * self.units if regular is not None and price is not None else None


def _row(
    promo: Mapping[str, Any],
    level: str,
    sku: str | None,
    f: list[_Figures],
    show: bool,
    **extra: Any,
) -> PromotionRoiRow:
    currency = promo["currency"]
    units = sum((x.units for x in f), Decimal(0))
    revenue = sum((x.revenue for x in f), Decimal(0))
    margin = _sum([x.margin for x in f])
    base_units = _sum([x.baseline_units for x in f])
    base_revenue = _sum([x.baseline_revenue for x in f])
    base_margin = _sum([x.baseline_margin for x in f])
    inc_margin = _sub(margin, base_margin)
    return PromotionRoiRow(
        promotion=promo["promotion"],
        level=level,
        sku=sku,
        currency=currency,
        days=promo["days"],
        baseline_days=promo["baseline_days_asked"],
        baseline_days_known=promo["baseline_days_known"],
        units=int(units),
        revenue=amount(revenue, currency),
        margin=amount(margin, currency) if show else HIDDEN,
        margin_pct=_q(margin / revenue * 100) if margin is not None and revenue else None,
        baseline_units=_q(base_units),
        baseline_revenue=amount(base_revenue, currency),
        baseline_margin=amount(base_margin, currency) if show else HIDDEN,
        incremental_units=_q(_sub(units, base_units)),
        incremental_revenue=amount(_sub(revenue, base_revenue), currency),
        incremental_margin=amount(inc_margin, currency) if show else HIDDEN,
        discount_cost=amount(_sum([x.discount_cost for x in f]), currency) if level != "others" else None,
        **{"spend": None, "roi": None, "effect": None, "caveats": None, **extra},
    )


def _caveats(promo: Mapping[str, Any], costed: bool, today: Any) -> list[str]:
    known, asked = promo["baseline_days_known"], promo["baseline_days_asked"]
    out = []
    if known == 0:
        out.append("no sales data before the promotion: no baseline, no increment")
    elif known < asked:
        out.append(f"the baseline window reaches before any sales data: {known} of {asked} days known")
    if promo["spend_amount"] is None:
        out.append("no spend recorded: no ROI")
    elif promo["spend_amount"] == 0:
        out.append("the spend is 0: no ROI")
    if not costed:
        out.append("some sales have no cost price: no margin")
    if promo["last_day"] >= today:
        out.append("the promotion has days from today on: their sales are not all in")
    return out


async def promotion_roi(
    conn: asyncpg.Connection, principal: Principal, scope: ReportScope, *, promotion: str | None, limit: int
) -> Report[PromotionRoiRow]:
    """Per promotion, item and neighbouring products: the outcome against the baseline, spend and ROI."""
    ids = await open_scope(conn, scope)
    rows = await store.list_promotion_outcomes(conn, ids, promotion, scope.since, scope.until, limit + 1)
    if promotion is not None and not rows:
        raise param_error("promotion", "unknown_code", f"No promotion has the code {promotion!r}.")
    show = principal.sees_confidential
    today = datetime.now(UTC).date()
    by_promo: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_promo.setdefault(r["promotion"], []).append(r)
    items: list[PromotionRoiRow] = []
    for group in list(by_promo.values())[:limit]:
        promo = group[0]
        days, known = promo["days"], promo["baseline_days_known"]
        lines = [(r, _Figures(r, days, known)) for r in group if r["level"] == "item"]
        others = [_Figures(r, days, known) for r in group if r["level"] == "others"]
        figures = [f for _, f in lines]
        spend: Decimal | None = promo["spend_amount"]
        inc_margin = _sub(_sum([f.margin for f in figures]), _sum([f.baseline_margin for f in figures]))
        roi = (inc_margin - spend) / spend if spend and inc_margin is not None else None
        costed = all(r["costed"] and (known == 0 or r["baseline_costed"]) for r, _ in lines)
        caveats = "; ".join(_caveats(promo, costed, today)) or None
        spent = amount(spend, promo["currency"])
        items.append(
            _row(promo, "promotion", None, figures, show, spend=spent, roi=_q(roi, ROI_PLACES), caveats=caveats)
        )
        items += [_row(promo, "item", r["sku"], [f], show) for r, f in lines]
        inc_units = _sub(sum((f.units for f in others), Decimal(0)), _sum([f.baseline_units for f in others]))
        effect = (
            None if inc_units is None else "halo" if inc_units > 0 else "cannibalisation" if inc_units < 0 else "none"
        )
        items.append(_row(promo, "others", None, others, show, effect=effect))
    params = {**scope.echo(period=True), "promotion": promotion}
    result = report("promotion-roi", PromotionRoiRow, items, params, omitted=() if show else MARGIN_FIELDS)
    return msgspec.structs.replace(result, truncated=len(by_promo) > limit)
