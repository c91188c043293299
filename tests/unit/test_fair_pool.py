"""The gate in front of the connection pool serves requests first come, first served: a released place goes
to the longest waiter, never to a request that arrives just then (asyncpg's own pool lets that one barge)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import pytest

from api import db
from api.db import FairPool


def suspends(coro: Coroutine[Any, Any, None]) -> bool:
    """Run a coroutine until it first waits (True) or ends (False), without an event loop turn."""
    try:
        coro.send(None)
    except StopIteration:
        return False
    return True


def enter(gate: FairPool) -> Coroutine[Any, Any, None] | None:
    """What FairPool.acquire does for a place: take a free one at once (None), else wait in line."""
    return None if gate._take() else gate._wait_for_place()


async def test_a_released_place_goes_to_the_longest_waiter_not_to_a_newcomer() -> None:
    gate = FairPool(pool=None, size=1)  # type: ignore[arg-type]
    assert enter(gate) is None  # A enters
    b = enter(gate)
    assert b is not None and suspends(b)  # B waits
    gate._leave()  # A leaves: its place is B's
    c = enter(gate)
    assert c is not None and suspends(c)  # C, arriving now, waits behind B
    assert not suspends(b)  # B enters
    gate._leave()  # B leaves: C's turn
    assert not suspends(c)
    gate._leave()
    assert gate._free == 1 and not gate._waiters


async def test_a_waiter_cancelled_as_it_is_handed_a_place_passes_it_on() -> None:
    gate = FairPool(pool=None, size=1)  # type: ignore[arg-type]
    assert enter(gate) is None
    waiter = enter(gate)
    assert waiter is not None and suspends(waiter)
    gate._leave()  # hands the place to the waiter …
    with pytest.raises(asyncio.CancelledError):
        waiter.throw(asyncio.CancelledError())  # … which is cancelled before it runs
    assert gate._free == 1 and not gate._waiters  # the place is not lost


class StubProbe:
    """The watchdog's connection. `hold` > 0: the first question finds the worker's event loop held that long
    (a long computation elsewhere in the worker) and its answer lost with it, every later one is answered;
    `hold` = 0: no question is ever answered (the database frozen)."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.asked = 0
        self.asked_again = asyncio.Event()  # the watchdog's second question: the first one's outcome is known

    def is_closed(self) -> bool:
        return False

    def terminate(self) -> None:
        pass

    async def fetchval(self, query: str) -> Any:
        self.asked += 1
        if self.asked == 2:
            self.asked_again.set()
        if self.hold and self.asked > 1:
            return 1
        if self.hold:
            time.sleep(self.hold)  # noqa: ASYNC251 (holds the loop on purpose, as a large encode would)
        await asyncio.Event().wait()  # no answer


class StubPool:
    """The pool behind the gate: counts how often the watchdog had its connections replaced (at an outage
    and when the database is back)."""

    def __init__(self) -> None:
        self.expired = 0

    async def expire_connections(self) -> None:
        self.expired += 1


@pytest.mark.parametrize(("hold", "down"), [(0.8, False), (0.0, True)])  # (down: taken for an outage)
async def test_the_watchdog_tells_a_held_event_loop_from_a_database_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, hold: float, down: bool
) -> None:
    """A probe whose timeout is noticed late because the loop itself was held is no outage (it cut every
    connection in use); a probe unanswered while the loop runs is one, within the second promised."""
    probe = StubProbe(hold)

    async def connect(dsn: str) -> StubProbe:
        return probe

    monkeypatch.setattr(db.asyncpg, "connect", connect)
    pool = StubPool()
    gate = FairPool(pool=pool, size=1)  # type: ignore[arg-type]
    gate.watch("stub")
    try:
        started = time.monotonic()
        await asyncio.wait_for(probe.asked_again.wait(), 2)
        assert time.monotonic() - started < 1.2  # (an outage is told within the second promised)
        assert (pool.expired > 0) is down  # an outage cut and replaced the connections; a held loop did not
    finally:
        await gate.stop_watching()
