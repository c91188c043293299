"""Promotions (活动): use cases, each in its own transaction; and the price a shopper pays, the lowest of the
sale price in force and the promotions running then."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.audit import service as audit
from domain.errors import FieldError, ValidationFailed, field_error
from domain.keys.model import Principal
from domain.money import Money, money_errors
from domain.paging import decode_cursor, split_page
from domain.prices.model import parse_moment
from domain.promotions import store
from domain.promotions.model import (
    EARLIEST_MOMENT,
    LATEST_MOMENT,
    PROMOTION_YEARS,
    LockedPromotion,
    Promotion,
    PromotionCreate,
    PromotionExists,
    PromotionFields,
    PromotionNotFound,
    PromotionPage,
    PromotionPatch,
    canonical,
)
from domain.versioning import Versioned, writable


async def _lock(conn: asyncpg.Connection, code: str) -> LockedPromotion | None:
    promotion_id = await store.lock_promotion(conn, code)
    if promotion_id is None:
        return None
    return LockedPromotion(id=promotion_id, promotion=await get_promotion(conn, code))


async def _sku_ids(conn: asyncpg.Connection, fields: PromotionFields) -> dict[str, int]:
    """Check the dates, prices and SKUs of a promotion at once; answers the SKUs' ids."""
    errors: list[FieldError] = []
    for name, moment in (("starts_at", fields.starts_at), ("ends_at", fields.ends_at)):
        if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
            errors.append(field_error(f"/{name}", "out_of_range", PROMOTION_YEARS))
    if fields.ends_at <= fields.starts_at:
        errors.append(
            field_error(
                "/ends_at", "dates_reversed", "The promotion dates are reversed: `ends_at` must be after `starts_at`."
            )
        )
    codes = [i.sku for i in fields.items]
    ids = await store.list_sku_ids(conn, codes) if codes else {}
    seen: set[str] = set()
    for n, item in enumerate(fields.items):
        if item.sku not in ids:
            errors.append(field_error(f"/items/{n}/sku", "not_found", f"No SKU has the code {item.sku!r}."))
        elif item.sku in seen:
            errors.append(field_error(f"/items/{n}/sku", "duplicate", f"SKU {item.sku!r} is listed twice."))
        seen.add(item.sku)
        errors.extend(money_errors(item.price, f"/items/{n}/price"))
    if fields.spend is not None:
        errors.extend(money_errors(Money(amount=fields.spend.amount, currency=fields.spend.currency), "/spend"))
        currencies = sorted({i.price.currency for i in fields.items})
        if currencies and currencies != [fields.spend.currency]:
            errors.append(
                field_error(
                    "/spend/currency",
                    "currency_mismatch",
                    f"The promotion's prices are in {', '.join(currencies)}; its spend must be too, "
                    f"not {fields.spend.currency}.",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return ids


async def _write_items(
    conn: asyncpg.Connection, promotion_id: int, fields: PromotionFields, ids: dict[str, int]
) -> None:
    await store.delete_promotion_items(conn, promotion_id)
    if fields.items:
        await store.insert_promotion_items(
            conn, promotion_id, [ids[i.sku] for i in fields.items], [i.price for i in fields.items]
        )


async def list_promotions(
    conn: asyncpg.Connection, *, active_at: str | None, limit: int, cursor: str | None
) -> PromotionPage:
    """Promotions in code order; with `active_at` only the active ones running at that moment."""
    moment = parse_moment(active_at, "active_at")
    after = decode_cursor(cursor, (str,))
    rows = await store.list_promotions(conn, after[0] if after else None, moment, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda p: [p.code])
    return PromotionPage(items=items, next_cursor=next_cursor)


async def get_promotion(conn: asyncpg.Connection, code: str) -> Promotion:
    """One promotion with its items."""
    promotion = await store.get_promotion(conn, code)
    if promotion is None:
        raise PromotionNotFound(code)
    return promotion


async def create_promotion(conn: asyncpg.Connection, actor: Principal, body: PromotionCreate) -> Promotion:
    """Create a promotion; a taken code is a 409, reversed dates or unknown SKUs a 422."""
    async with conn.transaction():
        ids = await _sku_ids(conn, body)
        promotion_id = await store.insert_promotion(conn, body.code, body)
        if promotion_id is None:
            raise PromotionExists(body.code)
        await _write_items(conn, promotion_id, body, ids)
        promotion = await get_promotion(conn, body.code)
        await audit.record(
            conn, actor, "create", "promotion", promotion.code, version=promotion.version, after=promotion
        )
        return promotion


async def _update(
    conn: asyncpg.Connection, actor: Principal, locked: LockedPromotion, fields: PromotionFields
) -> Promotion:
    current = locked.promotion
    ids = await _sku_ids(conn, fields)
    # As stored, the fields may be the same though written otherwise (another offset, "9.9" for "9.90").
    if writable(current, PromotionFields) == canonical(fields):
        return current
    await store.update_promotion(conn, locked.id, fields)
    await _write_items(conn, locked.id, fields, ids)
    promotion = await get_promotion(conn, current.code)
    await audit.record(
        conn, actor, "update", "promotion", promotion.code, version=promotion.version, before=current, after=promotion
    )
    return promotion


async def _delete(conn: asyncpg.Connection, actor: Principal, locked: LockedPromotion) -> None:
    code = locked.promotion.code
    await store.delete_promotion(conn, locked.id)
    current = locked.promotion
    await audit.record(conn, actor, "delete", "promotion", code, version=current.version, before=current)


PROMOTIONS: Versioned[LockedPromotion, PromotionFields] = Versioned(
    what="Promotion",
    fields=PromotionFields,
    create_body=PromotionCreate,
    lock=_lock,
    not_found=PromotionNotFound,
    create=create_promotion,
    update=_update,
    delete=_delete,
    resource=lambda locked: locked.promotion,
)


async def put_promotion(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: PromotionFields, expected: int | None
) -> tuple[Promotion, bool]:
    """Idempotent upsert: create the promotion, or replace its fields and items; answers (promotion, created)."""
    return await PROMOTIONS.put(conn, actor, code, fields, expected)


async def patch_promotion(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: PromotionPatch, expected: int | None
) -> Promotion:
    """Apply a JSON merge patch to a promotion (`items`, when sent, replaces the list)."""
    promotion: Promotion = await PROMOTIONS.patch(conn, actor, code, patch, expected)
    return promotion


async def delete_promotion(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a promotion and its items (nothing else refers to a promotion)."""
    await PROMOTIONS.remove(conn, actor, code, expected)


async def shopper_price(
    conn: asyncpg.Connection, sku_ids: list[int], at: datetime, *, currency: str | None = None
) -> dict[int, tuple[Money, str]]:
    """What a shopper pays per SKU at `at`: the lowest of the sale price in force and the prices of active
    promotions running then that cover the SKU in the sale price's currency. The source is `"sale"` or
    `"promotion:<code>"`; a SKU without a sale price in force is left out. With several sale currencies in
    force and no `currency`, the first currency by code is answered."""
    if not sku_ids:
        return {}
    return await store.list_shopper_prices(conn, sku_ids, at, currency)
