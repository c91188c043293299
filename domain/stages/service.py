"""The attribute application table: which items each stage reads and which it requires."""

from __future__ import annotations

import asyncpg

from domain.audit import service as audit
from domain.errors import ValidationFailed
from domain.jobs import service as jobs
from domain.keys.model import Principal
from domain.stages import store
from domain.stages.model import (
    STAGE_ROLE,
    Need,
    NeedsBody,
    StageList,
    StageNeeds,
    StageNotFound,
    StageOut,
    needs_errors,
)
from domain.types import STAGES


async def _needs(conn: asyncpg.Connection, stage: str | None) -> dict[str, list[Need]]:
    out: dict[str, list[Need]] = {s: [] for s in STAGES}
    for of, need in await store.list_needs(conn, stage):
        out[of].append(need)
    return out


async def list_stages(conn: asyncpg.Connection) -> StageList:
    """The six stages with how many items each reads and requires, and the built-in items."""
    needs = await _needs(conn, None)
    stages = [
        StageOut(
            code=s.code,
            position=s.position,
            labels=s.labels,
            role=STAGE_ROLE[s.code],
            reads=len(needs[s.code]),
            requires=sum(n.required for n in needs[s.code]),
        )
        for s in await store.list_stages(conn)
    ]
    return StageList(items=stages, fields=await store.list_information_fields(conn))


async def get_needs(conn: asyncpg.Connection, stage: str) -> StageNeeds:
    """What one stage reads and requires, in its order."""
    if stage not in STAGES:
        raise StageNotFound(stage)
    labels = {s.code: s.labels for s in await store.list_stages(conn)}
    return StageNeeds(
        stage=stage,
        labels=labels[stage],
        role=STAGE_ROLE[stage],
        needs=(await _needs(conn, stage))[stage],
    )


async def put_needs(conn: asyncpg.Connection, actor: Principal, stage: str, body: NeedsBody) -> StageNeeds:
    """Replace a stage's needs; when what it requires changes, every product's completeness is recomputed by a job."""
    if stage not in STAGES:
        raise StageNotFound(stage)
    async with conn.transaction():
        await store.lock_stage(conn, stage)
        fields = {f.code: f for f in await store.list_information_fields(conn)}
        attributes = await store.list_attribute_ids(conn, body.reads)
        errors = needs_errors(body, fields, set(attributes))
        if errors:
            raise ValidationFailed(errors)
        before = await get_needs(conn, stage)
        required = set(body.requires)
        current = [(n.item, n.required) for n in before.needs]
        wanted = [(item, item in required) for item in body.reads]
        if current == wanted:
            return before
        await store.delete_needs(conn, stage)
        await store.insert_needs(
            conn,
            stage,
            [item if item in fields else None for item in body.reads],
            [attributes[item] if item not in fields else None for item in body.reads],
            [item in required for item in body.reads],
            list(range(1, len(body.reads) + 1)),
        )
        after = await get_needs(conn, stage)
        await audit.record(
            conn,
            actor,
            "needs",
            "stage",
            stage,
            version=None,
            before={"reads": [n.item for n in before.needs], "requires": [n.item for n in before.needs if n.required]},
            after={"reads": body.reads, "requires": [i for i in body.reads if i in required]},
        )
        recompute = None
        if {i for i, r in current if r} != required:
            recompute = await jobs.enqueue_recompute(conn, actor, f"needs of {stage} changed", None, [stage])
        return StageNeeds(
            stage=after.stage, labels=after.labels, role=after.role, needs=after.needs, recompute=recompute
        )
