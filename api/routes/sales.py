"""Sales facts: /v1/sales (daily facts per SKU and channel; JSON or JSONL uploads)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import Provide
from litestar.params import HeaderParameter, JSONBody, QueryParameter

from api.auth import allow
from api.http import Actor, Conn, CursorQ, LimitQ
from domain.sales import service
from domain.sales.model import SalesFactPage, SalesRemoval, SalesResult, SalesUpload
from domain.types import CODE_PATTERN

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Retry-safe: the same key and body answers the first answer with no second effect; "
        "the same key with another body is a 422.",
        schema_extra={"minLength": 1, "maxLength": 200},
    ),
]


SkuQ = Annotated[str | None, QueryParameter(name="sku", required=False, description="Only this SKU.")]
ChannelQ = Annotated[
    str | None, QueryParameter(name="channel", required=False, description="Only this channel (code).")
]
# (a removal refuses a channel that is not a code; a listing finds nothing for it)
RemovalChannelQ = Annotated[
    str | None,
    QueryParameter(
        name="channel", required=False, description="Only this channel (code).", schema_extra={"pattern": CODE_PATTERN}
    ),
]
DayQ = Annotated[
    date | None, QueryParameter(name="day", required=False, description="Only this day (instead of `from` and `to`).")
]
FromQ = Annotated[date | None, QueryParameter(name="from", required=False, description="First day (inclusive).")]
ToQ = Annotated[date | None, QueryParameter(name="to", required=False, description="Last day (inclusive).")]


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

    @delete("", operation_id="deleteSales", summary="Remove sales facts", opt=allow("finance"), status_code=200)
    async def delete_sales(
        self,
        conn: Conn,
        principal: Actor,
        reason: Annotated[
            str | None,
            QueryParameter(
                name="reason", required=False, description="Why (required; kept in the audit trail, 1–500 characters)."
            ),
        ] = None,
        day: DayQ = None,
        since: FromQ = None,
        until: ToQ = None,
        sku: SkuQ = None,
        channel: RemovalChannelQ = None,
        idempotency_key: IdempotencyKey = None,
    ) -> SalesRemoval:
        """Remove the sales facts of a day (`day`) or of a range of days (`from` and `to`, both required),
        optionally only of one SKU and one channel — e.g. `?day=2026-11-25&channel=web&reason=POS sent the
        day twice`. The days and a `reason` are required, so nothing is ever wiped by accident; `GET
        /v1/sales` with the same filters lists what would go.

        The monthly rollup and the per-SKU totals (and every report read from them) move back with the
        facts in the same transaction: afterwards they are as if the facts had never been uploaded. Each
        SKU's removed facts are kept in the audit trail (`GET /v1/audit?entity=sales&code={sku}`) with the
        reason. Answers `{"removed", "skus", "qty", "revenue": [money per currency]}`; removing again
        removes nothing (`removed: 0`), and with an `Idempotency-Key` a retry answers the first answer. An
        unknown SKU is a 404."""
        return await service.remove_sales(
            conn,
            principal,
            day=day,
            since=since,
            until=until,
            sku=sku,
            channel=channel,
            reason=reason,
            idempotency_key=idempotency_key,
        )

    @get("", operation_id="listSales", summary="List sales facts", opt=allow("finance", "marketing", "purchasing"))
    async def list_sales(
        self,
        conn: Conn,
        sku: SkuQ = None,
        channel: ChannelQ = None,
        day: DayQ = None,
        since: FromQ = None,
        until: ToQ = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> SalesFactPage:
        """Sales facts in (day, SKU, channel) order, one keyset page at a time: of a `day`, or from `from` to
        `to` (either bound optional)."""
        return await service.list_sales(
            conn, sku=sku, channel=channel, day=day, since=since, until=until, limit=limit, cursor=cursor
        )
