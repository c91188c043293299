"""Category files: a row is the body of `POST /v1/categories` (`code`, `tree`, `parent`, `position`, `labels`),
upserted by code as `PUT /v1/categories/{code}` does. A row's shape, its tree, its parent (stored, or on an
earlier line of the file — a file lists parents before their children, as an export does) and a tree change
are checked as it streams in; when the import runs, each row goes through the category API's own use case
(`put_category`: the tree's structure lock, cycles, depth, dense positions, a version step and an audit record
only when something changes), so that a file is never a way round a rule the API keeps. What the API refuses
then (`category-cycle`, `too-deep`, …) is named on its row. Products under a category that moved or was
relabelled have their derived data (completeness, storefront) brought up to date in the same transaction.

CSV columns: `code`, `tree`, `parent` (empty: a root), `position` (empty: appended, or kept), `labels[<locale>]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from domain.categories import service as categories
from domain.categories.model import CategoryCreate, CategoryFields, CategoryTreeChange, ParentInAnotherTree
from domain.errors import DomainError, FieldError, field_error
from domain.imports import store
from domain.imports.formats import integer_cell
from domain.imports.model import FixedHeader, ImportRun, RowError, RowFault, read_fixed_header, refusal
from domain.imports.rows import Staged, checked_line, conversion_errors, named, rejected, rows_to_apply

COLUMNS = ("code", "tree", "parent", "position")
REQUIRED = ("code", "tree")
KEYED = ("labels",)


@dataclass(slots=True)
class CategoryRows:
    """Checks the rows of one category upload: the trees, the stored categories' trees, and the categories of
    the earlier good lines (a parent may be one of them)."""

    trees: set[str]
    stored: dict[str, str]  # code → tree
    earlier: dict[str, str] = field(default_factory=dict)  # code → tree, of this file's good rows so far

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> CategoryRows:
        stored = await store.list_categories(conn)
        return cls(trees=await store.list_trees(conn), stored={c: ref.tree for c, ref in stored.items()})

    def check(self, line: int, value: Any, fields: CategoryCreate | None) -> tuple[Staged, list[FieldError]]:
        """Check one row given as JSON builtins (and, when it converted at once, as the typed body)."""
        if fields is None:
            try:
                fields = msgspec.convert(value, CategoryCreate)
            except msgspec.ValidationError:
                return rejected(line, named(value, "code")), conversion_errors(value, CategoryCreate)
        errors: list[FieldError] = []
        if fields.tree not in self.trees:
            errors.append(field_error("/tree", "not_found", f"No category tree has the code {fields.tree!r}."))
        elif self.stored.get(fields.code, fields.tree) != fields.tree:
            change = CategoryTreeChange(fields.code, self.stored[fields.code])
            errors.append(field_error("/tree", change.code, change.detail))
        if fields.parent is not None:
            parent_tree = self.stored.get(fields.parent) or self.earlier.get(fields.parent)
            if parent_tree is None:
                message = f"No category has the code {fields.parent!r}, stored or on an earlier line of the file."
                errors.append(field_error("/parent", "not_found", message))
            elif parent_tree != fields.tree and fields.tree in self.trees:
                other = ParentInAnotherTree(fields.parent, fields.tree)
                errors.append(field_error("/parent", other.code, other.detail))
        if errors:
            return rejected(line, fields.code), errors
        self.earlier[fields.code] = fields.tree
        return (line, fields.code, True, None, None, None, None, None, msgspec.json.encode(fields).decode()), []

    async def jsonl(self, line: int, raw: bytes) -> tuple[Staged, list[RowFault]]:
        return checked_line(line, raw, CategoryCreate, self.check)

    def header(self, cells: list[str]) -> FixedHeader:
        return read_fixed_header(cells, COLUMNS, REQUIRED, "categories", KEYED)

    async def csv(self, header: FixedHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as an API body."""
        body = header.cells(cells)
        if "position" in body:
            body["position"] = integer_cell(body["position"])
        staged, errors = self.check(line, body, None)
        return staged, header.faults(errors)


_COLUMNS = FixedHeader(columns=[], known=COLUMNS, keyed=KEYED)


async def apply(conn: asyncpg.Connection, run: ImportRun, low: int, high: int) -> tuple[int, int, list[RowError]]:
    """Apply the good rows with lines in [low, high), in line order, each through the category API's upsert (in
    a savepoint of its own: a refused row leaves nothing); then the derived data of the products under the
    categories that moved or were relabelled. Answers (rows applied, rows unchanged, rows refused)."""
    actor, found = await rows_to_apply(conn, run, low, high, CategoryCreate)
    before = await store.list_category_states(conn, [row.code for _, row in found])
    column_of = None if run.format == "jsonl" else _COLUMNS.column_of
    applied = unchanged = 0
    refused: list[RowError] = []
    moved: list[str] = []
    relabelled: list[str] = []
    for line, row in found:
        fields = CategoryFields(tree=row.tree, parent=row.parent, position=row.position, labels=row.labels)
        try:
            category, created = await categories.put_category(conn, actor, row.code, fields, None)
        except DomainError as exc:
            refused += refusal(line, exc, column_of)
            continue
        version, parent = before.get(row.code, (None, None))
        if not created and category.version == version:
            unchanged += 1
            continue
        applied += 1
        if not created:
            (moved if category.parent != parent else relabelled).append(row.code)
    await store.update_category_import_derived(conn, moved, relabelled)
    return applied, unchanged, refused


def export_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored category as an import row."""
    return {k: row[k] for k in ("code", "tree", "parent", "position", "labels")}


def export_header(locales: list[str]) -> list[str]:
    return [*COLUMNS, *(f"labels[{loc}]" for loc in locales)]


def export_cells(header: list[str], row: Mapping[str, Any]) -> list[str]:
    """A category (as an import row takes it) as the cells of an export's header."""
    return [
        row["labels"].get(name[7:-1], "")
        if name.startswith("labels[")
        else str(row[name] if row[name] is not None else "")
        for name in header
    ]
