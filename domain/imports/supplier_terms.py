"""Supplier terms files: a row is the body of `POST /v1/products/{code}/suppliers` with the product's code
(`product`, `supplier`, `purchase_price`, `moq`, `lead_time_days`, `preferred`), upserted by (product, supplier)
as `PUT /v1/products/{code}/suppliers/{supplier}` does. Terms are confidential: imported by the roles that write
them (purchasing, admin), exported to the roles that read them (purchasing, finance, admin). What the terms API
checks of a body — the product and the supplier known, the purchase price in its currency's decimals — is
checked as the file streams in; when the import runs, each row goes through the API's own use case (in a
savepoint of its own: the product's lock, one preferred supplier per product — a row made preferred takes the
flag from the product's other supplier, as the API does, with its own audit record — and nothing written when
the terms are the same). Completeness follows through the refresh point, chunk by chunk.

CSV columns: `product`, `supplier`, `purchase_price` (the amount), `currency`, `moq`, `lead_time_days`,
`preferred` (`true` / `false`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.errors import DomainError, FieldError, Forbidden, field_error
from domain.imports import store
from domain.imports.formats import integer_cell
from domain.imports.model import FixedHeader, ImportRun, RowError, RowFault, faults, read_fixed_header, refusal
from domain.imports.rows import Staged, checked_line_async, conversion_errors, named, rejected, rows_to_apply
from domain.keys.model import Principal
from domain.money import money
from domain.products.model import ProductNotFound
from domain.suppliers import terms
from domain.suppliers.model import SupplierNotFound, TermsCreate, TermsFields, price_errors, ref
from domain.types import Code

COLUMNS = ("product", "supplier", "purchase_price", "currency", "moq", "lead_time_days", "preferred")
REQUIRED = ("product", "supplier", "purchase_price", "currency")
READERS = frozenset({"purchasing", "finance"})  # (and admin) — GET /v1/products/{code}/suppliers


class TermsRow(TermsCreate, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One row of a supplier terms file: the body of POST /v1/products/{code}/suppliers and the product."""

    product: Code


def check_reader(viewer: Principal) -> None:
    """Supplier terms are exported to the roles that read them through the API, no other."""
    if not viewer.has_any(READERS):
        raise Forbidden("Supplier terms are confidential: purchasing, finance and admin read them.")


PRODUCTS_KEPT = 10_000  # product lookups remembered per upload (a file lists a product's terms together)


@dataclass(slots=True)
class TermsRows:
    """Checks the rows of one supplier terms upload: the suppliers (read once) and the products (looked up as
    rows name them, the recent ones remembered) they name."""

    conn: asyncpg.Connection
    suppliers: set[str]
    products: dict[str, bool]

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> TermsRows:
        return cls(conn=conn, suppliers=await store.list_supplier_codes(conn), products={})

    async def _known(self, product: str) -> bool:
        if product not in self.products:
            if len(self.products) >= PRODUCTS_KEPT:
                self.products.clear()
            self.products[product] = await store.is_product(self.conn, product)
        return self.products[product]

    async def check(self, line: int, value: Any, fields: TermsRow | None) -> tuple[Staged, list[FieldError]]:
        """Check one row given as JSON builtins (and, when it converted at once, as the typed body)."""
        if fields is None:
            try:
                fields = msgspec.convert(value, TermsRow)
            except msgspec.ValidationError:
                product, supplier = named(value, "product"), named(value, "supplier")
                code = ref(product, supplier) if product and supplier else None
                return rejected(line, code), conversion_errors(value, TermsRow)
        errors: list[FieldError] = []
        if not await self._known(fields.product):
            missing: DomainError = ProductNotFound(fields.product)
            errors.append(field_error("/product", missing.code, missing.detail))
        if fields.supplier not in self.suppliers:
            missing = SupplierNotFound(fields.supplier)
            errors.append(field_error("/supplier", missing.code, missing.detail))
        errors += price_errors(fields)
        code = ref(fields.product, fields.supplier)
        if errors:
            return rejected(line, code), errors
        return (line, code, True, None, None, None, None, None, msgspec.json.encode(fields).decode()), []

    async def jsonl(self, line: int, raw: bytes) -> tuple[Staged, list[RowFault]]:
        return await checked_line_async(line, raw, TermsRow, self.check)

    def header(self, cells: list[str]) -> FixedHeader:
        return read_fixed_header(cells, COLUMNS, REQUIRED, "supplier terms")

    async def csv(self, header: FixedHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as an API body."""
        body = header.cells(cells)
        price = {k: body.pop(c) for k, c in (("amount", "purchase_price"), ("currency", "currency")) if c in body}
        if price:
            body["purchase_price"] = price
        for name in ("moq", "lead_time_days"):
            if name in body:
                body[name] = integer_cell(body[name])
        if "preferred" in body:
            body["preferred"] = {"true": True, "false": False}.get(body["preferred"].lower(), body["preferred"])
        staged, errors = await self.check(line, body, None)
        return staged, faults(errors, column_of)


def column_of(pointer: str | None) -> str | None:
    """The CSV column an error's JSON pointer points at (`/purchase_price/currency`: `currency`)."""
    if (pointer or "").startswith("/purchase_price/currency"):
        return "currency"
    head = (pointer or "").lstrip("/").split("/")[0]
    return head if head in COLUMNS else None


async def apply(conn: asyncpg.Connection, run: ImportRun, low: int, high: int) -> tuple[int, int, list[RowError]]:
    """Apply the good rows with lines in [low, high), in line order, each through the terms API's upsert (in a
    savepoint of its own); then the derived data of their products, through the refresh point. Answers (rows
    applied, rows unchanged, rows refused)."""
    actor, found = await rows_to_apply(conn, run, low, high, TermsRow)
    before = await store.list_terms_versions(conn, [row.product for _, row in found])
    applied = unchanged = 0
    refused: list[RowError] = []
    for line, row in found:
        fields = TermsFields(**{f: getattr(row, f) for f in TermsFields.__struct_fields__})
        try:
            written, created = await terms.put_terms(conn, actor, row.product, row.supplier, fields, None)
        except DomainError as exc:
            refused += refusal(line, exc, None if run.format == "jsonl" else column_of)
            continue
        if not created and written.version == before.get(ref(row.product, row.supplier)):
            unchanged += 1
        else:
            applied += 1
    await store.update_refresh_pending(conn)
    return applied, unchanged, refused


def export_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Stored terms as an import row (the purchase price as the terms API writes it)."""
    return {
        "product": row["product"],
        "supplier": row["supplier"],
        "purchase_price": msgspec.to_builtins(money(Decimal(row["purchase_price"]), row["currency"])),
        "moq": row["moq"],
        "lead_time_days": row["lead_time_days"],
        "preferred": row["preferred"],
    }


def export_cells(row: Mapping[str, Any]) -> list[str]:
    """An import row of terms as the cells of the CSV's columns."""
    return [
        row["product"],
        row["supplier"],
        row["purchase_price"]["amount"],
        row["purchase_price"]["currency"],
        str(row["moq"]),
        str(row["lead_time_days"]),
        "true" if row["preferred"] else "false",
    ]
