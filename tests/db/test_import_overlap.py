"""An all_or_nothing import of products applied while its file is still being read (domain/imports/overlap.py):
nothing applied when its last row is bad or its upload is cut off mid-way, with chunks already applied in its
transaction; and while it is paused mid-file with a chunk applied, stock movements, storefront reads and API
writes of products — a stored product the file names, a product whose words the file's rows bring — go through
without waiting for it. Each upload pauses its body on events (no sleeps); a wait on the import's transaction
would hang a writer, caught by a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from api import guard
from domain.imports import overlap, service, staging
from domain.jobs.service import run_pending
from domain.keys.model import Principal
from tests import factories as f
from tests.api.test_imports import JSONL, catalog, jsonl, row
from tests.conftest import KEYS

GUARD = 30  # seconds: a writer waiting on the import's transaction waits until the upload goes on (never, here)


def client(app: Any) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers)


class Paused:
    """A products file in two parts: the body pauses after the first, once the upload has tried a chunk of it
    (`tried`), until `resume` — then sends the rest, or breaks off."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, first: list[dict[str, Any]], rest: list[Any]) -> None:
        monkeypatch.setattr(staging, "BATCH", 10)
        monkeypatch.setattr(service, "BLOCK_ROWS", 5)
        self.made: list[overlap.Overlap] = []
        made = self.made

        class Seen(overlap.Overlap):
            def __init__(self, *args: Any) -> None:
                super().__init__(*args)
                made.append(self)

        monkeypatch.setattr(service, "Overlap", Seen)
        self.first, self.rest = first, rest
        self.tried = asyncio.Event()
        self.resume = asyncio.Event()
        self.cut_off = False

    @property
    def early(self) -> overlap.Overlap:
        return self.made[0]

    async def __aenter__(self) -> Paused:
        return self

    async def __aexit__(self, *exc: object) -> None:
        """(a test that failed with the upload paused lets it go on, so that its connections come back)"""
        self.resume.set()

    async def body(self) -> AsyncIterator[bytes]:
        yield jsonl(*self.first)
        await self.made[0].chunk_done.wait()
        self.tried.set()
        await self.resume.wait()
        if self.cut_off:
            raise ConnectionResetError("the client went away")
        yield jsonl(*self.rest)


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int, int]:
    async with pool.acquire() as conn:
        found = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM products WHERE code LIKE 'ov-%'),"
            " (SELECT count(*) FROM audit_log WHERE code LIKE 'ov-%'),"
            " (SELECT count(*) FROM product_completeness pc JOIN products p ON p.id = pc.product_id"
            "   WHERE p.code LIKE 'ov-%'),"
            " (SELECT count(*) FROM storefront_products sp JOIN products p ON p.id = sp.product_id"
            "   WHERE p.code LIKE 'ov-%')"
        )
    return tuple(found)


async def test_a_bad_last_row_leaves_the_catalog_as_it_was_though_chunks_were_applied_during_the_upload(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    file = Paused(monkeypatch, [row(f"ov-{i}") for i in range(40)], [row("ov-last", attributes={"width": 5})])
    async with file, client(fresh_app) as api:
        upload = asyncio.create_task(
            api.post("/v1/imports", params={"type": "products"}, content=file.body(), headers=JSONL)
        )
        await file.tried.wait()
        assert file.early.next > 1  # (lines applied, uncommitted, while the rest is unread)
        file.resume.set()
        answer = await upload
        assert answer.status_code == 202, answer.text
        await run_pending(fresh_pool)
        job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
        assert (job["state"], job["phase"], job["rows"]["rejected"]) == ("failed", "rejected", 1)
    assert await counts(fresh_pool) == (0, 0, 0, 0)


async def test_an_upload_cut_off_mid_way_leaves_the_catalog_as_it_was_though_chunks_were_applied(
    fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    file = Paused(monkeypatch, [row(f"ov-{i}") for i in range(40)], [row("ov-last")])
    file.cut_off = True
    async with file, fresh_pool.acquire() as conn:
        upload = asyncio.create_task(
            service.start_import(
                conn,
                Principal(name="feed", roles=frozenset({"admin"})),
                kind="products",
                mode="all_or_nothing",
                media_type="application/x-ndjson",
                idempotency_key=None,
                body=file.body(),
                line_flaw=guard.body_flaw,
                pool=fresh_pool,
            )
        )
        await file.tried.wait()
        assert file.early.next > 1
        file.resume.set()
        with pytest.raises(ConnectionResetError):
            await upload
        job = await conn.fetchrow("SELECT state, phase FROM jobs WHERE kind = 'import-products'")
        assert tuple(job) == ("failed", "interrupted")
        held = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL"
        assert await conn.fetchval(held) == 1  # (this statement's own: the early transaction is gone)
    assert await counts(fresh_pool) == (0, 0, 0, 0)


async def stock(conn: asyncpg.Connection) -> None:
    """A SKU of a stored product in a bin."""
    await f.product(conn, "ov-stored", "scarves")
    await f.sku(conn, "OV-RED", "ov-stored")
    warehouse = await conn.fetchval(
        "INSERT INTO warehouses (code, labels) VALUES ('hz', $1) RETURNING id", {"en": "hz"}
    )
    await conn.execute(
        "INSERT INTO locations (warehouse_id, code, zone, pick_sequence, active) VALUES ($1, 'A-01', 'A', 1, true)",
        warehouse,
    )


async def test_writers_and_readers_do_not_wait_for_an_import_applied_while_its_file_is_read(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
        await stock(conn)
    first = [row(f"ov-{i}", labels={"en": f"Zorblax square {i}"}) for i in range(40)]
    file = Paused(monkeypatch, first, [row("ov-last")])
    async with file, client(fresh_app) as api:
        upload = asyncio.create_task(
            api.post("/v1/imports", params={"type": "products"}, content=file.body(), headers=JSONL)
        )
        await file.tried.wait()
        assert file.early.next > 1
        # the warehouse, the storefront, and product writes — one bringing a word only the file's rows have
        moved = await asyncio.wait_for(
            api.post(
                "/v1/stock/movements",
                json={"type": "receive", "sku": "OV-RED", "qty": 3, "warehouse": "hz", "location": "A-01"},
            ),
            GUARD,
        )
        assert moved.status_code == 201, moved.text
        found = await asyncio.wait_for(api.get("/v1/storefront/search", params={"q": "zorblax"}), GUARD)
        assert found.status_code == 200, found.text
        worded = await asyncio.wait_for(
            api.post("/v1/products", json=row("api-1", labels={"en": "Zorblax api scarf"})), GUARD
        )
        assert worded.status_code == 201, worded.text
        file.resume.set()
        answer = await upload
        assert answer.status_code == 202, answer.text
        await run_pending(fresh_pool)
        job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
        assert (job["state"], job["rows"]["applied"]) == ("done", 41)
    assert await counts(fresh_pool) == (42, 41, 42, 42)  # (ov-stored, stored before: no audit record; 41 created)


async def test_a_chunk_naming_a_stored_product_waits_for_the_upload_and_an_api_write_of_it_does_not_wait(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
        await f.product(conn, "ov-3", "scarves")
    file = Paused(monkeypatch, [row(f"ov-{i}") for i in range(40)], [row("ov-last")])
    async with file, client(fresh_app) as api:
        upload = asyncio.create_task(
            api.post("/v1/imports", params={"type": "products"}, content=file.body(), headers=JSONL)
        )
        await file.tried.wait()
        assert file.early.next == 1  # (the first chunk names ov-3: nothing applied during the upload)
        put = await asyncio.wait_for(api.patch("/v1/products/ov-3", json={"labels": {"en": "Renamed"}}), GUARD)
        assert put.status_code == 200, put.text
        file.resume.set()
        answer = await upload
        await run_pending(fresh_pool)
        job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
        assert (job["state"], job["rows"]["applied"]) == ("done", 41)
        product = (await api.get("/v1/products/ov-3")).json()
        assert product["labels"] == row("ov-3")["labels"]
    async with fresh_pool.acquire() as conn:
        audit = await conn.fetch("SELECT action FROM audit_log WHERE code = 'ov-3' AND import_id IS NOT NULL")
        assert [a["action"] for a in audit] == ["update"]


async def test_a_retry_sent_while_the_first_upload_is_applied_during_its_reading_is_one_import(
    fresh_app: Any, fresh_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The retry's own early chunk meets the first upload's uncommitted products: it gives up at once (a lock it
    # cannot take) rather than wait for that upload; the retry is then the import, and the first upload, once
    # read, answers its job with what it had applied rolled back.
    async with fresh_pool.acquire() as conn:
        await catalog(conn)
    first, rest = [row(f"ov-{i}") for i in range(40)], [row("ov-last")]
    file = Paused(monkeypatch, first, rest)
    headers = {**JSONL, "Idempotency-Key": "nightly"}
    async with file, client(fresh_app) as api:
        upload = asyncio.create_task(
            api.post("/v1/imports", params={"type": "products"}, content=file.body(), headers=headers)
        )
        await file.tried.wait()
        assert file.early.next > 1
        retry = await asyncio.wait_for(
            api.post("/v1/imports", params={"type": "products"}, content=jsonl(*first, *rest), headers=headers),
            GUARD,
        )
        assert (retry.status_code, retry.headers["idempotency-replayed"]) == (202, "false")
        file.resume.set()
        answer = await upload
        assert (answer.status_code, answer.headers["idempotency-replayed"]) == (202, "true")
        assert answer.json()["id"] == retry.json()["id"]
        await run_pending(fresh_pool)
        job = (await api.get(f"/v1/jobs/{retry.json()['id']}")).json()
        assert (job["state"], job["rows"]["applied"]) == ("done", 41)
        assert len((await api.get("/v1/jobs")).json()["items"]) == 1
    assert await counts(fresh_pool) == (41, 41, 41, 41)
