"""The storefront on the 1M-product scale catalog, every product listed (issue 12), next to the shared floor
(../shared/bench): same PostgreSQL server, same server program and worker count, same wrk, runs alternated.

    python -m bench.storefront                    (prepares bench/out/data once: ~15 minutes)
    python -m bench.storefront --only page        (page | list | facets | search | writes)

1. product page  GET /v1/storefront/products/{code} (random of 1M)  vs the floor's primary-key fetch
2. category page GET /v1/storefront/products?category=web-bench (a 100k-product subtree) with two attribute
   filters, 50 cards                                                 vs the floor's 50-row keyset page
3. facets        the same query on /v1/storefront/facets             (p95; goal ≤ 100 ms); then with its first
                 filter only, and with none
4. search        two-character Chinese and typo'd English queries    (p95; goal ≤ 100 ms)
5. product write (a merge patch of a listed product) with its storefront row and pages kept current at
   commit, against the same write with the storefront's refresher made a no-op (≤ 1.5×)

Preparation (idempotent; marked by the category `web-bench`): product names from a small vocabulary in
Chinese and English (so that search has something to find and miss), every product listed, placements of
two top categories' 100,000 products under `web-bench` (tree `web`), a running promotion on every tenth SKU
at 80 % of its sale price — written in chunks through the refresh point, two connections side by side.
Uses MERCH_DATA_DIR (default bench/out/data) or DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import warnings

import asyncpg

from api import db, migrate
from bench.harness import (
    ROOT,
    SERVER,
    SHARED,
    Side,
    alternate,
    alternated_patches,
    bench_database,
    start_floor,
    start_merchflow,
    stop,
    table,
    wrk,
)
from domain.keys import service as keys
from domain.seed import scale

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

CHUNK = 5000
SALEOR_PAGE_RPS = 16.6  # Saleor 3.23 product detail on this machine (issue 12)

# Names: material × colour × kind, in both locales (i % 10, i / 10 % 10, i / 100 % 10).
NAMES = """
WITH v AS (SELECT
    ARRAY['真丝','羊绒','棉麻','纯棉','皮革','陶瓷','玻璃','竹编','木质','香薰'] AS zm,
    ARRAY['silk','cashmere','linen','cotton','leather','ceramic','glass','bamboo','wooden','scented'] AS em,
    ARRAY['红','蓝','白','黑','绿','粉','灰','金','紫','橙'] AS zc,
    ARRAY['red','blue','white','black','green','pink','grey','gold','purple','orange'] AS ec,
    ARRAY['方巾','围巾','手套','香包','精油','茶杯','花瓶','收纳盒','靠垫','蜡烛'] AS zk,
    ARRAY['scarf','shawl','gloves','sachet','oil','teacup','vase','box','cushion','candle'] AS ek)
UPDATE products p
   SET lifecycle = 'listed',
       labels = jsonb_build_object(
           'zh-CN', v.zm[p.id % 10 + 1] || v.zc[p.id / 10 % 10 + 1] || '色' || v.zk[p.id / 100 % 10 + 1] || ' ' || p.id,
           'en', initcap(v.em[p.id % 10 + 1] || ' ' || v.ec[p.id / 10 % 10 + 1] || ' ' || v.ek[p.id / 100 % 10 + 1])
                 || ' ' || p.id),
       selling_points = jsonb_build_array(jsonb_build_object('zh-CN', '手工制作', 'en', 'Handmade'))
  FROM v
 WHERE p.id > $1 AND p.id <= $2 AND p.code LIKE 'sp-%'
"""
PLACE = """
INSERT INTO product_placements (product_id, tree_id, category_id)
SELECT p.id, w.tree_id, w.id
  FROM products p JOIN categories leaf ON leaf.id = p.category_id, categories w
 WHERE p.id > $1 AND p.id <= $2 AND w.code = 'web-bench'
   AND leaf.path <@ ANY (ARRAY(SELECT c.path FROM categories c WHERE c.code IN ('sc-12', 'sc-17')))
ON CONFLICT DO NOTHING
"""
PROMOTE = """
INSERT INTO promotion_items (promotion_id, sku_id, price, currency)
SELECT m.id, f.sku_id, round(f.sale * 0.8, 2), 'CNY'
  FROM prices_in_force f JOIN skus s ON s.id = f.sku_id, promotions m
 WHERE s.product_id > $1 AND s.product_id <= $2 AND s.id % 10 = 0 AND f.currency = 'CNY' AND f.sale IS NOT NULL
   AND m.code = 'bench-double11'
ON CONFLICT DO NOTHING
"""


async def prepare(dsn: str, products_wanted: int) -> None:
    conn = await asyncpg.connect(dsn)
    await db.init_connection(conn)
    try:
        await migrate.migrate(conn)
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM products WHERE code = 'sp-0000001')"):
            print(await scale.seed(conn, products=products_wanted, progress=lambda m: print("  " + m, flush=True)))
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM categories WHERE code = 'web-bench')"
            " AND NOT EXISTS (SELECT 1 FROM products WHERE code LIKE 'sp-%' AND lifecycle <> 'listed')"
        ):
            return
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO category_trees (code, labels, level_names) VALUES ('web', '{\"en\": \"Web\"}',"
                " '{shelf,section}') ON CONFLICT DO NOTHING"
            )
            await conn.execute(
                "WITH t AS (SELECT id FROM category_trees WHERE code = 'web'),"
                " n AS (SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id)"
                " INSERT INTO categories (id, code, tree_id, parent_id, position, labels, path) OVERRIDING SYSTEM VALUE"
                ' SELECT n.id, \'web-bench\', t.id, NULL, 0, \'{"en": "Bench shelf", "zh-CN": "货架"}\','
                " text2ltree(n.id::text) FROM t, n ON CONFLICT (code) DO NOTHING"
            )
            await conn.execute(
                "INSERT INTO promotions (code, labels, starts_at, ends_at) VALUES ('bench-double11',"
                ' \'{"en": "Double 11", "zh-CN": "双十一"}\', now() - interval \'1 day\','
                " now() + interval '30 days') ON CONFLICT DO NOTHING"
            )
        top = await conn.fetchval("SELECT max(id) FROM products")
    finally:
        await conn.close()
    bounds = [(lo, min(lo + CHUNK, top)) for lo in range(0, top, CHUNK)]
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for b in bounds:
        queue.put_nowait(b)
    started = time.perf_counter()
    done = 0

    async def work() -> None:
        nonlocal done
        conn = await asyncpg.connect(dsn)
        await db.init_connection(conn)
        try:
            while not queue.empty():
                lo, hi = queue.get_nowait()
                async with conn.transaction():  # one refresh at commit for the chunk's products
                    await conn.execute(PLACE, lo, hi)
                    await conn.execute(PROMOTE, lo, hi)
                    await conn.execute(NAMES, lo, hi)
                done += 1
                if done % 20 == 0:
                    rate = done * CHUNK / (time.perf_counter() - started)
                    print(f"  listed {done * CHUNK:,} of {top:,} ({rate:,.0f} products/s)", flush=True)
        finally:
            await conn.close()

    print(f"preparing the storefront: {top:,} products in chunks of {CHUNK:,}, two connections", flush=True)
    await asyncio.gather(work(), work())
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "VACUUM ANALYZE storefront_products, storefront_shelf, storefront_documents, storefront_words, events"
        )
    finally:
        await conn.close()
    print(f"  prepared in {time.perf_counter() - started:,.0f} s", flush=True)


async def bench_key(dsn: str, role: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        name = f"bench-storefront-{role}"
        await conn.execute("DELETE FROM api_keys WHERE name = $1", name)
        return (await keys.create_key(conn, [role], name)).secret
    finally:
        await conn.close()


async def list_filters(dsn: str) -> str:
    """Two filters on the web-bench subtree: the two most common values of its most common public select
    attribute, then of the attribute most common among the products those let through (the scale seed makes
    few attributes filterable: these two are made so)."""
    conn = await asyncpg.connect(dsn)
    chosen: dict[str, list[str]] = {}
    try:
        for _ in range(2):
            rows = await conn.fetch(
                """
                SELECT split_part(t, '=', 1) AS a, substr(t, strpos(t, '=') + 1) AS v, count(*) AS n
                  FROM storefront_shelf s CROSS JOIN LATERAL unnest(s.tokens) t
                 WHERE s.category_id = (SELECT id FROM categories WHERE code = 'web-bench')
                   AND (cardinality($1::text[]) = 0 OR s.tokens && $1::text[])
                   AND split_part(t, '=', 1) IN (SELECT code FROM attributes
                                                  WHERE visibility = 'public' AND type IN ('select', 'multiselect'))
                   AND split_part(t, '=', 1) <> ALL ($2::text[])
                 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
                """,
                [f"{a}={v}" for a, vs in chosen.items() for v in vs],
                list(chosen),
            )
            if rows:
                chosen[rows[0]["a"]] = [r["v"] for r in rows if r["a"] == rows[0]["a"]][:2]
        await conn.execute("UPDATE attributes SET filterable = true WHERE code = ANY ($1::text[])", list(chosen))
    finally:
        await conn.close()
    return "&".join(f"filter={a}:{','.join(v)}" for a, v in chosen.items())


def answer_bytes(runs: dict[tuple[int, int], list[dict[str, float]]], side: int, concurrency: list[int]) -> float:
    """Bytes read per answer, headers included, over every measured run of one side (wrk's byte count)."""
    measured = [r for conc in concurrency for r in runs[(side, conc)]]
    return sum(r["bytes"] for r in measured) / sum(r["requests"] for r in measured)


def p95(runs: list[dict[str, float]]) -> float:
    return statistics.median(r["p95_us"] for r in runs) / 1000


async def writes(dsn: str, n: int, block: int) -> tuple[list[float], list[float]]:
    """Merge patches of listed products: with the storefront kept current at commit, and with its refresher
    a no-op (renamed away for the block, on the bench database only), alternated in blocks."""
    conn = await asyncpg.connect(dsn)
    await db.init_connection(conn)
    listed = "SELECT code FROM products WHERE lifecycle = 'listed' ORDER BY id LIMIT $1"
    codes = [r["code"] for r in await conn.fetch(listed, n)]
    off = (
        "ALTER FUNCTION merch_refresh_storefront(bigint[]) RENAME TO merch_refresh_storefront_kept;"
        " CREATE FUNCTION merch_refresh_storefront(p bigint[]) RETURNS void LANGUAGE sql AS 'SELECT'"
    )
    on = (
        "DO $$ BEGIN IF to_regprocedure('merch_refresh_storefront_kept(bigint[])') IS NOT NULL THEN"
        " DROP FUNCTION merch_refresh_storefront(bigint[]);"
        " ALTER FUNCTION merch_refresh_storefront_kept(bigint[]) RENAME TO merch_refresh_storefront;"
        " END IF; END $$"
    )
    try:
        return await alternated_patches(conn, codes, block, off, on)
    finally:
        await conn.close()


def main(args: argparse.Namespace) -> None:
    dsn, server, env = bench_database("data")
    asyncio.run(prepare(dsn, args.products))
    wanted = set(args.only or ["page", "list", "facets", "search", "writes"])
    if "writes" in wanted:
        with_s, without = asyncio.run(writes(dsn, args.writes, 50))
        a, b = statistics.median(with_s) * 1000, statistics.median(without) * 1000
        print(f"\nproduct write (merge patch of a listed product), median of {len(with_s)} each, blocks of 50:")
        print(f"  with the storefront kept current {a:.2f} ms, without {b:.2f} ms → {a / b:.2f}× (goal ≤ 1.5×)")
    if not wanted - {"writes"}:
        return
    key = asyncio.run(bench_key(dsn, "storefront"))
    count = asyncio.run(_count(dsn))
    env.update(MERCH_BENCH_KEY=key, MERCH_BENCH_PRODUCTS=str(count))
    floor_port, floor = start_floor(env, args.workers)
    merch_port, merch = start_merchflow(env, args.workers)
    wrk_dir = ROOT / "bench" / "wrk"
    try:
        if "page" in wanted:
            sides = [
                Side("floor: primary-key fetch", floor_port, SHARED / "wrk" / "floor_product.lua"),
                Side("merchflow: GET /v1/storefront/products/{code}", merch_port, wrk_dir / "storefront_page.lua"),
            ]
            runs = alternate(sides, args.concurrency, args.rounds, args.seconds, env)
            print(f"\nproduct pages: {count:,} listed products; {SERVER} × {args.workers} workers each, wrk -t2\n")
            for conc, ratio in table(sides, args.concurrency, runs).items():
                rps = statistics.median(r["rps"] for r in runs[(1, conc)])
                print(f"  c{conc}: {ratio:.2f}× the floor; {rps / SALEOR_PAGE_RPS:,.0f}× Saleor's 16.6 requests/s")
            size = answer_bytes(runs, len(sides) - 1, args.concurrency)
            print(f"  merchflow: {size:,.0f} bytes an answer (headers too)")
        filters = asyncio.run(list_filters(dsn))
        facets_query = f"category=web-bench&{filters}"
        query = f"{facets_query}&limit=50"
        if "list" in wanted:
            env["MERCH_BENCH_QUERY"] = query
            sides = [
                Side("floor: 50-row keyset page", floor_port, SHARED / "wrk" / "floor_list.lua"),
                Side("merchflow: category page, 2 filters, 50 cards", merch_port, wrk_dir / "storefront_list.lua"),
            ]
            runs = alternate(sides, args.concurrency, args.rounds, args.seconds, env)
            print(f"\ncategory page: /v1/storefront/products?{query} (100,000-product subtree; sorts alternate)\n")
            table(sides, args.concurrency, runs)
            for conc in args.concurrency:
                print(f"  c{conc}: merchflow p95 {p95(runs[(1, conc)]):.1f} ms (goal ≤ 50 ms)")
            size = answer_bytes(runs, len(sides) - 1, args.concurrency)
            print(f"  merchflow: {size:,.0f} bytes an answer (headers too)")
        # the facets of the page's query (the goal's figure), then of its first filter alone and of none
        variants = [facets_query, f"category=web-bench&{filters.split('&')[0]}", "category=web-bench"]
        for what, script, path, bench_query in (
            *(("facets", "storefront_facets.lua", f"/v1/storefront/facets?{q}", q) for q in variants),
            ("search", "storefront_search.lua", "/v1/storefront/search", facets_query),
        ):
            if what not in wanted:
                continue
            env["MERCH_BENCH_QUERY"] = bench_query
            conc = args.latency_concurrency
            results = [wrk(merch_port, wrk_dir / script, conc, args.seconds, env) for _ in range(args.rounds)]
            failed = sum(r["non_2xx"] + r["socket_errors"] for r in results)
            if failed:
                print(f"\n{what}: {failed:,} answers were not 2xx (or failed): the figures below do not count")
            each = ", ".join(f"{r['p95_us'] / 1000:.1f}" for r in results)
            rps = statistics.median(r["rps"] for r in results)
            print(
                f"\n{what} ({path}) at {args.latency_concurrency} connections: p95 {p95(results):.1f} ms (runs {each}),"
                f" p50 {statistics.median(r['p50_us'] for r in results) / 1000:.1f} ms, {rps:,.0f} requests/s"
                f" (goal p95 ≤ 100 ms)"
            )
    finally:
        (floor_rss, floor_worker), (merch_rss, merch_worker) = stop(floor), stop(merch)
        print(
            f"\npeak RSS: floor {floor_rss} MB (largest process {floor_worker} MB), merchflow {merch_rss} MB"
            f" (largest process {merch_worker} MB)"
        )
        del server


async def _count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM products WHERE code LIKE 'sp-%'"))
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1_000_000, help="scale catalog size when none is loaded")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 16])
    parser.add_argument("--latency-concurrency", type=int, default=8, help="connections for facets and search")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--writes", type=int, default=400, help="product writes measured (half with, half without)")
    parser.add_argument("--only", nargs="+", choices=["page", "list", "facets", "search", "writes"])
    main(parser.parse_args())
