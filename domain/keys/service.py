"""Creating, listing, revoking and checking API keys; secrets are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets

import asyncpg
import msgspec

from domain.errors import Conflict, NotFound, RuleViolation
from domain.keys.model import ROLES, KeyInfo, NewKey, Principal
from domain.sql import load

Q = load("keys")
KEY_PREFIX = "mf_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def hash_secret(secret: str) -> bytes:
    # Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode("utf-8")).digest()


async def create_key(conn: asyncpg.Connection, roles: list[str], name: str | None = None) -> NewKey:
    """Make a key with these roles; the secret is returned once and never stored."""
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise RuleViolation(f"Unknown or missing roles {unknown}; roles are {', '.join(ROLES)}.", code="invalid-role")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    name = name or f"key-{secret[3:11].lower()}"
    if not _NAME.match(name):
        raise RuleViolation("A key name is letters, digits, `_.@-`, at most 64 characters.", code="invalid-key-name")
    try:
        row = await conn.fetchrow(Q.insert_key.sql, name, secret[:7], hash_secret(secret), sorted(set(roles)))
    except asyncpg.UniqueViolationError:
        raise Conflict(f"A key named {name!r} exists already.", code="key-exists") from None
    return NewKey(info=msgspec.convert(dict(row), KeyInfo), secret=secret)


async def list_keys(conn: asyncpg.Connection) -> list[KeyInfo]:
    """Every key, without secrets."""
    return [msgspec.convert(dict(r), KeyInfo) for r in await conn.fetch(Q.list_keys.sql)]


async def revoke_key(conn: asyncpg.Connection, name: str) -> KeyInfo:
    """Revoke a key: it stops working at once."""
    row = await conn.fetchrow(Q.update_key_revoked.sql, name)
    if row is None:
        raise NotFound(f"No key is named {name!r}.", code="key-not-found")
    return msgspec.convert(dict(row), KeyInfo)


async def authenticate(conn: asyncpg.Connection, secret: str) -> Principal | None:
    """The principal of an active key, or None."""
    row = await conn.fetchrow(Q.get_key_by_hash.sql, hash_secret(secret))
    if row is None:
        return None
    return Principal(name=row["name"], roles=frozenset(row["roles"]))
