"""The app's background loops (the database watchdogs, the replicas' monitor, the job runner) and how they stop."""

from __future__ import annotations

import asyncio
from typing import Any

# seconds a cancelled loop has to end (its own clean-up included) before it is cancelled again
STOP_ROUND = 5.0


async def stop(task: asyncio.Task[Any]) -> None:
    """Cancel a background loop and wait until it has ended. One `cancel()` is not always enough on Python 3.11:
    `asyncio.wait_for` drops a cancellation that lands just as the awaitable it waits for completes (CPython
    gh-86296, fixed in 3.12), and the loop then goes on — a shutdown or a test teardown awaiting it would hang for
    ever (seen: a server's shutdown waited 80 minutes on the replicas' monitor, a task "cancelling" yet asleep in its
    next round). The loops time their probes with `asyncio.timeout`, which keeps a cancellation; and the loop is
    cancelled again each round until it is done, whatever it awaits. An error it ended with is raised."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_ROUND)
    if not task.cancelled():
        task.result()
