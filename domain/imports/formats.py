"""Reading an upload as it streams in — JSON Lines or CSV (UTF-8, with or without a BOM, as Excel writes it)
— a row at a time, never the whole body; and the CSV column convention, both ways.

CSV columns: `code`, `category`, `role`; `categories`, `series`, `images`, `quality_tags` (lists, items
separated by `|`); `labels[<locale>]`, `description[<locale>]`; `selling_points[<locale>]` (one point per
line of the cell; line i of each locale's column is point i); then one column per attribute,
`attr:<code>` — a measurement as `90 cm`, a multiselect as `red|navy`, a boolean `true`/`false` — or, for a
measurement, `attr:<code>[<unit>]` holding the number alone. An empty cell is no value.
"""

from __future__ import annotations

import codecs
import csv
import operator
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.attributes import units
from domain.attributes.values import AttributeDef
from domain.errors import FieldError
from domain.imports.model import MAX_ROW_BYTES, InvalidUpload, upload_error

# A cell may be as long as its row (Python's csv module refuses a field over 131,072 characters by default: a
# longer cell in a row within the limit raised `_csv.Error`). The limit is the process's: raised, never lowered.
csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_BYTES))

LIST_SEPARATOR = "|"
FIXED = ("code", "category", "categories", "role", "series", "images", "quality_tags")
LISTS = frozenset({"categories", "series", "images", "quality_tags"})
LOCALISED = ("labels", "description", "selling_points")
_LOCALISED = re.compile(r"^(labels|description|selling_points)\[([^\]]+)\]$")
_ATTRIBUTE = re.compile(r"^([^\[\]]+)(?:\[([^\]]+)\])?$")  # after the column's prefix
_INTEGER = re.compile(r"^[+-]?\d+$")


def integer_cell(cell: str) -> int | str:
    """A cell of an integer column as the number it writes (so that one out of range is named so by the check),
    or as its text when it writes none."""
    return int(cell) if _INTEGER.match(cell) and len(cell) < 30 else cell


class TooLarge:
    """A row over MAX_ROW_BYTES, skipped unread."""


TOO_LARGE = TooLarge()


async def jsonl_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes | TooLarge]]:
    """(line number from 1, the line's bytes) for every line that is not blank; a line over MAX_ROW_BYTES
    comes as TOO_LARGE, its bytes dropped as they arrive."""
    pending = bytearray()
    line = 1
    skipping = False
    first = True
    async for chunk in chunks:
        if first and chunk:
            chunk = chunk.removeprefix(codecs.BOM_UTF8)
            first = False
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not skipping:
                    pending += chunk[start:]
                    if len(pending) > MAX_ROW_BYTES:
                        skipping = True
                        pending.clear()
                break
            if skipping:
                yield line, TOO_LARGE
                skipping = False
            else:
                pending += chunk[start:end]
                if len(pending) > MAX_ROW_BYTES:
                    yield line, TOO_LARGE
                elif pending.strip():
                    yield line, bytes(pending)
            pending.clear()
            line += 1
            start = end + 1
    if skipping:
        yield line, TOO_LARGE
    elif pending.strip():
        yield line, bytes(pending)


async def csv_records(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, list[str]]]:
    """(the physical line a record starts on, its cells) for every CSV record. A record ends at a line break
    outside quotes (an even number of `"` so far: RFC 4180 doubles a quote inside a quoted cell). Bytes that
    are not UTF-8, or a record over MAX_ROW_BYTES (an unclosed quote swallows the rest of the file), make the
    upload unreadable as a whole."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    record: list[str] = []
    size = 0
    quotes = 0
    line = 1  # the line the current record starts on
    physical = 1
    tail = ""
    async for chunk in chunks:
        try:
            text = tail + decoder.decode(chunk)
        except UnicodeDecodeError as exc:  # the line of the bad byte: this chunk's line breaks before it
            raise _not_utf8(physical + chunk[: max(exc.start, 0)].count(b"\n")) from None
        parts = text.split("\n")
        tail = parts.pop()
        for part in parts:
            physical += 1
            record.append(part)
            size += len(part) + 1
            quotes += part.count('"')
            if size > MAX_ROW_BYTES:
                raise _too_large(line)
            if quotes % 2 == 0:
                cells = _cells(record)
                if cells is not None:
                    yield line, cells
                record, size, quotes, line = [], 0, 0, physical
        if size + len(tail) > MAX_ROW_BYTES:
            raise _too_large(line)
    try:
        tail += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_utf8(physical) from None
    if tail or record:
        record.append(tail)
        if (quotes + tail.count('"')) % 2:
            raise InvalidUpload(
                "The CSV ends inside a quoted cell.",
                [upload_error(line, None, "unclosed_quote", "A quoted cell opened here is never closed.")],
            )
        cells = _cells(record)
        if cells is not None:
            yield line, cells


def _cells(lines: list[str]) -> list[str] | None:
    text = "\n".join(lines).removesuffix("\r")
    if not text.strip():
        return None
    return next(csv.reader([text], strict=False))


def _not_utf8(line: int) -> InvalidUpload:
    return InvalidUpload(
        f"The CSV is not UTF-8 (line {line}); save it as “CSV UTF-8”.",
        [upload_error(line, None, "invalid_encoding", "This line holds bytes that are not UTF-8.")],
    )


def _too_large(line: int) -> InvalidUpload:
    return InvalidUpload(
        f"The CSV record starting on line {line} is over {MAX_ROW_BYTES} bytes (an unclosed quote?).",
        [upload_error(line, None, "row_too_large", f"A record may be at most {MAX_ROW_BYTES} bytes.")],
    )


# ------------------------------------------------------------------------------------------ CSV columns


@dataclass(frozen=True, slots=True)
class Column:
    """What one CSV column holds: a fixed field, a field's locale, or an attribute (in a unit)."""

    name: str
    field: str  # a fixed field, a localised field, or "attributes"
    key: str | None = None  # the locale, or the attribute code
    unit: str | None = None


@dataclass(slots=True)
class Header:
    """A CSV header, checked: its columns in order, and where each attribute's value came from."""

    columns: list[Column]
    attributes: Mapping[str, AttributeDef]
    first_locale_column: dict[str, str] = field(default_factory=dict)

    def row(self, cells: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
        """A row as an API body (a dict of JSON builtins) and, per attribute code, its column."""
        body: dict[str, Any] = {}
        sources: dict[str, str] = {}
        points: dict[str, list[str]] = {}
        for col, cell in zip(self.columns, cells, strict=True):
            if cell == "":
                continue
            if col.field in LISTS:
                body[col.field] = cell.split(LIST_SEPARATOR)
            elif col.field in ("labels", "description"):
                body.setdefault(col.field, {})[col.key] = cell
            elif col.field == "selling_points":
                points[col.key or ""] = cell.replace("\r\n", "\n").split("\n")
            elif col.field == "attributes":
                assert col.key is not None
                body.setdefault("attributes", {})[col.key] = self.value(col, cell)
                sources[col.key] = col.name
            else:
                body[col.field] = cell
        if points:
            count = max(len(lines) for lines in points.values())
            body["selling_points"] = [
                {loc: lines[i] for loc, lines in points.items() if i < len(lines) and lines[i] != ""}
                for i in range(count)
            ]
        return body, sources

    def value(self, col: Column, cell: str) -> Any:
        """An attribute's cell as the JSON value its type takes (a value it cannot be is left as text, for the
        API's check to name)."""
        defn = self.attributes[col.key or ""]
        kind = defn.type
        if col.unit is not None:
            return {"value": cell, "unit": col.unit}
        if kind == "integer":
            return integer_cell(cell)
        if kind == "boolean":
            return {"true": True, "false": False}.get(cell.lower(), cell)
        if kind == "multiselect":
            return cell.split(LIST_SEPARATOR)
        if kind == "measurement":
            number, _, unit = cell.strip().rpartition(" ")
            return {"value": number.strip(), "unit": unit} if number else {"value": cell, "unit": ""}
        return cell

    def column_of(self, pointer: str | None, sources: Mapping[str, str]) -> str | None:
        """The column an error's JSON pointer (into the row as an API body) points at."""
        if not pointer:
            return None
        parts = pointer.lstrip("/").split("/")
        head = parts[0]
        if head == "attributes" and len(parts) > 1:
            return sources.get(parts[1], f"attr:{parts[1]}")
        if head in ("labels", "description") and len(parts) > 1:
            return f"{head}[{parts[1]}]"
        if head == "selling_points":
            if len(parts) > 2:
                return f"selling_points[{parts[2]}]"
            return self.first_locale_column.get(head)
        return head if head in FIXED else None


def read_header(cells: list[str], attributes: Mapping[str, AttributeDef]) -> Header:
    """Check a CSV's first record as its header: every column known, none twice, `code`, `category` and `role`
    present; else the whole upload is refused, naming every bad column."""
    errors: list[FieldError] = []
    columns: list[Column] = []
    seen: set[str] = set()
    first_locale: dict[str, str] = {}
    for raw in cells:
        name = raw.strip()
        col = _column(name, attributes)
        if isinstance(col, FieldError):
            errors.append(col)
            continue
        if name in seen:
            errors.append(upload_error(1, name, "duplicate_column", f"The column {name!r} is in the header twice."))
        seen.add(name)
        if col.field in LOCALISED:
            first_locale.setdefault(col.field, name)
        columns.append(col)
    for required in ("code", "category", "role"):
        if required not in seen:
            errors.append(upload_error(1, required, "missing_column", f"The header has no {required!r} column."))
    if errors:
        raise InvalidUpload(
            "The first line of a CSV import is its header, naming columns merchflow knows "
            "(code, category, role, …, attr:<attribute>): " + f"{len(errors)} problem(s).",
            errors,
        )
    return Header(columns=columns, attributes=attributes, first_locale_column=first_locale)


def attribute_column(
    name: str, attributes: Mapping[str, AttributeDef], fld: str, prefix: str = "attr:"
) -> Column | FieldError | None:
    """A column `<prefix><code>` or `<prefix><code>[<unit>]` holding values for `fld` (None: not such a column)."""
    attribute = _ATTRIBUTE.match(name.removeprefix(prefix)) if name.startswith(prefix) else None
    if attribute is None:
        return None
    code, unit = attribute.group(1), attribute.group(2)
    defn = attributes.get(code)
    if defn is None:
        return upload_error(1, name, "unknown_attribute", f"No attribute has the code {code!r}.")
    if unit is not None:
        family = units.FAMILIES.get(defn.validation.unit_family or "length", {})
        if defn.type != "measurement":
            return upload_error(1, name, "unit_not_applicable", f"`{code}` is not a measurement: no unit.")
        if unit not in family:
            return upload_error(1, name, "unknown_unit", f"Unit must be one of {', '.join(family)}.")
    return Column(name=name, field=fld, key=code, unit=unit)


def _column(name: str, attributes: Mapping[str, AttributeDef]) -> Column | FieldError:
    if name in FIXED:
        return Column(name=name, field=name)
    localised = _LOCALISED.match(name)
    if localised:
        return Column(name=name, field=localised.group(1), key=localised.group(2))
    attribute = attribute_column(name, attributes, "attributes")
    if attribute is not None:
        return attribute
    return upload_error(1, name or "(empty)", "unknown_column", f"{name!r} is not a column merchflow knows.")


def export_header(labels: list[str], description: list[str], points: list[str], attributes: list[str]) -> list[str]:
    """The header of a CSV export: the fixed fields, the texts per locale, then one column per attribute."""
    return [
        "code",
        "category",
        "categories",
        "role",
        "series",
        *(f"labels[{loc}]" for loc in labels),
        *(f"description[{loc}]" for loc in description),
        *(f"selling_points[{loc}]" for loc in points),
        "images",
        "quality_tags",
        *(f"attr:{code}" for code in attributes),
    ]


def export_cells(header: list[str]) -> Callable[[Mapping[str, Any]], list[str]]:
    """A product (as an import row takes it) as the cells of an export's `header`. The header is read once — a
    getter per fixed column, a position per attribute — so that a row costs its own fields and the attribute
    values it has, not a pass over every column (a catalog's header has hundreds of attribute columns)."""
    width = len(header)
    fixed: list[tuple[int, Callable[[Mapping[str, Any]], str]]] = []
    placed: dict[str, int] = {}
    for at, name in enumerate(header):
        localised = _LOCALISED.match(name)
        if localised:
            fixed.append((at, _text_getter(localised.group(1), localised.group(2))))
        elif name.startswith("attr:"):
            placed[name[5:]] = at
        elif name in LISTS:
            fixed.append((at, _list_getter(name)))
        else:
            fixed.append((at, operator.itemgetter(name)))

    def cells(product: Mapping[str, Any]) -> list[str]:
        out = [""] * width
        for at, get in fixed:
            out[at] = get(product)
        place_values(out, product["attributes"], placed)
        return out

    return cells


def place_values(out: list[str], values: Mapping[str, Any], placed: Mapping[str, int]) -> None:
    """Write each value of `values` that has a column (`placed`: code → its position) as its cell text."""
    for code, value in values.items():
        at = placed.get(code)
        if at is not None:
            out[at] = value if type(value) is str else cell_text(value)  # (most are: no call for them)


def _list_getter(fld: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda product: LIST_SEPARATOR.join(product[fld])


def _text_getter(fld: str, loc: str) -> Callable[[Mapping[str, Any]], str]:
    """The cell of a localised text column: a label or description in `loc`, or the selling points' texts in
    `loc`, one a line (empty when none has that locale)."""
    if fld == "selling_points":

        def points(product: Mapping[str, Any]) -> str:
            given = product["selling_points"]
            return "\n".join(p.get(loc, "") for p in given) if any(loc in p for p in given) else ""

        return points
    return lambda product: product[fld].get(loc, "")


def cell_text(value: Any) -> str:
    """An attribute value as a CSV cell (the inverse of `Header.value`)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, dict):
        return f"{value['value']} {value['unit']}"
    return str(value)
