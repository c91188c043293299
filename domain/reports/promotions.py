"""The promotion ROI report (营销推广): did a promotion pay?

Per promotion and per item: units, revenue and margin during its days (UTC; net of returns, in its currency,
on its spend channel when it names one); the baseline — the same SKUs' daily rate over the days right before
it (its `baseline_days`, by default as many days as it has), never before the first day of any sales data
(fewer days known: a stated caveat; none: no baseline) — times its days; the increment over the baseline;
the discount cost ((regular − promotion price) × units); and, per promotion, its spend and
ROI = (incremental margin − spend) / spend. The other listed products of its items' home categories and
series show whether it took sales from them (cannibalisation) or brought them some (halo)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import msgspec

from domain.errors import param_error
from domain.keys.model import Principal
from domain.reports import store
from domain.reports.model import HIDDEN, PromotionRoiRow, Report, ReportScope, RoiDetail, ScopeIds
from domain.reports.service import amount, open_scope, report

MARGIN_FIELDS = ("margin", "baseline_margin", "incremental_margin")
CENT = Decimal("0.01")
ROI_PLACES = Decimal("0.0001")
RECOMPUTING = "being recomputed after a change: no figure until it is done"


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
    discount = _sum([x.discount_cost for x in f])
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
        discount_cost=amount(discount, currency) if level != "others" else None,
        **{"spend": None, "roi": None, "effect": None, "caveats": None, "recomputing": False, **extra},
    )


def _caveats(promo: Mapping[str, Any], costed: bool, today: Any) -> list[str]:
    if promo["recomputing"]:
        return [RECOMPUTING]
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


class _Outcome:
    """One promotion's outcome: its item lines, its neighbours, its ROI and the caveats on its figures."""

    def __init__(self, group: list[Mapping[str, Any]], today: Any) -> None:
        self.promo = promo = group[0]
        days, known = promo["days"], promo["baseline_days_known"]
        self.lines = [(r, _Figures(r, days, known)) for r in group if r["level"] == "item"]
        self.others = [_Figures(r, days, known) for r in group if r["level"] == "others"]
        figures = [f for _, f in self.lines]
        self.spend: Decimal | None = promo["spend_amount"]
        inc_margin = _sub(_sum([f.margin for f in figures]), _sum([f.baseline_margin for f in figures]))
        recomputing = promo["recomputing"]
        self.roi = (
            (inc_margin - self.spend) / self.spend
            if self.spend and inc_margin is not None and not recomputing
            else None
        )
        costed = all(r["costed"] and (known == 0 or r["baseline_costed"]) for r, _ in self.lines)
        self.caveats = "; ".join(_caveats(promo, costed, today)) or None


def _outcomes(rows: Sequence[Mapping[str, Any]], today: Any) -> list[_Outcome]:
    by_promo: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_promo.setdefault(r["promotion"], []).append(r)
    return [_Outcome(group, today) for group in by_promo.values()]


async def promotion_roi(
    conn: asyncpg.Connection,
    principal: Principal,
    scope: ReportScope,
    *,
    promotion: str | None,
    limit: int,
    detail: RoiDetail = "promotions",
) -> Report[PromotionRoiRow]:
    """Per promotion and its neighbouring products (and with `detail` "items" per item, of the scope's
    products): the outcome against the baseline, spend and ROI — rows the database builds from the kept outcomes
    (sql/queries/reports.sql list_promotion_roi: the same figures, rounding and caveats as `_Outcome` and `_row`
    below, which the product's stage view uses)."""
    ids = await open_scope(conn, scope)
    show = principal.sees_confidential
    found = await store.list_promotion_roi(
        conn, ids, promotion, scope.since, scope.until, limit, items=detail == "items"
    )
    if promotion is not None and not found:
        raise param_error("promotion", "unknown_code", f"No promotion has the code {promotion!r}.")
    hidden = {} if show else dict.fromkeys(MARGIN_FIELDS, HIDDEN)
    fields = list(found[0].keys())[1:] if found else []  # (after `promotions`)
    rows = [PromotionRoiRow(**{**dict(zip(fields, r[1:], strict=True)), **hidden}) for r in found]
    params = {**scope.echo(period=True), "promotion": promotion, "detail": detail}
    result = report("promotion-roi", PromotionRoiRow, rows, params, omitted=() if show else MARGIN_FIELDS)
    return msgspec.structs.replace(result, truncated=bool(found) and found[0]["promotions"] > limit)


async def product_promotions(
    conn: asyncpg.Connection, product_id: int, skus: set[str], until: date, *, shown: int
) -> list[dict[str, Any]] | None:
    """The promotions listing a product that started by `until`, newest first (at most `shown`): for each
    its days, whether it is past, running or upcoming, its ROI, and the product's own units, margin percent
    and increment over the baseline during it (its SKUs among the items: `skus`), with the report's caveats
    — percentages and units, no amounts. None when there is none."""
    rows = await store.list_promotion_outcomes(conn, ScopeIds(), None, None, until, None, product_id)
    today = datetime.now(UTC).date()
    out: list[dict[str, Any]] = []
    for o in _outcomes(rows, today):
        promo = o.promo
        mine = [f for r, f in o.lines if r["sku"] in skus]
        own = _row(promo, "item", None, mine, False)
        first, last = promo["first_day"], promo["last_day"]
        state = "upcoming" if first > today else "past" if last < today else "running"
        out.append(
            {
                "promotion": promo["promotion"],
                "first_day": first.isoformat(),
                "last_day": last.isoformat(),
                "state": state,
                "roi": _q(o.roi, ROI_PLACES),
                # (none while it is being recomputed: the caveat says so)
                **(
                    dict.fromkeys(("units", "margin_pct", "incremental_units"))
                    if promo["recomputing"]
                    else {"units": own.units, "margin_pct": own.margin_pct, "incremental_units": own.incremental_units}
                ),
                "caveats": o.caveats,
            }
        )
    out.sort(key=lambda e: (e["first_day"], e["promotion"]), reverse=True)
    return out[:shown] or None
