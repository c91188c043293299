"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from api import migrate
from api.auth import PUBLIC


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: str
    pending_migrations: list[str]
    routines_current: bool


@get("/healthz", operation_id="getHealth", summary="Liveness", opt=PUBLIC, tags=["Operations"])
async def healthz() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness",
    opt=PUBLIC,
    tags=["Operations"],
    responses={503: ResponseSpec(data_container=Readiness, description="Not ready: the database, or what is pending.")},
)
async def readyz(request: Request[Any, Any, Any]) -> Response[Readiness]:
    """Ready when the database answers, every migration is applied and the routines are those of the code;
    503 otherwise."""
    try:
        async with request.app.state.pool.acquire() as conn:
            todo = await migrate.pending(conn)
            routines_current = not await migrate.routines_pending(conn)
    except Exception as exc:
        body = Readiness(
            status="unavailable", database=type(exc).__name__, pending_migrations=[], routines_current=False
        )
        return Response(body, status_code=503)
    names = [f"{m.version:04d}_{m.name}" for m in todo]
    ready = not names and routines_current
    body = Readiness(
        status="ok" if ready else "migrations-pending",
        database="ok",
        pending_migrations=names,
        routines_current=routines_current,
    )
    return Response(body, status_code=200 if ready else 503)
