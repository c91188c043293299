"""Authentication (Bearer API keys) and authorisation (the roles each route declares).

Every route handler declares who may call it, with `opt=allow(...)` or `opt=PUBLIC`. The app refuses
to start when a handler declares neither, so a new route can never be open by accident. `admin` may
call every route. The check runs as a middleware (after routing, before the handler): a guard would cost
a copy of the handler per request.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

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


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


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


# Where a handler keeps the roles it allows, worked out on its first request.
_RESOLVED = "merch_allowed_roles"


async def principal_for(scope: Scope, state: Any) -> Principal | None:
    """The principal of the request's Bearer key (from the key cache, else the database); None without a key
    or for an unknown or revoked one."""
    secret = _bearer(scope)
    if secret is None:
        return None
    cache: KeyCache = state.key_cache
    principal = cache.get(secret)
    if principal is None:
        async with state.pool.acquire() as conn:
            principal = await keys.authenticate(conn, secret)
        if principal is not None:
            cache.put(secret, principal)
    return principal


async def authorize(scope: Scope) -> None:
    """Find the key's principal (kept in `scope["user"]`), then check the route handler's roles."""
    handler = scope["route_handler"]
    if (roles := handler.opt.get(_RESOLVED, ...)) is ...:
        roles = handler.opt[_RESOLVED] = declared_roles(handler)
    if roles is None:
        return
    if _bearer(scope) is None:
        raise NotAuthorizedException("An API key is required: send `Authorization: Bearer <key>`.")
    state = scope["litestar_app"].state
    principal = await principal_for(scope, state)
    if principal is None:
        raise NotAuthorizedException("The API key is unknown or revoked.")
    scope["user"] = principal
    state.limiter.take(scope, principal)  # (api/limits.py: a 429 once the key's bucket is empty)
    if not principal.has_any(roles):
        raise PermissionDeniedException(
            f"This route needs one of the roles {', '.join(sorted(roles))}; "
            f"the key has {', '.join(sorted(principal.roles))}."
        )


def auth_middleware(app: ASGIApp) -> ASGIApp:
    """Authorise every HTTP request against its route's declared roles before the handler runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            await authorize(scope)
        await app(scope, receive, send)

    return middleware


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    assert isinstance(user, Principal), "the guard sets the principal before any handler runs"
    return user
