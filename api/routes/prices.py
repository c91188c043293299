"""SKU prices: /v1/skus/{sku}/prices."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import allow
from api.http import Actor, Conn, CursorQ, LimitQ
from domain.money import CURRENCIES
from domain.prices import service as prices
from domain.prices.model import (
    PRICE_KINDS,
    Price,
    PriceCorrection,
    PriceCorrectionCreate,
    PriceCorrectionPage,
    PriceCreate,
    PricePage,
)

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow("finance", "purchasing", "listing")
# The past is changed by finance alone; purchasing reads how (its corrections show cost prices).
CORRECTORS = allow("finance")
CORRECTION_READERS = allow("finance", "purchasing")
# A correction that changed something is a new record (201); one the periods already said, none (200).
CORRECTION_STATUS = {True: 201, False: 200}

KindQ = Annotated[
    str | None,
    QueryParameter(
        name="kind",
        required=False,
        description="Only this kind: sale, distribution, cost.",
        schema_extra={"enum": list(PRICE_KINDS)},
    ),
]
CurrencyQ = Annotated[
    str | None,
    QueryParameter(
        name="currency",
        required=False,
        description="Only this ISO 4217 currency.",
        schema_extra={"enum": sorted(CURRENCIES)},
    ),
]
AtQ = Annotated[
    str | None,
    QueryParameter(
        name="at",
        required=False,
        description="An RFC 3339 moment: only the prices in force then (one per kind and currency).",
        schema_extra={"format": "date-time"},
    ),
]


class PriceController(Controller):
    path = "/v1/skus/{sku:str}/prices"
    tags = ["Prices"]

    @get("", operation_id="listSkuPrices", summary="List a SKU's prices", opt=READERS)
    async def list_prices(
        self,
        conn: Conn,
        principal: Actor,
        sku: FromPath[str],
        kind: KindQ = None,
        currency: CurrencyQ = None,
        at: AtQ = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> PricePage:
        """The SKU's price history, newest `valid_from` first; with `at`, only the prices in force at that moment.
        Periods are [valid_from, valid_to). Cost and distribution prices are left out for keys without the
        finance, purchasing or admin role."""
        return await prices.list_prices(
            conn, principal, sku, kind=kind, currency=currency, at=at, limit=limit, cursor=cursor
        )

    @post("", operation_id="createSkuPrice", summary="Record a SKU price", opt=WRITERS)
    async def create_price(
        self, conn: Conn, principal: Actor, sku: FromPath[str], data: JSONBody[PriceCreate]
    ) -> Response[Price]:
        """Record a price from `valid_from` (default now) to `valid_to` (null: open-ended). A price starts now or
        later: a `valid_from` at most a minute before now (a client's clock running behind) counts as now and
        the period starts when the server records it; earlier is a 422 `price-starts-in-the-past` pointing at
        `POST /v1/skus/{sku}/prices/corrections`, the one way to change the past. A price that starts inside
        the open-ended current period of its kind and currency closes that period; any other overlap is a 409
        `price-period-overlap`. Listing keys may record sale prices only."""
        price = await prices.create_price(conn, principal, sku, data)
        return Response(price, status_code=201, headers={"Location": f"/v1/skus/{price.sku}/prices"})

    @post(
        "/corrections",
        operation_id="correctSkuPrices",
        summary="Correct a SKU's price periods, past ones included",
        opt=CORRECTORS,
        responses={
            200: ResponseSpec(
                data_container=PriceCorrection,
                description="The periods already said so (a retry): nothing changed or recorded, `id` null.",
            )
        },
    )
    async def correct_prices(
        self, conn: Conn, principal: Actor, sku: FromPath[str], data: JSONBody[PriceCorrectionCreate]
    ) -> Response[PriceCorrection]:
        """Set the SKU's price of one kind and currency over `[valid_from, valid_to)` (`valid_to` null: from
        then on, scheduled prices included) to `amount` — or, with `amount` null, to no price — whatever was
        recorded there, in the past too; `reason` is required. Periods inside the range are removed, periods
        sticking out of it are cut back to outside it (one that spans it is split), and the range's own period
        is recorded: periods never overlap. The answer (201) gives the periods the correction touched
        `before` and `after`; it is kept (`GET …/prices/corrections`), written to the audit trail with its
        reason (`action: correct`), and the price history marks each period it set with `correction`. Sales
        facts of the days whose cost or distribution price changed are re-costed, so every report agrees with
        the corrected history. A correction the periods already say (a retry) changes nothing: 200, `id`
        null. Finance only."""
        correction, created = await prices.correct_prices(conn, principal, sku, data)
        return Response(
            correction,
            status_code=CORRECTION_STATUS[created],
            headers={"Location": f"/v1/skus/{correction.sku}/prices/corrections"},
        )

    @get(
        "/corrections",
        operation_id="listSkuPriceCorrections",
        summary="List a SKU's price corrections",
        opt=CORRECTION_READERS,
    )
    async def list_corrections(
        self, conn: Conn, sku: FromPath[str], limit: LimitQ = 50, cursor: CursorQ = None
    ) -> PriceCorrectionPage:
        """The SKU's price corrections, newest first: the range each set, to what, why, who and when, and the
        periods it touched before and after."""
        return await prices.list_corrections(conn, sku, limit=limit, cursor=cursor)
