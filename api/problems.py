"""Every error becomes an RFC 9457 `application/problem+json` answer; a 500 reveals nothing."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.utils.empty import value_or_default

from domain.errors import DomainError, FieldError
from domain.validation import body_errors

log = logging.getLogger("api")

PROBLEM_JSON = "application/problem+json"


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
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
        errors=errors or [],
        context=context or {},
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    return problem_response(request, exc.status, exc.code, exc.title, exc.detail, exc.errors, exc.context)


def _raw_body(request: Request[Any, Any, Any]) -> bytes | None:
    body = value_or_default(request._connection_state.body, None)
    return body if isinstance(body, bytes) else None


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    body_failed = any(isinstance(e, dict) and (e.get("source") == "body" or e.get("key") == "data") for e in extra)
    if body_failed:
        raw = _raw_body(request)
        data_field = request.route_handler.parsed_data_field
        if raw is not None and data_field is not None:
            errors = body_errors(raw, data_field.annotation)
            if errors is None:
                return malformed_json(request)
            if errors:
                detail = errors[0].message if len(errors) == 1 else f"{len(errors)} fields are invalid."
                return problem_response(request, 422, "validation-failed", "Validation failed", detail, errors)
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
            errors.append(FieldError(parameter=key, code="invalid", message=f"{message}."))
    status = 422 if body_failed else 400
    code = "validation-failed" if body_failed else "invalid-parameter"
    title = "Validation failed" if body_failed else "Invalid query parameter"
    detail = errors[0].message if len(errors) == 1 else f"{len(errors)} values are invalid."
    return problem_response(request, status, code, title, detail, errors)


def malformed_json(request: Request[Any, Any, Any]) -> Response[Problem]:
    return problem_response(request, 400, "malformed-json", "Malformed JSON", "The request body is not valid JSON.")


_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Unauthenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("body-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
}


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        return on_unexpected(request, exc)
    code, title = _HTTP_CODES.get(status, ("http-error", "HTTP error"))
    detail = exc.detail or title
    if status == 400 and _is_decode_error(exc):
        return malformed_json(request)
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


def on_query_canceled(request: Request[Any, Any, Any], exc: asyncpg.QueryCanceledError) -> Response[Problem]:
    return problem_response(
        request,
        503,
        "statement-timeout",
        "Service unavailable",
        "The query took too long and was cancelled; try again.",
        headers={"Retry-After": "1"},
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "internal-error", "Internal server error", "Something went wrong on our side; it has been logged."
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_exception,
    asyncpg.IntegrityConstraintViolationError: on_integrity_error,
    asyncpg.QueryCanceledError: on_query_canceled,
    Exception: on_unexpected,
    500: on_unexpected,
}
