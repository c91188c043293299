"""`merch serve --replicas 1` with the embedded server: a streaming replica made beside the primary (its data in
MERCH_DATA_DIR/replica-1), serving the replica routes, and stopped with the server."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MERCH_READ_DATABASE_URLS")}
    return {**env, "MERCH_DATA_DIR": str(data_dir), "MERCH_LOG_LEVEL": "info"}


def get(port: int, path: str, key: str | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"} if key else {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def running(pgdata: Path) -> bool:
    try:
        os.kill(int((pgdata / "postmaster.pid").read_text().splitlines()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def test_serve_with_replicas_starts_a_streaming_replica_wires_it_in_and_stops_it(data_dir: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--replicas", "1"],
        cwd=ROOT,
        env=env_for(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        for line in proc.stderr:
            if "Uvicorn running on" in line:  # (one worker: it listens once started)
                break
        else:
            raise AssertionError("the server stopped before it was ready")
        made = subprocess.run(  # (joins the running embedded server)
            [sys.executable, "-m", "api.cli", "keys", "create", "--role", "admin"],
            env=env_for(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        key = made.stdout.strip()
        replica_dir = data_dir.resolve() / "replica-1"
        assert (replica_dir / "standby.signal").exists() and running(replica_dir)
        deadline = time.monotonic() + 20
        while True:  # the monitor's first rounds: polling another process
            status, body = get(port, "/readyz")
            ready: dict[str, Any] = json.loads(body)
            if ready["replicas"] and ready["replicas"][0]["state"] == "streaming":
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        assert status == 200 and ready["status"] == "ok"
        assert ready["replicas"][0]["name"] == "replica-1" and ready["replicas"][0]["lag_ms"] is not None
        status, body = get(port, "/v1/events?after=-1", key)
        assert status == 200 and json.loads(body)["items"] == []
        status, metrics = get(port, "/metrics", key)
        assert 'merchflow_replica_reads_total{replica="replica-1"} 1' in metrics
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode in (0, 143)  # (one worker: uvicorn hands the SIGTERM on once it has shut down)
    assert f"replica: streaming from the embedded server, data in {replica_dir}" in out
    assert not running(replica_dir)  # stopped with the server
    assert not running(data_dir.resolve() / "pg")


def test_serve_with_replicas_needs_the_embedded_server(data_dir: Path) -> None:
    env = {**env_for(data_dir), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--replicas", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--replicas starts replicas of the embedded server" in done.stderr
