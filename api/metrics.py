"""Prometheus metrics: requests by route template and status, and their latency (per worker process)."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import defaultdict
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import allow

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Registry:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.latency_sum: dict[tuple[str, str], float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        self.latency[(method, route)][bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum[(method, route)] += seconds

    def render(self, state: Any) -> str:
        pool, writer = getattr(state, "pool", None), getattr(state, "movements", None)
        lines = [
            "# HELP merchflow_http_requests_total HTTP requests by method, route template and status.",
            "# TYPE merchflow_http_requests_total counter",
        ]
        for (method, route, status), n in sorted(self.requests.items()):
            lines.append(f'merchflow_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
        lines += [
            "# HELP merchflow_http_request_seconds HTTP request latency.",
            "# TYPE merchflow_http_request_seconds histogram",
        ]
        for (method, route), counts in sorted(self.latency.items()):
            labels = f'method="{method}",route="{route}"'
            cumulative = 0
            for bound, count in zip([*map(str, BUCKETS), "+Inf"], counts, strict=True):
                cumulative += count
                lines.append(f'merchflow_http_request_seconds_bucket{{{labels},le="{bound}"}} {cumulative}')
            lines.append(f"merchflow_http_request_seconds_sum{{{labels}}} {self.latency_sum[(method, route)]:.6f}")
            lines.append(f"merchflow_http_request_seconds_count{{{labels}}} {cumulative}")
        if pool is not None and hasattr(pool, "get_size"):
            lines += [
                "# HELP merchflow_db_pool_connections Connections in the pool, by state.",
                "# TYPE merchflow_db_pool_connections gauge",
                f'merchflow_db_pool_connections{{state="open"}} {pool.get_size()}',
                f'merchflow_db_pool_connections{{state="idle"}} {pool.get_idle_size()}',
            ]
        if writer is not None:
            lines += [
                "# HELP merchflow_stock_batches_total Transactions that applied requests of stock movements.",
                "# TYPE merchflow_stock_batches_total counter",
                f"merchflow_stock_batches_total {writer.batches}",
                "# HELP merchflow_stock_batched_requests_total Requests of stock movements those transactions applied.",
                "# TYPE merchflow_stock_batched_requests_total counter",
                f"merchflow_stock_batched_requests_total {writer.requests}",
            ]
        return "\n".join(lines) + "\n"


REGISTRY = Registry()


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            route = scope.get("path_template") or "unmatched"
            REGISTRY.observe(str(scope.get("method")), str(route), status, time.perf_counter() - started)

    return middleware


@get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    opt=allow(),  # admin only: route names, latencies and pool sizes are not for the public
    tags=["Operations"],
    media_type="text/plain; version=0.0.4",
)
async def metrics(request: Request[Any, Any, Any]) -> Response[str]:
    """Request counts and latency histograms by route template, pool usage and the grouping of stock movements
    (requests per transaction), for this worker process."""
    return Response(REGISTRY.render(request.app.state), media_type="text/plain; version=0.0.4")
