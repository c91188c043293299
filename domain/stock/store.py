"""The only place that runs the stock statements (sql/queries/stock.sql): the movements function, levels,
the ledger, pick-list candidates, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.errors import DomainError
from domain.money import money
from domain.sql import load
from domain.stock.model import (
    LedgerEntry,
    MovementsResult,
    PickCandidate,
    PickingWarehouse,
    StockLevel,
    Totals,
    refusal,
)

Q = load("stock")
INSERT_MOVEMENTS = Q.insert_movements.sql
LIST_LEVELS = Q.list_levels.sql
GET_LEVEL_TOTALS = Q.get_level_totals.sql
LIST_MOVEMENTS = Q.list_movements.sql
LIST_PICK_CANDIDATES = Q.list_pick_candidates.sql
GET_WAREHOUSE_FOR_PICKING = Q.get_warehouse_for_picking.sql
LIST_KNOWN_SKUS = Q.list_known_skus.sql
UPDATE_EXPIRED_REQUEST_KEYS = Q.update_expired_request_keys.sql

# merch_apply_requests refuses a request with one of these SQLSTATEs and a JSON message.
_REFUSED = ("MF409", "MF422")


class MovementsCall(msgspec.Struct, frozen=True):
    """One request of movements as the database applies it: who, its Idempotency-Key, the body's fingerprint,
    its lines."""

    actor: str
    idempotency_key: str | None
    fingerprint: bytes
    lines: list[dict[str, Any]]


class _Refused(msgspec.Struct, frozen=True):
    sqlstate: str
    message: str


class _Answer(msgspec.Struct, frozen=True, omit_defaults=True):
    response: MovementsResult | None = None
    refused: _Refused | None = None


async def insert_movements(conn: asyncpg.Connection, calls: list[MovementsCall]) -> list[MovementsResult | DomainError]:
    """Apply a batch of requests of movements in one round trip (merch_apply_requests): for each, in order, its
    result or the stock area's error refusing it (a batch of one raises it). Any other failure raises (nothing
    of the batch is written)."""
    try:
        answers = await conn.fetchval(
            INSERT_MOVEMENTS,
            [c.actor for c in calls],
            [c.idempotency_key for c in calls],
            [c.fingerprint for c in calls],
            [c.lines for c in calls],
        )
    except asyncpg.PostgresError as exc:
        # A batch of one raises its refusal (as the stock area's error).
        error = _refusal(exc.sqlstate, str(exc.args[0] if exc.args else exc)) if len(calls) == 1 else None
        if error is None:
            raise
        raise error from None
    results: list[MovementsResult | DomainError] = []
    for answer in msgspec.convert(answers, list[_Answer]):
        if answer.response is not None:
            results.append(answer.response)
        else:
            assert answer.refused is not None
            error = _refusal(answer.refused.sqlstate, answer.refused.message)
            if error is None:
                raise LookupError(f"unknown refusal of a movements request: {answer.refused.message}")
            results.append(error)
    return results


def _refusal(sqlstate: str | None, message: str) -> DomainError | None:
    if sqlstate not in _REFUSED:
        return None
    return refusal(msgspec.json.decode(message.encode()))


async def list_levels(
    conn: asyncpg.Connection,
    sku: str | None,
    warehouse: str | None,
    location: str | None,
    below: int | None,
    low: bool,
    include_empty: bool,
    after: list[Any] | None,
    limit: int,
) -> list[StockLevel]:
    a = after or [None, None, None]
    rows = await conn.fetch(LIST_LEVELS, sku, warehouse, location, below, low, include_empty, *a, limit)
    return [msgspec.convert(dict(r), StockLevel) for r in rows]


async def get_level_totals(
    conn: asyncpg.Connection, sku: str | None, warehouse: str | None, location: str | None, below: int | None, low: bool
) -> Totals:
    return msgspec.convert(dict(await conn.fetchrow(GET_LEVEL_TOTALS, sku, warehouse, location, below, low)), Totals)


async def list_movements(
    conn: asyncpg.Connection,
    sku: str | None,
    warehouse: str | None,
    location: str | None,
    type_: str | None,
    reference: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[LedgerEntry]:
    rows = await conn.fetch(LIST_MOVEMENTS, sku, warehouse, location, type_, reference, since, before_id, limit)
    entries = []
    for r in rows:
        data = dict(r)
        if data["unit_cost"] is not None:
            cost = data["unit_cost"]
            data["unit_cost"] = money(Decimal(cost["amount"]), cost["currency"])
        if data["refund"] is not None:
            refund = data["refund"]
            data["refund"] = money(Decimal(refund["amount"]), refund["currency"])
        entries.append(msgspec.convert(data, LedgerEntry))
    return entries


async def get_warehouse_for_picking(conn: asyncpg.Connection, code: str) -> PickingWarehouse | None:
    row = await conn.fetchrow(GET_WAREHOUSE_FOR_PICKING, code)
    return None if row is None else msgspec.convert(dict(row), PickingWarehouse)


async def list_known_skus(conn: asyncpg.Connection, skus: list[str]) -> set[str]:
    return {r["sku"] for r in await conn.fetch(LIST_KNOWN_SKUS, skus)}


async def list_pick_candidates(
    conn: asyncpg.Connection, warehouse_id: int, skus: list[str], include_reserved: bool
) -> list[PickCandidate]:
    """The bins holding each SKU, per SKU in walk order."""
    rows = await conn.fetch(LIST_PICK_CANDIDATES, warehouse_id, skus, include_reserved)
    return [msgspec.convert(dict(r), PickCandidate) for r in rows]


async def update_expired_request_keys(conn: asyncpg.Connection, hours: int) -> None:
    await conn.execute(UPDATE_EXPIRED_REQUEST_KEYS, hours)
