"""Idempotency keys are forgotten after 48 hours; younger ones still answer retries."""

from __future__ import annotations

import asyncpg

from domain.housekeeping import forget_old_records


async def test_keys_older_than_48_hours_are_forgotten_and_younger_ones_kept(conn: asyncpg.Connection) -> None:
    for key, hours in (("old", 49), ("young", 47)):
        await conn.execute(
            "INSERT INTO stock_requests (actor, idempotency_key, request_hash, response, created_at)"
            " VALUES ('scanner', $1, '\\x00', '{}', now() - make_interval(hours => $2))",
            key,
            hours,
        )
        await conn.execute(
            "INSERT INTO sales_requests (actor, idempotency_key, request_hash, response, created_at)"
            " VALUES ('pos', $1, '\\x00', '{}', now() - make_interval(hours => $2))",
            key,
            hours,
        )
    await forget_old_records(conn)
    stock = await conn.fetch("SELECT idempotency_key FROM stock_requests ORDER BY id")
    assert [r["idempotency_key"] for r in stock] == [None, "young"]  # the request row stays: the ledger refers to it
    sales = await conn.fetch("SELECT idempotency_key FROM sales_requests ORDER BY idempotency_key")
    assert [r["idempotency_key"] for r in sales] == ["young"]


async def test_import_keys_older_than_48_hours_are_forgotten_and_abandoned_uploads_failed(
    conn: asyncpg.Connection,
) -> None:
    for key, hours, state in (
        ("old", 49, "done"),
        ("young", 47, "done"),
        (None, 1, "receiving"),
        (None, 0, "receiving"),
    ):
        job = await conn.fetchval(
            "INSERT INTO jobs (kind, reason, requested_by, state, phase, mode, format, idempotency_key, request_hash,"
            " created_at, heartbeat_at) VALUES ('import-products', 'import', 'feed', $1, $1, 'valid_rows', 'jsonl',"
            " $2, '\\x00', now() - make_interval(hours => $3), clock_timestamp() - make_interval(hours => $3))"
            " RETURNING id",
            state,
            key,
            hours,
        )
        await conn.execute("INSERT INTO import_rows (job_id, line, code, ok) VALUES ($1, 1, 'p', false)", job)
    await forget_old_records(conn)
    jobs = await conn.fetch(
        "SELECT idempotency_key, state, phase, (SELECT count(*) FROM import_rows r WHERE r.job_id = j.id) AS staged"
        " FROM jobs j WHERE kind = 'import-products' ORDER BY id"
    )
    assert [tuple(r) for r in jobs] == [
        (None, "done", "done", 1),
        ("young", "done", "done", 1),
        (None, "failed", "interrupted", 0),  # its request has sent no heartbeat for an hour
        (None, "receiving", "receiving", 1),  # still streaming in
    ]
