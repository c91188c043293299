"""Search (storefront) and customer service's lookup: a query's exact form (SKU, barcode, code), its Latin
words with the catalog words they may be typos of, its CJK characters and pairs; and what an agent tells a
shopper of each product found."""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg
import msgspec

from domain.errors import param_error
from domain.keys.model import Principal
from domain.stages.views import stage_views
from domain.storefront import store
from domain.storefront.listing import card
from domain.storefront.model import (
    CardPage,
    ServiceLookup,
    ServiceMatch,
    ServiceNeed,
    ServicePromotion,
    ServiceRole,
    ServiceSku,
)
from domain.storefront.service import config, localized, now_utc

MAX_QUERY = 100
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
ROLE_SAYS = {
    "destination": "Destination item: a focus of traffic and sales — recommend it, and check availability first.",
    "routine": "Routine item: the everyday range — quote the regular price.",
    "image": "Image item: a flagship of the brand — speak to quality, material and craft.",
    "promotion": "Promotion item: quote the promotion price and when it ends.",
}


# Search and customer service ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    exact: str
    words: str | None
    grams: list[str]


async def parse_query(conn: asyncpg.Connection, q: str) -> Query:
    """A shopper's or an agent's query: the whole of it for an exact SKU, barcode or code; its Latin words
    (each also as the catalog words it may be a typo of, and as a prefix); its CJK characters as pairs."""
    text = q.strip()
    if not text:
        raise param_error("q", "empty_query", "The search query is empty.")
    if len(text) > MAX_QUERY:
        raise param_error("q", "query_too_long", f"A search query has at most {MAX_QUERY} characters.")
    lowered = text.lower()
    grams: list[str] = []
    for run in _CJK.findall(lowered):
        grams += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    words = _WORD.findall(_CJK.sub(" ", lowered))[:10]
    typos = [w for w in words if len(w) >= 3 and w.isalpha()]  # worth a look for what they may stand for
    similar = dict(zip(typos, await store.list_similar_words(conn, typos), strict=True)) if typos else {}
    terms = ["(" + " | ".join([f"{word}:*", *(w for w in similar.get(word, []) if w != word)]) + ")" for word in words]
    return Query(exact=text, words=" & ".join(terms) or None, grams=sorted(set(grams)))


async def _hits(
    conn: asyncpg.Connection, query: Query, *, shop: bool, category_id: int | None, limit: int, locale: str
) -> list[tuple[asyncpg.Record, bool]]:
    """The products a query finds, exact ones (SKU, barcode, code) first, each with whether it was exact.
    For the shop (`shop`): listed ones only, within the category, with their cards; for customer service:
    any."""
    locales, _ = await config(conn)
    now = now_utc()
    exact = [
        r
        for r in await store.list_exact_hits(conn, query.exact, locale, locales[0], now)
        if not shop or (r["listed"] and (category_id is None or category_id in r["categories"]))
    ]
    seen = {r["product_id"] for r in exact}
    found: list[asyncpg.Record] = []
    if query.words is not None or query.grams:
        wanted = limit + len(seen)
        if shop:
            found = await store.list_search_hits(
                conn, query.words, query.grams, category_id, wanted, locale, locales[0], now
            )
        else:
            found = await store.list_lookup_hits(conn, query.words, query.grams, wanted)
    hits = [(r, True) for r in exact] + [(r, False) for r in found if r["product_id"] not in seen]
    return hits[:limit]


async def search(conn: asyncpg.Connection, q: str, *, category: str | None, limit: int, locale: str) -> CardPage:
    """Listed products matching a query: an exact SKU, barcode or code first, then the best-selling."""
    category_id = None
    if category is not None:
        category_id = await store.get_category_id(conn, category)
        if category_id is None:
            raise param_error("category", "unknown_category", f"No category has the code {category!r}.")
    query = await parse_query(conn, q)
    hits = await _hits(conn, query, shop=True, category_id=category_id, limit=limit, locale=locale)
    return CardPage(items=[card(row) for row, _exact in hits], next_cursor=None)


async def lookup(conn: asyncpg.Connection, principal: Principal, q: str, *, limit: int, locale: str) -> ServiceLookup:
    """What a service agent tells a shopper of the products a SKU, a barcode, a code or part of a name
    finds, in any lifecycle state."""
    query = await parse_query(conn, q)
    hits = await _hits(conn, query, shop=False, category_id=None, limit=limit, locale=locale)
    locales, currency = await config(conn)
    ids = [r["product_id"] for r, _ in hits]
    details = {r["id"]: r for r in await store.list_service_details(conn, ids, currency, now_utc())}
    views = await stage_views(conn, principal, [details[i]["code"] for i in ids], "service")
    items = []
    for (row, was_exact), view in zip(hits, views, strict=True):
        d = details[row["product_id"]]
        skus, promotions = d["skus"], d["promotions"]
        exact = query.exact.lower()
        matched = "name"
        if was_exact:
            if any(s["barcode"] == query.exact for s in skus):
                matched = "barcode"
            elif any(s["sku"].lower() == exact for s in skus):
                matched = "sku"
            else:
                matched = "code"
        selling = d["selling_points"]
        items.append(
            ServiceMatch(
                code=d["code"],
                label=localized(d["labels"], locale, locales[0]),
                lifecycle=d["lifecycle"],
                listed=row["listed"],
                role=ServiceRole(
                    code=d["role"],
                    label=localized(d["role_labels"], locale, locales[0]),
                    description=localized(d["role_description"], locale, locales[0]),
                    says=ROLE_SAYS.get(d["role"], ""),
                ),
                promotion_item=d["role"] == "promotion",
                destination_item=d["role"] == "destination",
                image_item=d["role"] == "image",
                promotions=[msgspec.convert(p, ServicePromotion) for p in promotions],
                selling_points=[localized(sp, locale, locales[0]) or "" for sp in selling],
                needs=[ServiceNeed(item=i.item, present=i.present, value=i.value) for i in view.items],
                skus=[msgspec.convert(s, ServiceSku) for s in skus],
                matched_by=matched,  # type: ignore[arg-type]
            )
        )
    return ServiceLookup(query=q, locale=locale, items=items)
