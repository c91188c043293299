"""The schema runner: migrations, then routines.

Migrations (`sql/migrations/NNNN_description.sql`) hold the schema — tables, constraints, indexes — and
data moves: forward only, one transaction each, checksummed (an applied file that was edited is refused).

Routines (`sql/functions/<area>.sql`) hold the rules: every function, procedure, trigger and composite type
named `merch_*` (a trigger counts when its function does). After the migrations, when the files changed
(their checksum) or a migration ran, the runner drops every routine in the database and creates those of
the files, in one transaction: a rule is changed by editing its one file. Anything a table's definition
depends on (a CHECK's function, such as `is_label_map`) is schema and stays in the migrations.

Both run under one advisory lock, so that processes starting at once apply each change once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from domain.sql import SQL_DIR, load

MIGRATIONS_DIR = SQL_DIR / "migrations"
ROUTINES_DIR = SQL_DIR / "functions"
LOCK_KEY = 0x6D65726368  # "merch": one runner at a time per database
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_ROUTINE_FILE = re.compile(r"^[a-z][a-z0-9_]*\.sql$")
_DEFINED = re.compile(r"^CREATE (?:OR REPLACE )?(?:FUNCTION|PROCEDURE) (merch_[a-z0-9_]+)", re.MULTILINE)
# The routine files whose functions build each read model: when their definitions change (not a comment
# outside them), the model's rows are rebuilt (migration 0016).
MODEL_BUILDERS = {
    "prices": ("prices.sql",),
    "completeness": ("completeness.sql", "visibility.sql", "prices.sql"),
    "storefront": ("storefront.sql", "visibility.sql", "prices.sql"),
}

Q = load("schema")
CREATE_MIGRATION_LEDGER = Q.create_migration_ledger.sql
CREATE_ROUTINE_LEDGER = Q.create_routine_ledger.sql
IS_MIGRATION_LEDGER = Q.is_migration_ledger.sql
IS_ROUTINE_LEDGER = Q.is_routine_ledger.sql
LIST_APPLIED_MIGRATIONS = Q.list_applied_migrations.sql
INSERT_APPLIED_MIGRATION = Q.insert_applied_migration.sql
GET_ROUTINES_CHECKSUM = Q.get_routines_checksum.sql
UPSERT_ROUTINES_CHECKSUM = Q.upsert_routines_checksum.sql
LIST_ROUTINE_DROPS = Q.list_routine_drops.sql
LIST_SQL_ROUTINE_DEFINITIONS = Q.list_sql_routine_definitions.sql
LIST_MODEL_BUILDS = Q.list_model_builds.sql
IS_MODEL_BUILD_LEDGER = Q.is_model_build_ledger.sql
UPSERT_MODEL_BUILD = Q.upsert_model_build.sql
INSERT_REFRESH_MODELS_JOB = Q.insert_refresh_models_job.sql
UPDATE_STOREFRONT_DOCUMENTS_DUE = Q.update_storefront_documents_due.sql
LOCK_RUNNER = Q.lock_runner.sql
UNLOCK_RUNNER = Q.unlock_runner.sql


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Routines:
    """The routine files, in name order."""

    files: tuple[tuple[str, str], ...]

    def defined(self, names: tuple[str, ...]) -> list[str]:
        """The routines the named files define."""
        return sorted({m for name, sql in self.files if name in names for m in _DEFINED.findall(sql)})

    @property
    def checksum(self) -> str:
        digest = hashlib.sha256()
        for name, sql in self.files:
            digest.update(name.encode() + b"\0" + sql.encode("utf-8") + b"\0")
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Applied:
    """What one run changed: the migrations applied, and whether the routines were (re)created."""

    migrations: list[Migration]
    routines: bool
    rebuilds: int | None = None  # the refresh-models job queued for read models built by changed routines

    @property
    def names(self) -> list[str]:
        names = [f"{m.version:04d}_{m.name}" for m in self.migrations] + (["routines"] if self.routines else [])
        return names + ([] if self.rebuilds is None else [f"read models rebuilt by job {self.rebuilds}"])


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; gaps or duplicates are an error."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_description.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing or duplicated (found {migration.version:04d})")
    return found


def discover_routines(directory: Path = ROUTINES_DIR) -> Routines:
    """The routine files (`<area>.sql`), in name order."""
    files = []
    for path in sorted(directory.glob("*.sql")):
        if not _ROUTINE_FILE.match(path.name):
            raise MigrationError(f"{path.name}: routine files are named <area>.sql")
        files.append((path.name, path.read_text(encoding="utf-8")))
    return Routines(tuple(files))


async def pending(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Migrations not yet applied; an applied file whose text changed is an error."""
    migrations = discover() if migrations is None else migrations
    applied: dict[int, str] = {}
    if await conn.fetchval(IS_MIGRATION_LEDGER):
        applied = {r["version"]: r["checksum"] for r in await conn.fetch(LIST_APPLIED_MIGRATIONS)}
    known = {m.version for m in migrations}
    unknown = sorted(v for v in applied if v not in known)
    if unknown:
        raise MigrationError(f"the database has migrations this code does not know: {unknown}")
    for m in migrations:
        if m.version in applied and applied[m.version] != m.checksum:
            raise MigrationError(
                f"migration {m.version:04d}_{m.name} was edited after it was applied; add a new migration instead"
            )
    return [m for m in migrations if m.version not in applied]


async def routines_pending(conn: asyncpg.Connection, routines: Routines | None = None) -> bool:
    """True when the database's routines are not those of the files."""
    routines = discover_routines() if routines is None else routines
    if not await conn.fetchval(IS_ROUTINE_LEDGER):
        return True
    return bool(await conn.fetchval(GET_ROUTINES_CHECKSUM) != routines.checksum)


async def apply_routines(conn: asyncpg.Connection, routines: Routines) -> None:
    """Drop every routine and create those of the files, in one transaction. Bodies are checked once all
    exist (a SQL function may call one defined in a later file)."""
    async with conn.transaction():
        await conn.execute("SET LOCAL check_function_bodies = off")
        for statement in [r["statement"] for r in await conn.fetch(LIST_ROUTINE_DROPS)]:
            await conn.execute(statement)
        for _name, sql in routines.files:
            await conn.execute(sql)
        await conn.execute("SET LOCAL check_function_bodies = on")
        for definition in [r["definition"] for r in await conn.fetch(LIST_SQL_ROUTINE_DEFINITIONS)]:
            await conn.execute(definition)  # CREATE OR REPLACE of the same text: now checked
        await conn.execute(UPSERT_ROUTINES_CHECKSUM, routines.checksum)


async def queue_rebuilds(conn: asyncpg.Connection, routines: Routines) -> int | None:
    """Queue one refresh-models job for the read models whose builders' definitions differ from those their
    rows were built with, and record the new checksums; answers the job's id, or None. Nothing is queued on a
    database with no product yet (nothing was built), nor for a model with no checksum recorded (its rows
    were built before this ledger, by the routines of the version that brings it)."""
    if not await conn.fetchval(IS_MODEL_BUILD_LEDGER):
        return None  # (a database migrated only part of the way, in the runner's own tests)
    models = list(MODEL_BUILDERS)
    builders = [",".join(routines.defined(MODEL_BUILDERS[m])) for m in models]
    async with conn.transaction():
        rows = await conn.fetch(LIST_MODEL_BUILDS, models, builders)
        changed = {r["model"] for r in rows if r["built"] is not None and r["checksum"] != r["built"]}
        ordered = [m for m in models if m in changed and rows[0]["any_product"]]  # (the refresh order)
        job = None
        if ordered:
            reason = "the routines that build " + ", ".join(ordered) + " changed"
            job = int(await conn.fetchval(INSERT_REFRESH_MODELS_JOB, ordered, reason))
        if "storefront" in ordered:
            # the stored pages are the bytes the product page sends as they are: none of the old routines' is
            # sent while the job runs (a page is computed on the spot until the job writes it again)
            await conn.execute(UPDATE_STOREFRONT_DOCUMENTS_DUE)
        for r in rows:
            if r["checksum"] != r["built"]:
                await conn.execute(UPSERT_MODEL_BUILD, r["model"], r["checksum"], job)
    return job


async def migrate(
    conn: asyncpg.Connection, migrations: list[Migration] | None = None, routines: Routines | None = None
) -> Applied:
    """Apply pending migrations, one transaction each, then the routines when they changed, holding the
    advisory lock; answers what was applied."""
    migrations = discover() if migrations is None else migrations
    routines = discover_routines() if routines is None else routines
    await conn.execute(LOCK_RUNNER, LOCK_KEY)
    try:
        await conn.execute(CREATE_MIGRATION_LEDGER)
        await conn.execute(CREATE_ROUTINE_LEDGER)
        todo = await pending(conn, migrations)
        for m in todo:
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(INSERT_APPLIED_MIGRATION, m.version, m.name, m.checksum)
        # A migration may have replaced a table (and its triggers) or, before routines had their own files,
        # created routines of its own: the files' routines are created again after any migration.
        redo = bool(todo) or await routines_pending(conn, routines)
        rebuilds = None
        if redo:
            await apply_routines(conn, routines)
            rebuilds = await queue_rebuilds(conn, routines)
        return Applied(migrations=todo, routines=redo, rebuilds=rebuilds)
    finally:
        await conn.execute(UNLOCK_RUNNER, LOCK_KEY)
