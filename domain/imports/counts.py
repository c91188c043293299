"""Stock count files: a row is one `count` movement of `POST /v1/stock/movements` — `sku`, `warehouse`,
`location`, `qty` (the units counted), optionally `reference` and `reason` — checked by the movement's rules
as it streams in, then applied through the ledger itself (`merch_apply_requests`, a chunk of rows a call),
each row a request of its own with the Idempotency-Key `import:<id>:<line>`: what the ledger refuses
(an unknown bin or SKU, a count below what is reserved) is named on its row, and a run that stops and
starts again never counts a row twice.

CSV columns: `sku`, `warehouse`, `location`, `qty`, `reference`, `reason`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from domain.errors import FieldError, field_error
from domain.imports.formats import integer_cell
from domain.imports.model import FixedHeader, RowError, RowFault, read_fixed_header
from domain.imports.rows import Staged, checked_line, conversion_errors, rejected
from domain.stock.model import Note, Quantity
from domain.types import Code, SkuCode
from domain.warehouses.model import LocationCode

COLUMNS = ("sku", "warehouse", "location", "qty", "reference", "reason")
REQUIRED = ("sku", "warehouse", "location", "qty")
_MOVEMENT = re.compile(r"^/movements/\d+")


class CountRow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One row of a stock count file: a `count` movement (its `type` implied)."""

    sku: SkuCode
    warehouse: Code
    location: LocationCode
    qty: Quantity
    reference: Note | None = None
    reason: Note | None = None


@dataclass(slots=True)
class CountRows:
    """Checks the rows of one stock count upload by the movement's rules."""

    def check(self, line: int, value: Any, fields: CountRow | None) -> tuple[Staged, list[FieldError]]:
        if fields is None:
            try:
                fields = msgspec.convert(value, CountRow)
            except msgspec.ValidationError:
                return rejected(line, None), conversion_errors(value, CountRow)
        code = f"{fields.sku}@{fields.warehouse}/{fields.location}"
        if fields.qty < 0:
            return rejected(line, code), [
                field_error("/qty", "out_of_range", "A count is the quantity counted: zero or more.")
            ]
        movement = {"type": "count", **msgspec.to_builtins(fields)}
        movement = {k: v for k, v in movement.items() if v is not None}
        return (line, code, True, None, None, None, None, None, msgspec.json.encode(movement).decode()), []

    async def jsonl(self, line: int, raw: bytes) -> tuple[Staged, list[RowFault]]:
        return checked_line(line, raw, CountRow, self.check)

    def header(self, cells: list[str]) -> FixedHeader:
        return read_header(cells)

    async def csv(self, header: FixedHeader, line: int, cells: list[str]) -> tuple[Staged, list[RowFault]]:
        """Check one CSV record (as many cells as the header has columns, no NUL) as a movement."""
        body: dict[str, Any] = {}
        for name, cell in zip(header.columns, cells, strict=True):
            if cell != "":
                body[name] = integer_cell(cell) if name == "qty" else cell
        staged, errors = self.check(line, body, None)
        return staged, header.faults(errors)


def read_header(cells: list[str]) -> FixedHeader:
    return read_fixed_header(cells, COLUMNS, REQUIRED, "stock counts")


def request(job_id: int, line: int, movement: dict[str, Any]) -> tuple[str, bytes, list[dict[str, Any]]]:
    """A row as a request of the ledger: its Idempotency-Key, its fingerprint, its one line."""
    return f"import:{job_id}:{line}", hashlib.sha256(msgspec.json.encode(movement)).digest(), [movement]


def refused(line: int, problem: dict[str, Any], csv: bool) -> list[RowError]:
    """What the ledger said refusing a row, as its errors: each field error it listed (its pointer moved from
    the request's `/movements/0/…` to the row's), else the refusal itself."""
    listed = problem.get("errors") or []
    if not listed:
        return [RowError(line=line, pointer="", column=None, code=problem["code"], message=problem["detail"])]
    errors = []
    for e in listed:
        pointer = _MOVEMENT.sub("", e["pointer"])
        column = pointer.lstrip("/").split("/")[0] if csv else None
        errors.append(RowError(line=line, pointer=pointer, column=column, code=e["code"], message=e["message"]))
    return errors


def export_row(level: dict[str, Any]) -> dict[str, Any]:
    """A stock level as a count row (what is on hand counted)."""
    return {"sku": level["sku"], "warehouse": level["warehouse"], "location": level["location"], "qty": level["qty"]}
