"""Completeness that changes with time alone: a price that starts or stops being in force at a moment no
write marks. A runner calls `refresh_price_validity` about once a minute over a window of two minutes, so
each boundary is seen at least once; refreshing twice is harmless.

Imports only the query loader: the job runner imports this module, and the completeness module imports
the job runner's types.
"""

from __future__ import annotations

import asyncpg

from merchflow.domain.sql import load

Q = load("prices")
C = load("completeness")

WINDOW_SECONDS = 120.0


async def refresh_stale_prices_in_force(conn: asyncpg.Connection) -> int:
    """Recompute the rows of the `prices_in_force` read model that went stale with time alone (a period that
    started or ended since they were computed); answers how many SKUs were recomputed. Readers recompute
    stale rows themselves, so this only keeps their number small."""
    return int(await conn.fetchval("SELECT merch_refresh_stale_prices_in_force()"))


async def refresh_price_validity(conn: asyncpg.Connection, window_seconds: float = WINDOW_SECONDS) -> int:
    """Refresh, set-based, the completeness of products whose SKU prices started or stopped being in force
    within the last `window_seconds`; answers how many products were refreshed."""
    async with conn.transaction():
        ids = [r["id"] for r in await conn.fetch(Q.list_price_boundary_products.sql, window_seconds)]
        if ids:
            await conn.execute(Q.lock_price_validity_sources.sql)
            await conn.execute(C.upsert_completeness.sql, ids)
        return len(ids)
