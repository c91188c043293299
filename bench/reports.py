"""Report benchmarks (issue: prices, suppliers, promotions, sales, reports).

Times every report for the whole catalog and for one category on the scale catalog, each the median of 3
runs (query + JSON encoding, through the same service calls the routes make, with the routes' default limits —
promotion-roi also with its items' rows, and with every promotion's), next to the goals:
≤ 2 s for the whole tree, ≤ 200 ms for one category.

Loads what is missing, set-based: the scale catalog (`--products`), sale / distribution / cost prices for
every SKU, a year of daily sales facts (two channels) for `--sales-skus` SKUs in one INSERT … SELECT
generate_series (each fact costed at the prices of its day; the refresh point rolls them up into
`sales_monthly` and `sales_sku_totals` as the statement commits), stock and receipts for those SKUs in one
warehouse; then (issue 14) a year of promotions — 2,000, each on 100 SKUs of one minor category (200,000 items),
7 to 21 days, with a spend — and returns of about 2 % of the units sold (whole facts returned three days after
the sale, a reason and a condition each: `sales_facts.returned_qty / refunded`, one `return` movement and one
`sales_returns` row per returned fact), as the return movements would leave them; and the promotion-outcomes
job builds the new promotions' outcomes (as the runner would: without it promotion-roi answers their rows alone,
`recomputing`).

    python -m bench.reports --products 1000000 --sales-skus 100000     (the real run)
    python -m bench.reports --products 20000 --sales-skus 5000         (a quick check)
    python -m bench.reports --since 2026-08-01 --until 2026-10-31      (sales reports over a period)
    python -m bench.reports --only returns promotion-roi               (some reports only)
    python -m bench.reports --since 2026-01-15 --until 2026-11-20 --reads main
        (the sales reports' reads — merch_report_sku_sales — as of a git revision, on this database; the
         tree's put back afterwards: alternate runs with and without it to compare)

Uses MERCH_DATA_DIR (default bench/out/data) or DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from api import db, migrate
from api.settings import Settings
from domain.keys.model import Principal
from domain.reports import costs, promotions, returns, sales
from domain.reports.model import ReportScope
from domain.reports.outcomes import run_promotion_outcomes
from domain.seed import scale

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
FINANCE = Principal(name="bench", roles=frozenset({"finance"}))
GOAL_TREE, GOAL_CATEGORY = 2.0, 0.2
PROMOTION_COUNT = 2_000

PRICES = """
INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)
SELECT s.id, k.kind, 'CNY', round((50 + s.id % 200) * k.factor, 2), now() - interval '2 years', 'bench'
  FROM skus s
  JOIN products p ON p.id = s.product_id AND p.code LIKE 'sp-%'
 CROSS JOIN (VALUES ('sale', 1.0), ('distribution', 0.8), ('cost', 0.55)) AS k(kind, factor)
"""
# A year of daily facts, web and distribution, for the first $1 SKUs of the scale catalog, each costed at the
# cost and distribution prices in force on its day (as an upload would): one statement, written day by day as daily
# uploads lay them out (a period's days are then neighbours in the table, not spread over all of it).
SALES = """
INSERT INTO sales_facts (day, sku_id, channel, qty, revenue, currency, cost, distribution_value)
SELECT d.day, s.id, c.channel, q.qty, q.qty * (50 + s.id % 200) * c.factor, 'CNY', q.qty * pc.amount,
       q.qty * pd.amount
  FROM (SELECT s.id FROM skus s JOIN products p ON p.id = s.product_id AND p.code LIKE 'sp-%'
         ORDER BY s.id LIMIT $1::integer) s
 CROSS JOIN (SELECT g::date AS day, (g::date + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond' AS eod
               FROM generate_series(current_date - 365, current_date - 1, interval '1 day') AS g) d
 CROSS JOIN (VALUES ('web', 1.0), ('distribution', 0.8)) AS c(channel, factor)
 CROSS JOIN LATERAL (SELECT (s.id * 7 + extract(doy FROM d.day)::integer * 13) % 9 AS qty) q
  LEFT JOIN prices pc ON pc.sku_id = s.id AND pc.kind = 'cost' AND pc.currency = 'CNY' AND pc.valid_from <= d.eod
        AND (pc.valid_to IS NULL OR pc.valid_to > d.eod)
  LEFT JOIN prices pd ON pd.sku_id = s.id AND pd.kind = 'distribution' AND pd.currency = 'CNY'
        AND pd.valid_from <= d.eod AND (pd.valid_to IS NULL OR pd.valid_to > d.eod)
 ORDER BY d.day, s.id, c.channel
"""
WAREHOUSE = """
WITH w AS (INSERT INTO warehouses (code, labels) VALUES ('bench-wh', '{"en": "Bench"}') RETURNING id)
INSERT INTO locations (warehouse_id, code, zone) SELECT id, 'A-01', 'A' FROM w
"""
STOCK = """
INSERT INTO stock_levels (sku_id, location_id, warehouse_id, on_hand)
SELECT s.id, l.id, l.warehouse_id, 1 + s.id % 50
  FROM (SELECT DISTINCT sku_id AS id FROM sales_facts) s, locations l
 WHERE l.code = 'A-01' AND l.warehouse_id = (SELECT id FROM warehouses WHERE code = 'bench-wh')
"""
RECEIPTS = """
WITH r AS (INSERT INTO stock_requests (actor, request_hash) VALUES ('bench', '\\x00') RETURNING id)
INSERT INTO stock_movements (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta,
                             reserved_delta, unit_cost, currency, supplier, actor, created_at)
SELECT r.id, 0, 'receive', sl.sku_id, sl.warehouse_id, sl.location_id, sl.on_hand, sl.on_hand, 0,
       (50 + sl.sku_id % 200) * 0.55, 'CNY', 'supplier-' || sl.sku_id % 40, 'bench',
       now() - (sl.sku_id % 300) * interval '1 day'
  FROM r, stock_levels sl
"""

# 2,000 promotions over the year of facts, promotion i on the first 100 SKUs (by id) of the products of minor
# category i (categories in code order), 7–21 days, at 80 % of the sale price, with a spend of 500–1,499 CNY.
PROMOTIONS = """
WITH leaves AS (
    SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM categories
     WHERE tree_id = (SELECT id FROM category_trees WHERE code = 'scale') AND nlevel(path) = 3
), made AS (
    INSERT INTO promotions (code, labels, starts_at, ends_at, spend_amount, spend_currency)
    SELECT 'bench-promo-' || lpad(i::text, 4, '0'), jsonb_build_object('en', 'Bench promotion ' || i),
           (current_date - 358 + (i * 7) % 340)::timestamp AT TIME ZONE 'UTC',
           (current_date - 358 + (i * 7) % 340 + 7 + i % 15)::timestamp AT TIME ZONE 'UTC',
           500 + (i * 37) % 1000, 'CNY'
      FROM generate_series(0, $1::integer - 1) i
    RETURNING id, substr(code, 13)::integer AS i
)
INSERT INTO promotion_items (promotion_id, sku_id, price, currency)
SELECT m.id, k.sku_id, round((50 + k.sku_id % 200) * 0.8, 2), 'CNY'
  FROM made m
  JOIN leaves l ON l.n = m.i
 CROSS JOIN LATERAL (SELECT s.id AS sku_id FROM products p JOIN skus s ON s.product_id = p.id
                      WHERE p.category_id = l.id ORDER BY s.id LIMIT 100) k
"""
# Returns: every fact with units whose (SKU + day) falls on 0 modulo 50 comes back whole, three days later, into
# the bench bin (resellable) or its quarantine bin (one in four), with a reason of the vocabulary.
RETURNED = """
CREATE TEMPORARY TABLE bench_returned ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY f.day, f.sku_id, f.channel)::integer AS line, f.day, f.sku_id, f.channel,
       f.qty, f.revenue, f.currency, (f.sku_id + (f.day - date '2000-01-01')) % 4 <> 0 AS resellable,
       (SELECT array_agg(id ORDER BY code) FROM return_reasons) AS reasons
  FROM sales_facts f
 WHERE f.qty > 0 AND (f.sku_id + (f.day - date '2000-01-01')) % 50 = 0
"""
RETURNS = [
    "INSERT INTO locations (warehouse_id, code, zone, quarantine)"
    " SELECT id, 'Q-01', 'Q', true FROM warehouses WHERE code = 'bench-wh' ON CONFLICT DO NOTHING",
    "INSERT INTO stock_requests (actor, request_hash) VALUES ('bench-returns', '\\x01')",
    """INSERT INTO stock_movements (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta,
                                   reserved_delta, reason, actor, created_at)
       SELECT (SELECT max(id) FROM stock_requests WHERE actor = 'bench-returns'), r.line, 'return', r.sku_id,
              l.warehouse_id, l.id, r.qty, r.qty, 0, 'bench', 'bench', (r.day + 3)::timestamp AT TIME ZONE 'UTC'
         FROM bench_returned r
         JOIN locations l ON l.warehouse_id = (SELECT id FROM warehouses WHERE code = 'bench-wh')
          AND l.code = CASE WHEN r.resellable THEN 'A-01' ELSE 'Q-01' END""",
    """INSERT INTO sales_returns (movement_id, sku_id, location_id, qty, reason_id, resellable, channel, sale_day,
                                 refund, currency, returned_on)
       SELECT m.id, r.sku_id, m.location_id, r.qty, r.reasons[1 + (r.sku_id + r.line) % cardinality(r.reasons)],
              r.resellable, r.channel, r.day, r.revenue, r.currency, r.day + 3
         FROM bench_returned r
         JOIN stock_movements m ON m.request_id = (SELECT max(id) FROM stock_requests WHERE actor = 'bench-returns')
          AND m.line = r.line""",
    # the facts net of what came back: the refresh point moves the rollups as the statement commits
    """UPDATE sales_facts f SET returned_qty = r.qty, refunded = r.revenue
         FROM bench_returned r WHERE f.day = r.day AND f.sku_id = r.sku_id AND f.channel = r.channel""",
]


async def prepare(pool: asyncpg.Pool, products: int, sales_skus: int) -> None:
    async with pool.acquire() as conn:
        await migrate.migrate(conn)
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM products WHERE code LIKE 'sp-%')"):
            print(f"loading the scale catalog: {products:,} products …", flush=True)
            print(await scale.seed(conn, products=products, progress=lambda m: print("  " + m, flush=True)))
    async with pool.acquire() as conn:
        await conn.execute("SET statement_timeout = 0")  # the loads below are long single statements
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM prices WHERE actor = 'bench')"):
            started = time.perf_counter()
            await conn.execute(PRICES)
            print(f"prices: {time.perf_counter() - started:.1f} s", flush=True)
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM sales_facts)"):
            started = time.perf_counter()
            status = await conn.execute(SALES, sales_skus)  # the refresh point rolls them up as it commits
            print(
                f"sales facts and their rollup: {int(status.split()[-1]):,} facts in"
                f" {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM warehouses WHERE code = 'bench-wh')"):
            await conn.execute(WAREHOUSE)
            await conn.execute(STOCK)
            await conn.execute(RECEIPTS)
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM promotions WHERE code LIKE 'bench-promo-%')"):
            started = time.perf_counter()
            status = await conn.execute(PROMOTIONS, PROMOTION_COUNT)
            print(
                f"promotions: {PROMOTION_COUNT:,} with {int(status.split()[-1]):,} items in"
                f" {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM sales_returns)"):
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute(RETURNED)
                for statement in RETURNS:
                    await conn.execute(statement)
                returned = await conn.fetchval("SELECT count(*) FROM bench_returned")
            print(f"returns: {returned:,} returned facts in {time.perf_counter() - started:.1f} s", flush=True)
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM promotion_outcome_stale)"):
            # (new promotions are marked: the promotion-outcomes job builds their outcomes, as the runner would)
            started = time.perf_counter()
            recomputed = await run_promotion_outcomes(pool)
            print(f"promotion outcomes: {recomputed:,} recomputed in {time.perf_counter() - started:.1f} s", flush=True)
        await conn.execute("ANALYZE")


def runners(
    category: str | None, since: date | None = None, until: date | None = None
) -> dict[str, Callable[[asyncpg.Connection], Awaitable[Any]]]:
    scope = ReportScope(category=category)
    period = ReportScope(category=category, since=since, until=until)
    limit = 10_000
    return {
        "margins (by sku)": lambda c: costs.margins(c, scope, by="sku", at=None, limit=limit),
        "margins (by category)": lambda c: costs.margins(c, scope, by="category", at=None, limit=limit),
        "inventory-valuation": lambda c: costs.inventory_valuation(c, scope, limit=limit),
        "assortment": lambda c: sales.assortment(c, FINANCE, period, target=None),
        "abc": lambda c: sales.abc(c, FINANCE, period, classes=None, limit=limit),
        "purchasing-scorecard": lambda c: sales.purchasing_scorecard(
            c, period, weights=None, currency="CNY", limit=limit
        ),
        "payables": lambda c: costs.payables(c, period, limit=limit),
        "receivables": lambda c: sales.receivables(c, period, limit=limit),
        "returns (by product)": lambda c: returns.returns(c, period, by="product", limit=limit),
        "returns (by reason)": lambda c: returns.returns(c, period, by="reason", limit=limit),
        # (the route's defaults: 500 promotions, a promotion row and an others row each; then with their items'
        # rows, and with every promotion's — the limit's maximum)
        "promotion-roi": lambda c: promotions.promotion_roi(c, FINANCE, period, promotion=None, limit=500),
        "promotion-roi (items)": lambda c: promotions.promotion_roi(
            c, FINANCE, period, promotion=None, limit=500, detail="items"
        ),
        "promotion-roi (all items)": lambda c: promotions.promotion_roi(
            c, FINANCE, period, promotion=None, limit=limit, detail="items"
        ),
    }


async def measure(conn: asyncpg.Connection, run: Callable[[asyncpg.Connection], Awaitable[Any]]) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(3):
        started = time.perf_counter()
        answer = await run(conn)
        msgspec.json.encode(answer)
        times.append(time.perf_counter() - started)
        rows = len(answer.items)
    return statistics.median(times), rows


def reads_of(revision: str | None) -> str:
    """merch_report_sku_sales as of a git revision (None: the working tree's), ready to replace the installed one."""
    from bench.sold import routine

    text = (
        (Path(__file__).resolve().parents[1] / "sql/functions/reports.sql").read_text(encoding="utf-8")
        if revision is None
        else subprocess.run(
            ["git", "show", f"{revision}:sql/functions/reports.sql"], check=True, capture_output=True, text=True
        ).stdout
    )
    return routine(text, "merch_report_sku_sales")


async def install_reads(conn: asyncpg.Connection, definition: str) -> None:
    async with conn.transaction():
        await conn.execute(
            "DROP FUNCTION merch_report_sku_sales(ltree, bigint, bigint, date, date, boolean, text, boolean, boolean)"
        )
        await conn.execute(definition)


async def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("MERCH_DATA_DIR", str(Path("bench/out/data")))
    Path(os.environ["MERCH_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    settings = Settings()
    dsn, _server = await db.prepare_database(settings)
    pool = await db.create_pool(dsn, settings)
    try:
        await prepare(pool, args.products, args.sales_skus)
        async with pool.acquire() as conn:
            await conn.execute("SET statement_timeout = 0")
            if args.reads:
                await install_reads(conn, reads_of(args.reads))
            products = await conn.fetchval("SELECT count(*) FROM products")
            facts = await conn.fetchval("SELECT count(*) FROM sales_facts")
            monthly = await conn.fetchval("SELECT count(*) FROM sales_monthly")
            category = args.category
            under = await conn.fetchval(
                "SELECT count(*) FROM products p JOIN categories c ON c.id = p.category_id"
                " WHERE c.path <@ (SELECT path FROM categories WHERE code = $1)",
                category,
            )
            print(
                f"\ncatalog: {products:,} products, {facts:,} sales facts ({monthly:,} monthly rollup rows);"
                f" category {category}: {under:,} products"
            )
            print(f"sales period: {args.since or 'all'} .. {args.until or 'all'}")
            print(f"{'report':<24} {'whole tree':>12} {'rows':>7}  {'category':>10} {'rows':>6}")
            for name, run in runners(None, args.since, args.until).items():
                if args.only and not name.startswith(tuple(args.only)):
                    continue
                tree, tree_rows = await measure(conn, run)
                one, one_rows = await measure(conn, runners(category, args.since, args.until)[name])
                print(
                    f"{name:<24} {tree * 1000:>9.0f} ms {tree_rows:>7,}  {one * 1000:>7.0f} ms {one_rows:>6,}"
                    f"  {'ok' if tree <= GOAL_TREE else 'SLOW'} / {'ok' if one <= GOAL_CATEGORY else 'SLOW'}",
                    flush=True,
                )
            print(
                f"goal: whole tree ≤ {GOAL_TREE * 1000:.0f} ms, one category ≤ {GOAL_CATEGORY * 1000:.0f} ms "
                "(median of 3, query + JSON)" + (f"; sales reads as of {args.reads}" if args.reads else "")
            )
    finally:
        if args.reads:
            async with pool.acquire() as conn:
                await install_reads(conn, reads_of(None))
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--sales-skus", type=int, default=100_000)
    parser.add_argument("--category", default="sc-1-1", help="the one category timed (default: a middle one)")
    parser.add_argument("--since", type=date.fromisoformat, help="first day of the sales period (default: all)")
    parser.add_argument("--until", type=date.fromisoformat, help="last day of the sales period (default: all)")
    parser.add_argument("--reads", help="time merch_report_sku_sales as of this git revision (e.g. main)")
    parser.add_argument("--only", nargs="+", help="only the reports whose names start so (e.g. returns promotion-roi)")
    asyncio.run(main(parser.parse_args()))
