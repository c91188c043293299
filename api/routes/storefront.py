"""The storefront (/v1/storefront/…), customer service's lookup (/v1/service/lookup) and the change feed
(/v1/events).

Every storefront answer is public catalog data (listed products, public attributes, the price a shopper
pays): any key may read it, a shop's `storefront` key included. Caching: each answer has a strong ETag of
its bytes (`If-None-Match` answers 304) and `Cache-Control: public, max-age=N` — N is 60 seconds for a
product page, shortened to the moment its price changes when a price period or a promotion starts or ends
sooner, and 30 seconds for lists, facets, search and navigation; `Vary: Accept-Language`."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED

from api.auth import allow
from api.http import Actor, Conn, CursorQ, IfNoneMatch
from api.replicas import ON_REPLICA
from domain.keys.model import ROLES
from domain.storefront import facets as facet_counts
from domain.storefront import feed, listing, search, service
from domain.storefront.model import (
    CardPage,
    EventPage,
    Facets,
    ServiceLookup,
    Shelves,
    Sort,
    StorefrontProduct,
)
from domain.versioning import matches_tag

# A search query: at most search.MAX_QUERY characters once trimmed, one of them not white space (\s spelt out, as in
# domain.suppliers.model.Email: str.strip() takes \x1c-\x1f and \x85 for white space, a JSON Schema reader not).
QUERY_TEXT: dict[str, Any] = {"maxLength": search.MAX_QUERY, "pattern": r"[^\s\x1c-\x1f\x85]|\ufeff"}
ANYONE = allow(*(r for r in ROLES if r != "admin"))
SERVICE = allow("service")

LocaleQ = Annotated[
    str | None,
    QueryParameter(
        name="locale",
        required=False,
        max_length=35,
        description="The locale of labels and texts (else Accept-Language, else the catalog's default, zh-CN).",
    ),
]
AcceptLanguageH = Annotated[
    str | None,
    HeaderParameter(name="Accept-Language", required=False, description="Preferred locales."),
]
CategoryQ = Annotated[
    str,
    QueryParameter(
        name="category",
        max_length=64,
        description=(
            "A category code (of any tree): listed products whose home category or a placement is in its subtree."
        ),
    ),
]
FilterQ = Annotated[
    list[str] | None,
    QueryParameter(
        name="filter",
        required=False,
        max_items=20,
        description=(
            "Repeatable; all must hold. `attribute:value[,value…]` for a select, multiselect or boolean "
            "(values of one attribute are OR'ed: `color:red,navy`); `attribute:min..max` for a number or a "
            "measurement, either side optional, with a unit of the attribute's family after a bound "
            "(`width:50..90cm`, `volume:..0.5l`; no unit: the family's base unit). Only public, filterable "
            "attributes filter."
        ),
    ),
]
PriceQ = Annotated[
    str | None,
    QueryParameter(
        name="price",
        required=False,
        max_length=40,
        description="`min..max` in the shop's currency: `100..300`, `..99`.",
    ),
]
InStockQ = Annotated[
    bool | None, QueryParameter(name="in_stock", required=False, description="`true`: only products in stock.")
]
RoleQ = Annotated[
    str | None, QueryParameter(name="role", required=False, max_length=64, description="A product role code.")
]
SeriesQ = Annotated[
    str | None, QueryParameter(name="series", required=False, max_length=64, description="A series code.")
]
PageLimitQ = Annotated[
    int, QueryParameter(name="limit", ge=1, le=100, description="Cards per page (default 50, max 100).")
]
SortQ = Annotated[
    Sort,
    QueryParameter(
        name="sort",
        description=(
            "`position` (catalog order: the order products were added), `price_asc`, `price_desc`, `newest`, "
            "`best_selling` (units sold, net of returns; a sales write moves it within about a minute)."
        ),
    ),
]


def cached(body: bytes, etag: str, max_age: int, if_none_match: str | None, locale: str) -> Response[Any]:
    """An answer a cache may keep: its ETag, Cache-Control and the locale it is in; 304 for a current copy."""
    headers = dict(service.cache_headers(etag, max_age, locale))
    if matches_tag(if_none_match, etag):
        return Response(None, status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, status_code=HTTP_200_OK, headers=headers, media_type="application/json")


def as_cached(answer: msgspec.Struct, if_none_match: str | None, locale: str) -> Response[Any]:
    body = msgspec.json.encode(answer)
    return cached(body, service.etag_of(body), service.LIST_MAX_AGE, if_none_match, locale)


async def provide_filters(
    conn: Conn,
    chosen: ShopLocale,  # (unused: resolved first, since both use the request's one connection in turn)
    category: CategoryQ,
    filter: FilterQ = None,
    price: PriceQ = None,
    in_stock: InStockQ = None,
    role: RoleQ = None,
    series: SeriesQ = None,
) -> listing.Filters:
    """The facets' query, parsed and checked: a 400 names what is wrong. (The category page takes the same
    parameters itself: listing.category_page reads the filters' context with its cards when it can.)"""
    return await listing.parse_filters(
        conn, category=category, filters=filter or [], price=price, in_stock=in_stock, role=role, series=series
    )


async def provide_locale(conn: Conn, locale: LocaleQ = None, accept_language: AcceptLanguageH = None) -> str:
    """The locale of an answer: `?locale=`, else Accept-Language, else the catalog's default."""
    return service.negotiate((await service.config(conn))[0], locale, accept_language)


ShopLocale = NamedDependency[str]
ShopFilters = NamedDependency[listing.Filters]
SHOP_FILTERS = {"shop_filters": Provide(provide_filters)}
SHOP_LOCALE = {"chosen": Provide(provide_locale)}


class StorefrontController(Controller):
    path = "/v1/storefront"
    tags = ["Storefront"]
    dependencies = SHOP_LOCALE
    opt = ON_REPLICA

    @get(
        "/categories",
        operation_id="getStorefrontCategories",
        summary="The shelves: a category tree with listed product counts",
        opt=ANYONE,
    )
    async def categories(
        self,
        conn: Conn,
        chosen: ShopLocale,
        tree: Annotated[str, QueryParameter(name="tree", max_length=64, description="A category tree code.")] = "web",
        if_none_match: IfNoneMatch = None,
    ) -> Response[Shelves]:
        """A tree as a shop renders it — shelves and home page: categories in position order under their
        parent, labels in the locale, and the count of listed products in each subtree. Empty branches stay
        in the answer with `listed_products: 0` (the shop decides whether to show them)."""
        return as_cached(await service.shelves(conn, tree, chosen), if_none_match, chosen)

    @get(
        "/products",
        operation_id="listStorefrontProducts",
        summary="A category page: listed products as cards",
        opt=ANYONE,
    )
    async def products(
        self,
        conn: Conn,
        chosen: ShopLocale,
        category: CategoryQ,
        filter: FilterQ = None,
        price: PriceQ = None,
        in_stock: InStockQ = None,
        role: RoleQ = None,
        series: SeriesQ = None,
        sort: SortQ = "position",
        limit: PageLimitQ = 50,
        cursor: CursorQ = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[CardPage]:
        """Listed products of a category subtree as cards (code, label, main image, the price to show and the
        regular price, in stock, series), filtered and sorted, one keyset page at a time (`next_cursor`;
        a cursor belongs to its query). Bad filters are a 400 naming the parameter."""
        query = listing.PageQuery(category, tuple(filter or ()), price, in_stock, role, series)
        page = await listing.category_page(conn, query, sort=sort, limit=limit, cursor=cursor, locale=chosen)
        return as_cached(page, if_none_match, chosen)

    @get(
        "/facets",
        operation_id="getStorefrontFacets",
        summary="The filters of a category page, with counts",
        opt=ANYONE,
        dependencies=SHOP_FILTERS,
    )
    async def facets(
        self,
        conn: Conn,
        chosen: ShopLocale,
        shop_filters: ShopFilters,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Facets]:
        """For the same query as the category page: each filterable public attribute of its products, in
        shopper-attention order, with its values (option labels) and how many products each would show —
        disjunctive: an attribute's own selection is left out when its values are counted — or its bounds
        for numbers and measurements (in the base unit); the price bounds (without the price filter); the
        total under every filter."""
        return as_cached(await facet_counts.facets(conn, shop_filters, chosen), if_none_match, chosen)

    @get(
        "/products/{code:str}",
        operation_id="getStorefrontProduct",
        summary="A product page",
        opt=ANYONE,
    )
    async def product(
        self,
        conn: Conn,
        chosen: ShopLocale,
        code: FromPath[str],
        if_none_match: IfNoneMatch = None,
    ) -> Response[StorefrontProduct]:
        """A listed product (404 in every other lifecycle state): labels, description, selling points,
        images, public attributes grouped and in shopper-attention order with option labels and units, SKUs
        with their axes, barcode, the price to show (the promotion price while one runs) and in stock, and
        each series with up to 12 of its listed products (by code). Sent as stored: one primary-key read."""
        page = await service.product_page(conn, code, chosen)
        return cached(page.body, page.etag, page.max_age, if_none_match, chosen)

    @get(
        "/search",
        operation_id="searchStorefront",
        summary="Search listed products",
        opt=ANYONE,
    )
    async def search(
        self,
        conn: Conn,
        chosen: ShopLocale,
        q: Annotated[
            str, QueryParameter(name="q", max_length=400, description="1 to 100 characters.", schema_extra=QUERY_TEXT)
        ],
        category: Annotated[
            str | None, QueryParameter(name="category", required=False, max_length=64, description="Within a subtree.")
        ] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=50, description="At most (default 20).")] = 20,
        if_none_match: IfNoneMatch = None,
    ) -> Response[CardPage]:
        """Over labels, selling points, SKU codes, barcodes, category and series labels, in any locale: an
        exact SKU, barcode or product code first; Chinese by characters and pairs of characters (丝巾 finds
        真丝方巾); English words also as the catalog words they may be typos of (`slik scraf` finds silk
        scarves) and as prefixes; the best-selling first."""
        return as_cached(
            await search.search(conn, q, category=category, limit=limit, locale=chosen), if_none_match, chosen
        )


@get(
    "/v1/service/lookup",
    operation_id="lookupForService",
    summary="Customer service: what to tell a shopper about a product",
    tags=["Customer service"],
    opt={**SERVICE, **ON_REPLICA},
    dependencies=SHOP_LOCALE,
)
async def service_lookup(
    conn: Conn,
    chosen: ShopLocale,
    principal: Actor,
    q: Annotated[
        str,
        QueryParameter(
            name="q",
            max_length=400,
            description="A SKU, a barcode, a product code or part of a name (1 to 100 characters).",
            schema_extra=QUERY_TEXT,
        ),
    ],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=20, description="At most (default 10).")] = 10,
) -> ServiceLookup:
    """Products in any lifecycle state matching the query, each with what an agent says: its role and
    what that means (promotion items with their running promotions, dates and price; destination and image
    items flagged), selling points, the service stage's information (care instructions …), per SKU the price
    to quote and the quantity available per warehouse (not bins), and the lifecycle state."""
    return await search.lookup(conn, principal, q, limit=limit, locale=chosen)


@get(
    "/v1/events",
    operation_id="listEvents",
    summary="The change feed",
    tags=["Change feed"],
    opt={**ANYONE, **ON_REPLICA, "problems": {410}},
)
async def list_events(
    conn: Conn,
    after: Annotated[
        int,
        QueryParameter(
            name="after",
            ge=-1,
            le=2**63 - 1,
            schema_extra={"maximum": 2**63 - 1},  # (Litestar writes `le` as a float: 2**63)
            description=(
                "The last id seen. 0: from the first event (a 410 once the retention has removed events: read"
                " afresh, then follow from -1). -1: none, only the newest id to follow from."
            ),
        ),
    ] = 0,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=1000, description="At most (default 100).")] = 100,
) -> EventPage:
    """What a cache or a search index of the storefront needs, in commit order: products listed,
    delisted, changed (`fields`: which parts of the page), in / out of stock; categories created, changed,
    removed. A price or a promotion that starts or ends with time is a `product.changed` within about a
    minute (the runner's refresh). Kept 7 days; an older cursor is a 410."""
    return await feed.events(conn, after, limit)
