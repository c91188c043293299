"""HTTP helpers shared by the controllers: parameters, dependencies and entity responses."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Annotated, Any, TypeVar, cast

import anyio
import asyncpg
import msgspec
from litestar import Request, Response
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_304_NOT_MODIFIED

from api.auth import principal_of
from api.replicas import ON_REPLICA_KEY
from domain.keys.model import Principal
from domain.paging import DEFAULT_LIMIT, MAX_LIMIT
from domain.types import Code
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


def upsert(code: Any = Code) -> dict[str, Any]:
    """Route option of a PUT that creates what does not exist yet, named by its last path parameter, of the type
    `code`: its 201 and the parameter's format are documented (api/document.py)."""
    return {"upsert": msgspec.json.schema(code)}  # (a handler's options are deep-copied: a Meta cannot be)


UPSERT = upsert()


def connection_of(request: Request[Any, Any, Any]) -> AbstractAsyncContextManager[asyncpg.Connection]:
    """A connection for the request: on a replica for a route that declares replica reads (api/replicas.py), on
    the primary for every other."""
    state = request.app.state
    if request.route_handler.opt.get(ON_REPLICA_KEY):
        return cast(AbstractAsyncContextManager[asyncpg.Connection], state.reads.acquire(request.scope))
    return cast(AbstractAsyncContextManager[asyncpg.Connection], state.pool.acquire())


async def provide_conn(request: Request[Any, Any, Any]) -> AsyncGenerator[asyncpg.Connection, None]:
    """The request's connection (connection_of), held while the handler runs."""
    async with connection_of(request) as conn:
        yield conn


def provide_principal(request: Request[Any, Any, Any], conn: Conn) -> Principal:
    # Declared after the connection (which it does not use) so that the two resolve one after the other:
    # dependencies of one level are resolved in a task group per request, a measured 20 % of a request's CPU.
    return principal_of(request)


def provide_connect(request: Request[Any, Any, Any]) -> Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]:
    """For a streamed answer: a way to take the request's connection (connection_of) that the stream holds while it
    runs — a dependency's connection goes back to the pool before the answer is sent."""
    return partial(connection_of, request)


def principal_alone(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


# A streamed answer's dependencies: its own connection (`connect`), and the principal without the request's
# connection (which would be taken as well, and released before the stream starts).
STREAMING = {
    "connect": Provide(provide_connect, sync_to_thread=False),
    "principal": Provide(principal_alone, sync_to_thread=False),
}
Connect = NamedDependency[Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]]


DEPENDENCIES = {
    "conn": Provide(provide_conn),
    "principal": Provide(provide_principal, sync_to_thread=False),
}


async def _resolve_dependencies(
    self: KwargsModel, connection: ASGIConnection[Any, Any, Any, Any], kwargs: dict[str, Any]
) -> DependencyCleanupGroup:
    """Litestar's KwargsModel.resolve_dependencies, which closes the generators it has started when a later
    dependency fails. Litestar's returns its cleanup group only when every dependency resolved: a request whose
    `?locale=` was refused (a storefront dependency's parameter, parsed after `conn`) kept its pooled connection
    until the garbage collector found the generator — and never gave it back when the collector's `aclose()`
    failed; a few such requests, and every other one waited for a connection."""
    cleanup_group = DependencyCleanupGroup()
    try:
        for batch in self.dependency_batches:
            if len(batch) == 1:
                await resolve_dependency(next(iter(batch)), connection, kwargs, cleanup_group)
            else:
                try:
                    async with anyio.create_task_group() as task_group:
                        for dependency in batch:
                            task_group.start_soon(resolve_dependency, dependency, connection, kwargs, cleanup_group)
                except BaseExceptionGroup as group:
                    raise group.exceptions[0] from group
    except BaseException as exc:
        await cleanup_group.close(exc)  # (thrown into provide_conn: the connection goes back to the pool)
        raise
    return cleanup_group


def close_dependencies_on_failure() -> None:
    """Install _resolve_dependencies (litestar 2.x; see its docstring)."""
    KwargsModel.resolve_dependencies = _resolve_dependencies  # type: ignore[method-assign]


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
