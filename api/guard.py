"""The input guard: what no route can take, refused before any route sees it (api/edge.py asks first).

A NUL character cannot be stored in PostgreSQL's text and is never meaningful in a code, a query or a
cursor; bytes that are not UTF-8 cannot be text at all. Either, anywhere in the path or the query string
(raw or percent-encoded), is answered here with a 400 problem naming where — instead of reaching a query
as a parameter PostgreSQL refuses (a 500). Every other request passes through untouched."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec

from domain.errors import FieldError


def _flaw(raw: bytes) -> str | None:
    """What makes a path or a query string unusable, if anything."""
    decoded = unquote_to_bytes(raw) if b"%" in raw else raw  # (most paths: nothing to decode)
    if b"\x00" in decoded:
        return "contains a NUL character"
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8"
    return None


# Bodies: JSON nested deeper than this is refused before a parser or a validator recurses into it.
MAX_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
# \u0000 after an even number of backslashes (none included): a NUL, not a backslash followed by `u0000`
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_BRACKET = re.compile(rb"[\[\]{}]")


def body_flaw(raw: bytes) -> str | None:
    """What makes a request body unusable whatever its route: bytes that are not UTF-8, a NUL character in a
    string (`\\u0000`: PostgreSQL's text cannot hold it), nesting deeper than MAX_DEPTH."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "The request body is not UTF-8."
    if b"\\u0000" in raw and _NUL_ESCAPE.search(raw):  # (`\\u0000`, an escaped backslash, is text)
        return "A string in the body contains a NUL character (\\u0000), which text cannot hold."
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:  # only then is the nesting worth measuring
        depth = 0
        for bracket in _BRACKET.findall(_STRING.sub(b'""', raw)):
            depth += 1 if bracket in (b"[", b"{") else -1
            if depth > MAX_DEPTH:
                return f"The body nests deeper than {MAX_DEPTH} levels."
    return None


# A path and query string longer than this together is a 414 (uvicorn itself answers a plain 400 beyond
# about 64 KB, before any application sees the request).
MAX_URL = 8192


def flaw_of(scope: Any) -> tuple[str, str] | None:
    """Where (`path`, `query` or `url`) and what makes an HTTP request unusable; None for nearly every
    request."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"")
    if len(raw_path) + len(query) > MAX_URL:
        return "url", f"is longer than {MAX_URL} bytes"
    if not query and raw_path.isascii() and b"%" not in raw_path and b"\x00" not in raw_path:
        return None  # (most requests: nothing to decode, nothing to check further)
    for where, raw in (("path", raw_path), ("query", query)):
        flaw = _flaw(raw)
        if flaw is not None:
            return where, flaw
    return None


async def refuse(send: Any, where: str, flaw: str, *, request_id: str | None = None) -> None:
    """Answer the problem of flaw_of's finding: 414 for a URL too long, else 400."""
    long = where == "url"
    status, code, title = (414, "uri-too-long", "URI too long") if long else (400, "bad-request", "Bad request")
    detail = f"The request's {'URL' if long else 'path' if where == 'path' else 'query string'} {flaw}."
    error = FieldError(code="too_long" if long else "invalid_characters", message=detail, parameter=where)
    await send_problem(send, status, code, title, detail, [error], request_id=request_id)


# The problem of an unexpected error (code, title, detail), answered by the framework's handler and the edge's net.
INTERNAL_ERROR = ("internal-error", "Internal server error", "Something went wrong on our side; it has been logged.")


async def send_problem(
    send: Any,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    *,
    request_id: str | None = None,
) -> None:
    """A problem answered straight to the ASGI server, outside the framework (the edge, the fast lanes)."""
    from api.problems import PROBLEM_JSON, Problem  # (problems uses body_flaw: imported when first needed)

    body = msgspec.json.encode(
        Problem(
            type=f"/problems/{code}",
            title=title,
            status=status,
            detail=detail,
            code=code,
            request_id=request_id,
            errors=errors or [],
        )
    )
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
