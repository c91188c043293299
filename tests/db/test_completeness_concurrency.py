"""Concurrent product, SKU, needs and attribute-set edits while recompute jobs run: afterwards every
stored completeness equals a full recomputation, and no request failed."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import httpx

from domain.jobs.service import run_pending
from domain.sql import load
from tests import scenario
from tests.conftest import KEYS

C = load("completeness")


async def test_concurrent_edits_leave_completeness_equal_to_a_full_recomputation(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    headers = {"Authorization": f"Bearer {KEYS['admin']}"}
    transport = httpx.ASGITransport(app=fresh_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as api:
        async with fresh_pool.acquire() as conn:
            await scenario.build(conn, api)
        for i in range(12):
            assert (await api.post("/v1/products", json=scenario.product_body(f"q{i}"))).status_code == 201
        rng = random.Random(7)
        statuses: list[int] = []

        async def product_edits(worker: int) -> None:
            for n in range(25):
                code = f"q{rng.randrange(12)}"
                patch: dict[str, Any] = rng.choice(
                    [
                        {"attributes": {"colour": rng.choice(["red", "navy"])}},
                        {"attributes": {"colour": None}},
                        {"selling_points": []},
                        {"selling_points": [{"en": f"point {worker}-{n}"}]},
                        {"attributes": {"weight": {"value": "12", "unit": "g"}}},
                        {"images": []},
                    ]
                )
                statuses.append((await api.patch(f"/v1/products/{code}", json=patch)).status_code)

        async def sku_edits() -> None:
            for n in range(8):
                code = f"q{n}"
                r = await api.post(f"/v1/products/{code}/skus", json={"sku": f"K{n}", "axes": {"size": "s"}})
                statuses.append(r.status_code)

        async def needs_edits() -> None:
            for requires in [["role", "images"], ["role", "selling_points", "series"], ["role", "selling_points"]] * 3:
                reads = ["role", "series", "selling_points", "images", "promotions"]
                r = await api.put("/v1/stages/marketing/needs", json={"reads": reads, "requires": requires})
                statuses.append(r.status_code)
                r = await api.put(
                    "/v1/categories/silk-squares/attributes",
                    json={
                        "attributes": [
                            {
                                "attribute": "width",
                                "required_for": rng.choice([["listing"], ["listing", "service"], []]),
                            },
                            {"attribute": "size"},
                        ]
                    },
                )
                statuses.append(r.status_code)

        edits_done = asyncio.Event()
        job_runs = 0

        async def jobs() -> None:
            nonlocal job_runs
            while not edits_done.is_set():  # each pass waits on the database, so edits interleave
                job_runs += await run_pending(fresh_pool, workers=2)

        async def edits() -> None:
            await asyncio.gather(product_edits(1), product_edits(2), product_edits(3), sku_edits(), needs_edits())
            edits_done.set()

        await asyncio.gather(edits(), jobs())
        job_runs += await run_pending(fresh_pool, workers=2)
        assert job_runs >= 2

    assert statuses and all(s in (200, 201) for s in statuses), statuses
    async with fresh_pool.acquire() as conn:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM products ORDER BY id")]

        def normal(stages: dict[str, Any]) -> dict[str, Any]:
            # The order of `missing` is not stored meaningfully (it is sorted when read).
            return {s: {**v, "missing": sorted(v["missing"])} for s, v in stages.items()}

        expected = {
            r["product_id"]: (normal(r["stages"]), list(r["incomplete"]))
            for r in await conn.fetch(C.list_computed_completeness.sql, ids)
        }
        stored = {
            r["product_id"]: (normal(r["stages"]), list(r["incomplete"]))
            for r in await conn.fetch("SELECT product_id, stages, incomplete FROM product_completeness")
        }
        assert await conn.fetchval("SELECT count(*) FROM jobs WHERE state <> 'done'") == 0
    assert stored == expected
    assert len(stored) == 13
