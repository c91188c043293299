"""The scale catalog through the front door (`merch seed scale`): its structure through the API's own upserts,
then each import file (domain/seed/catalog.py) through the import path — the upload's checks, the job, the
runner's chunks, derived data current when the job is done — exactly as `POST /v1/imports` and the job runner
take a user's file; then the complete products listed through the lifecycle's gates.

A file the import rejects stops the seed: it is imported `all_or_nothing`, so nothing of that file is applied
(the files before it stay), and the first rejected rows are named.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from domain.imports import service as imports
from domain.imports.model import ImportType, RowError
from domain.imports.rows import LineFlaw
from domain.jobs.model import Job
from domain.jobs.service import get_job, run_pending
from domain.keys.model import Principal
from domain.seed import store
from domain.seed.catalog import Listed, Structure, sku_code
from domain.seed.model import SeedRejected
from domain.stages.lifecycle import transition
from domain.stages.model import TransitionBody
from domain.stock import service as stock
from domain.stock.model import Movement, MovementRequest
from domain.suppliers import service as suppliers
from domain.suppliers.model import SupplierFields
from domain.trees import service as trees
from domain.trees.model import TreeFields
from domain.vocabularies import service as vocabularies
from domain.vocabularies.model import SERIES, TermFields
from domain.warehouses import service as warehouses
from domain.warehouses.model import LocationFields, WarehouseFields

# Who the seed acts as: its audit records and imports name it.
SEEDER = Principal(name="merch-seed", roles=frozenset({"admin"}))
UPLOAD_BLOCK = 1 << 20
WATCH_SECONDS = 0.5  # how often a running import's job is read for the progress line
REJECTS_SHOWN = 10
LIFECYCLE = ("sourced", "stocked", "listed")
BATCH = 500  # products listed per round (their receipts one request of the ledger)


async def stored_epoch(conn: asyncpg.Connection) -> datetime | None:
    """When the seeded catalog's prices start (its first SKU's sale price), or None: a seed run again over it
    writes the same periods, which change nothing."""
    found = await store.get_scale_epoch(conn, sku_code(1))
    return found


async def write_structure(conn: asyncpg.Connection, structure: Structure) -> int:
    """Trees, series, suppliers, warehouses and bins through the API's upserts (a stored one left as it is
    when identical); answers how many."""
    count = 0
    for code, labels, levels in structure.trees:
        await trees.put_tree(conn, SEEDER, code, TreeFields(labels=labels, level_names=levels), None)
        count += 1
    for code, labels in structure.series:
        await vocabularies.put_term(conn, SEEDER, SERIES, code, TermFields(labels=labels), None)
        count += 1
    for code, tier, labels in structure.suppliers:
        await suppliers.put_supplier(conn, SEEDER, code, SupplierFields(type=tier, labels=labels), None)  # type: ignore[arg-type]
        count += 1
    for code, labels, bins in structure.warehouses:
        await warehouses.put_warehouse(conn, SEEDER, code, WarehouseFields(labels=labels), None)
        for location, zone, sequence in bins:
            fields = LocationFields(zone=zone, pick_sequence=sequence)
            await warehouses.put_location(conn, SEEDER, code, location, fields, None)
        count += 1 + len(bins)
    return count


async def _blocks(path: Path, on_read: Callable[[int, int], None]) -> AsyncIterator[bytes]:
    """The file as an upload's body: read a block at a time, telling (bytes read, bytes in all)."""
    total = path.stat().st_size
    sent = 0
    with path.open("rb") as file:
        while block := file.read(UPLOAD_BLOCK):
            sent += len(block)
            on_read(sent, total)
            yield block


async def load_file(
    pool: Any,
    kind: ImportType,
    path: Path,
    *,
    line_flaw: LineFlaw,
    on_upload: Callable[[int, int], None],
    on_job: Callable[[Job], None],
    job_workers: int = 2,
) -> Job:
    """Import one file as `POST /v1/imports?type=<kind>` does (all_or_nothing), then run the job runner until
    the import is done; answers the finished job. A rejected row raises `SeedRejected` with the first ones."""
    async with pool.acquire() as conn:
        job, _ = await imports.start_import(
            conn,
            SEEDER,
            kind=kind,
            mode="all_or_nothing",
            media_type="application/x-ndjson",
            idempotency_key=None,
            body=_blocks(path, on_upload),
            line_flaw=line_flaw,
        )
    on_job(job)
    watcher = asyncio.get_running_loop().create_task(_watch(pool, job.id, on_job))
    try:
        # The runner runs every queued job: this import, and the recomputes that structure imports queue.
        # A running `merch serve` on the same database may claim the import first: its end is awaited then.
        await run_pending(pool, workers=job_workers)
        job = await _finished(pool, job.id)
    finally:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher  # (an error of the watch is raised, not lost with the task)
    on_job(job)
    if job.state != "done":
        raise SeedRejected(kind, path.name, job.error or "", await _first_rejects(pool, job.id))
    return job


async def _watch(pool: Any, job_id: int, on_job: Callable[[Job], None]) -> None:
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        async with pool.acquire() as conn:
            on_job(await get_job(conn, job_id))


async def _finished(pool: Any, job_id: int) -> Job:
    while True:
        async with pool.acquire() as conn:
            job = await get_job(conn, job_id)
        if job.state in ("done", "failed"):
            return job
        await asyncio.sleep(WATCH_SECONDS)  # another process's runner has it: wait for its end
        await run_pending(pool)


async def _first_rejects(pool: Any, job_id: int) -> list[RowError]:
    shown: list[RowError] = []
    async for error in imports.report(pool, job_id):
        shown.append(error)
        if len(shown) == REJECTS_SHOWN:
            break
    return shown


async def list_products(pool: Any, products: list[Listed], *, on_progress: Callable[[int], None] | None = None) -> int:
    """Receive each product's stock (`POST /v1/stock/movements`, a batch at a time) unless it is stocked already,
    then move it through sourced, stocked and listed as `POST /v1/products/{code}/transitions` does, each gate
    checked; a product listed already is left as it is. Answers how many moved."""
    moved = 0
    async with pool.acquire() as conn:
        for start in range(0, len(products), BATCH):
            batch = products[start : start + BATCH]
            found = dict(await store.list_lifecycles(conn, [p.product for p in batch]))
            todo = [p for p in batch if found.get(p.product) in ("draft", "sourced", "stocked")]
            receipts = [
                Movement(type="receive", sku=p.sku, qty=p.qty, warehouse=p.warehouse, location=p.location)
                for p in todo
                if found[p.product] != "stocked"
            ]
            if receipts:
                # (keyed by what it receives: a run that stopped after this batch and before its transitions
                # replays the receipt when run again, instead of receiving the units twice)
                key = "seed-receipt-" + hashlib.sha256(" ".join(m.sku for m in receipts).encode()).hexdigest()[:32]
                await stock.post_movements(conn, SEEDER, MovementRequest(movements=receipts), key)
            for p in todo:
                now = found[p.product]
                for target in LIFECYCLE[LIFECYCLE.index(now) + 1 if now in LIFECYCLE else 0 :]:
                    await transition(conn, SEEDER, p.product, TransitionBody(to=target), None)  # type: ignore[arg-type]
                moved += 1
            if on_progress is not None:
                on_progress(start + len(batch))
    return moved


class Loaded(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the seed in the summary: what, how many rows, how long."""

    step: str
    rows: int
    seconds: float
    in_total: bool = True  # (the files' writing: its rows are those loaded after it)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def elapsed(started: float) -> float:
    return time.perf_counter() - started
