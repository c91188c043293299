"""The edge: the one ASGI wrapper every HTTP request passes through — the fast lanes' (api/fastlane.py) and the
framework's alike — and the one place that does what every answer needs.

On the way in it refuses what no route can take (a header block over MERCH_MAX_HEADER_BYTES: 431; a path and
query string over 8 KB: 414; a NUL or non-UTF-8 byte in them: 400 — api/guard.py) and gives the request its
id: the client's `X-Request-ID` when it is sane (1–128 characters of letters, digits and `._:=+/@-`), else a
new one. On the way out it adds to the answer its `X-Request-ID`, the security headers and, for a key with a
rate limit, the `RateLimit` headers; then it counts and times the request (api/metrics.py) and writes one
access log line (api/logs.py). The route template, the caller and the rate limit verdict are left in the
scope by whoever learnt them (the framework's router and auth, or a fast lane).

Cost: a few microseconds a request (bench figure in the README's Operations section), most of it the
metrics; the access line only when the `merchflow.access` logger is enabled (MERCH_LOG_LEVEL info or debug).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from api import guard
from api.logs import AccessRecord
from api.metrics import METRICS

log = logging.getLogger("merchflow.edge")
access = logging.getLogger("merchflow.access")

# Keys of the ASGI scope this module and the layers inside share.
REQUEST_ID = "merch.request_id"
RATE_LIMIT = "merch.rate_limit"  # (RateLimit-Policy value, RateLimit value) of an admitted or refused request

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)

_SANE_ID = re.compile(rb"[A-Za-z0-9._:=+/@-]{1,128}")


class RequestIds:
    """New request ids: a random prefix per process and a counter (unique across workers and restarts, and
    cheaper than a UUID: no system call)."""

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(6)
        self.count = 0

    def new(self) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count:06x}"


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Edge:
    """An ASGI app around `app` (the fast lane, or the framework itself)."""

    def __init__(self, app: Any, *, max_header_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.ids = RequestIds()

    @property
    def framework(self) -> Any:
        """The Litestar app inside (its `state` holds the pool, the key cache and the rate limiter)."""
        inner = self.app
        return getattr(inner, "app", inner)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        size = 0
        given = None
        for name, value in scope["headers"]:  # one pass: the block's size and the client's request id
            size += len(name) + len(value) + 4  # `: ` and CRLF
            if name == b"x-request-id":
                given = value
        request_id = given.decode("ascii") if given is not None and _SANE_ID.fullmatch(given) else self.ids.new()
        scope[REQUEST_ID] = request_id
        extra = [(b"x-request-id", request_id.encode("ascii")), *SECURITY_HEADERS]
        status = 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), *extra]
                limited = scope.get(RATE_LIMIT)
                if limited is not None:
                    headers += ((b"ratelimit-policy", limited[0]), (b"ratelimit", limited[1]))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if size > self.max_header_bytes:
                await guard.send_problem(
                    sending,
                    431,
                    "request-header-fields-too-large",
                    "Request header fields too large",
                    f"The request's headers are {size:,} bytes together; at most {self.max_header_bytes:,} are taken.",
                    request_id=request_id,
                )
                return
            flaw = guard.flaw_of(scope)
            if flaw is not None:
                await guard.refuse(sending, *flaw, request_id=request_id)
                return
            await self.app(scope, receive, sending)
        except Exception:
            # (the framework answers its own errors; this is the net for one raised outside it)
            log.exception("unhandled error on %s %s", scope["method"], scope["path"], extra={"request_id": request_id})
            if status == 0:
                await guard.send_problem(sending, 500, *guard.INTERNAL_ERROR, request_id=request_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = scope.get("path_template") or "unmatched"
            METRICS.observe(method, route, status or 499, seconds)
            if access.isEnabledFor(logging.INFO):
                user = scope.get("user")
                access.handle(
                    AccessRecord(
                        request_id,
                        scope["method"],
                        route,
                        scope["path"],
                        status or 499,  # 499: the client left before an answer was sent
                        round(seconds * 1000, 3),
                        getattr(user, "name", None),
                    )
                )
