"""Units sold on the storefront under concurrent writers (committed, on a database of their own):

- a product write (a full storefront refresh), the clock's tick (the units sold of queued products), a sales
  upload and a return touch the same three products at once, each made to queue in turn (a held lock, and
  the sessions waiting read from pg_stat_activity — no pause decides the order). Storefront rows are locked
  in product id order by every writer, so all four commit (crossing orders deadlock here, in every run),
  and after the next tick the units sold are those of every sales write;
- a tick while a sales write that queued a product has not committed yet skips that product, rather than
  take it off the queue and compute it without that write's totals;
- two ticks at once take each queued product once: the second skips those the first took and has not
  committed, and takes the next oldest."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx

from tests import factories as f
from tests import storefront_catalog as shop
from tests.api.test_reports import sale
from tests.api.test_storefront_sold import REBUILT, STORED
from tests.conftest import KEYS

WAITING = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
PRODUCTS = ("peony", "check", "wave")


def line(sku: str, qty: int) -> dict[str, Any]:
    return {
        "type": "return",
        "sku": sku,
        "qty": qty,
        "warehouse": "hz",
        "location": "A-1",
        "return_reason": "wrong_size",
        "condition": "resellable",
        "sale": {"channel": "web", "day": "2026-01-10"},
    }


def fact(sku: str, qty: int, day: str) -> dict[str, Any]:
    return {"day": day, "sku": sku, "channel": "web", "qty": qty, "revenue": {"amount": "100.00", "currency": "CNY"}}


async def waiting(watcher: asyncpg.Connection, n: int, tasks: list[asyncio.Future[Any]]) -> None:
    """Until n sessions wait for a lock (read outside any transaction: one snapshot per statement)."""
    deadline = time.monotonic() + 10
    while await watcher.fetchval(WAITING) < n:
        assert time.monotonic() < deadline, f"never {n} sessions waiting"
        assert not any(t.done() for t in tasks), [t.result() for t in tasks if t.done()]


async def stored(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["code"]: r["sold"] for r in await conn.fetch(STORED) if r["code"] in PRODUCTS}


async def rebuilt(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["code"]: r["sold"] for r in await conn.fetch(REBUILT) if r["code"] in PRODUCTS}


async def setup(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        await shop.shop(conn)
        for code in PRODUCTS:
            await f.sku(conn, f"{code.upper()}-2", code, axes={"size": "large"})
        return dict(await conn.fetch("SELECT code, id FROM products"))


async def test_a_product_write_a_tick_an_upload_and_a_return_of_the_same_products_all_commit(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    ids = await setup(fresh_pool)
    assert ids["peony"] < ids["check"] < ids["wave"]
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh_app), base_url="http://t", headers=headers) as api,
        fresh_pool.acquire() as gate,
        fresh_pool.acquire() as writer,
        fresh_pool.acquire() as clock,
        fresh_pool.acquire() as watcher,
    ):
        # sold: 4 of each product's second SKU (the return takes some back), queued for the tick
        r = await api.post("/v1/sales", json={"facts": [fact(f"{c.upper()}-2", 4, "2026-01-10") for c in PRODUCTS]})
        assert r.status_code == 200, r.text
        assert await gate.fetchval("SELECT count(*) FROM storefront_sold_due") == 3

        # Hold the first product's storefront row.
        held = gate.transaction()
        await held.start()
        await gate.execute("SELECT 1 FROM storefront_products WHERE product_id = $1 FOR UPDATE", ids["peony"])

        async def product_write() -> None:
            async with writer.transaction():
                await writer.execute("UPDATE products SET images = '{}' WHERE code = ANY ($1::text[])", list(PRODUCTS))

        async def tick() -> int:
            async with clock.transaction():
                return int(await clock.fetchval("SELECT merch_touch_due()"))

        tasks: list[asyncio.Future[Any]] = []
        # the product write's refresh waits for the held row first ...
        tasks.append(asyncio.ensure_future(product_write()))
        await waiting(watcher, 1, tasks)
        # ... then the tick's write of the three products' units sold (it took them off the queue) ...
        tasks.append(asyncio.ensure_future(tick()))
        await waiting(watcher, 2, tasks)
        # ... then an upload (the first SKUs, last product first), which queues them again behind the tick ...
        body = {
            "facts": [fact(f"{c.upper()}-1", n, "2026-01-11") for c, n in zip(PRODUCTS[::-1], (5, 3, 2), strict=True)]
        }
        tasks.append(asyncio.ensure_future(api.post("/v1/sales", json=body)))
        await waiting(watcher, 3, tasks)
        # ... and a return (the second SKUs, last product first)
        movements = {"movements": [line(f"{c.upper()}-2", n) for c, n in zip(PRODUCTS[::-1], (3, 2, 1), strict=True)]}
        tasks.append(asyncio.ensure_future(api.post("/v1/stock/movements", json=movements)))
        await waiting(watcher, 4, tasks)
        await held.commit()
        _, ticked, uploaded, returned = await asyncio.gather(*tasks)

        assert ticked == 3
        assert uploaded.status_code == 200, uploaded.text
        assert returned.status_code == 201, returned.text
        # the upload queued the three products again (the return, which moved stock, refreshed them whole)
        assert await gate.fetchval("SELECT count(*) FROM storefront_sold_due") == 3
        assert await tick() == 3
        # wave 4 + 5 − 3, check 4 + 3 − 2, peony 4 + 2 − 1
        assert await stored(gate) == {"wave": 6, "check": 5, "peony": 5} == await rebuilt(gate)
        shelved = await gate.fetch(
            "SELECT DISTINCT s.code, h.sold FROM storefront_shelf h JOIN storefront_products s"
            " ON s.product_id = h.product_id ORDER BY 1"
        )
        assert {r["code"]: r["sold"] for r in shelved} == await stored(gate)
        assert await gate.fetchval("SELECT count(*) FROM storefront_products WHERE card ->> 'image' IS NULL") >= 3


async def test_a_tick_skips_a_product_whose_sales_write_has_not_committed(fresh_pool: asyncpg.Pool) -> None:
    await setup(fresh_pool)
    async with fresh_pool.acquire() as a, fresh_pool.acquire() as b:
        await sale(a, "2026-01-10", "PEONY-1", "web", 4, "100.00")  # committed, queued
        assert await a.fetchval("SELECT count(*) FROM storefront_sold_due") == 1
        # a sales write queues peony again and has not committed yet (its refresh run now, as at commit)
        writing = a.transaction()
        await writing.start()
        await sale(a, "2026-01-10", "PEONY-2", "web", 3, "90.00")
        await a.execute("SELECT merch_refresh_pending()")
        # the tick meanwhile: peony is the writer's until it commits
        async with b.transaction():
            assert await b.fetchval("SELECT merch_touch_due()") == 0
        await writing.commit()
        assert await b.fetchval("SELECT count(*) FROM storefront_sold_due") == 1
        async with b.transaction():
            assert await b.fetchval("SELECT merch_touch_due()") == 1
        assert (await stored(b))["peony"] == 7 == (await rebuilt(b))["peony"]


TAKEN = (
    "SELECT coalesce(array_agg(product_id ORDER BY product_id), '{}') FROM refresh_pending"
    " WHERE txid = pg_current_xact_id() AND model = 'sold'"
)


async def test_two_ticks_at_once_take_each_queued_product_once_oldest_first(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as a, fresh_pool.acquire() as b:
        await a.execute(
            "INSERT INTO storefront_sold_due (product_id, since)"
            " SELECT 11 - g, timestamptz '2026-01-01T00:00:00Z' + g * interval '1 second' FROM generate_series(1, 10) g"
        )
        first = a.transaction()
        await first.start()
        try:
            assert await a.fetchval("SELECT merch_touch_due(4)") == 4
            # the second tick while the first has not committed (never waiting for it: a wait fails here)
            async with b.transaction():
                await b.execute("SET LOCAL lock_timeout = '2s'")
                assert await b.fetchval("SELECT merch_touch_due(4)") == 4
                second = await b.fetchval(TAKEN)
            took = await a.fetchval(TAKEN)
        finally:
            await first.commit()
        async with b.transaction():
            assert await b.fetchval("SELECT merch_touch_due(4)") == 2
            third = await b.fetchval(TAKEN)
        # the oldest (since) first: product 10 was queued first, product 1 last
        assert (took, second, third) == ([7, 8, 9, 10], [3, 4, 5, 6], [1, 2])
        assert await b.fetchval("SELECT count(*) FROM storefront_sold_due") == 0
