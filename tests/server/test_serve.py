"""`merch serve` as deployed: the real server program with two worker processes, over real sockets."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.conftest import ROOT, Server, clone, drop

WORKERS = 2


@pytest.fixture
async def database(server: Server, template: str) -> AsyncIterator[str]:
    name = f"merch_t_{uuid.uuid4().hex[:12]}"
    await clone(server, template, name)
    try:
        yield server.dsn(name)
    finally:
        await drop(server, name)


@pytest.fixture
def served(database: str) -> Iterator[int]:
    """`merch serve --workers 2` on a free port; returns when every worker has said it is ready."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "DATABASE_URL": database, "MERCH_LOG_LEVEL": "info"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(WORKERS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        ready = 0
        for line in proc.stderr:  # uvicorn logs one line per worker when its startup is complete
            ready += "Application startup complete" in line
            if ready == WORKERS:
                break
        assert ready == WORKERS, "the server stopped before its workers were ready"
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_two_workers_answer_200_sequential_keep_alive_requests_within_a_second(served: int) -> None:
    # With several workers, asyncio's own loop left TCP_NODELAY off on accepted sockets: every response then
    # waited for the client's delayed ACK, 44 ms, and these 200 requests took 9 s.
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        started = time.perf_counter()
        for _ in range(200):
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("content-type", "").startswith("application/json")
            response.read()
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    assert elapsed < 1.0, f"200 keep-alive requests took {elapsed:.2f} s"
