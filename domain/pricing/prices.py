"""SKU prices: effective-dated periods [valid_from, valid_to) per kind and currency, kept for ever.

A new price that starts inside the open-ended current period of its kind and currency closes that period
where it starts; any other overlap is refused (and the database's EXCLUDE constraint refuses it too, for
writes that race). Cost and distribution prices are confidential to finance, purchasing and admin.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from domain.audit import service as audit
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, field_error, param_error
from domain.keys.model import Principal
from domain.money import CURRENCIES, Money, money, money_errors
from domain.paging import decode_cursor, encode_cursor
from domain.pricing.model import (
    CONFIDENTIAL_KINDS,
    PRICE_KINDS,
    Price,
    PriceCreate,
    parse_moment,
)
from domain.sql import load
from domain.types import Page

Q = load("prices")

OVERLAP_CONSTRAINT = "prices_sku_id_kind_currency_excl"
# Writers of cost and distribution prices; listing keys may write sale prices only.


def _price(sku: str, row: asyncpg.Record) -> Price:
    amount = money(Decimal(row["amount"]), row["currency"]).amount
    return Price(
        sku=sku,
        kind=row["kind"],
        amount=amount,
        currency=row["currency"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
    )


def sku_not_found(sku: str) -> NotFound:
    return NotFound(f"No SKU has the code {sku!r}.", code="sku-not-found")


def visible_kinds(principal: Principal) -> list[str]:
    """The price kinds a principal may read: sale for every internal role, all for the confidential readers."""
    if not principal.sees_confidential:
        return [k for k in PRICE_KINDS if k not in CONFIDENTIAL_KINDS]
    return list(PRICE_KINDS)


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
) -> Page[Price]:
    """A SKU's price history newest first, or with `at` only the prices in force at that moment; kinds the
    principal may not read are left out."""
    if kind is not None and kind not in PRICE_KINDS:
        raise param_error("kind", "invalid_choice", f"`kind` is one of {', '.join(PRICE_KINDS)}.")
    if currency is not None and currency not in CURRENCIES:
        raise param_error("currency", "unknown_currency", f"{currency!r} is not an ISO 4217 currency merchflow knows.")
    moment = parse_moment(at, "at")
    after = decode_cursor(cursor, (str, int))
    after_from = parse_moment(after[0], "cursor") if after else None
    row = await conn.fetchrow(Q.get_price_sku.sql, sku)
    if row is None:
        raise sku_not_found(sku)
    kinds = [k for k in visible_kinds(principal) if kind is None or k == kind]
    rows = await conn.fetch(
        Q.list_prices.sql, row["id"], kinds, currency, moment, after_from, after[1] if after else None, limit + 1
    )
    items = [_price(row["sku"], r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last["valid_from"].isoformat(), last["id"]])
    return Page(items=items, next_cursor=next_cursor)


def _check(principal: Principal, body: PriceCreate) -> None:
    if body.kind in CONFIDENTIAL_KINDS and not principal.sees_confidential:
        raise PermissionDenied(
            f"{body.kind.capitalize()} prices are written by the finance or purchasing role; "
            f"the key has {', '.join(sorted(principal.roles))}.",
            code="forbidden",
        )
    errors = money_errors(Money(amount=body.amount, currency=body.currency), "")
    if body.valid_from is not None and body.valid_to is not None and body.valid_to <= body.valid_from:
        errors.append(field_error("/valid_to", "before_valid_from", "`valid_to` must be after `valid_from`."))
    if errors:
        raise ValidationFailed(errors)


def _overlap(sku: str, body: PriceCreate, existing: Price | None) -> Conflict:
    context: dict[str, Any] = {"existing": existing} if existing is not None else {}
    where = (
        f"[{existing.valid_from.isoformat()}, {existing.valid_to.isoformat() if existing.valid_to else 'open'})"
        if existing is not None
        else "another period"
    )
    return Conflict(
        f"The new {body.kind} price of SKU {sku!r} in {body.currency} overlaps the period {where}; "
        "only a price that starts inside the open-ended current period may close it.",
        code="price-period-overlap",
        **context,
    )


async def create_price(conn: asyncpg.Connection, actor: Principal, sku: str, body: PriceCreate) -> Price:
    """Record a SKU price; it closes the open-ended current period it starts inside, any other overlap is a 409."""
    _check(actor, body)
    async with conn.transaction():
        await conn.fetchrow(Q.lock_price_product.sql, sku)
        row = await conn.fetchrow(Q.lock_price_sku.sql, sku)
        if row is None:
            raise sku_not_found(sku)
        valid_from = body.valid_from or row["now"]
        if body.valid_to is not None and body.valid_to <= valid_from:
            raise ValidationFailed(
                [field_error("/valid_to", "before_valid_from", "`valid_to` must be after `valid_from` (now).")]
            )
        args = (row["id"], body.kind, body.currency)
        overlapping = await conn.fetch(Q.list_overlapping_prices.sql, *args, valid_from, body.valid_to)
        if overlapping:
            current = overlapping[0]
            if len(overlapping) > 1 or current["valid_to"] is not None or current["valid_from"] >= valid_from:
                raise _overlap(sku, body, _price(sku, current))
            closed = await conn.fetchrow(Q.update_price_valid_to.sql, current["id"], valid_from)
            await audit.record(
                conn,
                actor,
                "update",
                "price",
                sku,
                version=None,
                before=_price(sku, current),
                after=_price(sku, closed),
            )
        try:
            async with conn.transaction():
                inserted = await conn.fetchrow(
                    Q.insert_price.sql, *args, Decimal(body.amount), valid_from, body.valid_to, actor.name
                )
        except asyncpg.ExclusionViolationError as exc:
            if exc.constraint_name != OVERLAP_CONSTRAINT:
                raise
            # A concurrent write took the period first; it is committed now, so it can be named.
            racing = await conn.fetch(Q.list_overlapping_prices.sql, *args, valid_from, body.valid_to)
            raise _overlap(sku, body, _price(sku, racing[0]) if racing else None) from None
        price = _price(sku, inserted)
        await audit.record(conn, actor, "create", "price", sku, version=None, after=price)
        return price
