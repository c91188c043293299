"""The factories write what the schema's invariants allow (a check on the factories themselves)."""

from __future__ import annotations

import asyncpg

from tests import factories as f


async def test_a_three_level_tree_has_ltree_paths_of_ids(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    a = await f.category(conn, "accessories")
    b = await f.category(conn, "scarves", parent="accessories")
    c = await f.category(conn, "silk-squares", parent="scarves")
    assert await conn.fetchval("SELECT path::text FROM categories WHERE id = $1", c) == f"{a}.{b}.{c}"
    await f.attribute(conn, "colour", "select", options=("red", "blue"))
    await f.bind(conn, "accessories", "colour", ("listing",))
    p = await f.product(conn, "scarf-1", "silk-squares", attributes={"colour": "red"})
    await f.sku(conn, "SC-1-RED", "scarf-1", "4006381333931", {"colour": "red"})
    assert await conn.fetchval("SELECT count(*) FROM skus WHERE product_id = $1", p) == 1
