"""Two identical requests with one Idempotency-Key, both held at the same point on purpose: the test holds a
lock on the table the request writes, and lets go only once both requests wait — the first behind that lock,
the second behind the first's lock on the key (with the key's lock missing, both would be behind the table
lock). Then exactly one takes effect and the other replays its answer, in every run: no race decides it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from domain.keys.model import Principal
from domain.sales import service as sales
from domain.stock import service as stock
from domain.stock.model import MovementRequest
from tests import factories as f
from tests.db.test_stock_concurrency import setup as stock_setup

WAITING = """
SELECT count(*) FROM pg_locks
 WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


async def both_held(pool: asyncpg.Pool, table: str, run: Callable[[asyncpg.Connection], Awaitable[Any]]) -> list[Any]:
    """Run `run` on two connections at once while `table` is locked against writes; release the lock when
    both are waiting for a lock (a condition read from pg_locks, not a pause); answer both outcomes."""
    async with pool.acquire() as blocker, pool.acquire() as a, pool.acquire() as b:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        tasks = [asyncio.create_task(run(a)), asyncio.create_task(run(b))]
        deadline = time.monotonic() + 10
        while await blocker.fetchval(WAITING) < 2:
            assert time.monotonic() < deadline, "the two requests never both waited"
            assert not any(t.done() for t in tasks), [t.result() for t in tasks if t.done()]
            await asyncio.sleep(0.005)  # polling the condition above
        await lock.commit()
        return await asyncio.gather(*tasks)


async def test_two_identical_stock_requests_held_together_take_effect_once(fresh_pool: asyncpg.Pool) -> None:
    await stock_setup(fresh_pool)
    actor = Principal(name="scanner-7", roles=frozenset({"warehouse"}))
    body = msgspec.convert(
        {"type": "receive", "sku": "HOT-00", "qty": 3, "warehouse": "hz", "location": "A-01"}, MovementRequest
    )
    answers = await both_held(
        fresh_pool, "stock_levels", lambda conn: stock.post_movements(conn, actor, body, "scanner-7-0042")
    )
    assert sorted(a.replayed for a in answers) == [False, True]
    assert answers[0].movements == answers[1].movements
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT on_hand FROM stock_levels") == 3
        assert await conn.fetchval("SELECT count(*) FROM stock_movements") == 1


async def test_two_identical_sales_uploads_held_together_take_effect_once(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        await f.tree(conn)
        await f.category(conn, "scarves")
        await f.product(conn, "silk-square", "scarves")
        await f.sku(conn, "SQ-RED", "silk-square", axes={"colour": "red"})
    actor = Principal(name="shop-sync", roles=frozenset({"finance"}))
    raw = b'{"facts": [{"day": "2026-01-05", "sku": "SQ-RED", "channel": "web", "qty": 3,'
    raw += b' "revenue": {"amount": "387.00", "currency": "CNY"}}]}'
    answers = await both_held(
        fresh_pool, "sales_facts", lambda conn: sales.post_sales(conn, actor, raw, "application/json", "upload-1")
    )
    # the replay is the first answer itself: a second effect would answer "replaced": 1
    assert [msgspec.to_builtins(a) for a in answers] == [{"accepted": 1, "inserted": 1, "replaced": 0}] * 2
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM sales_requests") == 1
        assert await conn.fetchval("SELECT qty FROM sales_facts") == 3
