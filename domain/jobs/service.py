"""Background jobs: recomputing completeness for every product a change affects, set-based, in chunks,
with progress a client can poll (`GET /v1/jobs/{id}`).

A job is a row; any API worker process may run it (claimed with SKIP LOCKED; a runner that stops
sending heartbeats loses its job to another). Recomputing is idempotent, so a job taken over restarts
from the beginning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

from domain.errors import NotFound
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Page

Q = load("jobs")
log = logging.getLogger("merchflow.jobs")

CHUNK = 10_000
STALE_AFTER_SECONDS = 60
JobState = Literal["queued", "running", "done", "failed"]


class Job(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    reason: str
    scope: str | None
    stages: list[str] | None
    state: JobState
    total: int | None
    done: int
    progress: float | None
    error: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobRef(msgspec.Struct, frozen=True, kw_only=True):
    """A job a write started: poll `href` for its progress."""

    id: int
    href: str


def _job(row: asyncpg.Record) -> Job:
    data = dict(row)
    total = data["total"]
    data["progress"] = None if not total else round(data["done"] / total, 4)
    if total == 0:
        data["progress"] = 1.0 if data["state"] == "done" else None
    return msgspec.convert(data, Job)


async def enqueue_recompute(
    conn: asyncpg.Connection, actor: Principal, reason: str, scope_path: str | None, stages: list[str] | None = None
) -> JobRef:
    """Queue a completeness recompute of every product (scope None) or those under a category path, in
    every stage (stages None) or only those the change concerns."""
    job_id = await conn.fetchval(Q.insert_job.sql, "recompute-completeness", reason, scope_path, actor.name, stages)
    return JobRef(id=job_id, href=f"/v1/jobs/{job_id}")


async def enqueue_for_category(
    conn: asyncpg.Connection, actor: Principal, reason: str, category_id: int, stages: list[str] | None = None
) -> JobRef:
    """Queue a completeness recompute of the products under one category."""
    path = await conn.fetchval(Q.get_category_path.sql, category_id)
    return await enqueue_recompute(conn, actor, reason, path, stages)


async def get_job(conn: asyncpg.Connection, job_id: int) -> Job:
    """One job with its progress."""
    row = await conn.fetchrow(Q.get_job.sql, job_id)
    if row is None:
        raise NotFound(f"No job has the id {job_id}.", code="job-not-found")
    return _job(row)


async def list_jobs(conn: asyncpg.Connection, *, state: str | None, limit: int, cursor: str | None) -> Page[Job]:
    """Jobs newest first."""
    after = decode_cursor(cursor, (int,))
    rows = await conn.fetch(Q.list_jobs.sql, after[0] if after else None, state, limit + 1)
    items, next_cursor = split_page([_job(r) for r in rows], limit, lambda j: [j.id])
    return Page(items=items, next_cursor=next_cursor)


async def refresh_chunk(conn: asyncpg.Connection, ids: list[int], stages: list[str] | None = None) -> None:
    """Recompute a chunk's completeness in its own transaction through the refresh point's model refresher
    (which locks the chunk's rows first: writers' refreshes of these products wait for it, and it for theirs).

    Only the stages a change concerns are recomputed when it names them (a needs change concerns one);
    a product never computed before gets every stage.
    """
    async with conn.transaction():
        await conn.execute(Q.update_chunk_completeness.sql, ids, stages)


async def run_job(
    pool: Any, job: asyncpg.Record, *, workers: int = 2, on_progress: Callable[[int], None] | None = None
) -> None:
    """Run one claimed job: split its products into id ranges and recompute them on `workers` connections."""
    scope = job["scope"]
    async with pool.acquire() as conn:
        total = await conn.fetchval(Q.count_job_products.sql, scope)
        await conn.execute(Q.update_job_total.sql, job["id"], total)
        bounds = [r["id"] for r in await conn.fetch(Q.list_job_chunk_bounds.sql, scope, CHUNK)]
    ranges = list(zip([0, *bounds], [*bounds, None], strict=True))
    queue: asyncio.Queue[tuple[int, int | None]] = asyncio.Queue()
    for r in ranges:
        queue.put_nowait(r)

    async def consume() -> None:
        async with pool.acquire() as conn:
            while not queue.empty():
                low, high = queue.get_nowait()
                ids = [r["id"] for r in await conn.fetch(Q.list_job_product_ids.sql, scope, low, high)]
                if not ids:
                    continue
                await refresh_chunk(conn, ids, job["stages"])
                await conn.execute(Q.update_job_progress.sql, job["id"], len(ids))
                if on_progress is not None:
                    on_progress(len(ids))

    await asyncio.gather(*(consume() for _ in range(max(1, min(workers, len(ranges))))))


async def run_pending(pool: Any, *, workers: int = 2, on_progress: Callable[[int], None] | None = None) -> int:
    """Claim and run queued jobs until none is left; answers how many ran."""
    ran = 0
    while True:
        async with pool.acquire() as conn:
            job = await conn.fetchrow(Q.update_job_claimed.sql, STALE_AFTER_SECONDS)
        if job is None:
            return ran
        try:
            await run_job(pool, job, workers=workers, on_progress=on_progress)
        except Exception as exc:
            log.exception("job %s failed", job["id"])
            async with pool.acquire() as conn:
                await conn.execute(Q.update_job_finished.sql, job["id"], "failed", f"{type(exc).__name__}: {exc}")
            raise
        async with pool.acquire() as conn:
            await conn.execute(Q.update_job_finished.sql, job["id"], "done", None)
        ran += 1


async def refresh_due(conn: asyncpg.Connection) -> int:
    """Refresh the products whose prices started or stopped being in force with no write (time passing is a
    change too: it enters through the refresh point like a write); answers how many."""
    async with conn.transaction():
        due: int = await conn.fetchval(Q.update_due_products.sql)
        return due
