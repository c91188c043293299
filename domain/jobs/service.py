"""Background jobs: recomputing completeness for every product a change affects, set-based, in chunks,
with progress a client can poll (`GET /v1/jobs/{id}`); rebuilding read models whose building routines
changed (`refresh-models`, queued by the schema runner: api/migrate.py); keeping the promotion outcomes
(`promotion-outcomes`, queued by the writers: domain/reports/outcomes.py); and imports (domain/imports), run
the same way: each kind by its entry in RUNNERS.

A job is a row; any API worker process may run it (claimed with SKIP LOCKED; a runner that stops
sending heartbeats loses its job to another). Recomputing is idempotent, so a job taken over restarts
from the beginning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import asyncpg

from domain.imports.model import IMPORT_KIND, TYPES
from domain.jobs import store
from domain.jobs.model import ClaimedJob, Job, JobNotFound, JobPage, JobRef, JobStats, job_ref
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page

log = logging.getLogger("merchflow.jobs")

CHUNK = 10_000
MODELS_CHUNK = 1_000  # a rebuild's chunk: the storefront costs ~7 ms a product, a chunk a few seconds
RECOMPUTE_COMPLETENESS = "recompute-completeness"
REFRESH_MODELS = "refresh-models"
PROMOTION_OUTCOMES = "promotion-outcomes"  # (domain/reports/outcomes.py: folds and recomputes, no products)
STALE_AFTER_SECONDS = 60
Progress = Callable[[int], None] | None


async def enqueue_recompute(
    conn: asyncpg.Connection, actor: Principal, reason: str, scope_path: str | None, stages: list[str] | None = None
) -> JobRef:
    """Queue a completeness recompute of every product (scope None) or those under a category path, in
    every stage (stages None) or only those the change concerns."""
    return job_ref(await store.insert_job(conn, RECOMPUTE_COMPLETENESS, reason, scope_path, actor.name, stages))


async def enqueue_for_category(
    conn: asyncpg.Connection, actor: Principal, reason: str, category_id: int, stages: list[str] | None = None
) -> JobRef:
    """Queue a completeness recompute of the products under one category."""
    path = await store.get_category_path(conn, category_id)
    return await enqueue_recompute(conn, actor, reason, path, stages)


async def record_progress(conn: asyncpg.Connection, job_id: int, done: int) -> None:
    """A running job's progress and heartbeat (a job that outlasts a minute without one is taken over)."""
    await store.update_job_progress(conn, job_id, done)


async def forget_finished(conn: asyncpg.Connection, kind: str, hours: int) -> int:
    """Forget the finished jobs of `kind` older than `hours` (a kind its writers queue once per burst)."""
    return await store.delete_old_finished_jobs(conn, kind, hours)


async def get_job(conn: asyncpg.Connection, job_id: int) -> Job:
    """One job with its progress."""
    job = await store.get_job(conn, job_id)
    if job is None:
        raise JobNotFound(job_id)
    return job


async def job_stats(conn: asyncpg.Connection) -> JobStats:
    """Jobs per state and the progress of the running ones (for /metrics)."""
    return await store.get_job_stats(conn)


async def list_jobs(conn: asyncpg.Connection, *, state: str | None, limit: int, cursor: str | None) -> JobPage:
    """Jobs newest first."""
    after = decode_cursor(cursor, (int,))
    rows = await store.list_jobs(conn, after[0] if after else None, state, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda j: [j.id])
    return JobPage(items=items, next_cursor=next_cursor)


async def refresh_chunk(conn: asyncpg.Connection, ids: list[int], stages: list[str] | None = None) -> None:
    """Recompute a chunk's completeness in its own transaction through the refresh point's model refresher
    (which locks the chunk's rows first: writers' refreshes of these products wait for it, and it for theirs).

    Only the stages a change concerns are recomputed when it names them (a needs change concerns one);
    a product never computed before gets every stage.
    """
    async with conn.transaction():
        await store.update_chunk_completeness(conn, ids, stages)


async def rebuild_chunk(conn: asyncpg.Connection, ids: list[int], models: list[str]) -> None:
    """Rebuild read models of a chunk's products in one transaction, through the refresh point (recorded like
    a write's, rebuilt at commit)."""
    async with conn.transaction():
        await store.update_chunk_models(conn, ids, models)


async def run_job(
    pool: Any,
    job: ClaimedJob,
    *,
    workers: int = 2,
    on_progress: Progress = None,
    chunk: int = CHUNK,
    work: Callable[[asyncpg.Connection, list[int]], Awaitable[None]] | None = None,
) -> None:
    """Run one claimed job over its products: split them into id ranges of `chunk` and do `work` on each (by
    default recompute its completeness) on `workers` connections."""

    async def recompute(conn: asyncpg.Connection, ids: list[int]) -> None:
        await refresh_chunk(conn, ids, job.stages)

    do = work or recompute
    async with pool.acquire() as conn:
        total = await store.count_job_products(conn, job.scope)
        await store.update_job_total(conn, job.id, total)
        bounds = await store.list_job_chunk_bounds(conn, job.scope, chunk)
    ranges = list(zip([0, *bounds], [*bounds, None], strict=True))
    queue: asyncio.Queue[tuple[int, int | None]] = asyncio.Queue()
    for r in ranges:
        queue.put_nowait(r)

    async def consume() -> None:
        async with pool.acquire() as conn:
            while not queue.empty():
                low, high = queue.get_nowait()
                ids = await store.list_job_product_ids(conn, job.scope, low, high)
                if not ids:
                    continue
                await do(conn, ids)
                await store.update_job_progress(conn, job.id, len(ids))
                if on_progress is not None:
                    on_progress(len(ids))

    await asyncio.gather(*(consume() for _ in range(max(1, min(workers, len(ranges))))))


class Runner(NamedTuple):
    """How a kind of job runs: `run(pool, job, workers, on_progress)`; `own_end` when it records its own end,
    failed or done (an import: its phase and report with it)."""

    run: Callable[[Any, ClaimedJob, int, Progress], Awaitable[None]]
    own_end: bool = False


async def _run_completeness(pool: Any, job: ClaimedJob, workers: int, on_progress: Progress) -> None:
    await run_job(pool, job, workers=workers, on_progress=on_progress)


async def _run_models(pool: Any, job: ClaimedJob, workers: int, on_progress: Progress) -> None:
    models = job.models
    if not models:  # (a rebuild that names no model: the completeness of every product, as before)
        await run_job(pool, job, workers=workers, on_progress=on_progress)
        return
    await run_job(
        pool,
        job,
        workers=workers,
        on_progress=on_progress,
        chunk=MODELS_CHUNK,
        work=lambda conn, ids: rebuild_chunk(conn, ids, models),
    )


async def _run_import(pool: Any, job: ClaimedJob, workers: int, on_progress: Progress) -> None:
    # (imported here: the imports area answers with jobs, so it imports this module)
    from domain.imports.service import run_import

    await run_import(pool, job.id)


async def _run_promotion_outcomes(pool: Any, job: ClaimedJob, workers: int, on_progress: Progress) -> None:
    # (imported here: the reports area reads jobs)
    from domain.reports.outcomes import run_promotion_outcomes

    await run_promotion_outcomes(pool, job.id)


# Every kind of job and its runner: a new kind is one entry here (and one in the jobs_kind_check constraint).
RUNNERS: dict[str, Runner] = {
    RECOMPUTE_COMPLETENESS: Runner(_run_completeness),
    REFRESH_MODELS: Runner(_run_models),
    PROMOTION_OUTCOMES: Runner(_run_promotion_outcomes),
    **{f"{IMPORT_KIND}{kind}": Runner(_run_import, own_end=True) for kind in TYPES},
}


async def run_pending(pool: Any, *, workers: int = 2, on_progress: Progress = None) -> int:
    """Claim and run queued jobs of the kinds this process runs until none is left; answers how many ran."""
    # (imported here: the imports area answers with jobs, so it imports this module)
    from domain.imports.service import finish_overlapped

    ran = await finish_overlapped()  # imports this process applies while their files were read
    kinds = list(RUNNERS)
    while True:
        async with pool.acquire() as conn:
            job = await store.update_job_claimed(conn, STALE_AFTER_SECONDS, kinds)
        if job is None:
            return ran
        runner = RUNNERS[job.kind]
        if runner.own_end:
            await runner.run(pool, job, workers, on_progress)
            ran += 1
            continue
        try:
            await runner.run(pool, job, workers, on_progress)
        except Exception as exc:
            log.exception("job %s failed", job.id)
            async with pool.acquire() as conn:
                await store.update_job_finished(conn, job.id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        async with pool.acquire() as conn:
            await store.update_job_finished(conn, job.id, "done", None)
        ran += 1


DUE_CHUNK = 2000  # storefront rows due per transaction
DUE_ROUNDS = 50


async def refresh_due(conn: asyncpg.Connection) -> int:
    """Refresh the products whose prices started or stopped being in force with no write (time passing is a
    change too: it enters through the refresh point like a write), storefront rows gone stale, and the
    storefront's units sold of the products sales writes queued, a chunk per transaction (at most DUE_ROUNDS
    chunks per call); answers how many."""
    total = 0
    for _ in range(DUE_ROUNDS):
        async with conn.transaction():
            done = await store.update_due_products(conn, DUE_CHUNK)
        total += done
        if done < DUE_CHUNK:
            break
    return total
