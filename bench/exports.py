"""What an export costs (issue 13): the products of the catalog in MERCH_DATA_DIR (the one `bench.imports` left, or
any), exported in-process as `GET /v1/exports` streams them — one connection, one snapshot, a keyset chunk at a
time — read whole, once per format, with the seconds it took and the CPU it used, of this Python process and of
the embedded server's processes (from /proc), and the floor of the same run: a `COPY … TO STDOUT` of the same
products' rows as JSON.

    MERCH_DATA_DIR=.merchflow/bench-imports python -m bench.exports [--category bi-root] [--format jsonl csv]

Needs the embedded server (MERCH_DATA_DIR, never bench/out): its processes are read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import asyncpg

from api import collector, db
from api.settings import Settings
from bench.import_cpu import server_cpu
from domain.imports import exports
from domain.imports.model import FileFormat
from domain.keys.model import Principal

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

FLOOR = "SELECT row_to_json(p) FROM products p"


async def main(category: str | None, formats: list[str], runs: int) -> None:
    data_dir = Path(os.environ["MERCH_DATA_DIR"])
    dsn, server = await db.prepare_database(Settings())
    conn = await asyncpg.connect(dsn)
    await db.init_connection(conn)
    collector.tune()  # (as a served worker does once started)
    try:

        @asynccontextmanager
        async def connect() -> AsyncIterator[asyncpg.Connection]:
            yield conn

        viewer = Principal(name="bench-exports", roles=frozenset({"admin"}))
        print(f"{await conn.fetchval('SELECT count(*) FROM products'):,} products in the catalog")
        for fmt in formats:
            for _ in range(runs):
                wall, cpu, pg = time.perf_counter(), time.process_time(), server_cpu(data_dir)
                size = lines = 0
                first = None
                async for chunk in exports.export(connect, viewer, "products", category, cast(FileFormat, fmt)):
                    if first is None:
                        first = time.perf_counter() - wall
                    size += len(chunk)
                    lines += chunk.count(b"\n")
                print(
                    f"{fmt}: {time.perf_counter() - wall:.1f} s (first bytes {(first or 0) * 1000:.0f} ms); "
                    f"CPU: Python {time.process_time() - cpu:.1f} s, PostgreSQL {server_cpu(data_dir) - pg:.1f} s; "
                    f"{lines:,} lines, {size / 1e6:.0f} MB"
                )
        started, floor_size = time.perf_counter(), 0

        async def count(data: bytes) -> None:
            nonlocal floor_size
            floor_size += len(data)

        await conn.copy_from_query(FLOOR, output=count)
        print(
            f"floor (COPY of every product's row as JSON): {time.perf_counter() - started:.1f} s, "
            f"{floor_size / 1e6:.0f} MB"
        )
    finally:
        await conn.close()
        del server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--category", default=None, help="the subtree exported (every product when not given)")
    parser.add_argument("--format", nargs="+", default=["jsonl", "csv"], choices=["jsonl", "csv", "xlsx"])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.category, args.format, args.runs))
