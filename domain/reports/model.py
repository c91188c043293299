"""Report read models: one row Struct per report, wrapped in a `Report` that echoes its parameters.

Amounts are decimal strings in the row's `currency` (one currency per row), percentages decimal strings
with two decimals. Fields a role may not see (cost amounts for marketing) are left out of the row and
listed in `omitted`; `columns` names the fields of every row, in order (the CSV header).

Every report covers a `ReportScope`: built once from the query parameters, resolved to the ids behind its
codes (`ScopeIds`) by the one opening every report shares (`domain/reports/service.py`)."""

from __future__ import annotations

from datetime import date
from typing import Generic, Literal, TypeVar

import msgspec

from domain.errors import param_error

R = TypeVar("R")

Hidden = msgspec.UnsetType
HIDDEN = msgspec.UNSET

MarginsBy = Literal["sku", "product", "category", "role", "series"]
ReturnsBy = Literal["sku", "product", "category", "supplier", "reason"]
RoiDetail = Literal["promotions", "items"]


class ReportScope(msgspec.Struct, frozen=True, kw_only=True):
    """What a report covers, as the request names it: a category's subtree, a role and a series (codes; None:
    all) and, for the reports over a period, its first and last day (inclusive; None: no bound).

    A period whose first day is after its last is a 400 on `from` as soon as the scope is built."""

    category: str | None = None
    role: str | None = None
    series: str | None = None
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise param_error("from", "dates_reversed", "`from` is after `to`.")

    def echo(self, *, period: bool) -> dict[str, str | None]:
        """The scope as a report's `parameters` repeat it: the codes, then `from` and `to` for a report over a
        period."""
        codes = {"category": self.category, "role": self.role, "series": self.series}
        if not period:
            return codes
        return {
            **codes,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }


class ScopeIds(msgspec.Struct, frozen=True, kw_only=True):
    """The ids behind a scope's codes, as every report statement takes them first: the category's path
    (its subtree), the role's and the series' ids (None: all, or a code that names nothing)."""

    category_path: str | None = None
    role_id: int | None = None
    series_id: int | None = None


class Report(msgspec.Struct, Generic[R], frozen=True, kw_only=True, omit_defaults=True):
    """A report: its rows and what produced them."""

    report: str
    parameters: dict[str, str | None]
    columns: list[str]
    items: list[R]
    truncated: bool = msgspec.field(default=False)
    omitted: list[str] = msgspec.field(default_factory=list)
    basis: str | None = None


class MarginRow(msgspec.Struct, frozen=True, kw_only=True):
    """Prices in force against the cost price, summed over the group's SKUs that have both (one unit each)."""

    group: str | None
    currency: str
    skus: int
    sale: str | None
    sale_cost: str | None
    sale_margin: str | None
    sale_margin_pct: str | None
    distribution: str | None
    distribution_cost: str | None
    distribution_margin: str | None
    distribution_margin_pct: str | None


class ValuationRow(msgspec.Struct, frozen=True, kw_only=True):
    """Stock on hand valued at a unit cost, per warehouse, category and where the cost came from."""

    warehouse: str
    category: str
    cost_source: str
    currency: str | None
    skus: int
    on_hand: int
    value: str | None


class AssortmentRow(msgspec.Struct, frozen=True, kw_only=True):
    """One role or series of the subtree: products, revenue and margin, and their shares of the subtree."""

    dimension: str
    group: str | None
    products: int
    currency: str | None
    qty: int
    revenue: str
    revenue_share: str | None
    cost: str | Hidden | None = HIDDEN
    margin: str | Hidden | None = HIDDEN
    margin_pct: str | None
    margin_share: str | None
    target_share: str | None
    target_diff: str | None


class AbcRow(msgspec.Struct, frozen=True, kw_only=True):
    """One SKU ranked by revenue, with its share, the cumulative share and its class."""

    rank: int
    sku: str
    product: str
    currency: str
    qty: int
    revenue: str
    share: str | None
    cumulative_share: str | None
    class_: str = msgspec.field(name="class")
    cost: str | Hidden | None = HIDDEN
    margin: str | Hidden | None = HIDDEN
    margin_pct: str | None


class ScorecardRow(msgspec.Struct, frozen=True, kw_only=True):
    """One product's components, each normalised to 0..1 within the result, and its weighted score (the return
    rate: of the units the period's sales sold, the percent that came back — null when nothing was sold; its
    quality score is 1 at the lowest rate, 0 at the highest and for an unsold product); its preferred
    supplier's return rate and defective share over the period (over all the supplier's products)."""

    rank: int
    product: str
    volume: int
    margin_pct: str | None
    appeal: str
    value: str
    currency: str
    return_rate: str | None
    volume_score: str
    margin_score: str
    appeal_score: str
    value_score: str
    quality_score: str
    score: str
    supplier: str | None
    supplier_return_rate: str | None
    supplier_defective_share: str | None


class PayableRow(msgspec.Struct, frozen=True, kw_only=True):
    """Receipts at their unit cost, per supplier and month of receipt."""

    month: str
    supplier: str | None
    currency: str
    receipts: int
    qty: int
    amount: str


class ReceivableRow(msgspec.Struct, frozen=True, kw_only=True):
    """Distribution-channel sales at the distribution price in force on the day, per month."""

    month: str
    currency: str
    facts: int
    qty: int
    amount: str | None
    unpriced_qty: int


class ReturnRow(msgspec.Struct, frozen=True, kw_only=True):
    """One group's returns over the period against its units sold: the return rate, and (but by reason) the
    reason most units came back for."""

    group: str | None
    sold: int
    returned: int
    resellable: int
    not_resellable: int
    return_rate: str | None
    top_reason: str | None


class PromotionRoiRow(msgspec.Struct, frozen=True, kw_only=True):
    """One promotion (`level: promotion`, with its spend, ROI and caveats), one of its items (`item`, a SKU),
    or the other listed products of its items' categories and series (`others`: halo or cannibalisation).
    `baseline_*` are the baseline's daily rates × the promotion's days; `incremental_*` = actual − baseline.
    `recomputing`: the promotion is being recomputed after a change to its dates, baseline, spend channel or
    currency, items, an item's category, a series of its scopes or the first day of sales data (a queued job,
    `promotion-outcomes`): it has its promotion row alone, with its spend and no figure (days, units, amounts,
    ROI: null) until the job is done."""

    promotion: str
    level: str
    sku: str | None
    currency: str | None
    days: int | None
    baseline_days: int | None
    baseline_days_known: int | None
    units: int | None
    revenue: str | None
    margin: str | Hidden | None = HIDDEN
    margin_pct: str | None
    baseline_units: str | None
    baseline_revenue: str | None
    baseline_margin: str | Hidden | None = HIDDEN
    incremental_units: str | None
    incremental_revenue: str | None
    incremental_margin: str | Hidden | None = HIDDEN
    discount_cost: str | None
    spend: str | None
    roi: str | None
    effect: str | None
    caveats: str | None
    recomputing: bool
