"""The audit trail: who changed what, when, with the change — shapes and the diff rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Action = Literal["create", "update", "delete", "move", "transition", "bind", "needs", "correct"]


class Change(msgspec.Struct, frozen=True, kw_only=True):
    before: Any = None
    after: Any = None


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One audit record; `reason` is given for corrections and removals of reported data."""

    id: int
    at: datetime
    actor: str
    action: Action
    entity: str
    code: str
    version: int | None
    changes: dict[str, Change]
    reason: str | None = None
    import_id: int | None = None  # the import (its job) that wrote this record, if one did


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of audit records, newest first."""

    items: list[AuditEntry]
    next_cursor: str | None


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
