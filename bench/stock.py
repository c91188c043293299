"""Stock movements over HTTP at concurrency 64 (and 16), next to the shared floor (../shared/bench):
the bare conditional-UPDATE route of floor_app.py on the same PostgreSQL server, same server program
(uvicorn on uvloop with httptools, as `merch serve`) and worker count, same load generator (wrk), runs
alternated A B A B. Checks afterwards that the ledger still adds up to every level and that every 2xx
answer is exactly one movement.

    python -m bench.stock            (needs wrk: `apt-get install wrk`; make bench installs it)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import asyncpg

from api import db, migrate
from api.settings import Settings
from bench.harness import ROOT, SHARED, free_port, server_command, start, stop, wrk
from domain.keys import service as keys

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
SKUS, BINS = 1000, 10
# The server program merchflow runs under (`merch serve`), for the floor too.
SERVER = "uvicorn-uvloop-httptools"


async def prepare(dsn: str) -> str:
    """Schema, a warehouse with 10 bins, 1,000 SKUs with 100 million units each, and a warehouse key."""
    conn = await asyncpg.connect(dsn)
    await db.init_connection(conn)
    try:
        await migrate.migrate(conn)
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM warehouses WHERE code = 'bench')"):
            tree = await conn.fetchval(
                "INSERT INTO category_trees (code, level_names) VALUES ('bench', '{bin}') RETURNING id"
            )
            cat = await conn.fetchval(
                "WITH n AS (SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id)"
                " INSERT INTO categories (id, code, tree_id, position, path) OVERRIDING SYSTEM VALUE"
                " SELECT id, 'bench', $1, 0, text2ltree(id::text) FROM n RETURNING id",
                tree,
            )
            role = await conn.fetchval("SELECT id FROM roles WHERE code = 'routine'")
            product = await conn.fetchval(
                "INSERT INTO products (code, category_id, role_id) VALUES ('bench', $1, $2) RETURNING id", cat, role
            )
            await conn.execute(
                "INSERT INTO skus (sku, product_id, axes) SELECT 'BENCH-' || lpad(i::text, 4, '0'), $1,"
                " jsonb_build_object('n', i) FROM generate_series(1, $2) i",
                product,
                SKUS,
            )
            wid = await conn.fetchval("INSERT INTO warehouses (code) VALUES ('bench') RETURNING id")
            await conn.execute(
                "INSERT INTO locations (warehouse_id, code, pick_sequence)"
                " SELECT $1, 'BIN-' || lpad(i::text, 2, '0'), i FROM generate_series(0, $2 - 1) i",
                wid,
                BINS,
            )
            lines = [
                {
                    "type": "receive",
                    "sku": f"BENCH-{i:04d}",
                    "qty": 100_000_000,
                    "warehouse": "bench",
                    "location": f"BIN-{i % BINS:02d}",
                }
                for i in range(1, SKUS + 1)
            ]
            await conn.fetchval("SELECT merch_apply_movements('bench-setup', NULL, '\\x00', $1::jsonb)", lines)
            await conn.execute("ANALYZE")
        await conn.execute("DELETE FROM api_keys WHERE name = 'bench-warehouse'")
        return (await keys.create_key(conn, ["warehouse"], "bench-warehouse")).secret
    finally:
        await conn.close()


async def check(dsn: str) -> tuple[int, int]:
    """(ledger mismatches, picks recorded)."""
    conn = await asyncpg.connect(dsn)
    try:
        bad = await conn.fetchval(
            "SELECT count(*) FROM (SELECT sl.sku_id FROM stock_levels sl LEFT JOIN stock_movements m"
            " ON m.sku_id = sl.sku_id AND m.location_id = sl.location_id"
            " GROUP BY sl.sku_id, sl.location_id, sl.on_hand HAVING sl.on_hand <> coalesce(sum(m.on_hand_delta), 0)) x"
        )
        picks = await conn.fetchval("SELECT count(*) FROM stock_movements WHERE type = 'pick'")
        return int(bad), int(picks)
    finally:
        await conn.close()


def main(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    data_dir = Path(os.environ.get("MERCH_DATA_DIR", ROOT / "bench" / "out" / "stock"))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["MERCH_DATA_DIR"] = str(data_dir)
    settings = Settings()
    dsn, server = asyncio.run(db.prepare_database(settings))
    key = asyncio.run(prepare(dsn))
    before_bad, before_picks = asyncio.run(check(dsn))
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "MERCH_LOG_LEVEL": "warning",
        "MERCH_WORKERS": str(args.workers),
        "MERCH_BENCH_KEY": key,
        "MERCH_WRK_SHARED": str(SHARED / "wrk"),
        "FLOOR_POOL": "16",
    }
    subprocess.run(
        [sys.executable, str(SHARED / "floor_app.py"), "setup"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    floor_port, merch_port = free_port(), free_port()
    floor = start(
        server_command(SERVER, "floor_app:app", floor_port, args.workers, SHARED), env, floor_port, "/floor/plain"
    )
    merch = start(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(merch_port), "--workers", str(args.workers)],
        env,
        merch_port,
        "/readyz",
    )
    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    ok_requests = 0
    try:
        for conc in args.concurrency:
            for _ in range(args.rounds):
                results.setdefault(("floor", conc), []).append(
                    wrk(floor_port, SHARED / "wrk" / "floor_write.lua", conc, args.seconds, env)
                )
                run = wrk(merch_port, ROOT / "bench" / "wrk" / "movement.lua", conc, args.seconds, env)
                ok_requests += run["requests"] - run["non_2xx"] - run["socket_errors"]
                results.setdefault(("merchflow", conc), []).append(run)
    finally:
        (floor_rss, floor_worker), (merch_rss, merch_worker) = stop(floor), stop(merch)
    bad, picks = asyncio.run(check(dsn))
    print(
        f"\nmovements over HTTP: {SERVER} × {args.workers} workers each, wrk -t2, {args.seconds} s runs, "
        f"{args.rounds} rounds alternated\n"
    )
    print("| route | conc | req/s (median) | p50 ms | p99 ms | non-2xx | runs (req/s) |")
    print("|---|---|---|---|---|---|---|")
    for conc in args.concurrency:
        medians = {}
        for name in ("floor", "merchflow"):
            runs = results[(name, conc)]
            rps = statistics.median(r["rps"] for r in runs)
            medians[name] = rps
            p50 = statistics.median(r["p50_us"] for r in runs) / 1000
            p99 = statistics.median(r["p99_us"] for r in runs) / 1000
            non2xx = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
            label = "floor: conditional UPDATE" if name == "floor" else "merchflow: POST /v1/stock/movements (pick)"
            each = ", ".join(f"{r['rps']:,.0f}" for r in runs)
            print(f"| {label} | {conc} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {non2xx} | {each} |")
        print(f"| **ratio merchflow / floor** | {conc} | **{medians['merchflow'] / medians['floor']:.2f}×** | | | | |")
    print(
        f"\npeak RSS: floor {floor_rss} MB (largest process {floor_worker} MB),"
        f" merchflow {merch_rss} MB (largest process {merch_worker} MB)"
    )
    # wrk stops counting at the end of each run while its last requests are still in flight: those are
    # applied by the server but not counted, at most `concurrency` per run.
    in_flight = sum(conc * args.rounds for conc in args.concurrency)
    recorded = picks - before_picks
    exact = bad == 0 and ok_requests <= recorded <= ok_requests + in_flight
    print(
        f"exactness: ledger mismatches {bad} (before {before_bad}); picks recorded {recorded:,}, 2xx answers counted"
        f" {ok_requests:,} (+ at most {in_flight} in flight at run ends) → {'exact' if exact else 'MISMATCH'}"
    )
    del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 16])
    main(parser.parse_args())
