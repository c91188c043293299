"""The promotion outcomes' recompute against a writer it must not miss (committed, on a database of their own):
a sales upload that read a promotion's build before the promotion-outcomes job replaced it, and commits
after, is counted once — the job's barrier waits for it before the job sums the facts."""

from __future__ import annotations

import asyncio

import asyncpg

from domain.reports.outcomes import run_promotion_outcomes
from tests import factories as f
from tests.api.test_reports import sale

A_UNITS = """
SELECT l.units FROM merch_promotion_lines(ARRAY(SELECT id FROM promotions WHERE code = 'spring')) l
 WHERE l.sku_id = (SELECT id FROM skus WHERE sku = 'A')
"""
WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"


async def until_waiting(pool: asyncpg.Pool) -> None:
    """Until a backend waits on an advisory lock (the job at its barrier), at most 10 s."""
    async with pool.acquire() as conn:
        for _ in range(200):
            if await conn.fetchval(WAITING):
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the job never waited for the writer")


async def test_a_recompute_waits_for_a_writer_that_read_the_build_before_it(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        await f.tree(conn)
        await f.category(conn, "scarves")
        await f.product(conn, "silk", "scarves", lifecycle="listed")
        await f.sku(conn, "A", "silk")
        await sale(conn, "2026-03-01", "A", "web", 1, "100")
        await conn.execute(
            "WITH p AS (INSERT INTO promotions (code, labels, starts_at, ends_at) VALUES ('spring', '{}',"
            " '2026-03-10T00:00:00Z', '2026-03-14T00:00:00Z') RETURNING id)"
            " INSERT INTO promotion_items (promotion_id, sku_id, price, currency)"
            " SELECT p.id, s.id, 80, 'CNY' FROM p, skus s WHERE s.sku = 'A'"
        )
    assert await run_promotion_outcomes(fresh_pool) == 1
    # a writer uploads 5 of A during spring, against spring's build, and has not committed when spring is
    # edited (marked) and the job starts
    async with fresh_pool.acquire() as writer:
        tx = writer.transaction()
        await tx.start()
        await sale(writer, "2026-03-12", "A", "web", 5, "400")
        async with fresh_pool.acquire() as conn:
            await conn.execute("UPDATE promotions SET ends_at = '2026-03-15T00:00:00Z' WHERE code = 'spring'")
        job = asyncio.create_task(run_promotion_outcomes(fresh_pool))
        try:
            await until_waiting(fresh_pool)  # (the job has installed the new build: it waits at its barrier)
            assert not job.done()
            await tx.commit()
        except BaseException:
            await tx.rollback()
            job.cancel()
            raise
    assert await job == 1
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval(A_UNITS) == 5
        assert await conn.fetchval("SELECT count(*) FROM promotion_outcome_log") == 0
