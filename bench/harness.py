"""What the HTTP benchmarks share: the server programs (one table of how each is started), starting and
stopping a server with its workers, peak memory, and wrk runs read from the shared kit's summary line; and the
fresh database of its own an in-process benchmark runs on."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from api import db, migrate
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"

# The server program merchflow runs under (`merch serve`), and so the floor too in every benchmark.
SERVER = "uvicorn-uvloop-httptools"

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


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a label for the table, the server's port, its wrk script and URL path."""

    label: str
    port: int
    script: Path
    path: str = ""


Runs = dict[tuple[int, int], list[dict[str, Any]]]
WARM_UP_SECONDS = 3


def alternate(sides: list[Side], concurrency: list[int], rounds: int, seconds: int, env: dict[str, str]) -> Runs:
    """wrk runs A B A B … per concurrency, so that drift hits every side alike; runs by (side, concurrency).
    First a warm-up run of each side, kept apart under concurrency 0 (each server opens its connections and
    plans its queries): the table leaves it out."""
    runs: Runs = {}
    for n, side in enumerate(sides):
        runs[(n, 0)] = [wrk(side.port, side.script, max(concurrency), WARM_UP_SECONDS, env, path=side.path)]
    for conc in concurrency:
        for _ in range(rounds):
            for n, side in enumerate(sides):
                runs.setdefault((n, conc), []).append(wrk(side.port, side.script, conc, seconds, env, path=side.path))
    return runs


def table(sides: list[Side], concurrency: list[int], runs: Runs) -> dict[int, float]:
    """Print the medians of each side and the ratio of the last side to the first (the floor), per
    concurrency; answers those ratios."""
    print("| route | conc | req/s (median) | p50 ms | p99 ms | non-2xx | runs (req/s) |")
    print("|---|---|---|---|---|---|---|")
    ratios = {}
    for conc in concurrency:
        medians = []
        for n, side in enumerate(sides):
            these = runs[(n, conc)]
            rps = statistics.median(r["rps"] for r in these)
            medians.append(rps)
            p50 = statistics.median(r["p50_us"] for r in these) / 1000
            p99 = statistics.median(r["p99_us"] for r in these) / 1000
            bad = sum(r["non_2xx"] + r["socket_errors"] for r in these)
            each = ", ".join(f"{r['rps']:,.0f}" for r in these)
            print(f"| {side.label} | {conc} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {bad} | {each} |")
        ratios[conc] = medians[-1] / medians[0]
        print(
            f"| **ratio {sides[-1].label.split(':')[0]} / {sides[0].label.split(':')[0]}** | {conc} |"
            f" **{ratios[conc]:.2f}×** | | | | |"
        )
    return ratios


def start_floor(env: dict[str, str], workers: int) -> tuple[int, subprocess.Popen[bytes]]:
    """The shared floor app (its schema set up) on a free port, under the same server program as merchflow."""
    subprocess.run(
        [sys.executable, str(SHARED / "floor_app.py"), "setup"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    port = free_port()
    return port, start(server_command(SERVER, "floor_app:app", port, workers, SHARED), env, port, "/floor/plain")


def start_merchflow(env: dict[str, str], workers: int) -> tuple[int, subprocess.Popen[bytes]]:
    """`merch serve` on a free port."""
    port = free_port()
    cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)]
    return port, start(cmd, env, port, "/readyz")


def bench_database(folder: str) -> tuple[str, Any, dict[str, str]]:
    """What every HTTP benchmark starts with: wrk present, the bench database up (MERCH_DATA_DIR, default
    bench/out/<folder>, or DATABASE_URL), and the environment both servers run with. Keep the returned
    server handle alive for as long as the database is needed."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    data_dir = Path(os.environ.get("MERCH_DATA_DIR", ROOT / "bench" / "out" / folder))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["MERCH_DATA_DIR"] = str(data_dir)
    dsn, server = asyncio.run(db.prepare_database(Settings()))
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "MERCH_LOG_LEVEL": "warning",
        "MERCH_RATE_LIMIT": "0",  # (a benchmark's one key sends thousands of requests a second: no per-key limit)
        "MERCH_RATE_LIMIT_ROLES": "",
        "MERCH_WRK_SHARED": str(SHARED / "wrk"),
        "FLOOR_POOL": "16",
    }
    asyncio.run(_warn_of_jobs(dsn))
    return dsn, server, env


async def own_database(database: str, folder: str) -> tuple[asyncpg.Connection, Any]:
    """A connection to `database`, dropped and created afresh and migrated, on the embedded server under
    .merchflow/<folder> (or DATABASE_URL's server), and the server's handle (None on DATABASE_URL's): keep it
    alive for as long as the database is needed."""
    settings = Settings()
    if settings.database_url:
        admin_dsn, server = settings.database_url, None
    else:
        server = db.embedded_server(ROOT / ".merchflow" / folder, settings.pg_shared_buffers)
        admin_dsn = db.embedded_dsn(server, "postgres")
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {database} TEMPLATE template0 ENCODING 'UTF8'")
    await admin.close()
    dsn = db.embedded_dsn(server, database) if server is not None else admin_dsn.rsplit("/", 1)[0] + "/" + database
    conn = await asyncpg.connect(dsn)
    try:
        await db.init_connection(conn)
        await migrate.migrate(conn)
    except BaseException:
        await conn.close()
        raise
    return conn, server


async def _warn_of_jobs(dsn: str) -> None:
    """Say so when background jobs are queued or running (a read model rebuilt after its routines changed, a
    recompute): they share the CPU with what is measured. Nothing to say of a database not migrated yet (a
    fresh bench database: the benchmark's own preparation migrates it)."""
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT to_regclass('jobs')") is None:
            return
        rows = await conn.fetch(
            "SELECT id, kind, done, total FROM jobs WHERE state IN ('queued', 'running') ORDER BY id"
        )
    finally:
        await conn.close()
    for r in rows:
        print(f"note: job {r['id']} ({r['kind']}, {r['done']}/{r['total']}) runs beside this benchmark", flush=True)


async def alternated_patches(
    conn: Any, codes: list[str], block: int, off: str, on: str
) -> tuple[list[float], list[float]]:
    """Seconds per merge patch of each product (a new selling point, as an admin), in alternated blocks:
    with the mechanism measured (`on`: the SQL that restores it, run first), then without it (`off`)."""
    from domain.keys.model import Principal
    from domain.products import service as products
    from domain.products.model import ProductPatch

    admin = Principal(name="bench", roles=frozenset({"admin"}))
    with_it: list[float] = []
    without: list[float] = []
    try:
        for start in range(0, len(codes), block):
            for kept, sink in ((True, with_it), (False, without)):
                await conn.execute(on if kept else off)
                for i, code in enumerate(codes[start : start + block]):
                    patch = ProductPatch(selling_points=[{"en": f"bench {start} {i} {kept}"}])
                    t = time.perf_counter()
                    await products.patch_product(conn, admin, code, patch, None)
                    sink.append(time.perf_counter() - t)
    finally:
        await conn.execute(on)
    return with_it, without
