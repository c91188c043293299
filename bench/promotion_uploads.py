"""What keeping promotion outcomes current costs a sales upload: the same upload (a new day of `--lines` facts,
each of another SKU of another listed product) with the promotion outcomes kept (this tree) and without (the
fact triggers of sql/functions/promotions.sql disabled and merch_refresh_pending as it is at `--compare`, which
merges no promotion outcome), runs alternated on one connection, each after a warm-up upload following the
swap; medians of `--runs` each. With the outcomes kept, an upload appends its deltas to the outcomes' log; the
promotion-outcomes job's fold (merch_fold_promotion_log, off the upload's path) runs after each upload, timed
apart.

The catalog carries promotions whose windows cover every day uploaded, as the 1M bench database's do: one on
every tenth SKU (the storefront benchmark's: its neighbours are the whole catalog) and one per minor category
on its first 10 SKUs (`--promotions` of them), so each fact falls in an item's line or a neighbours' line.

    .venv/bin/python -m bench.promotion_uploads --products 20000 --lines 5000 --runs 5 --compare main

On a database of its own (`merch_bench_promo_uploads`, dropped first) on the embedded server under
.merchflow/bench-promo-uploads (or DATABASE_URL's server)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
from datetime import date, timedelta

from api.db import OneConnectionPool
from bench.harness import ROOT, own_database
from bench.sold import ACTOR, body, routine
from domain.reports.outcomes import run_promotion_outcomes
from domain.sales import service as sales
from domain.seed import scale

DATABASE = "merch_bench_promo_uploads"
FIRST_DAY = date(2026, 1, 1)
TRIGGERS = ("sales_facts_inserted_promotions", "sales_facts_updated_promotions", "sales_facts_deleted_promotions")

PROMOTIONS = """
WITH leaves AS (
    SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM categories
     WHERE tree_id = (SELECT id FROM category_trees WHERE code = 'scale') AND nlevel(path) = 3
), made AS (
    INSERT INTO promotions (code, labels, starts_at, ends_at, spend_amount, spend_currency)
    SELECT 'bench-up-' || lpad(i::text, 4, '0'), jsonb_build_object('en', 'Bench promotion ' || i),
           ($2::date + 20 + i % 30)::timestamp AT TIME ZONE 'UTC',
           ($2::date + 60 + i % 30)::timestamp AT TIME ZONE 'UTC',
           500, 'CNY'
      FROM generate_series(0, $1::integer - 1) i
    RETURNING id, substr(code, 11)::integer AS i
)
INSERT INTO promotion_items (promotion_id, sku_id, price, currency)
SELECT m.id, k.sku_id, 40, 'CNY'
  FROM made m
  JOIN leaves l ON l.n = m.i
 CROSS JOIN LATERAL (SELECT s.id AS sku_id FROM products p JOIN skus s ON s.product_id = p.id
                      WHERE p.category_id = l.id ORDER BY s.id LIMIT 10) k
"""
EVERY_TENTH = """
WITH made AS (
    INSERT INTO promotions (code, labels, starts_at, ends_at)
    VALUES ('bench-up-tenth', '{"en": "Every tenth SKU"}', ($1::date - 10)::timestamp AT TIME ZONE 'UTC',
            ($1::date + 200)::timestamp AT TIME ZONE 'UTC')
    RETURNING id
)
INSERT INTO promotion_items (promotion_id, sku_id, price, currency)
SELECT made.id, s.id, 30, 'CNY' FROM made, skus s WHERE s.id % 10 = 0
"""


def refresh_point(revision: str | None) -> str:
    """merch_refresh_pending as of a git revision (None: the working tree), ready to replace the installed one."""
    if revision is None:
        text = (ROOT / "sql/functions/refresh.sql").read_text(encoding="utf-8")
    else:
        text = subprocess.run(
            ["git", "show", f"{revision}:sql/functions/refresh.sql"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return "DROP FUNCTION merch_refresh_pending();\n" + routine(text, "merch_refresh_pending") + "\n"


async def main(args: argparse.Namespace) -> None:
    conn, _server = await own_database(DATABASE, "bench-promo-uploads")
    try:
        print(await scale.seed(conn, products=args.products, progress=print))
        await conn.execute("UPDATE products SET lifecycle = 'listed'")
        started = time.perf_counter()
        await conn.execute(EVERY_TENTH, FIRST_DAY)
        await conn.execute(PROMOTIONS, args.promotions, FIRST_DAY)
        # (the promotions are marked: the job builds their outcomes)
        recomputed = await run_promotion_outcomes(OneConnectionPool(conn))
        await conn.execute("ANALYZE")
        lines = await conn.fetchval("SELECT count(*) FROM promotion_outcome_lines")
        print(
            f"promotions: {args.promotions + 1:,} ({recomputed:,} recomputed by the job, {lines:,} outcome lines)"
            f" in {time.perf_counter() - started:.1f} s"
        )
        step = max(1, args.products // args.lines)
        skus = [
            r["sku"]
            for r in await conn.fetch(
                "SELECT DISTINCT ON (product_id) sku FROM skus WHERE product_id % $1 = 0"
                " ORDER BY product_id, sku LIMIT $2",
                step,
                args.lines,
            )
        ]
        assert len(skus) == args.lines, len(skus)
        on = refresh_point(None) + "".join(f"ALTER TABLE sales_facts ENABLE TRIGGER {t};" for t in TRIGGERS)
        modes = {"this tree": on}
        for rev in args.compare:
            modes[rev] = refresh_point(rev) + "".join(f"ALTER TABLE sales_facts DISABLE TRIGGER {t};" for t in TRIGGERS)
        times: dict[str, list[float]] = {m: [] for m in modes}
        folds: list[float] = []
        logged: list[int] = []
        day = FIRST_DAY
        for _ in range(args.runs):
            for mode, sql in modes.items():
                await conn.execute(sql)
                for timed in (False, True):
                    day += timedelta(days=1)
                    t0 = time.perf_counter()
                    result = await sales.post_sales(conn, ACTOR, body(skus, day), "application/json", None)
                    elapsed = time.perf_counter() - t0
                    assert result.inserted == args.lines
                    if timed:
                        times[mode].append(elapsed)
                    if mode == "this tree":
                        # the job's fold, as it runs it (one repeatable-read transaction)
                        t0 = time.perf_counter()
                        async with conn.transaction(isolation="repeatable_read"):
                            folded = await conn.fetchval("SELECT merch_fold_promotion_log()")
                        if timed:
                            folds.append(time.perf_counter() - t0)
                            logged.append(folded)
        base = statistics.median(times["this tree"])
        for mode, ts in times.items():
            median = statistics.median(ts)
            # (each run of this tree and the next of `mode` are neighbours in time: their ratio, run by run, is
            # less moved by the machine's load changing between runs)
            paired = statistics.median(m / t for t, m in zip(times["this tree"], ts, strict=True))
            print(
                f"{mode}: upload of {args.lines:,} lines median {median * 1000:.0f} ms"
                f" (runs {', '.join(f'{t * 1000:.0f}' for t in ts)}); this tree's uploads per second"
                f" {median / base:.2f}× of these (median of the runs' pairs {paired:.2f}×)"
            )
        print(
            f"the job's fold of an upload's log rows ({statistics.median(logged):,.0f}): median"
            f" {statistics.median(folds) * 1000:.0f} ms (runs {', '.join(f'{t * 1000:.0f}' for t in folds)})"
        )
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--promotions", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", nargs="*", default=["main"], help="git revisions to compare this tree with")
    asyncio.run(main(parser.parse_args()))
