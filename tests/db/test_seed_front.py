"""`merch seed scale` through the front door: the scale catalog as import files, loaded through the import path
— the catalog it leaves passes the checks API-made data passes, a second seed with the same seed changes
nothing, the files are the same bytes for the same seed, and a corrupted file stops the seed with nothing of it
applied."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api import bulk
from api.seeding import seed_scale
from domain.seed.catalog import KINDS, Catalog, Shape
from domain.seed.files import file_name, write_files
from domain.seed.model import CatalogNotEmpty, SeedRejected
from tests.conftest import client_for

PRODUCTS = 300
# What a second seed must leave exactly as it was (a stock level's count is a fact recorded again: its
# quantities are compared, not when it was last counted).
SNAPSHOT = {
    "category_trees": "SELECT t::text FROM category_trees t",
    "categories": "SELECT t::text FROM categories t",
    "attributes": "SELECT t::text FROM attributes t",
    "attribute_options": "SELECT t::text FROM attribute_options t",
    "category_attributes": "SELECT t::text FROM category_attributes t",
    "products": "SELECT t::text FROM products t",
    "product_placements": "SELECT t::text FROM product_placements t",
    "skus": "SELECT t::text FROM skus t",
    "prices": "SELECT t::text FROM prices t",
    "product_suppliers": "SELECT t::text FROM product_suppliers t",
    "stock_levels": "SELECT (sku_id, location_id, on_hand, reserved)::text FROM stock_levels",
    "suppliers": "SELECT t::text FROM suppliers t",
    "locations": "SELECT t::text FROM locations t",
    "series": "SELECT t::text FROM series t",
    "product_completeness": "SELECT t::text FROM product_completeness t",
    "storefront_documents": "SELECT t::text FROM storefront_documents t",
    "audit_log": "SELECT t::text FROM audit_log t",
}


def quiet() -> bulk.Progress:
    return bulk.Progress(io.StringIO())


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[str]]:
    return {name: sorted(r[0] for r in await conn.fetch(sql)) for name, sql in SNAPSHOT.items()}


async def test_the_seeded_catalog_reads_back_through_the_api_like_api_made_data(
    fresh_app: Any, fresh_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    steps = await seed_scale(
        fresh_pool, floor=False, products=PRODUCTS, seed=1, folder=tmp_path, force=False, out=quiet()
    )
    by_step = {s.step: s.rows for s in steps}
    assert [by_step[file_name(i, k)] for i, k in enumerate(KINDS)] == [18, 30, 12, 300, 300, 702, 81, 249]
    assert by_step["listing products (3 transitions each)"] == 6
    async with client_for(fresh_app, "admin") as api:
        product = (await api.get("/v1/products/sp-0000050")).json()
        assert product["category"] == "sc-1-1-3"
        assert product["categories"] == ["sw-1-0"]
        assert product["lifecycle"] == "listed"
        assert len(product["attributes"]) == 10
        completeness = (await api.get("/v1/products/sp-0000050/completeness")).json()
        assert {stage: s["missing"] for stage, s in completeness["stages"].items()} == {
            "purchasing": [],
            "warehousing": [],
            "listing": [],
            "marketing": [],
            "service": [],
            "finance": [],
        }
        # A product left incomplete on purpose says what it misses: no barcode on its SKU (every twentieth).
        gaps = (await api.get("/v1/products/sp-0000019/completeness")).json()["stages"]["warehousing"]["missing"]
        assert {"item": "barcode", "sku": "SK-0000019"} in gaps
        jobs = {j["kind"]: j["id"] for j in (await api.get("/v1/jobs", params={"limit": 50})).json()["items"]}
        audit = (await api.get("/v1/audit", params={"import": jobs["import-products"], "limit": 500})).json()
        assert len(audit["items"]) == PRODUCTS
        assert {(a["action"], a["entity"], a["actor"]) for a in audit["items"]} == {("create", "product", "merch-seed")}
    async with client_for(fresh_app, "storefront") as shop:
        page = await shop.get("/v1/storefront/products/sp-0000050")
        assert page.status_code == 200
        assert (await shop.get("/v1/storefront/products/sp-0000049")).status_code == 404  # a draft
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM product_completeness") == PRODUCTS
        listed = await conn.fetchval("SELECT count(*) FROM products WHERE lifecycle = 'listed'")
        assert listed == 6
        assert await conn.fetchval("SELECT count(*) FROM storefront_documents") == 2 * listed  # zh-CN and en
        assert await conn.fetchval("SELECT count(*) FROM jobs WHERE state <> 'done'") == 0


async def test_a_second_seed_with_the_same_seed_changes_nothing(fresh_pool: asyncpg.Pool, tmp_path: Path) -> None:
    await seed_scale(
        fresh_pool, floor=False, products=PRODUCTS, seed=1, folder=tmp_path / "a", force=False, out=quiet()
    )
    async with fresh_pool.acquire() as conn:
        before = await snapshot(conn)
    with pytest.raises(CatalogNotEmpty):
        await seed_scale(
            fresh_pool, floor=False, products=PRODUCTS, seed=1, folder=tmp_path / "b", force=False, out=quiet()
        )
    steps = await seed_scale(
        fresh_pool, floor=False, products=PRODUCTS, seed=1, folder=tmp_path / "c", force=True, out=quiet()
    )
    assert {s.step: s.rows for s in steps}["listing products (3 transitions each)"] == 0
    async with fresh_pool.acquire() as conn:
        after = await snapshot(conn)
        # every row of every file came back `unchanged`
        jobs = await conn.fetch(
            "SELECT kind, rows_applied, rows_unchanged FROM jobs WHERE kind LIKE 'import-%' ORDER BY id DESC LIMIT 8"
        )
    assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
    assert after == before
    assert {j["kind"]: j["rows_applied"] for j in jobs} == {f"import-{k}": 0 for k in KINDS if k != "stock"} | {
        "import-stock": 249  # a count is a fact: recorded again, finding what is on hand (its levels unchanged)
    }


async def test_the_files_are_the_same_bytes_for_the_same_seed(tmp_path: Path) -> None:
    folders = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for folder, seed in zip(folders, (7, 7, 8), strict=True):
        folder.mkdir()
        assert [k for k, _, _ in write_files(Catalog(PRODUCTS, seed=seed, floor=False), folder)] == list(KINDS)
    names = [file_name(i, k) for i, k in enumerate(KINDS)]
    assert [(folders[0] / n).read_bytes() for n in names] == [(folders[1] / n).read_bytes() for n in names]
    assert (folders[0] / names[3]).read_bytes() != (folders[2] / names[3]).read_bytes()


def test_the_scale_seed_is_shaped_like_a_large_catalog_whatever_the_count() -> None:
    # DOMAIN.md: "a synthetic catalog of N products shaped like a large real one (thousands of categories,
    # hundreds of attributes)"
    for products in (1, 10_000, 100_000):
        shape = Shape.of(products)
        assert shape.categories >= 2_000 and shape.attributes >= 200, (products, shape)
    assert Shape.of(10_000, floor=False).categories < 100  # (the tests' small catalogs)


def test_the_shape_at_a_million_products_is_akeneos_large_catalog() -> None:
    shape = Shape.of(1_000_000)
    assert (shape.majors, shape.middles, shape.minors) == (20, 10, 20)
    assert shape.categories == 4_220 + 420
    assert shape.attributes == 1_000
    catalog = Catalog(2_000, seed=1)
    # every leaf inherits ten attributes, none twice
    assert {len(bound) for _, bound in catalog.leaves} == {10}
    assert all(len({a.code for a in bound}) == 10 for _, bound in catalog.leaves)


async def test_a_corrupted_file_stops_the_seed_and_applies_nothing_of_it(
    fresh_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    def corrupt(folder: Path) -> None:
        path = folder / file_name(KINDS.index("products"), "products")
        lines = path.read_bytes().splitlines(keepends=True)
        bad = lines[150].replace(b'"category":"', b'"category":"no-such-', 1)
        path.write_bytes(b"".join([*lines[:150], bad, *lines[151:]]))

    with pytest.raises(SeedRejected) as stopped:
        await seed_scale(
            fresh_pool,
            floor=False,
            products=PRODUCTS,
            seed=1,
            folder=tmp_path,
            force=False,
            out=quiet(),
            tamper=corrupt,
        )
    assert [(r.line, r.pointer, r.code) for r in stopped.value.rejects] == [(151, "/category", "unknown_category")]
    assert stopped.value.detail.splitlines()[0] == (
        "4-products.jsonl: 1 row(s) rejected: nothing was applied (mode all_or_nothing); see the report."
    )
    async with fresh_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM products") == 0
        assert await conn.fetchval("SELECT count(*) FROM attributes WHERE code LIKE 'sa-%'") == 30  # the files before
        assert await conn.fetchval("SELECT count(*) FROM skus") == 0  # and none after
    assert (tmp_path / file_name(3, "products")).exists()


async def test_a_seed_stopped_between_a_receipt_and_its_transitions_receives_nothing_twice_when_run_again(
    fresh_pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.seed import front

    async def stopped(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the seed stopped here")  # (a gate refusal, a Ctrl-C)

    original = front.transition
    monkeypatch.setattr(front, "transition", stopped)
    with pytest.raises(RuntimeError, match="stopped here"):
        await seed_scale(
            fresh_pool, floor=False, products=PRODUCTS, seed=1, folder=tmp_path / "a", force=False, out=quiet()
        )
    async with fresh_pool.acquire() as conn:
        received = await conn.fetchval("SELECT count(*) FROM stock_movements WHERE type = 'receive'")
    assert received > 0  # the first batch's receipt went in before its transitions failed
    monkeypatch.setattr(front, "transition", original)
    await seed_scale(fresh_pool, floor=False, products=PRODUCTS, seed=1, folder=tmp_path / "b", force=True, out=quiet())
    async with fresh_pool.acquire() as conn:
        receipts = await conn.fetch(
            "SELECT sku_id, count(*) AS n FROM stock_movements WHERE type = 'receive' GROUP BY sku_id"
        )
        listed = await conn.fetchval("SELECT count(*) FROM products WHERE lifecycle = 'listed'")
    assert listed == len(receipts) > 0 and {r["n"] for r in receipts} == {1}  # each received once
