"""What a sales upload costs with the rollup's writers of this tree and of another revision, on a loaded reports
database (`python -m bench.reports` first): one transaction of `--lines` facts of SKUs that sold, through the
upload's own statement, the refresh point fired at its end (SET CONSTRAINTS ALL IMMEDIATE: the deltas merged into
the rollup and the totals), then rolled back — so the database is left as it was. The facts' statement trigger
(merch_record_sales_delta), the merge and the refresh point are swapped as `bench.sold --compare` swaps them;
runs alternated (each round's order turned round), a warm-up after each swap; the statement (trigger) and the
refresh (merge) timed apart. Three uploads: a day of a new month (rollup rows inserted), a day re-sent (each
fact replaced: old and new deltas), a new day in a month that has rows (rollup rows updated).

    MERCH_DATA_DIR=/tmp/reports-db python -m bench.sales_merge --rounds 16 --compare main

Uses MERCH_DATA_DIR (default bench/out/data) or DATABASE_URL. Gives the rollup's and the deltas' sums a default
of 0 in that database (bench.sold's DEFAULTS), so that another revision's writers run there."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import warnings
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from api import db
from api.settings import Settings
from bench.sold import DEFAULTS, definitions
from domain.sql import load

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
SALES = load("sales")


async def upload(conn: asyncpg.Connection, day: date, skus: list[int], prepare: bool) -> tuple[float, float]:
    """One upload of a fact per SKU on `day`, rolled back: the statement's and the refresh's seconds."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        if prepare:  # (the day's facts of these SKUs gone first, so that the upload inserts them)
            await conn.execute("DELETE FROM sales_facts WHERE day = $1 AND sku_id = ANY ($2::bigint[])", day, skus)
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            await conn.execute("SET CONSTRAINTS ALL DEFERRED")
        started = time.perf_counter()
        await conn.fetchrow(
            SALES.upsert_sales_facts.sql,
            [day] * len(skus),
            skus,
            ["web"] * len(skus),
            [20 + i % 7 for i in range(len(skus))],
            [Decimal(5000 + i % 90) for i in range(len(skus))],
            ["CNY"] * len(skus),
        )
        written = time.perf_counter()
        await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return written - started, time.perf_counter() - written
    finally:
        await transaction.rollback()


async def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("MERCH_DATA_DIR", str(Path("bench/out/data")))
    dsn, _server = await db.prepare_database(Settings())
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET statement_timeout = 0")
        await conn.execute(DEFAULTS)
        last = await conn.fetchval("SELECT max(day) FROM sales_facts")
        skus = [
            r["sku_id"]
            for r in await conn.fetch(
                "SELECT sku_id FROM sales_sku_totals GROUP BY sku_id ORDER BY sku_id LIMIT $1", args.lines
            )
        ]
        modes = {"this tree": definitions(None), **{rev: definitions(rev) for rev in args.compare}}
        first_of_next = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
        cases = (
            ("a day of a new month", first_of_next, False),
            ("a day re-sent", last - timedelta(days=18), False),
            ("a new day in a month with rows", last, True),
        )
        for label, day, prepare in cases:
            runs: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
            for round_ in range(args.rounds):
                for mode in list(modes)[:: 1 if round_ % 2 == 0 else -1]:
                    await conn.execute(modes[mode])
                    await upload(conn, day, skus, prepare)  # warm-up after the swap
                    runs[mode].append(await upload(conn, day, skus, prepare))
            base = [a + b for a, b in runs["this tree"]]
            load_now = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            print(f"{label} ({day}, {len(skus):,} facts), load {load_now}:")
            for mode, parts in runs.items():
                total = [a + b for a, b in parts]
                print(
                    f"  {mode}: median {statistics.median(total) * 1000:.0f} ms (statement"
                    f" {statistics.median(a for a, _ in parts) * 1000:.0f} ms, refresh"
                    f" {statistics.median(b for _, b in parts) * 1000:.0f} ms); this tree's uploads per second"
                    f" {statistics.median(total) / statistics.median(base):.2f}× of these (median of the rounds'"
                    f" pairs {statistics.median(t / b for t, b in zip(total, base, strict=True)):.2f}×)",
                    flush=True,
                )
        await conn.execute(modes["this tree"])
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--compare", nargs="*", default=["main"], help="git revisions to compare this tree with")
    asyncio.run(main(parser.parse_args()))
