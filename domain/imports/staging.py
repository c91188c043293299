"""The staged rows and errors of an upload, COPied into the staging tables a batch at a time with the counts —
behind the reading when the upload allows it: a batch's COPY runs on the connection while the next batch's rows
are checked, so that the upload does not wait for PostgreSQL at each batch (5 of a 10,000-row file: ~0.15 s of
PostgreSQL's work, seconds on a loaded machine)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from domain.imports import rows, store
from domain.imports.model import RowFault
from domain.imports.overlap import Overlap

BATCH = 2_000  # rows checked before they are COPied into the staging table
YIELD_EVERY = 64  # rows checked between two turns given to a pending write (a check never waits otherwise)


class Upload:
    """Staged rows and errors of an upload, with the counts. `behind`: a batch is written while the next is
    checked — then whatever else uses the connection first waits for it (`settle`)."""

    def __init__(
        self, conn: asyncpg.Connection, job_id: int, *, behind: bool = False, overlap: Overlap | None = None
    ) -> None:
        self.conn = conn
        self.job_id = job_id
        self.behind = behind
        self.overlap = overlap  # (told of each row read and each batch committed: it applies them)
        self.rows: list[tuple[Any, ...]] = []
        self.errors: list[tuple[Any, ...]] = []
        self.read = 0
        self.rejected = 0
        self._writing: asyncio.Task[None] | None = None

    async def add(self, staged: rows.Staged, faults: list[RowFault]) -> None:
        self.read += 1
        self.rows.append((self.job_id, *staged))
        if self.overlap is not None:
            self.overlap.row(staged, faults)
        if faults:
            self.rejected += 1
            line = staged[0]
            self.errors += [
                (self.job_id, line, i, f.pointer, f.column, f.code, f.message) for i, f in enumerate(faults)
            ]
        if len(self.rows) >= BATCH:
            await self.flush()
        elif self._writing is not None and self.read % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # (a turn for the pending write: its next step, its answer read)

    async def flush(self) -> None:
        """Write the rows and errors read since the last flush (behind: once the write before is done)."""
        batch, errors = self.rows, self.errors
        self.rows, self.errors = [], []
        await self.settle()
        write = self._write(batch, errors, self.read, self.rejected)
        if self.behind:
            self._writing = asyncio.get_running_loop().create_task(write)
        else:
            await write

    async def settle(self) -> None:
        """Wait for the pending write, if any (its failure raised here): the connection is free after it."""
        writing, self._writing = self._writing, None
        if writing is not None:
            await writing

    async def abandon(self) -> None:
        """The upload failed: wait for the pending write to end, whatever it answers, so that the connection is
        free to record the failure (a database write: the client going away does not stop it)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            with contextlib.suppress(Exception):
                await writing

    async def _write(
        self, batch: list[tuple[Any, ...]], errors: list[tuple[Any, ...]], read: int, rejected: int
    ) -> None:
        await store.insert_staged(self.conn, batch, errors)
        await store.update_import_received(self.conn, self.job_id, read, rejected)
        if self.overlap is not None and batch:
            self.overlap.staged(batch[-1][1] + 1)
