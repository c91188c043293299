"""The storefront's, customer service's and the change feed's shapes and errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

import msgspec

from domain.errors import Gone, NotFound
from domain.money import Money

Sort = Literal["position", "price_asc", "price_desc", "newest", "best_selling"]
SORTS: tuple[str, ...] = get_args(Sort)


class ShelfCategory(msgspec.Struct, frozen=True, kw_only=True):
    """A category of a storefront tree: its label in the answer's locale, how many listed products its
    subtree holds (a product counts once however it hangs in it; 0 flags an empty branch, which is kept so
    that a shop decides itself whether to show it), and its children in position order."""

    code: str
    label: str | None
    position: int
    listed_products: int
    children: list[ShelfCategory]


class Shelves(msgspec.Struct, frozen=True, kw_only=True):
    """A category tree as a shop renders it: shelves and home page."""

    tree: str
    locale: str
    categories: list[ShelfCategory]


class Card(msgspec.Struct, frozen=True, kw_only=True):
    """A product as a category page or a search shows it. `price` is what the shop charges now (the
    promotion price while one runs), `regular_price` the sale price (shown struck through when higher): money
    in the shop's currency, null when there is none."""

    code: str
    label: str | None
    image: str | None
    role: str
    series: list[str]
    price: Money | None
    regular_price: Money | None
    in_stock: bool


class CardPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Card]
    next_cursor: str | None


class FacetValue(msgspec.Struct, frozen=True, kw_only=True):
    """One value of a select, multiselect or boolean attribute: how many products the page would show with
    it selected too (within the attribute, values are OR'ed)."""

    value: str
    label: str | None
    count: int
    selected: bool


class Facet(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A filterable public attribute of the products on the page, in shopper-attention order. Values for a
    select, multiselect or boolean; `min` / `max` (in `unit`, the family's base unit) for a number or a
    measurement."""

    attribute: str
    label: str | None
    type: str
    values: list[FacetValue] = []
    min: Decimal | None = None
    max: Decimal | None = None
    unit: str | None = None


class PriceBounds(msgspec.Struct, frozen=True, kw_only=True):
    """The lowest and highest price of the products on the page, in the shop's currency (null: no product)."""

    min: Money | None
    max: Money | None


class Facets(msgspec.Struct, frozen=True, kw_only=True):
    """The filters a category page offers under the current ones (each counted without its own selection)."""

    category: str
    total: int
    facets: list[Facet]
    price: PriceBounds


class DocumentAttribute(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str | None
    type: str
    value: Any
    display: str | None


class DocumentGroup(msgspec.Struct, frozen=True, kw_only=True):
    code: str | None
    label: str | None
    attributes: list[DocumentAttribute]


class DocumentPromotion(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str | None
    ends_at: datetime


class DocumentSku(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    barcode: str | None
    axes: dict[str, Any]
    price: Money | None
    regular_price: Money | None
    promotion: DocumentPromotion | None
    in_stock: bool


class DocumentRef(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str | None


class SeriesProduct(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str | None
    image: str | None


class DocumentSeries(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str | None
    products: list[SeriesProduct]


class StorefrontProduct(msgspec.Struct, frozen=True, kw_only=True):
    """A listed product's page in one locale (the schema of the stored bytes the route sends): public
    attributes grouped and in shopper-attention order, SKUs with the price to show (money in the shop's
    currency, null when there is none), its series each with up to 12 of its listed products (by code; this
    one among them when it is). Never a cost, a distribution price, a supplier or a bin."""

    code: str
    locale: str
    label: str | None
    description: str | None
    selling_points: list[str]
    images: list[str]
    role: DocumentRef
    category: DocumentRef
    attribute_groups: list[DocumentGroup]
    price: Money | None
    regular_price: Money | None
    in_stock: bool
    skus: list[DocumentSku]
    series: list[DocumentSeries]


class ServiceAvailability(msgspec.Struct, frozen=True, kw_only=True):
    warehouse: str
    available: int


class ServiceSku(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    barcode: str | None
    axes: dict[str, Any]
    price: Money | None
    regular_price: Money | None
    promotion: str | None
    available: list[ServiceAvailability]


class ServicePromotion(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    sku: str
    price: Money


class ServiceRole(msgspec.Struct, frozen=True, kw_only=True):
    """The product's role and what it means for the agent: `says` is the line to keep in mind."""

    code: str
    label: str | None
    description: str | None
    says: str


class ServiceNeed(msgspec.Struct, frozen=True, kw_only=True):
    item: str
    present: bool
    value: Any = None


class ServiceMatch(msgspec.Struct, frozen=True, kw_only=True):
    """One product found for a service agent: what to tell the shopper."""

    code: str
    label: str | None
    lifecycle: str
    listed: bool
    role: ServiceRole
    promotion_item: bool
    destination_item: bool
    image_item: bool
    promotions: list[ServicePromotion]
    selling_points: list[str]
    needs: list[ServiceNeed]
    skus: list[ServiceSku]
    matched_by: Literal["sku", "barcode", "code", "name"]


class ServiceLookup(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    locale: str
    items: list[ServiceMatch]


EventType = Literal[
    "product.listed",
    "product.delisted",
    "product.changed",
    "product.in_stock",
    "product.out_of_stock",
    "category.changed",
    "category.removed",
]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """One change a cache or a search index needs: a product's page changed (`fields`: which of its parts),
    it was listed or delisted, went in or out of stock; a category was created, changed (labels, parent,
    position) or removed. An event names what changed, never its values: read them from the storefront."""

    id: int
    at: datetime
    type: EventType
    code: str
    fields: list[str]


class EventPage(msgspec.Struct, frozen=True, kw_only=True):
    """Events after the cursor in commit order; `next_after` is the cursor of the next call (the same when
    nothing new happened)."""

    items: list[Event]
    next_after: int


class StorefrontProductNotFound(NotFound):
    """No listed product has this code (products in any other lifecycle state are not on the storefront)."""

    code = "storefront-product-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No listed product has the code {code!r}.")


class CursorExpired(Gone):
    """A change feed cursor older than the retention: events after it were removed; read the storefront
    afresh, then follow the feed from its newest id."""

    code = "cursor-expired"

    def __init__(self, after: int, horizon: int) -> None:
        super().__init__(
            f"Events up to id {horizon} were removed by the retention; the cursor {after} has missed some. "
            "Read the storefront afresh and follow the feed from GET /v1/events?after=-1 (the newest)."
        )
