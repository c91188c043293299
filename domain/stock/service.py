"""The stock ledger: movements applied atomically and idempotently, levels per SKU and bin, pick lists."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.errors import (
    BadRequest,
    Conflict,
    FieldError,
    RuleViolation,
    ValidationFailed,
    pointer_join,
)
from domain.keys.model import Principal
from domain.money import money, money_errors
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.stock.model import (
    MAX_BATCH,
    LedgerEntry,
    Movement,
    MovementRequest,
    MovementsResult,
    StockAnswer,
    StockLevel,
    Totals,
)
from domain.types import Page

Q = load("stock")


def _line_errors(m: Movement, base: str) -> list[FieldError]:
    """The rules of each movement type that the shape alone does not say."""
    errors: list[FieldError] = []

    def err(field: str, code: str, message: str) -> None:
        errors.append(FieldError(pointer=pointer_join(base, field), code=code, message=message))

    if m.type == "adjust":
        if m.qty == 0:
            err("qty", "zero_quantity", "An adjustment moves at least one unit (negative to remove).")
        if m.reason is None:
            err("reason", "required", "An adjustment needs a reason.")
    elif m.type == "count":
        if m.qty < 0:
            err("qty", "out_of_range", "A count is the quantity counted: zero or more.")
    elif m.qty <= 0:
        err("qty", "out_of_range", f"A {m.type} moves a positive quantity.")
    if m.type == "transfer":
        if m.to_location is None:
            err("to_location", "required", "A transfer names the location it moves to.")
    elif m.to_location is not None or m.to_warehouse is not None:
        err(
            "to_location" if m.to_location is not None else "to_warehouse",
            "not_applicable",
            f"Only a transfer has a destination; this is a {m.type}.",
        )
    if m.unit_cost is not None:
        if m.type != "receive":
            err("unit_cost", "not_applicable", "Only a receipt carries a unit cost.")
        else:
            errors += money_errors(m.unit_cost, pointer_join(base, "unit_cost"), extra_decimals=4)
    if m.supplier is not None and m.type != "receive":
        err("supplier", "not_applicable", "Only a receipt names a supplier.")
    return errors


def movements_of(body: MovementRequest) -> list[Movement]:
    """The movements a request carries (one at the top level, or a batch), each checked against its type."""
    fields = {k: v for k, v in msgspec.structs.asdict(body).items() if k != "movements" and v is not msgspec.UNSET}
    if body.movements is not msgspec.UNSET:
        if fields:
            first = sorted(fields)[0]
            raise ValidationFailed(
                [
                    FieldError(
                        pointer=f"/{first}",
                        code="not_applicable",
                        message="Send either one movement or `movements`, not both.",
                    )
                ]
            )
        movements = body.movements
        if not movements:
            raise ValidationFailed([FieldError(pointer="/movements", code="too_short", message="No movements.")])
        if len(movements) > MAX_BATCH:
            raise ValidationFailed(
                [
                    FieldError(
                        pointer="/movements",
                        code="too_long",
                        message=f"At most {MAX_BATCH} movements per request; split the batch.",
                    )
                ]
            )
        base = "/movements"
    else:
        missing = [f for f in ("type", "sku", "qty", "warehouse", "location") if f not in fields]
        if missing:
            raise ValidationFailed(
                [FieldError(pointer=f"/{f}", code="required", message=f"`{f}` is required.") for f in missing]
            )
        movements = [msgspec.convert(fields, Movement, from_attributes=False)]
        base = ""
    errors: list[FieldError] = []
    for i, m in enumerate(movements):
        errors += _line_errors(m, pointer_join(base, i) if base else "")
    if errors:
        raise ValidationFailed(errors)
    return movements


def _fingerprint(movements: list[Movement]) -> bytes:
    return hashlib.sha256(msgspec.json.encode(movements)).digest()


def _raised(exc: asyncpg.PostgresError) -> dict[str, Any] | None:
    if exc.sqlstate in ("MF409", "MF422"):
        return msgspec.json.decode(str(exc.args[0] if exc.args else exc).encode())  # type: ignore[no-any-return]
    return None


async def post_movements(
    conn: asyncpg.Connection, actor: Principal, body: MovementRequest, idempotency_key: str | None
) -> MovementsResult:
    """Apply movements all or nothing; a retry with the same Idempotency-Key and body answers the first answer."""
    movements = movements_of(body)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise BadRequest("An Idempotency-Key has 1 to 200 characters.", code="invalid-idempotency-key")
    lines = [
        {
            **msgspec.to_builtins(m),
            **({"unit_cost": m.unit_cost.amount, "currency": m.unit_cost.currency} if m.unit_cost else {}),
        }
        for m in movements
    ]
    try:
        # One statement is its own transaction; inside a caller's transaction it gets a savepoint.
        async with conn.transaction() if conn.is_in_transaction() else contextlib.nullcontext():
            result = await conn.fetchval(
                Q.insert_movements.sql, actor.name, idempotency_key, _fingerprint(movements), lines
            )
    except asyncpg.PostgresError as exc:
        problem = _raised(exc)
        if problem is None:
            raise
        errors = [
            FieldError(pointer=e["pointer"], code=e["code"], message=e["message"]) for e in problem.pop("errors", [])
        ]
        code, detail = problem.pop("code"), problem.pop("detail")
        if exc.sqlstate == "MF409":
            raise Conflict(detail, code=code, **problem) from None
        raise RuleViolation(detail, code=code, errors=errors, **problem) from None
    return msgspec.convert(result, MovementsResult)


async def list_levels(
    conn: asyncpg.Connection,
    *,
    sku: str | None,
    warehouse: str | None,
    location: str | None,
    below: int | None,
    low: bool,
    include_empty: bool,
    limit: int,
    cursor: str | None,
) -> StockAnswer:
    """Stock per SKU and bin with on-hand, reserved and available, and the totals of the whole selection."""
    after = decode_cursor(cursor, (str, str, str))
    a = after or [None, None, None]
    rows = await conn.fetch(Q.list_levels.sql, sku, warehouse, location, below, low, include_empty, *a, limit + 1)
    items, next_cursor = split_page(
        [msgspec.convert(dict(r), StockLevel) for r in rows], limit, lambda x: [x.sku, x.warehouse, x.location]
    )
    t = await conn.fetchrow(Q.get_level_totals.sql, sku, warehouse, location, below, low)
    return StockAnswer(items=items, totals=msgspec.convert(dict(t), Totals), next_cursor=next_cursor)


async def list_movements(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    sku: str | None,
    warehouse: str | None,
    location: str | None,
    type: str | None,
    reference: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[LedgerEntry]:
    """The ledger, newest first; unit costs only for finance, purchasing and admin."""
    after = decode_cursor(cursor, (int,))
    rows = await conn.fetch(
        Q.list_movements.sql, sku, warehouse, location, type, reference, since, after[0] if after else None, limit + 1
    )
    show_cost = principal.sees_confidential
    entries = []
    for r in rows:
        data = dict(r)
        if not show_cost:
            data["unit_cost"] = None
        elif data["unit_cost"] is not None:
            cost = data["unit_cost"]
            data["unit_cost"] = money(Decimal(cost["amount"]), cost["currency"])
        entries.append(msgspec.convert(data, LedgerEntry))
    items, next_cursor = split_page(entries, limit, lambda e: [e.id])
    return Page(items=items, next_cursor=next_cursor)
