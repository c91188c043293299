"""`merch serve` started for a test: the real server program on a free port, its log read all along (tests/server,
tests/console)."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from tests.conftest import ROOT


class Served:
    """A `merch serve` process; its standard error is read all along by a thread (so that the server never
    blocks writing its logs), line by line into a queue the test can wait on."""

    def __init__(self, database: str, workers: int, *options: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        env = {**os.environ, "DATABASE_URL": database, "MERCH_LOG_LEVEL": "info", "MERCH_LOG_FORMAT": "json"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", *options, "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

        self.log: list[str] = []  # every line read, for a failure to show

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, *messages: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Read log lines until each of `messages` (repeats: as often) has begun one; the records read."""
        todo = list(messages)
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while todo:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {todo} within {timeout} s; the log: {self.log[-20:]}") from None
            if line is None:
                raise ServerEnded(f"the server ended before logging {todo}; the log: {self.log[-20:]}")
            self.log.append(line)
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # (a line of the embedded server or of a warning)
            seen.append(record)
            for wanted in todo:
                if record.get("message", "").startswith(wanted):
                    todo.remove(wanted)
                    break
        return seen

    def wait_ready(self, workers: int, timeout: float = 60) -> None:
        """Until every worker has started and the socket listens: a worker calls listen() only after its start-up
        is logged (with several, the supervisor binds the socket and says it is running before that)."""
        self.wait_for("Uvicorn running on", *["Application startup complete"] * workers, timeout=timeout)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                return
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.01)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=60)


class ServerEnded(AssertionError):
    pass


def start(database: str, workers: int, *options: str, timeout: float = 60) -> Served:
    """A ready `merch serve` (with `options`, e.g. --demo); on another free port if the one picked was taken
    meanwhile (other test runs on the machine pick free ports too)."""
    for _ in range(3):
        served = Served(database, workers, *options)
        try:
            served.wait_ready(workers, timeout)
            return served
        except ServerEnded:
            served.stop()
            if not any("Address already in use" in line for line in served.log):
                raise
    raise AssertionError("no free port in three tries")
