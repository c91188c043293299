"""The attribute sets of categories: which attributes a category binds (and its products must or may
carry), inherited down the tree, the nearest binding winning. A change of what a set requires queues a
completeness recompute of the category's products."""

from __future__ import annotations

import asyncpg

from domain.attributes import store
from domain.attributes.model import (
    AttributeSet,
    AttributeSetEntry,
    BindingList,
    binding_errors,
    canonical_bindings,
    requirements,
)
from domain.attributes.values import AttributeDef
from domain.audit import service as audit
from domain.categories.model import CategoryNotFound
from domain.errors import ValidationFailed
from domain.jobs import service as jobs
from domain.keys.model import Principal
from domain.types import STAGES


async def get_attribute_set(conn: asyncpg.Connection, code: str, *, effective: bool) -> AttributeSet:
    """A category's own binding; with `effective` also what it inherits, the nearest binding winning."""
    category_id = await store.get_category_id(conn, code)
    if category_id is None:
        raise CategoryNotFound(code)
    entries = await store.list_attribute_set(conn, category_id, effective)
    return AttributeSet(category=code, effective=effective, attributes=entries)


async def put_attribute_set(conn: asyncpg.Connection, actor: Principal, code: str, body: BindingList) -> AttributeSet:
    """Replace a category's own binding; unknown or repeated attributes or stages are 422; audited."""
    async with conn.transaction():
        category_id = await store.lock_category(conn, code)
        if category_id is None:
            raise CategoryNotFound(code)
        known = await store.list_attribute_codes(conn, sorted({b.attribute for b in body.attributes}))
        errors = binding_errors(body.attributes, known)
        if errors:
            raise ValidationFailed(errors)
        wanted = canonical_bindings(body.attributes)
        current = await store.list_own_bindings(conn, category_id)
        recompute = None
        if wanted != current:
            await store.replace_bindings(conn, category_id, wanted)
            changed = requirements(wanted) ^ requirements(current)
            if changed:
                reason = f"attribute set of {code} changed"
                stages: list[str] = [s for s in STAGES if s in {stage for _, stage in changed}]
                recompute = await jobs.enqueue_for_category(conn, actor, reason, category_id, stages)
            await audit.record(
                conn,
                actor,
                "bind",
                "category",
                code,
                version=None,
                before={"attributes": current},
                after={"attributes": wanted},
            )
        entries = await store.list_attribute_set(conn, category_id, False)
        return AttributeSet(category=code, effective=False, attributes=entries, recompute=recompute)


async def effective_attribute_set(conn: asyncpg.Connection, category_id: int) -> list[AttributeSetEntry]:
    """A category's effective set (own and inherited, nearest binding wins) in shopper-attention order."""
    return await store.list_attribute_set(conn, category_id, True)


async def effective_definitions(conn: asyncpg.Connection, category_id: int) -> dict[str, AttributeDef]:
    """The attributes a product of this category may carry, as the value checker needs them (one query; their
    rows share-locked until the transaction ends)."""
    return (await effective_definitions_of(conn, [category_id]))[category_id]


async def effective_definitions_of(
    conn: asyncpg.Connection, category_ids: list[int]
) -> dict[int, dict[str, AttributeDef]]:
    """`effective_definitions` of each of these categories, in one query (a category with none: empty)."""
    found: dict[int, dict[str, AttributeDef]] = {c: {} for c in category_ids}
    for category_id, definition in await store.list_effective_definitions_of(conn, category_ids):
        found[category_id][definition.code] = definition
    return found
