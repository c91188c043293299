"""Bulk exports of each import type: exactly what an import of the same type takes (JSON Lines: one
import row per line; CSV and XLSX: the import's column convention), streamed a keyset chunk at a time — constant
memory, the first byte once the first chunk is read — so that export → edit → import round-trips. A viewer
who does not see confidential data gets no confidential attribute values, nor cost or distribution prices
(and an import by such a viewer keeps the stored attribute values).

An export reads on ONE connection, in ONE repeatable-read snapshot, from its first chunk to its last: the file
is the catalog at one moment, however long the client takes to read it. That connection is chosen, and the
first chunk read, before anything is sent: a failure up to there (an unknown category; a replica failing under
the read) is a whole answer — a replica's is run again elsewhere (api/replicas.py). A failure after the first
byte cannot be: the stream ends without its end (api/routes/imports.py)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, aclosing
from typing import Any, NamedTuple

import asyncpg
import msgspec

from domain.attributes import service as attribute_service
from domain.errors import param_error
from domain.imports import (
    attribute_sets,
    attributes,
    categories,
    counts,
    formats,
    prices,
    skus,
    store,
    supplier_terms,
    xlsx,
)
from domain.imports.model import FileFormat, ImportType, ReportFormat, RowError
from domain.keys.model import Principal
from domain.paging import encode_cursor
from domain.prices.model import visible_kinds

CHUNK = 1_000
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8", "xlsx": xlsx.MEDIA_TYPE}
REPORT_COLUMNS = ["line", "column", "pointer", "code", "message"]
Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


async def export_scope(conn: asyncpg.Connection, category: str | None) -> str | None:
    """The category path an export is limited to (None: every product); an unknown category is a 400."""
    if category is None:
        return None
    path = await store.get_export_scope(conn, category)
    if path is None:
        raise param_error("category", "unknown_code", f"No category has the code {category!r}.")
    return path


async def export(
    connect: Connect, viewer: Principal, kind: ImportType, category: str | None, fmt: FileFormat
) -> AsyncGenerator[bytes, None]:
    """The export's bytes, a chunk at a time, on one connection and in one snapshot while it streams; the first
    bytes (a CSV's header with them) once the first chunk is read."""
    table = None if fmt == "jsonl" else _Table(fmt)
    async with connect() as conn, conn.transaction(**_snapshot(conn)):
        path = await export_scope(conn, category)
        if kind == "attributes" and category is not None:
            raise param_error(
                "category", "not_applicable", "An export of attributes holds every attribute: no `category`."
            )
        if kind == "supplier_terms":
            supplier_terms.check_reader(viewer)
        chunks = _chunks(lambda: _source(conn, viewer, kind, path, table is not None), table)
        async with aclosing(chunks):
            # each kind's first yield is its header (empty for JSON Lines): sent with the first chunk, once read
            yield await anext(chunks) + await anext(chunks, b"")
            async for chunk in chunks:
                if chunk:  # (an XLSX's deflate may hold a chunk's bytes back: nothing to send yet)
                    yield chunk
        if table is not None:
            yield table.close()


class _Table:
    """Rows of text cells as CSV (UTF-8 with a BOM, Excel's way) or as the sheet of an XLSX, a batch at a time."""

    def __init__(self, fmt: FileFormat) -> None:
        self.sheet = xlsx.SheetWriter() if fmt == "xlsx" else None
        self.bom = True

    def rows(self, rows: list[list[str]]) -> bytes:
        if self.sheet is not None:
            return self.sheet.rows(rows)
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        out = (b"\xef\xbb\xbf" if self.bom and rows else b"") + text.getvalue().encode()
        self.bom = self.bom and not rows
        return out

    def close(self) -> bytes:
        return b"" if self.sheet is None else self.sheet.close()


def _snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    """One repeatable-read, read-only snapshot for the whole export — or, inside a transaction already open (the
    tests' rolled-back one), a savepoint of it (a nested block cannot change the isolation level)."""
    if conn.is_in_transaction():
        return {}
    return {"isolation": "repeatable_read", "readonly": True}


Row = dict[str, Any]


async def _pages(
    fetch: Callable[[Any], Awaitable[list[Row]]], key: Callable[[Row], Any]
) -> AsyncGenerator[list[Row], None]:
    """A keyset listing's chunks in order: `fetch(after)` reads up to CHUNK rows after the keyset `after` (None
    first), `key` is a row's keyset. Each full chunk's successor is asked for before the chunk is handed on, so
    that the database reads it while this process writes the chunk out (one query at a time still, on the one
    connection and snapshot: the next is sent only once the last has answered); a reader who leaves mid-way
    has the query ahead cancelled before the connection goes back."""
    found = await fetch(None)
    while True:
        ahead = asyncio.ensure_future(fetch(key(found[-1]))) if len(found) == CHUNK else None
        try:
            if ahead is not None:
                await asyncio.sleep(0)  # (its query on its way before this chunk is written out)
            if found:
                yield found
            if ahead is None:
                return
            found = await ahead
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()
                await asyncio.wait([ahead])
                if not ahead.cancelled():
                    ahead.exception()  # (retrieved: a failure of a chunk no one reads is no one's error)


def _jsonl(rows: list[Row]) -> bytes:
    return b"".join(msgspec.json.encode(r) + b"\n" for r in rows)


def _rendered(rows: list[Row]) -> bytes:
    """Rows PostgreSQL rendered in JSON (`line`), one a line, their whitespace taken out (as `_jsonl` writes)."""
    return "".join(msgspec.json.format(r["line"], indent=-1) + "\n" for r in rows).encode()


class _Source(NamedTuple):
    """What an export of one type reads: its CSV header (None for JSON Lines), its chunks (`fetch(after)`: up to
    CHUNK stored rows after the keyset `after`, None first), a stored row's keyset, a stored row as an import row,
    an import row as the cells of the header (each made once the header is known); `rendered`: the chunks' rows
    are import rows as PostgreSQL rendered them in JSON (`key`, `line`: store.as_json_lines), for JSON Lines."""

    header: list[str] | None
    fetch: Callable[[Any], Awaitable[list[Row]]]
    key: Callable[[Row], Any]
    row: Callable[[Row], Row]
    cells: Callable[[Row], list[str]]
    rendered: bool = False


async def _source(
    conn: asyncpg.Connection, viewer: Principal, kind: ImportType, path: str | None, tabular: bool
) -> _Source:
    """What an export of `kind` reads, and in which order: each type's rows as its import takes them."""
    if kind == "skus":  # in sku order
        if not tabular:
            return _Source(
                None, lambda after: store.list_export_sku_lines(conn, path, after, CHUNK), _key, _same, _no_cells, True
            )
        sku_cols = await store.list_export_sku_columns(conn, path)
        header: list[str] | None = skus.export_header(sku_cols.axes, sku_cols.attributes)
        return _Source(
            header,
            lambda after: store.list_export_skus(conn, path, after, CHUNK),
            lambda r: r["sku"],
            _same,
            skus.export_cells(header or []),
        )
    if kind == "stock":  # stock levels by SKU, warehouse and bin, as count rows of what is on hand
        return _Source(
            list(counts.REQUIRED),
            lambda after: store.list_export_counts(conn, path, after, CHUNK),
            lambda r: (r["sku"], r["warehouse"], r["location"]),
            counts.export_row,
            lambda r: [str(r[c]) for c in counts.REQUIRED],
        )
    if kind == "categories":
        # parents before their children (by tree, then positions from the root down): re-imported in this order
        # each lands where it was
        header = categories.export_header(await store.list_export_category_locales(conn, path)) if tabular else None
        return _Source(
            header,
            lambda after: store.list_export_categories(conn, path, after, CHUNK),
            lambda r: (r["tree"], r["ord"]),
            categories.export_row,
            lambda r: categories.export_cells(header or [], r),
        )
    if kind == "attributes":  # in code order, with their options (every attribute: no category)
        header = attributes.export_header(*await store.list_export_attribute_columns(conn)) if tabular else None

        async def fetch(after: str | None) -> list[Row]:
            # the attribute list's own use case (GET /v1/attributes), a page a chunk
            cursor = None if after is None else encode_cursor([after])
            page = await attribute_service.list_attributes(
                conn, group=None, type_=None, visibility=None, filterable=None, limit=CHUNK, cursor=cursor
            )
            return [attributes.export_row(a) for a in page.items]

        return _Source(header, fetch, lambda r: r["code"], _same, lambda r: attributes.export_cells(header or [], r))
    if kind == "attribute_sets":  # the categories with an own binding, in code order
        header = attribute_sets.export_header(await store.list_export_set_stages(conn, path)) if tabular else None
        return _Source(
            header,
            lambda after: store.list_export_attribute_sets(conn, path, after, CHUNK),
            lambda r: r["category"],
            attribute_sets.export_row,
            lambda r: attribute_sets.export_cells(header or [], r),
        )
    if kind == "supplier_terms":  # by product and supplier
        return _Source(
            list(supplier_terms.COLUMNS),
            lambda after: store.list_export_terms(conn, path, after, CHUNK),
            lambda r: (r["product"], r["supplier"]),
            supplier_terms.export_row,
            supplier_terms.export_cells,
        )
    if kind == "prices":  # by SKU, kind, currency and start; only the kinds the viewer may read
        kinds = list(visible_kinds(viewer))
        return _Source(
            list(prices.COLUMNS),
            lambda after: store.list_export_prices(conn, path, kinds, after, CHUNK),
            lambda r: (r["sku"], r["kind"], r["currency"], r["valid_from"]),
            prices.export_row,
            prices.export_cells,
        )
    # products in code order (a viewer who does not see confidential data gets none)
    confidential = viewer.sees_confidential
    if not tabular:
        return _Source(
            None,
            lambda after: store.list_export_product_lines(conn, path, confidential, after, CHUNK),
            _key,
            _same,
            _no_cells,
            True,
        )
    cols = await store.list_export_columns(conn, path, confidential)
    header = formats.export_header(cols.labels, cols.description, cols.selling_points, cols.attributes)
    return _Source(
        header,
        lambda after: store.list_export_products(conn, path, confidential, after, CHUNK),
        lambda r: r["code"],
        _same,
        formats.export_cells(header),
    )


def _same(row: Row) -> Row:
    return row


def _key(row: Row) -> Any:
    return row["key"]


def _no_cells(row: Row) -> list[str]:
    raise AssertionError("a rendered chunk has no cells")


async def _chunks(source: Callable[[], Awaitable[_Source]], table: _Table | None) -> AsyncGenerator[bytes, None]:
    """An export's bytes, a keyset chunk at a time: first its header (empty for JSON Lines), once the columns it
    names are read, then each chunk's rows as the import takes them."""
    kind = await source()
    header = kind.header or []
    yield b"" if table is None else table.rows([header])
    pages = _pages(kind.fetch, kind.key)
    async with aclosing(pages):
        async for found in pages:
            if kind.rendered:
                yield _rendered(found)
                continue
            rows = [kind.row(r) for r in found]
            yield _jsonl(rows) if table is None else table.rows([kind.cells(r) for r in rows])


def _csv_line(cells: list[str], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


async def report_bytes(errors: AsyncIterator[RowError], fmt: ReportFormat) -> AsyncIterator[bytes]:
    """An import's per-row report as JSON Lines or CSV."""
    if fmt == "csv":
        yield _csv_line(REPORT_COLUMNS, bom=True)
    async for e in errors:
        if fmt == "csv":
            yield _csv_line([str(e.line), e.column or "", e.pointer or "", e.code, e.message])
        else:
            yield msgspec.json.encode(e) + b"\n"


async def open_export(
    connect: Connect, viewer: Principal, kind: ImportType, category: str | None, fmt: FileFormat
) -> Resumed:
    """Choose where the export reads, check what it names and read its first chunk — before anything is sent —
    then hand back its bytes to stream."""
    body = export(connect, viewer, kind, category, fmt)
    return Resumed(await anext(body), body)


class Resumed:
    """An export's bytes: the first chunk, read before anything was sent, then the rest. `aclose` ends the read
    where it stands — the connection and its snapshot go back at once when a client leaves mid-way (the
    stream's caller calls it; an async generator left suspended would hold them until the collector found it)."""

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes, None]) -> None:
        self._first: bytes | None = first
        self._rest = rest

    def __aiter__(self) -> Resumed:
        return self

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return await anext(self._rest)

    async def aclose(self) -> None:
        await self._rest.aclose()
