"""Bulk exports of products, SKUs, prices and stock: exactly what an import of the same type takes (JSON Lines: one
import row per line; CSV: the import's column convention), streamed a keyset chunk at a time — constant
memory, the first byte once the first chunk is read — so that export → edit → import round-trips. A viewer
who does not see confidential data gets no confidential attribute values, nor cost or distribution prices
(and an import by such a viewer keeps the stored attribute values)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec

from domain.errors import param_error
from domain.imports import counts, formats, prices, skus, store
from domain.imports.model import FileFormat, ImportType, RowError
from domain.keys.model import Principal
from domain.prices.model import visible_kinds

CHUNK = 1_000
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
REPORT_COLUMNS = ["line", "column", "pointer", "code", "message"]


async def export_scope(conn: asyncpg.Connection, category: str | None) -> str | None:
    """The category path an export is limited to (None: every product); an unknown category is a 400."""
    if category is None:
        return None
    path = await store.get_export_scope(conn, category)
    if path is None:
        raise param_error("category", "unknown_code", f"No category has the code {category!r}.")
    return path


async def export(
    pool: Any, viewer: Principal, kind: ImportType, path: str | None, fmt: FileFormat
) -> AsyncIterator[bytes]:
    """The export's bytes, a chunk of products at a time, on a connection of its own while it streams."""
    if kind == "skus":
        async for chunk in _export_skus(pool, path, fmt):
            yield chunk
        return
    if kind == "stock":
        async for chunk in _export_counts(pool, path, fmt):
            yield chunk
        return
    if kind == "prices":
        async for chunk in _export_prices(pool, path, list(visible_kinds(viewer)), fmt):
            yield chunk
        return
    confidential = viewer.sees_confidential
    header: list[str] | None = None
    if fmt == "csv":
        async with pool.acquire() as conn:
            cols = await store.list_export_columns(conn, path, confidential)
        header = formats.export_header(cols.labels, cols.description, cols.selling_points, cols.attributes)
        yield _csv_line(header, bom=True)
    after: str | None = None
    while True:
        async with pool.acquire() as conn:
            products = await store.list_export_products(conn, path, confidential, after, CHUNK)
        if not products:
            return
        if header is None:
            yield b"".join(msgspec.json.encode(p) + b"\n" for p in products)
        else:
            yield b"".join(_csv_line(formats.export_cells(header, p)) for p in products)
        if len(products) < CHUNK:
            return
        after = products[-1]["code"]


async def _export_skus(pool: Any, path: str | None, fmt: FileFormat) -> AsyncIterator[bytes]:
    """SKUs in sku order, a keyset chunk at a time, as a SKU import takes them."""
    header: list[str] | None = None
    if fmt == "csv":
        async with pool.acquire() as conn:
            cols = await store.list_export_sku_columns(conn, path)
        header = skus.export_header(cols.axes, cols.attributes)
        yield _csv_line(header, bom=True)
    after: str | None = None
    while True:
        async with pool.acquire() as conn:
            rows = await store.list_export_skus(conn, path, after, CHUNK)
        if not rows:
            return
        if header is None:
            yield b"".join(msgspec.json.encode(r) + b"\n" for r in rows)
        else:
            yield b"".join(_csv_line(skus.export_cells(header, r)) for r in rows)
        if len(rows) < CHUNK:
            return
        after = rows[-1]["sku"]


async def _export_prices(pool: Any, path: str | None, kinds: list[str], fmt: FileFormat) -> AsyncIterator[bytes]:
    """Price periods by SKU, kind, currency and start, a keyset chunk at a time, as a price import takes them
    (only the kinds the viewer may read)."""
    if fmt == "csv":
        yield _csv_line(list(prices.COLUMNS), bom=True)
    after: tuple[Any, ...] | None = None
    while True:
        async with pool.acquire() as conn:
            found = await store.list_export_prices(conn, path, kinds, after, CHUNK)
        if not found:
            return
        rows = [prices.export_row(r) for r in found]
        if fmt == "jsonl":
            yield b"".join(msgspec.json.encode(r) + b"\n" for r in rows)
        else:
            yield b"".join(_csv_line(prices.export_cells(r)) for r in rows)
        if len(found) < CHUNK:
            return
        last = found[-1]
        after = (last["sku"], last["kind"], last["currency"], last["valid_from"])


async def _export_counts(pool: Any, path: str | None, fmt: FileFormat) -> AsyncIterator[bytes]:
    """Stock levels by SKU, warehouse and bin, a keyset chunk at a time, as count rows of what is on hand."""
    if fmt == "csv":
        yield _csv_line(list(counts.REQUIRED), bom=True)
    after: tuple[Any, ...] | None = None
    while True:
        async with pool.acquire() as conn:
            found = await store.list_export_counts(conn, path, after, CHUNK)
        if not found:
            return
        if fmt == "jsonl":
            yield b"".join(msgspec.json.encode(counts.export_row(r)) + b"\n" for r in found)
        else:
            yield b"".join(_csv_line([str(r[c]) for c in counts.REQUIRED]) for r in found)
        if len(found) < CHUNK:
            return
        last = found[-1]
        after = (last["sku"], last["warehouse"], last["location"])


def _csv_line(cells: list[str], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


async def report_bytes(errors: AsyncIterator[RowError], fmt: FileFormat) -> AsyncIterator[bytes]:
    """An import's per-row report as JSON Lines or CSV."""
    if fmt == "csv":
        yield _csv_line(REPORT_COLUMNS, bom=True)
    async for e in errors:
        if fmt == "csv":
            yield _csv_line([str(e.line), e.column or "", e.pointer or "", e.code, e.message])
        else:
            yield msgspec.json.encode(e) + b"\n"


async def open_export(
    conn: asyncpg.Connection, pool: Any, viewer: Principal, kind: ImportType, category: str | None, fmt: FileFormat
) -> AsyncIterator[bytes]:
    """Check what an export names (its category), then hand back its bytes to stream."""
    path = await export_scope(conn, category)
    return export(pool, viewer, kind, path, fmt)
