"""Stock movements over HTTP at concurrency 64 (and 16), next to the shared floor (../shared/bench):
the bare conditional-UPDATE route of floor_app.py on the same PostgreSQL server, same server program
(uvicorn on uvloop with httptools, as `merch serve`) and worker count, same load generator (wrk), runs
alternated A B A B. Checks afterwards that the ledger still adds up to every level and that every 2xx
answer is exactly one movement.

The mix (bench/wrk/movement.lua): picks of 1 unit, and `--returns` of the requests (default 3 %) a `return`
of 1 unit (售后) — a third of them not resellable, into the quarantine bin Q-01, the others back into the
SKU's bin; 60 % naming the sale they reverse (channel web, one of the last 28 days: each SKU sold 1,000 units
a day there), with a reason from the vocabulary. After the runs it also checks the returns: one
`sales_returns` row per return movement, the facts took back exactly the units of the returns that named
them, the quarantine bin holds exactly the units of the not-resellable ones, and the sales rollup still
equals its facts (net of returns).

    python -m bench.stock                 (needs wrk: `apt-get install wrk`; make bench installs it)
    python -m bench.stock --returns 0     (picks only, as before issue 14)
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
SKUS_PER_PRODUCT = 10  # (sizes × colours: a return that names a sale queues its product's units sold)
SALE_DAYS, SOLD_A_DAY = 28, 1000


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
    """Schema, a warehouse with 10 bins and a quarantine bin, 1,000 SKUs of 100 products with 100 million units
    each, 100,000 past requests in the ledger, 28 days of web sales of every SKU (1,000 units a day: what returns
    name), and a warehouse key."""
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
            await conn.execute(
                "INSERT INTO products (code, category_id, role_id)"
                " SELECT 'bench-' || lpad(i::text, 3, '0'), $1, $2 FROM generate_series(1, $3) i",
                cat,
                role,
                SKUS // SKUS_PER_PRODUCT,
            )
            await conn.execute(
                "INSERT INTO skus (sku, product_id, axes) SELECT 'BENCH-' || lpad(i::text, 4, '0'), p.id,"
                " jsonb_build_object('n', i) FROM generate_series(1, $1) i"
                " JOIN products p ON p.code = 'bench-' || lpad(((i - 1) / $2 + 1)::text, 3, '0')",
                SKUS,
                SKUS_PER_PRODUCT,
            )
            wid = await conn.fetchval("INSERT INTO warehouses (code) VALUES ('bench') RETURNING id")
            await conn.execute(
                "INSERT INTO locations (warehouse_id, code, pick_sequence)"
                " SELECT $1, 'BIN-' || lpad(i::text, 2, '0'), i FROM generate_series(0, $2 - 1) i",
                wid,
                BINS,
            )
            await conn.execute(
                "INSERT INTO locations (warehouse_id, code, pick_sequence, quarantine) VALUES ($1, 'Q-01', 900, true)",
                wid,
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
            # the sales the returns name: days 1..28 before today (UTC), as the wrk script counts them
            await conn.execute(
                "INSERT INTO sales_facts (day, sku_id, channel, qty, revenue, currency)"
                " SELECT (now() AT TIME ZONE 'UTC')::date - d, k.id, 'web', $2, $2 * 100, 'CNY'"
                " FROM skus k CROSS JOIN generate_series(1, $1) d WHERE k.sku LIKE 'BENCH-%'",
                SALE_DAYS,
                SOLD_A_DAY,
            )
            await conn.execute("ANALYZE")
        await conn.execute("DELETE FROM api_keys WHERE name = 'bench-warehouse'")
        return (await keys.create_key(conn, ["warehouse"], "bench-warehouse")).secret
    finally:
        await conn.close()


async def check(dsn: str) -> dict[str, int]:
    """What the runs must leave true, as counts: ledger mismatches (a level that is not the sum of its
    movements), the movements the runs record (picks, returns — resellable, not, naming a sale), and the
    returns' own books: return movements without exactly one sales_returns row, units the facts took back
    against the returns that named them, units in quarantine against the not-resellable returns, and rollup
    rows (per SKU and currency) that differ from their facts net of returns."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM (SELECT 1 FROM stock_levels sl LEFT JOIN stock_movements m
                                             ON m.sku_id = sl.sku_id AND m.location_id = sl.location_id
                                          GROUP BY sl.sku_id, sl.location_id, sl.on_hand
                                         HAVING sl.on_hand <> coalesce(sum(m.on_hand_delta), 0)) x) AS ledger_bad,
                   (SELECT count(*) FROM stock_movements WHERE type = 'pick') AS picks,
                   (SELECT count(*) FROM stock_movements WHERE type = 'return') AS returns,
                   (SELECT count(*) FROM sales_returns WHERE resellable) AS resellable,
                   (SELECT count(*) FROM sales_returns WHERE NOT resellable) AS quarantined,
                   (SELECT count(*) FROM sales_returns WHERE sale_day IS NOT NULL) AS named,
                   (SELECT count(*) FROM stock_movements m
                     WHERE m.type = 'return'
                       AND (SELECT count(*) FROM sales_returns r WHERE r.movement_id = m.id) <> 1) AS returns_bad,
                   (SELECT coalesce(sum(returned_qty), 0) FROM sales_facts)
                   - (SELECT coalesce(sum(qty), 0) FROM sales_returns WHERE sale_day IS NOT NULL) AS facts_off,
                   (SELECT coalesce(sum(sl.on_hand), 0) FROM stock_levels sl JOIN locations l ON l.id = sl.location_id
                     WHERE l.quarantine)
                   - (SELECT coalesce(sum(qty), 0) FROM sales_returns WHERE NOT resellable) AS quarantine_off,
                   (SELECT count(*) FROM (
                       SELECT f.sku_id, f.currency, sum(f.qty - f.returned_qty) AS qty,
                              sum(f.revenue - f.refunded) AS revenue
                         FROM sales_facts f GROUP BY f.sku_id, f.currency) f
                     FULL JOIN (SELECT m.sku_id, m.currency, sum(m.qty) AS qty, sum(m.revenue) AS revenue
                                  FROM sales_monthly m GROUP BY m.sku_id, m.currency) r USING (sku_id, currency)
                    WHERE f.qty IS DISTINCT FROM r.qty OR f.revenue IS DISTINCT FROM r.revenue) AS rollup_bad
            """
        )
        return {k: int(v) for k, v in row.items()}
    finally:
        await conn.close()


def main(args: argparse.Namespace) -> None:
    dsn, server, env = bench_database("stock")
    key = asyncio.run(prepare(dsn))
    before = asyncio.run(check(dsn))
    env.update(MERCH_WORKERS=str(args.workers), MERCH_BENCH_KEY=key, MERCH_BENCH_RETURNS=str(args.returns))
    floor_port, floor = start_floor(env, args.workers)
    merch_port, merch = start_merchflow(env, args.workers)
    sides = [
        Side("floor: conditional UPDATE", floor_port, SHARED / "wrk" / "floor_write.lua"),
        Side(
            f"merchflow: POST /v1/stock/movements (pick{f', {args.returns:.0%} return' if args.returns else ''})",
            merch_port,
            ROOT / "bench" / "wrk" / "movement.lua",
        ),
    ]
    try:
        runs = alternate(sides, args.concurrency, args.rounds, args.seconds, env)
    finally:
        (floor_rss, floor_worker), (merch_rss, merch_worker) = stop(floor), stop(merch)
    ok_requests = sum(
        r["requests"] - r["non_2xx"] - r["socket_errors"] for (n, _), these in runs.items() if n == 1 for r in these
    )
    after = asyncio.run(check(dsn))
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
    new = {k: after[k] - before[k] for k in ("picks", "returns", "resellable", "quarantined", "named")}
    recorded = new["picks"] + new["returns"]
    books = ("ledger_bad", "returns_bad", "facts_off", "quarantine_off", "rollup_bad")
    exact = all(after[k] == 0 for k in books) and ok_requests <= recorded <= ok_requests + in_flight
    print(
        f"movements recorded {recorded:,}: picks {new['picks']:,}, returns {new['returns']:,}"
        f" ({new['returns'] / max(recorded, 1):.1%}: resellable {new['resellable']:,}, not resellable"
        f" {new['quarantined']:,}, naming a sale {new['named']:,})"
    )
    print(
        f"exactness: ledger mismatches {after['ledger_bad']} (before {before['ledger_bad']}); return movements"
        f" without one sales_returns row {after['returns_bad']}; units the facts took back − units of the returns"
        f" naming them {after['facts_off']}; units in quarantine − not-resellable returns {after['quarantine_off']};"
        f" rollup rows ≠ their facts {after['rollup_bad']}; movements recorded {recorded:,}, 2xx answers counted"
        f" {ok_requests:,} (+ at most {in_flight} in flight at run ends) → {'exact' if exact else 'MISMATCH'}"
    )
    del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 16])
    parser.add_argument("--returns", type=float, default=0.03, help="share of the requests that are returns")
    main(parser.parse_args())
