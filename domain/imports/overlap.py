"""An all_or_nothing import of products applied while its file is still being read (issue 13: a 10,000-row file in
3 s). The upload is mostly Python in the server's process, the apply mostly PostgreSQL: one after the other, a
2-core machine used one core at a time. Here each batch the upload has staged (committed) is applied at once on a
connection of its own, inside the one transaction of the import, and the rest is applied in it after the upload
(`service._run`); it commits only when the whole file checked clean, so nothing is applied when any row is
rejected — whatever line it is on — or when the upload stops mid-way.

What the transaction holds while the file is still being read is bounded, and no lock a stock movement, a
storefront read or a write of another product waits on:
- it creates products only: a chunk naming a stored product does nothing (the chunks after it wait for the
  upload's end) — a stored product's row lock would keep an API write of it waiting for the upload;
- their derived data (completeness, storefront rows) is refreshed by the first chunk after the upload: the
  refresh writes rows other writers share (the storefront's known words);
- it covers the first OVERLAP_LINES lines only: once a file goes past them, what was applied early is rolled
  back and the import is applied after its upload as before (a long upload never holds a transaction open);
- a rejected row, or a code repeated within those lines, rolls it back at once (the import applies nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import asyncpg

from domain.imports import rows, store
from domain.imports.model import RowFault

log = logging.getLogger("merchflow.imports")

OVERLAP_LINES = 16_000  # a file's lines that may be applied while it is read (about 1.5 s of reading)
MAX_CHUNK = 5_000  # lines applied per statement at most (the run's chunk)


class Overlap:
    """The early apply of one upload. `row` sees each row read, `staged` each batch committed; `end` waits for the
    chunk in flight once the upload is read; then `next` is the first line not applied and `open` whether a
    transaction holds the lines before it — committed (`commit`) by the run, or rolled back (`close`)."""

    def __init__(self, pool: Any, job_id: int, actor: str, confidential: bool) -> None:
        self.pool = pool
        self.job_id = job_id
        self.actor = actor
        self.confidential = confidential
        self.next = 1
        self.applied = 0
        self.unchanged = 0
        self.conn: asyncpg.Connection | None = None
        self.chunk_done = asyncio.Event()  # (tests: a chunk was tried — applied, or refused — during the upload)
        self._staged = 1  # lines below it are staged
        self._codes: set[str] = set()
        self._off = False  # no more chunks (a stored product in a chunk, a failure)
        self._discard = False  # roll back what was applied (a rejected or repeated row, a long file, a replay)
        self._ended = False
        self._wake = asyncio.Event()
        self._hold: contextlib.AbstractAsyncContextManager[asyncpg.Connection] | None = None
        self._tx: Any = None
        self._task = asyncio.get_running_loop().create_task(self._apply(), name=f"merchflow-import-{job_id}")

    @property
    def open(self) -> bool:
        return self._tx is not None

    def row(self, staged: rows.Staged, faults: list[RowFault]) -> None:
        """A row read (before it is staged): a rejected one, one past OVERLAP_LINES, or one whose code an earlier
        line has rolls back what was applied — the import applies nothing, or applies it all after the upload."""
        if self._discard:
            return
        line, code = staged[0], staged[1]
        if faults or line > OVERLAP_LINES or code is None or code in self._codes:
            self.discard()
            return
        self._codes.add(code)

    def staged(self, through: int) -> None:
        """Lines below `through` are staged and committed."""
        self._staged = through
        self._wake.set()

    def discard(self) -> None:
        self._discard = True
        self._codes.clear()
        self._wake.set()

    def read_all(self) -> None:
        """The file is read: no chunk begins any more."""
        self._ended = True
        self._wake.set()

    async def end(self) -> None:
        """The upload is over: wait for the chunk being applied."""
        self.read_all()
        await self._task

    async def abandon(self) -> None:
        """The upload failed or is a replay: nothing applied stays."""
        self.discard()
        with contextlib.suppress(Exception):
            await self.end()
        await self.close()

    async def commit(self) -> None:
        assert self._tx is not None
        await self._tx.commit()
        self._tx = None
        await self.close()

    async def close(self) -> None:
        """Roll back what is still open and give the connection back."""
        tx, self._tx = self._tx, None
        hold, self._hold = self._hold, None
        try:
            if tx is not None:
                with contextlib.suppress(Exception):
                    await tx.rollback()
        finally:
            self.conn = None
            if hold is not None:
                await hold.__aexit__(None, None, None)

    async def _apply(self) -> None:
        try:
            while not (self._ended or self._discard):
                await self._wake.wait()
                self._wake.clear()
                if self._ended or self._discard or self._off or self._staged <= self.next:
                    continue
                if self._hold is None:
                    hold = self.pool.acquire()
                    self.conn = await hold.__aenter__()
                    self._hold = hold  # (given back by `close` once entered, not before)
                    tx = self.conn.transaction()
                    await tx.start()
                    self._tx = tx
                high = min(self._staged, self.next + MAX_CHUNK)
                done = await store.update_products_during_upload(
                    self.conn, self.job_id, self.next, high, self.actor, self.confidential
                )
                self.chunk_done.set()
                if done is None:
                    self._off = True
                    continue
                self.applied += done[0] + done[1]
                self.unchanged += done[2]
                self.next = high
                if self._staged > self.next:
                    self._wake.set()
        except Exception:  # (the run applies the file after the upload, and meets what failed here again)
            log.warning("import %s: the chunk applied during the upload failed; applied after it", self.job_id)
            self._discard = True
        if self._discard:
            await self.close()


_FINISHING: set[asyncio.Task[None]] = set()
_uncounted = 0  # runs finished since `finished` last answered


def finish(job_id: int, run: Coroutine[Any, Any, None]) -> None:
    """Finish the run of an import applied during its upload, in this process (the one holding its transaction):
    claimed by the upload, never queued for a runner. Should the process die, the transaction goes with it, and
    the job, its heartbeat stale, is taken over by a runner and applied from its start."""
    task = asyncio.get_running_loop().create_task(run, name=f"merchflow-import-{job_id}-run")
    _FINISHING.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[None]) -> None:
    global _uncounted
    _FINISHING.discard(task)
    _uncounted += 1
    if not task.cancelled() and task.exception() is not None:
        log.warning("import run failed: %r", task.exception())


async def finished() -> int:
    """Wait for the runs this process is finishing (`finish`); answers how many ended since the last call."""
    global _uncounted
    while _FINISHING:
        with contextlib.suppress(Exception):
            await asyncio.shield(next(iter(_FINISHING)))
        await asyncio.sleep(0)  # (its done callback runs at the loop's next turn)
    count, _uncounted = _uncounted, 0
    return count
