"""Migrations from an empty database: applied once, in order, under a lock, refusing edited files."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from api import migrate
from tests.conftest import clone, drop


@pytest.fixture
async def empty_db(server: Any) -> Any:
    name = f"merch_empty_{uuid.uuid4().hex[:10]}"
    await clone(server, "template0", name)
    yield server.dsn(name)
    await drop(server, name)


async def test_all_migrations_apply_to_an_empty_database_and_a_second_run_applies_none(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        applied = await migrate.migrate(conn)
        assert [m.version for m in applied.migrations] == list(range(1, len(migrate.discover()) + 1))
        assert applied.routines
        again = await migrate.migrate(conn)
        assert (again.migrations, again.routines) == ([], False)
        assert await migrate.pending(conn) == []
        assert not await migrate.routines_pending(conn)
        tables = {
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert {"categories", "products", "skus", "attributes", "api_keys", "audit_log"} <= tables
    finally:
        await conn.close()


async def test_two_runners_at_once_apply_each_migration_exactly_once(empty_db: str) -> None:
    a, b = await asyncpg.connect(empty_db), await asyncpg.connect(empty_db)
    try:
        first, second = await asyncio.gather(migrate.migrate(a), migrate.migrate(b))
        assert sorted(len(x.migrations) for x in (first, second)) == [0, len(migrate.discover())]
        assert sorted(x.routines for x in (first, second)) == [False, True]
        assert await a.fetchval("SELECT count(*) FROM schema_migrations") == len(migrate.discover())
    finally:
        await a.close()
        await b.close()


async def test_an_edited_migration_is_refused(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate.migrate(conn)
        edited = [replace(m, sql=m.sql + "\n-- edited") if m.version == 1 else m for m in migrate.discover()]
        with pytest.raises(migrate.MigrationError, match="was edited after it was applied"):
            await migrate.migrate(conn, edited)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        broken = [
            *migrate.discover(),
            migrate.Migration(len(migrate.discover()) + 1, "broken", "CREATE TABLE half (id int); SELECT 1/0;"),
        ]
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate.migrate(conn, broken)
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == len(migrate.discover())
    finally:
        await conn.close()
