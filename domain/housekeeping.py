"""Periodic housekeeping run by the job runner: idempotency keys are kept 48 hours (at least the 24 the
API promises), then forgotten, so that their tables do not grow for ever."""

from __future__ import annotations

import asyncpg

from domain.sql import load

KEY_RETENTION_HOURS = 48
_STOCK = load("stock")
_SALES = load("sales")


async def forget_old_idempotency_keys(conn: asyncpg.Connection) -> None:
    """Forget stock and sales idempotency keys older than the retention (the ledger itself stays)."""
    await conn.execute(_STOCK.update_expired_request_keys.sql, KEY_RETENTION_HOURS)
    await conn.execute(_SALES.delete_expired_sales_requests.sql, KEY_RETENTION_HOURS)
