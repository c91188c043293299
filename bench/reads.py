"""Reads over HTTP next to the shared floor (../shared/bench): `GET /v1/products/{code}` — what warehouse tools
and back offices call most — of random products of the scale catalog, against the floor's primary-key fetch
of random rows of its 200,000; same PostgreSQL server, same server program and worker count, same wrk, runs
alternated A B A B. As `admin` (sees every attribute) and as `warehouse` (the confidential ones left out).

    python -m bench.reads                         (the scale catalog of bench/out/data: 1,000,000 products)
    python -m bench.reads --products 200000       (loads that many when the database has none)

Uses MERCH_DATA_DIR (default bench/out/data, shared with bench.completeness and bench.reports) or DATABASE_URL.
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
from domain.seed import scale

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


async def prepare(dsn: str, products: int, role: str) -> tuple[str, int]:
    """The scale catalog (loaded when missing), a key of `role`; answers the key and the number of products."""
    conn = await asyncpg.connect(dsn)
    await db.init_connection(conn)
    try:
        await migrate.migrate(conn)
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM products WHERE code = 'sp-0000001')"):
            print(await scale.seed(conn, products=products, progress=lambda m: print("  " + m, flush=True)))
        count = await conn.fetchval("SELECT count(*) FROM products WHERE code LIKE 'sp-%'")
        name = f"bench-reads-{role}"
        await conn.execute("DELETE FROM api_keys WHERE name = $1", name)
        return (await keys.create_key(conn, [role], name)).secret, int(count)
    finally:
        await conn.close()


def main(args: argparse.Namespace) -> None:
    dsn, server, env = bench_database("data")
    floor_port, floor = start_floor(env, args.workers)
    merch_port, merch = start_merchflow(env, args.workers)
    try:
        for role in args.roles:
            key, count = asyncio.run(prepare(dsn, args.products, role))
            env.update(MERCH_BENCH_KEY=key, MERCH_BENCH_PRODUCTS=str(count))
            sides = [
                Side("floor: primary-key fetch", floor_port, SHARED / "wrk" / "floor_product.lua"),
                Side(f"merchflow: GET /v1/products/{{code}} as {role}", merch_port, ROOT / "bench/wrk/product.lua"),
            ]
            runs = alternate(sides, args.concurrency, args.rounds, args.seconds, env)
            print(
                f"\nproduct reads as {role}: {count:,} products; {SERVER} × {args.workers} workers each, wrk -t2,"
                f" {args.seconds} s runs, {args.rounds} rounds alternated\n"
            )
            table(sides, args.concurrency, runs)
    finally:
        (floor_rss, floor_worker), (merch_rss, merch_worker) = stop(floor), stop(merch)
    print(
        f"\npeak RSS: floor {floor_rss} MB (largest process {floor_worker} MB),"
        f" merchflow {merch_rss} MB (largest process {merch_worker} MB)"
    )
    del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 16])
    parser.add_argument("--products", type=int, default=1_000_000, help="products to load when there are none")
    parser.add_argument("--roles", nargs="+", default=["admin", "warehouse"])
    main(parser.parse_args())
