"""Customer service's lookup for a query that matches `--products` products (each with two SKUs, sale
prices, stock in two warehouses, returns and a running promotion on one SKU): the service call itself
(domain.storefront.search.lookup, what GET /v1/service/lookup runs), median and p90 of `--runs` after a
warm-up, on one connection.

    .venv/bin/python -m bench.lookup --products 20 --runs 50

On a database of its own (`merch_bench_lookup`, dropped first) on the embedded server under
.merchflow/bench-lookup (or DATABASE_URL's server)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench.harness import own_database
from domain.keys.model import Principal
from domain.storefront import search

DATABASE = "merch_bench_lookup"
AGENT = Principal(name="bench", roles=frozenset({"service"}))

CATALOG = """
INSERT INTO category_trees (code, labels, level_names) VALUES ('merch', '{"en": "Merch"}', ARRAY['category']);
WITH new AS (SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id)
INSERT INTO categories (id, code, tree_id, position, labels, path) OVERRIDING SYSTEM VALUE
SELECT new.id, 'scarves', t.id, 0, '{"en": "Scarves"}', text2ltree(new.id::text)
  FROM new, category_trees t WHERE t.code = 'merch';
INSERT INTO products (code, category_id, role_id, labels, selling_points, lifecycle)
SELECT 'scarf-' || n, c.id, r.id, jsonb_build_object('en', 'Silk scarf ' || n, 'zh-CN', '真丝方巾' || n),
       '[{"en": "Hand-rolled hems"}]', 'listed'
  FROM generate_series(1, $1::integer) n, categories c, roles r WHERE c.code = 'scarves' AND r.code = 'destination';
INSERT INTO skus (sku, product_id, axes)
SELECT upper(p.code) || '-' || k, p.id, jsonb_build_object('size', k) FROM products p, generate_series(1, 2) k;
INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)
SELECT s.id, 'sale', 'CNY', 100 + s.id, now() - interval '30 days', 'bench' FROM skus s;
INSERT INTO warehouses (code, labels) VALUES ('hz', '{}'), ('sh', '{}');
INSERT INTO locations (warehouse_id, code) SELECT id, 'A-1' FROM warehouses;
INSERT INTO stock_levels (sku_id, location_id, warehouse_id, on_hand, reserved)
SELECT s.id, l.id, l.warehouse_id, 10, 1 FROM skus s, locations l;
INSERT INTO promotions (code, labels, starts_at, ends_at)
VALUES ('double11', '{"en": "Double 11"}', now() - interval '1 day', now() + interval '3 days');
INSERT INTO promotion_items (promotion_id, sku_id, price, currency)
SELECT m.id, s.id, 80, 'CNY' FROM promotions m, skus s WHERE s.sku LIKE '%-1';
"""


async def main(args: argparse.Namespace) -> None:
    conn, _server = await own_database(DATABASE, "bench-lookup")
    try:
        async with conn.transaction():
            for statement in CATALOG.strip().split(";\n"):
                await conn.execute(statement, *([args.products] if "$1" in statement else []))
        await conn.execute("ANALYZE")
        found = await search.lookup(conn, AGENT, "silk scarf", limit=args.products, locale="en")
        assert len(found.items) == args.products, len(found.items)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            await search.lookup(conn, AGENT, "silk scarf", limit=args.products, locale="en")
            times.append(time.perf_counter() - t0)
        times.sort()
        print(
            f"lookup matching {args.products} products: median {statistics.median(times) * 1000:.1f} ms,"
            f" p90 {times[int(len(times) * 0.9) - 1] * 1000:.1f} ms (n={args.runs})"
        )
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
