"""An import's per-row report: checked for its reader, then streamed in line order a page at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from domain.imports import exports, store
from domain.imports.model import ImportNotFound, ReportFormat, RowError, check_importer
from domain.keys.model import Principal

REPORT_PAGE = 1_000


async def check_import(conn: asyncpg.Connection, actor: Principal, job_id: int) -> None:
    """404 unless the job is an import; 403 unless the actor may import its type."""
    kind = await store.get_import_type(conn, job_id)
    if kind is None:
        raise ImportNotFound(job_id)
    check_importer(actor, kind)


async def report(pool: Any, job_id: int) -> AsyncIterator[RowError]:
    """An import's per-row report in line order, a page at a time (a connection of its own while it streams)."""
    after = (0, -1)
    while True:
        async with pool.acquire() as conn:
            page = await store.list_import_errors(conn, job_id, after, REPORT_PAGE)
        for _, error in page:
            yield error
        if len(page) < REPORT_PAGE:
            return
        after = (page[-1][1].line, page[-1][0])


async def open_report(
    conn: asyncpg.Connection, pool: Any, actor: Principal, job_id: int, fmt: ReportFormat
) -> AsyncIterator[bytes]:
    """Check that the job is an import (else 404) the actor may read (else 403), then hand back its report's
    bytes to stream."""
    await check_import(conn, actor, job_id)
    return exports.report_bytes(report(pool, job_id), fmt)
