"""Periodic housekeeping run by the job runner: idempotency keys are kept 48 hours (at least the 24 the
API promises), then forgotten, and change feed events 7 days, so that their tables do not grow for ever; so are
finished promotion-outcomes jobs (one per burst of writes) after 48 hours."""

from __future__ import annotations

import asyncpg

from domain.imports import service as imports
from domain.jobs import service as jobs
from domain.sales import service as sales
from domain.stock import service as stock
from domain.storefront import feed

KEY_RETENTION_HOURS = 48


async def forget_old_records(conn: asyncpg.Connection) -> None:
    """Forget stock, sales and import idempotency keys older than their retention (the ledger itself stays),
    change feed events older than theirs, uploads abandoned mid-way and finished promotion-outcomes jobs."""
    await stock.forget_old_request_keys(conn, KEY_RETENTION_HOURS)
    await sales.forget_old_requests(conn, KEY_RETENTION_HOURS)
    await feed.forget_old_events(conn)
    await imports.forget_old_uploads(conn, KEY_RETENTION_HOURS)
    await jobs.forget_finished(conn, jobs.PROMOTION_OUTCOMES, KEY_RETENTION_HOURS)
