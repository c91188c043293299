"""`merch seed scale`: the scale catalog written as import files and loaded through the import path
(domain/seed/front.py), with the import CLI's progress line on standard error and a summary per file; or,
with `--direct`, the benchmarks' direct writer (domain/seed/scale.py), which bypasses every rule.

The files go to `--out DIR` (default: a temporary folder) and are removed once loaded unless `--keep-files`;
when a file is rejected they stay, for a look at the rows named.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import msgspec

from api import bulk, db, guard, migrate
from api.settings import Settings
from domain.imports.model import ImportType
from domain.jobs.model import Job
from domain.seed import front
from domain.seed.catalog import KINDS, Catalog
from domain.seed.files import file_name, write_files
from domain.seed.front import Loaded, elapsed
from domain.seed.model import CatalogNotEmpty, InvalidCount
from domain.seed.service import is_catalog_empty


def run(args: argparse.Namespace, settings: Settings) -> int:
    """`merch seed scale` through the import path; the exit status."""
    return asyncio.run(_seed(args, settings))


async def _seed(args: argparse.Namespace, settings: Settings) -> int:
    if args.products < 1:
        raise InvalidCount()
    started = time.perf_counter()
    dsn, _server = await db.prepare_database(settings)  # (the handle keeps an embedded server up until we end)
    await db.on_connection(dsn, migrate.migrate)
    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="merch-seed-"))
    pool = await db.create_pool(dsn, settings)
    try:
        steps = await seed_scale(
            pool,
            products=args.products,
            seed=1 if args.seed is None else args.seed,
            folder=folder,
            force=args.force,
            skip=frozenset(args.skip or ()),
            out=bulk.Progress(sys.stderr),
            job_workers=settings.job_workers,
        )
    finally:
        await pool.close()
    if not args.keep_files:
        if args.out:
            for position, kind in enumerate(KINDS):
                (folder / file_name(position, kind)).unlink(missing_ok=True)
        else:
            shutil.rmtree(folder)
    print(summary(steps, elapsed(started)))
    return 0


async def seed_scale(
    pool: asyncpg.Pool,
    *,
    products: int,
    seed: int,
    folder: Path,
    force: bool,
    out: bulk.Progress,
    job_workers: int = 2,
    skip: frozenset[str] = frozenset(),
    tamper: Callable[[Path], None] | None = None,
    floor: bool = True,
) -> list[Loaded]:
    """Write the scale catalog's files (but those of the types in `skip`) into `folder` and load them (a
    database holding a catalog only with `force`); answers the steps. `tamper` (tests: a corrupted file) sees
    the folder before anything is loaded; `floor` False (tests) scales the structure down with a small count. A
    rejected file raises `SeedRejected`: the files stay in `folder`."""
    steps: list[Loaded] = []
    async with pool.acquire() as conn:
        if not force and not await is_catalog_empty(conn):
            raise CatalogNotEmpty()
        catalog = Catalog(products, seed=seed, epoch=await front.stored_epoch(conn), floor=floor)
        s = catalog.shape
        out.show(
            f"scale catalog: {s.products:,} products, {s.categories:,} categories, {s.attributes:,} attributes "
            f"(seed {seed})",
            final=True,
        )
        begun = time.perf_counter()
        count = await front.write_structure(conn, catalog.structure())
        steps.append(Loaded(step="structure (trees, series, suppliers, bins)", rows=count, seconds=elapsed(begun)))
    begun = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, path, rows in write_files(catalog, folder, skip):
        written.append((kind, path, rows))
        out.show(f"writing files · {path.name} · {rows:,} rows · {elapsed(begun):,.1f} s")
    size = sum(path.stat().st_size for _, path, _ in written)
    out.show(f"wrote {len(written)} files, {bulk._size(size)}, in {elapsed(begun):,.1f} s: {folder}", final=True)
    total = sum(r for _, _, r in written)
    steps.append(Loaded(step="writing the files", rows=total, seconds=elapsed(begun), in_total=False))
    if tamper is not None:
        tamper(folder)
    for kind, path, rows in written:
        steps.append(await _load(pool, kind, path, rows, out, job_workers))
    begun = time.perf_counter()
    listing = catalog.listed()

    def listed(done: int) -> None:
        out.show(f"lifecycle · {done:,} of {len(listing):,} products through sourced, stocked, listed")

    moved = await front.list_products(pool, listing, on_progress=listed)
    out.show(f"lifecycle · {moved:,} products listed", final=True)
    steps.append(Loaded(step="listing products (3 transitions each)", rows=moved, seconds=elapsed(begun)))
    return steps


async def _load(pool: asyncpg.Pool, kind: str, path: Path, rows: int, out: bulk.Progress, workers: int) -> Loaded:
    begun = time.perf_counter()

    def uploaded(sent: int, total: int) -> None:
        share = f" {sent * 100 // total}%" if total else ""
        out.show(f"{path.name} · reading{share} · {bulk._size(sent)} of {bulk._size(total)}")

    def watched(job: Job) -> None:
        out.show(f"{path.name} · {bulk.job_line(msgspec.to_builtins(job))}")

    job = await front.load_file(
        pool,
        _import_type(kind),
        path,
        line_flaw=guard.body_flaw,
        on_upload=uploaded,
        on_job=watched,
        job_workers=workers,
    )
    seconds = elapsed(begun)
    out.show(f"{path.name} · {bulk.job_line(msgspec.to_builtins(job))} · {seconds:,.1f} s", final=True)
    assert job.rows is not None
    return Loaded(step=path.name, rows=rows, seconds=seconds)


def _import_type(kind: str) -> ImportType:
    assert kind in KINDS
    return kind  # type: ignore[return-value]


def summary(steps: list[Loaded], total: float) -> str:
    """The summary table: each step's rows, seconds and rows a second, then the total."""
    width = max(len(s.step) for s in steps)
    lines = [f"{'step':<{width}}  {'rows':>12}  {'seconds':>9}  {'rows/s':>10}"]
    for s in steps:
        lines.append(f"{s.step:<{width}}  {s.rows:>12,}  {s.seconds:>9,.1f}  {s.rate:>10,.0f}")
    rows = sum(s.rows for s in steps if s.in_total)
    lines.append(f"{'total':<{width}}  {rows:>12,}  {total:>9,.1f}  {rows / total if total else 0:>10,.0f}")
    return "\n".join(lines)


# The options of the import path, which the direct writer has no use for (a shape of its own, no files).
IMPORT_PATH_OPTIONS = ("seed", "out", "keep_files", "force", "skip")


def direct_misuse(args: argparse.Namespace) -> str | None:
    """What is wrong with `merch seed scale --direct` given options of the import path (None: nothing)."""
    given = [f"--{o.replace('_', '-')}" for o in IMPORT_PATH_OPTIONS if getattr(args, o) not in (None, False)]
    if not args.direct or not given:
        return None
    return (
        f"{', '.join(given)}: options of the import path, which --direct does not take (it writes its own shape of "
        "catalog straight into the tables, once per database)"
    )


def add_arguments(scale: argparse.ArgumentParser) -> None:
    """The options of `merch seed scale`."""
    scale.add_argument("--products", type=int, default=100_000, help="how many products (default 100,000)")
    scale.add_argument("--seed", type=int, help="the random seed: the same seed, the same files (default 1)")
    scale.add_argument("--out", help="write the import files here (default: a temporary folder)")
    scale.add_argument(
        "--keep-files", action="store_true", help="keep the files once loaded (a rejected file's stay anyway)"
    )
    scale.add_argument(
        "--force",
        action="store_true",
        help="load into a database that holds a catalog already: every row is upserted by code, as an import "
        "does (rows identical to the stored ones change nothing; other rows with the seed's codes are replaced)",
    )
    scale.add_argument(
        "--skip",
        action="append",
        choices=[k for k in KINDS if k not in ("categories", "attributes", "products")],
        help="leave out one file (repeat for several): measure the others when one type is too slow at scale",
    )
    scale.add_argument(
        "--direct",
        action="store_true",
        help="the benchmarks' direct writer: the catalog written straight into the tables, bypassing every rule, "
        "the import path and the audit trail (fast; a shape of its own), once per database",
    )
