"""Routines (`sql/functions/`): an empty database and an upgraded one end with the same schema and the same
routine bodies; a routine changes by editing its file; a broken file changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from api import migrate
from tests.conftest import clone, drop

# Migrations 0001–0005 created their routines themselves: every database made before routines had files of
# their own is in this state, with those routines (an older body of some) in it.
BEFORE_ROUTINE_FILES = 5

SNAPSHOT = """
SELECT 'routine ' || p.oid::regprocedure::text AS object, pg_get_functiondef(p.oid) AS definition
  FROM pg_proc p
 WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
UNION ALL
SELECT 'trigger ' || t.tgrelid::regclass::text || '.' || t.tgname, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'type ' || t.oid::regtype::text,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = t.typrelid)
  FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
 WHERE t.typnamespace = 'public'::regnamespace
UNION ALL
SELECT 'relation ' || c.relname,
       c.relkind::text || ' ' || c.relpersistence::text || ' ' || coalesce(c.reloptions::text, '')
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname,
       a.attnum || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' ' || a.attgenerated::text || ' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || coalesce(c.conrelid::regclass::text, c.contypid::regtype::text) || '.' || c.conname,
       pg_get_constraintdef(c.oid)
  FROM pg_constraint c
 WHERE c.connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'extension ' || e.extname, '' FROM pg_extension e
"""


async def snapshot(conn: asyncpg.Connection) -> dict[str, str]:
    """Every schema object and routine of the database with its definition."""
    return {r["object"]: r["definition"] for r in await conn.fetch(SNAPSHOT)}


@pytest.fixture
async def new_db(server: Any) -> AsyncIterator[Any]:
    """A factory of empty databases, dropped after the test."""
    names: list[str] = []

    async def make() -> asyncpg.Connection:
        name = f"merch_rt_{uuid.uuid4().hex[:10]}"
        names.append(name)
        await clone(server, "template0", name)
        return await asyncpg.connect(server.dsn(name))

    conns: list[asyncpg.Connection] = []

    async def tracked() -> asyncpg.Connection:
        conn = await make()
        conns.append(conn)
        return conn

    yield tracked
    for conn in conns:
        await conn.close()
    for name in names:
        await drop(server, name)


async def apply_as_before_routine_files(conn: asyncpg.Connection, migrations: list[migrate.Migration]) -> None:
    """What the runner did before routines had their own files: the migrations alone, one by one."""
    await conn.execute(migrate.CREATE_MIGRATION_LEDGER)
    for m in migrations:
        async with conn.transaction():
            await conn.execute(m.sql)
            await conn.execute(migrate.INSERT_APPLIED_MIGRATION, m.version, m.name, m.checksum)


@pytest.mark.parametrize("applied_before", range(1, len(migrate.discover()) + 1))
async def test_a_database_at_any_earlier_migration_upgrades_to_the_schema_and_routines_of_an_empty_one(
    new_db: Any, applied_before: int
) -> None:
    fresh = await new_db()
    await migrate.migrate(fresh)
    expected = await snapshot(fresh)

    old = await new_db()
    # An older database: its migrations applied, with whatever routines it had then (here: those the
    # migrations created themselves); today's runner then brings it to the end.
    await apply_as_before_routine_files(old, migrate.discover()[:applied_before])
    if applied_before == BEFORE_ROUTINE_FILES:
        routines = {k: v for k, v in expected.items() if k.startswith(("routine ", "trigger "))}
        older = {k: v for k, v in (await snapshot(old)).items() if k.startswith(("routine ", "trigger "))}
        assert older != routines, "the routines of 0001–0005 are not today's: the upgrade has work to do"
    applied = await migrate.migrate(old)
    assert applied.routines
    assert await snapshot(old) == expected


def with_file(routines: migrate.Routines, name: str, sql: str | None) -> migrate.Routines:
    """The routines with one file replaced, added, or (sql None) removed."""
    files = {n: s for n, s in routines.files if n != name}
    if sql is not None:
        files[name] = sql
    return migrate.Routines(tuple(sorted(files.items())))


async def test_editing_a_routine_file_changes_that_routine_and_removing_one_drops_it(new_db: Any) -> None:
    conn = await new_db()
    routines = migrate.discover_routines()
    await migrate.migrate(conn, routines=routines)
    probe = "CREATE FUNCTION merch_probe() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;\n"
    added = with_file(routines, "probe.sql", probe)
    assert await migrate.routines_pending(conn, added)
    assert (await migrate.migrate(conn, routines=added)).routines
    assert await conn.fetchval("SELECT merch_probe()") == 1

    edited = with_file(routines, "probe.sql", probe.replace("SELECT 1", "SELECT 2"))
    assert (await migrate.migrate(conn, routines=edited)).routines
    assert await conn.fetchval("SELECT merch_probe()") == 2
    assert not (await migrate.migrate(conn, routines=edited)).routines, "unchanged files are not applied again"

    await migrate.migrate(conn, routines=routines)
    assert await conn.fetchval("SELECT to_regproc('merch_probe')") is None
    assert not await migrate.routines_pending(conn)


async def test_a_broken_routine_file_changes_nothing(new_db: Any) -> None:
    conn = await new_db()
    await migrate.migrate(conn)
    before = await snapshot(conn)
    # The SQL function's body names a table that does not exist: found when bodies are checked.
    broken = with_file(
        migrate.discover_routines(),
        "zz_broken.sql",
        "CREATE FUNCTION merch_broken() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM no_such_table $$;\n",
    )
    with pytest.raises(asyncpg.UndefinedTableError):
        await migrate.migrate(conn, routines=broken)
    assert await snapshot(conn) == before
    assert not await migrate.routines_pending(conn)


async def test_nothing_in_the_schema_depends_on_a_routine(new_db: Any) -> None:
    """Constraints, defaults, generated columns and indexes may not use merch_* routines: dropping the routines
    to create them again would have to drop those too."""
    conn = await new_db()
    await migrate.migrate(conn)
    dependents = await conn.fetch(
        """
        SELECT d.classid::regclass::text AS kind, p.proname
          FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid
         WHERE d.refclassid = 'pg_proc'::regclass AND p.proname LIKE 'merch\\_%'
           AND d.classid IN ('pg_constraint'::regclass, 'pg_attrdef'::regclass, 'pg_class'::regclass)
        """
    )
    assert [dict(r) for r in dependents] == []
