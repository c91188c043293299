"""The only place that runs the categories' statements (sql/queries/categories.sql)."""

from __future__ import annotations

import asyncpg
import msgspec

from domain.categories.model import Category, Node, NodeRow, Parent, TreeHead
from domain.sql import load

Q = load("categories")
GET_CATEGORY = Q.get_category.sql
LIST_CATEGORIES = Q.list_categories.sql
GET_TREE_ID = Q.get_tree_id.sql
GET_CATEGORY_TREE_ID = Q.get_category_tree_id.sql
LOCK_TREE_STRUCTURE = Q.lock_tree_structure.sql
LOCK_TREE_LEVELS = Q.lock_tree_levels.sql
LOCK_CATEGORY = Q.lock_category.sql
GET_PARENT = Q.get_parent.sql
COUNT_CHILDREN = Q.count_children.sql
GET_SUBTREE_HEIGHT = Q.get_subtree_height.sql
UPDATE_OPEN_GAP = Q.update_open_gap.sql
UPDATE_CLOSE_GAP = Q.update_close_gap.sql
INSERT_CATEGORY = Q.insert_category.sql
UPDATE_SUBTREE_PARENT = Q.update_subtree_parent.sql
UPDATE_CATEGORY = Q.update_category.sql
LIST_CATEGORY_REFERENCES = Q.list_category_references.sql
DELETE_CATEGORY = Q.delete_category.sql
GET_TREE_HEAD = Q.get_tree_head.sql
LIST_TREE_NODES = Q.list_tree_nodes.sql


def _category(row: asyncpg.Record) -> Category:
    return msgspec.convert(dict(row), Category)


async def get_category(conn: asyncpg.Connection, code: str) -> Category | None:
    row = await conn.fetchrow(GET_CATEGORY, code)
    return None if row is None else _category(row)


async def list_categories(
    conn: asyncpg.Connection,
    *,
    tree: str | None,
    parent_id: int | None,
    root: bool,
    after: list[str] | None,
    limit: int,
) -> list[Category]:
    """Categories after the (tree code, code) key `after`."""
    rows = await conn.fetch(
        LIST_CATEGORIES,
        tree,
        parent_id,
        root,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_category(r) for r in rows]


async def get_tree_id(conn: asyncpg.Connection, code: str) -> int | None:
    value = await conn.fetchval(GET_TREE_ID, code)
    return None if value is None else int(value)


async def get_category_tree_id(conn: asyncpg.Connection, code: str) -> int | None:
    value = await conn.fetchval(GET_CATEGORY_TREE_ID, code)
    return None if value is None else int(value)


async def lock_tree_structure(conn: asyncpg.Connection, tree_id: int) -> None:
    await conn.execute(LOCK_TREE_STRUCTURE, tree_id)


async def lock_tree_levels(conn: asyncpg.Connection, tree_id: int) -> list[str] | None:
    """The tree's level names, share-locked; None when the tree is gone."""
    row = await conn.fetchrow(LOCK_TREE_LEVELS, tree_id)
    return None if row is None else list(row["level_names"])


async def lock_category(conn: asyncpg.Connection, code: str) -> Node | None:
    row = await conn.fetchrow(LOCK_CATEGORY, code)
    return None if row is None else msgspec.convert(dict(row), Node)


async def get_parent(conn: asyncpg.Connection, code: str) -> Parent | None:
    row = await conn.fetchrow(GET_PARENT, code)
    return None if row is None else msgspec.convert(dict(row), Parent)


async def count_children(conn: asyncpg.Connection, tree_id: int, parent_id: int | None) -> int:
    return int(await conn.fetchval(COUNT_CHILDREN, tree_id, parent_id))


async def get_subtree_height(conn: asyncpg.Connection, lpath: str) -> int:
    return int(await conn.fetchval(GET_SUBTREE_HEIGHT, lpath))


async def update_open_gap(
    conn: asyncpg.Connection, tree_id: int, parent_id: int | None, position: int, except_id: int | None
) -> None:
    await conn.execute(UPDATE_OPEN_GAP, tree_id, parent_id, position, except_id)


async def update_close_gap(
    conn: asyncpg.Connection, tree_id: int, parent_id: int | None, position: int, except_id: int | None
) -> None:
    await conn.execute(UPDATE_CLOSE_GAP, tree_id, parent_id, position, except_id)


async def insert_category(
    conn: asyncpg.Connection,
    code: str,
    tree_id: int,
    parent_id: int | None,
    position: int,
    labels: dict[str, str],
    parent_lpath: str | None,
) -> int | None:
    """The new category's id; None when the code is taken."""
    value = await conn.fetchval(INSERT_CATEGORY, code, tree_id, parent_id, position, labels, parent_lpath)
    return None if value is None else int(value)


async def update_subtree_parent(
    conn: asyncpg.Connection,
    category_id: int,
    lpath: str,
    parent_lpath: str | None,
    parent_id: int | None,
    position: int,
) -> None:
    await conn.execute(UPDATE_SUBTREE_PARENT, category_id, lpath, parent_lpath, parent_id, position)


async def update_category(conn: asyncpg.Connection, category_id: int, labels: dict[str, str]) -> None:
    await conn.execute(UPDATE_CATEGORY, category_id, labels)


async def list_category_references(conn: asyncpg.Connection, category_id: int, limit: int) -> dict[str, list[str]]:
    """A few of the category's children and products, by kind (`categories`, `products`)."""
    references: dict[str, list[str]] = {}
    for row in await conn.fetch(LIST_CATEGORY_REFERENCES, category_id, limit):
        references.setdefault(row["kind"], []).append(row["code"])
    return references


async def delete_category(conn: asyncpg.Connection, category_id: int) -> None:
    await conn.execute(DELETE_CATEGORY, category_id)


async def get_tree_head(conn: asyncpg.Connection, code: str) -> tuple[int, TreeHead] | None:
    """A tree's id and head; None when no tree has the code."""
    row = await conn.fetchrow(GET_TREE_HEAD, code)
    return None if row is None else (int(row["id"]), msgspec.convert(dict(row), TreeHead))


async def list_tree_nodes(conn: asyncpg.Connection, tree_id: int) -> list[NodeRow]:
    return [msgspec.convert(dict(r), NodeRow) for r in await conn.fetch(LIST_TREE_NODES, tree_id)]
