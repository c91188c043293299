"""Group commit of stock movements (MovementWriter): requests that arrive together are applied in one
transaction, each all or nothing on its own, in arrival order; a batch that fails as a whole is applied
request by request; a deadlock or serialization failure of a request alone is tried again."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import pytest

from domain.keys.model import Principal
from domain.stock.model import InsufficientStock, MovementRequest, MovementsResult
from domain.stock.service import MovementWriter
from tests import factories as f

CLERK = Principal(name="clerk", roles=frozenset({"warehouse"}))


async def setup(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await f.tree(conn)
        await f.category(conn, "goods")
        await f.product(conn, "p", "goods")
        await f.sku(conn, "S-1", "p", axes={"n": 1})
        await f.sku(conn, "S-2", "p", axes={"n": 2})
        wid = await conn.fetchval("INSERT INTO warehouses (code) VALUES ('w') RETURNING id")
        await conn.execute(
            "INSERT INTO locations (warehouse_id, code, pick_sequence) VALUES ($1, 'A-01', 0), ($1, 'B-01', 1)", wid
        )


def move(kind: str, sku: str, qty: int, location: str = "A-01", **extra: Any) -> MovementRequest:
    return msgspec.convert(
        {"type": kind, "sku": sku, "qty": qty, "warehouse": "w", "location": location, **extra}, MovementRequest
    )


async def ledger(pool: asyncpg.Pool) -> list[tuple[str, str, int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT s.sku, m.type, m.on_hand_delta FROM stock_movements m JOIN skus s ON s.id = m.sku_id ORDER BY m.id"
        )
    return [(r["sku"], r["type"], r["on_hand_delta"]) for r in rows]


async def test_requests_arriving_together_are_one_transaction_each_all_or_nothing_in_order(
    fresh_pool: asyncpg.Pool,
) -> None:
    await setup(fresh_pool)
    writer = MovementWriter(fresh_pool, in_flight=1)
    await writer.post(CLERK, move("receive", "S-1", 5), None)

    # Posted together while nothing else runs: the first one's batch takes them all, in this order.
    outcomes = await asyncio.gather(
        writer.post(CLERK, move("pick", "S-1", 2), "k-1"),
        writer.post(CLERK, move("pick", "S-1", 10), "k-2"),  # 3 left after the first: refused
        writer.post(CLERK, move("pick", "S-2", 1, location="B-01"), None),  # a bin S-2 never was in: refused
        writer.post(CLERK, move("pick", "S-1", 3), "k-1"),  # the first one's key with another body
        writer.post(CLERK, move("pick", "S-1", 3), None),
        return_exceptions=True,
    )

    assert (writer.batches, writer.requests) == (2, 6)
    first, too_many, empty_bin, reused, last = outcomes
    assert isinstance(first, MovementsResult) and (first.movements[0].on_hand, first.replayed) == (3, False)
    assert isinstance(too_many, InsufficientStock)
    assert (too_many.context["on_hand"], too_many.context["requested"]) == (3, 10)
    assert isinstance(empty_bin, InsufficientStock) and empty_bin.context["on_hand"] == 0
    assert type(reused).__name__ == "IdempotencyKeyReused"
    assert isinstance(last, MovementsResult) and last.movements[0].on_hand == 0
    assert await ledger(fresh_pool) == [("S-1", "receive", 5), ("S-1", "pick", -2), ("S-1", "pick", -3)]
    async with fresh_pool.acquire() as conn:
        # The refused request left nothing behind: not even the empty stock row made for its bin.
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM stock_levels sl JOIN skus s ON s.id = sl.sku_id WHERE s.sku = 'S-2'"
            )
            == 0
        )
        assert await conn.fetchval("SELECT count(*) FROM stock_requests") == 3


async def test_a_retry_in_the_same_batch_answers_the_first_answer(fresh_pool: asyncpg.Pool) -> None:
    await setup(fresh_pool)
    writer = MovementWriter(fresh_pool, in_flight=1)
    await writer.post(CLERK, move("receive", "S-1", 5), None)
    first, retry = await asyncio.gather(
        writer.post(CLERK, move("pick", "S-1", 2), "scan-7"), writer.post(CLERK, move("pick", "S-1", 2), "scan-7")
    )
    assert writer.batches == 2
    assert (first.replayed, retry.replayed) == (False, True)
    assert first.movements == retry.movements and first.request == retry.request
    assert await ledger(fresh_pool) == [("S-1", "receive", 5), ("S-1", "pick", -2)]


async def test_a_batch_that_fails_as_a_whole_is_applied_request_by_request(fresh_pool: asyncpg.Pool) -> None:
    await setup(fresh_pool)
    async with fresh_pool.acquire() as conn:
        # A failure that is not a refusal (it aborts the whole transaction), for one request only.
        await conn.execute("""
            CREATE FUNCTION t_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.reference = 'boom' THEN RAISE EXCEPTION 'injected' USING ERRCODE = '22003'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER t_boom BEFORE INSERT ON stock_movements FOR EACH ROW EXECUTE FUNCTION t_boom();
        """)
    writer = MovementWriter(fresh_pool, in_flight=1)
    await writer.post(CLERK, move("receive", "S-1", 5), None)
    outcomes = await asyncio.gather(
        writer.post(CLERK, move("pick", "S-1", 1), None),
        writer.post(CLERK, move("pick", "S-1", 1, reference="boom"), None),
        writer.post(CLERK, move("pick", "S-1", 1), None),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], MovementsResult) and isinstance(outcomes[2], MovementsResult)
    assert isinstance(outcomes[1], asyncpg.NumericValueOutOfRangeError)
    assert (outcomes[0].movements[0].on_hand, outcomes[2].movements[0].on_hand) == (4, 3)
    assert writer.batches == 1 + 1 + 3  # the receipt, the failed batch, then each of its requests alone
    assert await ledger(fresh_pool) == [("S-1", "receive", 5), ("S-1", "pick", -1), ("S-1", "pick", -1)]


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_a_request_alone_is_tried_again_after_a_deadlock_or_serialization_failure(
    fresh_pool: asyncpg.Pool, sqlstate: str
) -> None:
    await setup(fresh_pool)
    async with fresh_pool.acquire() as conn:
        # The first two attempts fail (a sequence is not rolled back with them), the third goes through.
        await conn.execute(f"""
            CREATE SEQUENCE t_attempts;
            CREATE FUNCTION t_fail_twice() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('t_attempts') <= 2 THEN RAISE EXCEPTION 'injected' USING ERRCODE = '{sqlstate}'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER t_fail BEFORE INSERT ON stock_requests FOR EACH ROW EXECUTE FUNCTION t_fail_twice();
        """)
    writer = MovementWriter(fresh_pool, in_flight=1)
    result = await writer.post(CLERK, move("receive", "S-1", 5), "r-1")
    assert result.movements[0].on_hand == 5
    assert writer.batches == 3
    assert await ledger(fresh_pool) == [("S-1", "receive", 5)]
    async with fresh_pool.acquire() as conn:
        # From now on every attempt fails: after three, the error is the answer.
        await conn.execute(f"""
            CREATE OR REPLACE FUNCTION t_fail_twice() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM nextval('t_attempts');
                RAISE EXCEPTION 'injected' USING ERRCODE = '{sqlstate}';
            END $$;
        """)
    with pytest.raises(asyncpg.PostgresError) as failure:
        await writer.post(CLERK, move("receive", "S-1", 1), None)
    assert failure.value.sqlstate == sqlstate
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT last_value FROM t_attempts") == 3 + 3
    assert await ledger(fresh_pool) == [("S-1", "receive", 5)]
