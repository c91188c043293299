"""The only place that runs the stages area's statements: the attribute application table
(sql/queries/stages.sql), completeness and the worklist (completeness.sql), stage views and lifecycle
transitions (views.sql)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from domain.products.model import Lifecycle
from domain.sql import load
from domain.stages.model import InformationField, Need
from domain.types import Stage

S = load("stages")
LIST_STAGES = S.list_stages.sql
LIST_INFORMATION_FIELDS = S.list_information_fields.sql
LIST_NEEDS = S.list_needs.sql
LOCK_STAGE = S.lock_stage.sql
LIST_ATTRIBUTE_IDS = S.list_attribute_ids.sql
DELETE_NEEDS = S.delete_needs.sql
INSERT_NEEDS = S.insert_needs.sql

C = load("completeness")
LIST_COMPUTED_COMPLETENESS = C.list_computed_completeness.sql
UPDATE_OWN_DERIVED_DATA = C.update_own_derived_data.sql
LIST_PRODUCTS_COMPLETENESS = C.list_products_completeness.sql
LIST_WORKLIST = C.list_worklist.sql
COUNT_INCOMPLETE_BY_STAGE = C.count_incomplete_by_stage.sql
COUNT_INCOMPLETE_BY_CATEGORY = C.count_incomplete_by_category.sql
LIST_ACTIVE_JOBS = C.list_active_jobs.sql
GET_CATEGORY_SCOPE = C.get_category_scope.sql
GET_ROLE_ID = C.get_role_id.sql

V = load("views")
LIST_VIEW_PRODUCTS = V.list_view_products.sql
LIST_VIEW_SKUS = V.list_view_skus.sql
LIST_VIEW_STOCK = V.list_view_stock.sql
LIST_VIEW_TRADE = V.list_view_trade.sql
LIST_VIEW_CATEGORY_SHARES = V.list_view_category_shares.sql
LIST_VIEW_RETURNS = V.list_view_returns.sql
LOCK_PRODUCT_LIFECYCLE = V.lock_product_lifecycle.sql
UPDATE_PRODUCT_LIFECYCLE = V.update_product_lifecycle.sql
IS_STOCK_RECEIVED = V.is_stock_received.sql
LIST_SKUS_WITHOUT_SALE_PRICE = V.list_skus_without_sale_price.sql


class StageRow(msgspec.Struct, frozen=True, kw_only=True):
    code: Stage
    position: int
    labels: dict[str, str]


class StoredCompleteness(msgspec.Struct, frozen=True, kw_only=True):
    """A product's stored completeness document (None if never stored) and the active recompute job that
    has not reached it yet."""

    id: int
    code: str
    lifecycle: str
    stages: dict[str, Any] | None
    stale_job: int | None


class WorklistRow(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    category: str
    role: str
    lifecycle: str
    stages: dict[str, Any]
    incomplete: list[str]


class CategoryStageCount(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    labels: dict[str, str]
    stage: str
    n: int


class ActiveJob(msgspec.Struct, frozen=True, kw_only=True):
    """A recompute job not finished yet, with the category path it covers (None: every product)."""

    id: int
    scope: str | None


class ProductLifecycle(msgspec.Struct, frozen=True, kw_only=True):
    """A product's lifecycle state, read under its row lock for a transition."""

    id: int
    code: str
    lifecycle: Lifecycle
    version: int


# The attribute application table.


async def list_stages(conn: asyncpg.Connection) -> list[StageRow]:
    return [msgspec.convert(dict(r), StageRow) for r in await conn.fetch(LIST_STAGES)]


async def list_information_fields(conn: asyncpg.Connection) -> list[InformationField]:
    return [msgspec.convert(dict(r), InformationField) for r in await conn.fetch(LIST_INFORMATION_FIELDS)]


async def list_needs(conn: asyncpg.Connection, stage: str | None) -> list[tuple[str, Need]]:
    """(stage, need) of one stage or every stage, in each stage's order."""
    return [(r["stage"], msgspec.convert(dict(r), Need)) for r in await conn.fetch(LIST_NEEDS, stage)]


async def lock_stage(conn: asyncpg.Connection, stage: str) -> None:
    await conn.fetchrow(LOCK_STAGE, stage)


async def list_attribute_ids(conn: asyncpg.Connection, codes: list[str]) -> dict[str, int]:
    """The ids of those of `codes` that are attributes."""
    return {r["code"]: r["id"] for r in await conn.fetch(LIST_ATTRIBUTE_IDS, codes)}


async def delete_needs(conn: asyncpg.Connection, stage: str) -> None:
    await conn.execute(DELETE_NEEDS, stage)


async def insert_needs(
    conn: asyncpg.Connection,
    stage: str,
    fields: list[str | None],
    attribute_ids: list[int | None],
    required: list[bool],
    positions: list[int],
) -> None:
    """Write a stage's needs: item k is `fields[k]` or `attribute_ids[k]` (the other is None)."""
    await conn.execute(INSERT_NEEDS, stage, fields, attribute_ids, required, positions)


# Completeness and the worklist.


async def update_own_derived_data(conn: asyncpg.Connection) -> None:
    await conn.execute(UPDATE_OWN_DERIVED_DATA)


async def list_computed_completeness(conn: asyncpg.Connection, product_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The completeness documents of some products computed now, by product id."""
    return {r["product_id"]: r["stages"] for r in await conn.fetch(LIST_COMPUTED_COMPLETENESS, product_ids)}


async def list_products_completeness(conn: asyncpg.Connection, codes: list[str]) -> dict[str, StoredCompleteness]:
    """Some products' stored completeness, by code (an unknown code is absent)."""
    rows = await conn.fetch(LIST_PRODUCTS_COMPLETENESS, codes)
    return {r["code"]: msgspec.convert(dict(r), StoredCompleteness) for r in rows}


async def list_worklist(
    conn: asyncpg.Connection,
    stage: str | None,
    below: Decimal,
    path: str | None,
    role_id: int | None,
    after: str | None,
    limit: int,
) -> list[WorklistRow]:
    rows = await conn.fetch(LIST_WORKLIST, stage, below, path, role_id, after, limit)
    return [msgspec.convert(dict(r), WorklistRow) for r in rows]


async def count_incomplete_by_stage(conn: asyncpg.Connection, path: str | None, role_id: int | None) -> dict[str, int]:
    return {r["stage"]: r["n"] for r in await conn.fetch(COUNT_INCOMPLETE_BY_STAGE, path, role_id)}


async def count_incomplete_by_category(
    conn: asyncpg.Connection, path: str | None, role_id: int | None, depth: int
) -> list[CategoryStageCount]:
    rows = await conn.fetch(COUNT_INCOMPLETE_BY_CATEGORY, path, role_id, depth)
    return [msgspec.convert(dict(r), CategoryStageCount) for r in rows]


async def list_active_jobs(conn: asyncpg.Connection) -> list[ActiveJob]:
    return [msgspec.convert(dict(r), ActiveJob) for r in await conn.fetch(LIST_ACTIVE_JOBS)]


async def get_category_scope(conn: asyncpg.Connection, code: str) -> tuple[str, int] | None:
    """A category's path and depth."""
    row = await conn.fetchrow(GET_CATEGORY_SCOPE, code)
    return None if row is None else (row["path"], int(row["depth"]))


async def get_role_id(conn: asyncpg.Connection, code: str) -> int | None:
    role_id: int | None = await conn.fetchval(GET_ROLE_ID, code)
    return role_id


# Stage views.


def _by_product(rows: list[asyncpg.Record]) -> dict[int, list[dict[str, Any]]]:
    """Rows of several products grouped by product (each row without its product_id), in the rows' order."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        row = dict(r)
        grouped.setdefault(row.pop("product_id"), []).append(row)
    return grouped


async def list_view_trade(conn: asyncpg.Connection, product_ids: list[int], today: date) -> dict[int, dict[str, Any]]:
    return {pid: rows[0] for pid, rows in _by_product(await conn.fetch(LIST_VIEW_TRADE, product_ids, today)).items()}


async def list_view_category_shares(
    conn: asyncpg.Connection, product_ids: list[int], since: date, until: date
) -> dict[int, dict[str, Any]]:
    rows = await conn.fetch(LIST_VIEW_CATEGORY_SHARES, product_ids, since, until)
    return {pid: found[0] for pid, found in _by_product(rows).items()}


async def list_view_returns(
    conn: asyncpg.Connection, product_ids: list[int], since: date, until: date
) -> dict[int, dict[str, Any]]:
    rows = await conn.fetch(LIST_VIEW_RETURNS, product_ids, since, until)
    return {pid: found[0] for pid, found in _by_product(rows).items()}


async def list_view_products(conn: asyncpg.Connection, codes: list[str]) -> dict[str, dict[str, Any]]:
    """Some products for the views, by code (an unknown code is absent)."""
    return {r["code"]: dict(r) for r in await conn.fetch(LIST_VIEW_PRODUCTS, codes)}


async def list_view_skus(conn: asyncpg.Connection, product_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    return _by_product(await conn.fetch(LIST_VIEW_SKUS, product_ids))


async def list_view_stock(conn: asyncpg.Connection, product_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    return _by_product(await conn.fetch(LIST_VIEW_STOCK, product_ids))


# Lifecycle transitions.


async def lock_product_lifecycle(conn: asyncpg.Connection, code: str) -> ProductLifecycle | None:
    row = await conn.fetchrow(LOCK_PRODUCT_LIFECYCLE, code)
    return None if row is None else msgspec.convert(dict(row), ProductLifecycle)


async def update_product_lifecycle(conn: asyncpg.Connection, product_id: int, lifecycle: str) -> None:
    await conn.execute(UPDATE_PRODUCT_LIFECYCLE, product_id, lifecycle)


async def is_stock_received(conn: asyncpg.Connection, product_id: int) -> bool:
    return bool(await conn.fetchval(IS_STOCK_RECEIVED, product_id))


async def list_skus_without_sale_price(conn: asyncpg.Connection, product_id: int) -> list[str | None]:
    """The SKUs of a product with no sale price in force; [None] when it has no SKU at all."""
    return [r["sku"] for r in await conn.fetch(LIST_SKUS_WITHOUT_SALE_PRICE, product_id)]
