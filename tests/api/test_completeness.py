"""Completeness per product and stage: exact figures across a three-level tree, kept current by writes,
recomputed by jobs when needs or attribute sets change, and flagged while a job has not reached a product."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from api.db import OneConnectionPool
from domain.jobs.service import run_pending
from tests import factories as f
from tests import scenario
from tests.scenario import P1, stage


async def completeness(api: httpx.AsyncClient, code: str = "p1") -> dict[str, Any]:
    r = await api.get(f"/v1/products/{code}/completeness")
    assert r.status_code == 200, r.text
    return r.json()


async def run_jobs(conn: asyncpg.Connection) -> int:
    return await run_pending(OneConnectionPool(conn), workers=1)


async def test_completeness_counts_needs_and_inherited_attribute_requirements_exactly(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    body = await completeness(api)
    assert body == {"product": "p1", "lifecycle": "draft", "stages": P1}


async def test_a_product_write_updates_its_completeness_in_the_same_transaction(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    r = await api.patch(
        "/v1/products/p1", json={"attributes": {"colour": "red", "weight": {"value": "40", "unit": "g"}}}
    )
    assert r.status_code == 200, r.text
    body = await completeness(api)
    assert body["stages"]["listing"] == stage(
        9, 7, [{"item": "sale_price", "sku": "S1"}, {"item": "sale_price", "sku": "S2"}]
    )
    assert body["stages"]["warehousing"] == stage(3, 2, [{"item": "barcode", "sku": "S2"}])
    r = await api.patch("/v1/products/p1", json={"selling_points": [], "description": {"en": None}})
    assert r.status_code == 200, r.text
    body = await completeness(api)
    assert body["stages"]["marketing"] == stage(2, 1, [{"item": "selling_points"}])
    assert body["stages"]["service"] == stage(1, 0, [{"item": "selling_points"}])
    assert [m["item"] for m in body["stages"]["listing"]["missing"]] == [
        "description",
        "sale_price",
        "sale_price",
        "selling_points",
    ]


async def test_sku_writes_update_per_sku_items(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await scenario.build(conn, api)
    r = await api.patch("/v1/skus/S2", json={"barcode": "9780201379624"})
    assert r.status_code == 200, r.text
    assert (await completeness(api))["stages"]["warehousing"] == stage(3, 2, [{"item": "weight"}])
    assert (await api.delete("/v1/skus/S2")).status_code == 204
    body = await completeness(api)
    assert body["stages"]["finance"] == stage(
        3,
        0,
        [
            {"item": "cost_price", "sku": "S1"},
            {"item": "distribution_price", "sku": "S1"},
            {"item": "sale_price", "sku": "S1"},
        ],
    )


async def test_an_attribute_every_sku_carries_counts_as_present(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    assert (await api.patch("/v1/skus/S1", json={"attributes": {"colour": "red"}})).status_code == 200
    assert (await completeness(api))["stages"]["listing"]["missing"][0] == {"item": "colour"}
    assert (await api.patch("/v1/skus/S2", json={"axes": {"colour": "navy", "size": "m"}})).status_code == 200
    assert "colour" not in [m["item"] for m in (await completeness(api))["stages"]["listing"]["missing"]]


async def test_changing_what_a_stage_requires_recomputes_every_product_through_a_job(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    r = await api.put(
        "/v1/stages/marketing/needs", json={"reads": ["role", "series", "images"], "requires": ["series", "images"]}
    )
    assert r.status_code == 200, r.text
    job = r.json()["recompute"]
    assert job["href"] == f"/v1/jobs/{job['id']}"
    stale = await completeness(api)
    assert stale["recomputing"] == {"job": job["id"], "href": job["href"]}
    assert stale["stages"]["marketing"] == P1["marketing"]  # not yet recomputed, and it says so
    queued = (await api.get(job["href"])).json()
    assert (queued["state"], queued["done"], queued["total"]) == ("queued", 0, None)
    assert await run_jobs(conn) == 1
    fresh = await completeness(api)
    assert "recomputing" not in fresh
    assert fresh["stages"]["marketing"] == stage(2, 1, [{"item": "series"}])
    done = (await api.get(job["href"])).json()
    assert (done["state"], done["done"], done["total"], done["progress"]) == ("done", 1, 1, 1.0)
    # the list of jobs by state: a state no job can be in is a 400 naming it, not an empty list
    assert [j["id"] for j in (await api.get("/v1/jobs", params={"state": "done"})).json()["items"]] == [job["id"]]
    assert (await api.get("/v1/jobs", params={"state": "queued"})).json()["items"] == []
    bogus = await api.get("/v1/jobs", params={"state": "finished"})
    assert (bogus.status_code, [e["parameter"] for e in bogus.json()["errors"]]) == (400, ["state"])


async def test_changing_an_attribute_set_recomputes_only_the_products_below(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    await f.category(conn, "home")
    await f.product(conn, "candle", "home")
    r = await api.put(
        "/v1/categories/scarves/attributes",
        json={
            "attributes": [
                {"attribute": "material", "required_for": ["listing", "purchasing"]},
                {"attribute": "colour", "required_for": []},
            ]
        },
    )
    assert r.status_code == 200, r.text
    job = r.json()["recompute"]
    assert await run_jobs(conn) == 1
    assert (await api.get(job["href"])).json()["total"] == 1
    listing = (await completeness(api))["stages"]["listing"]
    assert listing == stage(8, 6, [{"item": "sale_price", "sku": "S1"}, {"item": "sale_price", "sku": "S2"}])


async def test_a_change_to_reads_only_or_a_no_op_starts_no_job(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    current = (await api.get("/v1/stages/service/needs")).json()
    reads = [n["item"] for n in current["needs"]]
    same = await api.put("/v1/stages/service/needs", json={"reads": reads, "requires": ["selling_points"]})
    assert same.status_code == 200
    assert "recompute" not in same.json() or same.json()["recompute"] is None
    more = await api.put("/v1/stages/service/needs", json={"reads": [*reads, "images"], "requires": ["selling_points"]})
    assert more.json()["recompute"] is None
    assert await conn.fetchval("SELECT count(*) FROM jobs") == 0
    audit = (await api.get("/v1/audit", params={"entity": "stage", "code": "service"})).json()["items"]
    assert [e["action"] for e in audit] == ["needs"]
    assert audit[0]["changes"] == {"reads": {"before": reads, "after": [*reads, "images"]}}


async def test_a_product_stored_without_completeness_is_computed_on_read(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    await conn.execute("DELETE FROM product_completeness")
    assert (await completeness(api))["stages"] == P1


async def test_an_unknown_product_is_a_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/products/nope/completeness")
    assert r.status_code == 404
    assert r.json()["code"] == "product-not-found"


async def test_where_a_stage_requires_stock_a_first_receipt_completes_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    r = await api.put("/v1/stages/warehousing/needs", json={"reads": ["skus", "stock"], "requires": ["stock"]})
    assert r.status_code == 200
    await run_jobs(conn)
    assert (await completeness(api))["stages"]["warehousing"] == stage(2, 0, [{"item": "stock"}, {"item": "weight"}])
    wid = await conn.fetchval("INSERT INTO warehouses (code) VALUES ('hz') RETURNING id")
    await conn.execute("INSERT INTO locations (warehouse_id, code) VALUES ($1, 'A-01')", wid)
    received = await api.post(
        "/v1/stock/movements", json={"type": "receive", "sku": "S2", "qty": 1, "warehouse": "hz", "location": "A-01"}
    )
    assert received.status_code == 201
    assert (await completeness(api))["stages"]["warehousing"] == stage(2, 1, [{"item": "weight"}])


async def test_a_stage_that_requires_nothing_is_complete_with_a_ratio_of_one(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    r = await api.put("/v1/stages/service/needs", json={"reads": ["selling_points"], "requires": []})
    assert r.status_code == 200, r.text
    await run_jobs(conn)
    service = (await completeness(api))["stages"]["service"]
    assert service == {"required": 0, "present": 0, "ratio": 1.0, "missing": []}
    worklist = await api.get("/v1/completeness", params={"stage": "service", "below": "1"})
    assert worklist.status_code == 200, worklist.text
    assert [i["product"] for i in worklist.json()["items"]] == []
    listing = await api.get("/v1/completeness", params={"stage": "listing", "below": "1"})
    assert [i["product"] for i in listing.json()["items"]] == ["p1"]  # the same query finds an incomplete stage
