"""The job runner's kinds: every kind the jobs table admits has its runner (one map, domain/jobs/service.py
RUNNERS), and a job of a kind with none fails with an error that says so."""

from __future__ import annotations

import re

import asyncpg
import pytest

from domain.jobs import service as jobs
from domain.jobs.model import UnknownJobKind


async def test_every_kind_the_jobs_table_admits_has_a_runner_and_no_runner_is_of_another_kind(
    conn: asyncpg.Connection,
) -> None:
    check = await conn.fetchval("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'jobs_kind_check'")
    assert set(re.findall(r"'([a-z_-]+)'", check)) == set(jobs.RUNNERS)


async def test_a_job_of_a_kind_with_no_runner_fails_saying_so(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        # (a kind the table refuses today: as a job queued by a newer version of the code would be)
        await conn.execute("ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check")
        job_id = await conn.fetchval(
            "INSERT INTO jobs (kind, reason, requested_by) VALUES ('reindex-moon', 'test', 'merchflow') RETURNING id"
        )
    with pytest.raises(UnknownJobKind):
        await jobs.run_pending(fresh_pool, workers=1)
    async with fresh_pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT state, error, finished_at IS NOT NULL AS finished FROM jobs WHERE id = $1", job_id
        )
    assert dict(row) == {
        "state": "failed",
        "error": "UnknownJobKind: no runner for job kind 'reindex-moon'",
        "finished": True,
    }
