"""Corrections racing other writers, committed, on a database of their own:

- a removal of sales facts and an upload re-sending the same days, both waiting on a third writer's row:
  neither deadlocks, the removal (which locked the first row) goes first, the upload then inserts afresh, and
  the monthly rollup and the per-SKU totals equal a rebuild from the facts once both have committed;
- two corrections of one SKU's overlapping ranges, both held up by the period they cut and then released at
  once: they take turns (the second reads and corrects what the first left: without the SKU's locks both
  would cut the periods they read before the other wrote, and one would fail), no two periods overlap, and
  the periods are those of the two applied one after the other in the order they committed;
- a batch of returns whose lines name sales out of key order and an upload of those sales: the batch locks the
  facts in key order before its lines, so it never holds one the upload waits for while it waits for the upload.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from domain.stock import service as stock_service
from tests import factories as f
from tests.conftest import client_for

REBUILD = (
    "SELECT date_trunc('month', f.day)::date, s.sku, f.channel, f.currency, count(*)::integer, sum(f.qty)::bigint,"
    " sum(f.revenue), coalesce(sum(f.cost), 0), coalesce(sum(f.qty) FILTER (WHERE f.cost IS NOT NULL), 0)::bigint,"
    " count(f.cost)::integer, coalesce(sum(f.revenue) FILTER (WHERE f.cost IS NOT NULL), 0),"
    " coalesce(sum(f.distribution_value), 0),"
    " coalesce(sum(f.qty) FILTER (WHERE f.distribution_value IS NOT NULL), 0)::bigint,"
    " count(f.distribution_value)::integer"
    " FROM sales_facts f JOIN skus s ON s.id = f.sku_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
)
ROLLUP = (
    "SELECT m.month, s.sku, m.channel, m.currency, m.facts, m.qty, m.revenue, m.cost, m.costed_qty, m.costed_facts,"
    " m.costed_revenue, m.distribution_value, m.distributed_qty, m.distributed_facts"
    " FROM sales_monthly m JOIN skus s ON s.id = m.sku_id ORDER BY 1, 2, 3, 4"
)
TOTALS = (
    "SELECT s.sku, t.currency, t.facts, t.qty, t.revenue, t.cost FROM sales_sku_totals t JOIN skus s ON s.id = t.sku_id"
    " ORDER BY 1, 2"
)
SUMMED = (
    "SELECT s.sku, m.currency, sum(m.facts), sum(m.qty), sum(m.revenue), sum(m.cost) FROM sales_monthly m"
    " JOIN skus s ON s.id = m.sku_id GROUP BY 1, 2 ORDER BY 1, 2"
)


async def waiting(watcher: asyncpg.Connection) -> int:
    """How many backends of this database wait on a lock."""
    return int(
        await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )


def fact(day: str, sku: str, qty: int) -> dict[str, Any]:
    return {
        "day": day,
        "sku": sku,
        "channel": "web",
        "qty": qty,
        "revenue": {"amount": f"{qty}0.00", "currency": "CNY"},
    }


async def test_a_removal_and_an_upload_of_the_same_days_take_turns_and_leave_the_rollup_exact(
    fresh_pool: asyncpg.Pool, fresh_app: Any
) -> None:
    async with fresh_pool.acquire() as setup:
        await f.tree(setup)
        await f.category(setup, "scarves")
        await f.product(setup, "p1", "scarves")
        for sku in ("S1", "S2", "S3"):
            await f.sku(setup, sku, "p1", axes={"n": sku})
        await setup.execute(
            "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
            " SELECT id, 'cost', 'CNY', 4, '2025-01-01', 'test' FROM skus"
        )
    days = ("2026-01-10", "2026-01-11", "2026-01-12")
    async with client_for(fresh_app, "finance") as api:
        first = [fact(d, s, 2) for d in days for s in ("S1", "S2", "S3")]
        assert (await api.post("/v1/sales", json={"facts": first})).json()["inserted"] == 9
    async with fresh_pool.acquire() as blocker, fresh_pool.acquire() as watcher:
        # A third writer holds a fact in the middle of the days (key order: day, SKU, channel).
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute(
            "SELECT 1 FROM sales_facts f JOIN skus s ON s.id = f.sku_id WHERE f.day = '2026-01-11' AND s.sku = 'S2'"
            " FOR UPDATE OF f"
        )
        async with client_for(fresh_app, "finance") as api:
            removal = asyncio.ensure_future(
                api.delete("/v1/sales", params={"from": days[0], "to": days[-1], "reason": "double upload"})
            )
            while await waiting(watcher) < 1:  # the removal holds the first facts and waits for the held one
                assert not removal.done(), removal.result().text
            again = [fact(d, s, 5) for d in days for s in ("S1", "S2", "S3")]
            upload = asyncio.ensure_future(api.post("/v1/sales", json={"facts": again}))
            while await waiting(watcher) < 2:  # the upload waits for the removal's first fact
                assert not upload.done(), upload.result().text
            await tx.commit()
            removed, uploaded = await removal, await upload
    assert (removed.status_code, removed.json()) == (
        200,
        {"removed": 9, "skus": 3, "qty": 18, "revenue": [{"amount": "180.00", "currency": "CNY"}]},
    )
    assert (uploaded.status_code, uploaded.json()) == (200, {"accepted": 9, "inserted": 9, "replaced": 0})
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM sales_facts WHERE qty = 5") == 9
        rollup = [tuple(r) for r in await conn.fetch(ROLLUP)]
        assert rollup == [tuple(r) for r in await conn.fetch(REBUILD)]
        # three days of 5 units, costed at 4
        assert [(r[1], r[4], r[5], str(r[7])) for r in rollup] == [(s, 3, 15, "60.0000") for s in ("S1", "S2", "S3")]
        assert [tuple(r) for r in await conn.fetch(TOTALS)] == [tuple(r) for r in await conn.fetch(SUMMED)]
        audited = await conn.fetch("SELECT code, reason FROM audit_log WHERE entity = 'sales' ORDER BY code")
        assert [tuple(r) for r in audited] == [
            ("S1", "double upload"),
            ("S2", "double upload"),
            ("S3", "double upload"),
        ]


def periods(*rows: tuple[str, str, str | None]) -> list[tuple[str, str, str | None]]:
    return list(rows)


async def test_two_corrections_of_one_sku_take_turns_and_leave_no_overlap(
    fresh_pool: asyncpg.Pool, fresh_app: Any
) -> None:
    async with fresh_pool.acquire() as setup:
        await f.tree(setup)
        await f.category(setup, "scarves")
        await f.product(setup, "p1", "scarves")
        await f.sku(setup, "S1", "p1")
        await setup.execute(
            "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
            " SELECT id, 'sale', 'CNY', 100, '2025-01-01T00:00:00Z', 'test' FROM skus"
        )

    def body(amount: str, start: str, end: str) -> dict[str, Any]:
        return {
            "kind": "sale",
            "currency": "CNY",
            "amount": amount,
            "valid_from": f"2025-{start}T00:00:00Z",
            "valid_to": f"2025-{end}T00:00:00Z",
            "reason": f"late invoice {amount}",
        }

    url = "/v1/skus/S1/prices/corrections"
    async with fresh_pool.acquire() as blocker, fresh_pool.acquire() as watcher:
        tx = blocker.transaction()
        await tx.start()
        # Hold the one price period both corrections cut: each gets as far as cutting it, whatever it locks first.
        await blocker.execute("SELECT 1 FROM prices FOR UPDATE")
        async with client_for(fresh_app, "finance") as one, client_for(fresh_app, "admin") as two:
            a = asyncio.ensure_future(one.post(url, json=body("90.00", "03-01", "06-01")))
            b = asyncio.ensure_future(two.post(url, json=body("80.00", "05-01", "08-01")))
            while await waiting(watcher) < 2:
                assert not a.done() and not b.done()
            await tx.commit()
            answers = [await a, await b]
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    first, second = sorted(answers, key=lambda r: int(r.json()["id"]))
    # the second saw what the first left
    start, end = second.json()["valid_from"], second.json()["valid_to"]
    assert second.json()["before"] == [
        p for p in first.json()["after"] if (p["valid_to"] is None or p["valid_to"] > start) and p["valid_from"] < end
    ]
    async with fresh_pool.acquire() as conn:
        stored = [
            (str(r["amount"]), r["valid_from"].strftime("%m-%d"), r["valid_to"] and r["valid_to"].strftime("%m-%d"))
            for r in await conn.fetch("SELECT amount, valid_from, valid_to FROM prices ORDER BY valid_from")
        ]
        overlaps = await conn.fetchval(
            "SELECT count(*) FROM prices a JOIN prices b ON a.id < b.id AND a.sku_id = b.sku_id AND a.kind = b.kind"
            " AND a.currency = b.currency"
            " AND tstzrange(a.valid_from, a.valid_to) && tstzrange(b.valid_from, b.valid_to)"
        )
        corrections = await conn.fetchval("SELECT count(*) FROM price_corrections")
    assert (overlaps, corrections) == (0, 2)
    if first.json()["amount"] == "90.00":
        assert stored == periods(
            ("100.0000", "01-01", "03-01"),
            ("90.0000", "03-01", "05-01"),
            ("80.0000", "05-01", "08-01"),
            ("100.0000", "08-01", None),
        )
    else:
        assert stored == periods(
            ("100.0000", "01-01", "03-01"),
            ("90.0000", "03-01", "06-01"),
            ("80.0000", "06-01", "08-01"),
            ("100.0000", "08-01", None),
        )


async def test_a_batch_of_returns_and_an_upload_of_the_sales_they_reverse_never_deadlock(
    fresh_pool: asyncpg.Pool, fresh_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch that meets a deadlock is run again, which would hide one here.
    monkeypatch.setattr(stock_service, "_TRANSIENT", ())
    days = ("2026-01-10", "2026-01-11", "2026-01-12")  # the facts' key order
    async with fresh_pool.acquire() as setup:
        await f.tree(setup)
        await f.category(setup, "scarves")
        await f.product(setup, "p1", "scarves")
        await f.sku(setup, "S1", "p1")
        wid = await setup.fetchval("INSERT INTO warehouses (code, labels) VALUES ('hz', '{}') RETURNING id")
        await setup.execute("INSERT INTO locations (warehouse_id, code, zone) VALUES ($1, 'A-01', 'A')", wid)
    async with client_for(fresh_app, "admin") as api:
        assert (await api.post("/v1/sales", json={"facts": [fact(d, "S1", 5) for d in days]})).json()["inserted"] == 3
    returns = {
        "movements": [
            {"type": "return", "sku": "S1", "qty": 1, "warehouse": "hz", "location": "A-01",
             "return_reason": "wrong_size", "condition": "resellable", "sale": {"channel": "web", "day": day}}
            for day in (days[2], days[0])  # the last day's sale first: not in the facts' key order
        ]
    }  # fmt: skip
    async with fresh_pool.acquire() as blocker, fresh_pool.acquire() as watcher:
        # A third writer holds the middle day's fact: the upload locks the first day's, then waits for it.
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("SELECT 1 FROM sales_facts WHERE day = '2026-01-11' FOR UPDATE")
        async with client_for(fresh_app, "admin") as api:
            upload = asyncio.ensure_future(api.post("/v1/sales", json={"facts": [fact(d, "S1", 6) for d in days]}))
            while await waiting(watcher) < 1:
                assert not upload.done(), upload.result().text
            # The batch locks the facts it reverses in key order before its lines: it waits for the first day's
            # (the upload's) holding none. Line by line it would hold the last day's, which the upload then
            # waits for: a deadlock, one of them refused.
            batch = asyncio.ensure_future(api.post("/v1/stock/movements", json=returns))
            while await waiting(watcher) < 2:
                assert not batch.done(), batch.result().text
            await tx.commit()
            uploaded, returned = await upload, await batch
    assert (uploaded.status_code, uploaded.json()) == (200, {"accepted": 3, "inserted": 0, "replaced": 3})
    assert returned.status_code == 201, returned.text
    assert [m["on_hand"] for m in returned.json()["movements"]] == [1, 2]
    async with fresh_pool.acquire() as conn:
        facts = await conn.fetch("SELECT day::text, qty, returned_qty FROM sales_facts ORDER BY day")
        assert [tuple(r) for r in facts] == [(days[0], 6, 1), (days[1], 6, 0), (days[2], 6, 1)]
