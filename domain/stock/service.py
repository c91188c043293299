"""The stock ledger: movements applied atomically and idempotently, levels per SKU and bin, the ledger's
listing, and forgetting old idempotency keys. (Pick lists: picking.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import deque
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import asyncpg
import msgspec

from domain.errors import DomainError, InvalidIdempotencyKey, param_error
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.prices.model import parse_moment
from domain.stock import store
from domain.stock.model import (
    MOVEMENT_TYPES,
    LedgerPage,
    MovementRequest,
    MovementsResult,
    StockAnswer,
    movements_of,
)


def _call(actor: Principal, body: MovementRequest, idempotency_key: str | None) -> store.MovementsCall:
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
    fingerprint = hashlib.sha256(msgspec.json.encode(movements)).digest()
    return store.MovementsCall(actor.name, idempotency_key, fingerprint, lines)


def _outcome(outcome: MovementsResult | DomainError) -> MovementsResult:
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def _apply(conn: asyncpg.Connection, calls: list[store.MovementsCall]) -> list[MovementsResult | DomainError]:
    # One statement is its own transaction; inside a caller's transaction it gets a savepoint.
    try:
        async with conn.transaction() if conn.is_in_transaction() else contextlib.nullcontext():
            return await store.insert_movements(conn, calls)
    except DomainError as error:
        if len(calls) > 1:
            raise
        return [error]


async def post_movements(
    conn: asyncpg.Connection, actor: Principal, body: MovementRequest, idempotency_key: str | None
) -> MovementsResult:
    """Apply movements all or nothing; a retry with the same Idempotency-Key and body answers the first answer."""
    (outcome,) = await _apply(conn, [_call(actor, body, idempotency_key)])
    return _outcome(outcome)


# Failures after which a transaction can simply run again: a deadlock, a serialization failure.
_TRANSIENT = ("40P01", "40001")
_ATTEMPTS = 3

# A request waiting for its batch, and where its outcome goes.
_Pending = tuple[store.MovementsCall, "asyncio.Future[MovementsResult | DomainError]"]


def _fail(batch: list[_Pending], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)


class Pool(Protocol):
    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...


class MovementWriter:
    """Group commit of movement requests: what arrives while the database is busy is applied together, in one
    round trip and one transaction (merch_apply_requests), each request all or nothing on its own. A request
    that finds a slot free goes at once, alone: grouping adds no wait. At most `in_flight` batches run at a
    time, each of at most `max_requests` requests and (unless one request is larger) `max_lines` lines.
    When a batch fails as a whole (a deadlock, a lost connection), each of its requests is applied alone and
    answered with its own outcome."""

    def __init__(self, pool: Pool, *, in_flight: int = 2, max_requests: int = 32, max_lines: int = 1000) -> None:
        self.pool = pool
        self.in_flight = in_flight
        self.max_requests = max_requests
        self.max_lines = max_lines
        self._pending: deque[_Pending] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.requests = 0

    async def post(self, actor: Principal, body: MovementRequest, idempotency_key: str | None) -> MovementsResult:
        """As post_movements, in the next batch."""
        future: asyncio.Future[MovementsResult | DomainError] = asyncio.get_running_loop().create_future()
        self._pending.append((_call(actor, body, idempotency_key), future))
        if self._running < self.in_flight:
            self._running += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return _outcome(await future)

    async def wait_idle(self) -> None:
        """Return when every batch started has been applied (before the pool closes)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._pending:
                await self._run(self._take())
        finally:
            self._running -= 1

    def _take(self) -> list[_Pending]:
        batch = [self._pending.popleft()]
        lines = len(batch[0][0].lines)
        while self._pending and len(batch) < self.max_requests:
            size = len(self._pending[0][0].lines)
            if lines + size > self.max_lines:
                break
            batch.append(self._pending.popleft())
            lines += size
        return batch

    async def _run(self, batch: list[_Pending], attempt: int = 1) -> None:
        self.batches += 1
        self.requests += len(batch)
        try:
            async with self.pool.acquire() as conn:
                outcomes = await _apply(conn, [call for call, _ in batch])
        except asyncpg.PostgresError as exc:
            # The server refused the batch as a whole, so nothing of it is written: each request alone (and
            # a request alone again, a few times, after a deadlock or a serialization failure).
            if len(batch) > 1:
                for item in batch:
                    await self._run([item])
            elif exc.sqlstate in _TRANSIENT and attempt < _ATTEMPTS:
                await self._run(batch, attempt + 1)
            else:
                _fail(batch, exc)
            return
        except Exception as exc:
            # Whether the batch was written is unknown (a connection lost): each request gets the error.
            _fail(batch, exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


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
    since: str | None,
    limit: int,
    cursor: str | None,
) -> LedgerPage:
    """The ledger, newest first; unit costs only for finance, purchasing and admin. `since` is an RFC 3339
    moment with an offset."""
    moment = parse_moment(since, "since")
    if type is not None and type not in MOVEMENT_TYPES:
        raise param_error("type", "invalid_choice", f"`type` is one of {', '.join(MOVEMENT_TYPES)}.")
    after = decode_cursor(cursor, (int,))
    entries = await store.list_movements(
        conn, sku, warehouse, location, type, reference, moment, after[0] if after else None, limit + 1
    )
    if not principal.sees_confidential:
        entries = [msgspec.structs.replace(e, unit_cost=None) for e in entries]
    items, next_cursor = split_page(entries, limit, lambda e: [e.id])
    return LedgerPage(items=items, next_cursor=next_cursor)


async def forget_old_request_keys(conn: asyncpg.Connection, hours: int) -> None:
    """Forget the idempotency keys of movement requests older than `hours` (the requests and the ledger stay)."""
    async with conn.transaction():
        await store.update_expired_request_keys(conn, hours)
