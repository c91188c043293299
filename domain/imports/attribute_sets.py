"""Attribute set files: a row is the body of `PUT /v1/categories/{code}/attributes` with the category's code
(`category`, `attributes`: each bound attribute with the stages it is required for and an optional
`display_priority` override), replacing the category's own binding as that call does. The category and the
attributes are stored ones (a file of categories or attributes goes first); what the API checks of a body —
an unknown or repeated attribute, a repeated stage — is checked as the file streams in; when the import runs,
each row goes through the API's own use case (`put_attribute_set`, in a savepoint of its own: its audit record,
nothing when the binding is the same). Products under a category whose set changed have their completeness and
storefront brought up to date in the same transaction.

CSV columns (one row per category): `category`; `attributes`, the bound attribute codes in their order,
separated by `|` (an empty cell: none bound); `display_priority`, the overrides in the same order, separated
by `|` (an empty place: none); `required_for[<stage>]`, the codes of the attributes required for that stage,
separated by `|`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from domain.attributes import sets
from domain.attributes.model import Binding, BindingList, binding_errors, canonical_bindings
from domain.categories.model import CategoryNotFound
from domain.errors import DomainError, FieldError, field_error
from domain.imports import store
from domain.imports.formats import LIST_SEPARATOR, integer_cell
from domain.imports.model import (
    FixedHeader,
    ImportRun,
    InvalidUpload,
    RowError,
    RowFault,
    read_fixed_header,
    refusal,
    upload_error,
)
from domain.imports.rows import Staged, checked_line, checked_record, conversion_errors, named, rejected, rows_to_apply
from domain.types import STAGES, Code

COLUMNS = ("category", "attributes", "display_priority")
REQUIRED = ("category", "attributes")
KEYED = ("required_for",)


class AttributeSetRow(BindingList, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One row of an attribute set file: the body of PUT /v1/categories/{code}/attributes and the category."""

    category: Code


@dataclass(slots=True)
class AttributeSetRows:
    """Checks the rows of one attribute set upload: the stored categories and attributes they name."""

    categories: set[str]
    attributes: set[str]

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> AttributeSetRows:
        return cls(categories=set(await store.list_categories(conn)), attributes=set(await store.list_attributes(conn)))

    def check(self, line: int, value: Any, fields: AttributeSetRow | None) -> tuple[Staged, list[FieldError]]:
        """Check one row given as JSON builtins (and, when it converted at once, as the typed body)."""
        if fields is None:
            try:
                fields = msgspec.convert(value, AttributeSetRow)
            except msgspec.ValidationError:
                return rejected(line, named(value, "category")), conversion_errors(value, AttributeSetRow)
        errors: list[FieldError] = []
        if fields.category not in self.categories:
            missing = CategoryNotFound(fields.category)
            errors.append(field_error("/category", missing.code, missing.detail))
        errors += binding_errors(fields.attributes, self.attributes)
        if errors:
            return rejected(line, fields.category), errors
        return (line, fields.category, True, None, None, None, None, None, msgspec.json.encode(fields).decode()), []

    async def jsonl(self, line: int, raw: bytes) -> tuple[Staged, list[RowFault]]:
        return checked_line(line, raw, AttributeSetRow, self.check)

    def header(self, cells: list[str]) -> FixedHeader:
        header = read_fixed_header(cells, COLUMNS, REQUIRED, "attribute sets", KEYED)
        unknown = [
            upload_error(1, name, "unknown_column", f"{name!r} names no stage ({', '.join(STAGES)}).")
            for name in header.columns
            if name.startswith("required_for[") and name[13:-1] not in STAGES
        ]
        if unknown:
            raise InvalidUpload("A `required_for[<stage>]` column names a stage of the product flow.", unknown)
        return header

    async def csv(self, header: FixedHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as an API body."""
        return checked_record(line, csv_body(header.cells(cells)), "category", self.check, column_of)


def csv_body(cells: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """A record's cells as an API body — each listed attribute a binding with the stages whose column lists it and
    the override in its place — and the columns that do not line up with `attributes`."""
    codes = cells["attributes"].split(LIST_SEPARATOR) if "attributes" in cells else []
    stages: dict[str, list[str]] = {
        stage: text.split(LIST_SEPARATOR) for stage, text in cells.get("required_for", {}).items()
    }
    priorities = cells["display_priority"].split(LIST_SEPARATOR) if "display_priority" in cells else None
    errors = [
        field_error(
            f"/required_for/{stage}",
            "not_in_attributes",
            f"`required_for[{stage}]` lists {code!r}, which `attributes` does not.",
        )
        for stage, listed in stages.items()
        for code in listed
        if code not in codes
    ]
    if priorities is not None and len(priorities) != len(codes):
        errors.append(
            field_error(
                "/display_priority",
                "misaligned_display_priority",
                f"`display_priority` lists {len(priorities)} places; `attributes` lists {len(codes)} attributes.",
            )
        )
    body: dict[str, Any] = {k: v for k, v in cells.items() if k not in ("required_for", "display_priority")}
    if errors:
        return body, errors
    body["attributes"] = [
        {
            "attribute": code,
            "required_for": [s for s in STAGES if code in stages.get(s, [])],
            **({"display_priority": integer_cell(priorities[i])} if priorities and priorities[i] != "" else {}),
        }
        for i, code in enumerate(codes)
    ]
    return body, []


def column_of(pointer: str | None) -> str | None:
    """The CSV column an error's JSON pointer points at."""
    parts = (pointer or "").lstrip("/").split("/")
    if parts[0] == "required_for" and len(parts) > 1:
        return f"required_for[{parts[1]}]"
    if parts[0] == "attributes" and len(parts) > 2 and parts[2] == "display_priority":
        return "display_priority"
    return parts[0] if parts[0] in COLUMNS else None


async def apply(conn: asyncpg.Connection, run: ImportRun, low: int, high: int) -> tuple[int, int, list[RowError]]:
    """Apply the good rows with lines in [low, high), in line order, each through the attribute set API (in a
    savepoint of its own); then the derived data of the products under the categories whose set changed.
    Answers (rows applied, rows unchanged, rows refused)."""
    actor, found = await rows_to_apply(conn, run, low, high, AttributeSetRow)
    before = await store.list_attribute_set_owners(conn, [row.category for _, row in found])
    applied = unchanged = 0
    refused: list[RowError] = []
    changed: list[str] = []
    for line, row in found:
        try:
            await sets.put_attribute_set(conn, actor, row.category, BindingList(attributes=row.attributes))
        except DomainError as exc:
            refused += refusal(line, exc, None if run.format == "jsonl" else column_of)
            continue
        if canonical_bindings(row.attributes) == _bindings(before.get(row.category, [])):
            unchanged += 1
        else:
            applied += 1
            changed.append(row.category)
    # (their products' inherited sets changed, as a move changes them)
    await store.update_category_import_derived(conn, changed, [])
    return applied, unchanged, refused


def _bindings(stored: list[Any]) -> list[Binding]:
    return [
        Binding(attribute=a, required_for=[s for s in STAGES if s in stages], display_priority=priority)
        for a, stages, priority in stored
    ]


def export_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A category's own binding as an import row (each binding's stages in the order a product flows)."""
    return {
        "category": row["category"],
        "attributes": [{**b, "required_for": [s for s in STAGES if s in b["required_for"]]} for b in row["attributes"]],
    }


def export_header(stages: list[str]) -> list[str]:
    return [*COLUMNS, *(f"required_for[{s}]" for s in STAGES if s in stages)]


def export_cells(header: list[str], row: Mapping[str, Any]) -> list[str]:
    """An attribute set (as an import row takes it) as the cells of an export's header."""
    bindings = row["attributes"]
    cells: list[str] = []
    for name in header:
        if name.startswith("required_for["):
            cells.append(LIST_SEPARATOR.join(b["attribute"] for b in bindings if name[13:-1] in b["required_for"]))
        elif name == "display_priority":
            overrides = [b["display_priority"] for b in bindings]
            cells.append(
                ""
                if all(p is None for p in overrides)
                else LIST_SEPARATOR.join("" if p is None else str(p) for p in overrides)
            )
        elif name == "attributes":
            cells.append(LIST_SEPARATOR.join(b["attribute"] for b in bindings))
        else:
            cells.append(row[name])
    return cells
