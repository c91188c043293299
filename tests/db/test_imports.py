"""Imports where commits and races are the point: retries of one upload at the same moment are one import;
a connection killed in the middle of an all_or_nothing import leaves the catalog as it was; valid_rows commits
chunk by chunk with derived data current when the job says done."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest

from api.runner import JobRunner
from domain.imports import overlap, service, store
from domain.jobs.service import run_pending
from tests import factories as f
from tests.api.test_imports import JSONL, catalog, jsonl, row
from tests.conftest import KEYS, OneConnectionPool


def client(app: Any) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers)


async def test_retries_of_one_upload_at_the_same_moment_are_one_import(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    body = jsonl(*(row(f"sq-{i}") for i in range(50)))
    async with client(fresh_app) as api:
        answers = await asyncio.gather(
            *(
                api.post(
                    "/v1/imports",
                    params={"type": "products"},
                    content=body,
                    headers={**JSONL, "Idempotency-Key": "nightly"},
                )
                for _ in range(4)
            )
        )
        assert {a.status_code for a in answers} == {202}
        assert len({a.json()["id"] for a in answers}) == 1
        assert sorted(a.headers["idempotency-replayed"] for a in answers) == ["false", "true", "true", "true"]
        assert await run_pending(fresh_pool) == 1
        assert len((await api.get("/v1/jobs")).json()["items"]) == 1
        assert len((await api.get("/v1/products", params={"limit": 500})).json()["items"]) == 50
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'product'") == 50
        assert await conn.fetchval("SELECT count(*) FROM import_rows") == 0


async def test_an_upload_wakes_its_workers_job_runner_which_applies_it_without_waiting_for_its_poll(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    ran = service.run_import
    done = asyncio.Event()

    async def run_and_tell(pool: Any, job_id: int) -> None:
        await ran(pool, job_id)
        done.set()

    monkeypatch.setattr(service, "run_import", run_and_tell)
    runner = JobRunner(fresh_pool, workers=1, poll_seconds=3600)  # (its next poll: in an hour)
    runner.start()
    fresh_app.framework.state.wake_jobs = runner.wake  # (as the served app's lifespan does)
    try:
        async with client(fresh_app) as api:
            answer = await api.post(
                "/v1/imports", params={"type": "products"}, content=jsonl(row("sq-1"), row("sq-2")), headers=JSONL
            )
            assert answer.status_code == 202
            await asyncio.wait_for(done.wait(), 60)  # (an hour without the wake)
            job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
            assert (job["state"], job["rows"]["applied"]) == ("done", 2)
    finally:
        await runner.stop()


async def test_a_connection_killed_in_the_middle_of_an_all_or_nothing_import_applies_nothing(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    monkeypatch.setattr(service, "CHUNK", 10)
    calls = 0
    apply_chunk = store.update_products_from_import

    async def killed_on_the_third_chunk(conn: asyncpg.Connection, *args: Any) -> tuple[int, int, int]:
        nonlocal calls
        calls += 1
        if calls == 3:  # two chunks are written (uncommitted): the connection dies
            async with fresh_pool.acquire() as other:
                await other.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
        return await apply_chunk(conn, *args)

    monkeypatch.setattr(store, "update_products_from_import", killed_on_the_third_chunk)
    async with client(fresh_app) as api:
        answer = await api.post(
            "/v1/imports",
            params={"type": "products"},
            content=jsonl(*(row(f"sq-{i:02}") for i in range(40))),
            headers=JSONL,
        )
        job_id = answer.json()["id"]
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
            await run_pending(fresh_pool)
        assert calls == 3
        assert (await api.get("/v1/products")).json()["items"] == []
        assert (await api.get("/v1/audit", params={"import": job_id})).json()["items"] == []
        assert (await api.get(f"/v1/jobs/{job_id}")).json()[
            "state"
        ] == "running"  # taken over once its heartbeat is stale


async def planned_products(conn: asyncpg.Connection, n: int) -> int:
    """How many rows the planner believes `products` holds, in the transaction of `conn`, once it has read what
    other sessions changed in the catalog (statistics among it): a session reads that when it locks a relation
    anew (`n`: a table of its own each time), not on a relation its transaction holds already."""
    await conn.execute(f"CREATE TEMP TABLE planned_{n} () ON COMMIT DROP")
    plan = await conn.fetchval("EXPLAIN (FORMAT JSON) SELECT 1 FROM products")
    return int((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"])


async def import_analysed_elsewhere(
    app: Any, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, first: int, count: int, before: set[int]
) -> list[int]:
    """An all_or_nothing import of products sq-<first>… (`count`, in chunks of 500), with another session
    analysing `products` as autovacuum does (skipping it when locked) before the chunks numbered in `before`:
    what the planner believes `products` holds in the import's transaction after each chunk and after each
    of those ANALYZEs."""
    monkeypatch.setattr(service, "CHUNK", 500)
    monkeypatch.setattr(overlap, "OVERLAP_LINES", 0)  # (every chunk applied by the run, after the upload)
    seen: list[int] = []
    calls = 0
    apply_chunk = store.update_products_from_import

    async def analysed_elsewhere(conn: asyncpg.Connection, *args: Any) -> tuple[int, int, int]:
        nonlocal calls
        calls += 1
        if calls in before:
            async with pool.acquire() as other:
                await other.execute("ANALYZE (SKIP_LOCKED) products")  # (autovacuum skips a locked table)
            seen.append(await planned_products(conn, len(seen)))
        answer = await apply_chunk(conn, *args)
        seen.append(await planned_products(conn, len(seen)))
        return answer

    monkeypatch.setattr(store, "update_products_from_import", analysed_elsewhere)
    async with client(app) as api:
        answer = await api.post(
            "/v1/imports",
            params={"type": "products"},
            content=jsonl(*(row(f"sq-{i:04}") for i in range(first, first + count))),
            headers=JSONL,
        )
        assert await run_pending(pool) == 1
        job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
        assert (job["state"], job["rows"]["applied"]) == ("done", count)
    monkeypatch.setattr(store, "update_products_from_import", apply_chunk)
    return seen


async def test_an_all_or_nothing_import_keeps_statistics_that_count_its_own_rows_whoever_else_analyses(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ANALYZE in another session (autovacuum's) counts the uncommitted rows of a large import as nothing: the
    # planner then takes `products` for one row over the pages the import filled, and its joins over them go
    # quadratic (the 100,000-product import's statement timeout). The import analyses them in its own
    # transaction once they outnumber what the statistics know, and keeps other sessions from undoing that.
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    seen = await import_analysed_elsewhere(fresh_app, fresh_pool, monkeypatch, 0, 2500, {2, 4})
    # the planner's belief after chunk 1, before chunk 2 (another session has analysed), after chunk 2 (the import
    # analysed its 1,000 rows), 3, before 4 (another session's ANALYZE skipped the table), after 4 and 5
    written = [500, 500, 1000, 1500, 1500, 2000, 2500]
    assert seen[1] == 1, seen  # the other session's ANALYZE counted the import's rows as nothing
    assert all(w / 2 <= n <= 2 * w for n, w in zip(seen[2:], written[2:], strict=True)), (seen, written)
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM product_completeness") == 2500


async def test_an_imports_own_analyze_reads_the_indexed_columns_not_the_documents(conn: asyncpg.Connection) -> None:
    # The import's ANALYZE is there for the row counts and the statistics of the columns joins and bounds go
    # through; a jsonb document's statistics were most of its cost (product_completeness: 0.63 s a chunk).
    await catalog(conn)
    before = await conn.fetchval("SELECT count(*) FROM pg_stats WHERE tablename = 'products'")
    await conn.execute(
        """
        INSERT INTO products (code, category_id, role_id, labels, attributes)
        SELECT 'an-' || g, c.id, r.id, '{"en": "x"}', jsonb_build_object('width', g)
          FROM generate_series(1, 1200) g, categories c, roles r WHERE c.code = 'scarves' AND r.code = 'routine'
        """
    )
    analysed = await conn.fetchval("SELECT merch_analyze_own_rows(1000)")
    assert "public.products" in analysed
    columns = {r["attname"] for r in await conn.fetch("SELECT attname FROM pg_stats WHERE tablename = 'products'")}
    indexed = {
        r["attname"]
        for r in await conn.fetch(
            """
            SELECT a.attname FROM pg_index i
              JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = 'products'::regclass
            """
        )
    }
    assert before == 0
    assert columns == indexed  # code, category_id, role_id, lifecycle, id, quality_score: no labels, no attributes
    assert await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'products'") == 1200


async def test_an_import_into_a_catalog_emptied_since_its_last_analyze_keeps_statistics_that_count_its_rows(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The statistics still say 3,000 products when the import begins (the catalog was emptied since), more than
    # it will write: what an ANALYZE elsewhere would count now — no committed product — is what it compares with.
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    await import_analysed_elsewhere(fresh_app, fresh_pool, monkeypatch, 0, 3000, set())
    async with fresh_pool.acquire() as conn:
        await conn.execute("ANALYZE products")
        await conn.execute("DELETE FROM products")
        await conn.execute("SELECT pg_stat_force_next_flush()")  # (the delete counted before the import reads it)
        assert await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'products'") == 3000
    seen = await import_analysed_elsewhere(fresh_app, fresh_pool, monkeypatch, 5000, 2500, {3})
    # after chunks 1 and 2 (the import analysed its 1,000 rows), before 3 (another session's ANALYZE skipped the
    # table), after 3, 4 and 5
    written = [500, 1000, 1000, 1500, 2000, 2500]
    assert all(w / 2 <= n <= 2 * w for n, w in zip(seen[1:], written[1:], strict=True)), (seen, written)


async def test_valid_rows_commits_chunk_by_chunk_and_derived_data_is_current_when_the_job_is_done(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
        await f.bind(conn, "fragrance", "material", ("listing",))
    monkeypatch.setattr(service, "CHUNK", 7)
    rows = [row(f"sq-{i:02}") for i in range(20)] + [row("fr-1", category="fragrance", categories=[], attributes={})]
    async with client(fresh_app) as api:
        answer = await api.post(
            "/v1/imports", params={"type": "products", "mode": "valid_rows"}, content=jsonl(*rows), headers=JSONL
        )
        assert await run_pending(fresh_pool) == 1
        job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
        assert (job["state"], job["done"], job["total"], job["rows"]["applied"]) == ("done", 21, 21, 21)
        completeness = (await api.get("/v1/products/fr-1/completeness")).json()
        assert "recomputing" not in completeness
        assert {"item": "material"} in completeness["stages"]["listing"]["missing"]
        assert completeness["stages"]["listing"]["ratio"] < 1
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM product_completeness") == 21


async def test_an_upload_cut_off_mid_way_is_a_failed_job_with_nothing_staged(conn: asyncpg.Connection) -> None:
    from api import guard
    from domain.keys.model import Principal

    await catalog(conn)

    async def cut_off() -> Any:
        yield jsonl(*(row(f"sq-{i}") for i in range(3)))
        yield b'{"code": "sq-3", "categ'
        raise ConnectionResetError("the client went away")

    admin = Principal(name="feed", roles=frozenset({"admin"}))
    with pytest.raises(ConnectionResetError):
        await service.start_import(
            conn,
            admin,
            kind="products",
            mode="all_or_nothing",
            media_type="application/x-ndjson",
            idempotency_key="cut",
            body=cut_off(),
            line_flaw=guard.body_flaw,
        )
    job = await conn.fetchrow("SELECT state, phase, error, idempotency_key FROM jobs WHERE kind = 'import-products'")
    assert tuple(job) == (
        "failed",
        "interrupted",
        "The upload stopped before its end (ConnectionResetError).",
        None,
    )
    assert await conn.fetchval("SELECT count(*) FROM import_rows") == 0
    assert await run_pending(OneConnectionPool(conn), workers=1) == 0
    assert await conn.fetchval("SELECT count(*) FROM products") == 0


async def test_the_staging_table_is_analysed_before_a_large_job_reads_its_rows(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    # A thousand rows staged under a job id the statistics have never seen are planned as a handful, and the
    # statements that settle staged rows nest loops over them (a price file of 23,400 rows ran past the
    # statement timeout): the runner analyses the staging table before it reads a job of ≥ 1,000 rows.
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
        await conn.execute("ANALYZE import_rows")  # (statistics of an empty staging table)
    async with client(fresh_app) as api:
        answer = await api.post(
            "/v1/imports",
            params={"type": "products"},
            content=jsonl(*(row(f"st-{i:04}") for i in range(service.STAGED_STATISTICS_MIN))),
            headers=JSONL,
        )
        job_id = answer.json()["id"]
        assert await run_pending(fresh_pool) == 1
        assert (await api.get(f"/v1/jobs/{job_id}")).json()["state"] == "done"
    async with fresh_pool.acquire() as conn:
        plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) SELECT * FROM import_rows WHERE job_id = {int(job_id)}")
        planned = int((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"])
        assert service.STAGED_STATISTICS_MIN / 2 <= planned <= 2 * service.STAGED_STATISTICS_MIN, planned
        # a smaller job leaves the statistics to autovacuum
        assert await store.update_staged_statistics(conn, job_id, service.STAGED_STATISTICS_MIN + 1) is False
