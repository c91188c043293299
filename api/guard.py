"""The input guard: what no route can take, refused before any route sees it (api/fastlane.py asks first).

A NUL character cannot be stored in PostgreSQL's text and is never meaningful in a code, a query or a
cursor; bytes that are not UTF-8 cannot be text at all. Either, anywhere in the path or the query string
(raw or percent-encoded), is answered here with a 400 problem naming where — instead of reaching a query
as a parameter PostgreSQL refuses (a 500). Every other request passes through untouched."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec

from api.problems import PROBLEM_JSON, Problem
from domain.errors import FieldError


def _flaw(raw: bytes) -> str | None:
    """What makes a path or a query string unusable, if anything."""
    decoded = unquote_to_bytes(raw)
    if b"\x00" in decoded:
        return "contains a NUL character"
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8"
    return None


def flaw_of(scope: Any) -> tuple[str, str] | None:
    """Where (`path` or `query`) and what makes an HTTP request unusable; None for nearly every request."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    for where, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
        flaw = _flaw(raw)
        if flaw is not None:
            return where, flaw
    return None


async def refuse(send: Any, where: str, flaw: str) -> None:
    """Answer the 400 problem of flaw_of's finding."""
    detail = f"The request's {'path' if where == 'path' else 'query string'} {flaw}."
    body = msgspec.json.encode(
        Problem(
            type="/problems/bad-request",
            title="Bad request",
            status=400,
            detail=detail,
            code="bad-request",
            errors=[FieldError(code="invalid_characters", message=detail, parameter=where)],
        )
    )
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
