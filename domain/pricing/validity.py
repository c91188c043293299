"""What changes with time alone: a price period that starts or ends at a moment no write marks. The
`prices_in_force` read model knows, per SKU and currency, when that next happens (`stale_at`); a runner
calls `refresh_price_validity` about once a minute to bring the completeness of those SKUs' products and
the rows themselves up to date. A boundary passed while no runner ran is caught at the next call (the rows
stay stale until then; readers of prices_in_force recompute stale rows meanwhile).

Imports only the query loader: the job runner imports this module, and the completeness module imports
the job runner's types.
"""

from __future__ import annotations

import asyncpg

from domain.sql import load

Q = load("prices")
C = load("completeness")


async def refresh_price_validity(conn: asyncpg.Connection) -> int:
    """Refresh, set-based, the completeness of products whose SKU prices started or stopped being in force
    with no write, and those SKUs' prices_in_force rows; answers how many products were refreshed."""
    if not await conn.fetchval(Q.is_any_price_stale.sql):
        return 0  # the common case: no table lock taken
    async with conn.transaction():
        # Writers of prices (and of what completeness reads) wait until this commits: the stale rows listed
        # next cannot be refreshed by a price write in between.
        await conn.execute(Q.lock_price_validity_sources.sql)
        rows = await conn.fetch(Q.list_stale_price_skus.sql)
        products = sorted({r["product_id"] for r in rows})
        if products:
            await conn.execute(C.upsert_completeness.sql, products)
            await conn.execute(Q.update_prices_in_force.sql, [r["sku_id"] for r in rows])
        return len(products)
