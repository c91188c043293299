"""The refresh point (sql/functions/refresh.sql) with real commits: writes record what they change, and the
read models are brought up to date once, before the transaction commits — whoever wrote, however many
statements touched a product; a rollback leaves nothing behind; time enters through the same door."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from domain.jobs.service import enqueue_recompute, refresh_due, run_pending
from domain.keys.model import Principal
from domain.sql import SQL_DIR, load
from tests import scenario
from tests.conftest import KEYS

C = load("completeness")
ADMIN = Principal(name="test", roles=frozenset({"admin"}))
# Sessions waiting for a lock (read outside any transaction: a transaction sees one snapshot of this view).
WAITING = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
DERIVED = ("product_completeness", "prices_in_force", "sales_monthly", "sales_sku_totals")


@pytest.fixture
async def api(fresh_app: Any, fresh_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fresh_app), base_url="http://t", headers=headers
    ) as client:
        async with fresh_pool.acquire() as conn:
            await scenario.build(conn, client)
        yield client


def normal(stages: dict[str, Any]) -> dict[str, Any]:
    # the order of `missing` is not kept (it is sorted when read)
    return {s: {**v, "missing": sorted(v["missing"])} for s, v in stages.items()}


async def stored(conn: asyncpg.Connection, code: str = "p1") -> Any:
    row = await conn.fetchrow(
        "SELECT pc.stages, pc.computed_at FROM product_completeness pc JOIN products p ON p.id = pc.product_id"
        " WHERE p.code = $1",
        code,
    )
    return {"stages": normal(row["stages"]), "computed_at": row["computed_at"]}


async def computed(conn: asyncpg.Connection, code: str = "p1") -> Any:
    product_id = await conn.fetchval("SELECT id FROM products WHERE code = $1", code)
    return normal((await conn.fetch(C.list_computed_completeness.sql, [product_id]))[0]["stages"])


async def pending(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    return [
        (r["model"], r["code"])
        for r in await conn.fetch(
            "SELECT r.model, p.code FROM refresh_pending r JOIN products p ON p.id = r.product_id ORDER BY 1, 2"
        )
    ]


async def test_several_writes_to_a_product_are_refreshed_once_when_the_transaction_commits(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as conn:
        before = await stored(conn)
        assert before["stages"] == await computed(conn)
        tx = conn.transaction()
        await tx.start()
        await conn.execute("UPDATE products SET images = '{}' WHERE code = 'p1'")
        await conn.execute("UPDATE products SET selling_points = '[]' WHERE code = 'p1'")
        await conn.execute(
            "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
            " SELECT id, 'sale', 'CNY', 129, now() - interval '1 day', 'test' FROM skus WHERE sku = 'S1'"
        )
        # recorded once per model, nothing refreshed yet
        assert await pending(conn) == [("completeness", "p1"), ("keys", "p1"), ("prices", "p1"), ("storefront", "p1")]
        assert await stored(conn) == before
        await tx.commit()
        after = await stored(conn)
        assert after["computed_at"] > before["computed_at"]
        assert after["stages"] == await computed(conn)
        assert {"item": "images"} in [{"item": m} for m in after["stages"]["listing"]["missing"]]
        assert "sale_price S1" not in after["stages"]["listing"]["missing"]
        sale = "SELECT sale FROM prices_in_force f JOIN skus s ON s.id = f.sku_id WHERE s.sku = 'S1'"
        assert await conn.fetchval(sale) == 129
        assert await pending(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM refresh_queued") == 0


async def test_the_refresh_at_commit_runs_once_and_flushes_the_events_it_writes(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    """The storefront's refresh writes events; flushing them is the at-commit run's last step, so that run
    queues no second one (it did: one more deferred trigger, insert and delete per product write)."""
    # (this backend's inserts not yet reported, this transaction's among them: compared before and after)
    queued = "SELECT n_tup_ins FROM pg_stat_xact_user_tables WHERE relname = 'refresh_queued'"
    async with fresh_pool.acquire() as conn:
        async with conn.transaction():
            before = await conn.fetchval(queued)
            await conn.execute("UPDATE products SET lifecycle = 'listed' WHERE code = 'p1'")
            await conn.execute("SET CONSTRAINTS refresh_at_commit IMMEDIATE")  # the commit's run, now
            assert await conn.fetchval(queued) == before + 1
            assert await conn.fetchval("SELECT count(*) FROM events_pending") == 0
            flushed = await conn.fetch("SELECT type, code FROM events ORDER BY id DESC LIMIT 1")
            assert [tuple(r) for r in flushed] == [("product.listed", "p1")]


async def test_two_transactions_that_touch_one_product_refresh_it_one_after_the_other(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    """Neither writer holds the product's row (as a raw writer or a receipt would not): both reach their
    refresh at once. A refresh locks the row it rewrites before it computes, so the second computes after the
    first committed."""
    async with (
        fresh_pool.acquire() as gate,
        fresh_pool.acquire() as a,
        fresh_pool.acquire() as b,
        fresh_pool.acquire() as watcher,
    ):
        # Hold the stored row: a refresh that has computed waits here before it writes.
        held = gate.transaction()
        await held.start()
        await gate.execute(
            "SELECT 1 FROM product_completeness WHERE product_id = (SELECT id FROM products WHERE code = 'p1')"
            " FOR UPDATE"
        )

        async def write(conn: asyncpg.Connection, sql: str) -> None:
            async with conn.transaction():
                await conn.execute(sql)

        first = asyncio.ensure_future(write(a, "UPDATE products SET images = '{}' WHERE code = 'p1'"))
        second = asyncio.ensure_future(
            write(
                b,
                "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
                " SELECT id, 'sale', 'CNY', 129, now() - interval '1 day', 'test' FROM skus WHERE sku = 'S1'",
            )
        )
        # Both commits wait: one refresh on the held row, the other on that refresh's lock of the product.
        while await watcher.fetchval(WAITING) < 2:
            assert not first.done() and not second.done()
        await held.commit()
        await asyncio.gather(first, second)
        state = (await stored(gate))["stages"]
        assert state == await computed(gate)
        assert "images" in state["listing"]["missing"] and "sale_price S1" not in state["listing"]["missing"]


async def test_a_write_during_a_recompute_job_is_refreshed_after_the_job_s_chunk(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    """A job's chunk is held before it computes (its rows are locked first); a product of the
    chunk written meanwhile is refreshed after the chunk commits, never overwritten by its older figures."""
    async with fresh_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO products (code, category_id, role_id, labels)"
            " SELECT 'bulk-' || g, c.id, r.id, '{\"en\": \"Bulk\"}' FROM generate_series(1, 250) g,"
            " categories c, roles r WHERE c.code = 'silk-squares' AND r.code = 'routine'"
        )
        await enqueue_recompute(conn, ADMIN, "test", None)
    async with fresh_pool.acquire() as gate, fresh_pool.acquire() as writer, fresh_pool.acquire() as watcher:
        held = gate.transaction()
        await held.start()
        # The job locks its chunk's rows in product id order: held at p1, the first.
        await gate.execute(
            "SELECT 1 FROM product_completeness WHERE product_id = (SELECT id FROM products WHERE code = 'p1')"
            " FOR UPDATE"
        )
        job = asyncio.ensure_future(run_pending(fresh_pool, workers=1))
        while await watcher.fetchval(WAITING) < 1:
            assert not job.done()
        write = asyncio.ensure_future(writer.execute("UPDATE products SET labels = '{}' WHERE code = 'bulk-200'"))
        while not write.done() and await watcher.fetchval(WAITING) < 2:
            pass
        await held.commit()
        await asyncio.gather(job, write)
        state = (await stored(gate, "bulk-200"))["stages"]
        assert state == await computed(gate, "bulk-200")
        assert "labels" in state["listing"]["missing"]


async def test_a_rolled_back_transaction_or_savepoint_leaves_nothing_to_refresh(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as conn:
        before = await stored(conn)
        tx = conn.transaction()
        await tx.start()
        await conn.execute("UPDATE products SET images = '{}' WHERE code = 'p1'")
        await tx.rollback()
        assert await pending(conn) == []
        assert await stored(conn) == before

        async with conn.transaction():
            await conn.execute("UPDATE products SET description = '{}' WHERE code = 'p1'")
            savepoint = conn.transaction()
            await savepoint.start()
            await conn.execute("UPDATE skus SET barcode = NULL WHERE sku = 'S1'")
            await savepoint.rollback()
        after = await stored(conn)
        assert after["stages"] == await computed(conn)
        assert "description" in after["stages"]["listing"]["missing"]
        assert "barcode S1" not in after["stages"]["warehousing"]["missing"]
        assert await pending(conn) == []


async def test_a_refresh_run_before_commit_runs_again_for_what_is_written_after_it(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("UPDATE products SET images = '{}' WHERE code = 'p1'")
            await conn.execute("SELECT merch_refresh_pending()")
            assert "images" in (await stored(conn))["stages"]["listing"]["missing"]
            await conn.execute("UPDATE products SET images = '{https://img.example.com/x.jpg}' WHERE code = 'p1'")
            assert await pending(conn) == [("completeness", "p1"), ("keys", "p1"), ("storefront", "p1")]
        assert "images" not in (await stored(conn))["stages"]["listing"]["missing"]
        assert await pending(conn) == []


async def test_the_keys_of_a_product_s_texts_and_values_are_kept_under_its_home_category_at_commit(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    """`keys` (category_product_keys: what an export's header names) is a read model like the others: whoever
    writes, recorded by the statement and added at commit; only added — a key no product carries any more stays."""
    keys = "SELECT kind, key FROM category_product_keys WHERE category_id = $1"
    async with fresh_pool.acquire() as conn:
        home, other = await conn.fetchrow(
            "SELECT c.id, (SELECT o.id FROM categories o WHERE o.tree_id = c.tree_id AND o.id <> c.id ORDER BY o.id"
            " LIMIT 1) FROM products p JOIN categories c ON c.id = p.category_id WHERE p.code = 'p1'"
        )
        added = {("labels", "fr"), ("selling_points", "de"), ("attributes", "x-note")}
        async with conn.transaction():
            await conn.execute(
                "UPDATE products SET labels = labels || '{\"fr\": \"Carré\"}',"
                " selling_points = selling_points || '[{\"de\": \"Handgerollt\"}]',"
                " attributes = attributes || '{\"x-note\": \"n\"}' WHERE code = 'p1'"
            )
            assert not added & {tuple(r) for r in await conn.fetch(keys, home)}  # (recorded, not yet refreshed)
        assert added <= {tuple(r) for r in await conn.fetch(keys, home)}
        async with conn.transaction():
            await conn.execute(
                "UPDATE products SET category_id = $1, attributes = attributes - 'x-note' WHERE code = 'p1'", other
            )
        moved = {tuple(r) for r in await conn.fetch(keys, other)}
        assert ("labels", "fr") in moved and ("attributes", "x-note") not in moved
        assert ("attributes", "x-note") in {tuple(r) for r in await conn.fetch(keys, home)}


async def test_receipts_and_supplier_activity_reach_completeness_at_commit(
    api: httpx.AsyncClient, fresh_pool: asyncpg.Pool
) -> None:
    r = await api.put(
        "/v1/stages/warehousing/needs", json={"reads": ["skus", "barcode", "stock"], "requires": ["barcode", "stock"]}
    )
    assert r.status_code == 200, r.text
    await api.post("/v1/warehouses", json={"code": "hz"})
    await api.post("/v1/warehouses/hz/locations", json={"code": "A-01"})
    await api.post("/v1/suppliers", json={"code": "mill", "type": "manufacturer"})
    r = await api.post(
        "/v1/products/p1/suppliers",
        json={"supplier": "mill", "purchase_price": {"amount": "40.00", "currency": "CNY"}},
    )
    assert r.status_code == 201, r.text
    assert await run_pending(fresh_pool) == 1  # the needs change's recompute job
    async with fresh_pool.acquire() as conn:
        state = (await stored(conn))["stages"]
        assert "stock" in state["warehousing"]["missing"] and "supplier" not in state["purchasing"]["missing"]
    r = await api.post(
        "/v1/stock/movements", json={"type": "receive", "sku": "S1", "qty": 3, "warehouse": "hz", "location": "A-01"}
    )
    assert r.status_code == 201, r.text
    r = await api.patch("/v1/suppliers/mill", json={"active": False})
    assert r.status_code == 200, r.text
    async with fresh_pool.acquire() as conn:
        state = (await stored(conn))["stages"]
        assert state == await computed(conn)
        assert "stock" not in state["warehousing"]["missing"]
        assert "supplier" in state["purchasing"]["missing"]


async def test_time_enters_through_the_same_door(api: httpx.AsyncClient, fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        before = await stored(conn)
        await conn.execute(
            "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
            " SELECT id, 'sale', 'CNY', 129, now() - interval '30 seconds', 'test' FROM skus WHERE sku IN ('S1', 'S2')"
        )
        # As the read models would stand had they been refreshed before that moment passed with no write:
        # prices in force stale since 30 s ago, completeness as it was.
        await conn.execute(
            "UPDATE prices_in_force SET computed_at = now() - interval '1 minute', stale_at = now() - interval '30 s'"
        )
        await conn.execute(
            "UPDATE product_completeness SET stages = $1"
            " WHERE product_id = (SELECT id FROM products WHERE code = 'p1')",
            before["stages"],
        )
        assert "sale_price S1" in (await stored(conn))["stages"]["listing"]["missing"]
        assert await refresh_due(conn) == 1
        state = (await stored(conn))["stages"]
        assert "sale_price S1" not in state["listing"]["missing"]
        assert state == await computed(conn)
        assert await conn.fetchval("SELECT count(*) FROM prices_in_force WHERE stale_at <= now()") == 0
        assert await refresh_due(conn) == 0


def test_derived_tables_are_written_by_the_refresh_point_alone() -> None:
    """No named statement of sql/queries writes a read model: only the routines do (a write path cannot
    keep one current by hand, or forget to)."""
    writes = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(" + "|".join(DERIVED) + r")\b", re.I)
    found = {
        f"{path.name}: {m.group(0)}"
        for path in sorted((SQL_DIR / "queries").glob("*.sql"))
        for m in writes.finditer(path.read_text(encoding="utf-8"))
    }
    assert found == set()
