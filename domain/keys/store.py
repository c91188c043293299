"""The only place that runs the API keys' statements (sql/queries/keys.sql)."""

from __future__ import annotations

import asyncpg
import msgspec

from domain.keys.model import KeyInfo
from domain.sql import load

Q = load("keys")
INSERT_KEY = Q.insert_key.sql
GET_KEY_BY_HASH = Q.get_key_by_hash.sql
LIST_KEYS = Q.list_keys.sql
UPDATE_KEY_REVOKED = Q.update_key_revoked.sql
DELETE_KEY = Q.delete_key.sql


async def insert_key(conn: asyncpg.Connection, name: str, prefix: str, secret_hash: bytes, roles: list[str]) -> KeyInfo:
    """The new key; a taken name raises asyncpg's UniqueViolationError."""
    return msgspec.convert(dict(await conn.fetchrow(INSERT_KEY, name, prefix, secret_hash, roles)), KeyInfo)


async def get_key_by_hash(conn: asyncpg.Connection, secret_hash: bytes) -> tuple[str, list[str]] | None:
    """(name, roles) of the active key with this hash."""
    row = await conn.fetchrow(GET_KEY_BY_HASH, secret_hash)
    return None if row is None else (row["name"], list(row["roles"]))


async def list_keys(conn: asyncpg.Connection) -> list[KeyInfo]:
    return [msgspec.convert(dict(r), KeyInfo) for r in await conn.fetch(LIST_KEYS)]


async def update_key_revoked(conn: asyncpg.Connection, name: str) -> KeyInfo | None:
    row = await conn.fetchrow(UPDATE_KEY_REVOKED, name)
    return None if row is None else msgspec.convert(dict(row), KeyInfo)


async def delete_key(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval(DELETE_KEY, name))
