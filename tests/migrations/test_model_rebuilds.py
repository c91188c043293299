"""Read models rebuilt when the routines that build them change (migration 0016, api/migrate.py): a new
definition of a storefront routine queues one refresh-models job for the storefront, which brings every row
back to what the routines compute; a comment outside the routines, or a database with nothing built, queues
nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from api import demo, migrate
from domain.jobs import service as jobs
from domain.jobs import store as job_store
from domain.storefront import service as storefront

CARDS = "SELECT product_id, card FROM storefront_products ORDER BY product_id"
REBUILDS = "SELECT count(*) FROM jobs WHERE kind = 'refresh-models'"


def edited(routines: migrate.Routines, name: str, extra: str) -> migrate.Routines:
    """The routine files with `extra` appended to one of them."""
    return migrate.Routines(tuple((n, sql + extra if n == name else sql) for n, sql in routines.files))


NEW_ROUTINE = "\nCREATE FUNCTION merch_storefront_noop() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;\n"


async def test_a_changed_storefront_routine_rebuilds_the_storefront_and_nothing_else(fresh_pool: asyncpg.Pool) -> None:
    files = migrate.discover_routines()
    async with fresh_pool.acquire() as conn:
        # the template was migrated with no product: checksums recorded, nothing queued
        assert await conn.fetchval("SELECT count(*) FROM read_model_builds") == 3
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 0
        await demo.seed(conn)
        await jobs.run_pending(fresh_pool)  # (the seed's own recomputes)
        built = [tuple(r) for r in await conn.fetch(CARDS)]
        assert len(built) >= 5
        products = await conn.fetchval("SELECT count(*) FROM products")
        # rows computed by some older routine: what the rebuild must replace
        await conn.execute("UPDATE storefront_products SET card = '{}'::jsonb")

        # a comment outside every routine: the routines are created again, nothing is rebuilt
        applied = await migrate.migrate(conn, routines=edited(files, "storefront.sql", "\n-- a note\n"))
        assert applied.routines and applied.rebuilds is None
        assert await conn.fetchval(REBUILDS) == 0

        # a storefront routine defined anew: one job, for the storefront only
        applied = await migrate.migrate(conn, routines=edited(files, "storefront.sql", NEW_ROUTINE))
        assert applied.rebuilds is not None
        assert applied.names == ["routines", f"read models rebuilt by job {applied.rebuilds}"]
        job = await job_store.get_job(conn, applied.rebuilds)
        assert job is not None
        assert (job.kind, job.models, job.state, job.scope) == ("refresh-models", ["storefront"], "queued", None)
        assert job.reason == "the routines that build storefront changed"
        assert await conn.fetchval(REBUILDS) == 1
        # the same routines again: nothing more
        assert (await migrate.migrate(conn, routines=edited(files, "storefront.sql", NEW_ROUTINE))).names == []

    assert await jobs.run_pending(fresh_pool) == 1
    async with fresh_pool.acquire() as conn:
        assert [tuple(r) for r in await conn.fetch(CARDS)] == built  # every row as the routines compute it
        done = await job_store.get_job(conn, applied.rebuilds)
        assert done is not None and (done.state, done.done, done.total) == ("done", products, products)


async def test_a_changed_prices_routine_rebuilds_every_model_that_reads_prices(fresh_pool: asyncpg.Pool) -> None:
    files = migrate.discover_routines()
    extra = "\nCREATE FUNCTION merch_prices_noop() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;\n"
    async with fresh_pool.acquire() as conn:
        await demo.seed(conn)
        applied = await migrate.migrate(conn, routines=edited(files, "prices.sql", extra))
        assert applied.rebuilds is not None
        job = await job_store.get_job(conn, applied.rebuilds)
        assert job is not None and job.models == ["prices", "completeness", "storefront"]  # the refresh order


async def test_a_changed_routine_on_a_database_with_no_product_queues_nothing(fresh_pool: asyncpg.Pool) -> None:
    files = migrate.discover_routines()
    async with fresh_pool.acquire() as conn:
        applied = await migrate.migrate(conn, routines=edited(files, "storefront.sql", NEW_ROUTINE))
        assert applied.routines and applied.rebuilds is None
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 0
        # (the new checksum is recorded: products created now are built by these routines)
        recorded = await conn.fetchval("SELECT job_id IS NULL FROM read_model_builds WHERE model = 'storefront'")
        assert recorded is True


PAGES = "SELECT code, locale, body, etag, stale_at FROM storefront_documents ORDER BY code, locale"


async def test_no_stored_page_of_the_old_routines_is_sent_while_the_storefront_is_rebuilt(
    fresh_pool: asyncpg.Pool,
) -> None:
    """The product page route sends stored bytes as they are: once a storefront rebuild is queued, until the job
    has written a page again, the page is computed by the new routines — never the bytes of the old ones."""
    files = migrate.discover_routines()
    async with fresh_pool.acquire() as conn:
        await demo.seed(conn)
        await jobs.run_pending(fresh_pool)
        built = [tuple(r) for r in await conn.fetch(PAGES)]
        assert len(built) >= 10 and all(r[4] is None or r[4] > datetime.now(UTC) for r in built)
        code, locale = built[0][0], built[0][1]
        fresh = await storefront.product_page(conn, code, locale)
        # stored bytes of some older routines (another shape): what the route must not send once they changed
        await conn.execute("UPDATE storefront_documents SET body = convert_to('{\"price\": \"1.00\"}', 'UTF8')")
        assert b'"price": "1.00"' in (await storefront.product_page(conn, code, locale)).body  # (sent as stored)

        # a completeness routine defined anew: the pages are not the storefront's to rebuild
        extra = "\nCREATE FUNCTION merch_completeness_noop() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;\n"
        assert (await migrate.migrate(conn, routines=edited(files, "completeness.sql", extra))).rebuilds is not None
        assert await conn.fetchval("SELECT count(*) FROM storefront_documents WHERE stale_at = '-infinity'") == 0

        applied = await migrate.migrate(conn, routines=edited(files, "storefront.sql", NEW_ROUTINE))
        assert applied.rebuilds is not None
        # every stored page due, in the runner's transaction: the route computes each one now, as the job will
        assert await conn.fetchval("SELECT bool_and(stale_at = '-infinity') FROM storefront_documents")
        while_rebuilt = await storefront.product_page(conn, code, locale)
        assert (while_rebuilt.body, while_rebuilt.etag) == (fresh.body, fresh.etag)

    await jobs.run_pending(fresh_pool)
    async with fresh_pool.acquire() as conn:
        assert [tuple(r) for r in await conn.fetch(PAGES)] == built  # stored again, current, as before
        after = await storefront.product_page(conn, code, locale)
        assert (after.body, after.etag) == (fresh.body, fresh.etag)
