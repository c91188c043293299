"""Product import benchmark (issue 13): N products (about 10 attribute values each) from a JSON Lines file,
uploaded to `merch serve` over HTTP and applied by its job runner — end to end, derived data (completeness,
storefront rows) included, as the job says done — next to the floor of the same run on the same server: a
plain COPY of the same rows into an unindexed table.

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


async def imported(port: int, key: str, path: Path) -> tuple[float, dict[str, Any]]:
    """Seconds from the first byte of the upload to the job saying done, and the finished job."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
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


async def main(products: int, leaves: int) -> None:
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
        try:
            elapsed, job = await imported(port, key, path)
        finally:
            peak, largest = stop(proc)
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
        print(f"peak RSS of the server: {peak} MB (largest process {largest} MB)")
    finally:
        await conn.execute("DROP TABLE IF EXISTS bench_import_floor")
        await conn.close()
        del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--leaves", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.products, args.leaves))
