"""Promotions (活动): a period [starts_at, ends_at) and SKUs with a promotion price; and the price a shopper
pays, the lowest of the sale price in force and the promotions running then."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
    field_error,
)
from domain.keys.model import Principal
from domain.money import Money, money, money_errors
from domain.paging import decode_cursor, split_page
from domain.pricing.model import (
    Promotion,
    PromotionCreate,
    PromotionFields,
    PromotionItem,
    PromotionPatch,
    parse_moment,
)
from domain.sql import load
from domain.types import Page
from domain.versioning import check_version, created_by_put, patched, writable

Q = load("promotions")


def _promotion(row: asyncpg.Record) -> Promotion:
    data = dict(row)
    data["items"] = [
        {"sku": i["sku"], "price": msgspec.to_builtins(money(Decimal(i["amount"]), i["currency"]))}
        for i in row["items"]
    ]
    return msgspec.convert(data, Promotion)


def _not_found(code: str) -> NotFound:
    return NotFound(f"No promotion has the code {code!r}.", code="promotion-not-found")


def _canonical(fields: PromotionFields) -> dict[str, Any]:
    """The fields as they would be stored: moments in UTC, amounts in the currency's precision, items by SKU."""
    items = sorted(
        (PromotionItem(sku=i.sku, price=money(Decimal(i.price.amount), i.price.currency)) for i in fields.items),
        key=lambda i: i.sku,
    )
    canonical: dict[str, Any] = msgspec.to_builtins(
        {
            "labels": fields.labels,
            "starts_at": fields.starts_at.astimezone(UTC),
            "ends_at": fields.ends_at.astimezone(UTC),
            "active": fields.active,
            "items": items,
        }
    )
    return canonical


async def _sku_ids(conn: asyncpg.Connection, fields: PromotionFields) -> dict[str, int]:
    """Check the dates, prices and SKUs of a promotion at once; answers the SKUs' ids."""
    errors: list[FieldError] = []
    if fields.ends_at <= fields.starts_at:
        errors.append(
            field_error(
                "/ends_at", "dates_reversed", "The promotion dates are reversed: `ends_at` must be after `starts_at`."
            )
        )
    codes = [i.sku for i in fields.items]
    ids = {r["sku"]: r["id"] for r in await conn.fetch(Q.list_sku_ids.sql, codes)} if codes else {}
    seen: set[str] = set()
    for n, item in enumerate(fields.items):
        if item.sku not in ids:
            errors.append(field_error(f"/items/{n}/sku", "not_found", f"No SKU has the code {item.sku!r}."))
        elif item.sku in seen:
            errors.append(field_error(f"/items/{n}/sku", "duplicate", f"SKU {item.sku!r} is listed twice."))
        seen.add(item.sku)
        errors.extend(money_errors(item.price, f"/items/{n}/price"))
    if errors:
        raise ValidationFailed(errors)
    return ids


async def _write_items(
    conn: asyncpg.Connection, promotion_id: int, fields: PromotionFields, ids: dict[str, int]
) -> None:
    await conn.execute(Q.delete_promotion_items.sql, promotion_id)
    if fields.items:
        await conn.execute(
            Q.insert_promotion_items.sql,
            promotion_id,
            [ids[i.sku] for i in fields.items],
            [Decimal(i.price.amount) for i in fields.items],
            [i.price.currency for i in fields.items],
        )


async def list_promotions(
    conn: asyncpg.Connection, *, active_at: str | None, limit: int, cursor: str | None
) -> Page[Promotion]:
    """Promotions in code order; with `active_at` only the active ones running at that moment."""
    moment = parse_moment(active_at, "active_at")
    after = decode_cursor(cursor, (str,))
    rows = await conn.fetch(Q.list_promotions.sql, after[0] if after else None, moment, limit + 1)
    items, next_cursor = split_page([_promotion(r) for r in rows], limit, lambda p: [p.code])
    return Page(items=items, next_cursor=next_cursor)


async def get_promotion(conn: asyncpg.Connection, code: str) -> Promotion:
    """One promotion with its items."""
    row = await conn.fetchrow(Q.get_promotion.sql, code)
    if row is None:
        raise _not_found(code)
    return _promotion(row)


async def create_promotion(conn: asyncpg.Connection, actor: Principal, body: PromotionCreate) -> Promotion:
    """Create a promotion; a taken code is a 409, reversed dates or unknown SKUs a 422."""
    async with conn.transaction():
        ids = await _sku_ids(conn, body)
        promotion_id = await conn.fetchval(
            Q.insert_promotion.sql, body.code, body.labels, body.starts_at, body.ends_at, body.active
        )
        if promotion_id is None:
            raise Conflict(f"A promotion with the code {body.code!r} exists already.", code="promotion-exists")
        await _write_items(conn, promotion_id, body, ids)
        promotion = await get_promotion(conn, body.code)
        await audit.record(
            conn, actor, "create", "promotion", promotion.code, version=promotion.version, after=promotion
        )
        return promotion


async def _update(
    conn: asyncpg.Connection,
    actor: Principal,
    promotion_id: int,
    current: Promotion,
    fields: PromotionFields,
    expected: int | None,
) -> Promotion:
    check_version(expected, current.version, f"Promotion {current.code!r}")
    ids = await _sku_ids(conn, fields)
    if writable(current, PromotionFields) == _canonical(fields):
        return current
    await conn.execute(
        Q.update_promotion.sql, promotion_id, fields.labels, fields.starts_at, fields.ends_at, fields.active
    )
    await _write_items(conn, promotion_id, fields, ids)
    promotion = await get_promotion(conn, current.code)
    await audit.record(
        conn, actor, "update", "promotion", promotion.code, version=promotion.version, before=current, after=promotion
    )
    return promotion


async def put_promotion(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: PromotionFields, expected: int | None
) -> tuple[Promotion, bool]:
    """Idempotent upsert: create the promotion, or replace its fields and items; answers (promotion, created)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_promotion.sql, code)
        if row is None:
            body = created_by_put(PromotionCreate, f"Promotion {code!r}", code, fields, expected)
            return await create_promotion(conn, actor, body), True
        current = await get_promotion(conn, code)
        return await _update(conn, actor, row["id"], current, fields, expected), False


async def patch_promotion(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: PromotionPatch, expected: int | None
) -> Promotion:
    """Apply a JSON merge patch to a promotion (`items`, when sent, replaces the list)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_promotion.sql, code)
        if row is None:
            raise _not_found(code)
        current = await get_promotion(conn, code)
        fields = patched(current, patch, PromotionFields)
        return await _update(conn, actor, row["id"], current, fields, expected)


async def delete_promotion(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a promotion and its items (nothing else refers to a promotion)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_promotion.sql, code)
        if row is None:
            raise _not_found(code)
        current = await get_promotion(conn, code)
        check_version(expected, current.version, f"Promotion {code!r}")
        await conn.execute(Q.delete_promotion.sql, row["id"])
        await audit.record(conn, actor, "delete", "promotion", code, version=current.version, before=current)


async def shopper_price(
    conn: asyncpg.Connection, sku_ids: list[int], at: datetime, *, currency: str | None = None
) -> dict[int, tuple[Money, str]]:
    """What a shopper pays per SKU at `at`: the lowest of the sale price in force and the prices of active
    promotions running then that cover the SKU in the sale price's currency. The source is `"sale"` or
    `"promotion:<code>"`; a SKU without a sale price in force is left out. With several sale currencies in
    force and no `currency`, the first currency by code is answered."""
    if not sku_ids:
        return {}
    rows = await conn.fetch(Q.list_shopper_prices.sql, sku_ids, at, currency)
    return {r["sku_id"]: (money(Decimal(r["amount"]), r["currency"]), r["source"]) for r in rows}
