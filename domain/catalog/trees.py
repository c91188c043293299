"""Category trees: named trees with named levels (e.g. major / middle / minor)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, Conflict, NotFound, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Code, Labels, Page
from domain.versioning import check_version, created_by_put, patched, unchanged

Q = load("trees")

LevelName = Annotated[str, msgspec.Meta(pattern="^[a-z][a-z0-9_]{0,31}$", examples=["major"])]
LevelNames = Annotated[
    list[LevelName],
    msgspec.Meta(min_length=1, max_length=10, description="Names of the tree's levels, root level first."),
]


class TreeFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a category tree (body of PUT)."""

    labels: Labels = {}
    level_names: LevelNames = msgspec.field(default_factory=lambda: ["major", "middle", "minor"])


class TreeCreate(TreeFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/category-trees."""

    code: Code


class TreePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a category tree: absent fields stay, `null` in `labels` removes a locale."""

    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    level_names: LevelNames | msgspec.UnsetType = msgspec.UNSET


class Tree(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    level_names: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


def _tree(row: asyncpg.Record) -> Tree:
    return msgspec.convert(dict(row), Tree)


async def list_trees(conn: asyncpg.Connection, *, limit: int, cursor: str | None) -> Page[Tree]:
    """Category trees in code order."""
    after = decode_cursor(cursor, (str,))
    rows = await conn.fetch(Q.list_trees.sql, after[0] if after else None, limit + 1)
    items, next_cursor = split_page([_tree(r) for r in rows], limit, lambda t: [t.code])
    return Page(items=items, next_cursor=next_cursor)


async def get_tree(conn: asyncpg.Connection, code: str) -> Tree:
    """One category tree."""
    row = await conn.fetchrow(Q.get_tree.sql, code)
    if row is None:
        raise NotFound(f"No category tree has the code {code!r}.", code="category-tree-not-found")
    return _tree(row)


async def create_tree(conn: asyncpg.Connection, actor: Principal, body: TreeCreate) -> Tree:
    """Create a category tree; a taken code is a 409."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.insert_tree.sql, body.code, body.labels, body.level_names)
        if row is None:
            raise Conflict(f"A category tree with the code {body.code!r} exists already.", code="category-tree-exists")
        tree = _tree(row)
        await audit.record(conn, actor, "create", "category-tree", tree.code, version=tree.version, after=tree)
        return tree


async def _update(
    conn: asyncpg.Connection, actor: Principal, current: Tree, fields: TreeFields, expected: int | None
) -> Tree:
    check_version(expected, current.version, f"Category tree {current.code!r}")
    if unchanged(current, fields):
        return current
    if len(fields.level_names) < len(current.level_names):
        depth = await conn.fetchval(Q.get_tree_depth.sql, current.code)
        if depth > len(fields.level_names):
            raise Conflict(
                f"Category tree {current.code!r} has categories {depth} levels deep; "
                f"it cannot have only {len(fields.level_names)} level names.",
                code="tree-too-deep",
                depth=depth,
            )
    row = await conn.fetchrow(Q.update_tree.sql, current.code, fields.labels, fields.level_names)
    tree = _tree(row)
    await audit.record(
        conn, actor, "update", "category-tree", tree.code, version=tree.version, before=current, after=tree
    )
    return tree


async def put_tree(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: TreeFields, expected: int | None
) -> tuple[Tree, bool]:
    """Idempotent upsert: create the tree, or replace its fields; answers (tree, created)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_tree.sql, code)
        if row is None:
            body = created_by_put(TreeCreate, f"Category tree {code!r}", code, fields, expected)
            return await create_tree(conn, actor, body), True
        return await _update(conn, actor, _tree(row), fields, expected), False


async def patch_tree(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: TreePatch, expected: int | None
) -> Tree:
    """Apply a JSON merge patch to a tree."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_tree.sql, code)
        if row is None:
            raise NotFound(f"No category tree has the code {code!r}.", code="category-tree-not-found")
        current = _tree(row)
        return await _update(conn, actor, current, patched(current, patch, TreeFields), expected)


async def delete_tree(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete an empty tree; one that still has categories is a 409 naming some of them."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_tree.sql, code)
        if row is None:
            raise NotFound(f"No category tree has the code {code!r}.", code="category-tree-not-found")
        current = _tree(row)
        check_version(expected, current.version, f"Category tree {code!r}")
        blocking = [r["code"] for r in await conn.fetch(Q.list_tree_category_codes.sql, code, REFERENCES_SHOWN)]
        if blocking:
            raise Conflict(
                f"Category tree {code!r} still has categories ({listed(blocking)}); delete or move them first.",
                code="still-referenced",
                references={"categories": blocking},
            )
        await conn.execute(Q.delete_tree.sql, code)
        await audit.record(conn, actor, "delete", "category-tree", code, version=current.version, before=current)
