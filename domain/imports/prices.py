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
from domain.imports.model import FixedHeader, RowFault, read_fixed_header
from domain.imports.rows import Staged, checked_line, conversion_errors, rejected
from domain.keys.model import Principal
from domain.money import Money, money, money_errors
from domain.prices.model import CONFIDENTIAL_KINDS, PriceCreate
from domain.types import SkuCode

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
                return rejected(line, None), conversion_errors(value, PriceRow)
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
        return checked_line(line, raw, PriceRow, self.check)

    def header(self, cells: list[str]) -> FixedHeader:
        return read_header(cells)

    async def csv(self, header: FixedHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as an API body."""
        body = {name: cell for name, cell in zip(header.columns, cells, strict=True) if cell != ""}
        staged, errors = self.check(line, body, None)
        return staged, header.faults(errors)


def read_header(cells: list[str]) -> FixedHeader:
    return read_fixed_header(cells, COLUMNS, REQUIRED, "prices")


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
