"""Every error becomes an RFC 9457 `application/problem+json` answer; a 500 reveals nothing.

The HTTP status of a domain error is decided here, once, by its kind (`STATUS`); the README's list of
problems is made from the error classes themselves (`python -m api.problems --update README.md`).
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from api import db, guard, params
from api.edge import REQUEST_ID
from domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Gone,
    InvalidRequest,
    MalformedJson,
    NotFound,
    PreconditionFailed,
    RuleViolation,
    ValidationFailed,
)
from domain.validation import body_errors

log = logging.getLogger("merchflow.api")

PROBLEM_JSON = "application/problem+json"

# The HTTP status of each kind of domain error.
STATUS: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PreconditionFailed: 412,
    RuleViolation: 422,
}

# Problems the HTTP layer raises itself (no domain class): code, status, title, when.
HTTP_PROBLEMS: list[tuple[str, int, str, str]] = [
    ("bad-request", 400, "Bad request", "The request cannot be read (a header or parameter the framework refuses)."),
    ("unauthenticated", 401, "Unauthenticated", "No API key, or an unknown or revoked one."),
    ("forbidden", 403, "Forbidden", "The key's roles may not call this route, or not for this resource."),
    ("not-found", 404, "Not found", "No route answers this path."),
    ("method-not-allowed", 405, "Method not allowed", "The route does not take this method."),
    ("not-acceptable", 406, "Not acceptable", "No representation matches the Accept header."),
    ("body-too-large", 413, "Request body too large", "The body is larger than MERCH_MAX_BODY_BYTES."),
    ("uri-too-long", 414, "URI too long", "The path and query string are longer than 8,192 bytes together."),
    ("unsupported-media-type", 415, "Unsupported media type", "The body's Content-Type is not one the route takes."),
    (
        "too-many-requests",
        429,
        "Too many requests",
        "The key sent more requests than its rate limit (MERCH_RATE_LIMIT): `Retry-After` says when to try again.",
    ),
    (
        "request-header-fields-too-large",
        431,
        "Request header fields too large",
        "The request's headers are larger than MERCH_MAX_HEADER_BYTES together.",
    ),
    (
        "constraint-violation",
        409,
        "Conflict",
        "A write raced another and broke a database constraint; nothing was written.",
    ),
    ("internal-error", 500, "Internal server error", "A fault on our side; logged, never explained in the answer."),
    ("statement-timeout", 503, "Service unavailable", "The query took longer than MERCH_STATEMENT_TIMEOUT_MS; retry."),
    (
        "database-unavailable",
        503,
        "Service unavailable",
        "The database does not answer (gone, frozen, shutting down): answered within a second; retry.",
    ),
    (
        "server-busy",
        503,
        "Service unavailable",
        "Every database connection of the worker stayed busy for 0.9 s (the database answers): retry shortly.",
    ),
]
_HTTP_CODES = {status: (code, title) for code, status, title, _ in HTTP_PROBLEMS if status not in (409, 500, 503)}


def status_of(error: type[DomainError]) -> int:
    """The HTTP status of a domain error: that of its kind."""
    for kind in error.__mro__:
        if kind in STATUS:
            return STATUS[kind]
    raise TypeError(f"{error.__name__} is of no kind in api.problems.STATUS")


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None  # the answer's X-Request-ID: quote it when asking about this problem
    errors: list[FieldError] = []
    context: dict[str, Any] = {}


def problem_response(
    request: Request[Any, Any, Any] | None,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=f"/problems/{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path if request is not None else None,
        request_id=_request_id(request),
        errors=errors or [],
        context=context or {},
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _request_id(request: Request[Any, Any, Any] | None) -> str | None:
    value = request.scope.get(REQUEST_ID) if request is not None else None
    return value if isinstance(value, str) else None


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    return problem_response(request, status_of(type(exc)), exc.code, exc.title, exc.detail, exc.errors, exc.context)


RAW_BODY = "raw_body"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def keep_raw_body(request: Request[Any, Any, Any]) -> None:
    """Before a handler's body is parsed, keep its bytes in the request state: a body that fails validation
    is read again field by field, to name every invalid field at once. (The framework caches the body, so
    it is read from the client once.) The body is checked strictly against the handler's type here: the
    framework converts it leniently (`"qty": "10"` would become 10, `"true"` a boolean) — a JSON client
    sends numbers as numbers."""
    data_field = request.route_handler.parsed_data_field
    if request.method in _BODY_METHODS and data_field is not None:
        raw = await request.body()
        flaw = guard.body_flaw(raw)
        if flaw is not None:
            raise MalformedJson(flaw)
        request.state[RAW_BODY] = raw
        if raw:
            try:
                msgspec.json.decode(raw, type=data_field.annotation)
            except msgspec.ValidationError:
                errors = body_errors(raw, data_field.annotation)
                if errors:
                    raise ValidationFailed(errors) from None
            except msgspec.DecodeError:
                raise MalformedJson() from None


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    body_failed = any(isinstance(e, dict) and (e.get("source") == "body" or e.get("key") == "data") for e in extra)
    if body_failed:
        raw = request.state.get(RAW_BODY)
        data_field = request.route_handler.parsed_data_field
        if isinstance(raw, bytes) and data_field is not None:
            errors = body_errors(raw, data_field.annotation)
            if errors is None:
                return on_domain_error(request, MalformedJson())
            if errors:
                return on_domain_error(request, ValidationFailed(errors))
    errors = []
    for e in extra:
        if not isinstance(e, dict):
            continue
        key = str(e.get("key", ""))
        message = str(e.get("message", "is invalid"))
        if e.get("source") == "body":
            errors.append(
                FieldError(pointer="/" + key.replace(".", "/") if key else "", code="invalid", message=message)
            )
        else:
            name = _declared_name(request, key)
            choices = params.choices_of(request, name) if message.startswith("Invalid enum value") else ()
            if choices:
                message += f"; it takes: {', '.join(choices)}"
            errors.append(FieldError(parameter=name, code="invalid", message=f"{message}."))
    missing = _MISSING.match(str(exc.detail)) if not errors else None
    if missing is not None:  # the framework names a required parameter left out only in its message
        kind, name = missing.group(1), missing.group(2)
        errors.append(
            FieldError(parameter=name, code="required", message=f"The {kind} parameter `{name}` is required.")
        )
    status = 422 if body_failed else 400
    code = "validation-failed" if body_failed else "invalid-parameter"
    title = "Validation failed" if body_failed else "Invalid query parameter"
    detail = errors[0].message if len(errors) == 1 else f"{len(errors)} values are invalid."
    return problem_response(request, status, code, title, detail, errors)


_MISSING = re.compile(r"Missing required (\w+) parameter '([^']+)'")


def _declared_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name a client sends a parameter by (`from`), for the handler's own name of it (`since`) — or a
    dependency's, where the route takes its parameters through one (the reports' scope)."""
    handler = request.route_handler
    signatures = [handler.parsed_fn_signature] + [
        p.parsed_fn_signature for p in handler.resolve_dependencies().values() if hasattr(p, "parsed_fn_signature")
    ]
    for signature in signatures:
        kwarg = getattr(signature.parameters.get(key), "kwarg_definition", None)
        for attribute in ("name", "query", "header", "cookie"):
            declared = getattr(kwarg, attribute, None)
            if isinstance(declared, str) and declared:
                return declared
    return key


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        return on_unexpected(request, exc)
    code, title = _HTTP_CODES.get(status, ("http-error", "HTTP error"))
    detail = exc.detail or title
    if status == 400 and _is_decode_error(exc):
        return on_domain_error(request, MalformedJson())
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="merchflow"')
    return problem_response(request, status, code, title, detail, headers=headers)


def _is_decode_error(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, (msgspec.DecodeError, UnicodeDecodeError)):
            return True
        cause = cause.__cause__ or cause.__context__
    text = str(getattr(exc, "detail", "")).lower()
    return "malformed" in text or "truncated" in text or "trailing characters" in text


def on_integrity_error(
    request: Request[Any, Any, Any], exc: asyncpg.IntegrityConstraintViolationError
) -> Response[Problem]:
    # Stores translate the constraints they expect; this is the net for a race they could not see.
    constraint = getattr(exc, "constraint_name", None) or "a constraint"
    log.warning("integrity error reached the API: %s", exc)
    return problem_response(
        request,
        409,
        "constraint-violation",
        "Conflict",
        f"The change conflicts with {constraint}; nothing was written.",
        context={"constraint": constraint},
    )


def _retry_soon(request: Request[Any, Any, Any], code: str, detail: str) -> Response[Problem]:
    return problem_response(request, 503, code, "Service unavailable", detail, headers={"Retry-After": "1"})


def on_query_canceled(request: Request[Any, Any, Any], exc: asyncpg.QueryCanceledError) -> Response[Problem]:
    return _retry_soon(request, "statement-timeout", "The query took too long and was cancelled; try again.")


def on_database_busy(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    return _retry_soon(request, "server-busy", "Every database connection is busy; try again shortly.")


def on_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    return _retry_soon(request, "database-unavailable", "The database does not answer; try again shortly.")


# (with their subclasses: ConnectionDoesNotExistError, ConnectionFailureError, …, ConnectionResetError; and a
# server shutting down or starting up)
_UNAVAILABLE = (db.DatabaseUnavailable, asyncpg.PostgresConnectionError, ConnectionError, *db.SHUTTING_DOWN)


def _unavailable(exc: BaseException | None, depth: int = 0) -> bool:
    """Whether an error is, or was caused by, the database not answering (also inside a group, or raised
    again by a dependency's clean-up)."""
    if exc is None or depth > 5:
        return False
    if isinstance(exc, _UNAVAILABLE):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_unavailable(e, depth + 1) for e in exc.exceptions)
    return _unavailable(exc.__cause__ or exc.__context__, depth + 1)


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if _unavailable(exc):
        return on_database_unavailable(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, *guard.INTERNAL_ERROR)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_exception,
    asyncpg.IntegrityConstraintViolationError: on_integrity_error,
    asyncpg.QueryCanceledError: on_query_canceled,
    # the database not answering: a connection cut by the pool's watchdog, refused, or closed by a database
    # shutting down (the same classes on_unexpected looks for inside a group or a chain)
    **dict.fromkeys(_UNAVAILABLE, on_database_unavailable),
    db.DatabaseBusy: on_database_busy,
    Exception: on_unexpected,
    500: on_unexpected,
}


# The list of problems -----------------------------------------------------------------------------------


def domain_errors() -> list[type[DomainError]]:
    """Every concrete domain error class (one with a code) of the loaded modules."""
    found: list[type[DomainError]] = []
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__dict__.get("code"):
            found.append(cls)
    return found


def catalogue() -> list[tuple[str, int, str, str]]:
    """(code, status, title, when) of every problem merchflow answers with, one per code (the HTTP layer's
    sentence for a code both raise)."""
    rows = {c.code: (c.code, status_of(c), c.title, _first_line(c)) for c in domain_errors()}
    rows |= {row[0]: row for row in HTTP_PROBLEMS}
    return sorted(rows.values())


def _first_line(cls: type) -> str:
    return (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")


def markdown() -> str:
    lines = ["| code | status | title | when |", "|---|---|---|---|"]
    lines += [f"| `{code}` | {status} | {title} | {when} |" for code, status, title, when in catalogue()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import api.app  # noqa: F401  (loads every area, and so every error class)
    from api.readme import update_section

    table = markdown()
    if len(sys.argv) > 2 and sys.argv[1] == "--update":
        update_section(sys.argv[2], "problems", table)
    else:
        sys.stdout.write(table)
