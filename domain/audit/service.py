"""Recording and reading the audit trail; every write records in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from domain.audit.model import AuditEntry
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Page

Q = load("audit")


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Top-level fields whose values differ, as {field: {before, after}}; `version` is ignored."""
    before = before or {}
    after = after or {}
    changes: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) | set(after)):
        if key in ("version", "updated_at", "created_at"):
            continue
        if before.get(key) != after.get(key):
            changes[key] = {"before": before.get(key), "after": after.get(key)}
    return changes


async def record(
    conn: asyncpg.Connection,
    actor: Principal,
    action: str,
    entity: str,
    code: str,
    *,
    version: int | None,
    before: Any = None,
    after: Any = None,
) -> bool:
    """Write an audit record of a change; a change that changes nothing is not recorded (returns False)."""
    b = msgspec.to_builtins(before) if before is not None else None
    a = msgspec.to_builtins(after) if after is not None else None
    changes = diff(b, a)
    if not changes and action == "update":
        return False
    await conn.execute(Q.insert_entry.sql, actor.name, action, entity, code, version, changes)
    return True


async def list_entries(
    conn: asyncpg.Connection,
    *,
    entity: str | None,
    code: str | None,
    actor: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    """Audit records, newest first."""
    after = decode_cursor(cursor, (int,))
    rows = await conn.fetch(Q.list_entries.sql, entity, code, actor, since, after[0] if after else None, limit + 1)
    items = [msgspec.convert(dict(r), AuditEntry) for r in rows]
    items, next_cursor = split_page(items, limit, lambda e: [e.id])
    return Page(items=items, next_cursor=next_cursor)
