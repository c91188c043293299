"""Creating, listing, revoking and checking API keys; secrets are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets

import asyncpg

from domain.keys import store
from domain.keys.model import ROLES, InvalidKeyName, InvalidRole, KeyExists, KeyInfo, KeyNotFound, NewKey, Principal

KEY_PREFIX = "mf_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def hash_secret(secret: str) -> bytes:
    # Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode("utf-8")).digest()


async def create_key(conn: asyncpg.Connection, roles: list[str], name: str | None = None) -> NewKey:
    """Make a key with these roles; the secret is returned once and never stored."""
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise InvalidRole(f"Unknown or missing roles {unknown}; roles are {', '.join(ROLES)}.")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    name = name or f"key-{secret[3:11].lower()}"
    if not _NAME.match(name):
        raise InvalidKeyName("A key name is letters, digits, `_.@-`, at most 64 characters.")
    try:
        info = await store.insert_key(conn, name, secret[:7], hash_secret(secret), sorted(set(roles)))
    except asyncpg.UniqueViolationError:
        raise KeyExists(f"A key named {name!r} exists already.") from None
    return NewKey(info=info, secret=secret)


async def list_keys(conn: asyncpg.Connection) -> list[KeyInfo]:
    """Every key, without secrets."""
    return await store.list_keys(conn)


async def revoke_key(conn: asyncpg.Connection, name: str) -> KeyInfo:
    """Revoke a key: it stops working at once."""
    info = await store.update_key_revoked(conn, name)
    if info is None:
        raise KeyNotFound(f"No key is named {name!r}.")
    return info


async def delete_key(conn: asyncpg.Connection, name: str) -> bool:
    """Forget a key by name (true when there was one); the audit trail keeps its name."""
    return await store.delete_key(conn, name)


async def authenticate(conn: asyncpg.Connection, secret: str) -> Principal | None:
    """The principal of an active key, or None."""
    found = await store.get_key_by_hash(conn, hash_secret(secret))
    if found is None:
        return None
    name, roles = found
    return Principal(name=name, roles=frozenset(roles))
