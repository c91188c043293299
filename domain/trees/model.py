"""Category trees: named trees with named levels (e.g. major / middle / minor) — shapes and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from domain.errors import Conflict, NotFound
from domain.types import Code, Labels

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


class TreePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of category trees."""

    items: list[Tree]
    next_cursor: str | None


class TreeNotFound(NotFound):
    """No category tree has the code the request names."""

    code = "category-tree-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No category tree has the code {code!r}.")


class TreeExists(Conflict):
    """A category tree with the code exists already."""

    code = "category-tree-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"A category tree with the code {code!r} exists already.")


class TreeTooDeep(Conflict):
    """A tree's categories are deeper than the level names it would be left with."""

    code = "tree-too-deep"

    def __init__(self, code: str, depth: int, levels: int) -> None:
        super().__init__(
            f"Category tree {code!r} has categories {depth} levels deep; it cannot have only {levels} level names.",
            depth=depth,
        )
