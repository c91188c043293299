"""Keyset pagination: opaque cursors that carry the last sort key of a page."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from domain.errors import param_error

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


# An integer in a sort key is a row id or a position: a cursor's integer fits PostgreSQL's bigint, or no page of
# any list handed it out (and the statement it bounds could not take it).
INT_RANGE = range(-(2**63), 2**63)


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and value in INT_RANGE
    return isinstance(value, kind)


def decode_cursor(cursor: str | None, shape: tuple[type, ...]) -> list[Any] | None:
    """The sort key a cursor carries, checked against the expected types (an integer within bigint's range); a
    bad cursor is a 400."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(shape)
        or not all(_fits(v, t) for v, t in zip(key, shape, strict=True))
    ):
        raise param_error("cursor", "invalid_cursor", "The cursor is not one this list handed out.")
    return key


def split_page(rows: list[Any], limit: int, key_of: Any) -> tuple[list[Any], str | None]:
    """Rows were fetched with limit + 1: keep `limit` and make the cursor from the last kept row."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(key_of(rows[-1]))
    return rows, None
