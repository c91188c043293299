"""The `promotion-outcomes` job: keeps the promotion outcomes behind the promotion-roi report
(sql/functions/promotions.sql) off the writers' transactions. Writers append deltas to a log and mark the
promotions to recompute whole, and queue this job unless one is queued (coalesced). It folds the log into the
outcome lines, then recomputes the marked promotions in two steps — their new build, committed; a barrier
that waits for every writer that read the previous one; their sums, in one repeatable-read snapshot — and
folds again, until nothing is marked (at most ROUNDS rounds: a later mark queues another job)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from domain.reports import store

log = logging.getLogger("merchflow.jobs")

PROMOTION_OUTCOMES = "promotion-outcomes"
ROUNDS = 5
TRIES = 5  # a snapshot's work tried again when a writer touched the same neighbours' SKUs (serialization)

T = TypeVar("T")


async def _in_one_snapshot(conn: asyncpg.Connection, work: Callable[[], Awaitable[T]]) -> T:
    """`work` in one repeatable-read transaction with no statement timeout (a savepoint inside a transaction
    already open: a test's), tried again on a serialization failure."""
    for attempt in range(1, TRIES + 1):
        try:
            isolation = None if conn.is_in_transaction() else "repeatable_read"
            async with conn.transaction(isolation=isolation):
                await conn.execute("SET LOCAL statement_timeout = 0")
                return await work()
        except (asyncpg.SerializationError, asyncpg.UniqueViolationError):
            if attempt == TRIES:
                raise
            log.info("promotion outcomes: a writer moved under the job's snapshot; trying again (%s)", attempt)
    raise AssertionError("unreachable")


def _summed(conn: asyncpg.Connection, promotions: list[int], mark: int) -> Callable[[], Awaitable[None]]:
    return lambda: store.update_promotion_outcomes_summed(conn, promotions, mark)


async def run_promotion_outcomes(pool: Any) -> int:
    """Fold the log and recompute the marked promotions; answers how many promotions were recomputed."""
    recomputed = 0
    async with pool.acquire() as conn:
        await store.lock_promotion_outcomes_job(conn)
        try:
            for _ in range(ROUNDS):
                await _in_one_snapshot(conn, lambda: store.update_promotion_log_folded(conn))
                mark, promotions = await store.list_promotion_marks(conn)
                if not promotions:
                    break
                async with conn.transaction():
                    await conn.execute("SET LOCAL statement_timeout = 0")
                    await store.update_promotion_outcomes_rebuilt(conn, promotions)
                async with conn.transaction():
                    await conn.execute("SET LOCAL statement_timeout = 0")  # (as long as the longest writer)
                    await store.lock_promotion_writers(conn)
                await _in_one_snapshot(conn, _summed(conn, promotions, mark))
                recomputed += len(promotions)
        finally:
            await store.unlock_promotion_outcomes_job(conn)
    return recomputed


async def forget_old_jobs(conn: asyncpg.Connection, hours: int) -> int:
    """Forget the finished promotion-outcomes jobs older than `hours` (the writers queue one per burst)."""
    return await store.delete_old_promotion_outcomes_jobs(conn, hours)
