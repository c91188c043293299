"""Which server program merchflow runs under: the shared floor app (../shared/bench/floor_app.py) under each
candidate — uvicorn on asyncio with h11, uvicorn on uvloop with httptools, granian — with 1 and 2 workers,
at concurrency 1, 16 and 64, on its constant route (the framework floor) and its primary-key fetch; p50 /
p99 and requests per second, and the peak memory of each server.

    python -m bench.servers            (needs wrk; installs nothing)

Uses MERCH_DATA_DIR (default bench/out/servers) or DATABASE_URL for the floor's PostgreSQL.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings

from bench.harness import PROGRAMS, SHARED, bench_database, free_port, server_command, start, stop, wrk

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
ROUTES = {"constant": SHARED / "wrk" / "summary.lua", "pk fetch": SHARED / "wrk" / "floor_product.lua"}


def main(args: argparse.Namespace) -> None:
    _dsn, server, env = bench_database("servers")
    subprocess.run([sys.executable, str(SHARED / "floor_app.py"), "setup"], env=env, check=True)
    print("| program | workers | route | conc | req/s | p50 ms | p99 ms | peak RSS per worker |")
    print("|---|---|---|---|---|---|---|---|")
    for program in args.programs:
        for workers in args.workers:
            port = free_port()
            proc = start(server_command(program, "floor_app:app", port, workers, SHARED), env, port, "/floor/plain")
            rows = []
            try:
                for route, script in ROUTES.items():
                    for conc in args.concurrency:
                        path = "/floor/plain" if route == "constant" else ""
                        run = wrk(port, script, conc, args.seconds, env, path=path)
                        rows.append((route, conc, run))
            finally:
                _total, largest = stop(proc)
            for route, conc, run in rows:
                print(
                    f"| {program} | {workers} | {route} | {conc} | {run['rps']:,.0f} | {run['p50_us'] / 1000:.2f}"
                    f" | {run['p99_us'] / 1000:.2f} | {largest} MB |",
                    flush=True,
                )
    del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=PROGRAMS)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--seconds", type=int, default=5)
    main(parser.parse_args())
