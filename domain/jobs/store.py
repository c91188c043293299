"""The only place that runs the jobs' statements (sql/queries/jobs.sql)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import msgspec

from domain.jobs.model import ClaimedJob, Job, JobStats, RunningJob, progress, rate_and_eta
from domain.sql import load

Q = load("jobs")
INSERT_JOB = Q.insert_job.sql
GET_JOB = Q.get_job.sql
LIST_JOBS = Q.list_jobs.sql
UPDATE_JOB_CLAIMED = Q.update_job_claimed.sql
UPDATE_JOB_TOTAL = Q.update_job_total.sql
UPDATE_JOB_PROGRESS = Q.update_job_progress.sql
UPDATE_JOB_FINISHED = Q.update_job_finished.sql
LIST_JOB_CHUNK_BOUNDS = Q.list_job_chunk_bounds.sql
LIST_JOB_PRODUCT_IDS = Q.list_job_product_ids.sql
COUNT_JOB_PRODUCTS = Q.count_job_products.sql
GET_CATEGORY_PATH = Q.get_category_path.sql
UPDATE_CHUNK_COMPLETENESS = Q.update_chunk_completeness.sql
UPDATE_CHUNK_MODELS = Q.update_chunk_models.sql
UPDATE_DUE_PRODUCTS = Q.update_due_products.sql
COUNT_JOBS_BY_STATE = Q.count_jobs_by_state.sql
LIST_RUNNING_JOBS = Q.list_running_jobs.sql
DELETE_OLD_FINISHED_JOBS = Q.delete_old_finished_jobs.sql


def _job(row: asyncpg.Record) -> Job:
    found = dict(row)
    extra: dict[str, object] = {}
    if found["kind"].startswith("import-"):
        receiving = found["phase"] == "receiving"
        done = found["rows_read"] if receiving else found["done"]
        since = found["started_at"] if receiving else found["applying_at"]
        rate, eta = rate_and_eta(found["phase"], done, found["total"], since, datetime.now(UTC))
        extra = {
            "rows": {
                "read": found["rows_read"],
                "applied": found["rows_applied"],
                "unchanged": found["rows_unchanged"],
                "rejected": found["rows_rejected"],
            },
            "rate": rate,
            "eta_seconds": eta,
            "report": f"/v1/imports/{found['id']}/errors",
        }
    else:
        found["mode"] = found["phase"] = None
    for name in ("rows_read", "rows_applied", "rows_unchanged", "rows_rejected", "applying_at"):
        del found[name]
    return msgspec.convert({**found, **extra, "progress": progress(row["state"], row["done"], row["total"])}, Job)


async def insert_job(
    conn: asyncpg.Connection, kind: str, reason: str, scope: str | None, requested_by: str, stages: list[str] | None
) -> int:
    """The new job's id, or that of an identical job still queued."""
    return int(await conn.fetchval(INSERT_JOB, kind, reason, scope, requested_by, stages))


async def get_job(conn: asyncpg.Connection, job_id: int) -> Job | None:
    row = await conn.fetchrow(GET_JOB, job_id)
    return None if row is None else _job(row)


async def list_jobs(conn: asyncpg.Connection, after: int | None, state: str | None, limit: int) -> list[Job]:
    return [_job(r) for r in await conn.fetch(LIST_JOBS, after, state, limit)]


async def update_job_claimed(conn: asyncpg.Connection, stale_after_seconds: int, kinds: list[str]) -> ClaimedJob | None:
    row = await conn.fetchrow(UPDATE_JOB_CLAIMED, stale_after_seconds, kinds)
    return None if row is None else msgspec.convert(dict(row), ClaimedJob)


async def update_job_total(conn: asyncpg.Connection, job_id: int, total: int) -> None:
    await conn.execute(UPDATE_JOB_TOTAL, job_id, total)


async def update_job_progress(conn: asyncpg.Connection, job_id: int, done: int) -> None:
    await conn.execute(UPDATE_JOB_PROGRESS, job_id, done)


async def update_job_finished(conn: asyncpg.Connection, job_id: int, state: str, error: str | None) -> None:
    await conn.execute(UPDATE_JOB_FINISHED, job_id, state, error)


async def list_job_chunk_bounds(conn: asyncpg.Connection, scope: str | None, chunk: int) -> list[int]:
    return [r["id"] for r in await conn.fetch(LIST_JOB_CHUNK_BOUNDS, scope, chunk)]


async def list_job_product_ids(conn: asyncpg.Connection, scope: str | None, low: int, high: int | None) -> list[int]:
    return [r["id"] for r in await conn.fetch(LIST_JOB_PRODUCT_IDS, scope, low, high)]


async def count_job_products(conn: asyncpg.Connection, scope: str | None) -> int:
    return int(await conn.fetchval(COUNT_JOB_PRODUCTS, scope))


async def get_category_path(conn: asyncpg.Connection, category_id: int) -> str | None:
    path: str | None = await conn.fetchval(GET_CATEGORY_PATH, category_id)
    return path


async def update_chunk_completeness(conn: asyncpg.Connection, ids: list[int], stages: list[str] | None) -> None:
    await conn.execute(UPDATE_CHUNK_COMPLETENESS, ids, stages)


async def update_chunk_models(conn: asyncpg.Connection, ids: list[int], models: list[str]) -> None:
    await conn.execute(UPDATE_CHUNK_MODELS, ids, models)


async def update_due_products(conn: asyncpg.Connection, storefront_limit: int) -> int:
    return int(await conn.fetchval(UPDATE_DUE_PRODUCTS, storefront_limit))


async def get_job_stats(conn: asyncpg.Connection) -> JobStats:
    """Jobs per state and the running ones' progress."""
    states = {row["state"]: int(row["jobs"]) for row in await conn.fetch(COUNT_JOBS_BY_STATE)}
    running = [msgspec.convert(dict(row), RunningJob) for row in await conn.fetch(LIST_RUNNING_JOBS)]
    return JobStats(states=states, running=running)


async def delete_old_finished_jobs(conn: asyncpg.Connection, kind: str, hours: int) -> int:
    return int(await conn.fetchval(DELETE_OLD_FINISHED_JOBS, kind, hours))
