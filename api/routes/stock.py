"""Stock: /v1/stock (levels) and /v1/stock/movements (the ledger)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import HeaderParameter, JSONBody, QueryParameter

from api.auth import allow, principal_of
from api.http import Actor, Conn, CursorQ, LimitQ
from domain.stock import service
from domain.stock.model import MOVEMENT_TYPES, LedgerPage, MovementRequest, MovementsResult, StockAnswer

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")


def _q(name: str, description: str) -> QueryParameter:
    return QueryParameter(name=name, required=False, description=description)


SkuQ = Annotated[str | None, _q("sku", "Only this SKU.")]
WarehouseQ = Annotated[str | None, _q("warehouse", "Only this warehouse (code).")]
LocationQ = Annotated[str | None, _q("location", "Only this bin (code).")]
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


class StockController(Controller):
    path = "/v1/stock"
    tags = ["Stock"]

    @get("", operation_id="listStock", summary="Stock on hand, reserved and available", opt=READERS)
    async def list_stock(
        self,
        conn: Conn,
        sku: SkuQ = None,
        warehouse: WarehouseQ = None,
        location: LocationQ = None,
        below: Annotated[
            int | None,
            QueryParameter(
                name="below",
                required=False,
                ge=0,
                le=2_147_483_647,
                description="Only rows whose available quantity is below this.",
                schema_extra={"minimum": 0},  # (Litestar leaves out a `ge` of 0 here)
            ),
        ] = None,
        low: Annotated[bool, _q("low", "Only rows at or below the SKU's reorder point.")] = False,
        include_empty: Annotated[bool, _q("include_empty", "Also bins that held the SKU and are empty now.")] = False,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> StockAnswer:
        """Per SKU and bin: `on_hand`, `reserved` and `available`, with the totals of the whole selection.
        `?below=N` or `?low=true` make the low-stock worklist."""
        return await service.list_levels(
            conn,
            sku=sku,
            warehouse=warehouse,
            location=location,
            below=below,
            low=low,
            include_empty=include_empty,
            limit=limit,
            cursor=cursor,
        )

    @post(
        "/movements",
        operation_id="postStockMovements",
        summary="Record stock movements",
        opt=allow("warehouse", "purchasing"),
        status_code=201,
    )
    async def post_movements(
        self, request: Request[Any, Any, Any], data: JSONBody[MovementRequest], idempotency_key: IdempotencyKey = None
    ) -> Response[MovementsResult]:
        """One movement or a batch of up to 1,000, applied all or nothing: `receive`, `pick`, `ship`,
        `transfer`, `adjust`, `count`, `reserve`, `release`. Stock can never go below zero, on hand or
        available: such a movement is a 409 saying what is available where. Send an `Idempotency-Key` so
        that a retry after a timeout has no second effect (keys are kept 48 hours)."""
        # Applied with the requests arriving alongside (group commit): no connection of its own.
        writer: service.MovementWriter = request.app.state.movements
        result = await writer.post(principal_of(request), data, idempotency_key)
        headers = {"Idempotency-Replayed": "true"} if result.replayed else {}
        return Response(result, status_code=201, headers=headers)

    @get(
        "/movements",
        operation_id="listStockMovements",
        summary="The stock ledger",
        opt=allow("warehouse", "purchasing", "finance"),
    )
    async def list_movements(
        self,
        conn: Conn,
        principal: Actor,
        sku: SkuQ = None,
        warehouse: WarehouseQ = None,
        location: LocationQ = None,
        movement_type: Annotated[
            str | None,
            QueryParameter(
                name="type",
                required=False,
                description="Only this movement type.",
                schema_extra={"enum": list(MOVEMENT_TYPES)},
            ),
        ] = None,
        reference: Annotated[str | None, _q("reference", "Only movements with this reference.")] = None,
        since: Annotated[
            str | None,
            QueryParameter(
                name="since",
                required=False,
                description="Only movements at or after this RFC 3339 moment with an offset.",
                schema_extra={"format": "date-time"},
            ),
        ] = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> LedgerPage:
        """Every movement, newest first: type, quantities, bins, reference, reason, who and when. Unit
        costs are shown to finance, purchasing and admin only."""
        return await service.list_movements(
            conn,
            principal,
            sku=sku,
            warehouse=warehouse,
            location=location,
            type=movement_type,
            reference=reference,
            since=since,
            limit=limit,
            cursor=cursor,
        )
