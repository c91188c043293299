"""Bulk imports of products, SKUs, prices and stock counts: the upload (streamed, each row checked by the API's
rules and COPied into a staging table a batch at a time), the run (the job runner applies the staged rows
set-based in chunks), and the per-row report.

Modes: `all_or_nothing` (the default) applies every chunk in one transaction, and nothing at all when any
row was rejected; `valid_rows` applies the good rows, a chunk per transaction, and reports the others.
A retried upload with the same Idempotency-Key and body is one import: the retry answers the first job.
Audit records of the products an import writes carry its id (`GET /v1/audit?import=<id>`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec

from domain.errors import IdempotencyKeyReused, InvalidIdempotencyKey
from domain.imports import counts, formats, kinds, overlap, rows, store, xlsx
from domain.imports.formats import Header
from domain.imports.model import (
    MEDIA_TYPES,
    TYPES,
    FileFormat,
    ImportMode,
    ImportRun,
    ImportType,
    InvalidUpload,
    RowError,
    RowFault,
    UnsupportedImportFormat,
    check_importer,
)
from domain.imports.overlap import Overlap
from domain.imports.report import check_import, open_report, report
from domain.imports.staging import Upload
from domain.jobs.model import Job
from domain.jobs.service import get_job
from domain.keys.model import Principal

log = logging.getLogger("merchflow.imports")

__all__ = ["check_import", "finish_overlapped", "open_report", "report", "run_import", "start_import"]
finish_overlapped = overlap.finished  # (the job runner waits for the imports this process finishes itself)

# Product rows read before they are checked: the attribute sets of the categories they name that were not read
# yet are read in one query (a query for each category was a round trip each: 200 of a 10,000-row file)
BLOCK_ROWS, BLOCK_BYTES = 500, 1 << 20
CHUNK = 5_000  # lines applied per statement
STAGED_STATISTICS_MIN = 1_000  # staged rows from which the staging table is analysed before a job reads them


class _Hashing:
    """The body's chunks, passed on while they are hashed (the Idempotency-Key compares bodies)."""

    def __init__(self, chunks: AsyncIterator[bytes], prefix: str) -> None:
        self.chunks = chunks
        self.hash = hashlib.sha256(prefix.encode())

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.hash.update(chunk)
            yield chunk


def format_of(media_type: str) -> FileFormat:
    found = MEDIA_TYPES.get(media_type.lower())
    if found is None:
        raise UnsupportedImportFormat(media_type)
    return found


async def start_import(
    conn: asyncpg.Connection,
    actor: Principal,
    *,
    kind: ImportType,
    mode: ImportMode,
    media_type: str,
    idempotency_key: str | None,
    body: AsyncIterator[bytes],
    line_flaw: rows.LineFlaw,
    pool: Any = None,
) -> tuple[Job, bool]:
    """Read an upload as it streams in, check every row and stage it; then queue the import for the runner.
    Answers (the job, whether it is the replay of an earlier upload with the same Idempotency-Key).
    `pool` (connections besides `conn`): an all_or_nothing products file is applied while it is read
    (domain/imports/overlap.py), and its run finished here (`finish_overlapped`), not queued."""
    check_importer(actor, kind)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidIdempotencyKey()
    fmt = format_of(media_type)
    job_id = await store.insert_import_job(conn, actor.name, mode, fmt, actor.sees_confidential, kind)
    hashed = _Hashing(body, f"{kind}\n{mode}\n{fmt}\n")
    early = None
    if pool is not None and kind == "products" and mode == "all_or_nothing":
        early = Overlap(pool, job_id, actor.name, actor.sees_confidential)
    # (a products file is staged behind its reading: nothing else uses the connection meanwhile but the reading of
    # attribute sets, which waits for the pending write)
    upload = Upload(conn, job_id, behind=kind == "products", overlap=early)
    try:
        if kind == "products":
            await _read_products(conn, upload, fmt, aiter(hashed), line_flaw)
        else:
            checker = await kinds.checker(conn, actor, kind)
            await _read_with(checker, upload, fmt, aiter(hashed), line_flaw, TYPES[kind].code_field)
        if early is not None:
            early.read_all()  # (the last batch is applied by the run: nothing is left to overlap it with)
        await upload.flush()
        await upload.settle()
        if early is not None:
            await early.end()
    except InvalidUpload:
        await upload.abandon()
        if early is not None:
            await early.abandon()
        await store.delete_import_job(conn, job_id)
        raise
    except BaseException as exc:  # the client went away, the body was too large, the task was cancelled
        await upload.abandon()
        if early is not None:
            await early.abandon()  # (before the job says interrupted: nothing of it stays)
        await _interrupted(conn, job_id, exc)
        raise
    fingerprint = hashed.hash.digest()
    prior = None
    try:
        async with conn.transaction():
            if idempotency_key is not None:
                await store.lock_import_key(conn, actor.name, idempotency_key)
                prior = await store.get_import_by_key(conn, actor.name, idempotency_key)
            if prior is None:
                queued = (upload.read, upload.rejected)
                if early is not None and early.open:  # (claimed here: this process holds its transaction)
                    await store.update_import_running(conn, job_id, idempotency_key, fingerprint, *queued)
                else:
                    await store.update_import_queued(conn, job_id, idempotency_key, fingerprint, *queued)
                job = await get_job(conn, job_id)
        if prior is None:
            if early is not None and early.open:
                overlap.finish(job_id, run_import(pool, job_id, early))
                early = None
            return job, False
    finally:
        if early is not None:
            await early.abandon()
    await store.delete_import_job(conn, job_id)  # a retry: the first upload's import is the one
    if prior[1] != fingerprint:
        raise IdempotencyKeyReused()
    return await get_job(conn, prior[0]), True


async def _read_products(
    conn: asyncpg.Connection, upload: Upload, fmt: FileFormat, body: AsyncIterator[bytes], flaw: rows.LineFlaw
) -> None:
    catalog = await rows.Catalog.load(conn)
    if fmt == "jsonl":
        block: list[rows.Decoded | tuple[rows.Staged, list[RowFault]]] = []
        size = 0
        async for line, raw in formats.jsonl_lines(body):
            block.append(rows.read_jsonl(line, raw, flaw))
            size += len(raw) if isinstance(raw, bytes) else 0
            if len(block) >= BLOCK_ROWS or size >= BLOCK_BYTES:
                await _check_block(conn, upload, catalog, block)
                block, size = [], 0
        await _check_block(conn, upload, catalog, block)
        return
    header: Header | None = None
    sheet: xlsx.SheetColumns | None = None
    block, size = [], 0
    async for line, cells in xlsx.records(fmt, body):
        if header is None:
            header = formats.read_header(cells, catalog.attributes)
            sheet = await xlsx.sheet_columns(upload.conn, upload.job_id, fmt, cells, "code")
            continue
        block.append(_read_record(header, sheet, line, cells))
        size += sum(len(c) for c in cells)
        if len(block) >= BLOCK_ROWS or size >= BLOCK_BYTES:
            await _check_block(conn, upload, catalog, block)
            block, size = [], 0
    await _check_block(conn, upload, catalog, block)


def _read_record(
    header: Header, sheet: xlsx.SheetColumns | None, line: int, cells: list[str]
) -> rows.Decoded | tuple[rows.Staged, list[RowFault]]:
    """Read one CSV or XLSX record: as an API body (each error's column found by the header, named as the sheet
    names it), or rejected as a whole (cells that do not fit the header, a NUL)."""
    fitted = sheet.fit(line, cells) if sheet else cells
    if isinstance(fitted, RowFault):
        return rows.rejected(line, None), [fitted]
    unreadable = _record_fault(len(header.columns), fitted)
    if unreadable is not None:
        return rows.rejected(line, None), [unreadable]
    body, sources = header.row(fitted)

    def column_of(pointer: str | None) -> str | None:
        column = header.column_of(pointer, sources)
        return column if column is None or sheet is None else sheet.label(column)

    return rows.Decoded(line, None, body, column_of)


async def _check_block(
    conn: asyncpg.Connection,
    upload: Upload,
    catalog: rows.Catalog,
    block: list[rows.Decoded | tuple[rows.Staged, list[RowFault]]],
) -> None:
    """Check a block of product rows in line order, their categories' attribute sets read first."""
    missing = catalog.missing({c for r in block if isinstance(r, rows.Decoded) and (c := r.category())})
    if missing:
        await upload.settle()  # (the connection is free once the batch staged behind is)
        await catalog.read_sets(conn, missing)
    for row in block:
        await upload.add(*(await rows.check_decoded(conn, catalog, row) if isinstance(row, rows.Decoded) else row))


async def _read_with(
    checker: kinds.Checker[kinds.H],
    upload: Upload,
    fmt: FileFormat,
    body: AsyncIterator[bytes],
    flaw: rows.LineFlaw,
    code_field: str,
) -> None:
    if fmt == "jsonl":
        async for line, raw in formats.jsonl_lines(body):
            unreadable = rows.line_fault(raw, flaw)
            if unreadable is not None or isinstance(raw, formats.TooLarge):
                await upload.add(rows.rejected(line, None), [unreadable] if unreadable else [])
            else:
                await upload.add(*await checker.jsonl(line, raw))
        return
    header: kinds.H | None = None
    sheet: xlsx.SheetColumns | None = None
    async for line, cells in xlsx.records(fmt, body):
        if header is None:
            header = checker.header(cells)
            sheet = await xlsx.sheet_columns(upload.conn, upload.job_id, fmt, cells, code_field)
            continue
        fitted = sheet.fit(line, cells) if sheet else cells
        if isinstance(fitted, RowFault):
            await upload.add(rows.rejected(line, None), [fitted])
            continue
        unreadable = _record_fault(header.width, fitted)
        if unreadable is not None:
            await upload.add(rows.rejected(line, None), [unreadable])
        else:
            staged, faults = await checker.csv(header, line, fitted)
            await upload.add(staged, sheet.relabel(faults) if sheet else faults)


async def _interrupted(conn: asyncpg.Connection, job_id: int, exc: BaseException) -> None:
    try:
        await store.update_import_interrupted(
            conn, job_id, f"The upload stopped before its end ({type(exc).__name__})."
        )
    except Exception:  # the connection itself may be what failed: the job stays `receiving` for housekeeping
        log.warning("import %s: could not record the interrupted upload", job_id)


def _record_fault(width: int, cells: list[str]) -> RowFault | None:
    """What makes a CSV record unreadable as a row: not as many cells as the header has columns, a NUL."""
    if len(cells) != width:
        message = f"The record has {len(cells)} cells; the header has {width} columns."
        return RowFault(pointer=None, column=None, code="ragged_row", message=message)
    if any("\x00" in c for c in cells):
        message = "A cell holds a NUL character, which text cannot hold."
        return RowFault(pointer=None, column=None, code="invalid_characters", message=message)
    return None


ABANDONED_MINUTES = 10  # an upload's request sends a heartbeat every batch of rows


async def forget_old_uploads(conn: asyncpg.Connection, key_hours: int) -> None:
    """Housekeeping: fail uploads whose process went away mid-upload, and forget Idempotency-Keys older than
    `key_hours` (the jobs and their reports stay)."""
    await store.update_imports_abandoned(conn, ABANDONED_MINUTES)
    await store.update_import_keys_expired(conn, key_hours)


# ------------------------------------------------------------------------------------------------- run


async def run_import(pool: Any, job_id: int, early: Overlap | None = None) -> None:
    """Run a queued import: reject duplicate codes, then apply the good rows in chunks (all in one transaction
    for all_or_nothing, which applies nothing when any row was rejected). Staged rows are removed at the end;
    the report stays. Re-running a run that stopped is safe: rows already applied are unchanged rows.
    `early`: the transaction that applied the file's first lines during its upload, continued here."""
    try:
        async with pool.acquire() as conn:
            run = await store.get_import(conn, job_id)
            assert run is not None, f"job {job_id} is not an import"
            try:
                await _run(pool, conn, run, early)
            except Exception as exc:
                await store.update_import_finished(conn, job_id, "failed", "failed", f"{type(exc).__name__}: {exc}")
                raise
    finally:
        if early is not None:
            await early.close()


async def _run(pool: Any, conn: asyncpg.Connection, run: ImportRun, early: Overlap | None = None) -> None:
    spec = TYPES[run.type]
    await store.update_staged_statistics(conn, run.id, STAGED_STATISTICS_MIN)
    if spec.unique_codes:
        await store.insert_duplicate_errors(conn, run.id, run.format, spec.noun, spec.code_field, run.code_column)
    if run.type == "skus":
        await store.insert_sku_conflict_errors(conn, run.id, run.format)
    elif run.type == "prices":
        await store.update_price_import_rows(conn, run.id, run.format)
    counts = await store.count_import_rows(conn, run.id)
    if run.mode == "all_or_nothing" and counts.rejected:
        await store.update_import_phase(conn, run.id, "rejected", counts.good, counts.rejected)
        error = f"{counts.rejected} row(s) rejected: nothing was applied (mode all_or_nothing); see the report."
        await store.update_import_finished(conn, run.id, "failed", "rejected", error)
        return
    await store.update_import_phase(conn, run.id, "applying", counts.good, counts.rejected)
    bounds = range(1, counts.last_line + 1, CHUNK)
    if early is not None and early.conn is not None:
        # the file's first lines were applied during the upload, their derived data left to the next chunk
        log.info("import %s: lines 1-%s of %s applied during the upload", run.id, early.next - 1, counts.last_line)
        await store.update_import_progress(conn, run.id, early.applied, early.unchanged)
        for low in range(early.next, counts.last_line + 1, CHUNK):
            applied, unchanged, _ = await _chunk(early.conn, run, low)
            await store.update_import_progress(conn, run.id, applied, unchanged)
        await early.commit()  # (a file applied whole during the upload: its derived data refreshed at the commit)
    elif run.mode == "all_or_nothing":
        # one transaction for every chunk; progress is told on another connection (this one's writes are
        # invisible until it commits). Rows the ledger refuses (stock counts) undo it all, then are reported.
        refused: list[RowError] = []
        try:
            async with pool.acquire() as progress, conn.transaction():
                for low in bounds:
                    applied, unchanged, errors = await _chunk(conn, run, low)
                    refused += errors
                    await store.update_import_progress(progress, run.id, applied, unchanged)
                if refused:
                    raise _Refused()
        except _Refused:
            await store.update_import_phase(conn, run.id, "rejected", counts.good, counts.rejected)
            await store.update_import_rows_refused(conn, run.id, refused)
            rejected = counts.rejected + len({e.line for e in refused})
            error = f"{rejected} row(s) rejected: nothing was applied (mode all_or_nothing); see the report."
            await store.update_import_finished(conn, run.id, "failed", "rejected", error)
            return
    else:
        for low in bounds:
            async with conn.transaction():
                applied, unchanged, errors = await _chunk(conn, run, low)
                if errors:
                    await store.update_import_rows_refused(conn, run.id, errors)
            await store.update_import_progress(conn, run.id, applied, unchanged)
    await store.update_import_finished(conn, run.id, "done", "done", None)


class _Refused(Exception):
    """The ledger refused rows of an all_or_nothing import: nothing of it may stay."""


async def _chunk(conn: asyncpg.Connection, run: ImportRun, low: int) -> tuple[int, int, list[RowError]]:
    """Apply a chunk of lines: (rows applied, rows unchanged, rows the ledger or the API refused)."""
    through_api = kinds.THROUGH_API.get(run.type)
    if through_api is not None:
        return await through_api(conn, run, low, low + CHUNK)
    if run.type == "stock":
        found = await store.list_import_movements(conn, run.id, low, low + CHUNK)
        answers = await store.insert_movements(
            conn, run.actor, [counts.request(run.id, line, movement) for line, movement in found]
        )
        refused: list[RowError] = []
        for (line, _), answer in zip(found, answers, strict=True):
            if "refused" in answer:
                problem = msgspec.json.decode(answer["refused"]["message"])
                refused += counts.refused(line, problem, run.format == "csv")
        replayed = sum(1 for a in answers if a.get("response", {}).get("replayed"))
        return len(found) - len({e.line for e in refused}) - replayed, replayed, refused
    if run.type == "skus":
        created, updated, unchanged = await store.update_skus_from_import(conn, run.id, low, low + CHUNK, run.actor)
    elif run.type == "prices":
        created, updated, unchanged = await store.update_prices_from_import(conn, run.id, low, low + CHUNK, run.actor)
        updated = 0  # (a period a new price closes is part of recording it, not a row of the file)
    else:
        created, updated, unchanged = await store.update_products_from_import(
            conn, run.id, low, low + CHUNK, run.actor, run.sees_confidential
        )
    return created + updated, unchanged, []
