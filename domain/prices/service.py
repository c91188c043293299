"""SKU prices: effective-dated periods [valid_from, valid_to) per kind and currency, kept for ever.

A new price that starts inside the open-ended current period of its kind and currency closes that period
where it starts; any other overlap is refused (and the database's EXCLUDE constraint refuses it too, for
writes that race). Cost and distribution prices are confidential to finance, purchasing and admin.
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from domain.audit import service as audit
from domain.errors import Forbidden, ValidationFailed, field_error, param_error
from domain.keys.model import Principal
from domain.money import CURRENCIES, Money, money_errors
from domain.paging import decode_cursor, encode_cursor
from domain.prices import store
from domain.prices.model import (
    CONFIDENTIAL_KINDS,
    PRICE_KINDS,
    Price,
    PriceCreate,
    PricePage,
    PricePeriodOverlap,
    closes,
    parse_moment,
    visible_kinds,
)
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


async def create_price(conn: asyncpg.Connection, actor: Principal, sku: str, body: PriceCreate) -> Price:
    """Record a SKU price; it closes the open-ended current period it starts inside, any other overlap is a 409."""
    _check(actor, body)
    async with conn.transaction():
        await store.lock_price_product(conn, sku)
        locked = await store.lock_price_sku(conn, sku)
        if locked is None:
            raise SkuNotFound(sku)
        valid_from = body.valid_from or locked.now
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
        return price
