"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from api import migrate
from api.auth import PUBLIC
from api.replicas import format_lsn


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str


class ReplicaState(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    # streaming (serving reads), lagging (left out: further behind than MERCH_MAX_REPLICA_LAG_MS), down (left
    # out: does not answer), unknown (not asked yet)
    state: str
    lag_ms: float | None
    replayed: str | None  # the WAL position it had replayed when last asked


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: str
    pending_migrations: list[str]
    routines_current: bool
    # the read replicas (MERCH_READ_DATABASE_URLS); one left out does not make the API unready: the primary
    # serves its reads
    replicas: list[ReplicaState] = []


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
    503 otherwise. Lists each read replica's state and lag."""
    replicas = replica_states(request.app.state)
    try:
        async with request.app.state.pool.acquire() as conn:
            todo = await migrate.pending(conn)
            routines_current = not await migrate.routines_pending(conn)
    except Exception as exc:
        body = Readiness(
            status="unavailable",
            database=type(exc).__name__,
            pending_migrations=[],
            routines_current=False,
            replicas=replicas,
        )
        return Response(body, status_code=503)
    names = [f"{m.version:04d}_{m.name}" for m in todo]
    ready = not names and routines_current
    body = Readiness(
        status="ok" if ready else "migrations-pending",
        database="ok",
        pending_migrations=names,
        routines_current=routines_current,
        replicas=replicas,
    )
    return Response(body, status_code=200 if ready else 503)


def replica_states(state: Any) -> list[ReplicaState]:
    reads = getattr(state, "reads", None)
    return [
        ReplicaState(
            name=r.name,
            state=r.state,
            lag_ms=None if r.lag is None else round(r.lag * 1000, 1),
            replayed=None if r.replayed is None else format_lsn(r.replayed),
        )
        for r in (reads.replicas if reads is not None else ())
    ]
