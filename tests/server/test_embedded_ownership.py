"""The embedded server belongs to the processes that hold it: a `merch` command that started it stops it when
it is done, one that joined a running server leaves it running, and a holder that died without its exit
handlers (killed) does not keep it running for ever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from api import db


def merch(data_dir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """A `merch` command on `data_dir`'s embedded server (with more `settings` in its environment)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MERCH_DATA_DIR=str(data_dir), **settings)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def running(data_dir: Path) -> bool:
    return (data_dir / "pg" / "postmaster.pid").exists()


def test_a_command_stops_the_server_it_started_and_leaves_a_joined_one_running(data_dir: Path) -> None:
    done = merch(data_dir, "keys", "list")
    assert done.returncode == 0, done.stderr
    assert not running(data_dir)  # it started the server: it stopped it

    held = db.embedded_server(data_dir, "auto")  # another holder (as a `make run` would be)
    try:
        assert running(data_dir)
        joined = merch(data_dir, "keys", "list")
        assert joined.returncode == 0, joined.stderr
        assert running(data_dir)  # it joined: the server stays
    finally:
        db._release(held, data_dir / "pg")
    assert not running(data_dir)  # the last holder gone: stopped


def test_a_dead_holder_does_not_keep_the_server_running(data_dir: Path) -> None:
    assert merch(data_dir, "keys", "list").returncode == 0  # initialised, then stopped
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = int(dead.stdout)  # a pid that no longer runs: a holder killed without its exit handlers
    (data_dir / "pg" / ".handle_pids.json").write_text(json.dumps([stale]))
    assert merch(data_dir, "keys", "list").returncode == 0
    assert not running(data_dir)
