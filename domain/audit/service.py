"""Recording and reading the audit trail. A write records in the transaction of the change it records."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from domain.audit import store
from domain.audit.model import AuditPage, diff
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.prices.model import parse_moment


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
    reason: str | None = None,
) -> bool:
    """Write an audit record of a change; a change that changes nothing is not recorded (returns False)."""
    b = msgspec.to_builtins(before) if before is not None else None
    a = msgspec.to_builtins(after) if after is not None else None
    changes = diff(b, a)
    if not changes and action == "update":
        return False
    await store.insert_entry(conn, actor.name, action, entity, code, version, changes, reason)
    return True


async def record_many(
    conn: asyncpg.Connection,
    actor: Principal,
    action: str,
    entity: str,
    changes: dict[str, tuple[Any, Any]],
    *,
    reason: str | None = None,
) -> None:
    """Write one audit record per code ({code: (before, after)}) of one action, in one statement."""
    codes = sorted(changes)
    diffs = [
        diff(
            msgspec.to_builtins(changes[c][0]) if changes[c][0] is not None else None,
            msgspec.to_builtins(changes[c][1]) if changes[c][1] is not None else None,
        )
        for c in codes
    ]
    await store.insert_entries(conn, actor.name, action, entity, codes, diffs, reason)


async def list_entries(
    conn: asyncpg.Connection,
    *,
    entity: str | None,
    code: str | None,
    actor: str | None,
    since: str | None,
    import_id: int | None = None,
    limit: int,
    cursor: str | None,
) -> AuditPage:
    """Audit records, newest first; `since` is an RFC 3339 moment with an offset (anything else is a 400: a
    bare number or a moment without an offset would be read as a Unix time or in the server's time zone)."""
    moment = parse_moment(since, "since")
    after = decode_cursor(cursor, (int,))
    items = await store.list_entries(
        conn,
        entity=entity,
        code=code,
        actor=actor,
        since=moment,
        import_id=import_id,
        before_id=after[0] if after else None,
        limit=limit + 1,
    )
    items, next_cursor = split_page(items, limit, lambda e: [e.id])
    return AuditPage(items=items, next_cursor=next_cursor)
