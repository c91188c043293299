"""Product import benchmark (issue 13): N products (about 10 attribute values each) from a JSON Lines file,
uploaded to `merch serve` over HTTP and applied by its job runner — end to end, derived data (completeness,
storefront rows) included, as the job says done — next to the floor of the same run on the same server: a
plain COPY of the same rows into an unindexed table. While the import runs, a warehouse tool sends stock
movements (one at a time, each the next pick or receive of one SKU): their latencies during the import
against the same loop before it. Then the N products are exported (JSON Lines and CSV, streamed), next to
the floor of a plain `COPY … TO STDOUT` of the same products' rows as JSON; the CSV export is then imported
into the emptied catalog, for the CSV import's time against the JSON Lines one's.

    MERCH_DATA_DIR=.merchflow/bench-imports python -m bench.imports --products 100000

Uses MERCH_DATA_DIR (default .merchflow/bench-imports in the working tree — never bench/out, whose 1M
database other benchmarks use) or DATABASE_URL. Each run imports into an empty catalog of its own (tree
`bench-import`, removed with its products first), so runs compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import warnings
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from api import db, migrate
from api.settings import Settings
from bench.harness import ROOT, start_merchflow, stop
from domain.keys import service as keys

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

TREE = "bench-import"
ATTRIBUTES: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("bi-material", "select", {}, ("silk", "cotton", "wool", "linen")),
    ("bi-colours", "multiselect", {}, ("red", "navy", "gold", "green", "white")),
    ("bi-width", "integer", {"min": 1, "max": 1000}, ()),
    ("bi-weight", "decimal", {"decimals": 2, "min": 0}, ()),
    ("bi-length", "measurement", {"unit_family": "length", "default_unit": "cm"}, ()),
    ("bi-washable", "boolean", {}, ()),
    ("bi-origin", "text", {"max_length": 100}, ()),
    ("bi-care", "textarea", {}, ()),
    ("bi-since", "date", {}, ()),
    ("bi-link", "url", {}, ()),
]
# A category (its path: the ids from its root), as the factories of the tests write one.
CATEGORY = """
WITH new AS (SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id)
INSERT INTO categories (id, code, tree_id, parent_id, position, labels, path)
OVERRIDING SYSTEM VALUE
SELECT new.id, $1, $2, $3, $4, $5,
       CASE WHEN $6::ltree IS NULL THEN text2ltree(new.id::text) ELSE $6::ltree || new.id::text END
  FROM new
RETURNING id, path
"""
FLOOR_TABLE = "CREATE UNLOGGED TABLE IF NOT EXISTS bench_import_floor (code text, category text, role text, doc text)"


async def prepare(conn: asyncpg.Connection, leaves: int) -> list[str]:
    """An empty catalog of its own: tree, `leaves` categories under one root, the attributes bound at the root."""
    await conn.execute(
        "DELETE FROM products WHERE category_id IN "
        "(SELECT c.id FROM categories c JOIN category_trees t ON t.id = c.tree_id WHERE t.code = $1)",
        TREE,
    )
    await conn.execute("DELETE FROM categories WHERE tree_id = (SELECT id FROM category_trees WHERE code = $1)", TREE)
    await conn.execute("DELETE FROM category_trees WHERE code = $1", TREE)
    tree_id = await conn.fetchval(
        "INSERT INTO category_trees (code, labels, level_names) VALUES ($1, $2, $3) RETURNING id",
        TREE,
        {"en": TREE},
        ["major", "minor"],
    )
    root = await conn.fetchrow(CATEGORY, "bi-root", tree_id, None, 0, {"en": "root"}, None)
    codes = [f"bi-leaf-{i:03}" for i in range(leaves)]
    for i, code in enumerate(codes):
        await conn.execute(CATEGORY, code, tree_id, root["id"], i, {"en": code}, root["path"])
    for code, kind, validation, options in ATTRIBUTES:
        attribute_id = await conn.fetchval("SELECT id FROM attributes WHERE code = $1", code)
        if attribute_id is None:
            attribute_id = await conn.fetchval(
                "INSERT INTO attributes (code, type, labels, visibility, validation) "
                "VALUES ($1, $2, $3, 'public', $4) RETURNING id",
                code,
                kind,
                {"en": code},
                validation,
            )
            await conn.executemany(
                "INSERT INTO attribute_options (attribute_id, code, labels, position) VALUES ($1, $2, $3, $4)",
                [(attribute_id, o, {"en": o}, i) for i, o in enumerate(options)],
            )
        await conn.execute(
            "INSERT INTO category_attributes (category_id, attribute_id, required_for) VALUES ($1, $2, '{listing}')",
            root["id"],
            attribute_id,
        )
    return codes


def write_file(path: Path, products: int, leaves: list[str]) -> None:
    """The JSON Lines file: one product per line, about 10 attribute values each."""
    rng = random.Random(13)
    with path.open("wb") as out:
        for i in range(products):
            row = {
                "code": f"bi-{i:07}",
                "category": leaves[i % len(leaves)],
                "role": ("destination", "routine", "image", "promotion")[i % 4],
                "labels": {"zh-CN": f"真丝方巾 {i}", "en": f"Silk square {i}"},
                "description": {"en": "Pure mulberry silk, hand-rolled hems."},
                "selling_points": [{"en": "Hand-rolled hems"}],
                "images": [f"https://img.example.com/bi/{i}.jpg"],
                "quality_tags": ["new"] if i % 3 == 0 else [],
                "attributes": {
                    "bi-material": rng.choice(ATTRIBUTES[0][3]),
                    "bi-colours": rng.sample(ATTRIBUTES[1][3], 2),
                    "bi-width": rng.randint(10, 200),
                    "bi-weight": f"{rng.randint(100, 9999) / 100:.2f}",
                    "bi-length": {"value": str(rng.randint(30, 200)), "unit": "cm"},
                    "bi-washable": rng.random() < 0.5,
                    "bi-origin": rng.choice(["Hangzhou", "Suzhou", "Como"]),
                    "bi-care": "Dry clean only.",
                    "bi-since": f"2026-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}",
                    "bi-link": f"https://example.com/bi/{i}",
                },
            }
            out.write(msgspec.json.encode(row) + b"\n")


async def floor(conn: asyncpg.Connection, path: Path) -> float:
    """Seconds to read the file and COPY its rows into an unindexed table: the least an import can cost."""
    await conn.execute(FLOOR_TABLE)
    await conn.execute("TRUNCATE bench_import_floor")
    started = time.perf_counter()
    batch: list[tuple[str, str, str, str]] = []
    with path.open("rb") as f:
        for line in f:
            row = msgspec.json.decode(line)
            batch.append((row["code"], row["category"], row["role"], line.decode()))
            if len(batch) == 5000:
                await conn.copy_records_to_table("bench_import_floor", records=batch)
                batch = []
    if batch:
        await conn.copy_records_to_table("bench_import_floor", records=batch)
    return time.perf_counter() - started


async def chunks(path: Path) -> Any:
    with path.open("rb") as f:
        while block := f.read(1 << 16):
            yield block


async def imported(
    port: int, key: str, path: Path, content_type: str = "application/x-ndjson"
) -> tuple[float, dict[str, Any]]:
    """Seconds from the first byte of the upload to the job saying done, and the finished job."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=3600) as http:
        started = time.perf_counter()
        answer = await http.post("/v1/imports", params={"type": "products"}, content=chunks(path), headers=headers)
        assert answer.status_code == 202, answer.text
        uploaded = time.perf_counter() - started
        job = answer.json()
        while job["state"] not in ("done", "failed"):
            await asyncio.sleep(0.2)  # polling the job as a client would
            job = (await http.get(f"/v1/jobs/{job['id']}", headers=headers)).json()
        elapsed = time.perf_counter() - started
    print(f"  upload read and checked in {uploaded:.1f} s; applied {elapsed - uploaded:.1f} s after")
    return elapsed, job


STOCK_SKU = "BI-STOCK-1"


async def stock_setup(port: int, key: str) -> None:
    """A bin holding a SKU of a product outside the imported catalog, for the warehouse loop."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
        for path, body in (  # (a tree of its own: the import's tree is emptied before each run)
            ("/v1/category-trees", {"code": "bench-stock", "labels": {"en": "bench stock"}, "level_names": ["major"]}),
            ("/v1/categories", {"code": "bench-stock-goods", "tree": "bench-stock", "labels": {"en": "goods"}}),
            ("/v1/warehouses", {"code": "bi-wh", "labels": {"en": "bench"}}),
            ("/v1/warehouses/bi-wh/locations", {"code": "A-01", "zone": "A", "pick_sequence": 1}),
            (
                "/v1/products",
                {
                    "code": "bench-stock",
                    "category": "bench-stock-goods",
                    "role": "routine",
                    "labels": {"en": "bench stock"},
                },
            ),
            ("/v1/products/bench-stock/skus", {"sku": STOCK_SKU}),
        ):
            answer = await http.post(path, json=body)
            assert answer.status_code in (201, 409), (path, answer.text)
        receive = {"type": "receive", "sku": STOCK_SKU, "qty": 1_000_000, "warehouse": "bi-wh", "location": "A-01"}
        answer = await http.post("/v1/stock/movements", json=receive)
        assert answer.status_code == 201, answer.text


async def stock_loop(port: int, key: str, stop_when: asyncio.Event, latencies: list[float]) -> None:
    """A scanner: a pick, then a receive, of one unit, one request at a time, until told to stop."""
    headers = {"Authorization": f"Bearer {key}"}
    n = 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
        while not stop_when.is_set():
            kind = ("pick", "receive")[n % 2]
            body = {"type": kind, "sku": STOCK_SKU, "qty": 1, "warehouse": "bi-wh", "location": "A-01"}
            started = time.perf_counter()
            answer = await http.post("/v1/stock/movements", json=body)
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.text
            n += 1


async def stock_baseline(port: int, key: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    done = asyncio.Event()
    loop = asyncio.create_task(stock_loop(port, key, done, latencies))
    await asyncio.sleep(seconds)  # (a measuring window, not synchronisation)
    done.set()
    await loop
    return latencies


def percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    if not ordered:
        return "no requests"

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    top = ordered[-1] * 1000
    return f"{len(ordered):,} movements, p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {top:.1f} ms"


async def exported(port: int, key: str, fmt: str, keep: Path) -> tuple[float, float, int, int]:
    """Seconds to the first byte and to the last of an export of the benchmark's products, bytes and lines;
    the file is written to `keep` as it arrives (as a client saving it)."""
    headers = {"Authorization": f"Bearer {key}"}
    params = {"type": "products", "category": "bi-root", "format": fmt}
    size = lines = 0
    first = 0.0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=3600) as http:
        started = time.perf_counter()
        async with http.stream("GET", "/v1/exports", params=params, headers=headers) as answer:
            assert answer.status_code == 200, await answer.aread()
            with keep.open("wb") as out:
                async for block in answer.aiter_raw():
                    out.write(block)
                    if not size:
                        first = time.perf_counter() - started
                    size += len(block)
                    lines += block.count(b"\n")
        return first, time.perf_counter() - started, size, lines


async def export_floor(conn: asyncpg.Connection) -> float:
    """Seconds to COPY the benchmark's products out as JSON rows: the least an export can cost."""
    sink = bytearray()

    async def keep(block: bytes) -> None:
        sink.extend(block[-1:])  # (the bytes are read and dropped, as a client streaming to a file)

    started = time.perf_counter()
    await conn.copy_from_query(
        "SELECT row_to_json(p) FROM products p WHERE p.code LIKE 'bi-%' ORDER BY p.code", output=keep
    )
    return time.perf_counter() - started


async def main(products: int, leaves: int, csv_import: bool) -> None:
    os.environ.setdefault("MERCH_DATA_DIR", str(ROOT / ".merchflow" / "bench-imports"))
    Path(os.environ["MERCH_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    dsn, server = await db.prepare_database(Settings())
    conn = await asyncpg.connect(dsn)
    await db.init_connection(conn)
    try:
        await migrate.migrate(conn)
        await conn.execute("DELETE FROM api_keys WHERE name = 'bench-importer'")
        key = (await keys.create_key(conn, ["admin"], "bench-importer")).secret
        await conn.execute("DELETE FROM jobs WHERE requested_by = 'bench-importer'")  # (earlier runs' reports)
        codes = await prepare(conn, leaves)
        await conn.execute("VACUUM ANALYZE")  # as autovacuum would have left a database after the last run
        path = Path(os.environ["MERCH_DATA_DIR"]) / f"products-{products}.jsonl"
        write_file(path, products, codes)
        size = path.stat().st_size
        floor_s = await floor(conn, path)
        env = {**os.environ, "DATABASE_URL": dsn, "MERCH_LOG_LEVEL": "warning"}
        port, proc = start_merchflow(env, 1)
        exports: list[tuple[str, float, float, int, int]] = []
        during: list[float] = []
        try:
            await stock_setup(port, key)
            before = await stock_baseline(port, key, 5.0)
            done = asyncio.Event()
            scanner = asyncio.create_task(stock_loop(port, key, done, during))
            try:
                elapsed, job = await imported(port, key, path)
            finally:
                done.set()
                await scanner
            for fmt in ("jsonl", "csv"):
                exports.append((fmt, *await exported(port, key, fmt, path.with_suffix(f".export.{fmt}"))))
            # the CSV export imported again into an emptied catalog: the same products from CSV
            if csv_import:
                await prepare(conn, leaves)
                csv_elapsed, csv_job = await imported(port, key, path.with_suffix(".export.csv"), "text/csv")
        finally:
            peak, largest = stop(proc)
        export_floor_s = await export_floor(conn)
        assert job["state"] == "done", job
        stored = await conn.fetchval(
            "SELECT count(*) FROM products p JOIN product_completeness pc ON pc.product_id = p.id "
            "WHERE p.code LIKE 'bi-%'"
        )
        print(f"{products:,} products, {size / 1e6:.0f} MB of JSON Lines; rows {job['rows']}")
        print(f"import (upload → job done, derived data included): {elapsed:.1f} s = {products / elapsed:,.0f} rows/s")
        print(
            f"floor (plain COPY of the same rows, unindexed table): {floor_s:.1f} s = {products / floor_s:,.0f} rows/s"
        )
        print(f"ratio import / floor: {elapsed / floor_s:.1f}× the time; products with completeness: {stored:,}")
        print(f"stock movements before the import (5 s): {percentiles(before)}")
        print(f"stock movements during the import:       {percentiles(during)}")
        for fmt, first, total, size, lines in exports:
            print(
                f"export {fmt}: first byte {first * 1000:.0f} ms, all {total:.1f} s = {lines / total:,.0f} lines/s, "
                f"{size / 1e6:.0f} MB, {lines:,} lines"
            )
        print(f"export floor (COPY of the same products' rows as JSON): {export_floor_s:.1f} s")
        if csv_import:
            assert csv_job["state"] == "done" and csv_job["rows"]["applied"] == products, csv_job
            print(
                f"import of the CSV export into an emptied catalog: {csv_elapsed:.1f} s = "
                f"{products / csv_elapsed:,.0f} rows/s; CSV / JSON Lines: {csv_elapsed / elapsed:.2f}× the time"
            )
        print(f"peak RSS of the server (import and exports): {peak} MB (largest process {largest} MB)")
    finally:
        await conn.execute("DROP TABLE IF EXISTS bench_import_floor")
        await conn.close()
        del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--leaves", type=int, default=200)
    parser.add_argument(
        "--no-csv-import", action="store_true", help="skip importing the CSV export again (at 1M: half an hour)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.products, args.leaves, not args.no_csv_import))
