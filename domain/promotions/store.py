"""The only place that runs the promotions' statements (sql/queries/promotions.sql)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.money import Money, money
from domain.promotions.model import Promotion, PromotionFields
from domain.sql import load

Q = load("promotions")
LIST_PROMOTIONS = Q.list_promotions.sql
GET_PROMOTION = Q.get_promotion.sql
LOCK_PROMOTION = Q.lock_promotion.sql
INSERT_PROMOTION = Q.insert_promotion.sql
UPDATE_PROMOTION = Q.update_promotion.sql
DELETE_PROMOTION_ITEMS = Q.delete_promotion_items.sql
INSERT_PROMOTION_ITEMS = Q.insert_promotion_items.sql
DELETE_PROMOTION = Q.delete_promotion.sql
LIST_SKU_IDS = Q.list_sku_ids.sql
LIST_SHOPPER_PRICES = Q.list_shopper_prices.sql


def _columns(fields: PromotionFields) -> tuple[Any, ...]:
    """The stored columns of a promotion's fields, in the order insert_promotion and update_promotion take them."""
    spend = fields.spend
    return (
        fields.labels,
        fields.starts_at,
        fields.ends_at,
        fields.active,
        Decimal(spend.amount) if spend else None,
        spend.currency if spend else None,
        spend.channel if spend else None,
        fields.baseline_days,
    )


def _promotion(row: asyncpg.Record) -> Promotion:
    data = dict(row)
    if data["spend"] is not None:
        spend = data["spend"]
        data["spend"] = {
            **msgspec.to_builtins(money(Decimal(spend["amount"]), spend["currency"])),
            **({"channel": spend["channel"]} if spend["channel"] else {}),
        }
    # Item prices in the currency's own precision.
    data["items"] = [
        {"sku": i["sku"], "price": msgspec.to_builtins(money(Decimal(i["amount"]), i["currency"]))}
        for i in row["items"]
    ]
    return msgspec.convert(data, Promotion)


async def list_promotions(
    conn: asyncpg.Connection, after: str | None, active_at: datetime | None, limit: int
) -> list[Promotion]:
    return [_promotion(r) for r in await conn.fetch(LIST_PROMOTIONS, after, active_at, limit)]


async def get_promotion(conn: asyncpg.Connection, code: str) -> Promotion | None:
    row = await conn.fetchrow(GET_PROMOTION, code)
    return None if row is None else _promotion(row)


async def lock_promotion(conn: asyncpg.Connection, code: str) -> int | None:
    """The promotion's id, its row locked; None when no promotion has the code."""
    row = await conn.fetchrow(LOCK_PROMOTION, code)
    return None if row is None else int(row["id"])


async def insert_promotion(conn: asyncpg.Connection, code: str, fields: PromotionFields) -> int | None:
    """The new promotion's id; None when the code is taken."""
    promotion_id = await conn.fetchval(INSERT_PROMOTION, code, *_columns(fields))
    return None if promotion_id is None else int(promotion_id)


async def update_promotion(conn: asyncpg.Connection, promotion_id: int, fields: PromotionFields) -> None:
    await conn.execute(UPDATE_PROMOTION, promotion_id, *_columns(fields))


async def delete_promotion_items(conn: asyncpg.Connection, promotion_id: int) -> None:
    await conn.execute(DELETE_PROMOTION_ITEMS, promotion_id)


async def insert_promotion_items(
    conn: asyncpg.Connection, promotion_id: int, sku_ids: list[int], prices: list[Money]
) -> None:
    await conn.execute(
        INSERT_PROMOTION_ITEMS,
        promotion_id,
        sku_ids,
        [Decimal(p.amount) for p in prices],
        [p.currency for p in prices],
    )


async def delete_promotion(conn: asyncpg.Connection, promotion_id: int) -> None:
    await conn.execute(DELETE_PROMOTION, promotion_id)


async def list_sku_ids(conn: asyncpg.Connection, codes: list[str]) -> dict[str, int]:
    """{sku: id} of the SKUs among these codes that exist."""
    return {r["sku"]: r["id"] for r in await conn.fetch(LIST_SKU_IDS, codes)}


async def list_shopper_prices(
    conn: asyncpg.Connection, sku_ids: list[int], at: datetime, currency: str | None
) -> dict[int, tuple[Money, str]]:
    """{sku id: (price, source)}."""
    rows = await conn.fetch(LIST_SHOPPER_PRICES, sku_ids, at, currency)
    return {r["sku_id"]: (money(Decimal(r["amount"]), r["currency"]), r["source"]) for r in rows}
