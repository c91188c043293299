"""Exports (GET /v1/exports, streamed) on a real streaming replica: read there, on one connection and in one
repeatable-read snapshot from the first chunk to the last. A replica's recovery conflict (40001: replay needs a
lock the export holds) before the first byte runs the export again elsewhere, whole; after it, the stream ends
without its end — the client sees an incomplete transfer, never a file that looks complete.

The conflicts are real: an ACCESS EXCLUSIVE lock taken on the primary is replayed on the replica, which ends at
once (max_standby_streaming_delay = 0) the export holding a lock on the same table. The export is held at a
chosen chunk by a gate in front of its chunk query (no timing involved)."""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn

from api.replicas import POSITION, format_lsn
from domain.imports import exports, store
from tests.conftest import KEYS
from tests.replicas.conftest import Cluster, client

CODES = ["check", "lotus", "peony", "wave"]  # the small shop's products, in code order
EXPORT = {"type": "products", "format": "jsonl"}


@asynccontextmanager
async def conflicts_at_once(cluster: Cluster) -> AsyncIterator[None]:
    """The replica ends what stands in the way of replay at once (max_standby_streaming_delay = 0; 30 s by
    default)."""
    standby = await cluster.replica_conn()
    try:
        await standby.execute("ALTER SYSTEM SET max_standby_streaming_delay = 0")
        await standby.execute("SELECT pg_reload_conf()")
        yield
    finally:
        await standby.execute("ALTER SYSTEM RESET max_standby_streaming_delay")
        await standby.execute("SELECT pg_reload_conf()")
        await standby.close()


async def on_primary(cluster: Cluster, statement: str) -> None:
    """Run a statement on the primary (committed) and wait until the replica has replayed it."""
    conn = await cluster.primary_conn()
    try:
        async with conn.transaction():
            await conn.execute(statement)
        token = format_lsn(int(await conn.fetchval(POSITION)))
    finally:
        await conn.close()
    await cluster.replayed(token)


@dataclass
class Gate:
    """Holds the export before its `at`-th chunk query until `open` is set."""

    at: int
    calls: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    open: asyncio.Event = field(default_factory=asyncio.Event)


def gate(monkeypatch: pytest.MonkeyPatch, at: int) -> Gate:
    held = Gate(at)
    real = store.list_export_product_lines

    async def gated(*args: Any) -> Any:
        held.calls += 1
        if held.calls == held.at:
            held.reached.set()
            await held.open.wait()
        return await real(*args)

    monkeypatch.setattr(store, "list_export_product_lines", gated)
    return held


def rows_of(jsonl: bytes) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in jsonl.splitlines()]


async def relabel(cluster: Cluster, code: str, label: str) -> None:
    await on_primary(
        cluster, f"UPDATE products SET labels = labels || jsonb_build_object('en', '{label}') WHERE code = '{code}'"
    )


async def test_an_export_reads_from_the_replica_in_one_snapshot_from_its_first_chunk_to_its_last(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK", 1)
    held = gate(monkeypatch, at=3)  # after "check" and "lotus" were read
    replica, router = cluster.replica, cluster.reads
    reads, fallbacks = replica.reads, router.fallbacks
    async with client(cluster.app(), "listing") as http:
        answer = asyncio.create_task(http.get("/v1/exports", params=EXPORT))
        await held.reached.wait()
        await relabel(cluster, "wave", "Wave, relabelled mid-export")  # committed, and replayed on the replica
        try:
            held.open.set()
            exported = await answer
        finally:
            await relabel(cluster, "wave", "Silk scarf wave")
    assert exported.status_code == 200
    rows = rows_of(exported.content)
    assert [r["code"] for r in rows] == CODES
    assert rows[-1]["labels"]["en"] == "Silk scarf wave"  # the catalog as it was when the export began
    assert held.calls == 5  # one chunk query per product, and the empty one after the last
    assert replica.reads == reads + 1 and router.fallbacks == fallbacks  # one replica read, the whole export


async def test_a_recovery_conflict_before_the_first_byte_runs_the_export_again_elsewhere_whole(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = gate(monkeypatch, at=1)  # the category checked (a lock on `categories` held), no product read yet
    router = cluster.reads
    retries, fallbacks, reads = router.retries, router.fallbacks, cluster.replica.reads
    async with conflicts_at_once(cluster), client(cluster.app(), "listing") as http:
        answer = asyncio.create_task(http.get("/v1/exports", params={**EXPORT, "category": "accessories"}))
        await held.reached.wait()
        await on_primary(cluster, "LOCK TABLE categories IN ACCESS EXCLUSIVE MODE")  # replayed: the export ended
        held.open.set()
        exported = await answer
        await cluster.settle("streaming")  # (the replica counted as cut comes back by itself)
    assert exported.status_code == 200, exported.text
    assert [r["code"] for r in rows_of(exported.content)] == CODES
    assert held.calls == 2  # on the replica (cut under it), then on the primary
    assert cluster.replica.reads == reads + 1
    assert router.retries == retries + 1 and router.fallbacks == fallbacks + 1


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a real uvicorn on a unix socket, in this event loop, and a client of it."""
    with tempfile.TemporaryDirectory() as tmp, socket.socket(socket.AF_UNIX) as listening:
        path = str(Path(tmp) / "api.sock")
        listening.bind(path)
        listening.listen()  # (listening already: the client's connection waits in the backlog for uvicorn)
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="critical"))
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        try:
            transport = httpx.AsyncHTTPTransport(uds=path)
            headers = {"Authorization": f"Bearer {KEYS['listing']}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://merchflow", headers=headers) as http:
                yield http
        finally:
            server.should_exit = True
            await serving


async def test_a_recovery_conflict_after_the_first_byte_cuts_the_stream_short_and_the_client_sees_it(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(exports, "CHUNK", 1)
    held = gate(monkeypatch, at=2)  # "check" read and sent; the export waits with its snapshot open
    caplog.set_level(logging.ERROR, logger="merchflow.edge")
    received = b""
    async with conflicts_at_once(cluster), served(cluster.app()) as http:
        async with http.stream("GET", "/v1/exports", params=EXPORT) as answer:
            assert answer.status_code == 200
            assert answer.headers["transfer-encoding"] == "chunked"
            chunks = answer.aiter_raw()
            received += await anext(chunks)
            await held.reached.wait()
            await on_primary(cluster, "LOCK TABLE products IN ACCESS EXCLUSIVE MODE")  # replayed: the export ended
            held.open.set()
            with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
                async for chunk in chunks:
                    received += chunk
        await cluster.settle("streaming")
    assert [r["code"] for r in rows_of(received)] == ["check"]  # what was sent before, and no more
    [logged] = [r for r in caplog.records if r.name == "merchflow.edge"]
    assert logged.getMessage() == "unhandled error on GET /v1/exports"
    assert logged.exc_info is not None
    causes = []
    error: BaseException | None = logged.exc_info[1]
    while error is not None:
        causes.append(error)
        error = error.__cause__ or (error.exceptions[0] if isinstance(error, BaseExceptionGroup) else None)
    assert "replica replica-1 failed under the read" in [str(e) for e in causes]


async def test_a_download_abandoned_mid_stream_gives_its_connection_and_snapshot_back_at_once(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK", 1)
    pool = cluster.replica.pool
    sent: list[dict[str, Any]] = []
    first = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await first.wait()
        return {"type": "http.disconnect"}  # the client leaves after the first chunk

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            first.set()
            await asyncio.Event().wait()  # the client reads nothing more: the stream waits on it, holding its rows

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/exports",
        "raw_path": b"/v1/exports",
        "query_string": b"type=products&format=jsonl",
        "root_path": "",
        "headers": [(b"host", b"merchflow.test"), (b"authorization", f"Bearer {KEYS['listing']}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("merchflow.test", 80),
    }
    reads = cluster.replica.reads
    await cluster.app()(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert [r["code"] for r in rows_of(sent[1]["body"])] == ["check"]
    assert cluster.replica.reads == reads + 1
    assert pool._in_use == set() and pool.waiting == 0  # the connection is back: nothing waits for the collector
    standby = await cluster.replica_conn()
    try:
        open_ = await standby.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in%'"
        )
    finally:
        await standby.close()
    assert open_ == 0  # no snapshot left open on the replica
