"""Prometheus metrics (prometheus-client): requests and their latency by method, route template and status; the
database pool's connections; stock movement batching; background jobs.

One worker (`MERCH_WORKERS=1`): the figures are this process's. Several: `merch serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers start, every worker writes its counters,
histograms and pool gauges there (prometheus-client's multiprocess mode: memory-mapped files), and a scrape —
whichever worker answers it — reads them all: requests summed over the workers, pool gauges summed over the
live workers (each refreshes its own every second). Job figures come from the database at each scrape, so they
are the same from any worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from typing import Any

from litestar import Request, Response, get
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from api.auth import allow
from domain.jobs import service as jobs
from domain.jobs.model import JobStats

log = logging.getLogger("merchflow.metrics")

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ  # (prometheus-client decides the same at its import)
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
POOL_STATES = ("open", "idle", "in_use", "waiting", "max")
JOB_STATES = ("receiving", "queued", "running", "done", "failed")  # (receiving: an import still uploading)
TEXT = "text/plain; version=0.0.4"  # (the framework adds `; charset=utf-8`)
SAMPLE_SECONDS = 1.0  # how often each worker refreshes its pool gauges in multiprocess mode

disable_created_metrics()  # type: ignore[no-untyped-call]  # (a `_created` series beside every counter and histogram tells a scraper nothing)


class Metrics:
    """The process's metrics. `observe` is the per-request part: two label lookups cached, a counter and a
    histogram updated (about a microsecond; a few in multiprocess mode)."""

    def __init__(self) -> None:
        # In multiprocess mode the values live in files and a scrape reads them all; no registry is needed.
        self.registry = None if MULTIPROCESS else CollectorRegistry()
        if self.registry is not None:
            ProcessCollector(registry=self.registry)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "merchflow_http_requests", "HTTP requests by method, route template and status.", labels,
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "merchflow_http_request_duration_seconds",
            "HTTP request latency (from the first byte of the request seen to the answer sent).",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.pool = Gauge(
            "merchflow_db_pool_connections",
            "Database connections of the API pools: open, idle, in use, requests waiting for one, and the most open.",
            ("state",),
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.stock_batches = Counter(
            "merchflow_stock_batches", "Transactions that applied requests of stock movements.",
            registry=self.registry,
        )  # fmt: skip
        self.stock_requests = Counter(
            "merchflow_stock_batched_requests", "Requests of stock movements those transactions applied.",
            registry=self.registry,
        )  # fmt: skip
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._stock_seen: dict[int, tuple[int, int]] = {}  # per movement writer: its counts at the last sample

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = self._children[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)

    def sample(self, state: Any) -> None:
        """Bring the gauges and counters kept by live objects (the pool, the movement writer) up to date."""
        numbers = pool_numbers(getattr(state, "pool", None))
        if numbers is not None:
            for name, value in zip(POOL_STATES, numbers, strict=True):
                self.pool.labels(name).set(value)
        writer = getattr(state, "movements", None)
        if writer is not None:
            batches, requests = self._stock_seen.get(id(writer), (0, 0))
            self.stock_batches.inc(writer.batches - batches)
            self.stock_requests.inc(writer.requests - requests)
            self._stock_seen[id(writer)] = (writer.batches, writer.requests)

    def exposition(self, state: Any, job_stats: JobStats | None) -> bytes:
        """The text a scrape reads: this process's metrics (all workers' in multiprocess mode) and the jobs'."""
        self.sample(state)
        if self.registry is None:
            everyone = CollectorRegistry()
            multiprocess.MultiProcessCollector(everyone)  # type: ignore[no-untyped-call]
            text = generate_latest(everyone)
        else:
            text = generate_latest(self.registry)
        jobs_registry = CollectorRegistry()
        jobs_registry.register(JobsCollector(job_stats))
        reads = getattr(state, "reads", None)
        if reads is not None and reads.replicas:  # the replicas as the worker answering the scrape sees them
            jobs_registry.register(reads)
        return text + generate_latest(jobs_registry)


def pool_numbers(pool: Any) -> tuple[int, int, int, int, int] | None:
    """(open, idle, in use, waiting, max) of an API pool (a FairPool or a bare asyncpg pool); None for the
    tests' one-connection pool."""
    inner = getattr(pool, "pool", pool)
    if not hasattr(inner, "get_size"):
        return None
    size, idle = inner.get_size(), inner.get_idle_size()
    return size, idle, size - idle, int(getattr(pool, "waiting", 0)), inner.get_max_size()


class JobsCollector:
    """Jobs per state and each running job's progress, from one read of the database at the scrape; with no
    figures (the database did not answer) it says so in `merchflow_jobs_known`."""

    def __init__(self, stats: JobStats | None) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        known = GaugeMetricFamily("merchflow_jobs_known", "1 when the job figures below could be read at this scrape.")
        known.add_metric([], 0 if self.stats is None else 1)
        yield known
        if self.stats is None:
            return
        states = GaugeMetricFamily("merchflow_jobs", "Background jobs by state.", labels=["state"])
        for name in JOB_STATES:
            states.add_metric([name], self.stats.states.get(name, 0))
        yield states
        done = GaugeMetricFamily(
            "merchflow_job_products_done", "Products a running job has recomputed.", labels=["job", "kind"]
        )
        total = GaugeMetricFamily(
            "merchflow_job_products_total", "Products a running job covers (once counted).", labels=["job", "kind"]
        )
        for job in self.stats.running:
            done.add_metric([str(job.id), job.kind], job.done)
            if job.total is not None:
                total.add_metric([str(job.id), job.kind], job.total)
        yield done
        yield total


METRICS = Metrics()

JOBS_TIMEOUT = 0.5  # a scrape waits no longer for the job figures (its other figures matter most in an outage)


async def read_job_stats(pool: Any) -> JobStats | None:
    """The job figures, or None when the database does not give them quickly."""
    try:
        async with asyncio.timeout(JOBS_TIMEOUT), pool.acquire() as conn:
            return await jobs.job_stats(conn)
    except Exception as exc:  # (an outage, a busy pool, a timeout: the scrape answers without them)
        log.warning("metrics: no job figures (%s)", type(exc).__name__)
        return None


async def sample_forever(state: Any) -> None:
    """Multiprocess mode: refresh this worker's pool gauges and stock counters every second, so that a scrape
    answered by another worker sees them."""
    while True:
        METRICS.sample(state)
        await asyncio.sleep(SAMPLE_SECONDS)


def mark_worker_gone() -> None:
    """Multiprocess mode: drop this worker's live gauges from the sums (its counters stay in them)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


@get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    opt=allow(),  # admin only: route names, latencies and pool sizes are not for the public
    tags=["Operations"],
    media_type=TEXT,
)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text: requests and latency histograms by method, route template and status; database pool
    connections (open, idle, in use, waiting, max); stock movement batching; jobs by state and the progress of
    running jobs. Summed over the worker processes when there are several."""
    state = request.app.state
    return Response(METRICS.exposition(state, await read_job_stats(state.pool)), media_type=TEXT)
