"""Sales facts: /v1/sales (daily facts per SKU and channel; JSON or JSONL uploads)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import HeaderParameter, JSONBody, QueryParameter

from api.auth import allow
from api.http import Actor, Conn, CursorQ, LimitQ
from domain.sales import service
from domain.sales.model import SalesFactPage, SalesResult, SalesUpload

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Retry-safe: the same key and body answers the first answer with no second effect; "
        "the same key with another body is a 422.",
    ),
]


def _documented_body(data: JSONBody[SalesUpload]) -> None:
    """Never called: it only gives the OpenAPI document the JSON form of the upload as its typed body.
    The handler reads the raw body itself, because a JSONL upload is not one JSON document and because
    every bad row is to be named at once (a typed body stops at the first)."""


class SalesController(Controller):
    path = "/v1/sales"
    tags = ["Sales"]

    @post(
        "",
        operation_id="postSales",
        summary="Upload daily sales facts",
        opt=allow("finance", "marketing"),
        status_code=200,
        dependencies={"upload_body": Provide(_documented_body, sync_to_thread=False)},
    )
    async def post_sales(
        self, conn: Conn, principal: Actor, request: Request[Any, Any, Any], idempotency_key: IdempotencyKey = None
    ) -> SalesResult:
        """Daily facts per SKU and channel — `{"facts": [{"day": "2026-03-01", "sku", "channel", "qty",
        "revenue": {"amount": "129.00", "currency": "CNY"}}]}`, up to 10,000 facts — or the same facts as
        JSONL (`Content-Type: application/x-ndjson`, one fact object per line).

        Upserted by (day, SKU, channel): a re-sent day replaces the earlier figures rather than adding to
        them. All or nothing: a rejected upload applies nothing, and its 422 names every bad row with a
        pointer `/facts/{i}/{field}` (JSON) or `/lines/{i}/{field}` (JSONL, `i` the 0-based line):
        unknown SKU, revenue not a decimal string, negative quantity, unknown currency, more decimals than
        the currency has, a day that has not begun, a repeated (day, SKU, channel), a malformed line.
        Answers `{"accepted", "inserted", "replaced"}`; with an `Idempotency-Key` a retry of the same body
        answers the first answer again."""
        raw = await request.body()
        return await service.post_sales(conn, principal, raw, request.content_type[0], idempotency_key)

    @get("", operation_id="listSales", summary="List sales facts", opt=allow("finance", "marketing", "purchasing"))
    async def list_sales(
        self,
        conn: Conn,
        sku: Annotated[str | None, QueryParameter(name="sku", required=False, description="Only this SKU.")] = None,
        channel: Annotated[
            str | None, QueryParameter(name="channel", required=False, description="Only this channel (code).")
        ] = None,
        since: Annotated[
            date | None, QueryParameter(name="from", required=False, description="First day (inclusive).")
        ] = None,
        until: Annotated[
            date | None, QueryParameter(name="to", required=False, description="Last day (inclusive).")
        ] = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> SalesFactPage:
        """Sales facts in (day, SKU, channel) order, one keyset page at a time."""
        return await service.list_sales(
            conn, sku=sku, channel=channel, since=since, until=until, limit=limit, cursor=cursor
        )
