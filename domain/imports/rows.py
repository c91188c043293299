"""Checking an import row by the API's own rules: the same body type (`ProductCreate`, strictly, every
invalid field named), the same plan (`plan_product`: codes resolved, attribute values checked against the
home category's effective attribute set). The catalog's codes are read once per upload and each category's
attribute set once, not once per row. And the good rows read back for the types applied through their API."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import msgspec

from domain.attributes.sets import effective_definitions, effective_definitions_of
from domain.attributes.values import AttributeDef
from domain.errors import FieldError, ValidationFailed
from domain.imports import store
from domain.imports.formats import TooLarge
from domain.imports.model import MAX_ROW_BYTES, ImportRun, RowFault, fault, faults
from domain.keys.model import Principal
from domain.products.model import CategoryRef, ProductCreate, plan_product
from domain.validation import collect

# A whole-body check the API makes of every JSON body (NUL characters, nesting): None when the line passes.
LineFlaw = Callable[[bytes], str | None]

# A staged row: (line, code, ok, category_id, role_id, tree_ids, placement_ids, series_ids, doc); the job id
# is put in front when it is copied.
Staged = tuple[
    int, str | None, bool, int | None, int | None, list[int] | None, list[int] | None, list[int] | None, str | None
]

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(slots=True)
class Catalog:
    """The codes a row may name, read once per upload; each category's attribute set read when first needed."""

    categories: dict[str, CategoryRef]
    roles: dict[str, int]
    series: dict[str, int]
    attributes: dict[str, AttributeDef]
    sets: dict[int, dict[str, AttributeDef]] = field(default_factory=dict)

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> Catalog:
        return cls(
            categories=await store.list_categories(conn),
            roles=await store.list_roles(conn),
            series=await store.list_series(conn),
            attributes=await store.list_attributes(conn),
        )

    async def definitions(self, conn: asyncpg.Connection, category_id: int) -> dict[str, AttributeDef]:
        found = self.sets.get(category_id)
        if found is None:
            found = self.sets[category_id] = await effective_definitions(conn, category_id)
        return found

    def missing(self, codes: set[str]) -> list[int]:
        """The ids of the categories named by these codes whose attribute sets were not read yet."""
        return sorted({ref.id for c in codes if (ref := self.categories.get(c)) is not None} - self.sets.keys())

    async def read_sets(self, conn: asyncpg.Connection, category_ids: list[int]) -> None:
        """Read the attribute sets of these categories, in one query."""
        self.sets.update(await effective_definitions_of(conn, category_ids))


T = TypeVar("T")

MALFORMED_JSON = RowFault(pointer="", column=None, code="malformed_json", message="This line is not valid JSON.")


def decode_line(raw: bytes, kind: type[T]) -> tuple[T | None, Any] | None:
    """A JSON Lines row as (its typed body, None) when it converts at once, else as (None, its JSON builtins)
    for the row's checker to name every error; None when it is not JSON."""
    try:
        return msgspec.json.decode(raw, type=kind), None
    except msgspec.ValidationError:
        return None, msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


def checked_line(
    line: int, raw: bytes, kind: type[T], check: Callable[[int, Any, T | None], tuple[Staged, list[FieldError]]]
) -> tuple[Staged, list[RowFault]]:
    """Check one JSON Lines row (already known to be whole, UTF-8 and within the limits) of a fixed-column
    type (prices, stock counts, categories, attributes, attribute sets) with its type's `check`."""
    decoded = decode_line(raw, kind)
    if decoded is None:
        return rejected(line, None), [MALFORMED_JSON]
    fields, value = decoded
    staged, errors = check(line, value, fields)
    return staged, [fault(e) for e in errors]


async def checked_line_async(
    line: int,
    raw: bytes,
    kind: type[T],
    check: Callable[[int, Any, T | None], Awaitable[tuple[Staged, list[FieldError]]]],
) -> tuple[Staged, list[RowFault]]:
    """`checked_line` for a type whose check reads the database (SKUs, supplier terms)."""
    decoded = decode_line(raw, kind)
    if decoded is None:
        return rejected(line, None), [MALFORMED_JSON]
    fields, value = decoded
    staged, errors = await check(line, value, fields)
    return staged, [fault(e) for e in errors]


async def rows_to_apply(
    conn: asyncpg.Connection, run: ImportRun, low: int, high: int, kind: type[T]
) -> tuple[Principal, list[tuple[int, T]]]:
    """For a type applied row by row through its API's use cases: the actor the rows are applied as (its roles
    were checked when the file was uploaded) and the good rows with lines in [low, high), as (line, typed body)
    in line order; the audit records this transaction writes from here on name the import."""
    await store.update_audit_import(conn, run.id)
    found = [
        (line, msgspec.json.decode(doc, type=kind))
        for line, doc in await store.list_import_docs(conn, run.id, low, high)
    ]
    return Principal(name=run.actor, roles=frozenset()), found


def conversion_errors(value: Any, kind: Any) -> list[FieldError]:
    """Why a row's JSON builtins do not convert to `kind`: every field's error, or that it is not an object."""
    errors = collect(value, kind) if isinstance(value, dict) else []
    return errors or [FieldError(pointer="", code="not_an_object", message="A row is one JSON object.")]


def rejected(line: int, code: str | None) -> Staged:
    return (line, code, False, None, None, None, None, None, None)


def named(value: Any, key: str, pattern: re.Pattern[str] = CODE) -> str | None:
    """The code a row that did not convert is named by in the report: its `key`, when that is a well-formed code."""
    code = value.get(key) if isinstance(value, dict) else None
    return code if isinstance(code, str) and pattern.match(code) else None


def checked_record(
    line: int,
    converted: tuple[dict[str, Any], list[FieldError]],
    key: str,
    check: Callable[[int, Any, Any], tuple[Staged, list[FieldError]]],
    column_of: Callable[[str | None], str | None],
) -> tuple[Staged, list[RowFault]]:
    """Check one CSV record given as (its API body, what did not line up converting its cells) with its type's
    `check` — a record whose cells did not line up is rejected with those errors alone, named by its `key` —
    each error in the column `column_of` finds."""
    body, errors = converted
    if errors:
        staged = rejected(line, named(body, key))
    else:
        staged, errors = check(line, body, None)
    return staged, faults(errors, column_of)


async def check_body(
    conn: asyncpg.Connection, catalog: Catalog, line: int, value: Any, fields: ProductCreate | None
) -> tuple[Staged, list[FieldError]]:
    """Check one row given as JSON builtins (and, when it converted at once, as the typed body)."""
    if fields is None:
        try:
            fields = msgspec.convert(value, ProductCreate)
        except msgspec.ValidationError:
            return rejected(line, named(value, "code")), conversion_errors(value, ProductCreate)
    home = catalog.categories.get(fields.category)
    defs = None if home is None else await catalog.definitions(conn, home.id)
    try:
        plan = plan_product(fields, catalog.categories, catalog.roles.get(fields.role), catalog.series, defs)
    except ValidationFailed as exc:
        return rejected(line, fields.code), exc.errors
    doc = msgspec.json.encode(plan.values).decode()
    staged: Staged = (
        line,
        fields.code,
        True,
        plan.category_id,
        plan.role_id,
        plan.tree_ids,
        plan.placement_ids,
        plan.series_ids,
        doc,
    )
    return staged, []


def line_fault(raw: bytes | TooLarge, flaw: LineFlaw) -> RowFault | None:
    """What makes a JSON Lines row unreadable as a whole (too large, not UTF-8, a NUL, too deep), if anything."""
    if isinstance(raw, TooLarge):
        return RowFault(
            pointer="", column=None, code="row_too_large", message=f"A row may be at most {MAX_ROW_BYTES} bytes."
        )
    problem = flaw(raw)
    if problem is not None:
        code = "invalid_encoding" if "UTF-8" in problem else "malformed_json"
        return RowFault(pointer="", column=None, code=code, message=problem)
    return None


@dataclass(slots=True)
class Decoded:
    """A row read as an API body: its typed body when it converted at once, else its JSON builtins; a CSV or
    XLSX row's with `column_of`, the column each error's pointer is in."""

    line: int
    fields: ProductCreate | None
    value: Any
    column_of: Callable[[str | None], str | None] | None = None

    def category(self) -> str | None:
        """The category code the row names, if it names one (its attribute set is what its values need)."""
        if self.fields is not None:
            return self.fields.category
        found = self.value.get("category") if isinstance(self.value, dict) else None
        return found if isinstance(found, str) else None


def read_jsonl(line: int, raw: bytes | TooLarge, flaw: LineFlaw) -> Decoded | tuple[Staged, list[RowFault]]:
    """Read one JSON Lines row: decoded, or rejected as a whole (too large, not UTF-8, a NUL, too deep, not JSON)."""
    unreadable = line_fault(raw, flaw)
    if unreadable is not None or isinstance(raw, TooLarge):
        return rejected(line, None), [unreadable] if unreadable else []
    decoded = decode_line(raw, ProductCreate)
    if decoded is None:
        return rejected(line, None), [MALFORMED_JSON]
    return Decoded(line, *decoded)


async def check_decoded(conn: asyncpg.Connection, catalog: Catalog, row: Decoded) -> tuple[Staged, list[RowFault]]:
    """Check one row read as an API body (`read_jsonl`, or a CSV record's cells)."""
    staged, errors = await check_body(conn, catalog, row.line, row.value, row.fields)
    return staged, [fault(e) for e in errors] if row.column_of is None else faults(errors, row.column_of)
