"""Domain errors: each a class with a stable kebab-case `code` and a `title`, of one of a few kinds (not
found, conflict, precondition failed, rule violation, invalid request, forbidden). The domain never decides an
HTTP status: `api/problems.py` maps each kind to one, once, and turns an error into an RFC 9457 problem.

Errors that every area raises alike live here (a refused delete, a failed validation, a bad query
parameter); the others in the `model.py` of the area that raises them."""

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
    """Base of every error the domain raises. A concrete error sets `code` and `title` and says in its
    docstring when it is raised (the README's list of problems is made from them)."""

    code: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.context = context


# The kinds. api/problems.py gives each its HTTP status.


class InvalidRequest(DomainError):
    """The request itself is malformed: a query parameter, a header, a body that is not what it claims."""

    title = "Bad request"


class Forbidden(DomainError):
    """The caller's role may use the route, but not for this (another stage's view, a confidential price)."""

    code = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    """Something the request names does not exist."""

    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state (a taken code, a reference, a gate not met)."""

    title = "Conflict"


class Gone(DomainError):
    """What the request asks for existed but is no more (a change feed position past the retention)."""

    title = "Gone"


class PreconditionFailed(DomainError):
    """A condition the client set (If-Match) no longer holds."""

    title = "Precondition failed"


class RuleViolation(DomainError):
    """The request is well-formed but breaks a rule (an invalid field, a reused idempotency key)."""

    title = "Unprocessable content"


# Errors every area raises alike.


class ValidationFailed(RuleViolation):
    """Fields of the body are invalid: every one is listed in `errors` with its JSON pointer."""

    code = "validation-failed"
    title = "Validation failed"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        if detail is None:
            detail = errors[0].message if len(errors) == 1 else f"{len(errors)} fields are invalid."
        super().__init__(detail, errors=errors)


class InvalidParameter(InvalidRequest):
    """A query parameter (or a cursor) is invalid: named in `errors`."""

    code = "invalid-parameter"
    title = "Invalid query parameter"


class MalformedJson(InvalidRequest):
    """The body is not valid JSON (or a JSON Lines line is not)."""

    code = "malformed-json"
    title = "Malformed JSON"

    def __init__(self, detail: str = "The request body is not valid JSON.") -> None:
        super().__init__(detail)


class InvalidIdempotencyKey(InvalidRequest):
    """The Idempotency-Key header is empty or longer than 200 characters."""

    code = "invalid-idempotency-key"

    def __init__(self) -> None:
        super().__init__("An Idempotency-Key has 1 to 200 characters.")


class IdempotencyKeyReused(RuleViolation):
    """An Idempotency-Key was sent again with another body."""

    code = "idempotency-key-reused"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used with another body; use a new key for a new request.")


class StillReferenced(Conflict):
    """A delete is refused because other things still reference the resource: `references` names them."""

    code = "still-referenced"


# A delete refused because something still references the resource names at most this many of them.
REFERENCES_SHOWN = 10


def listed(codes: list[str]) -> str:
    """Codes for a message; a full sample (REFERENCES_SHOWN of them) may stand for more: `…`."""
    return ", ".join(codes) + (", …" if len(codes) == REFERENCES_SHOWN else "")


def field_error(pointer: str, code: str, message: str) -> FieldError:
    return FieldError(pointer=pointer, code=code, message=message)


def param_error(parameter: str, code: str, message: str) -> InvalidParameter:
    """A 400 for one invalid query parameter."""
    return InvalidParameter(message, errors=[FieldError(parameter=parameter, code=code, message=message)])


def pointer_join(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer (RFC 6901), escaping `~` and `/` in keys."""
    out = base
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out
