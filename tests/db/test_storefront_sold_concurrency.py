"""Units sold on the storefront under concurrent writers (committed, on a database of their own): a product
write (a full storefront refresh), a sales upload and a return touch the same three products at once, and
each is made to queue on the same storefront row in turn (a held lock, and the sessions waiting on it read
from pg_stat_activity — no pause decides the order). Every writer locks storefront rows in product id
order, so all three commit (rows locked in crossing orders would deadlock here, in every run), and the
units sold are then those of both sales writes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx

from tests import factories as f
from tests import storefront_catalog as shop
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


async def test_a_product_write_an_upload_and_a_return_of_the_same_products_all_commit(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as conn:
        await shop.shop(conn)
        for code in PRODUCTS:
            await f.sku(conn, f"{code.upper()}-2", code, axes={"size": "large"})
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh_app), base_url="http://t", headers=headers) as api,
        fresh_pool.acquire() as gate,
        fresh_pool.acquire() as writer,
        fresh_pool.acquire() as watcher,
    ):
        # sold before: 4 of each product's second SKU (the return takes some back)
        r = await api.post("/v1/sales", json={"facts": [fact(f"{c.upper()}-2", 4, "2026-01-10") for c in PRODUCTS]})
        assert r.status_code == 200, r.text
        ids = dict(await gate.fetch("SELECT code, id FROM products"))
        assert ids["peony"] < ids["check"] < ids["wave"]

        # Hold the first product's storefront row.
        held = gate.transaction()
        await held.start()
        await gate.execute("SELECT 1 FROM storefront_products WHERE product_id = $1 FOR UPDATE", ids["peony"])

        async def product_write() -> None:
            async with writer.transaction():
                await writer.execute("UPDATE products SET images = '{}' WHERE code = ANY ($1::text[])", list(PRODUCTS))

        tasks: list[asyncio.Future[Any]] = []
        # the product write's refresh waits for the held row first ...
        tasks.append(asyncio.ensure_future(product_write()))
        await waiting(watcher, 1, tasks)
        # ... then the upload's update of units sold (the first SKUs, last product first in the body) ...
        body = {
            "facts": [fact(f"{c.upper()}-1", n, "2026-01-11") for c, n in zip(PRODUCTS[::-1], (5, 3, 2), strict=True)]
        }
        tasks.append(asyncio.ensure_future(api.post("/v1/sales", json=body)))
        await waiting(watcher, 2, tasks)
        # ... then the return's (the second SKUs, last product first)
        movements = {"movements": [line(f"{c.upper()}-2", n) for c, n in zip(PRODUCTS[::-1], (3, 2, 1), strict=True)]}
        tasks.append(asyncio.ensure_future(api.post("/v1/stock/movements", json=movements)))
        await waiting(watcher, 3, tasks)
        await held.commit()
        _, uploaded, returned = await asyncio.gather(*tasks)

        assert uploaded.status_code == 200, uploaded.text
        assert returned.status_code == 201, returned.text
        stored = {r["code"]: r["sold"] for r in await gate.fetch(STORED) if r["code"] in PRODUCTS}
        # wave 4 + 5 − 3, check 4 + 3 − 2, peony 4 + 2 − 1
        assert stored == {"wave": 6, "check": 5, "peony": 5}
        assert stored == {r["code"]: r["sold"] for r in await gate.fetch(REBUILT) if r["code"] in PRODUCTS}
        shelved = await gate.fetch(
            "SELECT DISTINCT s.code, h.sold FROM storefront_shelf h JOIN storefront_products s"
            " ON s.product_id = h.product_id ORDER BY 1"
        )
        assert {r["code"]: r["sold"] for r in shelved} == stored
        assert await gate.fetchval("SELECT count(*) FROM storefront_products WHERE card ->> 'image' IS NULL") >= 3
