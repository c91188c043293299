"""SKU files: a row is the body of `PUT /v1/skus/{sku}` with the SKU's code in it (`SkuCreate`: `sku`,
`product`, `barcode`, `axes`, `attributes`), checked by the SKU API's rules — the barcode's GTIN check digit,
axes and overrides against the product's attribute set. What depends on other SKUs (a barcode or axes
taken, a SKU moved to another product) is checked set-based when the import runs (`insert_sku_conflict_errors`).

CSV columns: `sku`, `product`, `barcode`; one column per axis, `axis:<code>`, and per override,
`attr:<code>` — values written as in a product file (`axis:<code>[<unit>]` for a measurement's number alone).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from domain.attributes.values import AttributeDef
from domain.errors import FieldError, ValidationFailed, field_error
from domain.imports import store
from domain.imports.formats import Column, Header, attribute_column, place_values
from domain.imports.model import InvalidUpload, RowFault, upload_error
from domain.imports.rows import Catalog, Staged, checked_line_async, conversion_errors, named, rejected
from domain.skus.model import SkuCreate, SkuOwner, checked

FIXED = ("sku", "product", "barcode")
_SKU_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
OWNERS_KEPT = 10_000  # product lookups remembered per upload (a file lists a product's SKUs together)


@dataclass(slots=True)
class SkuRows:
    """Checks the rows of one SKU upload: the catalog's attributes and sets, and the products rows name."""

    conn: asyncpg.Connection
    catalog: Catalog
    owners: dict[str, SkuOwner | None]

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> SkuRows:
        return cls(conn=conn, catalog=await Catalog.load(conn), owners={})

    async def _owner(self, product: str) -> SkuOwner | None:
        if product not in self.owners:
            if len(self.owners) >= OWNERS_KEPT:
                self.owners.clear()
            found = await store.list_sku_owners(self.conn, [product])
            self.owners[product] = found[0] if found else None
        return self.owners[product]

    async def check(self, line: int, value: Any, fields: SkuCreate | None) -> tuple[Staged, list[FieldError]]:
        """Check one row given as JSON builtins (and, when it converted at once, as the typed body)."""
        if fields is None:
            try:
                fields = msgspec.convert(value, SkuCreate)
            except msgspec.ValidationError:
                return rejected(line, named(value, "sku", _SKU_CODE)), conversion_errors(value, SkuCreate)
        if fields.product is not None:
            owner = await self._owner(fields.product)
            if owner is None:
                message = f"No product has the code {fields.product!r}."
                return rejected(line, fields.sku), [field_error("/product", "unknown_product", message)]
        else:
            owner = await store.get_sku_owner(self.conn, fields.sku)
            if owner is None:
                message = "`product` is required to create a SKU."
                return rejected(line, fields.sku), [field_error("/product", "required", message)]
        try:
            values = checked(owner, fields, await self.catalog.definitions(self.conn, owner.category_id), [])
        except ValidationFailed as exc:
            return rejected(line, fields.sku), exc.errors
        return (line, fields.sku, True, None, None, None, None, None, msgspec.json.encode(values).decode()), []

    async def jsonl(self, line: int, raw: bytes) -> tuple[Staged, list[RowFault]]:
        """Check one JSON Lines row (already known to be whole, UTF-8 and within the limits)."""
        return await checked_line_async(line, raw, SkuCreate, self.check)

    def header(self, cells: list[str]) -> SkuHeader:
        return read_header(cells, self.catalog.attributes)

    async def csv(self, header: SkuHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as an API body."""
        body, sources = header.row(cells)
        staged, errors = await self.check(line, body, None)
        return staged, [
            RowFault(pointer=e.pointer, column=header.column_of(e.pointer, sources), code=e.code, message=e.message)
            for e in errors
        ]


@dataclass(slots=True)
class SkuHeader:
    """A SKU CSV's header, checked: its columns in order."""

    columns: list[Column]
    values: Header  # reads an attribute's cell by its type, as a product file does

    def row(self, cells: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
        """A row as an API body and, per `axes/<code>` or `attributes/<code>`, its column."""
        body: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for col, cell in zip(self.columns, cells, strict=True):
            if cell == "":
                continue
            if col.key is None:
                body[col.field] = cell
            else:
                body.setdefault(col.field, {})[col.key] = self.values.value(col, cell)
                sources[f"{col.field}/{col.key}"] = col.name
        return body, sources

    def column_of(self, pointer: str | None, sources: Mapping[str, str]) -> str | None:
        """The column an error's JSON pointer points at."""
        if not pointer:
            return None
        parts = pointer.lstrip("/").split("/")
        if parts[0] in ("axes", "attributes") and len(parts) > 1:
            prefix = "axis" if parts[0] == "axes" else "attr"
            return sources.get(f"{parts[0]}/{parts[1]}", f"{prefix}:{parts[1]}")
        return parts[0] if parts[0] in FIXED else None

    @property
    def width(self) -> int:
        return len(self.columns)


def read_header(cells: list[str], attributes: Mapping[str, AttributeDef]) -> SkuHeader:
    """Check a SKU CSV's header: every column known, none twice, `sku` present; else the whole upload is
    refused, naming every bad column."""
    errors: list[FieldError] = []
    columns: list[Column] = []
    seen: set[str] = set()
    for raw in cells:
        name = raw.strip()
        col: Column | FieldError | None
        if name in FIXED:
            col = Column(name=name, field=name)
        elif name.startswith("axis:"):
            col = attribute_column(name, attributes, "axes", "axis:")
        else:
            col = attribute_column(name, attributes, "attributes")
        if col is None:
            col = upload_error(1, name or "(empty)", "unknown_column", f"{name!r} is not a column merchflow knows.")
        if isinstance(col, FieldError):
            errors.append(col)
            continue
        if name in seen:
            errors.append(upload_error(1, name, "duplicate_column", f"The column {name!r} is in the header twice."))
        seen.add(name)
        columns.append(col)
    if "sku" not in seen:
        errors.append(upload_error(1, "sku", "missing_column", "The header has no 'sku' column."))
    if errors:
        raise InvalidUpload(
            "The first line of a CSV import of SKUs is its header, naming columns merchflow knows "
            f"(sku, product, barcode, axis:<attribute>, attr:<attribute>): {len(errors)} problem(s).",
            errors,
        )
    return SkuHeader(columns=columns, values=Header(columns=columns, attributes=attributes))


def export_header(axes: list[str], attributes: list[str]) -> list[str]:
    """The header of a CSV export of SKUs: the fixed fields, then one column per axis and per override."""
    return [*FIXED, *(f"axis:{code}" for code in axes), *(f"attr:{code}" for code in attributes)]


def export_cells(header: list[str]) -> Callable[[Mapping[str, Any]], list[str]]:
    """A SKU (as an import row takes it) as the cells of an export's `header`, the header read once (as for
    products: a row costs its own axes and overrides, not a pass over every column)."""
    width = len(header)
    fixed = [(at, name) for at, name in enumerate(header) if not name.startswith(("axis:", "attr:"))]
    axes = {name[5:]: at for at, name in enumerate(header) if name.startswith("axis:")}
    overrides = {name[5:]: at for at, name in enumerate(header) if name.startswith("attr:")}

    def cells(sku: Mapping[str, Any]) -> list[str]:
        out = [""] * width
        for at, name in fixed:
            out[at] = sku[name] or ""
        place_values(out, sku["axes"], axes)
        place_values(out, sku["attributes"], overrides)
        return out

    return cells
