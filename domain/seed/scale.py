"""The synthetic scale catalog for benchmarks: one three-level tree of thousands of categories, hundreds
of attributes of every type bound at every level, and N products with SKUs — all set-based SQL."""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg

from domain.seed import store
from domain.seed.model import InvalidCount, ScaleSeeded

MAJORS, MIDDLES, MINORS = 20, 10, 10  # 20 + 200 + 2,000 = 2,220 categories
ATTRIBUTES = 400
BATCH = 50_000


async def seed(conn: asyncpg.Connection, *, products: int, progress: Callable[[str], None]) -> str:
    """Load the scale catalog (once per database); prints progress per batch of products."""
    if products < 1:
        raise InvalidCount()
    if await store.is_scale_seeded(conn):
        raise ScaleSeeded()
    started = time.perf_counter()
    async with conn.transaction():
        tree_id = await store.insert_scale_tree(conn)
        await store.insert_scale_roots(conn, tree_id, MAJORS)
        await store.insert_scale_children(conn, tree_id, 1, MIDDLES)
        await store.insert_scale_children(conn, tree_id, 2, MINORS)
        await store.insert_scale_attributes(conn, ATTRIBUTES)
        await store.insert_scale_options(conn)
        await store.insert_scale_bindings(conn, tree_id)
    progress(f"structure: {MAJORS + MAJORS * MIDDLES + MAJORS * MIDDLES * MINORS} categories, {ATTRIBUTES} attributes")
    for first in range(1, products + 1, BATCH):
        last = min(first + BATCH - 1, products)
        # Written straight into the tables; the refresh point computes each batch's completeness as it commits.
        async with conn.transaction():
            await store.insert_scale_products(conn, tree_id, first, last)
            await store.insert_scale_skus(conn, first, last)
        progress(f"products: {last:,} / {products:,} ({time.perf_counter() - started:.0f} s)")
    if not conn.is_in_transaction():
        # (inside a caller's transaction — a test's, rolled back — statistics of rows that will not stay are
        # not worth waiting behind autovacuum for)
        await store.update_planner_statistics(conn)
    return f"scale catalog: {products:,} products in {time.perf_counter() - started:.1f} s"
