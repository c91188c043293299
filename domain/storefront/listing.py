"""Category pages and their facets: the filters a front end sends, parsed and checked, and the cards and
counts of the listed products under them (storefront_products: sql/functions/storefront.sql)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
import msgspec

from domain.attributes.units import FAMILIES
from domain.errors import DomainError, param_error
from domain.money import money
from domain.paging import decode_cursor, split_page
from domain.storefront import store
from domain.storefront.model import SORTS, Card, CardPage
from domain.storefront.service import config, now_utc

MAX_FILTERS = 20
# A category page walks up to this many rows of the category's shelf in the sort's order before it takes
# every match from the tokens' index instead (merch_storefront_listing): filters that more than about one
# product in a hundred passes fill a page of 50 within the walk.
PROBE_ROWS = 5000
MAX_VALUES = 50
FILTER_TYPES = ("select", "multiselect", "boolean", "integer", "decimal", "measurement")
RANGE_TYPES = ("integer", "decimal", "measurement")
BASE_UNITS = {family: next(u for u, f in units.items() if f == 1) for family, units in FAMILIES.items()}
_NUMBER = r"-?\d{1,15}(?:\.\d{1,6})?"
_RANGE = re.compile(rf"^(?P<low>{_NUMBER})?(?P<lu>[a-z][a-z0-9_]*)?\.\.(?P<high>{_NUMBER})?(?P<hu>[a-z][a-z0-9_]*)?$")
# the range's form with bounds of any length: a text it matches and _RANGE does not has a bound too long
_LOOSE_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?)?([a-z][a-z0-9_]*)?\.\.(-?\d+(?:\.\d+)?)?([a-z][a-z0-9_]*)?$")

# Filters ------------------------------------------------------------------------------------------------


@dataclass
class Filters:
    """A category page's query, parsed and checked: tokens every product carries, groups of tokens of which
    one (per attribute), numeric ranges in base units, price bounds."""

    category: str
    category_id: int
    tokens: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, list[str | None]] = field(default_factory=dict)
    price_min: Decimal | None = None
    price_max: Decimal | None = None

    @property
    def category_token(self) -> str:
        return f"c:{self.category_id}"

    def index_terms(self) -> tuple[list[str], list[str], dict[str, list[str]]]:
        """What the tokens' GIN index answers: tokens every product carries (the category's, the single
        values of attributes, role, series, in stock), tokens of which one (the first attribute with several
        values; else the category's again); and the other attributes with several values, checked row by row."""
        tokens = [self.category_token, *self.tokens] + [g[0] for g in self.groups.values() if len(g) == 1]
        several = [g for g in self.groups.items() if len(g[1]) > 1]
        any_of = several[0][1] if several else [self.category_token]
        return tokens, any_of, dict(several[1:])

    def fingerprint(self, sort: str) -> str:
        raw = msgspec.json.encode(
            [
                self.category,
                sorted(self.tokens),
                sorted(self.groups.items()),
                sorted(self.ranges.items()),
                str(self.price_min),
                str(self.price_max),
                sort,
            ]
        )
        return hashlib.sha256(raw).hexdigest()[:16]


def _decimal(text: str, parameter: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise param_error(parameter, "invalid_number", f"{text!r} is not a number.") from None
    if not value.is_finite():
        raise param_error(parameter, "invalid_number", f"{text!r} is not a finite number.")
    return value


def parse_range(text: str, parameter: str) -> tuple[Decimal | None, Decimal | None, str | None]:
    """`min..max`, either side optional, with an optional unit after a bound (`50cm..90cm`, `50..90cm`)."""
    m = _RANGE.match(text)
    if m is None and _LOOSE_RANGE.match(text):
        raise param_error(
            parameter,
            "invalid_range",
            f"{text!r}: a bound has at most 15 digits before the decimal point and 6 after it.",
        )
    if m is None or (m["low"] is None and m["high"] is None):
        raise param_error(
            parameter,
            "invalid_range",
            f"{text!r} is not a range: write min..max (either side may be left out), e.g. 50..90cm or ..300.",
        )
    units = {u for u in (m["lu"], m["hu"]) if u}
    if len(units) > 1:
        raise param_error(parameter, "invalid_range", f"{text!r} names two units; give one.")
    low = _decimal(m["low"], parameter) if m["low"] else None
    high = _decimal(m["high"], parameter) if m["high"] else None
    if low is not None and high is not None and low > high:
        raise param_error(parameter, "reversed_range", f"{text!r}: the lower bound is above the upper one.")
    return low, high, units.pop() if units else None


async def parse_filters(
    conn: asyncpg.Connection,
    *,
    category: str,
    filters: list[str],
    price: str | None,
    in_stock: bool | None,
    role: str | None,
    series: str | None,
) -> Filters:
    query = PageQuery(category, tuple(filters), price, in_stock, role, series)
    context = await store.get_filter_context(conn, category, list(query.attribute_codes), role, series)
    _remember(query, context)
    return checked(query, context)


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A category page's query as sent: what its filters are checked from."""

    category: str
    filters: tuple[str, ...]
    price: str | None = None
    in_stock: bool | None = None
    role: str | None = None
    series: str | None = None

    # each filter as (attribute, value), ("", filter) for one that is not attribute:value; the attributes named —
    # worked out once, when the query is made (a page reads them several times)
    split: tuple[tuple[str, str], ...] = field(init=False, compare=False)
    attribute_codes: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        split = []
        for raw in self.filters[: MAX_FILTERS + 1]:
            code, sep, value = raw.partition(":")
            split.append((code, value) if sep and code and value else ("", raw))
        object.__setattr__(self, "split", tuple(split))
        object.__setattr__(self, "attribute_codes", tuple(sorted({c for c, _ in split if c})))

    @property
    def context_key(self) -> tuple[str, tuple[str, ...], str | None, str | None]:
        """What its filter context is read by (store.get_filter_context)."""
        return self.category, self.attribute_codes, self.role, self.series


def checked(query: PageQuery, context: store.FilterContext) -> Filters:
    """The query's filters checked against its context: a 400 names what is wrong."""
    category, filters, price, in_stock, role, series = (
        query.category,
        query.filters,
        query.price,
        query.in_stock,
        query.role,
        query.series,
    )
    split = query.split
    if context.category_id is None:
        raise param_error("category", "unknown_category", f"No category has the code {category!r}.")
    parsed = Filters(category=category, category_id=context.category_id)
    attributes = context.attributes
    if in_stock:
        parsed.tokens.append("in-stock")
    for kind, named, known in (("role", role, context.role_known), ("series", series, context.series_known)):
        if named is not None:
            if not known:
                raise param_error(kind, f"unknown_{kind}", f"No {kind} has the code {named!r}.")
            parsed.tokens.append(f"{kind}:{named}")
    if price is not None:
        parsed.price_min, parsed.price_max, unit = parse_range(price, "price")
        if unit is not None:
            raise param_error("price", "invalid_range", "A price range takes no unit: it is in the shop's currency.")
    if len(filters) > MAX_FILTERS:
        raise param_error("filter", "too_many_filters", f"At most {MAX_FILTERS} filters.")
    for code, value in split:
        if not code:
            raise param_error(
                "filter",
                "invalid_filter",
                f"{value!r} is not a filter: write attribute:value[,value…] or attribute:min..max.",
            )
    options = {code: set(a["options"]) for code, a in attributes.items()}
    for code, value in split:
        attribute = attributes.get(code)
        if attribute is None:
            raise param_error("filter", "unknown_attribute", f"No attribute has the code {code!r}.")
        if attribute["visibility"] != "public" or not attribute["filterable"] or attribute["type"] not in FILTER_TYPES:
            raise param_error(
                "filter", "not_a_filter", f"The attribute {code!r} is not a storefront filter (public and filterable)."
            )
        kind = attribute["type"]
        if kind in RANGE_TYPES:
            if code in parsed.ranges:
                raise param_error("filter", "repeated_filter", f"The range of {code!r} is given twice.")
            low, high, unit = parse_range(value, "filter")
            family = attribute["unit_family"]
            if kind != "measurement" and unit is not None:
                raise param_error("filter", "invalid_range", f"{code!r} is a number without a unit.")
            if kind == "measurement":
                factors = FAMILIES.get(family or "", {})
                unit = unit or unit_of(attribute)
                if unit not in factors:
                    raise param_error(
                        "filter",
                        "invalid_unit",
                        f"{unit!r} is not a unit of {family or 'this attribute'} ({', '.join(factors)}).",
                    )
                low = None if low is None else low * factors[unit]
                high = None if high is None else high * factors[unit]
            parsed.ranges[code] = [None if low is None else str(low), None if high is None else str(high)]
            continue
        values = value.split(",")
        if len(values) > MAX_VALUES:
            raise param_error("filter", "too_many_values", f"At most {MAX_VALUES} values per filter.")
        for v in values:
            if kind == "boolean" and v not in ("true", "false"):
                raise param_error("filter", "invalid_value", f"{code!r} is true or false, not {v!r}.")
            if kind != "boolean" and v not in options.get(code, set()):
                raise param_error("filter", "unknown_option", f"{code!r} has no option {v!r}.")
        bucket = parsed.groups.setdefault(code, [])
        bucket += [f"{code}={v}" for v in values if f"{code}={v}" not in bucket]
    return parsed


def unit_of(attribute: Mapping[str, Any]) -> str | None:
    """The unit a measurement's bare numbers are in: its default unit, else its family's base unit."""
    family = attribute["unit_family"]
    units = FAMILIES.get(family or "", {})
    default = attribute["default_unit"]
    return default if default in units else BASE_UNITS.get(family or "")


def plain(value: Decimal) -> Decimal:
    """A decimal without trailing zeros and never in exponent form (70, not 7E+1)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


# Category page and facets -------------------------------------------------------------------------------


def card(row: asyncpg.Record) -> Card:
    """A card from a row of merch_storefront_card's columns (category pages, search)."""
    return Card(
        code=row["code"],
        label=row["label"],
        image=row["image"],
        role=row["role"],
        series=list(row["series"]),
        price=None if row["price"] is None else money(row["price"], row["currency"]),
        regular_price=None if row["regular"] is None else money(row["regular"], row["currency"]),
        in_stock=row["in_stock"],
    )


# The filter contexts this process has read, by what they are read by (PageQuery.context_key): a page of a
# query whose context is known runs one statement, which reads the contexts' stamp (migration 0029) and stands
# only if the stamp is the one the context was read with: nothing a context is read from changed since (else the
# page is made afresh from the context read first, as for a query never seen).
_contexts: dict[tuple[str, tuple[str, ...], str | None, str | None], store.FilterContext] = {}
MAX_CONTEXTS = 1000


def _remember(query: PageQuery, context: store.FilterContext) -> None:
    if len(_contexts) >= MAX_CONTEXTS:
        _contexts.clear()
    _contexts[query.context_key] = context


async def category_page(
    conn: asyncpg.Connection, query: PageQuery, *, sort: str, limit: int, cursor: str | None, locale: str
) -> CardPage:
    """Listed products of the category subtree under the filters, one keyset page at a time."""
    known = _contexts.get(query.context_key)
    if known is not None:
        try:
            page = await _cards(conn, query, known, sort=sort, limit=limit, cursor=cursor, locale=locale)
        except DomainError:
            page = None  # (a refusal is judged on the context read afresh)
        if page is not None:
            return page
    codes = list(query.attribute_codes)
    context = await store.get_filter_context(conn, query.category, codes, query.role, query.series)
    _remember(query, context)
    page = await _cards(conn, query, context, sort=sort, limit=limit, cursor=cursor, locale=locale, fresh=True)
    assert page is not None
    return page


async def _cards(
    conn: asyncpg.Connection,
    query: PageQuery,
    context: store.FilterContext,
    *,
    sort: str,
    limit: int,
    cursor: str | None,
    locale: str,
    fresh: bool = False,
) -> CardPage | None:
    """The page under the filters checked against `context`; None when the context read with the cards is not
    that one (unless it is `fresh`: read just before, as the two reads of a page always were)."""
    filters = checked(query, context)
    if sort not in SORTS:
        raise param_error("sort", "unknown_sort", f"{sort!r} is not a sort; use one of {', '.join(SORTS)}.")
    fingerprint = filters.fingerprint(sort)
    key = decode_cursor(cursor, (str, str, int))
    if key is not None and key[0] != fingerprint:
        raise param_error("cursor", "invalid_cursor", "The cursor belongs to another query (filters or sort changed).")
    after_k = after_id = None
    if key is not None:
        try:
            after_k = Decimal(key[1])
        except InvalidOperation:
            after_k = Decimal("NaN")
        after_id = key[2]
        if not after_k.is_finite() or not 0 <= after_id < 2**63:
            raise param_error("cursor", "invalid_cursor", "The cursor is not one this list handed out.")
    tokens, any_of, groups = filters.index_terms()
    locales, _ = await config(conn)
    rows = await store.list_cards(
        conn,
        filters.category_id,
        tokens,
        any_of,
        groups,
        filters.ranges,
        filters.price_min,
        filters.price_max,
        sort,
        after_k,
        after_id,
        limit + 1,
        PROBE_ROWS,
        locale,
        locales[0],
        now_utc(),
    )
    if not fresh and rows[0]["fingerprint"] != context.fingerprint:
        return None
    rows = [r for r in rows if r["product_id"] is not None]
    rows, next_cursor = split_page(rows, limit, lambda r: [fingerprint, str(r["k"]), r["product_id"]])
    return CardPage(items=[card(r) for r in rows], next_cursor=next_cursor)
