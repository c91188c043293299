"""Bulk imports and exports: shapes, the per-row report, and the errors of an upload as a whole.

An import row is exactly what one API write of its type takes (products: `ProductCreate`, the code and the
writable fields; SKUs: `SkuCreate`; prices: a `PriceCreate` with its SKU; stock: a `count` movement); a row
that breaks a rule is named in the report with the API's own error codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from domain.errors import DomainError, FieldError, Forbidden, InvalidRequest, NotFound
from domain.keys.model import Principal

ImportType = Literal[
    "products", "skus", "prices", "stock", "categories", "attributes", "attribute_sets", "supplier_terms"
]
ImportMode = Literal["all_or_nothing", "valid_rows"]
FileFormat = Literal["jsonl", "csv", "xlsx"]
ReportFormat = Literal["jsonl", "csv"]

IMPORT_KIND = "import-"  # an import's job kind is `import-<type>`


class TypeSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What differs between import types: what a row is called, the field holding its code, and who may import
    it — the roles that write it through the API (`PUT /v1/products/{code}`, `PUT /v1/skus/{sku}`)."""

    noun: str
    code_field: str
    importers: frozenset[str]
    unique_codes: bool = True  # a file names each code once (a price file has many rows of one SKU)


TYPES: dict[str, TypeSpec] = {
    "products": TypeSpec(noun="product", code_field="code", importers=frozenset({"admin", "purchasing", "listing"})),
    "skus": TypeSpec(
        noun="SKU", code_field="sku", importers=frozenset({"admin", "purchasing", "warehouse", "listing"})
    ),
    # cost and distribution rows only for the roles that see them (finance, purchasing, admin), row by row
    "prices": TypeSpec(
        noun="price",
        code_field="sku",
        importers=frozenset({"admin", "finance", "purchasing", "listing"}),
        unique_codes=False,
    ),
    # a count of a SKU in a bin: who may post stock movements (POST /v1/stock/movements)
    "stock": TypeSpec(
        noun="count of a SKU in a bin", code_field="sku", importers=frozenset({"admin", "warehouse", "purchasing"})
    ),
    # the category and attribute APIs' writes (PUT /v1/categories/{code}, PUT /v1/attributes/{code}) are admin's
    "categories": TypeSpec(noun="category", code_field="code", importers=frozenset({"admin"})),
    "attributes": TypeSpec(noun="attribute", code_field="code", importers=frozenset({"admin"})),
    # PUT /v1/categories/{code}/attributes: admin's too
    "attribute_sets": TypeSpec(noun="attribute set", code_field="category", importers=frozenset({"admin"})),
    # confidential: PUT /v1/products/{code}/suppliers/{supplier} is purchasing's (and admin's)
    "supplier_terms": TypeSpec(
        noun="product's terms with a supplier", code_field="supplier", importers=frozenset({"admin", "purchasing"})
    ),
}

# A row (a JSONL line, a CSV record) longer than this is rejected unread: no row of a product comes near it.
MAX_ROW_BYTES = 1 << 20
# An upload may be this large (the body is streamed, never held: MERCH_MAX_BODY_BYTES is for JSON bodies).
MAX_IMPORT_BYTES = 8 << 30

MEDIA_TYPES: dict[str, FileFormat] = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "application/x-jsonlines": "jsonl",
    "text/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


class RowError(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the per-row report: where (line; JSON pointer into the row; CSV column), what, a sentence."""

    line: int
    pointer: str | None
    column: str | None
    code: str
    message: str


class RowFault(msgspec.Struct, frozen=True, kw_only=True):
    """One error of a row before its line is known to the report (a pointer and, for CSV, a column)."""

    pointer: str | None
    column: str | None
    code: str
    message: str


def fault(error: FieldError, column: str | None = None) -> RowFault:
    return RowFault(pointer=error.pointer, column=column, code=error.code, message=error.message)


def faults(errors: Sequence[FieldError], column_of: Callable[[str | None], str | None]) -> list[RowFault]:
    """A CSV row's errors, each with the column `column_of` finds its pointer in."""
    return [fault(e, column_of(e.pointer)) for e in errors]


class ImportRun(msgspec.Struct, frozen=True, kw_only=True):
    """An import job as its runner needs it."""

    id: int
    type: ImportType
    actor: str
    mode: ImportMode
    format: FileFormat
    sees_confidential: bool
    code_column: str | None  # where an XLSX's codes are (`A (code)`): the report of duplicate codes names it


class ImportCounts(msgspec.Struct, frozen=True, kw_only=True):
    good: int
    rejected: int
    last_line: int


class ExportColumns(msgspec.Struct, frozen=True, kw_only=True):
    """The locales and attribute codes of the products an export covers (a CSV header's columns)."""

    labels: list[str]
    description: list[str]
    selling_points: list[str]
    attributes: list[str]


class SkuExportColumns(msgspec.Struct, frozen=True, kw_only=True):
    """The axis and override attribute codes of the SKUs an export covers (a CSV header's columns)."""

    axes: list[str]
    attributes: list[str]


# ----------------------------------------------------------------------------------------------- errors


def check_importer(actor: Principal, kind: str) -> None:
    """Importing a type, or reading an import's report, is for the roles that write that type through the API."""
    if not actor.has_any(TYPES[kind].importers):
        raise Forbidden(
            f"Importing {kind} is for the roles that write them through the API: "
            f"{', '.join(sorted(TYPES[kind].importers))}."
        )


class UnsupportedImportFormat(InvalidRequest):
    """An upload's Content-Type is neither JSON Lines (`application/x-ndjson`), CSV (`text/csv`) nor XLSX
    (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`)."""

    code = "unsupported-import-format"

    def __init__(self, media_type: str) -> None:
        super().__init__(
            f"An import body is JSON Lines (Content-Type: application/x-ndjson), CSV (text/csv) or XLSX "
            f"(application/vnd.openxmlformats-officedocument.spreadsheetml.sheet), not {media_type or 'untyped'}."
        )


class InvalidUpload(InvalidRequest):
    """An upload cannot be read as a whole — a CSV or XLSX without a header naming known columns, a CSV that is
    not UTF-8, a CSV record over the row limit, an XLSX that is not a workbook: nothing was imported, `errors`
    says where."""

    code = "invalid-upload"

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail, errors=errors)


class ImportNotFound(NotFound):
    """No import has the id the request names."""

    code = "import-not-found"

    def __init__(self, job_id: int) -> None:
        super().__init__(f"No import has the id {job_id}.")


def upload_error(line: int, column: str | None, code: str, message: str) -> FieldError:
    """An error of an upload as a whole: where (line, and column when there is one) in the pointer."""
    where = f"/lines/{line}" + (f"/{column}" if column else "")
    return FieldError(pointer=where, code=code, message=message)


_KEYED = re.compile(r"^([a-z_]+)\[([^\]]+)\]$")


@dataclass(frozen=True, slots=True)
class FixedHeader:
    """The checked header of a CSV whose columns are a fixed set (prices, stock counts, categories, attributes):
    its columns in order; `keyed` fields are maps with a column per key (`labels[<locale>]`)."""

    columns: list[str]
    known: tuple[str, ...]
    keyed: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return len(self.columns)

    def column_of(self, pointer: str | None) -> str | None:
        parts = (pointer or "").lstrip("/").split("/")
        if parts[0] in self.keyed and len(parts) > 1:
            return f"{parts[0]}[{parts[1]}]"
        return parts[0] if parts[0] in self.known else None

    def faults(self, errors: Sequence[FieldError]) -> list[RowFault]:
        """A row's errors, each with the column it is in."""
        return faults(errors, self.column_of)

    def cells(self, cells: list[str]) -> dict[str, Any]:
        """A record's non-empty cells by column, a keyed field's as a map (`labels[en]` → `{"labels": {"en": …}}`)."""
        body: dict[str, Any] = {}
        for name, cell in zip(self.columns, cells, strict=True):
            if cell == "":
                continue
            keyed = _KEYED.match(name)
            if keyed is not None and keyed.group(1) in self.keyed:
                body.setdefault(keyed.group(1), {})[keyed.group(2)] = cell
            else:
                body[name] = cell
        return body


def read_fixed_header(
    cells: list[str], known: tuple[str, ...], required: tuple[str, ...], what: str, keyed: tuple[str, ...] = ()
) -> FixedHeader:
    """Check the header of a CSV import of `what`: every column known (or `<keyed field>[<key>]`), none twice, the
    required ones present; else the whole upload is refused, naming every bad column."""
    names = [c.strip() for c in cells]

    def is_known(name: str) -> bool:
        keyed_column = _KEYED.match(name)
        return name in known or (keyed_column is not None and keyed_column.group(1) in keyed)

    errors = [
        upload_error(1, n or "(empty)", "unknown_column", f"{n!r} is not a column merchflow knows.")
        for n in names
        if not is_known(n)
    ]
    errors += [
        upload_error(1, n, "duplicate_column", f"The column {n!r} is in the header twice.")
        for i, n in enumerate(names)
        if n in names[:i]
    ]
    errors += [
        upload_error(1, n, "missing_column", f"The header has no {n!r} column.") for n in required if n not in names
    ]
    if errors:
        listed = [*known, *(f"{k}[…]" for k in keyed)]
        raise InvalidUpload(
            f"The first line of a CSV import of {what} is its header, naming columns merchflow knows "
            f"({', '.join(listed)}): {len(errors)} problem(s).",
            errors,
        )
    return FixedHeader(columns=names, known=known, keyed=keyed)


def refusal(line: int, exc: DomainError, column_of: Callable[[str | None], str | None] | None) -> list[RowError]:
    """What the API refused when a row was applied, as the row's errors: each field error it listed, else the
    refusal itself (its problem code: `category-cycle`, `attribute-in-use`, …); `column_of` names a CSV's column."""
    if not exc.errors:
        return [RowError(line=line, pointer="", column=None, code=exc.code, message=exc.detail)]
    return [
        RowError(
            line=line,
            pointer=e.pointer,
            column=column_of(e.pointer) if column_of else None,
            code=e.code,
            message=e.message,
        )
        for e in exc.errors
    ]
