"""MERCH_PG_SHARED_BUFFERS refuses a size the embedded server could not start with (it would stop every later start
too: the settings file keeps it)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api import pgconf
from api.settings import Settings


@pytest.mark.parametrize("size", ["auto", "128kB", "512MB", "2GB"])
def test_a_size_the_server_can_start_with_is_taken(size: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgconf, "memory_mb", lambda: 8192)
    assert Settings(MERCH_PG_SHARED_BUFFERS=size).pg_shared_buffers == size  # type: ignore[call-arg]


@pytest.mark.parametrize(("size", "memory"), [("64kB", 8192), ("1kB", 0), ("9GB", 8192), ("9999999GB", 8192)])
def test_a_size_out_of_range_is_refused_saying_so(size: str, memory: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgconf, "memory_mb", lambda: memory)
    with pytest.raises(ValidationError, match=f"shared_buffers '{size}' is out of range: at least 128kB, at most"):
        Settings(MERCH_PG_SHARED_BUFFERS=size)  # type: ignore[call-arg]
