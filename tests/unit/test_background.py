"""A background loop stops even when a cancellation is lost on its way (Python 3.11's wait_for can drop one)."""

from __future__ import annotations

import asyncio

import pytest

from api import background


async def test_a_loop_that_loses_a_cancellation_is_cancelled_again_until_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "STOP_ROUND", 0.01)
    rounds: list[str] = []

    async def loop() -> None:
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                rounds.append("cancelled")
                if len(rounds) == 1:
                    continue  # what a dropped cancellation looks like from outside: the loop goes on
                raise

    task = asyncio.get_running_loop().create_task(loop())
    await asyncio.sleep(0)  # the loop is waiting
    await asyncio.wait_for(background.stop(task), 10)
    assert task.cancelled() and rounds == ["cancelled", "cancelled"]


async def test_a_loop_that_ended_with_an_error_says_so_when_stopped() -> None:
    async def loop() -> None:
        raise RuntimeError("the probe's own bug")

    task = asyncio.get_running_loop().create_task(loop())
    await asyncio.wait({task})
    with pytest.raises(RuntimeError, match="the probe's own bug"):
        await background.stop(task)
