"""What the HTTP benchmarks share: the server programs (one table of how each is started), starting and
stopping a server with its workers, peak memory, and wrk runs read from the shared kit's summary line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"

# How each server program runs an ASGI app ("module:attribute", in `app_dir`) with `workers` processes.
PROGRAMS = ("uvicorn-asyncio-h11", "uvicorn-uvloop-httptools", "granian")


def server_command(program: str, app: str, port: int, workers: int, app_dir: Path | None = None) -> list[str]:
    if program.startswith("uvicorn"):
        loop, http = ("asyncio", "h11") if program == "uvicorn-asyncio-h11" else ("uvloop", "httptools")
        cmd = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning", "--loop", loop]
        cmd += ["--http", http, "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)]
        return [*cmd, *(["--app-dir", str(app_dir)] if app_dir else []), app]
    if program == "granian":
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--workers", str(workers)]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
        return [*cmd, *(["--working-dir", str(app_dir)] if app_dir else []), app]
    raise ValueError(program)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], env: dict[str, str], port: int, ready: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=1)
            return proc
        except OSError:
            time.sleep(0.3)  # waiting for a server to come up, not synchronising a test
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start on port {port}")


def stop(proc: subprocess.Popen[bytes]) -> tuple[int, int]:
    """Stop a server and all its workers; answers (peak RSS of the group, peak RSS of its largest process)
    in MB."""
    peaks = [rss(p) for p in [proc.pid, *children(proc.pid)]]
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    return sum(peaks), max(peaks, default=0)


def rss(pid: int) -> int:
    """Peak resident memory of one process in MB (VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except OSError:
        return []
    return [int(x) for x in out] + [g for c in out for g in children(int(c))]


def wrk(
    port: int, script: Path, conc: int, seconds: int, env: dict[str, str], threads: int = 2, path: str = ""
) -> dict[str, Any]:
    """One wrk run with a shared-kit script; its summary, with requests per second."""
    threads = min(threads, conc)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{conc}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    data: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data
