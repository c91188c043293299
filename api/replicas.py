"""Reads on PostgreSQL streaming replicas (MERCH_READ_DATABASE_URLS).

A route reads from a replica when it declares `ON_REPLICA` in its options (or its controller does): the
storefront, customer service's lookup, the change feed, the reports and the exports (a stream: its replica is
chosen and its first chunk read before anything is sent — domain/imports/exports.py). Everything else — every
write, and every read a writing flow makes on its own connection — stays on the primary; a write method may not
declare it (`check_replica_routes` refuses to start).

Each replica has a FairPool (api/db.py) with its own watchdog, and the router's monitor asks the primary for
its WAL position and every replica for the position it has replayed, ten times a second. A replica's lag is
how long ago the primary first had WAL that the replica has not replayed yet (0 when it has replayed
everything the primary had). A replica is used while its pool is up, its monitor answers and its lag is at
most MERCH_MAX_REPLICA_LAG_MS; otherwise it is left out — its reads go to the other replicas, or to the
primary — until it answers and catches up, by itself. A read whose replica fails under it (cut, stopped,
cancelled by a conflict with recovery) is run again on another replica or the primary before anything is
sent: the caller never sees the replica's failure.

Read your own writes: a write's answer carries `X-Consistency-Token`, the primary's flushed WAL position
after its commit (in PostgreSQL's `X/Y` notation). A read that sends it back is served by a replica that has
replayed that far — waiting at most MERCH_CONSISTENCY_WAIT_MS for one to get there — or else by the primary.

Longer than 400 lines: the router, its monitor and the middleware that runs a failed read again share the
replicas' state and are read together.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Parameter,
    Reference,
    Schema,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from api import background, db, document
from domain.errors import FieldError, InvalidRequest

log = logging.getLogger("merchflow.replicas")

ON_REPLICA_KEY = "replica_reads"
ON_REPLICA: dict[str, Any] = {ON_REPLICA_KEY: True}
TOKEN_HEADER = "X-Consistency-Token"
_TOKEN = TOKEN_HEADER.lower().encode()
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# The monitor asks every MONITOR_INTERVAL seconds; it keeps the primary's positions of the last
# HISTORY_SECONDS (a lag longer than that is reported as that long).
MONITOR_INTERVAL = 0.1
HISTORY_SECONDS = 120.0
# How often a read holding a token asks its replica again while it waits for it to catch up.
CATCH_UP_POLL = 0.002
# The position a server can serve: what a standby has replayed, what a primary has flushed (a URL naming a
# primary among the replicas serves everything at once).
POSITION = (
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END"
    " - '0/0'::pg_lsn)::bigint"
)
# Scope keys: the replicas a request has seen fail (not tried again), and the mark that its answer is to be
# dropped and the request run again elsewhere.
_EXCLUDED = "merch.replicas_excluded"
_RETRY = "merch.replica_retry"
_SERVED = "merch.replica_served"  # the replica the current attempt reads on
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


class InvalidConsistencyToken(InvalidRequest):
    """The X-Consistency-Token header is not a token a write answered with."""

    code = "invalid-consistency-token"
    title = "Invalid consistency token"


def parse_token(text: str) -> int:
    match = _LSN.match(text.strip())
    if match is None:
        message = f"{TOKEN_HEADER} must be a token a write answered with (a WAL position such as 0/1A2B3C4D)."
        raise InvalidConsistencyToken(
            message, errors=[FieldError(parameter=TOKEN_HEADER, code="invalid", message=message)]
        )
    return (int(match[1], 16) << 32) | int(match[2], 16)


def token_of(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == _TOKEN:
            return parse_token(value.decode("latin-1"))
    return None


@dataclass(eq=False)
class Replica:
    """One read replica: its pool and what the monitor last saw of it."""

    name: str
    dsn: str
    pool: db.FairPool
    state: str = "unknown"  # unknown (not asked yet), streaming, lagging, down
    replayed: int | None = None  # the WAL position it had replayed when last asked
    lag: float | None = None  # seconds
    reads: int = 0  # reads it served

    @property
    def usable(self) -> bool:
        return self.state == "streaming" and not self.pool.down


@dataclass(eq=False)
class ReadRouter:
    """Where a replica route's read runs: a usable replica (round robin), else the primary."""

    primary: Any  # the primary's pool (a FairPool when served; any pool in tests)
    replicas: Sequence[Replica] = ()
    primary_dsn: str | None = None
    max_lag: float = 1.0  # seconds
    wait: float = 0.2  # seconds a read with a token waits for a replica to catch up
    fallbacks: int = 0  # replica-route reads the primary served because no replica could
    retries: int = 0  # reads run again after their replica failed under them
    _next: int = 0
    _history: deque[tuple[float, int]] = field(default_factory=deque)
    _monitor: asyncio.Task[None] | None = None
    _round: asyncio.Event | None = None

    # -- choosing ---------------------------------------------------------------------------------------

    def acquire(self, scope: Scope) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A connection for a replica route's read (scope: the request's, for its token and retries); without
        replicas, the primary's acquire itself (the storefront's hot path pays no wrapper)."""
        token = token_of(scope)  # (checked with replicas or without: the header means the same everywhere)
        if not self.replicas:
            return cast(AbstractAsyncContextManager[asyncpg.Connection], self.primary.acquire())
        return self._acquire(scope, token)

    @asynccontextmanager
    async def _acquire(self, scope: Scope, token: int | None) -> AsyncIterator[asyncpg.Connection]:
        marks = _marks(scope)
        excluded: set[str] = marks.setdefault(_EXCLUDED, set())
        async with AsyncExitStack() as stack:
            conn, replica = await self._choose(stack, token, excluded)
            if replica is None:
                yield conn
                return
            replica.reads += 1
            marks[_SERVED] = replica
            try:
                yield conn
            except Exception as exc:
                if not _replica_fault(exc, conn):
                    raise
                excluded.add(replica.name)
                marks[_RETRY] = True
                if db.is_cut(conn) or isinstance(exc, db.LOST):
                    await replica.pool.lost()
                # answered as an outage (and dropped: the read runs again elsewhere), not logged as a fault
                raise db.DatabaseUnavailable(f"replica {replica.name} failed under the read") from exc

    async def _choose(
        self, stack: AsyncExitStack, token: int | None, excluded: set[str]
    ) -> tuple[asyncpg.Connection, Replica | None]:
        candidates = [r for r in self._rotation() if r.usable and r.name not in excluded]
        if token is not None:
            ahead = [r for r in candidates if (r.replayed or 0) >= token]
            # none known to be there yet: the one furthest ahead, which may get there within the wait
            candidates = ahead or sorted(candidates, key=lambda r: r.replayed or 0, reverse=True)[:1]
        deadline = asyncio.get_running_loop().time() + self.wait
        for replica in candidates:
            attempt = AsyncExitStack()
            try:
                conn = await attempt.enter_async_context(replica.pool.acquire())
            except db.DatabaseBusy:
                continue
            except db.DatabaseUnavailable:
                await replica.pool.lost()
                continue
            try:
                ready = token is None or await self._caught_up(replica, conn, token, deadline)
            except db.LOST:
                await attempt.aclose()
                await replica.pool.lost()
                continue
            if ready:
                await stack.enter_async_context(attempt)
                return conn, replica
            await attempt.aclose()
        self.fallbacks += 1
        return await stack.enter_async_context(self.primary.acquire()), None

    async def _caught_up(self, replica: Replica, conn: asyncpg.Connection, token: int, deadline: float) -> bool:
        loop = asyncio.get_running_loop()
        while True:
            position = int(await conn.fetchval(POSITION) or 0)
            replica.replayed = max(replica.replayed or 0, position)
            if position >= token:
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(CATCH_UP_POLL)  # the replica replays meanwhile: ask again

    def _rotation(self) -> list[Replica]:
        k = self._next % len(self.replicas)
        self._next = k + 1
        return [*self.replicas[k:], *self.replicas[:k]]

    # -- read your writes -------------------------------------------------------------------------------

    async def token(self) -> str | None:
        """The primary's flushed WAL position now (after a write's commit: at or past its commit record)."""
        try:
            async with self.primary.acquire() as conn:
                return format_lsn(int(await conn.fetchval(POSITION)))
        except (db.DatabaseUnavailable, *db.LOST):
            return None

    async def stamp(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Add the consistency token to a write's answer headers, when replicas serve reads (and the primary
        gives its position)."""
        if self.replicas:
            token = await self.token()
            if token is not None:
                headers.append((_TOKEN, token.encode()))

    # -- monitoring -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start every replica's watchdog and the monitor of positions and lag (once)."""
        if not self.replicas or self._monitor is not None:
            return
        assert self.primary_dsn is not None
        for replica in self.replicas:
            replica.pool.watch(replica.dsn)
        self._monitor = asyncio.get_running_loop().create_task(self._monitoring(self.primary_dsn))

    async def stop(self) -> None:
        if self._monitor is not None:
            await background.stop(self._monitor)
            self._monitor = None
        for replica in self.replicas:
            await replica.pool.stop_watching()

    async def next_round(self) -> None:
        """Wait until the monitor has asked everyone once more (tests, and anyone who wants fresh states)."""
        if self._round is None:
            self._round = asyncio.Event()
        await self._round.wait()

    async def _monitoring(self, primary_dsn: str) -> None:
        probes: dict[str, asyncpg.Connection | None] = {}
        loop = asyncio.get_running_loop()
        try:
            while True:
                head = await _ask(probes, "primary", primary_dsn)
                now = loop.time()
                if head is not None:
                    self._history.append((now, head))
                    while self._history and self._history[0][0] < now - HISTORY_SECONDS:
                        self._history.popleft()
                answers = await asyncio.gather(*(_ask(probes, r.name, r.dsn) for r in self.replicas))
                for replica, position in zip(self.replicas, answers, strict=True):
                    self._judge(replica, position, now)
                if self._round is not None:
                    self._round.set()
                    self._round = None
                await asyncio.sleep(MONITOR_INTERVAL)  # the monitor's period, not a synchronisation
        finally:
            for conn in probes.values():
                if conn is not None:
                    conn.terminate()

    def _judge(self, replica: Replica, position: int | None, now: float) -> None:
        if position is None or replica.pool.down:
            if replica.state != "down":
                log.warning("replica %s does not answer: reads go elsewhere", replica.name)
            replica.state, replica.lag = "down", None
            return
        replica.replayed = position
        replica.lag = self._lag(position, now)
        state = "lagging" if replica.lag > self.max_lag else "streaming"
        if state != replica.state:
            log.log(
                logging.INFO if state == "streaming" else logging.WARNING,
                "replica %s is %s (lag %.0f ms)",
                replica.name,
                state,
                replica.lag * 1000,
            )
        replica.state = state

    def _lag(self, replayed: int, now: float) -> float:
        """How long ago the primary first had WAL past `replayed` (0: it had nothing more)."""
        for at, head in self._history:
            if head > replayed:
                return now - at
        return 0.0

    # -- reporting --------------------------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        """Prometheus metrics of the replicas, as this worker sees them (a prometheus-client collector)."""
        if not self.replicas:
            return
        up = GaugeMetricFamily(
            "merchflow_replica_up", "Whether a read replica is used (1) or left out (0).", labels=["replica", "state"]
        )
        lag = GaugeMetricFamily(
            "merchflow_replica_lag_seconds",
            "How far a replica's replay is behind the primary (NaN: unknown).",
            labels=["replica"],
        )
        reads = CounterMetricFamily("merchflow_replica_reads", "Reads a replica served.", labels=["replica"])
        for r in self.replicas:
            up.add_metric([r.name, r.state], int(r.usable))
            lag.add_metric([r.name], float("nan") if r.lag is None else r.lag)
            reads.add_metric([r.name], r.reads)
        yield up
        yield lag
        yield reads
        yield CounterMetricFamily(
            "merchflow_replica_fallback_reads",
            "Replica-route reads the primary served (no replica could).",
            value=self.fallbacks,
        )
        yield CounterMetricFamily(
            "merchflow_replica_retried_reads",
            "Reads run again after their replica failed under them.",
            value=self.retries,
        )


async def _ask(probes: dict[str, asyncpg.Connection | None], name: str, dsn: str) -> int | None:
    """A server's position, on the monitor's own connection to it; None when it does not answer in time."""
    conn = probes.get(name)
    try:
        if conn is None or conn.is_closed():
            async with asyncio.timeout(db.PROBE_CONNECT_TIMEOUT):
                conn = await asyncpg.connect(dsn)
            probes[name] = conn
        asking: asyncpg.Connection = conn
        async with asyncio.timeout(db.WATCH_TIMEOUT):  # (not wait_for: see api/background)
            return int(await asking.fetchval(POSITION) or 0)
    except asyncio.CancelledError:
        raise
    except Exception:
        if conn is not None:
            conn.terminate()
        probes[name] = None
        return None


def _marks(scope: Scope) -> dict[str, Any]:
    """The request's scope as a plain dict, for the router's own keys."""
    return cast(dict[str, Any], scope)


def _replica_fault(exc: BaseException, conn: asyncpg.Connection) -> bool:
    """A failure of the replica rather than of the request: its connection lost, or the statement cancelled
    because replay needed what it read (a conflict with recovery)."""
    return isinstance(exc, (db.DatabaseUnavailable, asyncpg.SerializationError, *db.LOST)) or db.is_cut(conn)


def replica_middleware(app: ASGIApp) -> ASGIApp:
    """Runs a replica route's read again elsewhere when its replica failed under it (before anything was
    sent); adds the consistency token to a write's answer when replicas serve reads."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        router: ReadRouter | None = getattr(scope["litestar_app"].state, "reads", None)
        if scope["type"] != ScopeType.HTTP or router is None or not router.replicas:
            await app(scope, receive, send)
        elif scope["route_handler"].opt.get(ON_REPLICA_KEY):
            await _read(app, router, scope, receive, send)
        elif scope["method"] in WRITE_METHODS:
            await app(scope, receive, _stamping(router, send))
        else:
            await app(scope, receive, send)

    return middleware


async def _read(app: ASGIApp, router: ReadRouter, scope: Scope, receive: Receive, send: Send) -> None:
    attempts = len(router.replicas) + 1  # each replica once at most, then the primary
    for attempt in range(attempts):
        _marks(scope).pop(_RETRY, None)
        _marks(scope).pop(_SERVED, None)
        if await _attempt(app, scope, receive, send, last=attempt == attempts - 1):
            return
        router.retries += 1


async def _attempt(app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, last: bool) -> bool:
    """Run the read once; False when its replica failed before anything was sent (its answer dropped).

    A replica failed the read when the router saw it fail (the handler's connection lost or its statement
    cancelled by replay), or when a replica served it and it answered 5xx: the failure may have met a
    dependency that shares the connection (the locale, the filters), out of the router's sight, and a read
    runs again safely."""
    started = dropped = False
    marks = _marks(scope)

    async def answer(message: Message) -> None:
        nonlocal started, dropped
        if not started and not last and message["type"] == "http.response.start":
            served = marks.get(_SERVED)
            if marks.get(_RETRY) or (served is not None and message["status"] >= 500):
                dropped = True
                marks[_RETRY] = True
                if served is not None:  # (a dead replica's pool is marked down by its watchdog within a second)
                    marks.setdefault(_EXCLUDED, set()).add(served.name)
        if dropped:
            return  # the failed attempt's answer: dropped, the read runs again
        started = True
        await send(message)

    await app(scope, receive, answer)
    return started or not dropped


def _stamping(router: ReadRouter, send: Send) -> Send:
    async def stamped(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] < 400:
            headers = [*message.get("headers", [])]
            await router.stamp(headers)
            message = {**message, "headers": headers}
        await send(message)

    return stamped


def check_replica_routes(app: Litestar) -> None:
    """Refuse to start when a route that writes declares replica reads (a write must see the primary)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.opt.get(ON_REPLICA_KEY):
                if handler.http_methods & WRITE_METHODS:
                    raise RuntimeError(f"route handler {handler.handler_name} writes: it may not read from replicas")


def document_consistency(app: Litestar) -> None:
    """The token in the OpenAPI document: a header every replica route takes, and one every write's success
    answers with (when replicas serve reads)."""
    schema = app.openapi_schema
    pattern = r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"
    asked = Parameter(
        name=TOKEN_HEADER,
        param_in="header",
        required=False,
        schema=Schema(type=OpenAPIType.STRING, pattern=pattern),
        description=(
            "A write's consistency token: served by a replica that has replayed that write (waiting at most "
            "MERCH_CONSISTENCY_WAIT_MS), else by the primary."
        ),
    )
    answered = OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, pattern=pattern),
        description=f"The WAL position after this write's commit: send it as `{TOKEN_HEADER}` to read it back "
        "from a replica (sent when replicas serve reads).",
    )
    components = schema.components
    components.parameters = {**(components.parameters or {}), TOKEN_HEADER: asked}
    components.headers = {**(components.headers or {}), TOKEN_HEADER: answered}
    asked_ref = Reference(ref=f"#/components/parameters/{TOKEN_HEADER}")
    answered_ref = Reference(ref=f"#/components/headers/{TOKEN_HEADER}")
    for method, handler, operation in document.operations(app, schema):
        if handler.opt.get(ON_REPLICA_KEY):
            operation.parameters = [*(operation.parameters or []), asked_ref]
        if method in WRITE_METHODS:
            for status, response in (operation.responses or {}).items():
                if status.startswith("2") and isinstance(response, OpenAPIResponse):
                    response.headers = {**(response.headers or {}), TOKEN_HEADER: answered_ref}


def replica_routes(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every route that reads from replicas."""
    return sorted(
        (method, route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if isinstance(handler, HTTPRouteHandler) and handler.opt.get(ON_REPLICA_KEY)
        for method in handler.http_methods - {"OPTIONS"}
    )
