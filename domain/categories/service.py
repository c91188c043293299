"""Categories: use cases, each in its own transaction (the structure rules are in model.py)."""

from __future__ import annotations

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.categories import store
from domain.categories.model import (
    Category,
    CategoryCreate,
    CategoryCycle,
    CategoryExists,
    CategoryFields,
    CategoryMove,
    CategoryNotFound,
    CategoryPage,
    CategoryPatch,
    CategoryTooDeep,
    CategoryTreeChange,
    Locked,
    NestedTree,
    Parent,
    ParentInAnotherTree,
    nest,
    unknown_parent,
)
from domain.errors import REFERENCES_SHOWN, FieldError, StillReferenced, ValidationFailed, field_error, param_error
from domain.jobs import service as jobs
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.trees.model import TreeNotFound
from domain.validation import convert_or_raise, merge_patch
from domain.versioning import Versioned


async def _get(conn: asyncpg.Connection, code: str) -> Category:
    category = await store.get_category(conn, code)
    if category is None:
        raise CategoryNotFound(code)
    return category


async def _lock(conn: asyncpg.Connection, code: str) -> Locked | None:
    """Take the tree's structure lock, then lock the category; None when no category has the code."""
    tree_id = await store.get_category_tree_id(conn, code)
    if tree_id is None:
        return None
    await store.lock_tree_structure(conn, tree_id)
    node = await store.lock_category(conn, code)
    if node is None:  # deleted while we waited for the lock
        raise CategoryNotFound(code)
    return Locked(node=node, category=await _get(conn, code))


async def list_categories(
    conn: asyncpg.Connection,
    *,
    tree: str | None,
    parent: str | None,
    root: bool,
    limit: int,
    cursor: str | None,
) -> CategoryPage:
    """Categories in (tree code, code) order; an unknown tree or parent filter is a 404."""
    after = decode_cursor(cursor, (str, str))
    if parent is not None and root:
        raise param_error("root", "conflicting", "`root=true` lists roots only; it cannot go with `parent`.")
    if tree is not None and await store.get_tree_id(conn, tree) is None:
        raise TreeNotFound(tree)
    parent_id = None
    if parent is not None:
        found = await store.get_parent(conn, parent)
        if found is None:
            raise CategoryNotFound(parent)
        parent_id = found.id
    rows = await store.list_categories(conn, tree=tree, parent_id=parent_id, root=root, after=after, limit=limit + 1)
    items, next_cursor = split_page(rows, limit, lambda c: [c.tree, c.code])
    return CategoryPage(items=items, next_cursor=next_cursor)


async def get_category(conn: asyncpg.Connection, code: str) -> Category:
    """One category."""
    return await _get(conn, code)


def _same_tree(found: Parent, code: str, tree_id: int, tree: str) -> Parent:
    if found.tree_id != tree_id:
        raise ParentInAnotherTree(code, tree)
    return found


async def _parent(conn: asyncpg.Connection, code: str, tree_id: int, tree: str) -> Parent:
    """A would-be parent, read under the tree's structure lock: unknown is a 422, another tree's a 409."""
    found = await store.get_parent(conn, code)
    if found is None:
        raise ValidationFailed([unknown_parent(code, "/parent")])
    return _same_tree(found, code, tree_id, tree)


async def _create(conn: asyncpg.Connection, actor: Principal, body: CategoryCreate) -> Category:
    """Create under the tree's structure lock; the caller owns the transaction."""
    if await store.get_category_tree_id(conn, body.code) is not None:
        raise CategoryExists(body.code)
    errors: list[FieldError] = []
    tree_id = await store.get_tree_id(conn, body.tree)
    levels = None
    if tree_id is not None:
        await store.lock_tree_structure(conn, tree_id)
        levels = await store.lock_tree_levels(conn, tree_id)
    if levels is None:  # unknown, or an empty tree deleted while we waited for its lock
        errors.append(field_error("/tree", "not_found", f"No category tree has the code {body.tree!r}."))
    found = await store.get_parent(conn, body.parent) if body.parent is not None else None
    if body.parent is not None and found is None:
        errors.append(unknown_parent(body.parent, "/parent"))
    if errors or tree_id is None or levels is None:
        raise ValidationFailed(errors)
    parent = None
    if found is not None and body.parent is not None:
        parent = _same_tree(found, body.parent, tree_id, body.tree)
    depth = (parent.depth if parent else 0) + 1
    if depth > len(levels):
        raise CategoryTooDeep(body.code, body.tree, depth, levels)
    parent_id = parent.id if parent else None
    count = await store.count_children(conn, tree_id, parent_id)
    position = count if body.position is None else min(body.position, count)
    await store.update_open_gap(conn, tree_id, parent_id, position, None)
    new_id = await store.insert_category(
        conn, body.code, tree_id, parent_id, position, body.labels, parent.lpath if parent else None
    )
    if new_id is None:  # taken by a concurrent create in another tree since the check above
        raise CategoryExists(body.code)
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
    locked: Locked,
    *,
    parent: str | None,
    position: int | None,
    labels: dict[str, str],
) -> Category:
    """Move (with its subtree) and/or relabel a locked category; one version step, one audit row.

    An omitted position keeps the category's place when the parent does not change, else appends.
    """
    node, current = locked.node, locked.category
    same_parent = parent == current.parent
    if same_parent:
        parent_id, parent_lpath = node.parent_id, node.parent_lpath
        target = current.position
        if position is not None:
            last = await store.count_children(conn, node.tree_id, parent_id) - 1
            target = min(position, last)
    else:
        found = await _parent(conn, parent, node.tree_id, current.tree) if parent is not None else None
        if found is not None and parent is not None and found.contains(node.lpath):
            raise CategoryCycle(current.code, parent)
        height = await store.get_subtree_height(conn, node.lpath)
        deepest = (found.depth if found else 0) + 1 + height
        if deepest > len(node.level_names):
            raise CategoryTooDeep(current.code, current.tree, deepest, node.level_names)
        parent_id, parent_lpath = (found.id, found.lpath) if found else (None, None)
        count = await store.count_children(conn, node.tree_id, parent_id)
        target = count if position is None else min(position, count)
    moving = not same_parent or target != current.position
    if not moving and labels == current.labels:
        return current
    if moving:
        await store.update_close_gap(conn, node.tree_id, node.parent_id, current.position, node.id)
        await store.update_open_gap(conn, node.tree_id, parent_id, target, node.id)
        await store.update_subtree_parent(conn, node.id, node.lpath, parent_lpath, parent_id, target)
    await store.update_category(conn, node.id, labels)
    if not same_parent:
        # Its ancestors changed, and with them the attribute sets its products inherit.
        await jobs.enqueue_for_category(conn, actor, f"category {current.code} moved", node.id)
    changed = await _get(conn, current.code)
    action = "move" if moving else "update"
    await audit.record(
        conn, actor, action, "category", changed.code, version=changed.version, before=current, after=changed
    )
    return changed


async def _replace(conn: asyncpg.Connection, actor: Principal, locked: Locked, fields: CategoryFields) -> Category:
    """Write a PUT's (or a merged PATCH's) fields; a category cannot change trees."""
    current = locked.category
    if fields.tree != current.tree:
        raise CategoryTreeChange(current.code, current.tree)
    return await _change(conn, actor, locked, parent=fields.parent, position=fields.position, labels=fields.labels)


async def _delete(conn: asyncpg.Connection, actor: Principal, locked: Locked) -> None:
    code = locked.category.code
    node, current = locked.node, locked.category
    references = await store.list_category_references(conn, node.id, REFERENCES_SHOWN)
    if references:
        named = "; ".join(f"{kind}: {', '.join(codes)}" for kind, codes in references.items())
        raise StillReferenced(
            f"Category {code!r} is still referenced ({named}); move or delete them first.",
            references=references,
        )
    await store.delete_category(conn, node.id)
    await store.update_close_gap(conn, node.tree_id, node.parent_id, current.position, None)
    await audit.record(conn, actor, "delete", "category", code, version=current.version, before=current)


CATEGORIES: Versioned[Locked, CategoryFields] = Versioned(
    what="Category",
    fields=CategoryFields,
    create_body=CategoryCreate,
    lock=_lock,
    not_found=CategoryNotFound,
    create=_create,
    update=_replace,
    delete=_delete,
    resource=lambda locked: locked.category,
)


async def put_category(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: CategoryFields, expected: int | None
) -> tuple[Category, bool]:
    """Idempotent upsert: create the category, or replace its fields (moving it if its place changes)."""
    return await CATEGORIES.put(conn, actor, code, fields, expected)


async def patch_category(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: CategoryPatch, expected: int | None
) -> Category:
    """Apply a JSON merge patch; a new parent or position moves the category with its subtree."""
    async with conn.transaction():
        locked = await CATEGORIES.locked(conn, code, expected)
        current = locked.category
        # Not the position: absent from the patch, it keeps the place under the same parent, appends under another.
        writable = {"tree": current.tree, "parent": current.parent, "labels": current.labels}
        fields = convert_or_raise(merge_patch(writable, msgspec.to_builtins(patch)), CategoryFields)
        return await _replace(conn, actor, locked, fields)


async def move_category(
    conn: asyncpg.Connection, actor: Principal, code: str, body: CategoryMove, expected: int | None
) -> Category:
    """Move a category and its whole subtree under another parent of the same tree (or to the roots)."""
    async with conn.transaction():
        locked = await CATEGORIES.locked(conn, code, expected)
        return await _change(
            conn, actor, locked, parent=body.parent, position=body.position, labels=locked.category.labels
        )


async def delete_category(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a category without children or products; its later siblings close the gap."""
    await CATEGORIES.remove(conn, actor, code, expected)


async def get_nested_tree(conn: asyncpg.Connection, code: str) -> NestedTree:
    """A tree's categories nested by parent in position order, with own and subtree product counts."""
    found = await store.get_tree_head(conn, code)
    if found is None:
        raise TreeNotFound(code)
    tree_id, head = found
    return NestedTree(tree=head, categories=nest(await store.list_tree_nodes(conn, tree_id)))
