"""The job runner's kinds: every kind the jobs table admits has its runner (one map, domain/jobs/service.py
RUNNERS), and a runner claims no job of a kind it has no runner for — it stays queued for a process that has
one (a job queued by a newer version of the code during a rolling deploy)."""

from __future__ import annotations

import re

import asyncpg

from domain.jobs import service as jobs


async def test_every_kind_the_jobs_table_admits_has_a_runner_and_no_runner_is_of_another_kind(
    conn: asyncpg.Connection,
) -> None:
    check = await conn.fetchval("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'jobs_kind_check'")
    assert set(re.findall(r"'([a-z_-]+)'", check)) == set(jobs.RUNNERS)


async def test_a_job_of_a_kind_with_no_runner_is_left_queued_and_the_others_run(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        # (a kind the table refuses today: as a job queued by a newer version of the code would be)
        await conn.execute("ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check")
        unknown = await conn.fetchval(
            "INSERT INTO jobs (kind, reason, requested_by) VALUES ('reindex-moon', 'test', 'merchflow') RETURNING id"
        )
        known = await conn.fetchval(
            "INSERT INTO jobs (kind, reason, requested_by) VALUES ('promotion-outcomes', 'test', 'merchflow')"
            " RETURNING id"
        )
    assert await jobs.run_pending(fresh_pool, workers=1) == 1
    async with fresh_pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, state, error, started_at IS NULL AS unclaimed FROM jobs WHERE id = ANY ($1::bigint[])"
            " ORDER BY id",
            [unknown, known],
        )
    assert [dict(r) for r in rows] == [
        {"id": unknown, "state": "queued", "error": None, "unclaimed": True},
        {"id": known, "state": "done", "error": None, "unclaimed": False},
    ]
