"""SKU prices: /v1/skus/{sku}/prices."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import allow
from api.http import Actor, Conn, CursorQ, LimitQ
from domain.prices import service as prices
from domain.prices.model import Price, PriceCreate, PricePage

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow("finance", "purchasing", "listing")

KindQ = Annotated[
    str | None, QueryParameter(name="kind", required=False, description="Only this kind: sale, distribution, cost.")
]
CurrencyQ = Annotated[
    str | None, QueryParameter(name="currency", required=False, description="Only this ISO 4217 currency.")
]
AtQ = Annotated[
    str | None,
    QueryParameter(
        name="at",
        required=False,
        description="An RFC 3339 moment: only the prices in force then (one per kind and currency).",
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
        """Record a price from `valid_from` (default now) to `valid_to` (null: open-ended). A price that starts
        inside the open-ended current period of its kind and currency closes that period; any other overlap is
        a 409 `price-period-overlap`. History is never rewritten. Listing keys may record sale prices only."""
        price = await prices.create_price(conn, principal, sku, data)
        return Response(price, status_code=201, headers={"Location": f"/v1/skus/{price.sku}/prices"})
