"""Domain errors: stable kebab-case codes that the HTTP layer turns into RFC 9457 problems."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class FieldError(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One invalid field: where (a JSON pointer into the body, or a query parameter), what, and a sentence."""

    code: str
    message: str
    pointer: str | None = None
    parameter: str | None = None


class DomainError(Exception):
    """Base of every error the domain raises; `status` is the HTTP status the API answers with."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        **context: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]
        if title is not None:
            self.title = title  # type: ignore[misc]
        self.errors = errors or []
        self.context = context


class BadRequest(DomainError):
    status = 400
    code = "bad-request"
    title = "Bad request"


class PermissionDenied(DomainError):
    """The caller's role may use the route, but not for this (e.g. another stage's view)."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


# A delete refused because something still references the resource names at most this many of them.
REFERENCES_SHOWN = 10


def listed(codes: list[str]) -> str:
    """Codes for a message; a full sample (REFERENCES_SHOWN of them) may stand for more: `…`."""
    return ", ".join(codes) + (", …" if len(codes) == REFERENCES_SHOWN else "")


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class RuleViolation(DomainError):
    status = 422
    code = "rule-violation"
    title = "Unprocessable content"


class ValidationFailed(RuleViolation):
    """Every invalid field of a request at once, each with its JSON pointer."""

    code = "validation-failed"
    title = "Validation failed"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        if detail is None:
            detail = errors[0].message if len(errors) == 1 else f"{len(errors)} fields are invalid."
        super().__init__(detail, errors=errors)


def field_error(pointer: str, code: str, message: str) -> FieldError:
    return FieldError(pointer=pointer, code=code, message=message)


def param_error(parameter: str, code: str, message: str) -> BadRequest:
    """A 400 for one invalid query parameter."""
    return BadRequest(
        message,
        code="invalid-parameter",
        title="Invalid query parameter",
        errors=[FieldError(parameter=parameter, code=code, message=message)],
    )


def pointer_join(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer (RFC 6901), escaping `~` and `/` in keys."""
    out = base
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out
