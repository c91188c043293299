"""An export's chunks: each full chunk's successor is asked for before the chunk is handed on (the database reads
it while the chunk is written out), in keyset order, and a reader who leaves mid-way has the query ahead
cancelled — never left running on the export's connection."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

import pytest

from domain.imports import exports

CHUNKS: dict[Any, list[dict[str, int]]] = {
    None: [{"k": 1}, {"k": 2}],
    2: [{"k": 3}, {"k": 4}],
    4: [{"k": 5}],
}


async def test_the_next_chunk_is_asked_for_before_a_chunk_is_handed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "CHUNK", 2)
    asked: list[Any] = []

    async def fetch(after: Any) -> list[dict[str, int]]:
        asked.append(after)
        return CHUNKS[after]

    seen = []
    async with aclosing(exports._pages(fetch, lambda r: r["k"])) as pages:
        async for found in pages:
            seen.append((list(asked), [r["k"] for r in found]))
    # the first chunk handed on with the second already asked for; none asked after a short chunk
    assert seen == [([None, 2], [1, 2]), ([None, 2, 4], [3, 4]), ([None, 2, 4], [5])]


async def test_a_chunk_exactly_full_at_the_end_is_followed_by_one_empty_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "CHUNK", 2)
    asked: list[Any] = []

    async def fetch(after: Any) -> list[dict[str, int]]:
        asked.append(after)
        return {None: [{"k": 1}, {"k": 2}], 2: []}[after]

    async with aclosing(exports._pages(fetch, lambda r: r["k"])) as pages:
        assert [[r["k"] for r in found] async for found in pages] == [[1, 2]]
    assert asked == [None, 2]


async def test_a_reader_who_leaves_has_the_query_ahead_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "CHUNK", 2)
    cancelled = asyncio.Event()

    async def fetch(after: Any) -> list[dict[str, int]]:
        if after is None:
            return CHUNKS[None]
        try:
            await asyncio.Event().wait()  # (the second chunk's query never answers)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    pages = exports._pages(fetch, lambda r: r["k"])
    assert [r["k"] for r in await anext(pages)] == [1, 2]
    async with asyncio.timeout(10):  # (a guard: without the cancel, closing waits on the query for ever)
        await pages.aclose()
    assert cancelled.is_set()
