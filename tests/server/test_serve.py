"""`merch serve` as deployed: the real server program with two worker processes, over real sockets — keep-alive
latency, the header limit, metrics summed over the workers, and a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import http.client
import json
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import KEYS, Server, cloned
from tests.served import Served, start

WORKERS = 2
ADMIN = {"Authorization": f"Bearer {KEYS['admin']}"}


@pytest.fixture
async def database(server: Server, template: str) -> AsyncIterator[str]:
    async with cloned(server, template) as name:
        yield server.dsn(name)


@pytest.fixture
def serve(database: str) -> Iterator[Served]:
    """`merch serve --workers 2` on a free port, once every worker has said it is ready."""
    served = start(database, WORKERS)
    try:
        yield served
    finally:
        served.stop()


def request(port: int, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = None if body is None else json.dumps(body).encode()
        sent = {**ADMIN, **({"Content-Type": "application/json"} if data else {}), **headers}
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_two_workers_answer_200_sequential_keep_alive_requests_within_a_second(serve: Served) -> None:
    # With several workers, asyncio's own loop left TCP_NODELAY off on accepted sockets: every response then
    # waited for the client's delayed ACK, 44 ms, and these 200 requests took 9 s.
    conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=10)
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


def test_a_header_block_over_the_limit_is_a_431_problem_from_the_real_server(serve: Served) -> None:
    # (httptools takes a 70 KB header; before the edge's limit it was answered 200)
    status, headers, body = request(serve.port, "GET", "/healthz", **{"X-Padding": "x" * 70_000, "X-Request-ID": "big"})
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"] == "big" and headers["x-content-type-options"] == "nosniff"
    assert json.loads(body)["code"] == "request-header-fields-too-large"
    assert request(serve.port, "GET", "/healthz", **{"X-Padding": "x" * 8_000})[0] == 200


def test_the_access_log_is_one_json_line_per_request(serve: Served) -> None:
    request(serve.port, "GET", "/v1/category-trees", **{"X-Request-ID": "find-me"})
    line = next(r for r in serve.wait_for("GET /v1/category-trees 200") if r.get("request_id") == "find-me")
    assert line["logger"] == "merchflow.access" and line["key"] == "test-admin" and line["status"] == 200


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, _, body = request(port, "GET", "/metrics")
    assert status == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_metrics_are_summed_over_the_workers_whichever_answers_the_scrape(serve: Served) -> None:
    for _ in range(30):  # a new connection each: the two workers take them as they come
        assert request(serve.port, "GET", "/readyz")[0] == 200
    readyz = frozenset({"method": "GET", "route": "/readyz", "status": "200"}.items())
    pool_max = ("merchflow_db_pool_connections", frozenset({"state": "max"}.items()))
    for _ in range(6):
        samples = scrape(serve.port)
        assert samples[("merchflow_http_requests_total", readyz)] == 30
        assert samples[pool_max] == WORKERS * (16 + 2 + 1)  # each worker's pool: MERCH_DB_POOL_MAX and the runner's


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_finishes_the_request_in_flight_refuses_new_connections_and_exits_0(
    database: str, workers: int
) -> None:
    serve = await asyncio.to_thread(start, database, workers)
    try:
        await stop_while_a_request_waits(serve, database, workers)
    finally:
        serve.stop()


async def stop_while_a_request_waits(serve: Served, database: str, workers: int) -> None:
    status, _, _ = await asyncio.to_thread(
        request, serve.port, "POST", "/v1/category-trees", {"code": "slow", "labels": {"en": "Slow"}}
    )
    assert status == 201
    holder = await asyncpg.connect(database)
    try:
        # The test holds the tree's row: the PATCH below waits for it inside its transaction.
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM category_trees WHERE code = 'slow' FOR UPDATE")
        in_flight = asyncio.create_task(
            asyncio.to_thread(request, serve.port, "PATCH", "/v1/category-trees/slow", {"labels": {"en": "Finished"}})
        )
        deadline = time.monotonic() + 30
        while not await holder.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
            assert time.monotonic() < deadline, "the request never reached the lock"
            await asyncio.sleep(0.02)

        serve.proc.send_signal(signal.SIGTERM)  # to `merch serve` alone, as `docker stop` does
        # one worker waits for the request in flight, any other has stopped: all have closed the socket
        stopped = ["Finished server process"] * (workers - 1)
        await asyncio.to_thread(serve.wait_for, "Waiting for connections to close", *stopped)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", serve.port), timeout=5).close()
        assert serve.proc.poll() is None and not in_flight.done()

        await tx.rollback()  # the row is free: the request goes on
        status, headers, body = await in_flight
    finally:
        await holder.close()
    assert status == 200, body
    assert json.loads(body)["labels"] == {"en": "Finished"}
    assert headers.get("connection") == "close"
    assert await asyncio.to_thread(serve.proc.wait, 60) == 0
    check = await asyncpg.connect(database)
    try:
        assert await check.fetchval("SELECT labels->>'en' FROM category_trees WHERE code = 'slow'") == "Finished"
    finally:
        await check.close()


def test_each_worker_tunes_its_garbage_collector_once_started(serve: Served) -> None:
    # (api/collector.py: logged by each worker before it says its start-up is complete)
    tuned = [json.loads(line) for line in serve.log if '"merchflow.collector"' in line]
    assert len(tuned) == WORKERS, serve.log
    assert all(r["message"].startswith("garbage collector tuned: young generation every 50,000") for r in tuned)
