"""Completeness per product and stage: kept current by the refresh point before every write commits
(sql/functions/refresh.sql), recomputed set-based by jobs when needs or attribute sets change, and read back
with a flag when a job has not reached a product yet."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from domain.errors import NotFound, param_error
from domain.paging import decode_cursor, encode_cursor
from domain.sql import load
from domain.stages.model import (
    STAGES,
    CategoryCount,
    Completeness,
    Missing,
    Recomputing,
    StageCompleteness,
    Worklist,
    WorklistItem,
)

Q = load("completeness")


async def computed_now(conn: asyncpg.Connection, product_id: int) -> dict[str, StageCompleteness]:
    """A product's completeness computed from its data at this moment (what the refresh would store)."""
    rows = await conn.fetch(Q.list_computed_completeness.sql, [product_id])
    return stages_of(rows[0]["stages"])


def _stage(doc: dict[str, Any]) -> StageCompleteness:
    required, present = int(doc["required"]), int(doc["present"])
    missing = []
    for entry in sorted(doc["missing"]):
        item, _, sku = entry.partition(" ")
        missing.append(Missing(item=item, sku=sku or None))
    ratio = 1.0 if required == 0 else round(present / required, 4)
    return StageCompleteness(required=required, present=present, ratio=ratio, missing=missing)


def stages_of(doc: dict[str, Any], only: list[str] | None = None) -> dict[str, StageCompleteness]:
    return {s: _stage(doc[s]) for s in STAGES if s in doc and (only is None or s in only)}


async def get_completeness(conn: asyncpg.Connection, code: str) -> Completeness:
    """A product's completeness in every stage; computed on the spot if it was never stored."""
    row = await conn.fetchrow(Q.get_product_completeness.sql, code)
    if row is None:
        raise NotFound(f"No product has the code {code!r}.", code="product-not-found")
    doc = row["stages"]
    if doc is None:
        computed = await conn.fetch(Q.list_computed_completeness.sql, [row["id"]])
        doc = computed[0]["stages"]
    job = row["stale_job"]
    return Completeness(
        product=row["code"],
        lifecycle=row["lifecycle"],
        stages=stages_of(doc),
        recomputing=Recomputing(job=job, href=f"/v1/jobs/{job}") if job is not None else None,
    )


async def _scope(conn: asyncpg.Connection, category: str | None) -> tuple[str | None, int]:
    if category is None:
        return None, 0
    row = await conn.fetchrow(Q.get_category_scope.sql, category)
    if row is None:
        raise param_error("category", "not_found", f"No category has the code {category!r}.")
    return row["path"], int(row["depth"])


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
    if not Decimal(0) < below <= Decimal(1):
        raise param_error("below", "out_of_range", "`below` is a completeness ratio in (0, 1].")
    path, depth = await _scope(conn, category)
    role_id = None
    if role is not None:
        role_id = await conn.fetchval(Q.get_role_id.sql, role)
        if role_id is None:
            raise param_error("role", "not_found", f"No product role has the code {role!r}.")
    after = decode_cursor(cursor, (str,))
    rows = await conn.fetch(Q.list_worklist.sql, stage, below, path, role_id, after[0] if after else None, limit + 1)
    only: list[str] | None = [stage] if stage else None
    items = [
        WorklistItem(
            product=r["code"],
            labels=r["labels"],
            category=r["category"],
            role=r["role"],
            lifecycle=r["lifecycle"],
            stages=stages_of(r["stages"], only or list(r["incomplete"])),
        )
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor([rows[limit - 1]["code"]]) if len(rows) > limit else None
    by_stage: dict[str, int] = {s: 0 for s in STAGES}
    for r in await conn.fetch(Q.count_incomplete_by_stage.sql, path, role_id):
        by_stage[r["stage"]] = r["n"]
    by_category: dict[str, CategoryCount] = {}
    for r in await conn.fetch(Q.count_incomplete_by_category.sql, path, role_id, depth):
        entry = by_category.setdefault(
            r["category"], CategoryCount(category=r["category"], labels=r["labels"], incomplete={})
        )
        entry.incomplete[r["stage"]] = r["n"]
    jobs = [
        Recomputing(job=j["id"], href=f"/v1/jobs/{j['id']}")
        for j in await conn.fetch(Q.list_active_jobs.sql)
        if j["scope"] is None
        or path is None
        or path.startswith(j["scope"] + ".")
        or path == j["scope"]
        or j["scope"].startswith(path + ".")
    ]
    return Worklist(
        items=items,
        next_cursor=next_cursor,
        incomplete_by_stage=by_stage,
        incomplete_by_category=list(by_category.values()),
        recomputing=jobs,
    )
