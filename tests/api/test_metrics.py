"""/metrics (api/metrics.py): Prometheus text that parses, whose figures move with the requests, the pool, the
stock batching and the jobs; for admin keys only."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import stockbed
from tests.conftest import client_for
from tests.stockbed import move

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


ROUTE_404 = {"method": "GET", "route": "/v1/category-trees/{code}", "status": "404"}
LANE_200 = {"method": "GET", "route": "/v1/products/{code}", "status": "200"}


async def test_requests_are_counted_and_timed_by_method_route_template_and_status(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    before = await scrape(api)
    await api.get("/v1/category-trees/nope")
    await api.get("/v1/category-trees/other")
    await api.get("/v1/products/scarf")  # a fast lane
    await api.get("/v1/no/such/route")
    after = await scrape(api)

    assert (
        value(after, "merchflow_http_requests_total", **ROUTE_404)
        == value(before, "merchflow_http_requests_total", **ROUTE_404) + 2
    )
    assert (
        value(after, "merchflow_http_request_duration_seconds_count", **ROUTE_404)
        == value(before, "merchflow_http_request_duration_seconds_count", **ROUTE_404) + 2
    )
    assert value(after, "merchflow_http_request_duration_seconds_sum", **ROUTE_404) > value(
        before, "merchflow_http_request_duration_seconds_sum", **ROUTE_404
    )
    assert (
        value(after, "merchflow_http_requests_total", **LANE_200)
        == value(before, "merchflow_http_requests_total", **LANE_200) + 1
    )
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert (
        value(after, "merchflow_http_requests_total", **unmatched)
        == value(before, "merchflow_http_requests_total", **unmatched) + 1
    )
    # the histogram's buckets are cumulative and end with every request
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in after.items()
        if name == "merchflow_http_request_duration_seconds_bucket" and ROUTE_404.items() <= dict(labels).items()
    )
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1] == (float("inf"), value(after, "merchflow_http_request_duration_seconds_count", **ROUTE_404))
    assert ("process_cpu_seconds_total", frozenset()) in after


async def test_stock_batching_is_counted(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    scrapes = [await scrape(api)]
    for _ in range(2):
        for _ in range(3):
            assert (await api.post("/v1/stock/movements", json=move("receive", 1))).status_code == 201
        scrapes.append(await scrape(api))
    for name in ("merchflow_stock_batches_total", "merchflow_stock_batched_requests_total"):
        counts = [value(samples, name) for samples in scrapes]
        assert [b - a for a, b in pairwise(counts)] == [3, 3], name  # each alone: a batch


async def test_jobs_by_state_and_the_progress_of_running_jobs(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    running = await conn.fetchval(
        "INSERT INTO jobs (kind, reason, requested_by, state, total, done)"
        " VALUES ('recompute-completeness', 'test', 'test', 'running', 1000, 400) RETURNING id"
    )
    await conn.execute(
        "INSERT INTO jobs (kind, reason, requested_by, state)"
        " VALUES ('recompute-completeness', 'test', 'test', 'queued'), ('recompute-completeness', 't', 't', 'failed')"
    )
    samples = await scrape(api)
    states = {s: value(samples, "merchflow_jobs", state=s) for s in ("queued", "running", "done", "failed")}
    counted = dict(await conn.fetch("SELECT state, count(*) FROM jobs GROUP BY state"))
    assert states == {s: float(counted.get(s, 0)) for s in states}
    assert states["running"] >= 1 and states["queued"] >= 1 and states["failed"] >= 1
    job = {"job": str(running), "kind": "recompute-completeness"}
    assert value(samples, "merchflow_job_products_done", **job) == 400
    assert value(samples, "merchflow_job_products_total", **job) == 1000
    assert value(samples, "merchflow_jobs_known") == 1


async def test_without_job_figures_the_scrape_still_answers(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(conn: Any) -> Any:
        raise asyncpg.PostgresConnectionError("gone")

    monkeypatch.setattr("domain.jobs.service.job_stats", down)
    samples = await scrape(api)
    assert value(samples, "merchflow_jobs_known") == 0
    assert not any(name == "merchflow_jobs" for name, _ in samples)
    assert any(name == "merchflow_http_requests_total" for name, _ in samples)


async def test_pool_connections_open_idle_in_use_and_max(fresh_app: Any, fresh_pool: asyncpg.Pool) -> None:
    async with client_for(fresh_app) as admin:
        await scrape(admin)  # (the pool opens connections as they are first needed)
        held = [await fresh_pool.acquire(), await fresh_pool.acquire()]
        try:
            samples = await scrape(admin)
        finally:
            for conn in held:
                await fresh_pool.release(conn)
    pool = {s: value(samples, "merchflow_db_pool_connections", state=s) for s in ("open", "idle", "in_use", "max")}
    assert pool["in_use"] == 2  # the test's two (the scrape's own was given back before the gauges were read)
    assert pool["open"] == pool["idle"] + 2
    assert pool["max"] == fresh_pool.get_max_size() == 23  # MERCH_DB_POOL_MAX 20, and the job runner's 2 + 1
    assert value(samples, "merchflow_db_pool_connections", state="waiting") == 0


async def test_metrics_are_for_admin_only(app: Any, conn: asyncpg.Connection) -> None:
    async with client_for(app, None) as anonymous, client_for(app, "storefront") as shop:
        assert (await anonymous.get("/metrics")).json()["code"] == "unauthenticated"
        assert (await shop.get("/metrics")).json()["code"] == "forbidden"
