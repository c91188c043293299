"""Completeness benchmarks (issue: the attribute application table).

1. Recompute jobs over every product, next to a floor measured in the same run on the same server (the
   same chunked upsert of the same number of rows with a trivial payload: what writing the rows costs
   without computing anything):
   - a needs change: one stage's required items change (the job recomputes that stage);
   - a full recompute: every stage (what a category move or a first computation does).
2. Product writes: the same PATCH-like service write with completeness kept current by the refresh point
   at commit, and with the products' change-recording trigger switched off, alternated in blocks so that
   drift hits both.

    python -m bench.completeness --products 1000000      (make bench runs it with the defaults)

Uses MERCH_DATA_DIR (default bench/out/data) or DATABASE_URL, loads the scale catalog when it is
missing, and prints its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import warnings
from pathlib import Path

import asyncpg

from api import db, migrate
from api.settings import Settings
from bench.harness import alternated_patches
from domain.jobs import service as jobs
from domain.keys.model import Principal
from domain.seed import scale
from domain.stages import service as stages
from domain.stages.model import NeedsBody

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
ADMIN = Principal(name="bench", roles=frozenset({"admin"}))

FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS bench_completeness_floor (LIKE product_completeness INCLUDING ALL)
"""
FLOOR_UPSERT = """
INSERT INTO bench_completeness_floor (product_id, stages, incomplete, computed_at)
SELECT id, '{}'::jsonb, '{}'::text[], clock_timestamp() FROM unnest($1::bigint[]) AS id
ON CONFLICT (product_id) DO UPDATE
   SET stages = EXCLUDED.stages, incomplete = EXCLUDED.incomplete, computed_at = EXCLUDED.computed_at
"""


async def chunks(pool: asyncpg.Pool) -> list[list[int]]:
    async with pool.acquire() as conn:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM products ORDER BY id")]
    return [ids[i : i + jobs.CHUNK] for i in range(0, len(ids), jobs.CHUNK)]


async def floor(pool: asyncpg.Pool, parts: list[list[int]], workers: int) -> float:
    async with pool.acquire() as conn:
        await conn.execute(FLOOR_TABLE)
        await conn.execute("TRUNCATE bench_completeness_floor")
    queue = list(parts)

    async def work() -> None:
        async with pool.acquire() as conn:
            while queue:
                part = queue.pop()
                async with conn.transaction():
                    await conn.execute(FLOOR_UPSERT, part)

    started = time.perf_counter()
    await asyncio.gather(*(work() for _ in range(workers)))
    return time.perf_counter() - started


MARKETING_READS = ["role", "series", "selling_points", "promotions", "sale_price", "margin", "sales_volume"]


async def needs_change(pool: asyncpg.Pool, workers: int) -> float:
    """Toggle whether marketing requires `series` (from whatever it is now, so that a rerun on the same
    database changes it too): every product's marketing figures change."""
    async with pool.acquire() as conn:
        current = await stages.get_needs(conn, "marketing")
        series_required = any(n.item == "series" and n.required for n in current.needs)
        requires = ["role", "selling_points"] + ([] if series_required else ["series"])
        needs = await stages.put_needs(conn, ADMIN, "marketing", NeedsBody(reads=MARKETING_READS, requires=requires))
    assert needs.recompute is not None
    started = time.perf_counter()
    await jobs.run_pending(pool, workers=workers)
    return time.perf_counter() - started


async def recompute(pool: asyncpg.Pool, workers: int) -> float:
    async with pool.acquire() as conn:
        await jobs.enqueue_recompute(conn, ADMIN, "benchmark", None)
    started = time.perf_counter()
    await jobs.run_pending(pool, workers=workers)
    return time.perf_counter() - started


# "Without": the triggers that record changes for the refresh point switched off on the tables a product
# write touches (a benchmark database only), so that nothing is recorded or refreshed at commit.
TRIGGERS = "; ".join(
    f"ALTER TABLE {table} {{0}} TRIGGER USER" for table in ("products", "product_series", "product_placements")
)


async def writes(pool: asyncpg.Pool, n: int, block: int) -> tuple[list[float], list[float]]:
    async with pool.acquire() as conn:
        codes = [r["code"] for r in await conn.fetch("SELECT code FROM products ORDER BY id LIMIT $1", n)]
        return await alternated_patches(conn, codes, block, TRIGGERS.format("DISABLE"), TRIGGERS.format("ENABLE"))


async def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("MERCH_DATA_DIR", str(Path("bench/out/data")))
    Path(os.environ["MERCH_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    settings = Settings()
    dsn, _server = await db.prepare_database(settings)
    pool = await db.create_pool(dsn, settings)
    try:
        async with pool.acquire() as conn:
            await migrate.migrate(conn)
            have = await conn.fetchval("SELECT count(*) FROM products WHERE code LIKE 'sp-%'")
            if have == 0:
                print(f"loading the scale catalog: {args.products:,} products …", flush=True)
                print(await scale.seed(conn, products=args.products, progress=lambda m: print("  " + m, flush=True)))
            total = await conn.fetchval("SELECT count(*) FROM products")
        parts = await chunks(pool)
        print(f"\ncatalog: {total:,} products; chunks of {jobs.CHUNK:,}; {args.workers} workers")
        results: dict[str, list[float]] = {"floor": [], "needs": [], "full": []}
        for _ in range(0 if args.writes_only else args.rounds):  # A B C A B C: drift hits all
            results["floor"].append(await floor(pool, parts, args.workers))
            results["needs"].append(await needs_change(pool, args.workers))
            results["full"].append(await recompute(pool, args.workers))
        if results["floor"]:
            f = statistics.median(results["floor"])
            runs = fmt(results["floor"])
            print(f"floor (chunked upsert, trivial rows):    median {f:.1f} s ({total / f:,.0f} rows/s); runs {runs}")
            for key, label in (
                ("needs", "needs change (one stage), every product"),
                ("full", "full recompute (six stages)    "),
            ):
                r = statistics.median(results[key])
                print(
                    f"{label}: median {r:.1f} s ({total / r:,.0f} products/s, {r / f:.1f}× floor);"
                    f" runs {fmt(results[key])}"
                )
            print("goal: 1,000,000 products recomputed after a needs change in ≤ 60 s")
        with_c, without = await writes(pool, args.writes, args.block)
        a, b = statistics.median(with_c) * 1000, statistics.median(without) * 1000
        print(
            f"\nproduct write with completeness:    median {a:.2f} ms (p90 {pct(with_c, 90):.2f} ms), n={len(with_c)}"
        )
        print(
            f"product write without completeness: median {b:.2f} ms (p90 {pct(without, 90):.2f} ms), n={len(without)}"
        )
        print(f"with / without: {a / b:.2f}×; goal ≤ 1.5×")
    finally:
        await pool.close()


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--writes-only", action="store_true", help="measure the product writes alone")
    asyncio.run(main(parser.parse_args()))
