"""Categories: the nodes of the product structure trees (major / middle / minor category) — shapes, rules
and errors.

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

import msgspec

from domain.errors import Conflict, FieldError, NotFound, field_error
from domain.types import Code, Labels, Position


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


class CategoryPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of categories."""

    items: list[Category]
    next_cursor: str | None


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


# Internal shapes: what structure changes read under the tree's lock.


class Node(msgspec.Struct, frozen=True, kw_only=True):
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


class Locked(msgspec.Struct, frozen=True, kw_only=True):
    """A category read under its tree's structure lock and its row lock: its internals and its view."""

    node: Node
    category: Category


class Parent(msgspec.Struct, frozen=True, kw_only=True):
    """A would-be parent's internals."""

    id: int
    tree_id: int
    lpath: str
    depth: int

    def contains(self, lpath: str) -> bool:
        """True when this parent is the category at `lpath` or one of its descendants."""
        return self.lpath == lpath or self.lpath.startswith(lpath + ".")


class NodeRow(msgspec.Struct, frozen=True, kw_only=True):
    """A category of a tree as the nested view reads it: parents first, siblings in position order."""

    code: str
    parent: str | None
    labels: dict[str, str]
    position: int
    level: str
    own_products: int


def nest(rows: list[NodeRow]) -> list[CategoryNode]:
    """The categories nested by parent, each with its subtree's product count (rows: parents first)."""
    children: dict[str | None, list[NodeRow]] = {}
    for row in rows:
        children.setdefault(row.parent, []).append(row)

    def build(row: NodeRow) -> CategoryNode:
        below = [build(child) for child in children.get(row.code, [])]
        return CategoryNode(
            code=row.code,
            labels=row.labels,
            position=row.position,
            level=row.level,
            own_products=row.own_products,
            subtree_products=row.own_products + sum(c.subtree_products for c in below),
            children=below,
        )

    return [build(r) for r in children.get(None, [])]


def unknown_parent(code: str, pointer: str) -> FieldError:
    """The field error of a parent code that names no category."""
    return field_error(pointer, "not_found", f"No category has the code {code!r}.")


# Errors.


class CategoryNotFound(NotFound):
    """No category has the code the request names."""

    code = "category-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No category has the code {code!r}.")


class CategoryExists(Conflict):
    """A category with the code exists already (in any tree)."""

    code = "category-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"A category with the code {code!r} exists already.")


class ParentInAnotherTree(Conflict):
    """A category's parent would be a category of another tree."""

    code = "parent-in-another-tree"

    def __init__(self, parent: str, tree: str) -> None:
        super().__init__(
            f"Category {parent!r} is in another tree than {tree!r}; a parent must be in the same tree.",
            parent=parent,
            tree=tree,
        )


class CategoryTooDeep(Conflict):
    """A create or move would put a category deeper than its tree has levels."""

    code = "too-deep"

    def __init__(self, code: str, tree: str, depth: int, levels: list[str]) -> None:
        super().__init__(
            f"Category tree {tree!r} has {len(levels)} levels ({', '.join(levels)}); "
            f"{code!r} would reach level {depth}.",
            depth=depth,
            max_depth=len(levels),
        )


class CategoryCycle(Conflict):
    """A category would move under itself or one of its descendants."""

    code = "category-cycle"

    def __init__(self, code: str, parent: str) -> None:
        super().__init__(
            f"Category {code!r} cannot move under {parent!r}: that is itself or one of its descendants.",
            parent=parent,
        )


class CategoryTreeChange(Conflict):
    """A PUT or PATCH names another tree than the category's: a category cannot change trees."""

    code = "category-tree-change"

    def __init__(self, code: str, tree: str) -> None:
        super().__init__(
            f"Category {code!r} is in tree {tree!r}; a category cannot change trees.",
            tree=tree,
        )
