"""The only place that runs the prices' statements (sql/queries/prices.sql), and the promotion items the stage
views show beside them (sql/queries/promotions.sql)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import asyncpg
import msgspec

from domain.money import money
from domain.prices.model import CorrectionRef, LockedSku, Price, PriceCorrection, StoredPrice
from domain.sql import load

Q = load("prices")
GET_PRICE_SKU = Q.get_price_sku.sql
LOCK_PRICE_PRODUCT = Q.lock_price_product.sql
LOCK_PRICE_SKU = Q.lock_price_sku.sql
LIST_PRICES = Q.list_prices.sql
LIST_OVERLAPPING_PRICES = Q.list_overlapping_prices.sql
UPDATE_PRICE_VALID_TO = Q.update_price_valid_to.sql
INSERT_PRICE = Q.insert_price.sql
UPDATE_PRICE_PERIOD = Q.update_price_period.sql
DELETE_PRICES = Q.delete_prices.sql
INSERT_PRICE_CORRECTION = Q.insert_price_correction.sql
UPDATE_PRICE_CORRECTION = Q.update_price_correction.sql
LIST_PRICE_CORRECTIONS = Q.list_price_corrections.sql
LIST_PRODUCT_PRICES = Q.list_product_prices.sql
LIST_PRODUCT_PROMOTIONS = load("promotions").list_product_promotions.sql

OVERLAP_CONSTRAINT = "prices_sku_id_kind_currency_excl"


def _stored(sku: str, row: asyncpg.Record) -> StoredPrice:
    # Amounts in the currency's own precision (numeric keeps the scale it was written with).
    correction = None
    if row.get("correction_id") is not None:
        correction = CorrectionRef(
            id=row["correction_id"], at=row["corrected_at"], actor=row["corrected_by"], reason=row["correction_reason"]
        )
    price = Price(
        sku=sku,
        kind=row["kind"],
        amount=money(Decimal(row["amount"]), row["currency"]).amount,
        currency=row["currency"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        correction=correction,
    )
    return StoredPrice(id=row["id"], price=price)


async def get_price_sku(conn: asyncpg.Connection, sku: str) -> int | None:
    """A SKU's id; None when no SKU has the code."""
    sku_id = await conn.fetchval(GET_PRICE_SKU, sku)
    return None if sku_id is None else int(sku_id)


async def lock_price_product(conn: asyncpg.Connection, sku: str) -> None:
    await conn.fetchrow(LOCK_PRICE_PRODUCT, sku)


async def lock_price_sku(conn: asyncpg.Connection, sku: str) -> LockedSku | None:
    row = await conn.fetchrow(LOCK_PRICE_SKU, sku)
    return None if row is None else LockedSku(id=row["id"], now=row["now"])


async def list_prices(
    conn: asyncpg.Connection,
    sku_id: int,
    sku: str,
    kinds: list[str],
    currency: str | None,
    at: datetime | None,
    after_from: datetime | None,
    after_id: int | None,
    limit: int,
) -> list[StoredPrice]:
    rows = await conn.fetch(LIST_PRICES, sku_id, kinds, currency, at, after_from, after_id, limit)
    return [_stored(sku, r) for r in rows]


async def list_overlapping_prices(
    conn: asyncpg.Connection,
    sku_id: int,
    sku: str,
    kind: str,
    currency: str,
    valid_from: datetime,
    valid_to: datetime | None,
) -> list[StoredPrice]:
    rows = await conn.fetch(LIST_OVERLAPPING_PRICES, sku_id, kind, currency, valid_from, valid_to)
    return [_stored(sku, r) for r in rows]


async def update_price_valid_to(conn: asyncpg.Connection, price_id: int, sku: str, valid_to: datetime) -> Price:
    row = await conn.fetchrow(UPDATE_PRICE_VALID_TO, price_id, valid_to)
    assert row is not None, "the SKU is locked by this transaction"
    return _stored(sku, row).price


async def insert_price(
    conn: asyncpg.Connection,
    sku_id: int,
    sku: str,
    kind: str,
    currency: str,
    amount: Decimal,
    valid_from: datetime,
    valid_to: datetime | None,
    actor: str,
    correction_id: int | None = None,
) -> Price | None:
    """The new price; None when the EXCLUDE constraint refuses an overlap (a concurrent write took the period)."""
    try:
        # A savepoint: the caller's transaction goes on after a refused insert.
        async with conn.transaction():
            row = await conn.fetchrow(
                INSERT_PRICE, sku_id, kind, currency, amount, valid_from, valid_to, actor, correction_id
            )
    except asyncpg.ExclusionViolationError as exc:
        if exc.constraint_name != OVERLAP_CONSTRAINT:
            raise
        return None
    return _stored(sku, row).price


async def update_price_period(
    conn: asyncpg.Connection,
    price_id: int,
    sku: str,
    valid_from: datetime,
    valid_to: datetime | None,
    correction_id: int,
) -> Price:
    row = await conn.fetchrow(UPDATE_PRICE_PERIOD, price_id, valid_from, valid_to, correction_id)
    assert row is not None, "the SKU is locked by this transaction"
    return _stored(sku, row).price


async def delete_prices(conn: asyncpg.Connection, price_ids: list[int]) -> None:
    await conn.execute(DELETE_PRICES, price_ids)


async def insert_price_correction(
    conn: asyncpg.Connection,
    sku_id: int,
    kind: str,
    currency: str,
    amount: Decimal | None,
    valid_from: datetime,
    valid_to: datetime | None,
    reason: str,
    actor: str,
    before: list[Price],
) -> tuple[int, datetime]:
    """The new correction's id and time."""
    row = await conn.fetchrow(
        INSERT_PRICE_CORRECTION,
        sku_id,
        kind,
        currency,
        amount,
        valid_from,
        valid_to,
        reason,
        actor,
        msgspec.to_builtins(before),
    )
    return int(row["id"]), row["created_at"]


async def update_price_correction(conn: asyncpg.Connection, correction_id: int, after: list[Price]) -> None:
    await conn.execute(UPDATE_PRICE_CORRECTION, correction_id, msgspec.to_builtins(after))


async def list_price_corrections(
    conn: asyncpg.Connection, sku_id: int, sku: str, before_id: int | None, limit: int
) -> list[PriceCorrection]:
    rows = await conn.fetch(LIST_PRICE_CORRECTIONS, sku_id, before_id, limit)
    return [
        PriceCorrection(
            id=r["id"],
            sku=sku,
            kind=r["kind"],
            currency=r["currency"],
            amount=None if r["amount"] is None else money(Decimal(r["amount"]), r["currency"]).amount,
            valid_from=r["valid_from"],
            valid_to=r["valid_to"],
            reason=r["reason"],
            actor=r["actor"],
            at=r["created_at"],
            before=msgspec.convert(r["before"], list[Price]),
            after=msgspec.convert(r["after"], list[Price]),
        )
        for r in rows
    ]


async def list_product_prices(conn: asyncpg.Connection, product_ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_PRODUCT_PRICES, product_ids))


async def list_product_promotions(conn: asyncpg.Connection, product_ids: list[int]) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_PRODUCT_PROMOTIONS, product_ids))
