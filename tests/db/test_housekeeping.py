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
