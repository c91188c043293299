"""API keys and the principal a request acts as."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from domain.errors import Conflict, NotFound, RuleViolation

Role = Literal["admin", "purchasing", "warehouse", "listing", "marketing", "service", "finance", "storefront"]
ROLES: tuple[Role, ...] = (
    "admin",
    "purchasing",
    "warehouse",
    "listing",
    "marketing",
    "service",
    "finance",
    "storefront",
)
# Who may see money confidential to the business (cost, distribution prices, supplier terms, margins in money).
CONFIDENTIAL_ROLES = frozenset({"admin", "finance", "purchasing"})


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the key's name (recorded in the audit trail) and its roles."""

    name: str
    roles: frozenset[str]

    def has_any(self, roles: frozenset[str]) -> bool:
        return "admin" in self.roles or not self.roles.isdisjoint(roles)

    @property
    def sees_confidential(self) -> bool:
        """Cost and distribution prices, supplier terms, margins in money, confidential attributes: finance,
        purchasing and admin only — whatever route or view shows them."""
        return not CONFIDENTIAL_ROLES.isdisjoint(self.roles)


class KeyInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    prefix: str
    roles: list[str]
    created_at: datetime
    revoked_at: datetime | None


class NewKey(msgspec.Struct, frozen=True, kw_only=True):
    info: KeyInfo
    secret: str


class InvalidRole(RuleViolation):
    """A key is asked for with no role, or with one merchflow does not know."""

    code = "invalid-role"


class InvalidKeyName(RuleViolation):
    """A key name is not letters, digits and `_.@-` (at most 64 characters)."""

    code = "invalid-key-name"


class KeyExists(Conflict):
    """A key with the name exists already."""

    code = "key-exists"


class KeyNotFound(NotFound):
    """No key has the name."""

    code = "key-not-found"
