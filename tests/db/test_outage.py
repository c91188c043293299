"""The database frozen (SIGSTOP on its postmaster and every backend of the test's database) under load: each
request that needs it answers a 503 problem with Retry-After within a second, /readyz says not ready at once,
no write is half-applied, and service resumes by itself when the database is back."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api import db
from api.app import asgi_app
from api.settings import Settings
from tests.conftest import KEYS, Server, clone, drop


@pytest.fixture
async def watched(server: Server, template: str) -> AsyncIterator[tuple[db.FairPool, str]]:
    name = f"merch_o_{uuid.uuid4().hex[:12]}"
    await clone(server, template, name)
    pool = await db.create_pool(server.dsn(name), Settings(MERCH_DB_POOL_MAX=8))  # type: ignore[call-arg]
    fair = db.FairPool(pool, 8)
    fair.watch(server.dsn(name))
    try:
        yield fair, name
    finally:
        await fair.stop_watching()
        pool.terminate()
        await drop(server, name)


async def frozen_pids(server: Server, database: str) -> list[int]:
    """The postmaster and every backend of the database."""
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        data = Path(await admin.fetchval("SHOW data_directory"))
        backends = [
            r["pid"] for r in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
        ]
    finally:
        await admin.close()
    postmaster = int((data / "postmaster.pid").read_text().splitlines()[0])
    return [postmaster, *backends]


async def timed(http: httpx.AsyncClient, method: str, path: str, **kw: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    r = await http.request(method, path, **kw)
    return r, time.perf_counter() - started


async def test_a_frozen_database_is_a_503_within_a_second_and_service_resumes(
    server: Server, watched: tuple[db.FairPool, str]
) -> None:
    fair, name = watched
    app = asgi_app(Settings(), pool=fair)  # type: ignore[arg-type]
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers) as http:
        assert (await http.get("/v1/category-trees")).status_code == 200  # the key is cached from here on
        pids = await frozen_pids(server, name)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(
                    *[timed(http, "GET", "/v1/category-trees") for _ in range(6)],
                    timed(http, "GET", "/v1/products/anything"),
                    timed(
                        http,
                        "POST",
                        "/v1/category-trees",
                        json={"code": "during", "labels": {"en": "During"}, "level_names": ["shelf"]},
                    ),
                    timed(http, "GET", "/readyz"),
                ),
                5,
            )  # (a request hanging on the frozen database fails the test instead of hanging it)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        for r, seconds in answers[:-1]:
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "database-unavailable"
            assert r.headers["retry-after"] == "1"
            assert seconds < 1.0, seconds
        ready, seconds = answers[-1]
        assert ready.status_code == 503 and seconds < 1.0
        await asyncio.wait_for(fair.up.wait(), 10)  # the watchdog sees the database again
        deadline = time.perf_counter() + 10
        # (each request bounded: one hanging after the outage fails the test with its name, not the run by its timeout)
        while (await asyncio.wait_for(http.get("/v1/category-trees"), 5)).status_code != 200:  # resumes by itself
            assert time.perf_counter() < deadline, "service did not resume within 10 s"
            await asyncio.sleep(0.05)  # polling an outside process that comes back, not synchronising code
        assert (await asyncio.wait_for(http.get("/readyz"), 5)).status_code == 200

    async def left_behind() -> tuple[int, int]:
        async with fair.acquire() as conn:  # the write cut mid-way left nothing behind
            trees = await conn.fetchval("SELECT count(*) FROM category_trees WHERE code = 'during'")
            return trees, await conn.fetchval("SELECT count(*) FROM audit_log WHERE code = 'during'")

    assert await asyncio.wait_for(left_behind(), 5) == (0, 0)


async def test_a_handlers_own_error_while_the_database_answers_is_not_an_outage(
    watched: tuple[db.FairPool, str],
) -> None:
    """Only a connection the watchdog cut or the database closed is 'unavailable': an OSError or an interface
    misuse of the handler's own goes on as what it is (a logged 500), and the connection is still good."""
    fair, _ = watched
    for error in (asyncpg.InterfaceError("another operation is in progress"), OSError("disk full")):
        with pytest.raises(type(error)):
            async with fair.acquire() as conn:
                raise error
    async with fair.acquire() as conn:
        assert await conn.fetchval("SELECT 1") == 1
    assert not fair.down


async def test_every_connection_busy_while_the_database_answers_is_busy_not_an_outage(
    watched: tuple[db.FairPool, str],
) -> None:
    fair, _ = watched
    held = [fair.acquire() for _ in range(8)]
    for h in held:
        await h.__aenter__()
    try:
        started = time.perf_counter()
        with pytest.raises(db.DatabaseBusy):
            async with fair.acquire():
                pass
        assert time.perf_counter() - started < 1.0
        assert not fair.down
    finally:
        for h in held:
            await h.__aexit__(None, None, None)
    async with fair.acquire() as conn:  # a place again
        assert await conn.fetchval("SELECT 1") == 1


async def test_a_pool_marked_down_while_a_cut_connection_is_still_held_cuts_the_others_and_does_not_raise(
    watched: tuple[db.FairPool, str],
) -> None:
    """A connection closed under its request (the server went away) is released to the asyncpg pool and detached
    at once, though the request still holds it: marking the pool down then (a replica killed under reads: the
    first request to see its cut) must cut the other connections in use and raise nothing — it raised
    InterfaceError ("released back to the pool"), which turned a read that runs again elsewhere into a 503
    (seen in CI, tests/replicas/test_failover.py)."""
    fair, _ = watched
    marked, others_cut = False, asyncio.Event()
    with pytest.raises(db.DatabaseUnavailable):  # the block's own end: its connections were cut
        async with fair.acquire() as cut, fair.acquire() as other:
            other.add_termination_listener(lambda _: others_cut.set())
            cut.terminate()  # closed as a cut is: asyncpg detaches it from its pool at once
            await fair.lost("a connection was cut")
            marked = fair.down
            await other.fetchval("SELECT 1")
    assert marked  # lost() returned (it raised from within the block, whose end then hid it)
    await asyncio.wait_for(others_cut.wait(), 5)  # the other connection in use was cut with it


async def test_a_statement_cut_by_the_server_ending_its_backend_is_an_outage(
    server: Server, watched: tuple[db.FairPool, str]
) -> None:
    """A server shutting down (or an administrator) ends a running statement: asyncpg closes the connection
    and releases it to its pool at once, while the request still holds it. The request's block ends in
    DatabaseUnavailable (a 503) — it ended in InterfaceError ("released back to the pool"), asking the
    released connection whether it was closed."""
    fair, _ = watched
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        with pytest.raises(db.DatabaseUnavailable):
            async with fair.acquire() as conn:
                pid = conn.get_server_pid()
                running = asyncio.create_task(conn.fetchval("SELECT pg_sleep(30)"))
                active = "SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1"
                while not await admin.fetchval(active, pid):  # (each round asks the server again)
                    pass
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
                await running
    finally:
        await admin.close()
