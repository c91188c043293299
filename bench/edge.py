"""Micro-benchmark of the per-request work around a fast lane: what api/edge.py (request id, header size, guard,
security headers, metrics, access line) and api/limits.py add to an answer, against what was done before (the
lane's guard, security headers and hand-written metrics; uvicorn's access line, on at MERCH_LOG_LEVEL=info until
the edge replaced it) and against nothing at all.

    python -m bench.edge                                  # one process's metrics
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) python -m bench.edge   # metrics as with several workers

The inner app is a stub that answers at once as a lane does (so only the wrapper is measured); µs per request,
best of 5 runs of 100,000 requests, one process, no network.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from bisect import bisect_left
from collections import defaultdict
from typing import Any

from api import guard
from api.edge import SECURITY_HEADERS, Edge
from api.limits import Rate, RateLimiter
from api.logs import JsonFormatter
from domain.keys.model import Principal

N = 100_000
HEADERS = [
    (b"host", b"merchflow.example:8000"),
    (b"user-agent", b"scanner-bridge/2.1"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"authorization", b"Bearer mf_0123456789abcdef0123456789abcdef"),
    (b"connection", b"keep-alive"),
]
SCOPE = {"type": "http", "method": "GET", "path": "/v1/products/sq-1", "raw_path": b"/v1/products/sq-1",
         "query_string": b"", "headers": HEADERS}  # fmt: skip
ANSWER = [(b"content-type", b"application/json"), (b"content-length", b"512"), (b"etag", b'"7"')]
BODY = b"x" * 512
PRINCIPAL = Principal(name="scanner-1", roles=frozenset({"warehouse"}))


async def lane(scope: Any, receive: Any, send: Any) -> None:
    """A fast lane's answer, as api/fastlane.py sends it now (the route template left in the scope)."""
    scope["path_template"] = "/v1/products/{code}"
    scope["user"] = PRINCIPAL
    await send({"type": "http.response.start", "status": 200, "headers": ANSWER})
    await send({"type": "http.response.body", "body": BODY, "more_body": False})


class LimitedLane:
    """The same, taking a token of a key's bucket first (a key with a rate limit; the bucket never empties)."""

    def __init__(self) -> None:
        self.limiter = RateLimiter(Rate(1e9, 1_000_000_000), {})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.limiter.take(scope, PRINCIPAL)
        await lane(scope, receive, send)


# What the fast lane did around the same answer before the edge (api/fastlane.py, api/headers.py, api/metrics.py
# at 86feb40): the guard, the security headers added to the lane's list, and the hand-written registry.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
requests: dict[tuple[str, str, int], int] = defaultdict(int)
latency: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
latency_sum: dict[tuple[str, str], float] = defaultdict(float)


def with_security(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    return [*headers, *(h for h in SECURITY_HEADERS if h[0] not in present)]


async def before(scope: Any, receive: Any, send: Any) -> None:
    flaw = guard.flaw_of(scope)
    if flaw is not None:
        return
    started = time.perf_counter()
    await send({"type": "http.response.start", "status": 200, "headers": with_security(ANSWER)})
    await send({"type": "http.response.body", "body": BODY, "more_body": False})
    key, seconds = ("GET", "/v1/products/{code}"), time.perf_counter() - started
    requests[(*key, 200)] += 1
    latency[key][bisect_left(BUCKETS, seconds)] += 1
    latency_sum[key] += seconds


UVICORN_ACCESS = logging.getLogger("uvicorn.access")


async def before_with_uvicorns_line(scope: Any, receive: Any, send: Any) -> None:
    """`before`, and the access line uvicorn wrote for every answer (httptools_impl.py, its default formatter)."""
    await before(scope, receive, send)
    UVICORN_ACCESS.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", scope["method"], scope["path"], "1.1", 200)


async def nothing(message: Any) -> None:
    return None


async def receive() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


async def measure(app: Any) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(N):
            await app(dict(SCOPE), receive, nothing)
        best = min(best, (time.perf_counter() - started) / N * 1e6)
    return best


def log_to_devnull(logger: logging.Logger, formatter: logging.Formatter) -> None:
    sink = logging.StreamHandler(open(os.devnull, "w"))
    sink.setFormatter(formatter)
    logger.addHandler(sink)
    logger.propagate = False


async def main() -> None:
    from uvicorn.logging import AccessFormatter

    access = logging.getLogger("merchflow.access")
    log_to_devnull(access, JsonFormatter())
    log_to_devnull(
        UVICORN_ACCESS, AccessFormatter('%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s')
    )
    UVICORN_ACCESS.setLevel(logging.INFO)
    mode = "multiprocess" if "PROMETHEUS_MULTIPROC_DIR" in os.environ else "one process"
    print(f"µs per request around a fast lane's answer (metrics: {mode}, Python {sys.version.split()[0]})")
    access.setLevel(logging.WARNING)
    edge = Edge(lane, max_header_bytes=16384)
    limited = Edge(LimitedLane(), max_header_bytes=16384)
    rows = [
        ("the lane's answer alone", await measure(lane)),
        ("before: guard, security headers, hand-written metrics", await measure(before)),
        ("edge, access line off (MERCH_LOG_LEVEL=warning)", await measure(edge)),
        ("edge and a key's rate limit, access line off", await measure(limited)),
        ("before, with uvicorn's access line (info)", await measure(before_with_uvicorns_line)),
    ]
    access.setLevel(logging.INFO)
    rows.append(("edge, rate limit, JSON access line (info)", await measure(limited)))
    base = rows[0][1]
    for name, micros in rows:
        print(f"  {name:<56} {micros:6.2f}   (+{micros - base:5.2f})")


if __name__ == "__main__":
    asyncio.run(main())
