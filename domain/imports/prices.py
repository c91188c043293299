"""Price files: a row is the body of `POST /v1/skus/{sku}/prices` with the SKU's code in it (`sku`, `kind`,
`amount`, `currency`, `valid_from`, `valid_to`), checked by the price API's rules — the amount in the
currency's decimals, `valid_to` after `valid_from`, cost and distribution prices only for the roles that see
them. What depends on the clock and on other periods (a start in the past, an overlap, the open-ended current
period a new price closes) is checked set-based when the import runs (`update_price_import_rows`). A row
identical to a stored period changes nothing: an export imports back unchanged.

CSV columns: `sku`, `kind`, `amount`, `currency`, `valid_from`, `valid_to` (RFC 3339 moments with their
offset; an empty cell is none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from domain.errors import FieldError, field_error
from domain.imports.model import InvalidUpload, RowFault, fault, upload_error
from domain.imports.rows import Staged, rejected
from domain.keys.model import Principal
from domain.money import Money, money, money_errors
from domain.prices.model import CONFIDENTIAL_KINDS, PriceCreate
from domain.types import SkuCode
from domain.validation import collect

COLUMNS = ("sku", "kind", "amount", "currency", "valid_from", "valid_to")
REQUIRED = ("sku", "kind", "amount", "currency")


class PriceRow(PriceCreate, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One row of a price file: the body of POST /v1/skus/{sku}/prices and the SKU's code."""

    sku: SkuCode


@dataclass(slots=True)
class PriceRows:
    """Checks the rows of one price upload by the price API's rules, for the key that uploads it."""

    actor: Principal

    def check(self, line: int, value: Any, fields: PriceRow | None) -> tuple[Staged, list[FieldError]]:
        """Check one row given as JSON builtins (and, when it converted at once, as the typed body)."""
        if fields is None:
            try:
                fields = msgspec.convert(value, PriceRow)
            except msgspec.ValidationError:
                errors = collect(value, PriceRow) if isinstance(value, dict) else []
                if not errors:
                    errors = [FieldError(pointer="", code="not_an_object", message="A row is one JSON object.")]
                return rejected(line, None), errors
        if fields.kind in CONFIDENTIAL_KINDS and not self.actor.sees_confidential:
            message = (
                f"{fields.kind.capitalize()} prices are written by the finance or purchasing role; "
                f"the key has {', '.join(sorted(self.actor.roles))}."
            )
            return rejected(line, fields.sku), [field_error("/kind", "forbidden", message)]
        errors = money_errors(Money(amount=fields.amount, currency=fields.currency), "")
        if fields.valid_from is not None and fields.valid_to is not None and fields.valid_to <= fields.valid_from:
            errors.append(field_error("/valid_to", "before_valid_from", "`valid_to` must be after `valid_from`."))
        if errors:
            return rejected(line, fields.sku), errors
        doc = {
            "kind": fields.kind,
            "amount": money(Decimal(fields.amount), fields.currency).amount,
            "currency": fields.currency,
            "valid_from": fields.valid_from,
            "valid_to": fields.valid_to,
        }
        return (line, fields.sku, True, None, None, None, None, None, msgspec.json.encode(doc).decode()), []

    async def jsonl(self, line: int, raw: bytes) -> tuple[Staged, list[RowFault]]:
        """Check one JSON Lines row (already known to be whole, UTF-8 and within the limits)."""
        try:
            fields: PriceRow | None = msgspec.json.decode(raw, type=PriceRow)
            value: Any = None
        except msgspec.ValidationError:
            fields, value = None, msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return rejected(line, None), [
                RowFault(pointer="", column=None, code="malformed_json", message="This line is not valid JSON.")
            ]
        staged, errors = self.check(line, value, fields)
        return staged, [fault(e) for e in errors]

    def header(self, cells: list[str]) -> PriceHeader:
        return read_header(cells)

    async def csv(self, header: PriceHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as an API body."""
        body = {name: cell for name, cell in zip(header.columns, cells, strict=True) if cell != ""}
        staged, errors = self.check(line, body, None)
        return staged, [
            RowFault(pointer=e.pointer, column=header.column_of(e.pointer), code=e.code, message=e.message)
            for e in errors
        ]


@dataclass(frozen=True, slots=True)
class PriceHeader:
    """A price CSV's header, checked: its columns in order."""

    columns: list[str]

    @property
    def width(self) -> int:
        return len(self.columns)

    def column_of(self, pointer: str | None) -> str | None:
        head = (pointer or "").lstrip("/").split("/")[0]
        return head if head in COLUMNS else None


def read_header(cells: list[str]) -> PriceHeader:
    """Check a price CSV's header: every column known, none twice, the required ones present; else the whole
    upload is refused, naming every bad column."""
    names = [c.strip() for c in cells]
    errors = [
        upload_error(1, n or "(empty)", "unknown_column", f"{n!r} is not a column merchflow knows.")
        for n in names
        if n not in COLUMNS
    ]
    errors += [
        upload_error(1, n, "duplicate_column", f"The column {n!r} is in the header twice.")
        for i, n in enumerate(names)
        if n in names[:i]
    ]
    errors += [
        upload_error(1, n, "missing_column", f"The header has no {n!r} column.") for n in REQUIRED if n not in names
    ]
    if errors:
        raise InvalidUpload(
            "The first line of a CSV import of prices is its header, naming columns merchflow knows "
            f"({', '.join(COLUMNS)}): {len(errors)} problem(s).",
            errors,
        )
    return PriceHeader(columns=names)


def export_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored price period as an import row (the amount in its currency's decimals)."""
    return {**row, "amount": money(Decimal(row["amount"]), row["currency"]).amount}


def export_cells(row: Mapping[str, Any]) -> list[str]:
    """A price row as the cells of the export's header (moments in RFC 3339, UTC)."""
    return [
        ""
        if row[c] is None
        else (msgspec.json.encode(row[c]).decode().strip('"') if c.startswith("valid_") else row[c])
        for c in COLUMNS
    ]
