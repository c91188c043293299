"""The background runner of an API worker: queued jobs (polled), the clock (prices that start or stop being
in force with no write, the storefront's units sold that sales writes queued), and hourly housekeeping."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from api import background
from domain.housekeeping import forget_old_records
from domain.jobs.service import refresh_due, run_pending

log = logging.getLogger("merchflow.jobs")

# Prices that start or stop being in force change derived data with no write: checked this often.
CLOCK_SECONDS = 60.0
HOUSEKEEPING_SECONDS = 3600.0


class JobRunner:
    """Runs queued jobs in the background of an API worker, polling every `poll_seconds` or at once when woken
    (this worker queued a job: `wake`); also lets the clock through the refresh point (every minute) and
    forgets old idempotency keys (every hour)."""

    def __init__(self, pool: Any, *, workers: int = 2, poll_seconds: float = 2.0) -> None:
        self.pool = pool
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="merchflow-jobs")

    async def wake(self) -> None:
        """A job was queued here: look for it now rather than at the next poll (an import of 10,000 rows is done
        in a few seconds; half a poll's wait was a sixth of it). Other workers find it at their poll. (A
        coroutine: a background task of a sync function runs in a thread, and an asyncio.Event is set on its
        loop only.)"""
        self._woken.set()

    async def stop(self) -> None:
        if self._task is not None:
            await background.stop(self._task)

    async def _loop(self) -> None:
        last_clock = -CLOCK_SECONDS
        last_housekeeping = -HOUSEKEEPING_SECONDS
        while True:
            self._woken.clear()  # (a job queued from here on is one run_pending may not have seen)
            try:
                await run_pending(self.pool, workers=self.workers)
                if time.monotonic() - last_clock >= CLOCK_SECONDS:
                    last_clock = time.monotonic()
                    async with self.pool.acquire() as conn:
                        await refresh_due(conn)
                if time.monotonic() - last_housekeeping >= HOUSEKEEPING_SECONDS:
                    last_housekeeping = time.monotonic()
                    async with self.pool.acquire() as conn:
                        await forget_old_records(conn)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job runner: a job failed; polling on")
            # the next poll, or sooner when woken (asyncio.wait, not wait_for: on Python 3.11 wait_for can drop a
            # cancellation that lands as the wake does — api/background.stop)
            woken = asyncio.ensure_future(self._woken.wait())
            try:
                await asyncio.wait({woken}, timeout=self.poll_seconds)
            finally:
                woken.cancel()
