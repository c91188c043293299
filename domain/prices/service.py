"""SKU prices: effective-dated periods [valid_from, valid_to) per kind and currency, kept for ever.

A new price starts now or later (a minute of clock skew counts as now); if it starts inside the open-ended
current period of its kind and currency it closes that period where it starts; any other overlap is refused
(and the database's EXCLUDE constraint refuses it too, for writes that race). The past changes only by a
correction: the price over a range set to an amount (or to none), with a reason, recorded with the periods
before and after and audited. Either way, the sales facts whose days' cost or distribution price changed
are re-costed in the same transaction. Cost and distribution prices are confidential to finance, purchasing
and admin.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import FieldError, Forbidden, ValidationFailed, field_error, param_error
from domain.keys.model import Principal
from domain.money import CURRENCIES, Money, money, money_errors
from domain.paging import decode_cursor, encode_cursor, split_page
from domain.prices import store
from domain.prices.model import (
    CONFIDENTIAL_KINDS,
    PRICE_KINDS,
    LockedSku,
    Price,
    PriceCorrection,
    PriceCorrectionCreate,
    PriceCorrectionPage,
    PriceCreate,
    PricePage,
    PricePeriodOverlap,
    closes,
    parse_moment,
    plan_correction,
    starts_at,
    visible_kinds,
)
from domain.sales import service as sales
from domain.skus.model import SkuNotFound


async def list_prices(
    conn: asyncpg.Connection,
    principal: Principal,
    sku: str,
    *,
    kind: str | None,
    currency: str | None,
    at: str | None,
    limit: int,
    cursor: str | None,
) -> PricePage:
    """A SKU's price history newest first, or with `at` only the prices in force at that moment; kinds the
    principal may not read are left out."""
    if kind is not None and kind not in PRICE_KINDS:
        raise param_error("kind", "invalid_choice", f"`kind` is one of {', '.join(PRICE_KINDS)}.")
    if currency is not None and currency not in CURRENCIES:
        raise param_error("currency", "unknown_currency", f"{currency!r} is not an ISO 4217 currency merchflow knows.")
    moment = parse_moment(at, "at")
    after = decode_cursor(cursor, (str, int))
    after_from = parse_moment(after[0], "cursor") if after else None
    sku_id = await store.get_price_sku(conn, sku)
    if sku_id is None:
        raise SkuNotFound(sku)
    kinds = [k for k in visible_kinds(principal) if kind is None or k == kind]
    rows = await store.list_prices(
        conn, sku_id, sku, kinds, currency, moment, after_from, after[1] if after else None, limit + 1
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.price.valid_from.isoformat(), last.id])
    return PricePage(items=[r.price for r in rows[:limit]], next_cursor=next_cursor)


def _check(principal: Principal, body: PriceCreate) -> None:
    if body.kind in CONFIDENTIAL_KINDS and not principal.sees_confidential:
        raise Forbidden(
            f"{body.kind.capitalize()} prices are written by the finance or purchasing role; "
            f"the key has {', '.join(sorted(principal.roles))}."
        )
    errors = money_errors(Money(amount=body.amount, currency=body.currency), "")
    if body.valid_from is not None and body.valid_to is not None and body.valid_to <= body.valid_from:
        errors.append(field_error("/valid_to", "before_valid_from", "`valid_to` must be after `valid_from`."))
    if errors:
        raise ValidationFailed(errors)


async def _lock(conn: asyncpg.Connection, sku: str) -> LockedSku:
    # The product first, then the SKU: the order every SKU write of a product takes.
    await store.lock_price_product(conn, sku)
    locked = await store.lock_price_sku(conn, sku)
    if locked is None:
        raise SkuNotFound(sku)
    return locked


async def _recost(
    conn: asyncpg.Connection, sku_id: int, kind: str, currency: str, since: datetime, until: datetime | None
) -> None:
    # Facts are costed at the cost and distribution prices of their days: where those changed, so do they.
    if kind in CONFIDENTIAL_KINDS:
        await sales.recost(conn, sku_id, currency, since, until)


async def create_price(conn: asyncpg.Connection, actor: Principal, sku: str, body: PriceCreate) -> Price:
    """Record a SKU price from now or later; it closes the open-ended current period it starts inside, any
    other overlap is a 409, a start in the past a 422 pointing at the corrections."""
    _check(actor, body)
    async with conn.transaction():
        locked = await _lock(conn, sku)
        valid_from = starts_at(body.valid_from, locked.now, sku, body.kind)
        if body.valid_to is not None and body.valid_to <= valid_from:
            raise ValidationFailed(
                [field_error("/valid_to", "before_valid_from", "`valid_to` must be after `valid_from` (now).")]
            )
        period = (locked.id, sku, body.kind, body.currency)
        current = closes(await store.list_overlapping_prices(conn, *period, valid_from, body.valid_to), valid_from)
        if current is not None:
            closed = await store.update_price_valid_to(conn, current.id, sku, valid_from)
            await audit.record(conn, actor, "update", "price", sku, version=None, before=current.price, after=closed)
        price = await store.insert_price(conn, *period, Decimal(body.amount), valid_from, body.valid_to, actor.name)
        if price is None:
            # A concurrent write took the period first; it is committed now, so it can be named.
            racing = await store.list_overlapping_prices(conn, *period, valid_from, body.valid_to)
            raise PricePeriodOverlap(sku, body.kind, body.currency, racing[0].price if racing else None)
        await audit.record(conn, actor, "create", "price", sku, version=None, after=price)
        # a closed period no longer runs on after the new one: everything from its start may have changed
        await _recost(conn, locked.id, body.kind, body.currency, valid_from, None if current else body.valid_to)
        return price


def _check_correction(body: PriceCorrectionCreate) -> None:
    errors: list[FieldError] = []
    if body.amount is not None:
        errors += money_errors(Money(amount=body.amount, currency=body.currency), "")
    if body.valid_to is not None and body.valid_to <= body.valid_from:
        errors.append(field_error("/valid_to", "before_valid_from", "`valid_to` must be after `valid_from`."))
    if not body.reason.strip():
        errors.append(field_error("/reason", "blank", "`reason` says why the past is changed: it cannot be blank."))
    if errors:
        raise ValidationFailed(errors)


async def correct_prices(
    conn: asyncpg.Connection, actor: Principal, sku: str, body: PriceCorrectionCreate
) -> tuple[PriceCorrection, bool]:
    """Set a SKU's price of one kind and currency over [valid_from, valid_to) to an amount (or to none),
    whatever was recorded there, past or not: the periods overlapping the range are removed or cut back to
    it, the range's own period recorded; the correction is kept with the periods before and after, audited
    with its reason, and the facts of the days whose cost changed are re-costed. Answers it and whether
    anything changed (a correction the periods already say is recorded nowhere)."""
    _check_correction(body)
    # answers are in UTC, whatever offset the body used
    body = msgspec.structs.replace(
        body,
        valid_from=body.valid_from.astimezone(UTC),
        valid_to=None if body.valid_to is None else body.valid_to.astimezone(UTC),
    )
    reason = body.reason.strip()
    amount = None if body.amount is None else money(Decimal(body.amount), body.currency).amount
    async with conn.transaction():
        locked = await _lock(conn, sku)
        period = (locked.id, sku, body.kind, body.currency)
        overlapping = await store.list_overlapping_prices(conn, *period, body.valid_from, body.valid_to)
        before = [p.price for p in overlapping]
        plan = plan_correction(overlapping, body.valid_from, body.valid_to, body.amount)
        answer = PriceCorrection(
            id=None,
            sku=sku,
            kind=body.kind,
            currency=body.currency,
            amount=amount,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            reason=reason,
            actor=actor.name,
            at=locked.now,
            before=before,
            after=before,
        )
        if plan is None:
            return answer, False
        correction_id, at = await store.insert_price_correction(
            conn,
            locked.id,
            body.kind,
            body.currency,
            None if body.amount is None else Decimal(body.amount),
            body.valid_from,
            body.valid_to,
            reason,
            actor.name,
            before,
        )
        await store.delete_prices(conn, plan.removed)
        after = [
            await store.update_price_period(conn, price_id, sku, start, end, correction_id)
            for price_id, start, end in plan.cut
        ]
        for start, end, value in plan.inserted:
            price = await store.insert_price(
                conn, *period, Decimal(value), start, end, actor.name, correction_id=correction_id
            )
            if price is None:
                # A writer that took no lock (not this API) holds an overlapping period: nothing is kept.
                racing = await store.list_overlapping_prices(conn, *period, start, end)
                raise PricePeriodOverlap(sku, body.kind, body.currency, racing[0].price if racing else None)
            after.append(price)
        after.sort(key=lambda p: p.valid_from)
        await store.update_price_correction(conn, correction_id, after)
        await audit.record(
            conn,
            actor,
            "correct",
            "price",
            sku,
            version=None,
            before={"periods": before},
            after={"periods": after},
            reason=reason,
        )
        await _recost(conn, locked.id, body.kind, body.currency, body.valid_from, body.valid_to)
        return msgspec.structs.replace(answer, id=correction_id, at=at, after=after), True


async def list_corrections(
    conn: asyncpg.Connection, sku: str, *, limit: int, cursor: str | None
) -> PriceCorrectionPage:
    """A SKU's price corrections, newest first, one keyset page at a time."""
    after = decode_cursor(cursor, (int,))
    sku_id = await store.get_price_sku(conn, sku)
    if sku_id is None:
        raise SkuNotFound(sku)
    rows = await store.list_price_corrections(conn, sku_id, sku, after[0] if after else None, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda c: [c.id])
    return PriceCorrectionPage(items=items, next_cursor=next_cursor)
