"""Reports: /v1/reports/* — JSON by default, CSV with `Accept: text/csv` (one shared renderer)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.datastructures import Accept
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, QueryParameter

from api.auth import allow
from api.http import Actor, Conn
from api.replicas import ON_REPLICA
from domain.reports import costs, promotions, returns, sales, service
from domain.reports.model import (
    AbcRow,
    AssortmentRow,
    MarginRow,
    MarginsBy,
    PayableRow,
    PromotionRoiRow,
    ReceivableRow,
    Report,
    ReportScope,
    ReturnRow,
    ReturnsBy,
    RoiDetail,
    ScorecardRow,
    ValuationRow,
)

FINANCE = allow("finance", "purchasing")
MERCHANDISING = allow("finance", "purchasing", "marketing")
AFTER_SALES = allow("finance", "purchasing", "marketing", "service", "warehouse")
CSV = "text/csv"


# The shapes of the mixes (domain.reports.sales parses them; a total other than 100 or 1 is still a 400).
_SHARE = r"[0-9]{1,6}(\.[0-9]{1,6})?"
_POSITIVE = r"([1-9][0-9]{0,5}(\.[0-9]{1,6})?|0\.[0-9]{0,5}[1-9])"
_SHARE_OF = rf"[a-z0-9][a-z0-9_-]{{0,63}}:{_SHARE}"
_WEIGHT_OF = rf"(volume|margin|appeal|value|quality):{_SHARE}"


def _q(name: str, description: str) -> QueryParameter:
    return QueryParameter(name=name, required=False, description=description)


CategoryQ = Annotated[str | None, _q("category", "Only this category's subtree (code, in any tree).")]
RoleQ = Annotated[str | None, _q("role", "Only products of this role (code).")]
SeriesQ = Annotated[str | None, _q("series", "Only products of this series (code).")]
FromQ = Annotated[date | None, _q("from", "First day of the period (inclusive; default: no bound).")]
ToQ = Annotated[date | None, _q("to", "Last day of the period (inclusive; default: no bound).")]


def scope_query(category: CategoryQ = None, role: RoleQ = None, series: SeriesQ = None) -> ReportScope:
    """The scope of a report at a moment, from its query parameters."""
    return ReportScope(category=category, role=role, series=series)


def scope_over_period_query(
    category: CategoryQ = None, role: RoleQ = None, series: SeriesQ = None, since: FromQ = None, until: ToQ = None
) -> ReportScope:
    """The scope of a report over a period, from its query parameters (`from` after `to` is a 400)."""
    return ReportScope(category=category, role=role, series=series, since=since, until=until)


# Every report takes its scope as the dependency `report_scope` (`scope` is the ASGI scope's name), built once
# from the query parameters that OpenAPI documents in its place: a report at a moment declares
# `dependencies=AT_A_MOMENT`, one over a period `dependencies=OVER_A_PERIOD` (which adds `from` and `to`).
Scope = NamedDependency[ReportScope]
AT_A_MOMENT = {"report_scope": Provide(scope_query, sync_to_thread=False)}
OVER_A_PERIOD = {"report_scope": Provide(scope_over_period_query, sync_to_thread=False)}

ReportLimitQ = Annotated[
    int,
    QueryParameter(
        name="limit", ge=1, le=100_000, description="At most this many rows (default 10,000); `truncated` says more."
    ),
]
AcceptH = Annotated[
    str | None,
    HeaderParameter(name="Accept", required=False, description="`application/json` (default) or `text/csv`."),
]


def render(report: Report[Any], accept: str | None) -> Response[Report[Any]]:
    """The report as JSON, or — when the client prefers `text/csv` — as UTF-8 CSV: a header line of the
    row fields, then one line per row; decimals as strings, empty cells for nulls, booleans as in JSON."""
    # JSON first: `*/*` (or no Accept at all) answers JSON
    if accept is None or Accept(accept).best_match(["application/json", CSV]) != CSV:
        return Response(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header, rows = service.to_rows(report)
    writer.writerow(header)
    writer.writerows([["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row] for row in rows])
    return Response(
        out.getvalue(),  # type: ignore[arg-type]
        media_type=CSV,  # Litestar adds `; charset=utf-8`
        headers={"Content-Disposition": f'inline; filename="{report.report}.csv"'},
    )


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["Reports"]
    opt = ON_REPLICA  # reports read from a replica (api/replicas.py)

    @get(
        "/margins",
        operation_id="getMarginsReport",
        summary="Margins at prices in force",
        opt=FINANCE,
        dependencies=AT_A_MOMENT,
    )
    async def margins(
        self,
        conn: Conn,
        report_scope: Scope,
        by: Annotated[MarginsBy, _q("by", "Group by sku (default), product, category, role or series.")] = "sku",
        at: Annotated[
            str | None,
            QueryParameter(
                name="at",
                required=False,
                description="The moment whose prices count (RFC 3339 with an offset; default now).",
                schema_extra={"format": "date-time"},
            ),
        ] = None,
        limit: ReportLimitQ = 10_000,
        accept: AcceptH = None,
    ) -> Response[Report[MarginRow]]:
        """Per group and currency: the sale and the distribution price in force at `at` against the cost
        price in force then, in money and percent — percent = (price − cost) / price × 100, two decimals.
        Amounts are sums over the group's SKUs that have both prices (one unit of each); a SKU counts in
        every currency it has prices in. Grouped by series, a product in two series counts in both and one
        in none under `group: null`."""
        return render(await costs.margins(conn, report_scope, by=by, at=at, limit=limit), accept)

    @get(
        "/inventory-valuation",
        operation_id="getInventoryValuationReport",
        summary="Stock valued at cost",
        opt=FINANCE,
        dependencies=AT_A_MOMENT,
    )
    async def inventory_valuation(
        self, conn: Conn, report_scope: Scope, limit: ReportLimitQ = 10_000, accept: AcceptH = None
    ) -> Response[Report[ValuationRow]]:
        """On-hand stock × unit cost per warehouse and home category. The unit cost is the SKU's
        moving-average cost (`cost_source: moving-average`), else the cost price in force now
        (`cost-price`); a SKU with neither counts its units but no value (`none`)."""
        return render(await costs.inventory_valuation(conn, report_scope, limit=limit), accept)

    @get(
        "/assortment",
        operation_id="getAssortmentReport",
        summary="Assortment by role and series",
        opt=MERCHANDISING,
        dependencies=OVER_A_PERIOD,
    )
    async def assortment(
        self,
        conn: Conn,
        principal: Actor,
        report_scope: Scope,
        target: Annotated[
            str | None,
            QueryParameter(
                name="target",
                required=False,
                description="A target revenue mix by role, e.g. destination:30,routine:50,image:10,promotion:10.",
                schema_extra={"pattern": rf"^{_SHARE_OF}(,{_SHARE_OF})*$"},
            ),
        ] = None,
        category_target: Annotated[
            str | None,
            QueryParameter(
                name="category_target",
                required=False,
                description="A target revenue mix by home category, e.g. silk-square-scarves:60,oils:40.",
                schema_extra={"pattern": rf"^({_SHARE_OF}(,{_SHARE_OF})*)?$"},  # (empty: none)
            ),
        ] = None,
        accept: AcceptH = None,
    ) -> Response[Report[AssortmentRow]]:
        """For a category subtree, per home category of its products, per role (every role) and per series:
        product count, and over the period qty, revenue, cost (qty × the cost price in force on the day), margin
        and margin percent, with the revenue and margin shares in percent of the subtree's totals (each product
        counted once), net of returns. With `target`, each role's revenue share against it, with
        `category_target` each category's (`target_diff` in points: the gap). Marketing sees margin percentages
        and shares, never `cost` or `margin` amounts."""
        return render(
            await sales.assortment(conn, principal, report_scope, target=target, category_target=category_target),
            accept,
        )

    @get(
        "/abc",
        operation_id="getAbcReport",
        summary="ABC classes by revenue",
        opt=MERCHANDISING,
        dependencies=OVER_A_PERIOD,
    )
    async def abc(
        self,
        conn: Conn,
        principal: Actor,
        report_scope: Scope,
        classes: Annotated[
            str | None,
            QueryParameter(
                name="classes",
                required=False,
                description="2 to 6 class sizes in percent, summing to 100 (default 70,20,5,5).",
                schema_extra={"pattern": rf"^({_POSITIVE}(,{_POSITIVE}){{1,5}})?$"},  # (empty: the default)
            ),
        ] = None,
        limit: ReportLimitQ = 10_000,
        accept: AcceptH = None,
    ) -> Response[Report[AbcRow]]:
        """SKUs with sales in the period, ranked by revenue (per currency; ties by SKU code), with share,
        cumulative share and class. The boundary rule: a SKU is in the class whose cumulative range
        contains the cumulative share *before* it — with 70,20,5,5 a SKU after exactly 70.00 % is a B,
        one after 69.99 % an A (the first SKU is always an A). Marketing sees `margin_pct`, never `cost` or
        `margin` amounts."""
        return render(await sales.abc(conn, principal, report_scope, classes=classes, limit=limit), accept)

    @get(
        "/purchasing-scorecard",
        operation_id="getPurchasingScorecardReport",
        summary="Products scored for purchasing",
        opt=FINANCE,
        dependencies=OVER_A_PERIOD,
    )
    async def purchasing_scorecard(
        self,
        conn: Conn,
        report_scope: Scope,
        weights: Annotated[
            str | None,
            QueryParameter(
                name="weights",
                required=False,
                description=f"Weights summing to 1 (default {sales.DEFAULT_WEIGHTS}).",
                schema_extra={"pattern": rf"^({_WEIGHT_OF}(,{_WEIGHT_OF})*)?$"},  # (empty: the default)
            ),
        ] = None,
        currency: Annotated[str, _q("currency", "The currency of value and margin (default CNY).")] = "CNY",
        limit: ReportLimitQ = 10_000,
        accept: AcceptH = None,
    ) -> Response[Report[ScorecardRow]]:
        """Products ranked by a weighted score of: volume (qty sold in the period), margin percent of the
        period's sales, appeal (listing requirements present / required, plus 0.25 per quality tag famous,
        specialty, quality, new; at most 1), value (revenue) and quality (the return rate: of the units the
        period's sales sold, the percent that came back; the lowest rate scores 1). Each component is
        normalised min-max to 0..1 within the result (equal on every line: 1; no margin or nothing sold: 0);
        the score is the weighted sum, four decimals; ties by product code."""
        return render(
            await sales.purchasing_scorecard(conn, report_scope, weights=weights, currency=currency, limit=limit),
            accept,
        )

    @get(
        "/payables",
        operation_id="getPayablesReport",
        summary="Accrued payables from receipts",
        opt=FINANCE,
        dependencies=OVER_A_PERIOD,
    )
    async def payables(
        self, conn: Conn, report_scope: Scope, limit: ReportLimitQ = 10_000, accept: AcceptH = None
    ) -> Response[Report[PayableRow]]:
        """An accrual, not a ledger of invoices: goods received (stock receipts with a unit cost,
        qty × unit cost) by supplier and month of receipt (UTC)."""
        return render(await costs.payables(conn, report_scope, limit=limit), accept)

    @get(
        "/receivables",
        operation_id="getReceivablesReport",
        summary="Accrued receivables from sales",
        opt=FINANCE,
        dependencies=OVER_A_PERIOD,
    )
    async def receivables(
        self, conn: Conn, report_scope: Scope, limit: ReportLimitQ = 10_000, accept: AcceptH = None
    ) -> Response[Report[ReceivableRow]]:
        """An accrual, not a ledger of invoices: distribution-channel sales facts at qty × the distribution
        price in force on the day (in the fact's currency), by month; qty without such a price is
        `unpriced_qty`."""
        return render(await sales.receivables(conn, report_scope, limit=limit), accept)

    @get(
        "/returns",
        operation_id="getReturnsReport",
        summary="Return rates (售后)",
        opt=AFTER_SALES,
        dependencies=OVER_A_PERIOD,
    )
    async def returns(
        self,
        conn: Conn,
        report_scope: Scope,
        by: Annotated[
            ReturnsBy, _q("by", "Group by sku (default), product, category, supplier (preferred) or reason.")
        ] = "sku",
        limit: ReportLimitQ = 10_000,
        accept: AcceptH = None,
    ) -> Response[Report[ReturnRow]]:
        """Per group over the period: units sold (the sales facts of its days, before returns), units
        returned on its days (UTC) — resellable or not —, the return rate in percent (returned / sold × 100,
        two decimals; null when nothing was sold) and the reason most units came back for (ties by code;
        none when grouped by reason). By reason, `sold` is every unit sold in scope, so the rates add up to
        the overall rate. Highest rate first."""
        return render(await returns.returns(conn, report_scope, by=by, limit=limit), accept)

    @get(
        "/promotion-roi",
        operation_id="getPromotionRoiReport",
        summary="Promotion outcomes and ROI (营销推广)",
        opt=MERCHANDISING,
        dependencies=OVER_A_PERIOD,
    )
    async def promotion_roi(
        self,
        conn: Conn,
        principal: Actor,
        report_scope: Scope,
        promotion: Annotated[str | None, _q("promotion", "Only this promotion (code).")] = None,
        detail: Annotated[
            RoiDetail,
            _q(
                "detail",
                "promotions (default): a promotion row and an others row per promotion; items: also a row per item"
                " (SKU) — with a scope, the items of the scope's products (the promotion row sums all its items).",
            ),
        ] = "promotions",
        limit: Annotated[
            int,
            QueryParameter(name="limit", ge=1, le=10_000, description="At most this many promotions (default 500)."),
        ] = 500,
        accept: AcceptH = None,
    ) -> Response[Report[PromotionRoiRow]]:
        """Promotions whose days (UTC) meet `from`..`to` and that list a product in scope (or the one named), by
        code; per promotion a `promotion` row, with `detail=items` a row per `item` (SKU; with a scope, of the
        scope's products), and an `others` row — the other listed products of the items' home categories and
        series (`effect`: halo, cannibalisation or none). Figures
        are net of returns, in the promotion's currency, on its spend channel when it names one: units, revenue,
        margin and margin percent during its days; `baseline_*`: the daily rate over its `baseline_days` right
        before it × its days (a window reaching before the first day of any sales data counts the days known,
        `baseline_days_known`, and says so in `caveats`; none known: no baseline); `incremental_*` = actual −
        baseline; `discount_cost` = (sale price in force at its start − promotion price) × units; `spend`; and
        `roi` = (incremental margin − spend) / spend, four decimals. Marketing sees ROI and margin percentages,
        never margin amounts."""
        return render(
            await promotions.promotion_roi(
                conn, principal, report_scope, promotion=promotion, limit=limit, detail=detail
            ),
            accept,
        )
