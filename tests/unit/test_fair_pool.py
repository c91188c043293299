"""The gate in front of the connection pool serves requests first come, first served: a released place goes
to the longest waiter, never to a request that arrives just then (asyncpg's own pool lets that one barge)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

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
