"""The only place that runs the imports' and exports' statements (sql/queries/imports.sql).

Longer than 400 lines: a binding and a thin function per statement of eight import types, their exports and
their jobs — split, the imports' statements would be run from two places."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from domain.attributes.values import AttributeDef
from domain.imports.model import ExportColumns, ImportCounts, ImportRun, RowError, SkuExportColumns
from domain.products.model import CategoryRef, ProductFields
from domain.skus.model import SkuOwner
from domain.sql import load

Q = load("imports")
INSERT_IMPORT_JOB = Q.insert_import_job.sql
UPDATE_IMPORT_RECEIVED = Q.update_import_received.sql
LOCK_IMPORT_KEY = Q.lock_import_key.sql
GET_IMPORT_BY_KEY = Q.get_import_by_key.sql
UPDATE_IMPORT_QUEUED = Q.update_import_queued.sql
UPDATE_IMPORT_RUNNING = Q.update_import_running.sql
UPDATE_IMPORT_INTERRUPTED = Q.update_import_interrupted.sql
DELETE_IMPORT_JOB = Q.delete_import_job.sql
UPDATE_IMPORT_CODE_COLUMN = Q.update_import_code_column.sql
GET_IMPORT = Q.get_import.sql
GET_IMPORT_TYPE = Q.get_import_type.sql
INSERT_DUPLICATE_ERRORS = Q.insert_duplicate_errors.sql
COUNT_IMPORT_ROWS = Q.count_import_rows.sql
UPDATE_IMPORT_PHASE = Q.update_import_phase.sql
UPDATE_PRODUCTS_FROM_IMPORT = Q.update_products_from_import.sql
UPDATE_PRODUCTS_DURING_UPLOAD = Q.update_products_during_upload.sql
UPDATE_IMPORT_PROGRESS = Q.update_import_progress.sql
UPDATE_IMPORT_FINISHED = Q.update_import_finished.sql
LIST_IMPORT_ERRORS = Q.list_import_errors.sql
LIST_CATEGORIES = Q.list_categories.sql
LIST_ROLES = Q.list_roles.sql
LIST_SERIES = Q.list_series.sql
LIST_ATTRIBUTES = Q.list_attributes.sql
# An export reads products as the product list does (GET /v1/products): its statements, not copies of them.
GET_CATEGORY_PATH = load("products").get_category_path.sql
LIST_PRODUCTS = load("products").list_products.sql
LIST_EXPORT_COLUMNS = Q.list_export_columns.sql
UPDATE_IMPORTS_ABANDONED = Q.update_imports_abandoned.sql
UPDATE_IMPORT_KEYS_EXPIRED = Q.update_import_keys_expired.sql
LIST_SKU_OWNERS = Q.list_sku_owners.sql
GET_SKU_OWNER = Q.get_sku_owner.sql
INSERT_SKU_CONFLICT_ERRORS = Q.insert_sku_conflict_errors.sql
UPDATE_SKUS_FROM_IMPORT = Q.update_skus_from_import.sql
LIST_EXPORT_SKUS = Q.list_export_skus.sql
LIST_EXPORT_SKU_COLUMNS = Q.list_export_sku_columns.sql
UPDATE_PRICE_IMPORT_ROWS = Q.update_price_import_rows.sql
UPDATE_STAGED_STATISTICS = Q.update_staged_statistics.sql
UPDATE_PRICES_FROM_IMPORT = Q.update_prices_from_import.sql
LIST_EXPORT_PRICES = Q.list_export_prices.sql
LIST_IMPORT_MOVEMENTS = Q.list_import_movements.sql
UPDATE_IMPORT_ROWS_REFUSED = Q.update_import_rows_refused.sql
LIST_EXPORT_COUNTS = Q.list_export_counts.sql
LIST_IMPORT_DOCS = Q.list_import_docs.sql
LIST_SUPPLIER_CODES = Q.list_supplier_codes.sql
IS_PRODUCT = Q.is_product.sql
LIST_TERMS_VERSIONS = Q.list_terms_versions.sql
UPDATE_REFRESH_PENDING = Q.update_refresh_pending.sql
LIST_EXPORT_TERMS = Q.list_export_terms.sql
LIST_ATTRIBUTE_SET_OWNERS = Q.list_attribute_set_owners.sql
LIST_EXPORT_ATTRIBUTE_SETS = Q.list_export_attribute_sets.sql
LIST_EXPORT_SET_STAGES = Q.list_export_set_stages.sql
LIST_ATTRIBUTE_GROUPS = Q.list_attribute_groups.sql
LIST_ATTRIBUTE_VERSIONS = Q.list_attribute_versions.sql
UPDATE_ATTRIBUTE_IMPORT_DERIVED = Q.update_attribute_import_derived.sql
LIST_EXPORT_ATTRIBUTE_COLUMNS = Q.list_export_attribute_columns.sql
# An upload of attributes refuses the codes of built-in information items (the stages' list of them).
LIST_INFORMATION_FIELDS = load("stages").list_information_fields.sql
UPDATE_AUDIT_IMPORT = Q.update_audit_import.sql
LIST_TREES = Q.list_trees.sql
LIST_CATEGORY_STATES = Q.list_category_states.sql
UPDATE_CATEGORY_IMPORT_DERIVED = Q.update_category_import_derived.sql
LIST_EXPORT_CATEGORY_LOCALES = Q.list_export_category_locales.sql
LIST_EXPORT_CATEGORIES = Q.list_export_categories.sql
# A stock count import applies its rows through the ledger's own statement (POST /v1/stock/movements').
INSERT_MOVEMENTS = load("stock").insert_movements.sql

ROW_COLUMNS = [
    "job_id",
    "line",
    "code",
    "ok",
    "category_id",
    "role_id",
    "tree_ids",
    "placement_ids",
    "series_ids",
    "doc",
]
# An export row is an import row: the code, then the writable fields of a product.
EXPORT_FIELDS = ("code", *ProductFields.__struct_fields__)


def as_json_lines(statement: str, key: str, fields: tuple[str, ...]) -> str:
    """`statement`'s rows as PostgreSQL renders them in JSON — the object of `fields`, in that order, as `line`
    — with their keyset column `key` as `key`: a JSON Lines export's chunk with no row decoded and encoded again
    in Python (a row's jsonb values parsed into dicts and written out cost ~55 µs a product: 4/5 of a 1M export)."""
    columns = ", ".join(f"x.{f}" for f in fields)
    return (
        f"SELECT x.{key} AS key, row_to_json((SELECT r FROM (SELECT {columns}) r))::text AS line"
        f" FROM ({statement.strip().rstrip(';')}) x"
    )


LIST_EXPORT_PRODUCT_LINES = as_json_lines(LIST_PRODUCTS, "code", EXPORT_FIELDS)
LIST_EXPORT_SKU_LINES = as_json_lines(LIST_EXPORT_SKUS, "sku", ("sku", "product", "barcode", "axes", "attributes"))
ERROR_COLUMNS = ["job_id", "line", "seq", "pointer", "column_name", "code", "message"]


async def _codes(conn: asyncpg.Connection, sql: str) -> set[str]:
    """The `code` of each row a listing of codes reads."""
    return {r["code"] for r in await conn.fetch(sql)}


async def _dicts(conn: asyncpg.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    """A statement's rows as dicts (an export's chunk)."""
    return [dict(r) for r in await conn.fetch(sql, *args)]


async def insert_import_job(
    conn: asyncpg.Connection, actor: str, mode: str, fmt: str, confidential: bool, kind: str
) -> int:
    return int(await conn.fetchval(INSERT_IMPORT_JOB, actor, mode, fmt, confidential, kind))


async def insert_staged(conn: asyncpg.Connection, rows: list[tuple[Any, ...]], errors: list[tuple[Any, ...]]) -> None:
    """COPY a batch of checked rows and their errors into the staging tables."""
    if rows:
        await conn.copy_records_to_table("import_rows", records=rows, columns=ROW_COLUMNS)
    if errors:
        await conn.copy_records_to_table("import_errors", records=errors, columns=ERROR_COLUMNS)


async def update_import_received(conn: asyncpg.Connection, job_id: int, read: int, rejected: int) -> None:
    await conn.execute(UPDATE_IMPORT_RECEIVED, job_id, read, rejected)


async def lock_import_key(conn: asyncpg.Connection, actor: str, key: str) -> None:
    await conn.execute(LOCK_IMPORT_KEY, actor, key)


async def get_import_by_key(conn: asyncpg.Connection, actor: str, key: str) -> tuple[int, bytes] | None:
    row = await conn.fetchrow(GET_IMPORT_BY_KEY, actor, key)
    return None if row is None else (row["id"], bytes(row["request_hash"]))


async def update_import_queued(
    conn: asyncpg.Connection, job_id: int, key: str | None, fingerprint: bytes, read: int, rejected: int
) -> None:
    await conn.execute(UPDATE_IMPORT_QUEUED, job_id, key, fingerprint, read, rejected)


async def update_import_running(
    conn: asyncpg.Connection, job_id: int, key: str | None, fingerprint: bytes, read: int, rejected: int
) -> None:
    await conn.execute(UPDATE_IMPORT_RUNNING, job_id, key, fingerprint, read, rejected)


async def update_import_interrupted(conn: asyncpg.Connection, job_id: int, error: str) -> None:
    await conn.execute(UPDATE_IMPORT_INTERRUPTED, job_id, error)


async def delete_import_job(conn: asyncpg.Connection, job_id: int) -> None:
    await conn.execute(DELETE_IMPORT_JOB, job_id)


async def get_import(conn: asyncpg.Connection, job_id: int) -> ImportRun | None:
    row = await conn.fetchrow(GET_IMPORT, job_id)
    return None if row is None else msgspec.convert(dict(row), ImportRun)


async def get_import_type(conn: asyncpg.Connection, job_id: int) -> str | None:
    kind: str | None = await conn.fetchval(GET_IMPORT_TYPE, job_id)
    return kind


async def update_import_code_column(conn: asyncpg.Connection, job_id: int, column: str) -> None:
    await conn.execute(UPDATE_IMPORT_CODE_COLUMN, job_id, column)


async def insert_duplicate_errors(
    conn: asyncpg.Connection, job_id: int, fmt: str, noun: str, field: str, column: str | None
) -> None:
    await conn.execute(INSERT_DUPLICATE_ERRORS, job_id, fmt, noun, field, column)


async def count_import_rows(conn: asyncpg.Connection, job_id: int) -> ImportCounts:
    return msgspec.convert(dict(await conn.fetchrow(COUNT_IMPORT_ROWS, job_id)), ImportCounts)


async def update_import_phase(conn: asyncpg.Connection, job_id: int, phase: str, total: int, rejected: int) -> None:
    await conn.execute(UPDATE_IMPORT_PHASE, job_id, phase, total, rejected)


async def update_products_from_import(
    conn: asyncpg.Connection, job_id: int, low: int, high: int, actor: str, confidential: bool
) -> tuple[int, int, int]:
    """Apply lines [low, high) of an import; answers (created, updated, unchanged)."""
    row = await conn.fetchrow(UPDATE_PRODUCTS_FROM_IMPORT, job_id, low, high, actor, confidential)
    return row["created"], row["updated"], row["unchanged"]


async def update_products_during_upload(
    conn: asyncpg.Connection, job_id: int, low: int, high: int, actor: str, confidential: bool
) -> tuple[int, int, int] | None:
    """Apply lines [low, high) of an all_or_nothing import while its upload goes on: new products only, their
    derived data left to the next chunk; answers (created, updated, unchanged), or None when nothing was done
    (a code of the chunk is stored)."""
    row = await conn.fetchrow(UPDATE_PRODUCTS_DURING_UPLOAD, job_id, low, high, actor, confidential)
    return None if row["created"] is None else (row["created"], row["updated"], row["unchanged"])


async def update_import_progress(conn: asyncpg.Connection, job_id: int, applied: int, unchanged: int) -> None:
    await conn.execute(UPDATE_IMPORT_PROGRESS, job_id, applied, unchanged)


async def update_import_finished(
    conn: asyncpg.Connection, job_id: int, state: str, phase: str, error: str | None
) -> None:
    await conn.execute(UPDATE_IMPORT_FINISHED, job_id, state, phase, error)


async def list_import_errors(
    conn: asyncpg.Connection, job_id: int, after: tuple[int, int], limit: int
) -> list[tuple[int, RowError]]:
    """A page of the report: (seq, error) in line order."""
    rows = await conn.fetch(LIST_IMPORT_ERRORS, job_id, after[0], after[1], limit)
    return [(r["seq"], msgspec.convert({k: r[k] for k in r.keys() if k != "seq"}, RowError)) for r in rows]


async def list_categories(conn: asyncpg.Connection) -> dict[str, CategoryRef]:
    return {r["code"]: msgspec.convert(dict(r), CategoryRef) for r in await conn.fetch(LIST_CATEGORIES)}


async def list_roles(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["code"]: r["id"] for r in await conn.fetch(LIST_ROLES)}


async def list_series(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["code"]: r["id"] for r in await conn.fetch(LIST_SERIES)}


async def list_attributes(conn: asyncpg.Connection) -> dict[str, AttributeDef]:
    return {r["code"]: msgspec.convert(dict(r), AttributeDef, strict=False) for r in await conn.fetch(LIST_ATTRIBUTES)}


async def get_export_scope(conn: asyncpg.Connection, category: str) -> str | None:
    """The path of the category an export is limited to: the product list's (`?category=`)."""
    path: str | None = await conn.fetchval(GET_CATEGORY_PATH, category)
    return path


async def list_export_columns(conn: asyncpg.Connection, path: str | None, confidential: bool) -> ExportColumns:
    return msgspec.convert(dict(await conn.fetchrow(LIST_EXPORT_COLUMNS, path, confidential)), ExportColumns)


async def list_export_products(
    conn: asyncpg.Connection, path: str | None, confidential: bool, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """A chunk of products in code order after `after`, each record holding an import row's fields (JSON
    builtins) among others: the product list's statement (GET /v1/products) with no filter but the scope. (Read
    by field, never copied: a CSV export's cells are made from the records as they came.)"""
    return await _scoped_products(conn, LIST_PRODUCTS, path, confidential, after, limit)


async def list_export_product_lines(
    conn: asyncpg.Connection, path: str | None, confidential: bool, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """A chunk of products as JSON Lines rows (`key`, `line`: list_export_products' rows, rendered in JSON)."""
    return await _scoped_products(conn, LIST_EXPORT_PRODUCT_LINES, path, confidential, after, limit)


async def _scoped_products(
    conn: asyncpg.Connection, statement: str, path: str | None, confidential: bool, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """The product list's statement (or one wrapping it) with no filter but the scope, after a keyset."""
    rows: list[asyncpg.Record] = await conn.fetch(
        statement, path, None, None, None, None, [], [], after, limit, confidential
    )
    return rows


async def update_imports_abandoned(conn: asyncpg.Connection, minutes: int) -> None:
    await conn.execute(UPDATE_IMPORTS_ABANDONED, minutes)


async def update_import_keys_expired(conn: asyncpg.Connection, hours: int) -> None:
    await conn.execute(UPDATE_IMPORT_KEYS_EXPIRED, hours)


async def list_sku_owners(conn: asyncpg.Connection, products: list[str]) -> list[SkuOwner]:
    return [msgspec.convert(dict(r), SkuOwner) for r in await conn.fetch(LIST_SKU_OWNERS, products)]


async def get_sku_owner(conn: asyncpg.Connection, sku: str) -> SkuOwner | None:
    row = await conn.fetchrow(GET_SKU_OWNER, sku)
    return None if row is None else msgspec.convert(dict(row), SkuOwner)


async def insert_sku_conflict_errors(conn: asyncpg.Connection, job_id: int, fmt: str) -> None:
    await conn.execute(INSERT_SKU_CONFLICT_ERRORS, job_id, fmt)


async def update_skus_from_import(
    conn: asyncpg.Connection, job_id: int, low: int, high: int, actor: str
) -> tuple[int, int, int]:
    """Apply SKU lines [low, high) of an import; answers (created, updated, unchanged)."""
    row = await conn.fetchrow(UPDATE_SKUS_FROM_IMPORT, job_id, low, high, actor)
    return row["created"], row["updated"], row["unchanged"]


async def list_export_sku_columns(conn: asyncpg.Connection, path: str | None) -> SkuExportColumns:
    return msgspec.convert(dict(await conn.fetchrow(LIST_EXPORT_SKU_COLUMNS, path)), SkuExportColumns)


async def list_export_skus(
    conn: asyncpg.Connection, path: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """A chunk of SKUs as import rows (JSON builtins), in sku order after `after`."""
    return await _dicts(conn, LIST_EXPORT_SKUS, path, after, limit)


async def list_export_sku_lines(
    conn: asyncpg.Connection, path: str | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """A chunk of SKUs as JSON Lines rows (`key`, `line`: list_export_skus' rows, rendered in JSON)."""
    rows: list[asyncpg.Record] = await conn.fetch(LIST_EXPORT_SKU_LINES, path, after, limit)
    return rows


async def update_staged_statistics(conn: asyncpg.Connection, job_id: int, at_least: int) -> bool:
    return bool(await conn.fetchval(UPDATE_STAGED_STATISTICS, job_id, at_least))


async def update_price_import_rows(conn: asyncpg.Connection, job_id: int, fmt: str) -> None:
    await conn.execute(UPDATE_PRICE_IMPORT_ROWS, job_id, fmt)


async def update_prices_from_import(
    conn: asyncpg.Connection, job_id: int, low: int, high: int, actor: str
) -> tuple[int, int, int]:
    """Apply price lines [low, high) of an import; answers (created, periods closed, unchanged)."""
    row = await conn.fetchrow(UPDATE_PRICES_FROM_IMPORT, job_id, low, high, actor)
    return row["created"], row["updated"], row["unchanged"]


async def list_export_prices(
    conn: asyncpg.Connection, path: str | None, kinds: list[str], after: tuple[Any, ...] | None, limit: int
) -> list[dict[str, Any]]:
    """A chunk of price periods as import rows, after the keyset (sku, kind, currency, valid_from)."""
    keyset = after or (None, None, None, None)
    return await _dicts(conn, LIST_EXPORT_PRICES, path, *keyset, kinds, limit)


async def list_import_movements(conn: asyncpg.Connection, job_id: int, low: int, high: int) -> list[tuple[int, Any]]:
    return [
        (r["line"], msgspec.json.decode(r["doc"])) for r in await conn.fetch(LIST_IMPORT_MOVEMENTS, job_id, low, high)
    ]


async def insert_movements(
    conn: asyncpg.Connection, actor: str, requests: list[tuple[str, bytes, list[dict[str, Any]]]]
) -> list[dict[str, Any]]:
    """Apply requests of movements through the ledger (merch_apply_requests), each all or nothing on its own:
    per request {"response": …} or {"refused": {"sqlstate", "message"}} (a batch of one raises its refusal:
    answered here the same way)."""
    try:
        answers = await conn.fetchval(
            INSERT_MOVEMENTS,
            [actor] * len(requests),
            [r[0] for r in requests],
            [r[1] for r in requests],
            [r[2] for r in requests],
        )
    except asyncpg.PostgresError as exc:
        if len(requests) != 1 or exc.sqlstate not in ("MF409", "MF422"):
            raise
        return [{"refused": {"sqlstate": exc.sqlstate, "message": str(exc.args[0] if exc.args else exc)}}]
    found: list[dict[str, Any]] = answers
    return found


async def update_import_rows_refused(conn: asyncpg.Connection, job_id: int, errors: list[RowError]) -> None:
    """Record rows the ledger refused: their errors in the report, the rows no longer good."""
    records = [(job_id, e.line, 2000 + i, e.pointer, e.column, e.code, e.message) for i, e in enumerate(errors)]
    await conn.copy_records_to_table("import_errors", records=records, columns=ERROR_COLUMNS)
    await conn.execute(UPDATE_IMPORT_ROWS_REFUSED, job_id, sorted({e.line for e in errors}))


async def list_export_counts(
    conn: asyncpg.Connection, path: str | None, after: tuple[Any, ...] | None, limit: int
) -> list[dict[str, Any]]:
    """A chunk of stock levels as count rows, after the keyset (sku, warehouse, location)."""
    keyset = after or (None, None, None)
    return await _dicts(conn, LIST_EXPORT_COUNTS, path, *keyset, limit)


async def list_import_docs(conn: asyncpg.Connection, job_id: int, low: int, high: int) -> list[tuple[int, str]]:
    """The good staged rows with lines in [low, high): (line, the row's API body as JSON)."""
    return [(r["line"], r["doc"]) for r in await conn.fetch(LIST_IMPORT_DOCS, job_id, low, high)]


async def list_trees(conn: asyncpg.Connection) -> set[str]:
    return await _codes(conn, LIST_TREES)


async def list_category_states(conn: asyncpg.Connection, codes: list[str]) -> dict[str, tuple[int, str | None]]:
    """The stored categories among `codes`: {code: (version, parent code)}."""
    return {r["code"]: (r["version"], r["parent"]) for r in await conn.fetch(LIST_CATEGORY_STATES, codes)}


async def update_category_import_derived(conn: asyncpg.Connection, moved: list[str], relabelled: list[str]) -> None:
    await conn.execute(UPDATE_CATEGORY_IMPORT_DERIVED, moved, relabelled)


async def list_export_category_locales(conn: asyncpg.Connection, path: str | None) -> list[str]:
    return [r["locale"] for r in await conn.fetch(LIST_EXPORT_CATEGORY_LOCALES, path)]


async def list_export_categories(
    conn: asyncpg.Connection, path: str | None, after: tuple[Any, ...] | None, limit: int
) -> list[dict[str, Any]]:
    """A chunk of categories as import rows (with `ord`, their keyset's positions from the root), parents first."""
    keyset = after or (None, None)
    return await _dicts(conn, LIST_EXPORT_CATEGORIES, path, *keyset, limit)


async def update_audit_import(conn: asyncpg.Connection, job_id: int) -> None:
    """The audit records this transaction writes through the API's use cases name import `job_id`."""
    await conn.execute(UPDATE_AUDIT_IMPORT, job_id)


async def list_attribute_groups(conn: asyncpg.Connection) -> set[str]:
    return await _codes(conn, LIST_ATTRIBUTE_GROUPS)


async def list_information_items(conn: asyncpg.Connection) -> set[str]:
    return await _codes(conn, LIST_INFORMATION_FIELDS)


async def list_attribute_versions(conn: asyncpg.Connection, codes: list[str]) -> dict[str, int]:
    return {r["code"]: r["version"] for r in await conn.fetch(LIST_ATTRIBUTE_VERSIONS, codes)}


async def update_attribute_import_derived(conn: asyncpg.Connection, changed: list[str]) -> None:
    await conn.execute(UPDATE_ATTRIBUTE_IMPORT_DERIVED, changed)


async def list_export_attribute_columns(conn: asyncpg.Connection) -> tuple[list[str], list[str], list[str]]:
    """The locales of the attributes' labels, the validation rules in use, the locales of the options' labels."""
    row = await conn.fetchrow(LIST_EXPORT_ATTRIBUTE_COLUMNS)
    return list(row["labels"]), list(row["rules"]), list(row["option_labels"])


async def list_attribute_set_owners(conn: asyncpg.Connection, codes: list[str]) -> dict[str, list[Any]]:
    """The stored categories among `codes` with their own bindings: {code: [[attribute, stages, priority], …]}."""
    return {r["category"]: r["attributes"] for r in await conn.fetch(LIST_ATTRIBUTE_SET_OWNERS, codes)}


async def list_export_attribute_sets(
    conn: asyncpg.Connection, path: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """A chunk of categories with their own bindings, in code order after `after`."""
    return await _dicts(conn, LIST_EXPORT_ATTRIBUTE_SETS, path, after, limit)


async def list_export_set_stages(conn: asyncpg.Connection, path: str | None) -> list[str]:
    return [r["stage"] for r in await conn.fetch(LIST_EXPORT_SET_STAGES, path)]


async def list_supplier_codes(conn: asyncpg.Connection) -> set[str]:
    return await _codes(conn, LIST_SUPPLIER_CODES)


async def is_product(conn: asyncpg.Connection, code: str) -> bool:
    return bool(await conn.fetchval(IS_PRODUCT, code))


async def list_terms_versions(conn: asyncpg.Connection, products: list[str]) -> dict[str, int]:
    """The versions of the terms of these products: {`product/supplier`: version}."""
    return {r["ref"]: r["version"] for r in await conn.fetch(LIST_TERMS_VERSIONS, products)}


async def update_refresh_pending(conn: asyncpg.Connection) -> None:
    await conn.execute(UPDATE_REFRESH_PENDING)


async def list_export_terms(
    conn: asyncpg.Connection, path: str | None, after: tuple[Any, ...] | None, limit: int
) -> list[dict[str, Any]]:
    """A chunk of supplier terms, after the keyset (product, supplier)."""
    keyset = after or (None, None)
    return await _dicts(conn, LIST_EXPORT_TERMS, path, *keyset, limit)
