"""Suppliers (供应商) and their terms per product (供应条款) — shapes, rules (the sourcing order) and errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from domain.errors import Conflict, FieldError, NotFound
from domain.money import CURRENCIES, Amount, Currency, Money, money_errors
from domain.types import SPACE, Code, Labels

SupplierType = Literal["manufacturer", "agent", "wholesaler", "trading_company"]
# The preferred order of sourcing, best first.
TIERS: tuple[SupplierType, ...] = ("manufacturer", "agent", "wholesaler", "trading_company")

ContactName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["王丽"])]
Phone = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\+?[0-9][0-9 ()-]{2,39}$",
        max_length=40,
        description="Digits, spaces, `(`, `)`, `-` and a leading `+`.",
        examples=["+86 571 8888 1234"],
    ),
]
_NOT_SPACE = rf"[^@{SPACE}]"
Email = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^{_NOT_SPACE}+@{_NOT_SPACE}+\.{_NOT_SPACE}+$", max_length=254, examples=["sales@silk.example.cn"]
    ),
]
ContactRole = Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["sales"])]


class Contact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A person to talk to at the supplier."""

    name: ContactName
    phone: Phone | None = None
    email: Email | None = None
    role: ContactRole | None = None


Contacts = Annotated[list[Contact], msgspec.Meta(max_length=20, description="At most 20 contacts.")]


class SupplierFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a supplier (body of PUT)."""

    type: SupplierType
    labels: Labels = {}
    contacts: Contacts = []
    active: bool = True


class SupplierCreate(SupplierFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/suppliers."""

    code: Code


class SupplierPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a supplier: absent fields stay, `null` in `labels` removes a locale, `contacts`
    is replaced as a whole."""

    type: SupplierType | msgspec.UnsetType = msgspec.UNSET
    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    contacts: Contacts | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class Supplier(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    type: SupplierType
    labels: dict[str, str]
    contacts: list[Contact]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class SupplierPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of suppliers."""

    items: list[Supplier]
    next_cursor: str | None


class LockedSupplier(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier locked for a write, with its row id."""

    id: int
    supplier: Supplier


# ---------------------------------------------------------------------------------------------- terms

# Purchase prices may carry two more decimals than the currency's minor unit (e.g. 4 for CNY), but never more
# than the 4 the column (numeric(18, 4)) keeps: BHD, with 3, gets one more.
EXTRA_DECIMALS = 2
STORED_DECIMALS = 4

Moq = Annotated[int, msgspec.Meta(ge=1, le=100_000_000, description="Minimum order quantity (at least 1).")]
LeadTimeDays = Annotated[
    int, msgspec.Meta(ge=0, le=3650, description="Days from order to delivery, 0 to 3650.", examples=[14])
]
PURCHASE_PRICE_DOC = (
    "The purchase price: an exact decimal string in an ISO 4217 currency, with at most two more decimals than "
    "the currency has (4 for CNY); never negative."
)


class TermsFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a product's terms with a supplier (body of PUT)."""

    purchase_price: Annotated[Money, msgspec.Meta(description=PURCHASE_PRICE_DOC)]
    moq: Moq = 1
    lead_time_days: LeadTimeDays = 0
    preferred: Annotated[
        bool,
        msgspec.Meta(description="The product's preferred supplier; setting it un-prefers the previous one."),
    ] = False


class TermsCreate(TermsFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/products/{code}/suppliers."""

    supplier: Code


class MoneyPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A merge patch of an amount of money: absent fields stay."""

    amount: Amount | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET


class TermsPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a product's terms with a supplier: absent fields stay."""

    purchase_price: MoneyPatch | msgspec.UnsetType = msgspec.UNSET
    moq: Moq | msgspec.UnsetType = msgspec.UNSET
    lead_time_days: LeadTimeDays | msgspec.UnsetType = msgspec.UNSET
    preferred: bool | msgspec.UnsetType = msgspec.UNSET


class ProductSupplier(msgspec.Struct, frozen=True, kw_only=True):
    """A product's terms with one supplier; in a ranked list also its `rank` (1-based), the `reason` for its
    place and the `tie_breaker`: the criterion that put it before the next one (`active`, `tier`,
    `currency`, `price`, `lead_time` or `code`; null for the last)."""

    product: str
    supplier: str
    supplier_type: SupplierType
    supplier_active: bool
    purchase_price: Money
    moq: int
    lead_time_days: int
    preferred: bool
    version: int
    created_at: datetime
    updated_at: datetime
    # Only in a ranked list (UNSET fields are left out of the JSON).
    rank: int | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType = msgspec.UNSET
    tie_breaker: str | msgspec.UnsetType | None = msgspec.UNSET


class ProductSupplierPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a product's supplier terms."""

    items: list[ProductSupplier]
    next_cursor: str | None


class LockedTerms(msgspec.Struct, frozen=True, kw_only=True):
    """A product's terms with a supplier locked for a write, with the ids of both."""

    product_id: int
    supplier_id: int
    terms: ProductSupplier


class RankKey(msgspec.Struct, frozen=True, kw_only=True):
    """An entry's sort key in the ranked list (an inactive supplier's tier, currency, price and lead time are
    constants: they rank by code alone)."""

    inactive: bool
    tier: int
    currency: str
    price: Decimal
    lead_time: int
    supplier: str


class RankedTerms(msgspec.Struct, frozen=True, kw_only=True):
    """A product's terms with their sort key in the ranked list."""

    terms: ProductSupplier
    key: RankKey


def ref(product: str, supplier: str) -> str:
    """How a product's terms with a supplier are named in messages and the audit trail."""
    return f"{product}/{supplier}"


def same_terms(t: ProductSupplier, fields: TermsFields) -> bool:
    """Whether a write would change nothing (amounts compare as numbers: "38.5" is "38.50")."""
    return (
        Decimal(t.purchase_price.amount) == Decimal(fields.purchase_price.amount)
        and t.purchase_price.currency == fields.purchase_price.currency
        and (t.moq, t.lead_time_days, t.preferred) == (fields.moq, fields.lead_time_days, fields.preferred)
    )


def price_errors(fields: TermsFields) -> list[FieldError]:
    """What is wrong with a purchase price (it may carry EXTRA_DECIMALS more decimals than its currency)."""
    minor = CURRENCIES.get(fields.purchase_price.currency, 0)
    extra = min(EXTRA_DECIMALS, STORED_DECIMALS - minor)
    return money_errors(fields.purchase_price, "/purchase_price", extra_decimals=extra)


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def reason(t: ProductSupplier) -> str:
    """Why a supplier sits where it does in the ranked list, e.g. "manufacturer; 38.50 CNY; 14 days"."""
    if not t.supplier_active:
        return "inactive"
    price = t.purchase_price
    return f"{t.supplier_type}; {price.amount} {price.currency}; {_days(t.lead_time_days)}"


def _key(t: ProductSupplier) -> tuple[Any, ...]:
    if not t.supplier_active:
        return (True, 0, "", Decimal(0), 0, t.supplier)
    price = t.purchase_price
    return (
        False,
        TIERS.index(t.supplier_type) + 1,
        price.currency,
        Decimal(price.amount),
        t.lead_time_days,
        t.supplier,
    )


_CRITERIA = ("active", "tier", "currency", "price", "lead_time", "code")


def tie_breaker(t: ProductSupplier, following: ProductSupplier | None) -> str | None:
    """The first criterion on which `t` and the entry after it differ (None for the last entry)."""
    if following is None:
        return None
    for name, a, b in zip(_CRITERIA, _key(t), _key(following), strict=True):
        if a != b:
            return name
    return "code"


def ranked(entries: list[ProductSupplier], following: ProductSupplier | None, first_rank: int) -> list[ProductSupplier]:
    """Entries (already in ranked order) with their rank, reason and tie breaker."""
    out = []
    for i, t in enumerate(entries):
        after = entries[i + 1] if i + 1 < len(entries) else following
        out.append(msgspec.structs.replace(t, rank=first_rank + i, reason=reason(t), tie_breaker=tie_breaker(t, after)))
    return out


# ---------------------------------------------------------------------------------------------- errors


class SupplierNotFound(NotFound):
    """No supplier has the code the request names."""

    code = "supplier-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No supplier has the code {code!r}.")


class SupplierExists(Conflict):
    """A supplier with the code exists already."""

    code = "supplier-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"A supplier with the code {code!r} exists already.")


class ProductSupplierNotFound(NotFound):
    """The product has no terms with the supplier the request names."""

    code = "product-supplier-not-found"

    def __init__(self, product: str, supplier: str) -> None:
        super().__init__(f"Product {product!r} has no terms with supplier {supplier!r}.")


class ProductSupplierExists(Conflict):
    """A product has terms with the supplier already (POST); PUT or PATCH changes them."""

    code = "product-supplier-exists"

    def __init__(self, product: str, supplier: str) -> None:
        super().__init__(
            f"Product {product!r} has terms with supplier {supplier!r} already; change them with PUT or PATCH."
        )
