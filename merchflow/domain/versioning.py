"""Optimistic concurrency: every mutable resource has a `version`, sent as a strong ETag."""

from __future__ import annotations

from merchflow.domain.errors import PreconditionFailed


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
