"""Category trees: use cases, each in its own transaction."""

from __future__ import annotations

import asyncpg

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, StillReferenced, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.trees import store
from domain.trees.model import Tree, TreeCreate, TreeExists, TreeFields, TreeNotFound, TreePage, TreePatch, TreeTooDeep
from domain.versioning import Versioned


async def list_trees(conn: asyncpg.Connection, *, limit: int, cursor: str | None) -> TreePage:
    """Category trees in code order."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_trees(conn, after[0] if after else None, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda t: [t.code])
    return TreePage(items=items, next_cursor=next_cursor)


async def get_tree(conn: asyncpg.Connection, code: str) -> Tree:
    """One category tree."""
    tree = await store.get_tree(conn, code)
    if tree is None:
        raise TreeNotFound(code)
    return tree


async def create_tree(conn: asyncpg.Connection, actor: Principal, body: TreeCreate) -> Tree:
    """Create a category tree; a taken code is a 409."""
    async with conn.transaction():
        tree = await store.insert_tree(conn, body.code, body)
        if tree is None:
            raise TreeExists(body.code)
        await audit.record(conn, actor, "create", "category-tree", tree.code, version=tree.version, after=tree)
        return tree


async def _update(conn: asyncpg.Connection, actor: Principal, current: Tree, fields: TreeFields) -> Tree:
    if len(fields.level_names) < len(current.level_names):
        depth = await store.get_tree_depth(conn, current.code)
        if depth > len(fields.level_names):
            raise TreeTooDeep(current.code, depth, len(fields.level_names))
    tree = await store.update_tree(conn, current.code, fields)
    await audit.record(
        conn, actor, "update", "category-tree", tree.code, version=tree.version, before=current, after=tree
    )
    return tree


async def _delete(conn: asyncpg.Connection, actor: Principal, current: Tree) -> None:
    blocking = await store.list_tree_category_codes(conn, current.code, REFERENCES_SHOWN)
    if blocking:
        raise StillReferenced(
            f"Category tree {current.code!r} still has categories ({listed(blocking)}); delete or move them first.",
            references={"categories": blocking},
        )
    await store.delete_tree(conn, current.code)
    await audit.record(conn, actor, "delete", "category-tree", current.code, version=current.version, before=current)


TREES: Versioned[Tree, TreeFields] = Versioned(
    what="Category tree",
    fields=TreeFields,
    create_body=TreeCreate,
    lock=store.lock_tree,
    not_found=TreeNotFound,
    create=create_tree,
    update=_update,
    delete=_delete,
)


async def put_tree(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: TreeFields, expected: int | None
) -> tuple[Tree, bool]:
    """Idempotent upsert: create the tree, or replace its fields; answers (tree, created)."""
    return await TREES.put(conn, actor, code, fields, expected)


async def patch_tree(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: TreePatch, expected: int | None
) -> Tree:
    """Apply a JSON merge patch to a tree."""
    tree: Tree = await TREES.patch(conn, actor, code, patch, expected)
    return tree


async def delete_tree(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete an empty tree; one that still has categories is a 409 naming some of them."""
    await TREES.remove(conn, actor, code, expected)
