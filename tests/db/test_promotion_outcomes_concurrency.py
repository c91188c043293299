"""The promotion outcomes' recompute against a writer it must not miss (committed, on a database of their own):
a sales upload that read a promotion's build before the promotion-outcomes job replaced it, and commits
after, is counted once — the job's barrier waits for it before the job sums the facts; a mark written by a
writer that saw the job still queued (and so queued none) is taken by that job — it lists the marks a last
time after its barrier, which waits for that writer."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest

from domain.jobs import service as jobs_service
from domain.reports import outcomes, store
from domain.reports.outcomes import run_promotion_outcomes
from domain.reports.store import LIST_PROMOTION_OUTCOMES
from tests import factories as f
from tests.api.test_promotion_outcomes_kept import FROM_FACTS
from tests.api.test_reports import sale

A_UNITS = """
SELECT l.units FROM merch_promotion_lines(ARRAY(SELECT id FROM promotions WHERE code = 'spring')) l
 WHERE l.sku_id = (SELECT id FROM skus WHERE sku = 'A')
"""
QUEUED = "SELECT count(*) FROM jobs WHERE kind = 'promotion-outcomes' AND state = 'queued'"
WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"


async def until_waiting(pool: asyncpg.Pool) -> None:
    """Until a backend waits on an advisory lock (the job at its barrier), at most 10 s."""
    async with pool.acquire() as conn:
        for _ in range(200):
            if await conn.fetchval(WAITING):
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the job never waited for the writer")


async def spring(pool: asyncpg.Pool) -> None:
    """A listed product's SKU A, sold once on 2026-03-01, and the promotion `spring` on A (10–13 March, 80)."""
    async with pool.acquire() as conn:
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


async def test_a_recompute_waits_for_a_writer_that_read_the_build_before_it(fresh_pool: asyncpg.Pool) -> None:
    await spring(fresh_pool)
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


async def test_a_mark_written_as_the_job_is_claimed_is_taken_by_that_job_not_stranded(
    fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit marks a promotion and sees the promotion-outcomes job queued (so it queues none); a runner claims
    that job before the edit commits. The job must not end on a list of marks that cannot see the edit's: it
    waits for the edit at its barrier (the edit holds the writers' lock) and recomputes the promotion."""
    await spring(fresh_pool)
    assert await run_promotion_outcomes(fresh_pool) == 1  # (outside a job: the one the writes queued stays queued)
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval(QUEUED) == 1
    # the barrier's asks, a short wait each: the first refused one tells the test the job waits for the writer
    blocked = asyncio.Event()
    take = store.lock_promotion_writers

    async def watched(conn: asyncpg.Connection) -> None:
        try:
            await take(conn)
        except asyncpg.LockNotAvailableError:
            blocked.set()
            raise

    monkeypatch.setattr(store, "lock_promotion_writers", watched)
    monkeypatch.setattr(outcomes, "BARRIER_LOCK_TIMEOUT", "10ms")
    async with fresh_pool.acquire() as writer:
        tx = writer.transaction()
        await tx.start()
        await writer.execute("UPDATE promotions SET ends_at = '2026-03-15T00:00:00Z' WHERE code = 'spring'")
        runner = asyncio.create_task(jobs_service.run_pending(fresh_pool, workers=1))
        waiting = asyncio.create_task(blocked.wait())
        try:
            # the runner has claimed the job and either ended (it never waited for the edit) or waits for it
            await asyncio.wait({runner, waiting}, return_when=asyncio.FIRST_COMPLETED)
            await tx.commit()
        except BaseException:
            await tx.rollback()
            runner.cancel()
            raise
        finally:
            waiting.cancel()
    assert await runner == 1
    async with fresh_pool.acquire() as conn:
        # the mark taken by that job (none left, and no other job queued: nothing would ever take it)
        assert await conn.fetchval("SELECT count(*) FROM promotion_outcome_stale") == 0
        assert await conn.fetchval(QUEUED) == 0
        row = await conn.fetchrow(
            "SELECT o.last_day::text, o.computed FROM promotion_outcomes o JOIN promotions p ON p.id = o.promotion_id"
            " WHERE p.code = 'spring'"
        )
        assert dict(row) == {"last_day": "2026-03-14", "computed": True}


async def test_concurrent_uploads_edits_moves_and_jobs_leave_the_outcomes_equal_to_the_facts(
    fresh_pool: asyncpg.Pool,
) -> None:
    """Uploads (re-sending days), promotions' edits, products moving and delisted, and the job, all at once on
    their own connections: afterwards (the job run once more) the kept figures equal the facts read whole."""
    skus = [f"S{i}" for i in range(8)]
    async with fresh_pool.acquire() as conn:
        await f.tree(conn)
        await f.category(conn, "left")
        await f.category(conn, "right")
        for i, sku in enumerate(skus):
            await f.product(conn, f"p{i}", "left" if i % 2 else "right", lifecycle="listed")
            await f.sku(conn, sku, f"p{i}")
        await sale(conn, "2026-03-01", "S0", "web", 1, "10")
        for n, (first, last, item) in enumerate((("03-05", "03-09", "S0"), ("03-08", "03-12", "S1"))):
            await conn.execute(
                "WITH p AS (INSERT INTO promotions (code, labels, starts_at, ends_at) VALUES ($1, '{}',"
                " $2::text::timestamptz, $3::text::timestamptz) RETURNING id)"
                " INSERT INTO promotion_items (promotion_id, sku_id, price, currency)"
                " SELECT p.id, s.id, 5, 'CNY' FROM p, skus s WHERE s.sku = $4",
                f"promo{n}",
                f"2026-{first}T00:00:00Z",
                f"2026-{last}T00:00:00Z",
                item,
            )
    await run_promotion_outcomes(fresh_pool)
    done = asyncio.Event()

    async def uploader(seed: int) -> None:
        rng = random.Random(seed)
        async with fresh_pool.acquire() as conn:
            for _ in range(25):
                async with conn.transaction():
                    day = f"2026-03-{rng.randint(2, 13):02d}"
                    await sale(conn, day, rng.choice(skus), rng.choice(["web", "app"]), rng.randint(1, 9), "30")

    async def editor() -> None:
        rng = random.Random(7)
        async with fresh_pool.acquire() as conn:
            for _ in range(12):
                which = rng.randint(0, 3)
                if which == 0:
                    await conn.execute(
                        "UPDATE promotions SET ends_at = ends_at + make_interval(days => $1) WHERE code = 'promo0'",
                        rng.choice([-1, 1]),
                    )
                elif which == 1:
                    await conn.execute(
                        "UPDATE products SET category_id = (SELECT id FROM categories WHERE code = $1) WHERE code = $2",
                        rng.choice(["left", "right"]),
                        f"p{rng.randint(2, 7)}",
                    )
                elif which == 2:
                    await conn.execute(
                        "UPDATE products SET lifecycle = $1 WHERE code = $2",
                        rng.choice(["listed", "delisted"]),
                        f"p{rng.randint(2, 7)}",
                    )
                else:
                    await conn.execute(
                        "UPDATE promotions SET baseline_days = $1 WHERE code = 'promo1'", rng.randint(1, 6)
                    )

    async def jobs() -> None:
        while not done.is_set():
            await run_promotion_outcomes(fresh_pool)

    runner = asyncio.create_task(jobs())
    try:
        await asyncio.gather(*(uploader(n) for n in range(3)), editor())
    finally:
        done.set()
        await runner
    await run_promotion_outcomes(fresh_pool)
    async with fresh_pool.acquire() as conn:
        args = (None, None, None, None, None, None, None, None)
        kept = [dict(r) for r in await conn.fetch(LIST_PROMOTION_OUTCOMES, *args)]
        assert not any(k.pop("recomputing") for k in kept)
        assert kept == [dict(r) for r in await conn.fetch(FROM_FACTS, *args)]
        assert await conn.fetchval("SELECT count(*) FROM promotion_outcome_log") == 0


async def test_a_second_job_waits_for_the_running_one_with_its_heartbeat_and_then_runs(
    fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers queue a job while one runs: the second asks for the job's lock again and again, beating its
    heartbeat (never one blocking wait that the statement timeout would end, failing the job, or that would let
    another runner take it over as dead), and runs once the first lets go."""
    asked: list[bool] = []
    beats: list[int] = []
    holder = await fresh_pool.acquire()
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock(7340655, 1)")  # (the running job's lock)
        take = store.lock_promotion_outcomes_job

        async def counted(conn: asyncpg.Connection) -> bool:
            got = await take(conn)
            asked.append(got)
            if len(asked) == 3:
                await holder.execute("SELECT pg_advisory_unlock(7340655, 1)")  # the first job ends
            return got

        async def beat(conn: asyncpg.Connection, job_id: int, done: int) -> None:
            beats.append(job_id)

        monkeypatch.setattr(store, "lock_promotion_outcomes_job", counted)
        monkeypatch.setattr(outcomes.jobs, "record_progress", beat)
        monkeypatch.setattr(outcomes, "LOCK_WAIT_SECONDS", 0.01)
        assert await asyncio.wait_for(run_promotion_outcomes(fresh_pool, 42), 10) == 0
    finally:
        await fresh_pool.release(holder)
    assert asked == [False, False, False, True]
    assert beats[:3] == [42, 42, 42]  # a heartbeat at each ask while the lock was held
    async with fresh_pool.acquire() as conn:  # and the job let its lock go
        assert await conn.fetchval("SELECT pg_try_advisory_lock(7340655, 1)")
        await conn.execute("SELECT pg_advisory_unlock(7340655, 1)")
