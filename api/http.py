"""HTTP helpers shared by the controllers: parameters, dependencies and entity responses."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any, TypeVar

import asyncpg
from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_304_NOT_MODIFIED

from api.auth import principal_of
from domain.keys.model import Principal
from domain.paging import DEFAULT_LIMIT, MAX_LIMIT
from domain.versioning import etag, matches_none, parse_if_match

T = TypeVar("T")

Conn = NamedDependency[asyncpg.Connection]
Actor = NamedDependency[Principal]

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match", required=False, description="Write only if the resource is still at this ETag (else 412)."
    ),
]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match", required=False, description="Answer 304 if the resource is still at this ETag."
    ),
]
LimitQ = Annotated[
    int,
    QueryParameter(
        name="limit", ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."
    ),
]
CursorQ = Annotated[
    str | None,
    QueryParameter(name="cursor", required=False, max_length=2000, description="Opaque cursor from `next_cursor`."),
]

# Route option of a PUT that creates what does not exist yet: its 201 is documented (api/document.py).
UPSERT: dict[str, Any] = {"upsert": True}


async def provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    async with state.pool.acquire() as conn:
        yield conn


def provide_principal(request: Request[Any, Any, Any], conn: Conn) -> Principal:
    # Declared after the connection (which it does not use) so that the two resolve one after the other:
    # dependencies of one level are resolved in a task group per request, a measured 20 % of a request's CPU.
    return principal_of(request)


DEPENDENCIES = {
    "conn": Provide(provide_conn),
    "principal": Provide(provide_principal, sync_to_thread=False),
}


def expected(if_match: str | None) -> int | None:
    return parse_if_match(if_match)


def entity(
    body: T,
    *,
    version: int,
    if_none_match: str | None = None,
    created_at: str | None = None,
) -> Response[T]:
    """A single resource with its ETag; 304 when the client's copy is current; 201 + Location when created."""
    headers = {"ETag": etag(version)}
    if created_at is not None:
        headers["Location"] = created_at
        return Response(body, status_code=HTTP_201_CREATED, headers=headers)
    if matches_none(if_none_match, version):
        return Response(None, status_code=HTTP_304_NOT_MODIFIED, headers=headers)  # type: ignore[arg-type]
    return Response(body, status_code=HTTP_200_OK, headers=headers)


def upserted(body: T, *, version: int, created: bool, location: str) -> Response[T]:
    """PUT's answer: 201 + Location when it created, else 200."""
    return entity(body, version=version, created_at=location if created else None)
