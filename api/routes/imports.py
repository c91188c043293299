"""Bulk files: /v1/imports (upload a file of products: a job you can watch, and its per-row report) and
/v1/exports (the same rows back, streamed)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import HeaderParameter, JSONBody, Parameter, QueryParameter
from litestar.response import Stream

from api import db, guard
from api.auth import allow
from api.http import STREAMING, Actor, Conn, Connect
from api.replicas import ON_REPLICA
from domain.imports import exports
from domain.imports import service as imports
from domain.imports.model import MAX_IMPORT_BYTES, FileFormat, ImportMode, ImportType, ReportFormat
from domain.imports.xlsx import MEDIA_TYPE as XLSX
from domain.jobs.model import Job
from domain.products.model import ProductCreate

# Who may import a type is who may write it through the API (PUT /v1/products, PUT /v1/skus, POST
# /v1/skus/{sku}/prices: the route lets in every role that writes one of the types; the service checks the
# type's own, `imports.model.TYPES`); who may export it, who may list it (confidential attribute values, cost
# and distribution prices only for the roles that see them).
IMPORTERS = allow("purchasing", "warehouse", "listing", "finance")
EXPORTERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
# What the document says of the files (api/document.py): a file answered, in one of these media types; a file
# taken, JSON Lines of the documented row, CSV text or an XLSX workbook.
FILE_ANSWER = {"file_answer": tuple(exports.MEDIA.values())}
REPORT_ANSWER = {"file_answer": (exports.MEDIA["jsonl"], exports.MEDIA["csv"])}
FILE_UPLOAD = {"file_upload": {"application/x-ndjson": "rows", "text/csv": "text", XLSX: "binary"}}

TypeQ = Annotated[
    ImportType,
    QueryParameter(
        name="type",
        description="What the file holds: `products`, `skus`, `prices`, `stock` (counts), `categories`, "
        "`attributes` (with their options), `attribute_sets` (categories' bindings) or `supplier_terms`.",
    ),
]
FormatQ = Annotated[
    FileFormat,
    QueryParameter(
        name="format", description="`jsonl` (one JSON object per line), `csv`, or `xlsx` (an Excel workbook)."
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Retry-safe: the same key and body answers the first import's job with no second import; "
        "the same key with another body is a 422.",
        schema_extra={"minLength": 1, "maxLength": 200},
    ),
]


def _documented_row(data: JSONBody[ProductCreate]) -> None:
    """Never called: it only gives the OpenAPI document a typed body — one row of the file (a JSONL line is
    this object). The handler streams the raw body itself: a file is not one JSON document, nor held whole."""


def accepted(job: Job, replayed: bool, state: State) -> Response[Job]:
    """202 with the job, its Location, and whether it answers an earlier upload with the same key; this worker's
    job runner is woken once it is sent (none when the caller runs the jobs: tests)."""
    headers = {"Location": f"/v1/jobs/{job.id}", "Idempotency-Replayed": "true" if replayed else "false"}
    wake = state.get("wake_jobs")
    background = None if replayed or wake is None else BackgroundTask(wake)
    return Response(job, status_code=202, headers=headers, background=background)


def attachment(body: Any, fmt: FileFormat | ReportFormat, name: str) -> Stream:
    """A file, streamed; closed once the stream is over — sent whole, or its client gone mid-way (what it holds,
    an export's connection and snapshot, goes back then)."""
    return Stream(
        body,
        media_type=exports.MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
        background=BackgroundTask(body.aclose),
    )


class ImportController(Controller):
    path = "/v1/imports"
    tags = ["Imports and exports"]

    @post(
        "",
        operation_id="postImport",
        summary="Import a file of products, SKUs, prices, stock counts, categories, attributes, attribute sets or "
        "supplier terms",
        opt=IMPORTERS | FILE_UPLOAD,
        status_code=202,
        request_max_body_size=MAX_IMPORT_BYTES,
        dependencies={"upload_row": Provide(_documented_row, sync_to_thread=False)},
    )
    async def post_import(
        self,
        conn: Conn,
        principal: Actor,
        request: Request[Any, Any, Any],
        state: State,
        type: TypeQ,  # (named as its query parameter: a refusal names it)
        mode: Annotated[
            ImportMode,
            QueryParameter(
                name="mode",
                description="`all_or_nothing`: one rejected row and nothing is applied; `valid_rows`: the good "
                "rows are applied, the others reported.",
            ),
        ] = "all_or_nothing",
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Job]:
        """A file of products — JSON Lines (`Content-Type: application/x-ndjson`, one product per line, the
        body of `POST /v1/products`), CSV (`text/csv`, UTF-8 with or without a BOM; the column convention
        is in the README: `code`, `category`, `role`, …, `labels[zh-CN]`, …, `attr:<attribute>`) or XLSX
        (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`: the first sheet, in the CSV's
        columns; held in a temporary file while it is read) — streamed, never held in memory. Every row is
        checked by the rules of the product API, with its error codes; products are upserted by code, and a
        row identical to the stored product changes nothing. `type=skus`: a file of
        SKUs, a row the body of `POST /v1/products/{code}/skus` with its `product` (CSV: `sku`, `product`,
        `barcode`, `axis:<attribute>`, `attr:<attribute>`), checked by the SKU API's rules and upserted by
        `sku`. `type=prices`: a file of prices, a row the body of `POST /v1/skus/{sku}/prices` with its `sku`,
        recorded as that call records it (a row identical to a stored period changes nothing; cost and
        distribution rows only for finance, purchasing and admin). `type=stock`: stock counts, a row one `count`
        movement of `POST /v1/stock/movements` (`sku`, `warehouse`, `location`, `qty`), applied through the
        ledger. `type=categories`: a row the body of `POST /v1/categories` (CSV: `code`, `tree`, `parent`,
        `position`, `labels[<locale>]`; a parent stored or on an earlier line), applied through the category API's
        upsert. `type=attributes`: a row the body of `POST /v1/attributes` with its `options` (CSV: one row per
        attribute, `options` and `option_labels[<locale>]` lists separated by `|`, `validation[<rule>]`), applied
        through the attribute API's upsert and option list. `type=attribute_sets`: a row the body of `PUT
        /v1/categories/{code}/attributes` with its `category` (CSV: `attributes`, `display_priority`,
        `required_for[<stage>]` lists separated by `|`). `type=supplier_terms`: a row the body of `POST
        /v1/products/{code}/suppliers` with its `product` (CSV: `product`, `supplier`, `purchase_price`,
        `currency`, `moq`, `lead_time_days`, `preferred`), upserted by product and supplier. A type is imported by
        the roles that write it through the API (403 otherwise).

        Answers 202 with the job (`GET /v1/jobs/{id}`: phase, rows read / applied / unchanged / rejected,
        progress, rate, ETA) once the upload is read; the job runner applies it. `report` is the per-row
        report (`GET /v1/imports/{id}/errors`). A CSV or XLSX that cannot be read as a whole (no header of
        known columns, not UTF-8, not a workbook) is a 400 `invalid-upload`, and nothing is imported."""
        job, replayed = await imports.start_import(
            conn,
            principal,
            kind=type,
            mode=mode,
            media_type=request.content_type[0],
            idempotency_key=idempotency_key,
            body=request.stream(),
            line_flaw=guard.body_flaw,
            # (an all_or_nothing file of products is applied while it is read, on connections of its own: none
            # when every request shares one connection — the tests' rolled-back transaction, the demo seed)
            pool=None if isinstance(state.pool, db.OneConnectionPool) else state.pool,
        )
        return accepted(job, replayed, state)

    @get(
        "/{job_id:int}/errors",
        operation_id="getImportErrors",
        summary="An import's per-row report",
        opt=IMPORTERS | REPORT_ANSWER,
    )
    async def get_import_errors(
        self,
        conn: Conn,
        principal: Actor,
        state: State,
        job_id: Annotated[
            int,
            Parameter(
                ge=1,
                le=2**63 - 1,
                schema_extra={"maximum": 2**63 - 1},  # (Litestar writes `le` as a float: 2**63)
                description="The import's (its job's) id.",
            ),
        ],
        format: Annotated[
            ReportFormat, QueryParameter(name="format", description="`jsonl` (the default) or `csv`.")
        ] = "jsonl",
    ) -> Stream:
        """Every error of every rejected row, in line order: `line` (of the file, from 1; a CSV record's first
        line; an XLSX row's number), `pointer` (into the row as a JSON object), `column` (CSV: its name; XLSX: its
        letter and name, `D (attr:width)`), `code` (the API's error code, or
        `duplicate_code`, `ragged_row`, `malformed_json`, `row_too_large`, `invalid_encoding`) and `message`."""
        return attachment(
            await imports.open_report(conn, state.pool, principal, job_id, format), format, f"import-{job_id}-errors"
        )


class ExportController(Controller):
    path = "/v1/exports"
    tags = ["Imports and exports"]

    @get(
        "",
        operation_id="getExport",
        summary="Export products, SKUs, prices, stock, categories, attributes, attribute sets or supplier terms",
        opt=EXPORTERS | FILE_ANSWER | ON_REPLICA,
        dependencies=STREAMING,
    )
    async def get_export(
        self,
        connect: Connect,
        principal: Actor,
        type: TypeQ,  # (named as its query parameter: a refusal names it)
        category: Annotated[
            str | None,
            QueryParameter(
                name="category",
                required=False,
                description="A category code: products whose home category or a placement is in its subtree.",
            ),
        ] = None,
        format: FormatQ = "jsonl",
    ) -> Stream:
        """Products (SKUs: `type=skus`, price periods: `type=prices`, stock levels as counts: `type=stock` — those
        of the products in scope; `type=categories`: the categories of the subtree, parents first;
        `type=attributes`: every attribute with its options, `category` not applicable; `type=attribute_sets`: the
        subtree's categories with their own bindings; `type=supplier_terms`: the terms of the products in scope, for
        purchasing, finance and admin only), in code order, as an
        import of the same type takes them — JSON Lines, CSV
        (UTF-8 with a BOM, Excel's way) or XLSX (one sheet, the CSV's columns, every cell text) — streamed:
        export, edit, import back. Confidential attribute values,
        cost and distribution prices only for the roles that see them (finance, purchasing, admin). Read in one
        snapshot, from a replica when replicas serve reads: a failure before the first byte is answered (or run
        again elsewhere); one after it ends the stream without its end (the chunked body is cut short: the
        client sees an incomplete transfer, never a file that looks whole)."""
        return attachment(await exports.open_export(connect, principal, type, category, format), format, type)
