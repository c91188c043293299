"""The change feed with real commits: ids in commit order, a cache kept from the feed alone equal to fresh
reads after a burst of writes, in/out-of-stock transitions only when a product crosses zero, retention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from domain.housekeeping import forget_old_records
from tests import storefront_catalog as shop
from tests.conftest import KEYS

WAITING = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"


@pytest.fixture
async def http(fresh_app: Any, fresh_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    async with fresh_pool.acquire() as conn, conn.transaction():
        await shop.shop(conn)
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fresh_app), base_url="http://t", headers=headers
    ) as c:
        yield c


async def feed(http: httpx.AsyncClient, after: int) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    while True:
        r = await http.get("/v1/events", params={"after": after, "limit": 3})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        if page["next_after"] == after:
            return items, after
        after = page["next_after"]


async def test_event_ids_follow_commit_order_not_the_order_writes_began(
    http: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    _, start = await feed(http, 0)
    async with fresh_pool.acquire() as first, fresh_pool.acquire() as second:
        one = first.transaction()
        await one.start()
        await first.execute("UPDATE products SET labels = '{\"en\": \"First\"}' WHERE code = 'peony'")
        async with second.transaction():  # begins after, commits before
            await second.execute("UPDATE products SET labels = '{\"en\": \"Second\"}' WHERE code = 'check'")
        await one.commit()
    items, _ = await feed(http, start)
    # wave is in peony's series: its page lists peony's label, so it changed in peony's transaction
    assert [(e["type"], e["code"], e["fields"]) for e in items] == [
        ("product.changed", "check", ["label"]),
        ("product.changed", "peony", ["label"]),
        ("product.changed", "wave", ["series"]),
    ]
    assert items[0]["id"] < items[1]["id"] < items[2]["id"]


async def test_a_reader_never_sees_a_later_id_before_an_earlier_one_commits(
    http: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    """A transaction flushing its events holds the feed's lock to its commit: a second one waits behind it,
    so no id is visible while a smaller one is still to come."""
    _, start = await feed(http, 0)
    async with fresh_pool.acquire() as first, fresh_pool.acquire() as second, fresh_pool.acquire() as watcher:
        one = first.transaction()
        await one.start()
        await first.execute("UPDATE products SET labels = '{\"en\": \"First\"}' WHERE code = 'peony'")
        await first.execute("SELECT merch_refresh_pending(); SELECT merch_flush_events()")  # what commit runs
        write = asyncio.create_task(
            second.execute("UPDATE products SET labels = '{\"en\": \"Second\"}' WHERE code = 'check'")
        )
        while await watcher.fetchval(WAITING) == 0:  # the second commit waits for the first's
            assert not write.done()
        assert await watcher.fetchval("SELECT count(*) FROM events WHERE id > $1", start) == 0
        await one.commit()
        await write
    items, _ = await feed(http, start)
    assert [e["code"] for e in items] == ["peony", "wave", "check"]


async def test_a_cache_kept_from_the_feed_alone_equals_fresh_reads_after_a_burst_of_writes(
    http: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    codes = ["peony", "check", "wave", "lotus"]
    cache: dict[str, bytes] = {}
    for code in codes:
        r = await http.get(f"/v1/storefront/products/{code}", params={"locale": "en"})
        if r.status_code == 200:
            cache[code] = r.content
    _, cursor = await feed(http, 0)

    writes = [
        http.patch("/v1/products/peony", json={"labels": {"en": "Peony, renamed"}}),
        http.post("/v1/skus/CHECK-1/prices", json={"kind": "sale", "currency": "CNY", "amount": "89"}),
        http.post("/v1/products/wave/transitions", json={"to": "delisted"}),
        http.patch("/v1/products/check", json={"attributes": {"care": "Dry clean"}}),
    ]
    for write in writes:
        r = await write
        assert r.status_code < 300, r.text
    async with fresh_pool.acquire() as conn:
        await conn.execute("UPDATE products SET lifecycle = 'listed' WHERE code = 'lotus'")
        await conn.execute(  # peony's last unit picked: out of stock
            "UPDATE stock_levels SET on_hand = 0 WHERE sku_id = (SELECT id FROM skus WHERE sku = 'PEONY-1')"
        )
        await conn.execute("UPDATE attributes SET labels = '{\"en\": \"Colour\"}' WHERE code = 'color'")
        await conn.execute("SELECT merch_touch_due()")  # the runner's refresh of pages a label change left due

    events, cursor = await feed(http, cursor)
    for event in events:
        if event["type"].startswith("product."):
            r = await http.get(f"/v1/storefront/products/{event['code']}", params={"locale": "en"})
            if r.status_code == 404:
                cache.pop(event["code"], None)
            else:
                cache[event["code"]] = r.content
    fresh = {}
    for code in codes:
        r = await http.get(f"/v1/storefront/products/{code}", params={"locale": "en"})
        if r.status_code == 200:
            fresh[code] = r.content
    assert cache == fresh
    assert set(fresh) == {"peony", "check", "lotus"}
    kinds = {(e["type"], e["code"]) for e in events}
    assert {("product.delisted", "wave"), ("product.listed", "lotus"), ("product.out_of_stock", "peony")} <= kinds
    changed: dict[str, set[str]] = {}
    for e in events:
        if e["type"] == "product.changed":
            changed.setdefault(e["code"], set()).update(e["fields"])
    assert "label" in changed["peony"] and "price" in changed["check"]


async def test_stock_events_only_when_a_product_crosses_zero(http: httpx.AsyncClient, fresh_pool: asyncpg.Pool) -> None:
    _, cursor = await feed(http, 0)
    async with fresh_pool.acquire() as conn:
        for on_hand in (4, 2, 0, 0, 3, 1):
            await conn.execute(
                "UPDATE stock_levels SET on_hand = $1 WHERE sku_id = (SELECT id FROM skus WHERE sku = 'PEONY-1')",
                on_hand,
            )
    events, _ = await feed(http, cursor)
    assert [(e["type"], e["code"]) for e in events] == [
        ("product.out_of_stock", "peony"),
        ("product.in_stock", "peony"),
    ]


async def test_events_older_than_the_retention_are_removed_and_an_older_cursor_is_410(
    http: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    items, newest = await feed(http, 0)
    assert len(items) > 2
    async with fresh_pool.acquire() as conn:
        await conn.execute("UPDATE events SET at = now() - interval '8 days' WHERE id <= $1", items[1]["id"])
        await forget_old_records(conn)
        left = await conn.fetchval("SELECT min(id) FROM events")
    gone = await http.get("/v1/events", params={"after": 0})
    kept = await http.get("/v1/events", params={"after": items[1]["id"]})
    latest = await http.get("/v1/events", params={"after": -1})
    assert left == items[2]["id"]
    assert gone.status_code == 410 and gone.json()["code"] == "cursor-expired"
    assert kept.status_code == 200 and kept.json()["items"][0]["id"] == items[2]["id"]
    assert latest.json() == {"items": [], "next_after": newest}
