"""The only place that runs the reports' statements (sql/queries/reports.sql).

Each report statement takes the scope's ids first ($1 the category's path, $2 the role id, $3 the series id)
and answers its rows as the database computes them (amounts and percentages as `Decimal`): the services
round and shape them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.reports.model import MarginsBy, ScopeIds
from domain.sql import load

Q = load("reports")
GET_REPORT_SCOPE = Q.get_report_scope.sql
LIST_MARGINS_BY_SKU = Q.list_margins_by_sku.sql
LIST_MARGINS = Q.list_margins.sql
LIST_INVENTORY_VALUATION = Q.list_inventory_valuation.sql
LIST_ASSORTMENT = Q.list_assortment.sql
LIST_ABC = Q.list_abc.sql
LIST_PURCHASING_SCORECARD = Q.list_purchasing_scorecard.sql
LIST_SCORECARD_SUPPLIERS = Q.list_scorecard_suppliers.sql
LIST_PAYABLES = Q.list_payables.sql
LIST_RECEIVABLES = Q.list_receivables.sql
LIST_RETURNS = Q.list_returns.sql
LIST_PROMOTION_OUTCOMES = Q.list_promotion_outcomes.sql
LIST_PROMOTION_ROI = Q.list_promotion_roi.sql
LOCK_PROMOTION_OUTCOMES_JOB = Q.lock_promotion_outcomes_job.sql
DELETE_PROMOTION_OUTCOMES_JOB_LOCK = Q.delete_promotion_outcomes_job_lock.sql
UPDATE_LOCAL_STATEMENT_TIMEOUT = Q.update_local_statement_timeout.sql
UPDATE_LOCAL_LOCK_TIMEOUT = Q.update_local_lock_timeout.sql
UPDATE_PROMOTION_LOG_FOLDED = Q.update_promotion_log_folded.sql
LIST_PROMOTION_MARKS = Q.list_promotion_marks.sql
UPDATE_PROMOTION_OUTCOMES_REBUILT = Q.update_promotion_outcomes_rebuilt.sql
LOCK_PROMOTION_WRITERS = Q.lock_promotion_writers.sql
UPDATE_PROMOTION_OUTCOMES_SUMMED = Q.update_promotion_outcomes_summed.sql

UPDATE_REPORT_SETTINGS = Q.update_report_settings.sql

Row = Mapping[str, Any]


async def get_report_scope(
    conn: asyncpg.Connection, category: str | None, role: str | None, series: str | None
) -> ScopeIds:
    """The ids behind the codes; None where a code is None or names nothing."""
    return msgspec.convert(dict(await conn.fetchrow(GET_REPORT_SCOPE, category, role, series)), ScopeIds)


async def _fetch(conn: asyncpg.Connection, sql: str, ids: ScopeIds, *args: Any) -> Sequence[Row]:
    async with conn.transaction():
        await conn.execute(UPDATE_REPORT_SETTINGS)
        rows: list[asyncpg.Record] = await conn.fetch(sql, ids.category_path, ids.role_id, ids.series_id, *args)
        return rows


async def list_margins_by_sku(
    conn: asyncpg.Connection, ids: ScopeIds, at: datetime | None, limit: int
) -> Sequence[Row]:
    return await _fetch(conn, LIST_MARGINS_BY_SKU, ids, at, limit)


async def list_margins(
    conn: asyncpg.Connection, ids: ScopeIds, at: datetime | None, by: MarginsBy, limit: int
) -> Sequence[Row]:
    return await _fetch(conn, LIST_MARGINS, ids, at, by, limit)


async def list_inventory_valuation(conn: asyncpg.Connection, ids: ScopeIds, limit: int) -> Sequence[Row]:
    return await _fetch(conn, LIST_INVENTORY_VALUATION, ids, limit)


async def list_assortment(
    conn: asyncpg.Connection, ids: ScopeIds, since: date | None, until: date | None, rollup: bool
) -> Sequence[Row]:
    return await _fetch(conn, LIST_ASSORTMENT, ids, since, until, rollup)


async def list_abc(
    conn: asyncpg.Connection,
    ids: ScopeIds,
    since: date | None,
    until: date | None,
    bounds: list[Decimal],
    limit: int,
    rollup: bool,
) -> Sequence[Row]:
    return await _fetch(conn, LIST_ABC, ids, since, until, bounds, limit, rollup)


async def list_purchasing_scorecard(
    conn: asyncpg.Connection,
    ids: ScopeIds,
    since: date | None,
    until: date | None,
    weights: list[Decimal],
    currency: str,
    limit: int,
    rollup: bool,
) -> Sequence[Row]:
    return await _fetch(conn, LIST_PURCHASING_SCORECARD, ids, since, until, weights, currency, limit, rollup)


async def list_scorecard_suppliers(
    conn: asyncpg.Connection, products: list[str], since: date | None, until: date | None
) -> Sequence[Row]:
    """The preferred supplier of each product, with its return rate and defective share over the period."""
    rows: list[asyncpg.Record] = await conn.fetch(LIST_SCORECARD_SUPPLIERS, products, since, until)
    return rows


async def list_payables(
    conn: asyncpg.Connection, ids: ScopeIds, since: date | None, until: date | None, limit: int
) -> Sequence[Row]:
    return await _fetch(conn, LIST_PAYABLES, ids, since, until, limit)


async def list_receivables(
    conn: asyncpg.Connection, ids: ScopeIds, since: date | None, until: date | None, limit: int, rollup: bool
) -> Sequence[Row]:
    return await _fetch(conn, LIST_RECEIVABLES, ids, since, until, limit, rollup)


async def list_returns(
    conn: asyncpg.Connection,
    ids: ScopeIds,
    since: date | None,
    until: date | None,
    by: str,
    limit: int,
    rollup: bool,
) -> Sequence[Row]:
    return await _fetch(conn, LIST_RETURNS, ids, since, until, by, limit, rollup)


async def list_promotion_outcomes(
    conn: asyncpg.Connection,
    ids: ScopeIds,
    promotion: str | None,
    since: date | None,
    until: date | None,
    limit: int | None,
    product_id: int | None = None,
) -> Sequence[Row]:
    """Per promotion (at most `limit`, by code; one product's only with `product_id`) its items' and
    neighbours' sales during it and before it."""
    return await _fetch(conn, LIST_PROMOTION_OUTCOMES, ids, promotion, since, until, limit, product_id)


async def list_promotion_roi(
    conn: asyncpg.Connection,
    ids: ScopeIds,
    promotion: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    items: bool,
) -> list[asyncpg.Record]:
    """The promotion-roi report's rows, shaped and rounded (each with `promotions` first: how many matched, at
    most `limit` + 1); with `items`, a row per item too (of the scope's products)."""
    async with conn.transaction():
        await conn.execute(UPDATE_REPORT_SETTINGS)
        rows: list[asyncpg.Record] = await conn.fetch(
            LIST_PROMOTION_ROI, ids.category_path, ids.role_id, ids.series_id, promotion, since, until, limit, items
        )
        return rows


async def lock_promotion_outcomes_job(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(LOCK_PROMOTION_OUTCOMES_JOB))


async def delete_promotion_outcomes_job_lock(conn: asyncpg.Connection) -> None:
    await conn.execute(DELETE_PROMOTION_OUTCOMES_JOB_LOCK)


async def update_local_statement_timeout(conn: asyncpg.Connection, value: str) -> None:
    await conn.execute(UPDATE_LOCAL_STATEMENT_TIMEOUT, value)


async def update_local_lock_timeout(conn: asyncpg.Connection, value: str) -> None:
    await conn.execute(UPDATE_LOCAL_LOCK_TIMEOUT, value)


async def update_promotion_log_folded(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(UPDATE_PROMOTION_LOG_FOLDED))


async def list_promotion_marks(conn: asyncpg.Connection) -> tuple[list[int], list[int]]:
    """The marks' ids and the promotions marked to be recomputed."""
    row = await conn.fetchrow(LIST_PROMOTION_MARKS)
    return list(row["marks"]), list(row["promotions"])


async def update_promotion_outcomes_rebuilt(conn: asyncpg.Connection, promotions: list[int]) -> None:
    await conn.execute(UPDATE_PROMOTION_OUTCOMES_REBUILT, promotions)


async def lock_promotion_writers(conn: asyncpg.Connection) -> None:
    await conn.execute(LOCK_PROMOTION_WRITERS)


async def update_promotion_outcomes_summed(conn: asyncpg.Connection, promotions: list[int], marks: list[int]) -> None:
    await conn.execute(UPDATE_PROMOTION_OUTCOMES_SUMMED, promotions, marks)
