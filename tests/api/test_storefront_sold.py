"""Units sold on the storefront (`best_selling` pages, the order of search results) follow the sales facts
with a bounded lag: a sales upload, a removal of facts and a return queue the products whose units they
moved (storefront_sold_due), and the refresh point's clock (merch_touch_due, every minute) writes them —
one set-based update of the `sold` column, oldest first, not a refresh of the products. A best-selling page
whose order changed then has another ETag. Nothing else of a product's storefront is rewritten, and no event
goes to the feed (the number is on no page or card)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx

from tests import factories as f
from tests import storefront_catalog as shop

# What the storefront stores of units sold, per product and per shelf row, against what a full computation
# (merch_storefront_rows, as a product's refresh makes the row) gives now.
STORED = "SELECT s.code, s.sold FROM storefront_products s ORDER BY s.code"
SHELVED = (
    "SELECT s.code, h.category_id, h.sold FROM storefront_shelf h JOIN storefront_products s"
    " ON s.product_id = h.product_id ORDER BY 1, 2"
)
REBUILT = """
WITH p AS (SELECT ARRAY(SELECT id FROM products ORDER BY id) AS ids)
SELECT r.code, r.sold, r.listed, r.categories
  FROM p CROSS JOIN LATERAL merch_storefront_rows(
           p.ids, clock_timestamp(), ARRAY(SELECT v FROM merch_storefront_values(p.ids) v),
           ARRAY(SELECT k FROM merch_storefront_sku_rows(p.ids, clock_timestamp()) k)) r
 ORDER BY r.code
"""


def fact(day: str, sku: str, qty: int, channel: str = "web", currency: str = "CNY") -> dict[str, Any]:
    return {
        "day": day,
        "sku": sku,
        "channel": channel,
        "qty": qty,
        "revenue": {"amount": f"{qty * 10}.00", "currency": currency},
    }


@asynccontextmanager
async def as_at_commit(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """The refresh deferred to the end of the block, as to a commit (the test's transaction never commits; it
    otherwise runs after each statement, and an upsert's inserted and replaced facts are two statements'
    deltas then)."""
    await conn.execute("SET CONSTRAINTS refresh_at_commit DEFERRED")
    yield
    await conn.execute("SET CONSTRAINTS refresh_at_commit IMMEDIATE")  # (runs what was deferred)


async def tick(conn: asyncpg.Connection, limit: int = 2000) -> int:
    """The clock's tick (the runner calls it every minute): answers how many products it recorded."""
    return int(await conn.fetchval("SELECT merch_touch_due($1)", limit))


async def queued(conn: asyncpg.Connection) -> list[str]:
    return [
        r["code"]
        for r in await conn.fetch(
            "SELECT p.code FROM storefront_sold_due d JOIN products p ON p.id = d.product_id ORDER BY d.since, p.id"
        )
    ]


async def upload(api: httpx.AsyncClient, *facts: dict[str, Any]) -> None:
    r = await api.post("/v1/sales", json={"facts": list(facts)})
    assert r.status_code == 200, r.text


async def remove(api: httpx.AsyncClient, **params: str) -> None:
    r = await api.delete("/v1/sales", params={"reason": "POS sent the day twice", **params})
    assert r.status_code == 200, r.text


async def give_back(api: httpx.AsyncClient, sku: str, qty: int, day: str, channel: str = "web") -> None:
    """A return of units of the sale of `sku` on `day` (into hz A-1, resellable)."""
    line = {
        "type": "return",
        "sku": sku,
        "qty": qty,
        "warehouse": "hz",
        "location": "A-1",
        "return_reason": "wrong_size",
        "condition": "resellable",
        "sale": {"channel": channel, "day": day},
    }
    r = await api.post("/v1/stock/movements", json=line)
    assert r.status_code == 201, r.text


async def best_selling(http: httpx.AsyncClient, **headers: str) -> httpx.Response:
    r = await http.get(
        "/v1/storefront/products", params={"category": "scarves", "sort": "best_selling"}, headers=headers
    )
    assert r.status_code in (200, 304), r.text
    return r


def order(r: httpx.Response) -> list[str]:
    return [c["code"] for c in r.json()["items"]]


async def sold(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["code"]: r["sold"] for r in await conn.fetch(STORED)}


async def assert_rebuilt(conn: asyncpg.Connection) -> None:
    """Every storefront row and shelf row holds the units sold a full computation gives now."""
    rebuilt = await conn.fetch(REBUILT)
    assert await sold(conn) == {r["code"]: r["sold"] for r in rebuilt}
    shelved = [(r["code"], r["category_id"], r["sold"]) for r in await conn.fetch(SHELVED)]
    expected = sorted((r["code"], c, r["sold"]) for r in rebuilt if r["listed"] for c in r["categories"])
    assert shelved == expected
    assert shelved  # (the listed products are on shelves: the comparison compares something)


async def unlisted(conn: asyncpg.Connection) -> dict[str, int]:
    """The products of the shop that are not listed (they have storefront rows too): nothing sold."""
    return {r["code"]: 0 for r in await conn.fetch("SELECT code FROM storefront_products WHERE NOT listed")}


async def test_an_upload_reorders_best_selling_pages_and_search_at_the_next_tick_with_a_new_etag(
    api: httpx.AsyncClient, as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        before = await best_selling(http)
        found = await http.get("/v1/storefront/search", params={"q": "scarf", "locale": "en"})
        page = await http.get("/v1/storefront/products/wave")
    assert order(before) == ["peony", "check", "wave"]  # nothing sold: ties in product order
    assert [c["code"] for c in found.json()["items"]] == ["peony", "check", "wave"]
    events = await conn.fetchval("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM events_pending)")
    computed = dict(await conn.fetch("SELECT code, computed_at FROM storefront_products"))

    await upload(api, fact("2026-01-10", "WAVE-1", 5), fact("2026-01-10", "CHECK-1", 3))
    # queued by the upload, the storefront as it was until the clock's next tick
    assert await queued(conn) == ["check", "wave"]
    async with as_role("storefront") as http:
        assert (await best_selling(http, **{"If-None-Match": before.headers["etag"]})).status_code == 304
    assert await tick(conn) == 2
    assert await queued(conn) == []

    assert await sold(conn) == {"check": 3, "lotus": 0, "peony": 0, "wave": 5, **await unlisted(conn)}
    async with as_role("storefront") as http:
        after = await best_selling(http)
        stale = await best_selling(http, **{"If-None-Match": before.headers["etag"]})
        current = await best_selling(http, **{"If-None-Match": after.headers["etag"]})
        found = await http.get("/v1/storefront/search", params={"q": "scarf", "locale": "en"})
        same_page = await http.get("/v1/storefront/products/wave", headers={"If-None-Match": page.headers["etag"]})
    assert order(after) == ["wave", "check", "peony"]
    assert after.headers["etag"] != before.headers["etag"]
    assert (stale.status_code, order(stale)) == (200, ["wave", "check", "peony"])
    assert current.status_code == 304
    assert [c["code"] for c in found.json()["items"]] == ["wave", "check", "peony"]
    # the product page shows no units sold: the same bytes, the same ETag; nothing for the feed
    assert same_page.status_code == 304
    assert await conn.fetchval("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM events_pending)") == events
    # no product was refreshed whole
    assert dict(await conn.fetch("SELECT code, computed_at FROM storefront_products")) == computed
    await assert_rebuilt(conn)


async def test_the_clock_writes_the_oldest_queued_products_first(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A tick takes at most its limit of queued products, those queued first (a product queued again keeps its
    first moment): the lag is bounded by the tick's period while the ticks keep up with the sales."""
    await shop.shop(conn)
    await upload(api, fact("2026-01-10", "WAVE-1", 5))
    await upload(api, fact("2026-01-10", "PEONY-1", 2), fact("2026-01-11", "CHECK-1", 1))
    await upload(api, fact("2026-01-11", "WAVE-1", 1))  # (wave stays first in line)
    assert await queued(conn) == ["wave", "peony", "check"]
    assert await tick(conn, limit=1) == 1
    assert (await queued(conn), await sold(conn)) == (
        ["peony", "check"],
        {"check": 0, "lotus": 0, "peony": 0, "wave": 6, **await unlisted(conn)},
    )
    assert await tick(conn, limit=2) == 2
    assert await queued(conn) == []
    await assert_rebuilt(conn)


async def test_a_removal_and_a_return_lower_units_sold(
    api: httpx.AsyncClient, as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await upload(
        api, fact("2026-01-10", "WAVE-1", 5), fact("2026-01-10", "CHECK-1", 3), fact("2026-01-11", "PEONY-1", 2)
    )
    await tick(conn)
    async with as_role("storefront") as http:
        assert order(await best_selling(http)) == ["wave", "check", "peony"]

    await give_back(api, "WAVE-1", 4, "2026-01-10")  # 5 − 4 back: 1
    assert await queued(conn) == ["wave"]
    await tick(conn)
    assert (await sold(conn))["wave"] == 1
    async with as_role("storefront") as http:
        assert order(await best_selling(http)) == ["check", "peony", "wave"]

    await remove(api, day="2026-01-10", sku="CHECK-1")
    assert await queued(conn) == ["check"]
    await tick(conn)
    assert (await sold(conn))["check"] == 0
    async with as_role("storefront") as http:
        assert order(await best_selling(http)) == ["peony", "wave", "check"]
    await assert_rebuilt(conn)


async def test_a_re_sent_day_replaces_its_units_rather_than_adding_them(
    api: httpx.AsyncClient, as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await upload(api, fact("2026-01-10", "PEONY-1", 5), fact("2026-01-10", "WAVE-1", 4))
    await tick(conn)
    await upload(api, fact("2026-01-10", "PEONY-1", 5), fact("2026-01-10", "WAVE-1", 4))
    assert await queued(conn) == []  # the same units: nothing to write
    await tick(conn)
    assert [(await sold(conn))[c] for c in ("peony", "wave")] == [5, 4]
    await upload(api, fact("2026-01-10", "PEONY-1", 2))
    await tick(conn)
    assert [(await sold(conn))[c] for c in ("peony", "wave")] == [2, 4]
    async with as_role("storefront") as http:
        assert order(await best_selling(http)) == ["wave", "peony", "check"]
    await assert_rebuilt(conn)


async def test_a_sales_write_that_moves_no_unit_rewrites_no_storefront_row(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A re-sent day with the same units (other revenue), and units moved from one SKU of a product to
    another: the product's units sold stay; its rows are not written (the same tuple)."""
    await shop.shop(conn)
    await f.sku(conn, "WAVE-2", "wave", axes={"size": "large"})
    await upload(api, fact("2026-01-10", "WAVE-1", 5), fact("2026-01-10", "PEONY-1", 1))
    await tick(conn)
    tuples = (
        "SELECT s.code, s.ctid::text, (SELECT array_agg(h.ctid::text ORDER BY h.category_id) FROM storefront_shelf h"
        " WHERE h.product_id = s.product_id) FROM storefront_products s ORDER BY 1"
    )
    before = [tuple(r) for r in await conn.fetch(tuples)]
    moved = {"day": "2026-01-10", "channel": "web", "revenue": {"amount": "77.00", "currency": "CNY"}}
    async with as_at_commit(conn):
        await upload(api, {**moved, "sku": "WAVE-1", "qty": 5}, {**moved, "sku": "PEONY-1", "qty": 1})
    async with as_at_commit(conn):
        await upload(api, {**moved, "sku": "WAVE-1", "qty": 2}, {**moved, "sku": "WAVE-2", "qty": 3})
    assert await conn.fetchval("SELECT count(*) FROM sales_pending") == 0  # (the refresh ran)
    assert await queued(conn) == []
    await tick(conn)
    assert [tuple(r) for r in await conn.fetch(tuples)] == before
    assert [(await sold(conn))[c] for c in ("peony", "wave")] == [1, 5]
    await assert_rebuilt(conn)


async def test_units_sold_equal_a_full_computation_after_a_mixed_sequence(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Uploads in two currencies and channels, re-sent days, returns, removals, a product write, a product
    delisted and listed again, a SKU moved to another product: at the end every storefront and shelf row
    holds what a full computation gives."""
    await shop.shop(conn)
    await f.sku(conn, "WAVE-2", "wave", axes={"size": "large"})
    await f.sku(conn, "CHECK-2", "check", axes={"size": "large"})
    await upload(
        api,
        fact("2026-01-10", "WAVE-1", 7),
        fact("2026-01-10", "WAVE-2", 2, channel="b2b"),
        fact("2026-01-10", "CHECK-1", 4),
        fact("2026-01-11", "CHECK-2", 6, currency="USD"),
        fact("2026-01-11", "PEONY-1", 3),
        fact("2026-01-12", "LOTUS-1", 9),  # a draft: its row counts too, it is on no shelf
    )
    await tick(conn)
    await assert_rebuilt(conn)
    await give_back(api, "WAVE-1", 3, "2026-01-10")
    await upload(api, fact("2026-01-11", "PEONY-1", 8), fact("2026-01-12", "WAVE-2", 1))
    await conn.execute("UPDATE products SET images = '{}' WHERE code = 'peony'")
    await give_back(api, "CHECK-2", 2, "2026-01-11")
    await shop.list_product(conn, "wave", "delisted")
    await upload(api, fact("2026-01-13", "WAVE-1", 2))
    await shop.list_product(conn, "wave")
    await remove(api, day="2026-01-10", channel="b2b")
    await conn.execute(
        "UPDATE skus SET product_id = (SELECT id FROM products WHERE code = 'peony') WHERE sku = 'CHECK-2'"
    )
    await upload(api, fact("2026-01-14", "CHECK-2", 1, currency="USD"))
    await tick(conn)
    await upload(api, fact("2026-01-15", "CHECK-1", 2), fact("2026-01-15", "WAVE-1", 1))
    # a product write and the clock's tick in one transaction: the product refreshed whole, the other only
    # has its units sold written
    async with as_at_commit(conn):
        await conn.execute("UPDATE products SET images = '{}' WHERE code = 'check'")
        assert await tick(conn) == 2
    # wave: 7 − 3 back + 2 + 1 (WAVE-1) + 1 (WAVE-2; its b2b day removed); peony: 8 + CHECK-2's 6 − 2 + 1;
    # check: 4 + 2
    assert {c: n for c, n in (await sold(conn)).items() if c in ("wave", "peony", "check", "lotus")} == {
        "wave": 8,
        "peony": 13,
        "check": 6,
        "lotus": 9,
    }
    await assert_rebuilt(conn)
