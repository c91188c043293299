"""The only place that runs the audit trail's statements (sql/queries/audit.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from domain.audit.model import AuditEntry
from domain.sql import load

Q = load("audit")
INSERT_ENTRY = Q.insert_entry.sql
INSERT_ENTRIES = Q.insert_entries.sql
LIST_ENTRIES = Q.list_entries.sql


async def insert_entry(
    conn: asyncpg.Connection,
    actor: str,
    action: str,
    entity: str,
    code: str,
    version: int | None,
    changes: dict[str, dict[str, Any]],
    reason: str | None,
) -> None:
    await conn.execute(INSERT_ENTRY, actor, action, entity, code, version, changes, reason)


async def insert_entries(
    conn: asyncpg.Connection,
    actor: str,
    action: str,
    entity: str,
    codes: list[str],
    changes: list[dict[str, dict[str, Any]]],
    reason: str | None,
) -> None:
    await conn.execute(INSERT_ENTRIES, actor, action, entity, codes, changes, reason)


async def list_entries(
    conn: asyncpg.Connection,
    *,
    entity: str | None,
    code: str | None,
    actor: str | None,
    since: datetime | None,
    import_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEntry]:
    rows = await conn.fetch(LIST_ENTRIES, entity, code, actor, since, before_id, limit, import_id)
    return [msgspec.convert(dict(r), AuditEntry) for r in rows]
