"""What keeping the storefront's units sold current costs a sales upload: the same upload (a new day of
`--lines` facts, each of another SKU of another listed product) with the refresh point of this tree and as it
is at other git revisions (`--compare`: their merch_refresh_pending, merch_merge_sales_pending and the facts'
statement trigger merch_record_sales_delta), runs alternated on one connection, each after a warm-up upload
following the swap; medians of `--runs` each.
The clock's ticks that then write the queued units sold (merch_touch_due, 2,000 products a transaction, as
the runner does every minute) are timed apart: they are not on the upload's path.

    .venv/bin/python -m bench.sold --products 20000 --lines 5000 --runs 5 --compare main

On a database of its own (`merch_bench_sold`, dropped first) on the embedded server under
.merchflow/bench-sold (or DATABASE_URL's server): the scale catalog's structure and products, all listed."""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import time
from datetime import date, timedelta

import msgspec

from bench.harness import ROOT, own_database
from domain.keys.model import Principal
from domain.sales import service as sales
from domain.seed import scale

DATABASE = "merch_bench_sold"
ACTOR = Principal(name="bench", roles=frozenset({"finance"}))


def routine(text: str, name: str) -> str:
    """The CREATE FUNCTION statement of `name` in a routine file's text."""
    found = re.search(rf"^CREATE FUNCTION {name}\(.*?^\$\$;$", text, re.S | re.M)
    assert found, name
    return found.group(0)


def definitions(revision: str | None) -> str:
    """The two functions as of a git revision (None: the working tree), ready to replace the installed ones."""

    def read(path: str) -> str:
        if revision is None:
            return (ROOT / path).read_text(encoding="utf-8")
        return subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    return "\n".join(
        [
            "DROP FUNCTION merch_merge_sales_pending(xid8);",
            "DROP FUNCTION merch_refresh_pending();",
            routine(read("sql/functions/sales.sql"), "merch_merge_sales_pending") + "\n",
            routine(read("sql/functions/refresh.sql"), "merch_refresh_pending") + "\n",
            # the facts' statement trigger records the deltas the merge reads (its triggers keep it: replaced)
            routine(read("sql/functions/sales.sql"), "merch_record_sales_delta").replace(
                "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
            )
            + "\n",
        ]
    )


# The rollup's, the totals' and the deltas' sums that another revision's writers may not know (the checkpoints of
# migration 0031, the units returned of 0032): 0 unless written, in this database only, so that those writers run
# on it.
DEFAULTS = """
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT table_name, column_name FROM information_schema.columns
              WHERE table_schema = 'public' AND table_name IN ('sales_monthly', 'sales_sku_totals', 'sales_pending')
                AND column_default IS NULL AND data_type IN ('integer', 'bigint', 'numeric')
                AND column_name <> 'sku_id' LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT 0', c.table_name, c.column_name);
    END LOOP;
END
$$"""


def body(skus: list[str], day: date) -> bytes:
    facts = [
        {
            "day": day.isoformat(),
            "sku": s,
            "channel": "web",
            "qty": 1 + i % 7,
            "revenue": {"amount": f"{10 + i % 90}.00", "currency": "CNY"},
        }
        for i, s in enumerate(skus)
    ]
    return msgspec.json.encode({"facts": facts})


async def main(args: argparse.Namespace) -> None:
    conn, _server = await own_database(DATABASE, "bench-sold")
    try:
        print(await scale.seed(conn, products=args.products, progress=print))
        started = time.perf_counter()
        await conn.execute("UPDATE products SET lifecycle = 'listed'")
        await conn.execute("ANALYZE")
        print(f"listed {args.products:,} products in {time.perf_counter() - started:.1f} s")
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
        await conn.execute(DEFAULTS)
        modes = {"this tree": definitions(None), **{rev: definitions(rev) for rev in args.compare}}
        times: dict[str, list[float]] = {m: [] for m in modes}
        ticks: dict[str, list[float]] = {m: [] for m in modes}
        day = date(2026, 1, 1)
        for _ in range(args.runs):
            for mode, sql in modes.items():
                await conn.execute(sql)
                for timed in (False, True):
                    day += timedelta(days=1)
                    raw = body(skus, day)
                    t0 = time.perf_counter()
                    result = await sales.post_sales(conn, ACTOR, raw, "application/json", None)
                    elapsed = time.perf_counter() - t0
                    assert result.inserted == args.lines
                    t0 = time.perf_counter()
                    while True:  # the clock's ticks, as jobs.refresh_due runs them
                        async with conn.transaction():
                            done = await conn.fetchval("SELECT merch_touch_due(2000)")
                        if done < 2000:
                            break
                    if timed:
                        times[mode].append(elapsed)
                        ticks[mode].append(time.perf_counter() - t0)
        base = statistics.median(times["this tree"])
        for mode, ts in times.items():
            median = statistics.median(ts)
            print(
                f"{mode}: upload of {args.lines:,} lines median {median * 1000:.0f} ms"
                f" (runs {', '.join(f'{t * 1000:.0f}' for t in ts)}); the ticks after it"
                f" median {statistics.median(ticks[mode]) * 1000:.0f} ms; this tree's uploads per second"
                f" {median / base:.2f}× of these"
            )
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", nargs="*", default=["main"], help="git revisions to compare this tree with")
    asyncio.run(main(parser.parse_args()))
