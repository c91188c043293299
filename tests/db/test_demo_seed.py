"""The demo catalog loads through the API, whole, into an empty database — and only into an empty one."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from api import demo
from domain.skus import gtin


async def test_the_demo_catalog_loads_whole_and_reads_back_through_the_api(
    conn: asyncpg.Connection, api: httpx.AsyncClient
) -> None:
    assert await demo.is_empty(conn)
    summary = await demo.seed(conn)
    assert summary == (
        "2 trees, 12 categories, 2 series, 16 attributes, 8 products, 9 SKUs, 2 warehouses with 6 bins, "
        "5 suppliers, prices, 1 promotion, 90 days of sales, 6 products listed"
    )
    assert not await demo.is_empty(conn)
    roles = await conn.fetch(
        "SELECT r.code, count(*) AS n FROM products p JOIN roles r ON r.id = p.role_id GROUP BY 1 ORDER BY 1"
    )
    assert [(r["code"], r["n"]) for r in roles] == [("destination", 2), ("image", 2), ("promotion", 2), ("routine", 2)]
    nested = (await api.get("/v1/category-trees/merch/tree")).json()
    assert [c["labels"]["zh-CN"] for c in nested["categories"]] == ["服饰配件", "家居香氛"]
    assert [c["subtree_products"] for c in nested["categories"]] == [4, 4]
    scarves = nested["categories"][0]["children"][0]
    assert [c["labels"]["zh-CN"] for c in scarves["children"]] == ["真丝方巾", "真丝长巾"]
    product: dict[str, Any] = (await api.get("/v1/products/silk-square-peony")).json()
    assert product["categories"] == ["web-gifts-for-her"]
    assert product["attributes"]["width"] == {"value": "90", "unit": "cm"}
    skus = (await api.get("/v1/products/silk-square-peony/skus")).json()["items"]
    assert [(s["sku"], s["barcode"]) for s in skus] == [("SSP-NAVY", "6901234560022"), ("SSP-RED", "6901234560015")]
    # The seed key is revoked once it is done; its name stays in the audit trail as the author.
    assert (
        await conn.fetchval("SELECT count(*) FROM api_keys WHERE name LIKE 'seed-demo-%' AND revoked_at IS NULL") == 0
    )
    audit = (await api.get("/v1/audit", params={"entity": "product", "code": "silk-square-peony"})).json()
    assert audit["items"][0]["actor"].startswith("seed-demo-")


def test_every_barcode_of_the_demo_data_has_a_valid_gtin_check_digit() -> None:
    barcodes = [c["body"]["barcode"] for c in demo.calls("products") if c["path"].endswith("/skus")]
    assert len(barcodes) == 9
    assert [gtin.problem(b) for b in barcodes] == [None] * 9


async def test_the_demo_warehouses_hold_received_stock_with_costs(
    conn: asyncpg.Connection, api: httpx.AsyncClient
) -> None:
    await demo.seed(conn)
    stock = (await api.get("/v1/stock", params={"sku": "LS-3"})).json()
    assert [(i["warehouse"], i["location"], i["on_hand"]) for i in stock["items"]] == [
        ("hz", "B-01-02-01", 350),
        ("sh", "A-02-01-01", 50),
    ]
    red = (await api.get("/v1/stock", params={"sku": "SSP-RED"})).json()["totals"]
    assert red == {"on_hand": 114, "reserved": 0, "available": 114}
    cost = await conn.fetchval(
        "SELECT avg_unit_cost::text FROM sku_costs c JOIN skus s ON s.id = c.sku_id WHERE s.sku = 'LO-30'"
    )
    assert cost == "52.000000"


async def test_the_demo_catalog_has_suppliers_prices_promotions_and_sales_that_complete_stages(
    conn: asyncpg.Connection, api: httpx.AsyncClient
) -> None:
    await demo.seed(conn)
    ranked = (await api.get("/v1/products/silk-square-peony/suppliers", params={"ranked": "true"})).json()["items"]
    assert [(t["supplier"], t["rank"]) for t in ranked] == [("hz-silk-mill", 1), ("shanghai-trading", 2)]
    completeness = (await api.get("/v1/products/silk-square-peony/completeness")).json()["stages"]
    assert completeness["purchasing"]["missing"] == []
    assert completeness["finance"]["missing"] == []
    prices = (await api.get("/v1/skus/SSP-RED/prices", params={"kind": "sale"})).json()["items"]
    assert [(p["amount"], p["valid_to"] is None) for p in prices] == [("129.00", True), ("119.00", False)]
    sales = await conn.fetchval("SELECT count(DISTINCT day) FROM sales_facts")
    assert sales == 90
    # six products passed every gate to listed; the other two are held by what their gates name
    states = dict(await conn.fetch("SELECT code, lifecycle FROM products"))
    assert sorted(c for c, s in states.items() if s == "listed") == [
        "lavender-oil-10ml",
        "lavender-oil-30ml",
        "lavender-sachet-3pack",
        "silk-long-heritage",
        "silk-square-classic",
        "silk-square-peony",
    ]
    held = await api.post("/v1/products/lavender-sachet-gift/transitions", json={"to": "stocked"})
    assert held.status_code == 409 and held.json()["code"] == "gate-not-met"
    assert "warehousing" in held.json()["context"]["missing"]
    shop = (await api.get("/v1/storefront/categories", params={"tree": "web"})).json()["categories"]
    assert [(c["code"], c["listed_products"]) for c in shop] == [("web-gifts", 4), ("web-new", 0), ("web-home", 2)]


async def test_the_demo_seed_is_not_held_by_rate_limits_even_for_admin_keys(
    conn: asyncpg.Connection, monkeypatch: Any
) -> None:
    # (its hundreds of calls in a second are no client's: with admin limited to bursts of 5, it still loads)
    monkeypatch.setenv("MERCH_RATE_LIMIT_ROLES", "admin:1:5")
    monkeypatch.setenv("MERCH_RATE_LIMIT_BURST", "5")
    assert (await demo.seed(conn)).startswith("2 trees, 12 categories")


async def test_the_readme_csv_example_imports_into_the_demo_catalog_as_it_stands(
    conn: asyncpg.Connection, api: httpx.AsyncClient
) -> None:
    from domain.jobs.service import run_pending
    from tests.api.test_imports import readme_csv
    from tests.conftest import OneConnectionPool

    await demo.seed(conn)
    answer = await api.post(
        "/v1/imports", params={"type": "products"}, content=readme_csv(), headers={"content-type": "text/csv"}
    )
    assert answer.status_code == 202, answer.text
    await run_pending(OneConnectionPool(conn), workers=1)  # (the seed's recompute jobs, then the import)
    job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
    assert (job["state"], job["rows"]) == ("done", {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0})
    lotus = (await api.get("/v1/products/silk-square-lotus")).json()
    assert lotus["selling_points"] == [{"en": "Hand-rolled hems"}, {"en": "Gift boxed"}]
    assert lotus["attributes"] == {
        "material": "mulberry-silk",
        "color": "red",
        "momme": 16,
        "width": {"value": "90", "unit": "cm"},
        "weight": {"value": "35", "unit": "g"},
    }
    assert (lotus["categories"], lotus["series"]) == (["web-gifts-for-her"], ["silk-scarf-series"])
