"""Sales facts: uploads checked row by row (every bad row named at once), applied all or nothing as one
set-based upsert by (day, SKU, channel) (the refresh point moves the monthly rollup and the per-SKU totals
before the transaction commits), idempotent under an Idempotency-Key; removals of the facts of some days
(optionally one SKU and one channel), audited per SKU with their reason; and their keyset listing."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import FieldError, IdempotencyKeyReused, InvalidIdempotencyKey, ValidationFailed, param_error
from domain.keys.model import Principal
from domain.money import money
from domain.paging import decode_cursor, split_page
from domain.sales import store
from domain.sales.model import (
    RemovedFact,
    SalesFact,
    SalesFactPage,
    SalesRemoval,
    SalesResult,
    days_of,
    parse_upload,
    removal_scope,
)
from domain.skus.model import SkuNotFound


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
            prior = await _replay(conn, actor, idempotency_key, fingerprint)
            if prior is not None:
                return msgspec.convert(prior, SalesResult)
        ids = await store.list_sku_ids(conn, sorted({f.sku for f in facts}))
        unknown = [
            FieldError(pointer=f"{base}/sku", code="unknown_sku", message=f"No SKU is {f.sku}.")
            for base, f in located
            if f.sku not in ids
        ]
        if unknown:
            raise ValidationFailed(unknown)
        try:
            # a savepoint: a fact re-sent below what came back of it (returns) is named, not a 500
            async with conn.transaction():
                result = await store.upsert_sales_facts(
                    conn,
                    [f.day for f in facts],
                    [ids[f.sku] for f in facts],
                    [f.channel for f in facts],
                    [f.qty for f in facts],
                    [Decimal(f.revenue.amount) for f in facts],
                    [f.revenue.currency for f in facts],
                )
        except asyncpg.CheckViolationError as exc:
            if exc.constraint_name not in store.RETURN_CHECKS:
                raise
            raise ValidationFailed(await _below_returns(conn, located, ids)) from None
        if idempotency_key is not None:
            await store.insert_sales_request(conn, actor.name, idempotency_key, fingerprint, result)
        return result


async def _below_returns(
    conn: asyncpg.Connection, located: list[tuple[str, SalesFact]], ids: dict[str, int]
) -> list[FieldError]:
    """The facts of an upload that say fewer units, or less revenue, than already came back of them."""
    returned = await store.list_returned_facts(
        conn, [f.day for _, f in located], [ids[f.sku] for _, f in located], [f.channel for _, f in located]
    )
    errors: list[FieldError] = []
    for base, f in located:
        units, refunded = returned.get((f.day, ids[f.sku], f.channel), (0, Decimal(0)))
        if f.qty < units:
            errors.append(
                FieldError(
                    pointer=f"{base}/qty",
                    code="below_returned",
                    message=f"{units} units of this sale came back (returns); it cannot say fewer were sold.",
                )
            )
        if Decimal(f.revenue.amount) < refunded:
            errors.append(
                FieldError(
                    pointer=f"{base}/revenue",
                    code="below_refunded",
                    message=f"{refunded.normalize():f} of this sale was refunded; it cannot say less was taken.",
                )
            )
    return errors


async def _replay(
    conn: asyncpg.Connection, actor: Principal, idempotency_key: str, fingerprint: bytes
) -> dict[str, Any] | None:
    """The first answer to this actor's request under the key (None: a first request), after taking the key's
    lock until the transaction ends; the key used with another request is a 422."""
    await store.lock_sales_request(conn, actor.name, idempotency_key)
    prior = await store.get_sales_request(conn, actor.name, idempotency_key)
    if prior is None:
        return None
    if prior.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return prior.response


async def remove_sales(
    conn: asyncpg.Connection,
    actor: Principal,
    *,
    day: date | None,
    since: date | None,
    until: date | None,
    sku: str | None,
    channel: str | None,
    reason: str | None,
    idempotency_key: str | None,
) -> SalesRemoval:
    """Remove the facts of some days (optionally of one SKU and one channel), all at once, with one audit
    record per SKU (its removed facts and the reason); a retry with the same Idempotency-Key and filters gets
    the first answer."""
    scope = removal_scope(day=day, since=since, until=until, sku=sku, channel=channel, reason=reason)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidIdempotencyKey()
    fingerprint = hashlib.sha256(b"remove\0" + msgspec.json.encode(scope)).digest()
    async with conn.transaction():
        if idempotency_key is not None:
            prior = await _replay(conn, actor, idempotency_key, fingerprint)
            if prior is not None:
                return msgspec.convert(prior, SalesRemoval)
        sku_id = None
        if scope.sku is not None:
            sku_id = (await store.list_sku_ids(conn, [scope.sku])).get(scope.sku)
            if sku_id is None:
                raise SkuNotFound(scope.sku)
        rows = await store.delete_sales_facts(conn, scope.since, scope.until, sku_id, scope.channel)
        by_sku: dict[str, list[RemovedFact]] = defaultdict(list)
        revenue: dict[str, Decimal] = defaultdict(Decimal)
        for r in sorted(rows, key=lambda r: (r["sku"], r["day"], r["channel"])):
            by_sku[r["sku"]].append(
                RemovedFact(
                    day=r["day"], channel=r["channel"], qty=r["qty"], revenue=money(r["revenue"], r["currency"])
                )
            )
            revenue[r["currency"]] += r["revenue"]
        if by_sku:
            await audit.record_many(
                conn,
                actor,
                "delete",
                "sales",
                {k: ({"facts": v}, None) for k, v in by_sku.items()},
                reason=scope.reason,
            )
        result = SalesRemoval(
            removed=len(rows),
            skus=len(by_sku),
            qty=sum(r["qty"] for r in rows),
            revenue=[money(revenue[c], c) for c in sorted(revenue)],
        )
        if idempotency_key is not None:
            await store.insert_sales_request(conn, actor.name, idempotency_key, fingerprint, result)
        return result


async def list_sales(
    conn: asyncpg.Connection,
    *,
    sku: str | None,
    channel: str | None,
    day: date | None,
    since: date | None,
    until: date | None,
    limit: int,
    cursor: str | None,
) -> SalesFactPage:
    """Facts in (day, SKU, channel) order, one keyset page at a time."""
    since, until = days_of(day, since, until)
    after = decode_cursor(cursor, (str, str, str))
    try:
        a = [date.fromisoformat(after[0]), after[1], after[2]] if after else [None, None, None]
    except ValueError:
        raise param_error("cursor", "invalid_cursor", "The cursor is not one this list handed out.") from None
    rows = await store.list_sales_facts(conn, sku, channel, since, until, a, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda f: [f.day.isoformat(), f.sku, f.channel])
    return SalesFactPage(items=items, next_cursor=next_cursor)


async def recost(conn: asyncpg.Connection, sku_id: int, currency: str, since: datetime, until: datetime | None) -> None:
    """Re-cost a SKU's facts in a currency whose days end within [since, until) (until None: open) at the prices
    of their days, in the caller's transaction: its cost or distribution prices changed there."""
    await store.update_sales_costs(conn, sku_id, currency, since, until)


async def forget_old_requests(conn: asyncpg.Connection, hours: int) -> None:
    """Forget sales uploads' idempotency keys (and their answers) older than `hours`."""
    async with conn.transaction():
        await store.delete_expired_sales_requests(conn, hours)
