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
import warnings

import asyncpg

from api import db, migrate
from bench.harness import (
    ROOT,
    SERVER,
    SHARED,
    Side,
    alternate,
    bench_database,
    start_floor,
    start_merchflow,
    stop,
    table,
)
from domain.keys import service as keys

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
SKUS, BINS = 1000, 10


# A warehouse in use: past requests, each an adjustment of +1 and one of -1 in one bin (levels unchanged).
# On an empty ledger, the plans a connection caches while the tables are small scan them as they grow,
# until autovacuum's first ANALYZE (up to a minute): a new database's first minute, not a warehouse's day.
HISTORY_REQUESTS = 100_000
HISTORY = """
WITH r AS (
    INSERT INTO stock_requests (actor, idempotency_key, request_hash, response, created_at)
    SELECT 'bench-history', 'history-' || i, '\\x00', '{}', now() - interval '1 day' FROM generate_series(1, $1) i
    RETURNING id
), lv AS (
    SELECT row_number() OVER (ORDER BY sku_id, location_id) - 1 AS n, sku_id, location_id, warehouse_id
      FROM stock_levels
)
INSERT INTO stock_movements (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta,
                             reserved_delta, actor, created_at)
SELECT r.id, d.line, 'adjust', lv.sku_id, lv.warehouse_id, lv.location_id, d.qty, d.qty, 0, 'bench-history',
       now() - interval '1 day'
  FROM r JOIN lv ON lv.n = r.id % (SELECT count(*) FROM lv)
 CROSS JOIN (VALUES (0, 1), (1, -1)) d(line, qty)
"""


async def prepare(dsn: str) -> str:
    """Schema, a warehouse with 10 bins, 1,000 SKUs with 100 million units each, 100,000 past requests in the
    ledger, and a warehouse key."""
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
            setup = "SELECT merch_apply_requests('{bench-setup}', '{NULL}', '{\\\\x00}', jsonb_build_array($1::jsonb))"
            await conn.fetchval(setup, lines)
            await conn.execute(HISTORY, HISTORY_REQUESTS)
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
    dsn, server, env = bench_database("stock")
    key = asyncio.run(prepare(dsn))
    before_bad, before_picks = asyncio.run(check(dsn))
    env.update(MERCH_WORKERS=str(args.workers), MERCH_BENCH_KEY=key)
    floor_port, floor = start_floor(env, args.workers)
    merch_port, merch = start_merchflow(env, args.workers)
    sides = [
        Side("floor: conditional UPDATE", floor_port, SHARED / "wrk" / "floor_write.lua"),
        Side("merchflow: POST /v1/stock/movements (pick)", merch_port, ROOT / "bench" / "wrk" / "movement.lua"),
    ]
    try:
        runs = alternate(sides, args.concurrency, args.rounds, args.seconds, env)
    finally:
        (floor_rss, floor_worker), (merch_rss, merch_worker) = stop(floor), stop(merch)
    ok_requests = sum(
        r["requests"] - r["non_2xx"] - r["socket_errors"] for (n, _), these in runs.items() if n == 1 for r in these
    )
    bad, picks = asyncio.run(check(dsn))
    print(
        f"\nmovements over HTTP: {SERVER} × {args.workers} workers each, wrk -t2, {args.seconds} s runs, "
        f"{args.rounds} rounds alternated\n"
    )
    table(sides, args.concurrency, runs)
    print(
        f"\npeak RSS: floor {floor_rss} MB (largest process {floor_worker} MB),"
        f" merchflow {merch_rss} MB (largest process {merch_worker} MB)"
    )
    # wrk stops counting at the end of each run while its last requests are still in flight: those are
    # applied by the server but not counted, at most `concurrency` per run.
    in_flight = sum(conc * args.rounds for conc in args.concurrency) + max(args.concurrency)  # and the warm-up
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
