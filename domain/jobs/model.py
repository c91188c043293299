"""Background jobs (recomputing completeness, imports): shapes, the progress rule and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from domain.errors import NotFound

JobState = Literal["receiving", "queued", "running", "done", "failed"]


class JobRows(msgspec.Struct, frozen=True, kw_only=True):
    """An import's rows: read from the upload, applied (created or changed), unchanged (identical to what is
    stored), rejected (named in the report)."""

    read: int
    applied: int
    unchanged: int
    rejected: int


class Job(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    reason: str
    scope: str | None
    stages: list[str] | None
    state: JobState
    total: int | None
    done: int
    progress: float | None
    error: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # imports only (null for other kinds): the mode, the phase (receiving, queued, applying, done, rejected,
    # failed, interrupted), the rows, the rate in rows a second of the current phase, the seconds it still
    # needs, and where the per-row report is
    mode: str | None = None
    phase: str | None = None
    rows: JobRows | None = None
    rate: float | None = None
    eta_seconds: float | None = None
    report: str | None = None
    # refresh-models only: the read models it rebuilds (prices, completeness, storefront)
    models: list[str] | None = None


class JobPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of jobs, newest first."""

    items: list[Job]
    next_cursor: str | None


class JobRef(msgspec.Struct, frozen=True, kw_only=True):
    """A job a write started: poll `href` for its progress."""

    id: int
    href: str


class ClaimedJob(msgspec.Struct, frozen=True, kw_only=True):
    """A job a runner has claimed: what it covers (products under `scope`, in `stages`; None for all)."""

    id: int
    kind: str
    scope: str | None
    stages: list[str] | None
    created_at: datetime
    models: list[str] | None = None


class RunningJob(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    total: int | None
    done: int


class JobStats(msgspec.Struct, frozen=True, kw_only=True):
    """What /metrics tells of the jobs: how many are in each state, and how far each running one is."""

    states: dict[str, int]
    running: list[RunningJob]


def job_ref(job_id: int) -> JobRef:
    return JobRef(id=job_id, href=f"/v1/jobs/{job_id}")


def rate_and_eta(
    phase: str | None, done: int, total: int | None, since: datetime | None, now: datetime
) -> tuple[float | None, float | None]:
    """Rows a second since the phase began, and the seconds the rest needs at that rate (None when unknown:
    an upload's size is not known before its end)."""
    if since is None or phase not in ("receiving", "applying"):
        return None, None
    seconds = (now - since).total_seconds()
    if seconds <= 0 or done == 0:
        return None, None
    rate = done / seconds
    eta = None if total is None or phase == "receiving" else round(max(total - done, 0) / rate, 1)
    return round(rate, 1), eta


def progress(state: str, done: int, total: int | None) -> float | None:
    """How far a job is, in [0, 1]; None while its size is unknown (a job of no product is done or not)."""
    if total is None:
        return None
    if total == 0:
        return 1.0 if state == "done" else None
    return round(done / total, 4)


class JobNotFound(NotFound):
    """No job has the id the request names."""

    code = "job-not-found"

    def __init__(self, job_id: int) -> None:
        super().__init__(f"No job has the id {job_id}.")
