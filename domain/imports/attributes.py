"""Attribute files: a row is the body of `POST /v1/attributes` with the attribute's options (`options`, the items
of `PUT /v1/attributes/{code}/options`; absent: the options stay as they are), upserted by code as
`PUT /v1/attributes/{code}` then `PUT …/options` do. What the attribute API checks of a body is checked as the
file streams in — its shape, a code that names a built-in information item, rules that do not fit the type, an
unknown group, options on a type without options, an option listed twice; when the import runs, each row goes
through the API's own use cases (in a savepoint of its own), so that what depends on the stored catalog —
a type change of an attribute products carry (`attribute-in-use`), an option dropped that values still use
(`option-in-use`) — is refused on its row with the API's code. The storefront of the products showing an
attribute that changed is brought up to date in the same transaction.

CSV columns (one row per attribute): `code`, `type`, `group`, `visibility`, `display_priority`, `filterable`,
`labels[<locale>]`, `validation[<rule>]` (`validation[min]`, `validation[max_length]`, …), `options` (the option
codes in their order, separated by `|`) and `option_labels[<locale>]` (the options' labels in the same order,
separated by `|`; an empty place is no label in that locale). An option's position is its place in the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import msgspec

from domain.attributes import options, service
from domain.attributes.model import (
    OPTION_TYPES,
    Attribute,
    AttributeCreate,
    AttributeFields,
    OptionCreate,
    OptionList,
    OptionsNotApplicable,
    option_list_errors,
)
from domain.attributes.rules import rule_errors
from domain.errors import DomainError, FieldError, field_error
from domain.imports import store
from domain.imports.formats import LIST_SEPARATOR, integer_cell
from domain.imports.model import FixedHeader, ImportRun, RowError, RowFault, read_fixed_header, refusal
from domain.imports.rows import Staged, checked_line, checked_record, conversion_errors, named, rejected, rows_to_apply

COLUMNS = ("code", "type", "group", "visibility", "display_priority", "filterable", "options")
REQUIRED = ("code", "type")
KEYED = ("labels", "validation", "option_labels")
_INTEGER_RULES = frozenset({"max_length", "decimals"})


class AttributeRow(AttributeCreate, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One row of an attribute file: the body of POST /v1/attributes and, for a select or multiselect, its
    options (the body of PUT …/options; absent: kept as they are)."""

    options: Annotated[list[OptionCreate], msgspec.Meta(max_length=5000)] | None = None


@dataclass(slots=True)
class AttributeRows:
    """Checks the rows of one attribute upload: the attribute groups and the built-in information items."""

    groups: set[str]
    reserved: set[str]

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> AttributeRows:
        return cls(groups=await store.list_attribute_groups(conn), reserved=await store.list_information_items(conn))

    def check(self, line: int, value: Any, fields: AttributeRow | None) -> tuple[Staged, list[FieldError]]:
        """Check one row given as JSON builtins (and, when it converted at once, as the typed body) as the
        attribute API checks a body."""
        if fields is None:
            try:
                fields = msgspec.convert(value, AttributeRow)
            except msgspec.ValidationError:
                return rejected(line, named(value, "code")), conversion_errors(value, AttributeRow)
        errors: list[FieldError] = []
        if fields.code in self.reserved:
            message = f"`{fields.code}` names a built-in information item; choose another code."
            errors.append(field_error("/code", "reserved_code", message))
        if fields.group is not None and fields.group not in self.groups:
            errors.append(field_error("/group", "unknown_group", f"No attribute group has the code {fields.group!r}."))
        errors += rule_errors(fields.type, fields.validation)
        if fields.options is not None:
            if fields.type not in OPTION_TYPES:
                refused = OptionsNotApplicable(fields.code, fields.type)
                errors.append(field_error("/options", refused.code, refused.detail))
            errors += option_list_errors(fields.options)
        if errors:
            return rejected(line, fields.code), errors
        return (line, fields.code, True, None, None, None, None, None, msgspec.json.encode(fields).decode()), []

    async def jsonl(self, line: int, raw: bytes) -> tuple[Staged, list[RowFault]]:
        return checked_line(line, raw, AttributeRow, self.check)

    def header(self, cells: list[str]) -> FixedHeader:
        return read_fixed_header(cells, COLUMNS, REQUIRED, "attributes", KEYED)

    async def csv(self, header: FixedHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as an API body."""
        return checked_record(line, csv_body(header.cells(cells)), "code", self.check, column_of)


def csv_body(cells: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """A record's cells as an API body: numbers and booleans as JSON's, the options as a list of objects with
    their labels (and every locale column that does not list as many labels as there are options)."""
    body = dict(cells)
    if "display_priority" in body:
        body["display_priority"] = integer_cell(body["display_priority"])
    if "filterable" in body:
        body["filterable"] = {"true": True, "false": False}.get(body["filterable"].lower(), body["filterable"])
    for rule in _INTEGER_RULES & body.get("validation", {}).keys():
        body["validation"][rule] = integer_cell(body["validation"][rule])
    labels: dict[str, str] = body.pop("option_labels", {})
    codes = body["options"].split(LIST_SEPARATOR) if "options" in body else []
    misfits = [
        field_error(
            f"/options/labels/{locale}",
            "misaligned_option_labels",
            f"`option_labels[{locale}]` lists {len(text.split(LIST_SEPARATOR))} labels; `options` lists "
            f"{len(codes)} options.",
        )
        for locale, text in labels.items()
        if len(text.split(LIST_SEPARATOR)) != len(codes)
    ]
    if "options" in body and not misfits:
        split = {locale: text.split(LIST_SEPARATOR) for locale, text in labels.items()}
        body["options"] = [
            {"code": code, "labels": {loc: names[i] for loc, names in split.items() if names[i] != ""}}
            for i, code in enumerate(codes)
        ]
    return body, misfits


def column_of(pointer: str | None) -> str | None:
    """The CSV column an error's JSON pointer points at (an option's label: its locale's `option_labels`)."""
    parts = (pointer or "").lstrip("/").split("/")
    if parts[0] == "options" and "labels" in parts[1:3] and len(parts) > parts.index("labels") + 1:
        return f"option_labels[{parts[parts.index('labels') + 1]}]"
    return _COLUMNS.column_of(pointer)


_COLUMNS = FixedHeader(columns=[], known=COLUMNS, keyed=KEYED)


async def apply(conn: asyncpg.Connection, run: ImportRun, low: int, high: int) -> tuple[int, int, list[RowError]]:
    """Apply the good rows with lines in [low, high), in line order, each through the attribute API's upsert
    and, with options, its replacement of the option list (both in one savepoint: a refused row leaves
    nothing); then the storefront of the products showing the attributes that changed. Answers (rows applied,
    rows unchanged, rows refused)."""
    actor, found = await rows_to_apply(conn, run, low, high, AttributeRow)
    before = await store.list_attribute_versions(conn, [row.code for _, row in found])
    applied = unchanged = 0
    refused: list[RowError] = []
    changed: list[str] = []
    for line, row in found:
        fields = AttributeFields(**{f: getattr(row, f) for f in AttributeFields.__struct_fields__})
        try:
            async with conn.transaction():
                attribute, created = await service.put_attribute(conn, actor, row.code, fields, None)
                version = attribute.version
                if row.options is not None:
                    _, version = await options.replace_options(
                        conn, actor, row.code, OptionList(options=row.options), None
                    )
        except DomainError as exc:
            refused += refusal(line, exc, None if run.format == "jsonl" else column_of)
            continue
        if not created and version == before.get(row.code):
            unchanged += 1
        else:
            applied += 1
            changed.append(row.code)
    await store.update_attribute_import_derived(conn, changed)
    return applied, unchanged, refused


def export_row(attribute: Attribute) -> dict[str, Any]:
    """A stored attribute as an import row (its options with their positions, when it has options)."""
    row: dict[str, Any] = msgspec.to_builtins(attribute)
    keep = ("code", *AttributeFields.__struct_fields__, *(("options",) if "options" in row else ()))
    return {k: row[k] for k in keep}


def export_header(labels: list[str], rules: list[str], option_labels: list[str]) -> list[str]:
    """The header of a CSV export of attributes: the fixed fields, the labels per locale, the rules in use, the
    options and their labels per locale."""
    return [
        *COLUMNS[:-1],
        *(f"labels[{loc}]" for loc in labels),
        *(f"validation[{rule}]" for rule in rules),
        "options",
        *(f"option_labels[{loc}]" for loc in option_labels),
    ]


def export_cells(header: list[str], row: Mapping[str, Any]) -> list[str]:
    """An attribute (as an import row takes it) as the cells of an export's header."""
    listed = row.get("options") or []
    cells: list[str] = []
    for name in header:
        if name.startswith("option_labels["):
            cells.append(LIST_SEPARATOR.join(o["labels"].get(name[14:-1], "") for o in listed))
        elif name.startswith(("labels[", "validation[")):
            field, key = name[:-1].split("[", 1)
            cells.append(_text(row[field].get(key)))
        elif name == "options":
            cells.append(LIST_SEPARATOR.join(o["code"] for o in listed))
        else:
            cells.append(_text(row[name]))
    return cells


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
