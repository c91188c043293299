"""Authentication (Bearer API keys) and authorisation (the roles each route declares).

Every route handler declares who may call it, with `opt=allow(...)` or `opt=PUBLIC`. The app refuses
to start when a handler declares neither, so a new route can never be open by accident. `admin` may
call every route.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from domain.keys import service as keys
from domain.keys.model import ROLES, Principal

ROLES_KEY = "roles"
PUBLIC: dict[str, Any] = {"public": True}


def allow(*roles: str) -> dict[str, Any]:
    """Route option: these roles (and admin) may call the route."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return {ROLES_KEY: frozenset(roles) | {"admin"}}


def declared_roles(handler: BaseRouteHandler) -> frozenset[str] | None:
    """The roles a handler allows; None for a public handler."""
    if handler.opt.get("public") or _is_framework_handler(handler):
        return None
    roles = handler.opt.get(ROLES_KEY)
    if not isinstance(roles, frozenset):
        raise RuntimeError(f"route handler {handler.handler_name} declares no roles: use opt=allow(...) or opt=PUBLIC")
    return roles


def _is_framework_handler(handler: BaseRouteHandler) -> bool:
    # Litestar's own handlers: the OpenAPI documents and automatic OPTIONS answers.
    module = getattr(handler.fn, "__module__", "") or ""
    return module.startswith("litestar.") or handler.handler_name == "options_handler"


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class KeyCache:
    """Recently seen valid keys, so that a request does not pay a database round trip to authenticate.
    A revoked key stops working within `ttl` seconds (0 turns the cache off)."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float]] = {}

    def get(self, secret: str) -> Principal | None:
        entry = self._entries.get(secret)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, secret: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[secret] = (principal, time.monotonic() + self.ttl)


async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The one guard of the app: find the key's principal, then check the handler's roles."""
    roles = declared_roles(handler)
    if roles is None:
        return
    secret = _bearer(connection)
    if secret is None:
        raise NotAuthorizedException("An API key is required: send `Authorization: Bearer <key>`.")
    cache: KeyCache = connection.app.state.key_cache
    principal = cache.get(secret)
    if principal is None:
        async with connection.app.state.pool.acquire() as conn:
            principal = await keys.authenticate(conn, secret)
        if principal is not None:
            cache.put(secret, principal)
    if principal is None:
        raise NotAuthorizedException("The API key is unknown or revoked.")
    connection.scope["user"] = principal
    if not principal.has_any(roles):
        raise PermissionDeniedException(
            f"This route needs one of the roles {', '.join(sorted(roles))}; "
            f"the key has {', '.join(sorted(principal.roles))}."
        )


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    assert isinstance(user, Principal), "the guard sets the principal before any handler runs"
    return user
