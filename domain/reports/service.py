"""The reports: each one set-based statement over the scope a request names (a category subtree, a role,
a series, and a period for the reports over one), shaped into a `Report`; cost amounts are left out for roles
that may not see them. The reports themselves are in `costs.py` (margins, inventory valuation, payables)
and `sales.py` (assortment, ABC, purchasing scorecard, receivables); what every report shares is here: the
opening that resolves its scope (`open_scope`), the rounding of amounts and the `Report` around the rows.

Prices "now" come from the read model `prices_in_force` (merch_prices_in_force_now: kept by triggers on
prices; a row gone stale with time is recomputed by the reader), another moment from the price history."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

import asyncpg
import msgspec

from domain.errors import param_error
from domain.money import quantum
from domain.reports import store
from domain.reports.model import Report, ReportScope, ScopeIds

R = TypeVar("R", bound=msgspec.Struct)

COST_FIELDS = ("cost", "margin")


async def open_scope(conn: asyncpg.Connection, scope: ReportScope) -> ScopeIds:
    """The ids behind the scope's codes; a code that names nothing is a 400 naming the parameter."""
    if scope.category is None and scope.role is None and scope.series is None:
        return ScopeIds()
    ids = await store.get_report_scope(conn, scope.category, scope.role, scope.series)
    for name, value, found in (
        ("category", scope.category, ids.category_path),
        ("role", scope.role, ids.role_id),
        ("series", scope.series, ids.series_id),
    ):
        if value is not None and found is None:
            raise param_error(
                name, "unknown_code", f"No {name if name != 'role' else 'product role'} has the code {value!r}."
            )
    return ids


def amount(value: Decimal | None, currency: str | None) -> str | None:
    """An amount rounded (half up) to the currency's minor units, as a decimal string."""
    if value is None:
        return None
    return format(value.quantize(quantum(currency), rounding=ROUND_HALF_UP), "f")


def dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _columns(row_type: type[msgspec.Struct], omitted: Sequence[str]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(row_type) if f.encode_name not in omitted]


def report(
    name: str,
    row_type: type[R],
    rows: list[R],
    parameters: dict[str, str | None],
    *,
    limit: int | None = None,
    omitted: Sequence[str] = (),
    basis: str | None = None,
) -> Report[R]:
    """The rows as a report: at most `limit` of them (`truncated` when there were more)."""
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


def to_rows(report: Report[Any]) -> tuple[list[str], list[list[Any]]]:
    """The report as a header and rows of plain values (for CSV): hidden fields are not columns."""
    rows = [msgspec.to_builtins(item) for item in report.items]
    return report.columns, [[row.get(c) for c in report.columns] for row in rows]
