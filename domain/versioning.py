"""Optimistic concurrency: every mutable resource has a `version`, sent as a strong ETag; and what every
PUT and PATCH of such a resource shares (what it writes, a merge patch over it, a PUT that creates)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from domain.errors import PreconditionFailed
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
    return int(tag) if tag.isdigit() else -1


def check_version(expected: int | None, current: int, what: str) -> None:
    """412 when the client's If-Match names another version than the stored one."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"{what} is at version {current}, not {expected}: it changed since you read it.",
            code="version-mismatch",
            current_version=current,
        )


def matches_none(header: str | None, version: int) -> bool:
    """True when If-None-Match names this version (or `*`): the client's copy is current."""
    if header is None:
        return False
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return "*" in tags or str(version) in tags


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
        raise PreconditionFailed(f"{what} does not exist.", code="version-mismatch")
    return create_type(code=convert_or_raise(code, code_type, "/code"), **msgspec.structs.asdict(fields))
