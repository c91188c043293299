"""The only place that runs the category trees' statements (sql/queries/trees.sql)."""

from __future__ import annotations

import asyncpg
import msgspec

from domain.sql import load
from domain.trees.model import Tree, TreeFields

Q = load("trees")
LIST_TREES = Q.list_trees.sql
GET_TREE = Q.get_tree.sql
LOCK_TREE = Q.lock_tree.sql
INSERT_TREE = Q.insert_tree.sql
UPDATE_TREE = Q.update_tree.sql
DELETE_TREE = Q.delete_tree.sql
GET_TREE_DEPTH = Q.get_tree_depth.sql
LIST_TREE_CATEGORY_CODES = Q.list_tree_category_codes.sql


def _tree(row: asyncpg.Record | None) -> Tree | None:
    return None if row is None else msgspec.convert(dict(row), Tree)


async def list_trees(conn: asyncpg.Connection, after: str | None, limit: int) -> list[Tree]:
    return [msgspec.convert(dict(r), Tree) for r in await conn.fetch(LIST_TREES, after, limit)]


async def get_tree(conn: asyncpg.Connection, code: str) -> Tree | None:
    return _tree(await conn.fetchrow(GET_TREE, code))


async def lock_tree(conn: asyncpg.Connection, code: str) -> Tree | None:
    return _tree(await conn.fetchrow(LOCK_TREE, code))


async def insert_tree(conn: asyncpg.Connection, code: str, fields: TreeFields) -> Tree | None:
    """The new tree; None when the code is taken."""
    return _tree(await conn.fetchrow(INSERT_TREE, code, fields.labels, fields.level_names))


async def update_tree(conn: asyncpg.Connection, code: str, fields: TreeFields) -> Tree:
    tree = _tree(await conn.fetchrow(UPDATE_TREE, code, fields.labels, fields.level_names))
    assert tree is not None, "the tree is locked by this transaction"
    return tree


async def delete_tree(conn: asyncpg.Connection, code: str) -> None:
    await conn.execute(DELETE_TREE, code)


async def get_tree_depth(conn: asyncpg.Connection, code: str) -> int:
    return int(await conn.fetchval(GET_TREE_DEPTH, code))


async def list_tree_category_codes(conn: asyncpg.Connection, code: str, limit: int) -> list[str]:
    return [r["code"] for r in await conn.fetch(LIST_TREE_CATEGORY_CODES, code, limit)]
