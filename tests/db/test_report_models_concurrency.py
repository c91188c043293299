"""The reports' read models under concurrent writers (committed, on a database of their own):

- sales uploads from many clients at once, re-sending days with other figures: afterwards the monthly
  rollup equals a rebuild from the facts and the per-SKU totals equal the sum of the rollup;
- price writes (future prices recorded, past ones corrected) from many clients at once while products change
  category and role: afterwards
  `prices_in_force` equals the prices in force computed from the history, with each SKU's current product,
  category and role.

No request may get a 500."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import httpx

from tests import factories as f
from tests.conftest import KEYS

SKUS = [f"RM-{i:02d}" for i in range(8)]
PRODUCTS = ["rm-a", "rm-b"]


async def setup(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await f.tree(conn)
        await f.category(conn, "left")
        await f.category(conn, "right")
        for code in PRODUCTS:
            await f.product(conn, code, "left")
        for i, sku in enumerate(SKUS):
            await f.sku(conn, sku, PRODUCTS[i % 2], axes={"n": i})
        # cost prices from 2025 so that uploaded facts are costed
        await conn.execute(
            "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
            " SELECT id, 'cost', 'CNY', 10 + id % 7, '2025-01-01', 'test' FROM skus WHERE sku LIKE 'RM-%'"
        )


def client(app: Any, role: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Bearer {KEYS[role]}"},
    )


async def test_concurrent_sales_uploads_keep_the_rollup_and_the_totals_exact(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    await setup(fresh_pool)
    statuses: list[int] = []

    async def uploader(n: int) -> None:
        rng = random.Random(n)
        async with client(fresh_app, "finance") as http:
            for _ in range(8):
                facts = {
                    (
                        f"2026-0{rng.randint(1, 3)}-{rng.randint(1, 28):02d}",
                        rng.choice(SKUS),
                        rng.choice(["web", "b2b"]),
                    )
                    for _ in range(rng.randint(3, 12))
                }
                body = {
                    "facts": [
                        {
                            "day": day,
                            "sku": sku,
                            "channel": channel,
                            "qty": rng.randint(1, 9),
                            "revenue": {
                                "amount": f"{rng.randint(10, 999)}.{rng.randint(0, 99):02d}",
                                "currency": "CNY",
                            },
                        }
                        for day, sku, channel in sorted(facts)
                    ]
                }
                statuses.append((await http.post("/v1/sales", json=body)).status_code)

    await asyncio.gather(*(uploader(n) for n in range(12)))

    assert statuses == [200] * 96
    async with fresh_pool.acquire() as conn:
        rollup = await conn.fetch(
            "SELECT month, sku_id, channel, currency, facts, qty, revenue, cost, costed_qty, costed_facts,"
            " costed_revenue, distribution_value, distributed_qty, distributed_facts FROM sales_monthly"
            " ORDER BY 1, 2, 3, 4"
        )
        rebuilt = await conn.fetch(
            "SELECT date_trunc('month', f.day)::date, f.sku_id, f.channel, f.currency, count(*), sum(f.qty),"
            " sum(f.revenue), coalesce(sum(f.cost), 0), coalesce(sum(f.qty) FILTER (WHERE f.cost IS NOT NULL), 0),"
            " count(f.cost), coalesce(sum(f.revenue) FILTER (WHERE f.cost IS NOT NULL), 0),"
            " coalesce(sum(f.distribution_value), 0),"
            " coalesce(sum(f.qty) FILTER (WHERE f.distribution_value IS NOT NULL), 0), count(f.distribution_value)"
            " FROM sales_facts f GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        )
        assert len(rollup) > 20
        assert [tuple(r) for r in rollup] == [tuple(r) for r in rebuilt]
        totals = await conn.fetch(
            "SELECT sku_id, currency, facts, qty, revenue, cost, costed_qty, costed_facts, costed_revenue,"
            " distribution_value, distributed_qty, distributed_facts FROM sales_sku_totals ORDER BY 1, 2"
        )
        summed = await conn.fetch(
            "SELECT sku_id, currency, sum(facts), sum(qty), sum(revenue), sum(cost), sum(costed_qty),"
            " sum(costed_facts), sum(costed_revenue), sum(distribution_value), sum(distributed_qty),"
            " sum(distributed_facts) FROM sales_monthly GROUP BY 1, 2 ORDER BY 1, 2"
        )
        assert [tuple(r) for r in totals] == [tuple(r) for r in summed]
        assert len(totals) == len(SKUS)


async def test_concurrent_price_writes_and_product_moves_keep_prices_in_force_exact(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    await setup(fresh_pool)
    statuses: list[int] = []

    async def pricer(n: int) -> None:
        rng = random.Random(n)
        async with client(fresh_app, "finance") as http:
            for _ in range(10):
                # moments well in the past or far ahead: no period starts or ends while the test runs
                start = rng.choice(["2025-06-01", "2025-09-01", "2026-01-01", "2099-01-01", "2099-06-01"])
                body = {
                    "kind": rng.choice(["sale", "distribution", "cost"]),
                    "currency": rng.choice(["CNY", "CNY", "USD"]),
                    "amount": f"{rng.randint(1, 500)}.00",
                    "valid_from": f"{start}T00:00:00Z",
                }
                url = f"/v1/skus/{rng.choice(SKUS)}/prices"
                if not start.startswith("2099"):  # the past is written by corrections
                    url, body = f"{url}/corrections", {**body, "valid_to": None, "reason": "late price list"}
                resp = await http.post(url, json=body)
                statuses.append(resp.status_code)

    async def mover() -> None:
        rng = random.Random(99)
        async with client(fresh_app, "listing") as http:
            for i in range(12):
                body = {"category": ["right", "left"][i % 2], "role": rng.choice(["routine", "image"])}
                resp = await http.patch(f"/v1/products/{rng.choice(PRODUCTS)}", json=body)
                statuses.append(resp.status_code)

    await asyncio.gather(*(pricer(n) for n in range(8)), mover())

    assert set(statuses) <= {200, 201, 409}, sorted(set(statuses))
    assert statuses.count(201) > 20
    async with fresh_pool.acquire() as conn:
        stored = await conn.fetch(
            "SELECT sku_id, currency, sku, product_id, category_id, role_id, sale, distribution, cost, stale_at"
            " FROM prices_in_force ORDER BY 1, 2"
        )
        expected = await conn.fetch(
            """
            WITH t AS (SELECT clock_timestamp() AS now)
            SELECT pr.sku_id, pr.currency, s.sku, s.product_id, p.category_id, p.role_id,
                   max(pr.amount) FILTER (WHERE pr.kind = 'sale' AND pr.valid_from <= t.now
                                            AND (pr.valid_to IS NULL OR pr.valid_to > t.now)),
                   max(pr.amount) FILTER (WHERE pr.kind = 'distribution' AND pr.valid_from <= t.now
                                            AND (pr.valid_to IS NULL OR pr.valid_to > t.now)),
                   max(pr.amount) FILTER (WHERE pr.kind = 'cost' AND pr.valid_from <= t.now
                                            AND (pr.valid_to IS NULL OR pr.valid_to > t.now)),
                   least(min(pr.valid_from) FILTER (WHERE pr.valid_from > t.now),
                         min(pr.valid_to) FILTER (WHERE pr.valid_to > t.now))
              FROM prices pr CROSS JOIN t
              JOIN skus s ON s.id = pr.sku_id
              JOIN products p ON p.id = s.product_id
             GROUP BY pr.sku_id, pr.currency, s.sku, s.product_id, p.category_id, p.role_id
             ORDER BY 1, 2
            """
        )
        assert [tuple(r) for r in stored] == [tuple(r) for r in expected]
        assert any(r["stale_at"] is not None for r in stored)  # some prices are scheduled for 2099
