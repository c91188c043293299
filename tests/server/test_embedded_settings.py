"""The embedded server runs with the project's settings (api/pgconf.py): on its first start, and
after a change of MERCH_PG_SHARED_BUFFERS — at once when the process is its only holder, at its next start when
another process holds it (a running `make run` is never restarted under its feet)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api import db, pgconf
from tests.server.test_embedded_ownership import merch


def shown(server: Any) -> str:
    """The running server's shared_buffers."""

    async def ask() -> str:
        conn = await asyncpg.connect(db.embedded_dsn(server, "postgres"))
        try:
            return str(await conn.fetchval("SHOW shared_buffers"))
        finally:
            await conn.close()

    return asyncio.run(ask())


def postmaster(data_dir: Path) -> int:
    return int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])


def test_the_first_start_and_a_sole_holder_apply_the_setting_at_once(data_dir: Path) -> None:
    server = db.embedded_server(data_dir, "160MB")  # a fresh data directory: initialised, started, restarted
    try:
        assert shown(server) == "160MB"
    finally:
        db._release(server, data_dir / "pg")
    server = db.embedded_server(data_dir, "176MB")  # changed, and this process alone holds it
    try:
        assert shown(server) == "176MB"
    finally:
        db._release(server, data_dir / "pg")
    assert not (data_dir / "pg" / "postmaster.pid").exists()  # the restarted server is still stopped at exit


def test_a_joined_server_is_not_restarted_and_takes_the_setting_at_its_next_start(data_dir: Path) -> None:
    held = db.embedded_server(data_dir, "160MB")  # another holder (as a `make run` would be)
    try:
        before = postmaster(data_dir)
        joined = merch(data_dir, "keys", "list", MERCH_PG_SHARED_BUFFERS="192MB")
        assert joined.returncode == 0, joined.stderr
        assert "apply at its next start" in joined.stderr
        assert postmaster(data_dir) == before  # not restarted
        assert shown(held) == "160MB"
    finally:
        db._release(held, data_dir / "pg")
    again = db.embedded_server(data_dir, "192MB")  # the file already says so: no restart needed, read at start
    try:
        assert shown(again) == "192MB"
    finally:
        db._release(again, data_dir / "pg")


@pytest.mark.parametrize(
    ("memory_mb", "limit", "expected"),
    [
        (256, None, "128MB"),
        (4096, None, "1024MB"),
        (23_000, None, "2048MB"),
        (23_000, "max", "2048MB"),  # a container without a limit
        (65_536, str(2048 * 1024 * 1024), "512MB"),  # a 2 GB container on a 64 GB host: a quarter of its 2 GB
        (4096, str(2**63 - 4096), "1024MB"),  # (v1's "no limit" is a huge number)
    ],
)
def test_auto_is_a_quarter_of_the_memory_it_may_use_within_bounds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, memory_mb: int, limit: str | None, expected: str
) -> None:
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": memory_mb * 256}
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    cgroup = tmp_path / "memory.max"
    if limit is not None:
        cgroup.write_text(limit + "\n")
    monkeypatch.setattr(pgconf, "CGROUP_LIMITS", (cgroup, tmp_path / "v1-absent"))
    assert pgconf.shared_buffers_for("auto") == expected
    assert pgconf.shared_buffers_for("300MB") == "300MB"
