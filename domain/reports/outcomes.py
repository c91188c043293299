"""The `promotion-outcomes` job: keeps the promotion outcomes behind the promotion-roi report
(sql/functions/promotions.sql) off the writers' transactions. Writers append deltas to a log and mark the
promotions to recompute whole, and queue this job unless one is queued (coalesced). It folds the log into the
outcome lines, then recomputes the marked promotions in two steps — their new build, committed; a barrier
that waits for every writer that read the previous one; their sums, in one repeatable-read snapshot — and
folds again, until nothing is marked (at most ROUNDS rounds). It ends only on a list of marks taken after a
barrier: every writer that saw it queued, and so queued no other, has committed by then (its marks are in the
list), and every later writer saw it running and queued another job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from domain.jobs import service as jobs
from domain.reports import store

log = logging.getLogger("merchflow.jobs")

ROUNDS = 5  # (at least 2: a job that ends by its rounds ends after a list taken after a barrier)
LOCK_WAIT_SECONDS = 1.0  # between two asks for the job's lock while another job holds it
BARRIER_TRIES = 3600  # a second each
BARRIER_LOCK_TIMEOUT = "1s"
TRIES = 5  # a snapshot's work tried again when a writer touched the same neighbours' SKUs (serialization)

T = TypeVar("T")


async def _in_one_snapshot(conn: asyncpg.Connection, work: Callable[[], Awaitable[T]]) -> T:
    """`work` in one repeatable-read transaction (a savepoint inside a transaction already open: a test's)."""
    return await _retried(conn, work, isolation="repeatable_read")


async def _retried(conn: asyncpg.Connection, work: Callable[[], Awaitable[T]], *, isolation: str | None) -> T:
    """`work` in a transaction with no statement timeout, tried again when a writer moved under it (a
    serialization failure, a key it was adding, a deadlock with a writer of the same neighbours' SKUs)."""
    for attempt in range(1, TRIES + 1):
        try:
            level = None if conn.is_in_transaction() else isolation
            async with conn.transaction(isolation=level):
                await store.update_local_statement_timeout(conn, "0")
                return await work()
        except (asyncpg.SerializationError, asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
            if attempt == TRIES:
                raise
            log.info("promotion outcomes: a writer moved under the job's snapshot; trying again (%s)", attempt)
    raise AssertionError("unreachable")


async def _barrier(conn: asyncpg.Connection, beat: Callable[[], Awaitable[None]]) -> None:
    """Wait for every writer that may have read a previous build (the writers' lock, taken exclusively and let
    go). Asked for a second at a time: new writers queue behind the request, and one of them may hold what a
    writer the job waits for needs (a deadlock the job would otherwise break by failing, or a writer by being
    aborted); stepping out of the queue lets them through."""
    for _ in range(BARRIER_TRIES):
        try:
            async with conn.transaction():
                await store.update_local_lock_timeout(conn, BARRIER_LOCK_TIMEOUT)
                await store.lock_promotion_writers(conn)
            return
        except asyncpg.LockNotAvailableError:
            await beat()  # (a wait of minutes must not look like a dead runner: the job would be taken over)
            continue
    raise TimeoutError("promotion outcomes: writers held the writers' lock for the whole barrier")


def _rebuilt(conn: asyncpg.Connection, promotions: list[int]) -> Callable[[], Awaitable[None]]:
    return lambda: store.update_promotion_outcomes_rebuilt(conn, promotions)


def _summed(conn: asyncpg.Connection, promotions: list[int], marks: list[int]) -> Callable[[], Awaitable[None]]:
    return lambda: store.update_promotion_outcomes_summed(conn, promotions, marks)


async def run_promotion_outcomes(pool: Any, job_id: int | None = None) -> int:
    """Fold the log and recompute the marked promotions; answers how many promotions were recomputed (the job's
    `done`, its heartbeat kept after each step: a recompute of many promotions outlasts the minute after which
    another runner would take the job over)."""
    recomputed = 0
    async with pool.acquire() as conn:

        async def beat(done: int = 0) -> None:
            if job_id is not None:
                await jobs.record_progress(conn, job_id, done)

        locked = False
        try:
            # another promotion-outcomes job may be running (writers queue one while one runs): wait for it a
            # second at a time with this job's heartbeat, not in one statement the statement timeout would end
            while not (locked := await store.lock_promotion_outcomes_job(conn)):
                await beat()
                await asyncio.sleep(LOCK_WAIT_SECONDS)
            barrier_passed = False
            for _ in range(ROUNDS):
                await _in_one_snapshot(conn, lambda: store.update_promotion_log_folded(conn))
                await beat()
                marks, promotions = await store.list_promotion_marks(conn)
                if not promotions and barrier_passed:
                    break
                if not promotions:
                    # a writer that saw this job queued (and so queued none) may not have committed its marks
                    # yet: the last list comes after the barrier, which waits for it (see
                    # merch_queue_promotion_outcomes); a writer after the barrier sees the job running
                    await _barrier(conn, beat)
                    barrier_passed = True
                    continue
                await _retried(conn, _rebuilt(conn, promotions), isolation=None)
                await beat()
                await _barrier(conn, beat)
                barrier_passed = True
                await _in_one_snapshot(conn, _summed(conn, promotions, marks))
                await beat(len(promotions))
                recomputed += len(promotions)
        finally:
            try:
                if locked:
                    await store.delete_promotion_outcomes_job_lock(conn)
            except BaseException:
                conn.terminate()  # (no pooled connection keeps the job's session lock)
                raise
    return recomputed
