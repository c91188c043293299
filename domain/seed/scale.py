"""The synthetic scale catalog for benchmarks: one three-level tree of thousands of categories, hundreds
of attributes of every type bound at every level, and N products with SKUs — all set-based SQL."""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg

from domain.errors import Conflict
from domain.sql import load

Q = load("seed_scale")
MAJORS, MIDDLES, MINORS = 20, 10, 10  # 20 + 200 + 2,000 = 2,220 categories
ATTRIBUTES = 400
BATCH = 50_000


async def seed(conn: asyncpg.Connection, *, products: int, progress: Callable[[str], None]) -> str:
    """Load the scale catalog (once per database); prints progress per batch of products."""
    if products < 1:
        raise Conflict("--products must be at least 1.", code="invalid-count")
    if await conn.fetchval(Q.is_scale_seeded.sql):
        raise Conflict("The scale catalog is loaded already (tree `scale`).", code="scale-seeded")
    started = time.perf_counter()
    async with conn.transaction():
        tree_id = await conn.fetchval(Q.insert_scale_tree.sql)
        await conn.execute(Q.insert_scale_roots.sql, tree_id, MAJORS)
        await conn.execute(Q.insert_scale_children.sql, tree_id, 1, MIDDLES)
        await conn.execute(Q.insert_scale_children.sql, tree_id, 2, MINORS)
        await conn.execute(Q.insert_scale_attributes.sql, ATTRIBUTES)
        await conn.execute(Q.insert_scale_options.sql)
        await conn.execute(Q.insert_scale_bindings.sql, tree_id)
    progress(f"structure: {MAJORS + MAJORS * MIDDLES + MAJORS * MIDDLES * MINORS} categories, {ATTRIBUTES} attributes")
    for first in range(1, products + 1, BATCH):
        last = min(first + BATCH - 1, products)
        # Written straight into the tables; the refresh point computes each batch's completeness as it commits.
        async with conn.transaction():
            await conn.execute(Q.insert_scale_products.sql, tree_id, first, last)
            await conn.execute(Q.insert_scale_skus.sql, first, last)
        progress(f"products: {last:,} / {products:,} ({time.perf_counter() - started:.0f} s)")
    await conn.execute("ANALYZE")
    return f"scale catalog: {products:,} products in {time.perf_counter() - started:.1f} s"
