"""The only place that runs the seeds' statements (sql/queries/seed.sql): set-based inserts of the scale
catalog, and whether a database holds a catalog yet."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.sql import load

Q = load("seed")
IS_SCALE_SEEDED = Q.is_scale_seeded.sql
INSERT_SCALE_TREE = Q.insert_scale_tree.sql
INSERT_SCALE_ROOTS = Q.insert_scale_roots.sql
INSERT_SCALE_CHILDREN = Q.insert_scale_children.sql
INSERT_SCALE_ATTRIBUTES = Q.insert_scale_attributes.sql
INSERT_SCALE_OPTIONS = Q.insert_scale_options.sql
INSERT_SCALE_BINDINGS = Q.insert_scale_bindings.sql
INSERT_SCALE_PRODUCTS = Q.insert_scale_products.sql
INSERT_SCALE_SKUS = Q.insert_scale_skus.sql
UPDATE_PLANNER_STATISTICS = Q.update_planner_statistics.sql
IS_CATALOG_EMPTY = Q.is_catalog_empty.sql
GET_SCALE_EPOCH = Q.get_scale_epoch.sql
LIST_LIFECYCLES = Q.list_lifecycles.sql


async def is_scale_seeded(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(IS_SCALE_SEEDED))


async def insert_scale_tree(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(INSERT_SCALE_TREE))


async def insert_scale_roots(conn: asyncpg.Connection, tree_id: int, count: int) -> None:
    await conn.execute(INSERT_SCALE_ROOTS, tree_id, count)


async def insert_scale_children(conn: asyncpg.Connection, tree_id: int, depth: int, count: int) -> None:
    await conn.execute(INSERT_SCALE_CHILDREN, tree_id, depth, count)


async def insert_scale_attributes(conn: asyncpg.Connection, count: int) -> None:
    await conn.execute(INSERT_SCALE_ATTRIBUTES, count)


async def insert_scale_options(conn: asyncpg.Connection) -> None:
    await conn.execute(INSERT_SCALE_OPTIONS)


async def insert_scale_bindings(conn: asyncpg.Connection, tree_id: int) -> None:
    await conn.execute(INSERT_SCALE_BINDINGS, tree_id)


async def insert_scale_products(conn: asyncpg.Connection, tree_id: int, first: int, last: int) -> None:
    await conn.execute(INSERT_SCALE_PRODUCTS, tree_id, first, last)


async def insert_scale_skus(conn: asyncpg.Connection, first: int, last: int) -> None:
    await conn.execute(INSERT_SCALE_SKUS, first, last)


async def update_planner_statistics(conn: asyncpg.Connection) -> None:
    await conn.execute(UPDATE_PLANNER_STATISTICS)


async def is_catalog_empty(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(IS_CATALOG_EMPTY))


async def get_scale_epoch(conn: asyncpg.Connection, sku: str) -> datetime | None:
    found: datetime | None = await conn.fetchval(GET_SCALE_EPOCH, sku)
    return found


async def list_lifecycles(conn: asyncpg.Connection, codes: list[str]) -> list[tuple[str, str]]:
    return [(r["code"], r["lifecycle"]) for r in await conn.fetch(LIST_LIFECYCLES, codes)]


