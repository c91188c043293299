"""The attribute application table: which items each stage reads and which it requires."""

from __future__ import annotations

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import FieldError, NotFound, ValidationFailed, pointer_join
from domain.jobs import service as jobs
from domain.keys.model import Principal
from domain.sql import load
from domain.stages.model import (
    STAGE_ROLE,
    STAGES,
    InformationField,
    Need,
    NeedsBody,
    StageList,
    StageNeeds,
    StageOut,
)

Q = load("stages")


def unknown_stage(stage: str) -> NotFound:
    return NotFound(f"{stage!r} is not a stage; stages are {', '.join(STAGES)}.", code="stage-not-found")


async def _needs(conn: asyncpg.Connection, stage: str | None) -> dict[str, list[Need]]:
    out: dict[str, list[Need]] = {s: [] for s in STAGES}
    for r in await conn.fetch(Q.list_needs.sql, stage):
        out[r["stage"]].append(msgspec.convert(dict(r), Need))
    return out


async def list_stages(conn: asyncpg.Connection) -> StageList:
    """The six stages with how many items each reads and requires, and the built-in items."""
    needs = await _needs(conn, None)
    stages = [
        StageOut(
            code=r["code"],
            position=r["position"],
            labels=r["labels"],
            role=STAGE_ROLE[r["code"]],
            reads=len(needs[r["code"]]),
            requires=sum(n.required for n in needs[r["code"]]),
        )
        for r in await conn.fetch(Q.list_stages.sql)
    ]
    fields = [msgspec.convert(dict(r), InformationField) for r in await conn.fetch(Q.list_information_fields.sql)]
    return StageList(items=stages, fields=fields)


async def get_needs(conn: asyncpg.Connection, stage: str) -> StageNeeds:
    """What one stage reads and requires, in its order."""
    if stage not in STAGES:
        raise unknown_stage(stage)
    labels = {r["code"]: r["labels"] for r in await conn.fetch(Q.list_stages.sql)}
    return StageNeeds(
        stage=stage, labels=labels[stage], role=STAGE_ROLE[stage], needs=(await _needs(conn, stage))[stage]
    )


async def put_needs(conn: asyncpg.Connection, actor: Principal, stage: str, body: NeedsBody) -> StageNeeds:
    """Replace a stage's needs; when what it requires changes, every product's completeness is recomputed by a job."""
    if stage not in STAGES:
        raise unknown_stage(stage)
    async with conn.transaction():
        await conn.fetchrow(Q.lock_stage.sql, stage)
        fields = {r["code"]: r for r in await conn.fetch(Q.list_information_fields.sql)}
        attributes = {r["code"]: r["id"] for r in await conn.fetch(Q.list_attribute_ids.sql, body.reads)}
        errors: list[FieldError] = []
        seen: set[str] = set()
        for i, item in enumerate(body.reads):
            where = pointer_join("/reads", i)
            if item in seen:
                errors.append(FieldError(pointer=where, code="duplicate_item", message=f"`{item}` is listed twice."))
            elif item not in fields and item not in attributes:
                errors.append(
                    FieldError(
                        pointer=where,
                        code="unknown_item",
                        message=f"`{item}` is neither a built-in field nor an attribute.",
                    )
                )
            seen.add(item)
        for i, item in enumerate(body.requires):
            where = pointer_join("/requires", i)
            if item not in seen:
                errors.append(
                    FieldError(
                        pointer=where, code="not_read", message=f"`{item}` is required but not read; add it to `reads`."
                    )
                )
            elif item in fields and not fields[item]["requirable"]:
                errors.append(
                    FieldError(
                        pointer=where,
                        code="not_requirable",
                        message=f"`{item}` is derived; a stage can read it but not require it.",
                    )
                )
        if len(set(body.requires)) != len(body.requires):
            errors.append(FieldError(pointer="/requires", code="duplicate_item", message="An item is required twice."))
        if errors:
            raise ValidationFailed(errors)
        before = await get_needs(conn, stage)
        required = set(body.requires)
        current = [(n.item, n.required) for n in before.needs]
        wanted = [(item, item in required) for item in body.reads]
        if current == wanted:
            return before
        await conn.execute(Q.delete_needs.sql, stage)
        await conn.execute(
            Q.insert_needs.sql,
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
