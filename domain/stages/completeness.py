"""Completeness per product and stage: kept current by the refresh point before every write commits
(sql/functions/refresh.sql), recomputed set-based by jobs when needs or attribute sets change, and read back
with a flag when a job has not reached a product yet."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from domain.errors import param_error
from domain.paging import decode_cursor, split_page
from domain.products.model import ProductNotFound
from domain.stages import store
from domain.stages.model import (
    CategoryCount,
    Completeness,
    StageCompleteness,
    Worklist,
    WorklistItem,
    covers,
    recomputing,
    stages_of,
)
from domain.types import STAGES


async def computed_now(conn: asyncpg.Connection, product_id: int) -> dict[str, StageCompleteness]:
    """A product's completeness computed from its data at this moment (what the refresh would store), after
    this transaction's own writes have been brought through the refresh point."""
    await store.update_own_derived_data(conn)
    return stages_of((await store.list_computed_completeness(conn, [product_id]))[product_id])


async def get_completeness(conn: asyncpg.Connection, code: str) -> Completeness:
    """A product's completeness in every stage; computed on the spot if it was never stored."""
    return (await get_completenesses(conn, [code]))[code]


async def get_completenesses(conn: asyncpg.Connection, codes: list[str]) -> dict[str, Completeness]:
    """Some products' completeness in every stage, by code, set-based; computed on the spot for those never
    stored. An unknown code is a 404 (the first in the list)."""
    stored = await store.list_products_completeness(conn, codes)
    for code in codes:
        if code not in stored:
            raise ProductNotFound(code)
    never = [s.id for s in stored.values() if s.stages is None]
    computed = await store.list_computed_completeness(conn, never) if never else {}
    return {
        s.code: Completeness(
            product=s.code,
            lifecycle=s.lifecycle,
            stages=stages_of(s.stages if s.stages is not None else computed[s.id]),
            recomputing=recomputing(s.stale_job) if s.stale_job is not None else None,
        )
        for s in stored.values()
    }


async def _scope(conn: asyncpg.Connection, category: str | None) -> tuple[str | None, int]:
    if category is None:
        return None, 0
    scope = await store.get_category_scope(conn, category)
    if scope is None:
        raise param_error("category", "not_found", f"No category has the code {category!r}.")
    return scope


async def _role_id(conn: asyncpg.Connection, role: str | None) -> int | None:
    if role is None:
        return None
    role_id = await store.get_role_id(conn, role)
    if role_id is None:
        raise param_error("role", "not_found", f"No product role has the code {role!r}.")
    return role_id


async def worklist(
    conn: asyncpg.Connection,
    *,
    stage: str | None,
    category: str | None,
    role: str | None,
    below: Decimal,
    limit: int,
    cursor: str | None,
) -> Worklist:
    """Incomplete products (keyset by code) with counts per stage and per category below the filter."""
    if stage is not None and stage not in STAGES:
        raise param_error("stage", "unknown_stage", f"{stage!r} is not a stage; stages are {', '.join(STAGES)}.")
    if not below.is_finite() or not Decimal(0) < below <= Decimal(1):  # (NaN compares with nothing)
        raise param_error("below", "out_of_range", "`below` is a completeness ratio in (0, 1].")
    path, depth = await _scope(conn, category)
    role_id = await _role_id(conn, role)
    after = decode_cursor(cursor, (str,))
    rows = await store.list_worklist(conn, stage, below, path, role_id, after[0] if after else None, limit + 1)
    page, next_cursor = split_page(rows, limit, lambda r: [r.code])
    only: list[str] | None = [stage] if stage else None
    items = [
        WorklistItem(
            product=r.code,
            labels=r.labels,
            category=r.category,
            role=r.role,
            lifecycle=r.lifecycle,
            stages=stages_of(r.stages, only or r.incomplete),
        )
        for r in page
    ]
    by_stage: dict[str, int] = {s: 0 for s in STAGES} | await store.count_incomplete_by_stage(conn, path, role_id)
    by_category: dict[str, CategoryCount] = {}
    for c in await store.count_incomplete_by_category(conn, path, role_id, depth):
        entry = by_category.setdefault(c.category, CategoryCount(category=c.category, labels=c.labels, incomplete={}))
        entry.incomplete[c.stage] = c.n
    jobs = [recomputing(j.id) for j in await store.list_active_jobs(conn) if covers(j.scope, path)]
    return Worklist(
        items=items,
        next_cursor=next_cursor,
        incomplete_by_stage=by_stage,
        incomplete_by_category=list(by_category.values()),
        recomputing=jobs,
    )
