"""A page after a keyset cursor reads no row before the cursor — also under a generic plan.

asyncpg prepares each statement once per connection, and PostgreSQL plans a prepared statement generically once
it has seen it five times and finds the generic plan no dearer. A keyset bound written `($n IS NULL OR code > $n)`
is then a filter, not an index condition: every page scans the index from its start and throws away the rows
before its cursor — an export of 1,000,000 products, a chunk of 1,000 after another, read ~500,000 rows a chunk
(1.2 s each, against 20 ms with the bound in the index; bench/RESULTS.md). Bounds are written
`code > coalesce($n, '')` (the least value of their type when no cursor is given), which an index scan takes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import asyncpg
import pytest

from domain import sql
from tests import factories

# A range or keyset bound that is a filter under a generic plan: `$n IS NULL OR <columns> <op> …`.
FILTER_BOUND = re.compile(r"\$\d+(::[\w\[\]]+)? IS NULL OR \(*[\w.]+(, [\w.]+)*\)? (<=|>=|<|>) ")


def test_no_statement_bounds_a_range_by_a_parameter_that_may_be_null() -> None:
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted((sql.SQL_DIR / "queries").glob("*.sql"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if FILTER_BOUND.search(line)
    ]
    assert found == []


def test_the_rule_recognises_the_forms_it_forbids() -> None:
    for line in (
        "AND ($8::text IS NULL OR p.code > $8)",
        "AND ($4::text IS NULL OR (t.code, c.code) > ($4, $5::text))",
        "AND ($5::bigint IS NULL OR id < $5)",
        "AND ($4::timestamptz IS NULL OR at >= $4)",
    ):
        assert FILTER_BOUND.search(line), line
    assert not FILTER_BOUND.search("AND p.code > coalesce($8::text, '')")
    assert not FILTER_BOUND.search("AND ($2::text IS NULL OR g.code = $2)")


def _rows_read(plan: Any, table: str) -> float:
    """The rows the plan's scans of `table` read: those they returned and those their filters threw away."""
    if isinstance(plan, list):
        return sum(_rows_read(p, table) for p in plan)
    if not isinstance(plan, dict):
        return 0
    own = 0.0
    if plan.get("Relation Name") == table:
        own = (
            plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1)
            + plan.get("Rows Removed by Filter", 0)
            + plan.get("Rows Removed by Index Recheck", 0)
        )
    return own + sum(_rows_read(v, table) for k, v in plan.items() if k in ("Plan", "Plans"))


async def _generic_read(conn: asyncpg.Connection, statement: str, table: str, args: list[Any]) -> tuple[float, int]:
    """Rows of `table` read by one page of `statement` under its generic plan (the index scans forced: the plan
    a large table gets), and the rows the page answered."""
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.execute("SET LOCAL enable_seqscan = off")
    await conn.execute("SET LOCAL enable_bitmapscan = off")
    await conn.execute("SET LOCAL enable_sort = off")
    await conn.execute(f"PREPARE keyset_page AS {statement}")
    try:
        values = ", ".join(_literal(a) for a in args)  # (EXECUTE takes no bound parameters)
        plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE keyset_page({values})")
        rows = len(await conn.fetch(f"EXECUTE keyset_page({values})"))
    finally:
        await conn.execute("DEALLOCATE keyset_page")
    return _rows_read(json.loads(plan) if isinstance(plan, str) else plan, table), rows


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        assert value == []
        return "'{}'"
    return "'" + str(value).replace("'", "''") + "'"


@pytest.fixture
async def catalog(conn: asyncpg.Connection) -> asyncpg.Connection:
    """600 products (one SKU each) under one category, and 600 audit records."""
    await factories.tree(conn, "ks")
    await factories.category(conn, "ks-root", tree="ks")
    await conn.execute(
        """
        INSERT INTO products (code, category_id, role_id, labels)
        SELECT 'ks-' || lpad(g::text, 4, '0'), c.id, r.id, '{"en": "x"}'
          FROM generate_series(1, 600) g, categories c, roles r WHERE c.code = 'ks-root' AND r.code = 'routine'
        """
    )
    await conn.execute(
        "INSERT INTO skus (sku, product_id) SELECT 'ks-sku-' || substr(p.code, 4), p.id FROM products p"
        " WHERE p.code LIKE 'ks-%'"
    )
    await conn.execute(
        "INSERT INTO audit_log (actor, action, entity, code, changes)"
        " SELECT 'ks', 'update', 'product', 'ks-' || g, '{}' FROM generate_series(1, 600) g"
    )
    await conn.execute("ANALYZE products, skus, audit_log")
    return conn


async def test_a_page_of_products_after_a_cursor_reads_its_rows_alone(catalog: asyncpg.Connection) -> None:
    path = await catalog.fetchval("SELECT path::text FROM categories WHERE code = 'ks-root'")
    statement = sql.load("products").list_products.sql.rstrip().rstrip(";")
    read, rows = await _generic_read(
        catalog, statement, "products", [path, None, None, None, None, [], [], "ks-0500", 10, True]
    )
    assert rows == 10
    assert read <= 11  # (not the 500 before the cursor)


async def test_a_chunk_of_the_sku_export_after_a_cursor_reads_its_rows_alone(catalog: asyncpg.Connection) -> None:
    statement = sql.load("imports").list_export_skus.sql.rstrip().rstrip(";")
    read, rows = await _generic_read(catalog, statement, "skus", [None, "ks-sku-0500", 10])
    assert rows == 10
    assert read <= 11


async def test_a_page_of_the_audit_log_after_a_cursor_reads_its_rows_alone(catalog: asyncpg.Connection) -> None:
    newest = await catalog.fetchval("SELECT max(id) FROM audit_log")
    statement = sql.load("audit").list_entries.sql.rstrip().rstrip(";")
    read, rows = await _generic_read(catalog, statement, "audit_log", [None, None, None, None, newest - 500, 10, None])
    assert rows == 10
    assert read <= 11
