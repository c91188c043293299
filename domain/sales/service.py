"""Sales facts: uploads checked row by row (every bad row named at once), applied all or nothing as one
set-based upsert by (day, SKU, channel) (the refresh point moves the monthly rollup and the per-SKU totals
before the transaction commits), idempotent under an Idempotency-Key; and their keyset listing."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import asyncpg
import msgspec

from domain.errors import FieldError, IdempotencyKeyReused, InvalidIdempotencyKey, ValidationFailed, param_error
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sales import store
from domain.sales.model import SalesFact, SalesFactPage, SalesResult, parse_upload


def _fingerprint(facts: list[SalesFact]) -> bytes:
    return hashlib.sha256(msgspec.json.encode(facts)).digest()


async def post_sales(
    conn: asyncpg.Connection, actor: Principal, raw: bytes, media_type: str, idempotency_key: str | None
) -> SalesResult:
    """Upsert daily facts all or nothing; a retry with the same Idempotency-Key and body gets the first answer."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidIdempotencyKey()
    located = parse_upload(raw, media_type)
    facts = [f for _, f in located]
    fingerprint = _fingerprint(facts)
    async with conn.transaction():
        if idempotency_key is not None:
            await store.lock_sales_request(conn, actor.name, idempotency_key)
            prior = await store.get_sales_request(conn, actor.name, idempotency_key)
            if prior is not None:
                if prior.request_hash != fingerprint:
                    raise IdempotencyKeyReused()
                return prior.response
        ids = await store.list_sku_ids(conn, sorted({f.sku for f in facts}))
        unknown = [
            FieldError(pointer=f"{base}/sku", code="unknown_sku", message=f"No SKU is {f.sku}.")
            for base, f in located
            if f.sku not in ids
        ]
        if unknown:
            raise ValidationFailed(unknown)
        result = await store.upsert_sales_facts(
            conn,
            [f.day for f in facts],
            [ids[f.sku] for f in facts],
            [f.channel for f in facts],
            [f.qty for f in facts],
            [Decimal(f.revenue.amount) for f in facts],
            [f.revenue.currency for f in facts],
        )
        if idempotency_key is not None:
            await store.insert_sales_request(conn, actor.name, idempotency_key, fingerprint, result)
        return result


async def list_sales(
    conn: asyncpg.Connection,
    *,
    sku: str | None,
    channel: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    cursor: str | None,
) -> SalesFactPage:
    """Facts in (day, SKU, channel) order, one keyset page at a time."""
    after = decode_cursor(cursor, (str, str, str))
    try:
        a = [date.fromisoformat(after[0]), after[1], after[2]] if after else [None, None, None]
    except ValueError:
        raise param_error("cursor", "invalid_cursor", "The cursor is not one this list handed out.") from None
    rows = await store.list_sales_facts(conn, sku, channel, since, until, a, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda f: [f.day.isoformat(), f.sku, f.channel])
    return SalesFactPage(items=items, next_cursor=next_cursor)


async def forget_old_requests(conn: asyncpg.Connection, hours: int) -> None:
    """Forget sales uploads' idempotency keys (and their answers) older than `hours`."""
    async with conn.transaction():
        await store.delete_expired_sales_requests(conn, hours)
