"""A category page whose filter context (the category, the filters' attributes and options, the role and series
named) this process has read before is one statement, which reads the contexts' stamp (migration 0029): the page
stands only for the context as it is now. Every change to what the filters are checked against is seen at once —
within the changing transaction, and by every other at its commit."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from domain.storefront import listing, store
from tests import factories as f
from tests import storefront_catalog as shop
from tests.conftest import client_for


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements a category page runs, in order; no context known to start with."""
    monkeypatch.setattr(listing, "_contexts", {})
    sent: list[str] = []
    for name, kind in (("get_filter_context", "context"), ("list_cards", "cards")):
        original = getattr(store, name)

        async def logged(*args: Any, _original: Any = original, _kind: str = kind) -> Any:
            sent.append(_kind)
            return await _original(*args)

        monkeypatch.setattr(store, name, logged)
    return sent


async def page(http: Any, **params: Any) -> Any:
    return await http.get("/v1/storefront/products", params={"category": "scarves", **params})


async def test_a_query_seen_before_is_one_statement(as_role: Any, conn: asyncpg.Connection, reads: list[str]) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        first = await page(http, filter=["color:red,navy", "material:silk"], role="routine")
        assert reads == ["context", "cards"]
        again = await page(http, filter=["material:silk", "color:red,navy"], role="routine", sort="price_asc")
        assert reads == ["context", "cards", "cards"]
    assert [c["code"] for c in first.json()["items"]] == ["wave"]
    assert [c["code"] for c in again.json()["items"]] == ["wave"]


@pytest.mark.parametrize(
    ("change", "params", "status", "expected"),
    [
        # the attribute is no filter any more
        ("UPDATE attributes SET filterable = false WHERE code = 'material'", {"filter": "material:silk"}, 400, None),
        (
            "UPDATE attributes SET visibility = 'internal' WHERE code = 'material'",
            {"filter": "material:silk"},
            400,
            None,
        ),
        # an option gone
        (
            "DELETE FROM attribute_options WHERE code = 'cotton'"
            " AND attribute_id = (SELECT id FROM attributes WHERE code = 'material')",
            {"filter": "material:cotton,silk"},
            400,
            None,
        ),
        # an option added: known to the filters at once
        (
            "INSERT INTO attribute_options (attribute_id, code, labels, position)"
            " SELECT id, 'wool', '{}', 9 FROM attributes WHERE code = 'material'",
            {"filter": "material:wool,silk", "first": "material:silk"},
            200,
            ["peony", "wave"],
        ),
        # a measurement's default unit changed: bare numbers are read in the new one
        (
            "UPDATE attributes SET validation = validation || '{\"default_unit\": \"mm\"}' WHERE code = 'width'",
            {"filter": "width:600..800"},
            200,
            ["wave"],
        ),
        # the role named is renamed
        ("UPDATE roles SET code = 'everyday' WHERE code = 'routine'", {"role": "routine"}, 400, None),
        # the series named is gone
        (
            "DELETE FROM product_series; DELETE FROM series WHERE code = 'silk-series'",
            {"series": "silk-series"},
            400,
            None,
        ),
    ],
)
async def test_a_change_to_what_filters_are_checked_against_is_seen_at_once(
    as_role: Any,
    conn: asyncpg.Connection,
    reads: list[str],
    change: str,
    params: dict[str, str],
    status: int,
    expected: list[str] | None,
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        first = params.pop("first", None)
        before = await page(http, **({**params, "filter": first} if first else params))
        assert before.status_code == 200, before.text
        assert listing._contexts, "the context is known"
        await conn.execute(change)
        after = await page(http, **params)
    assert after.status_code == status, after.text
    if expected is not None:
        assert [c["code"] for c in after.json()["items"]] == expected
    else:
        assert after.json()["errors"][0]["parameter"] == next(p for p in ("series", "role", "filter") if p in params)


async def test_a_category_of_another_id_under_the_same_code_is_read_afresh(
    as_role: Any, conn: asyncpg.Connection, reads: list[str]
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        assert [c["code"] for c in (await page(http, category="web-new")).json()["items"]] == []
        # web-new removed and made again under the same code, with a product placed in it
        await conn.execute("DELETE FROM categories WHERE code = 'web-new'")
        await f.category(conn, "web-new", tree="web")
        await conn.execute(
            "INSERT INTO product_placements (product_id, tree_id, category_id)"
            " SELECT p.id, c.tree_id, c.id FROM products p, categories c WHERE p.code = 'wave' AND c.code = 'web-new'"
        )
        after = await page(http, category="web-new")
    assert after.status_code == 200, after.text
    assert [c["code"] for c in after.json()["items"]] == ["wave"]
    assert reads == ["context", "cards", "cards", "context", "cards"]


async def stamp(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT version FROM storefront_context_stamp"))


async def test_a_change_committed_by_another_transaction_is_seen_by_the_next_page(
    fresh_pool: asyncpg.Pool, fresh_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "_contexts", {})
    async with fresh_pool.acquire() as conn:
        await shop.shop(conn)
        async with client_for(fresh_app, "storefront") as http:
            assert [c["code"] for c in (await page(http, filter="material:silk")).json()["items"]] == ["peony", "wave"]
            assert listing._contexts, "the context is known"
            before = await stamp(conn)
            # one transaction changing many rows of several of the tables moves the stamp once, at its commit
            async with conn.transaction():
                await conn.execute("UPDATE attribute_options SET position = position + 1")
                await conn.execute("UPDATE attributes SET filterable = false WHERE code = 'material'")
                async with fresh_pool.acquire() as other:
                    assert await stamp(other) == before, "not before the commit"
            assert await stamp(conn) == before + 1
            after = await page(http, filter="material:silk")
    assert after.status_code == 400, after.text
    assert after.json()["errors"][0]["code"] == "not_a_filter"


async def test_writers_of_the_structure_do_not_wait_for_one_another_on_the_stamp(fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as a, fresh_pool.acquire() as b:
        await shop.shop(a)
        before = await stamp(a)
        async with a.transaction():
            await a.execute("UPDATE attributes SET filterable = true WHERE code = 'color'")
            # b changes another attribute and commits while a's transaction is open: no wait on the stamp's row
            # (the lock timeout turns a wait into an error)
            async with b.transaction():
                await b.execute("SET LOCAL lock_timeout = '2s'")
                await b.execute("UPDATE attributes SET filterable = true WHERE code = 'material'")
            assert await stamp(b) == before + 1
        assert await stamp(a) == before + 2


async def test_a_page_runs_on_a_generic_plan_after_its_first_five(
    as_role: Any, conn: asyncpg.Connection, reads: list[str]
) -> None:
    """The page's statement is planned once for its session, not at every page (a custom plan cost ~1 ms of a
    page's ~2.7 ms of database time on the 1M bench catalog: the planner chose one at every call while the
    statement read the whole context again). The session's connection is shared by the tests: counted from here."""

    async def plans() -> tuple[int, int]:
        row = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE $1 AND statement LIKE '%merch_storefront_listing(%'",
            "WITH x AS MATERIALIZED (SELECT merch_context_stamp()%",
        )
        return (0, 0) if row is None else (row["generic_plans"], row["custom_plans"])

    await shop.shop(conn)
    generic, custom = await plans()
    async with as_role("storefront") as http:
        for n in range(9):
            r = await page(
                http, filter=["color:red,navy", "material:silk,cotton"], sort=("position", "price_asc")[n % 2]
            )
            assert r.status_code == 200, r.text
    assert reads.count("cards") == 9
    generic_after, custom_after = await plans()
    assert generic_after - generic >= 4, (generic, custom, generic_after, custom_after)
    assert (generic_after - generic) + (custom_after - custom) == 9
