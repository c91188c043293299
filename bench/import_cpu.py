"""What a product import costs in CPU (issue 13): N products of bench.imports' shape, all_or_nothing into its
emptied catalog, driven in-process — the upload (`start_import`: read, checked, staged) then the run
(`run_import`: applied, derived data included; the file's first lines are applied during the upload, unless
`--sequential`) — with the seconds each took and the CPU each used, of this
Python process and of the embedded server's processes (from /proc). On a loaded machine wall-clock figures move
2× between runs; the CPU an import costs is what compares.

    MERCH_DATA_DIR=/tmp/… python -m bench.import_cpu --products 10000 [--sequential] [--functions]

`--functions`: the routines the run spent its time in (`track_functions = all`, pg_stat_user_functions: calls,
total and own milliseconds), the most costly first.

Needs the embedded server (MERCH_DATA_DIR, never bench/out): its processes are read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from api import db, guard, migrate
from api.settings import Settings
from bench import imports as bench_imports
from domain.imports import service
from domain.keys.model import Principal

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def server_cpu(data_dir: Path) -> float:
    """CPU seconds of the embedded server: its postmaster (with the backends that exited) and its processes."""
    postmaster = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # (a process that ended meanwhile)
            continue
        if int(pid) == postmaster or int(fields[1]) == postmaster:
            total += sum(int(f) for f in fields[11:15]) / ticks
    return total


FUNCTIONS = """
SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 15
"""


async def blocks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(1 << 16):
            yield block


async def main(products: int, sequential: bool, functions: bool) -> None:
    data_dir = Path(os.environ["MERCH_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    dsn, server = await db.prepare_database(settings)
    conn = await asyncpg.connect(dsn)
    await db.init_connection(conn)
    database = await conn.fetchval("SELECT quote_ident(current_database())")
    if functions:
        await conn.execute(f"ALTER DATABASE {database} SET track_functions = 'all'")  # (the pool's sessions)
    pool = await db.create_pool(dsn, settings)
    try:
        await migrate.migrate(conn)
        codes = await bench_imports.prepare(conn, 200)
        await conn.execute("DELETE FROM jobs WHERE requested_by = 'bench-import-cpu'")
        await conn.execute("VACUUM ANALYZE")
        path = data_dir / f"products-{products}.jsonl"
        bench_imports.write_file(path, products, codes)
        actor = Principal(name="bench-import-cpu", roles=frozenset({"admin"}))
        await conn.execute("SELECT pg_stat_reset()")
        marks = [(time.perf_counter(), time.process_time(), server_cpu(data_dir))]
        async with pool.acquire() as upload:
            job, _ = await service.start_import(
                upload,
                actor,
                kind="products",
                mode="all_or_nothing",
                media_type="application/x-ndjson",
                idempotency_key=None,
                body=blocks(path),
                line_flaw=guard.body_flaw,
                pool=None if sequential else pool,
            )
        marks.append((time.perf_counter(), time.process_time(), server_cpu(data_dir)))
        if not await service.finish_overlapped():  # (applied while read: its run is finished here)
            await service.run_import(pool, job.id)
        marks.append((time.perf_counter(), time.process_time(), server_cpu(data_dir)))
        state = await conn.fetchval("SELECT state FROM jobs WHERE id = $1", job.id)
        assert state == "done", state
        for name, (a, b) in (("upload", marks[0:2]), ("apply", marks[1:3])):
            print(f"{name}: {b[0] - a[0]:.2f} s; CPU: Python {b[1] - a[1]:.2f} s, PostgreSQL {b[2] - a[2]:.2f} s")
        if functions:
            await pool.close()  # (its sessions report their counts as they end)
            await conn.execute("SELECT pg_stat_force_next_flush()")
            for r in await conn.fetch(FUNCTIONS):
                name, calls, total, own = r["funcname"], r["calls"], r["total_time"], r["self_time"]
                print(f"  {name:40} {calls:>7} calls {total:>9.0f} ms {own:>9.0f} ms own")
    finally:
        await conn.execute(f"ALTER DATABASE {database} RESET track_functions")
        await pool.close()
        await conn.close()
        del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument(
        "--sequential", action="store_true", help="the apply after the upload (as before the overlap), not during it"
    )
    parser.add_argument("--functions", action="store_true", help="the routines the run spent its time in")
    args = parser.parse_args()
    logging.basicConfig(format="%(message)s")
    logging.getLogger("merchflow.imports").setLevel(logging.INFO)  # (how many lines were applied during the upload)
    asyncio.run(main(args.products, args.sequential, args.functions))
