"""The stock ledger: movements applied atomically and idempotently, levels per SKU and bin, the ledger's
listing, and forgetting old idempotency keys. (Pick lists: picking.py.)"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime

import asyncpg
import msgspec

from domain.errors import InvalidIdempotencyKey
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.stock import store
from domain.stock.model import LedgerPage, Movement, MovementRequest, MovementsResult, StockAnswer, movements_of


def _fingerprint(movements: list[Movement]) -> bytes:
    return hashlib.sha256(msgspec.json.encode(movements)).digest()


async def post_movements(
    conn: asyncpg.Connection, actor: Principal, body: MovementRequest, idempotency_key: str | None
) -> MovementsResult:
    """Apply movements all or nothing; a retry with the same Idempotency-Key and body answers the first answer."""
    movements = movements_of(body)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidIdempotencyKey()
    lines = [
        {
            **msgspec.to_builtins(m),
            **({"unit_cost": m.unit_cost.amount, "currency": m.unit_cost.currency} if m.unit_cost else {}),
        }
        for m in movements
    ]
    # One statement (the database function does the work: one round trip) is its own transaction; inside a
    # caller's transaction it gets a savepoint.
    async with conn.transaction() if conn.is_in_transaction() else contextlib.nullcontext():
        return await store.insert_movements(conn, actor.name, idempotency_key, _fingerprint(movements), lines)


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
    rows = await store.list_levels(conn, sku, warehouse, location, below, low, include_empty, after, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda x: [x.sku, x.warehouse, x.location])
    totals = await store.get_level_totals(conn, sku, warehouse, location, below, low)
    return StockAnswer(items=items, totals=totals, next_cursor=next_cursor)


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
) -> LedgerPage:
    """The ledger, newest first; unit costs only for finance, purchasing and admin."""
    after = decode_cursor(cursor, (int,))
    entries = await store.list_movements(
        conn, sku, warehouse, location, type, reference, since, after[0] if after else None, limit + 1
    )
    if not principal.sees_confidential:
        entries = [msgspec.structs.replace(e, unit_cost=None) for e in entries]
    items, next_cursor = split_page(entries, limit, lambda e: [e.id])
    return LedgerPage(items=items, next_cursor=next_cursor)


async def forget_old_request_keys(conn: asyncpg.Connection, hours: int) -> None:
    """Forget the idempotency keys of movement requests older than `hours` (the requests and the ledger stay)."""
    async with conn.transaction():
        await store.update_expired_request_keys(conn, hours)
