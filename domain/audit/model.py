"""The audit trail: who changed what, when, with the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Action = Literal["create", "update", "delete", "move", "transition", "bind", "needs"]


class Change(msgspec.Struct, frozen=True, kw_only=True):
    before: Any = None
    after: Any = None


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    actor: str
    action: Action
    entity: str
    code: str
    version: int | None
    changes: dict[str, Change]
