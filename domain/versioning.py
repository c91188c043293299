"""Optimistic concurrency: every mutable resource has a `version`, sent as a strong ETag; and what every
PUT and PATCH of such a resource shares (what it writes, a merge patch over it, a PUT that creates)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
import msgspec

from domain.errors import DomainError, PreconditionFailed
from domain.keys.model import Principal
from domain.types import Code
from domain.validation import convert_or_raise, merge_patch

F = TypeVar("F", bound=msgspec.Struct)
C = TypeVar("C", bound=msgspec.Struct)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header asks for; None for no header or `*`. Unparseable tags match nothing."""
    if header is None or header.strip() == "*":
        return None
    tag = header.split(",")[0].strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    # ASCII digits only: a header arrives as latin-1, and `²` is a digit to str.isdigit() but not to int().
    return int(tag) if tag.isascii() and tag.isdigit() else -1


class VersionMismatch(PreconditionFailed):
    """`If-Match` names another version than the stored one (it changed since the client read it), or a PUT
    with `If-Match` names a resource that does not exist."""

    code = "version-mismatch"


def check_version(expected: int | None, current: int, what: str) -> None:
    """412 when the client's If-Match names another version than the stored one."""
    if expected is not None and expected != current:
        raise VersionMismatch(
            f"{what} is at version {current}, not {expected}: it changed since you read it.", current_version=current
        )


def matches_none(header: str | None, version: int) -> bool:
    """True when If-None-Match names this version (or `*`): the client's copy is current."""
    if header is None:
        return False
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return "*" in tags or str(version) in tags


def matches_tag(header: str | None, tag: str) -> bool:
    """True when If-None-Match names this entity tag (quoted, as sent in ETag) or `*`."""
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or tag in tags


def writable(resource: msgspec.Struct, fields_type: type[msgspec.Struct]) -> dict[str, Any]:
    """What a PUT or PATCH with `fields_type` writes, as it stands on `resource` (JSON builtins): the base a
    merge patch applies to, and what a write is compared with to skip a no-op."""
    return {f.encode_name: msgspec.to_builtins(getattr(resource, f.name)) for f in msgspec.structs.fields(fields_type)}


def unchanged(resource: msgspec.Struct, fields: msgspec.Struct) -> bool:
    """True when writing `fields` would leave `resource` as it is (no new version, no audit record)."""
    same: bool = writable(resource, type(fields)) == msgspec.to_builtins(fields)
    return same


def patched(resource: msgspec.Struct, patch: msgspec.Struct, fields_type: type[F]) -> F:
    """The fields `resource` has once the RFC 7396 merge `patch` is applied, validated (422 listing every
    invalid field)."""
    return convert_or_raise(merge_patch(writable(resource, fields_type), msgspec.to_builtins(patch)), fields_type)


def created_by_put(
    create_type: type[C], what: str, code: str, fields: msgspec.Struct, expected: int | None, code_type: Any = Code
) -> C:
    """The body that creates `what` when a PUT names a code that does not exist: the code (checked) and the
    PUT's fields. With If-Match the client expected an existing resource: 412."""
    if expected is not None:
        raise VersionMismatch(f"{what} does not exist.")
    return create_type(code=convert_or_raise(code, code_type, "/code"), **msgspec.structs.asdict(fields))


L = TypeVar("L")  # a resource as its lock reads it (the resource, or the resource with the ids a write needs)


def _same(value: Any) -> Any:
    return value


Create = Callable[[asyncpg.Connection, Principal, Any], Awaitable[Any]]


async def _no_create(conn: asyncpg.Connection, actor: Principal, body: Any) -> Any:
    raise AssertionError("this resource is not created by PUT")


async def _no_delete(conn: asyncpg.Connection, actor: Principal, found: Any) -> None:
    raise AssertionError("this resource is not deleted")


@dataclass(frozen=True, slots=True)
class Versioned(Generic[L, F]):
    """What PUT, PATCH and DELETE of one kind of versioned resource share, each in its own transaction: lock
    the resource by its code (404 when it is not there), check If-Match (412), apply a merge patch (422
    listing every invalid field), skip a write that changes nothing, and create the resource when a PUT names
    a code that does not exist. What the resource itself does — check and write a creation, an update, a
    deletion, with its audit record — comes in as its own functions."""

    what: str  # for messages: "Category tree"
    fields: type[F]  # the writable fields: the body of PUT
    create_body: type[msgspec.Struct]  # the body of POST: the fields and the code
    lock: Callable[[asyncpg.Connection, str], Awaitable[L | None]]
    not_found: Callable[[str], DomainError]
    update: Callable[[asyncpg.Connection, Principal, L, F], Awaitable[Any]]  # write changed fields
    create: Create = _no_create  # create from a create body (a PUT naming a new code)
    delete: Callable[[asyncpg.Connection, Principal, L], Awaitable[None]] = _no_delete  # delete what is locked
    resource: Callable[[L], Any] = _same  # the resource of what the lock read
    code_type: Any = Code
    named: Callable[[str], str] = str  # how messages name the resource of a code (a location: `hz/A-01`)

    async def locked(self, conn: asyncpg.Connection, code: str, expected: int | None) -> L:
        """The resource, locked (the caller holds the transaction); 404 when it does not exist, 412 when
        If-Match names another version."""
        found = await self.lock(conn, code)
        if found is None:
            raise self.not_found(code)
        check_version(expected, self.resource(found).version, f"{self.what} {self.named(code)!r}")
        return found

    async def put(
        self, conn: asyncpg.Connection, actor: Principal, code: str, fields: F, expected: int | None
    ) -> tuple[Any, bool]:
        """Idempotent upsert: create (True) or replace the writable fields (False)."""
        async with conn.transaction():
            found = await self.lock(conn, code)
            if found is None:
                what = f"{self.what} {self.named(code)!r}"
                body = created_by_put(self.create_body, what, code, fields, expected, self.code_type)
                return await self.create(conn, actor, body), True
            return await self._write(conn, actor, found, fields, expected, code), False

    async def patch(
        self, conn: asyncpg.Connection, actor: Principal, code: str, patch: msgspec.Struct, expected: int | None
    ) -> Any:
        """Apply a JSON merge patch; the result is checked like a PUT body."""
        async with conn.transaction():
            found = await self.lock(conn, code)
            if found is None:
                raise self.not_found(code)
            fields = patched(self.resource(found), patch, self.fields)
            return await self._write(conn, actor, found, fields, expected, code)

    async def remove(self, conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
        """Delete the resource (404 and 412 first)."""
        async with conn.transaction():
            await self.delete(conn, actor, await self.locked(conn, code, expected))

    async def _write(
        self, conn: asyncpg.Connection, actor: Principal, found: L, fields: F, expected: int | None, code: str
    ) -> Any:
        current = self.resource(found)
        check_version(expected, current.version, f"{self.what} {self.named(code)!r}")
        if unchanged(current, fields):
            return current
        return await self.update(conn, actor, found, fields)
