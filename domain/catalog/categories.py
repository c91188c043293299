"""Categories: the nodes of the product structure trees (major / middle / minor category).

Structure rules:
- A category's `path` is the ltree of ids from its root to itself; moving a category re-roots the
  path of its whole subtree in one statement.
- Positions are dense (0..n-1) among siblings. Inserting at `p` shifts the later siblings, removing
  or moving one away closes the gap, a position past the end appends, an omitted position appends
  (or, when the parent does not change, keeps the category where it is).
- A sibling renumbered by another category's insert, move or delete does *not* get a version step
  nor an audit row: its position is derived order, not a change to it. Likewise the descendants of a
  moved category keep their version while their `path`, `depth` and `level` follow. `version` counts
  the writes made to the category itself (labels, parent, its own requested position).
- Depth is limited by the tree's `level_names`; the tree never changes once a category exists.
- Structure changes of one tree (create, move, delete) are serialised by a transaction-level
  advisory lock on the tree, taken before any path is read: two opposite concurrent moves can then
  never make a cycle. The tree row is share-locked too, so that its levels cannot shrink meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import (
    REFERENCES_SHOWN,
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
    field_error,
    param_error,
)
from domain.jobs import service as jobs
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Code, Labels, Page, Position
from domain.validation import convert_or_raise, merge_patch
from domain.versioning import check_version, created_by_put

Q = load("categories")


class CategoryFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a category (body of PUT)."""

    tree: Code
    parent: Code | None = None
    position: Position | None = None
    labels: Labels = {}


class CategoryCreate(CategoryFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/categories."""

    code: Code


class CategoryPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a category: absent fields stay; `parent: null` makes it a root;
    `null` in `labels` removes a locale."""

    tree: Code | msgspec.UnsetType = msgspec.UNSET
    parent: Code | msgspec.UnsetType | None = msgspec.UNSET
    position: Position | msgspec.UnsetType | None = msgspec.UNSET
    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET


class CategoryMove(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/categories/{code}/move: the new parent (null: a root) and position."""

    parent: Code | None
    position: Position | None = None


class Category(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    tree: str
    parent: str | None
    position: int
    labels: dict[str, str]
    level: str
    depth: int
    path: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class TreeHead(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    level_names: list[str]
    version: int


class CategoryNode(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    position: int
    level: str
    own_products: int
    subtree_products: int
    children: list[CategoryNode]


class NestedTree(msgspec.Struct, frozen=True, kw_only=True):
    """A category tree with its categories nested, each with its own and its subtree's product counts."""

    tree: TreeHead
    categories: list[CategoryNode]


class _Locked(msgspec.Struct, frozen=True, kw_only=True):
    """The internals of a locked category."""

    id: int
    tree_id: int
    parent_id: int | None
    lpath: str
    depth: int
    position: int
    level_names: list[str]

    @property
    def parent_lpath(self) -> str | None:
        return self.lpath.rsplit(".", 1)[0] if "." in self.lpath else None


class _Parent(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    tree_id: int
    lpath: str
    depth: int


def _category(row: asyncpg.Record) -> Category:
    return msgspec.convert(dict(row), Category)


def _not_found(code: str) -> NotFound:
    return NotFound(f"No category has the code {code!r}.", code="category-not-found")


def _unknown_parent(code: str, pointer: str) -> FieldError:
    return field_error(pointer, "not_found", f"No category has the code {code!r}.")


async def _get(conn: asyncpg.Connection, code: str) -> Category:
    row = await conn.fetchrow(Q.get_category.sql, code)
    if row is None:
        raise _not_found(code)
    return _category(row)


async def list_categories(
    conn: asyncpg.Connection,
    *,
    tree: str | None,
    parent: str | None,
    root: bool,
    limit: int,
    cursor: str | None,
) -> Page[Category]:
    """Categories in (tree code, code) order; an unknown tree or parent filter is a 404."""
    after = decode_cursor(cursor, (str, str))
    if parent is not None and root:
        raise param_error("root", "conflicting", "`root=true` lists roots only; it cannot go with `parent`.")
    if tree is not None and await conn.fetchval(Q.get_tree_id.sql, tree) is None:
        raise NotFound(f"No category tree has the code {tree!r}.", code="category-tree-not-found")
    parent_id = None
    if parent is not None:
        found = await conn.fetchrow(Q.get_parent.sql, parent)
        if found is None:
            raise _not_found(parent)
        parent_id = found["id"]
    rows = await conn.fetch(
        Q.list_categories.sql,
        tree,
        parent_id,
        root,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    items, next_cursor = split_page([_category(r) for r in rows], limit, lambda c: [c.tree, c.code])
    return Page(items=items, next_cursor=next_cursor)


async def get_category(conn: asyncpg.Connection, code: str) -> Category:
    """One category."""
    return await _get(conn, code)


async def _lock(conn: asyncpg.Connection, code: str) -> tuple[_Locked, Category]:
    """Take the tree's structure lock, then lock the category; answers its internals and its view."""
    tree_id = await conn.fetchval(Q.get_category_tree_id.sql, code)
    if tree_id is None:
        raise _not_found(code)
    await conn.execute(Q.lock_tree_structure.sql, tree_id)
    row = await conn.fetchrow(Q.lock_category.sql, code)
    if row is None:  # deleted while we waited for the lock
        raise _not_found(code)
    return msgspec.convert(dict(row), _Locked), await _get(conn, code)


def _same_tree(found: _Parent, code: str, tree_id: int, tree: str) -> _Parent:
    if found.tree_id != tree_id:
        raise Conflict(
            f"Category {code!r} is in another tree than {tree!r}; a parent must be in the same tree.",
            code="parent-in-another-tree",
            parent=code,
            tree=tree,
        )
    return found


async def _parent(conn: asyncpg.Connection, code: str, tree_id: int, tree: str) -> _Parent:
    """A would-be parent, read under the tree's structure lock: unknown is a 422, another tree's a 409."""
    row = await conn.fetchrow(Q.get_parent.sql, code)
    if row is None:
        raise ValidationFailed([_unknown_parent(code, "/parent")])
    return _same_tree(msgspec.convert(dict(row), _Parent), code, tree_id, tree)


def _too_deep(code: str, tree: str, depth: int, levels: list[str]) -> Conflict:
    return Conflict(
        f"Category tree {tree!r} has {len(levels)} levels ({', '.join(levels)}); {code!r} would reach level {depth}.",
        code="too-deep",
        depth=depth,
        max_depth=len(levels),
    )


async def _create(conn: asyncpg.Connection, actor: Principal, body: CategoryCreate) -> Category:
    """Create under the tree's structure lock; the caller owns the transaction."""
    if await conn.fetchval(Q.get_category_tree_id.sql, body.code) is not None:
        raise Conflict(f"A category with the code {body.code!r} exists already.", code="category-exists")
    errors: list[FieldError] = []
    tree_id = await conn.fetchval(Q.get_tree_id.sql, body.tree)
    tree_row = None
    if tree_id is not None:
        await conn.execute(Q.lock_tree_structure.sql, tree_id)
        tree_row = await conn.fetchrow(Q.lock_tree_levels.sql, tree_id)
    if tree_row is None:  # unknown, or an empty tree deleted while we waited for its lock
        errors.append(field_error("/tree", "not_found", f"No category tree has the code {body.tree!r}."))
    parent_row = await conn.fetchrow(Q.get_parent.sql, body.parent) if body.parent is not None else None
    if body.parent is not None and parent_row is None:
        errors.append(_unknown_parent(body.parent, "/parent"))
    if errors or tree_row is None:
        raise ValidationFailed(errors)
    levels: list[str] = tree_row["level_names"]
    parent = None
    if parent_row is not None and body.parent is not None:
        parent = _same_tree(msgspec.convert(dict(parent_row), _Parent), body.parent, tree_id, body.tree)
    depth = (parent.depth if parent else 0) + 1
    if depth > len(levels):
        raise _too_deep(body.code, body.tree, depth, levels)
    parent_id = parent.id if parent else None
    count = await conn.fetchval(Q.count_children.sql, tree_id, parent_id)
    position = count if body.position is None else min(body.position, count)
    await conn.execute(Q.update_open_gap.sql, tree_id, parent_id, position, None)
    new_id = await conn.fetchval(
        Q.insert_category.sql,
        body.code,
        tree_id,
        parent_id,
        position,
        body.labels,
        parent.lpath if parent else None,
    )
    if new_id is None:  # taken by a concurrent create in another tree since the check above
        raise Conflict(f"A category with the code {body.code!r} exists already.", code="category-exists")
    category = await _get(conn, body.code)
    await audit.record(conn, actor, "create", "category", category.code, version=category.version, after=category)
    return category


async def create_category(conn: asyncpg.Connection, actor: Principal, body: CategoryCreate) -> Category:
    """Create a category at a position among its siblings (omitted: the end); later siblings shift."""
    async with conn.transaction():
        return await _create(conn, actor, body)


async def _change(
    conn: asyncpg.Connection,
    actor: Principal,
    node: _Locked,
    current: Category,
    *,
    parent: str | None,
    position: int | None,
    labels: dict[str, str],
) -> Category:
    """Move (with its subtree) and/or relabel a locked category; one version step, one audit row.

    An omitted position keeps the category's place when the parent does not change, else appends.
    """
    same_parent = parent == current.parent
    if same_parent:
        parent_id, parent_lpath = node.parent_id, node.parent_lpath
        target = current.position
        if position is not None:
            last = await conn.fetchval(Q.count_children.sql, node.tree_id, parent_id) - 1
            target = min(position, last)
    else:
        found = await _parent(conn, parent, node.tree_id, current.tree) if parent is not None else None
        if found is not None and (found.lpath == node.lpath or found.lpath.startswith(node.lpath + ".")):
            raise Conflict(
                f"Category {current.code!r} cannot move under {parent!r}: that is itself or one of its descendants.",
                code="category-cycle",
                parent=parent,
            )
        height = await conn.fetchval(Q.get_subtree_height.sql, node.lpath)
        deepest = (found.depth if found else 0) + 1 + height
        if deepest > len(node.level_names):
            raise _too_deep(current.code, current.tree, deepest, node.level_names)
        parent_id, parent_lpath = (found.id, found.lpath) if found else (None, None)
        count = await conn.fetchval(Q.count_children.sql, node.tree_id, parent_id)
        target = count if position is None else min(position, count)
    moving = not same_parent or target != current.position
    if not moving and labels == current.labels:
        return current
    if moving:
        await conn.execute(Q.update_close_gap.sql, node.tree_id, node.parent_id, current.position, node.id)
        await conn.execute(Q.update_open_gap.sql, node.tree_id, parent_id, target, node.id)
        await conn.execute(Q.update_subtree_parent.sql, node.id, node.lpath, parent_lpath, parent_id, target)
    await conn.execute(Q.update_category.sql, node.id, labels)
    if not same_parent:
        # Its ancestors changed, and with them the attribute sets its products inherit.
        await jobs.enqueue_for_category(conn, actor, f"category {current.code} moved", node.id)
    changed = await _get(conn, current.code)
    action = "move" if moving else "update"
    await audit.record(
        conn, actor, action, "category", changed.code, version=changed.version, before=current, after=changed
    )
    return changed


def _check_tree(current: Category, tree: str) -> None:
    if tree != current.tree:
        raise Conflict(
            f"Category {current.code!r} is in tree {current.tree!r}; a category cannot change trees.",
            code="category-tree-change",
            tree=current.tree,
        )


async def put_category(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: CategoryFields, expected: int | None
) -> tuple[Category, bool]:
    """Idempotent upsert: create the category, or replace its fields (moving it if its place changes)."""
    async with conn.transaction():
        if await conn.fetchval(Q.get_category_tree_id.sql, code) is None:
            body = created_by_put(CategoryCreate, f"Category {code!r}", code, fields, expected)
            return await _create(conn, actor, body), True
        node, current = await _lock(conn, code)
        check_version(expected, current.version, f"Category {code!r}")
        _check_tree(current, fields.tree)
        changed = await _change(
            conn, actor, node, current, parent=fields.parent, position=fields.position, labels=fields.labels
        )
        return changed, False


async def patch_category(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: CategoryPatch, expected: int | None
) -> Category:
    """Apply a JSON merge patch; a new parent or position moves the category with its subtree."""
    async with conn.transaction():
        node, current = await _lock(conn, code)
        check_version(expected, current.version, f"Category {code!r}")
        writable: dict[str, Any] = {"tree": current.tree, "parent": current.parent, "labels": current.labels}
        merged = merge_patch(writable, msgspec.to_builtins(patch))
        fields = convert_or_raise(merged, CategoryFields)
        _check_tree(current, fields.tree)
        return await _change(
            conn, actor, node, current, parent=fields.parent, position=fields.position, labels=fields.labels
        )


async def move_category(
    conn: asyncpg.Connection, actor: Principal, code: str, body: CategoryMove, expected: int | None
) -> Category:
    """Move a category and its whole subtree under another parent of the same tree (or to the roots)."""
    async with conn.transaction():
        node, current = await _lock(conn, code)
        check_version(expected, current.version, f"Category {code!r}")
        return await _change(
            conn, actor, node, current, parent=body.parent, position=body.position, labels=current.labels
        )


async def delete_category(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a category without children or products; its later siblings close the gap."""
    async with conn.transaction():
        node, current = await _lock(conn, code)
        check_version(expected, current.version, f"Category {code!r}")
        references: dict[str, list[str]] = {}
        for row in await conn.fetch(Q.list_category_references.sql, node.id, REFERENCES_SHOWN):
            references.setdefault(row["kind"], []).append(row["code"])
        if references:
            named = "; ".join(f"{kind}: {', '.join(codes)}" for kind, codes in references.items())
            raise Conflict(
                f"Category {code!r} is still referenced ({named}); move or delete them first.",
                code="still-referenced",
                references=references,
            )
        await conn.execute(Q.delete_category.sql, node.id)
        await conn.execute(Q.update_close_gap.sql, node.tree_id, node.parent_id, current.position, None)
        await audit.record(conn, actor, "delete", "category", code, version=current.version, before=current)


async def get_nested_tree(conn: asyncpg.Connection, code: str) -> NestedTree:
    """A tree's categories nested by parent in position order, with own and subtree product counts."""
    head = await conn.fetchrow(Q.get_tree_head.sql, code)
    if head is None:
        raise NotFound(f"No category tree has the code {code!r}.", code="category-tree-not-found")
    rows = await conn.fetch(Q.list_tree_nodes.sql, head["id"])
    children: dict[str | None, list[asyncpg.Record]] = {}
    for row in rows:  # parents first, siblings in position order
        children.setdefault(row["parent"], []).append(row)

    def build(row: asyncpg.Record) -> CategoryNode:
        below = [build(child) for child in children.get(row["code"], [])]
        return CategoryNode(
            code=row["code"],
            labels=row["labels"],
            position=row["position"],
            level=row["level"],
            own_products=row["own_products"],
            subtree_products=row["own_products"] + sum(c.subtree_products for c in below),
            children=below,
        )

    return NestedTree(tree=msgspec.convert(dict(head), TreeHead), categories=[build(r) for r in children.get(None, [])])
