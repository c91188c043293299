"""The storefront (sql/functions/storefront.sql keeps its read model): configuration and locales, the
shelves (navigation) and product pages. Category pages and facets: listing.py; search and customer
service's lookup: search.py; the change feed: feed.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from domain.errors import param_error
from domain.storefront import store
from domain.storefront.model import ShelfCategory, Shelves, StorefrontProductNotFound

# Configuration and locales ------------------------------------------------------------------------------

_config: tuple[tuple[str, ...], str] | None = None


async def config(conn: asyncpg.Connection) -> tuple[tuple[str, ...], str]:
    """The locales pages are made in (the first is the default) and the shop's currency: read once per
    process (storefront_config changes with a migration, which restarts the servers)."""
    global _config
    if _config is None:
        _config = await store.get_config(conn)
    return _config


def negotiate(locales: tuple[str, ...], asked: str | None, accept_language: str | None) -> str:
    """The locale of an answer: `?locale=` when the storefront has it, else the best of Accept-Language
    (quality order; `zh` matches `zh-CN`), else the default (the first configured)."""
    candidates: list[str] = []
    if asked:
        candidates.append(asked)
    if accept_language:
        weighted: list[tuple[float, int, str]] = []
        for n, part in enumerate(accept_language.split(",")[:20]):
            tag, _, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            if tag and q > 0:
                weighted.append((-q, n, tag.strip()))
        candidates += [tag for _, _, tag in sorted(weighted)]
    lowered = {loc.lower(): loc for loc in locales}
    for tag in candidates:
        exact = lowered.get(tag.lower())
        if exact:
            return exact
        language = tag.lower().split("-")[0]
        for loc in locales:
            if loc.lower().split("-")[0] == language:
                return loc
    return locales[0]


def now_utc() -> datetime:
    return datetime.now(UTC)


def localized(labels: Any, locale: str, default: str) -> str | None:
    if not labels:
        return None
    text = labels.get(locale) or labels.get(default) or next(iter(sorted(labels.items())))[1]
    return str(text)


# Navigation ---------------------------------------------------------------------------------------------


async def shelves(conn: asyncpg.Connection, tree: str, locale: str) -> Shelves:
    """A tree's categories nested in position order, each with its count of listed products."""
    if not await store.get_tree_exists(conn, tree):
        raise param_error("tree", "unknown_tree", f"No category tree has the code {tree!r}.")
    locales, _ = await config(conn)
    rows = await store.list_tree_categories(conn, tree)
    children: dict[int | None, list[ShelfCategory]] = {}
    # deepest first: a category's children are complete when it is built
    for row in sorted(rows, key=lambda r: (-r["depth"], r["parent_id"] or 0, r["position"], r["code"])):
        node = ShelfCategory(
            code=row["code"],
            label=localized(row["labels"], locale, locales[0]),
            position=row["position"],
            listed_products=row["listed_products"],
            children=children.pop(row["id"], []),
        )
        children.setdefault(row["parent_id"], []).append(node)
    roots = children.get(None, [])
    for nodes in children.values():
        nodes.sort(key=lambda n: (n.position, n.code))
    return Shelves(tree=tree, locale=locale, categories=sorted(roots, key=lambda n: (n.position, n.code)))


# Product page -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    etag: str
    max_age: int  # seconds a cache may keep it: at most 60, and never past the moment its price changes


MAX_AGE = 60
LIST_MAX_AGE = 30  # lists, facets, search and navigation


def etag_of(body: bytes) -> str:
    """The strong ETag of an answer computed on request (a list, facets, search, navigation): of its bytes."""
    return f'"{hashlib.sha256(body).hexdigest()[:24]}"'


def cache_headers(etag: str, max_age: int, locale: str) -> list[tuple[str, str]]:
    """The caching headers of every storefront answer (the route's and the fast lane's alike)."""
    return [
        ("ETag", etag),
        ("Cache-Control", f"public, max-age={max_age}"),
        ("Vary", "Accept-Language"),
        ("Content-Language", locale),
    ]


def _max_age(stale_at: datetime | None, now: datetime) -> int:
    if stale_at is None:
        return MAX_AGE
    return max(0, min(MAX_AGE, int((stale_at - now).total_seconds())))


async def product_page(conn: asyncpg.Connection, code: str, locale: str) -> Page:
    """A listed product's page in a locale: the stored bytes (computed now when they went stale)."""
    now = now_utc()
    row = await store.get_document(conn, code, locale, now)
    if row is None:
        raise StorefrontProductNotFound(code)
    return Page(body=bytes(row["body"]), etag=row["etag"], max_age=_max_age(row["stale_at"], now))
