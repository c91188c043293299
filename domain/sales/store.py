"""The only place that runs the sales statements (sql/queries/sales.sql)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.money import money
from domain.sales.model import SalesFactRow, SalesResult, StoredRequest
from domain.sql import load

Q = load("sales")
LOCK_SALES_REQUEST = Q.lock_sales_request.sql
GET_SALES_REQUEST = Q.get_sales_request.sql
INSERT_SALES_REQUEST = Q.insert_sales_request.sql
LIST_SKU_IDS = Q.list_sku_ids.sql
UPSERT_SALES_FACTS = Q.upsert_sales_facts.sql
LIST_RETURNED_FACTS = Q.list_returned_facts.sql
DELETE_SALES_FACTS = Q.delete_sales_facts.sql
UPDATE_SALES_COSTS = Q.update_sales_costs.sql
LIST_SALES_FACTS = Q.list_sales_facts.sql
DELETE_EXPIRED_SALES_REQUESTS = Q.delete_expired_sales_requests.sql


async def lock_sales_request(conn: asyncpg.Connection, actor: str, idempotency_key: str) -> None:
    """Serialise uploads with the same actor and Idempotency-Key until the transaction ends."""
    await conn.execute(LOCK_SALES_REQUEST, actor, idempotency_key)


async def get_sales_request(conn: asyncpg.Connection, actor: str, idempotency_key: str) -> StoredRequest | None:
    row = await conn.fetchrow(GET_SALES_REQUEST, actor, idempotency_key)
    return None if row is None else msgspec.convert(dict(row), StoredRequest)


async def insert_sales_request(
    conn: asyncpg.Connection, actor: str, idempotency_key: str, request_hash: bytes, response: msgspec.Struct
) -> None:
    await conn.execute(INSERT_SALES_REQUEST, actor, idempotency_key, request_hash, msgspec.to_builtins(response))


RETURN_CHECKS = frozenset({"sales_facts_returned_qty_check", "sales_facts_refunded_check"})


async def list_returned_facts(
    conn: asyncpg.Connection, days: list[date], sku_ids: list[int], channels: list[str]
) -> dict[tuple[date, int, str], tuple[int, Decimal]]:
    """What came back (units, refunded) of those facts that returns reversed."""
    rows = await conn.fetch(LIST_RETURNED_FACTS, days, sku_ids, channels)
    return {(r["day"], r["sku_id"], r["channel"]): (r["returned_qty"], r["refunded"]) for r in rows}


async def list_sku_ids(conn: asyncpg.Connection, skus: list[str]) -> dict[str, int]:
    """The ids of the SKUs among these codes (the unknown ones are absent)."""
    return {r["sku"]: r["id"] for r in await conn.fetch(LIST_SKU_IDS, skus)}


async def upsert_sales_facts(
    conn: asyncpg.Connection,
    days: list[date],
    sku_ids: list[int],
    channels: list[str],
    qtys: list[int],
    revenues: list[Decimal],
    currencies: list[str],
) -> SalesResult:
    row = await conn.fetchrow(UPSERT_SALES_FACTS, days, sku_ids, channels, qtys, revenues, currencies)
    return msgspec.convert(dict(row), SalesResult)


async def delete_sales_facts(
    conn: asyncpg.Connection, since: date, until: date, sku_id: int | None, channel: str | None
) -> list[asyncpg.Record]:
    """The removed facts (sku, day, channel, qty, revenue, currency), in no particular order."""
    return list(await conn.fetch(DELETE_SALES_FACTS, since, until, sku_id, channel))


async def update_sales_costs(
    conn: asyncpg.Connection, sku_id: int, currency: str, since: datetime, until: datetime | None
) -> None:
    await conn.execute(UPDATE_SALES_COSTS, sku_id, currency, since, until)


async def list_sales_facts(
    conn: asyncpg.Connection,
    sku: str | None,
    channel: str | None,
    since: date | None,
    until: date | None,
    after: list[Any],
    limit: int,
) -> list[SalesFactRow]:
    rows = await conn.fetch(LIST_SALES_FACTS, sku, channel, since, until, *after, limit)
    return [
        SalesFactRow(
            day=r["day"],
            sku=r["sku"],
            channel=r["channel"],
            qty=r["qty"],
            revenue=money(r["revenue"], r["currency"]),
            updated_at=r["updated_at"],
        )
        for r in rows
    ]


async def delete_expired_sales_requests(conn: asyncpg.Connection, hours: int) -> None:
    await conn.execute(DELETE_EXPIRED_SALES_REQUESTS, hours)
