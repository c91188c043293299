"""The only place that runs the storefront's statements (sql/queries/storefront.sql)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from domain.sql import load

Q = load("storefront")
GET_STOREFRONT_CONFIG = Q.get_storefront_config.sql
GET_DOCUMENT = Q.get_document.sql
GET_DOCUMENT_NOW = Q.get_document_now.sql
LIST_TREE_CATEGORIES = Q.list_tree_categories.sql
GET_TREE_EXISTS = Q.get_tree_exists.sql
GET_CATEGORY_ID = Q.get_category_id.sql
GET_FILTER_CONTEXT = Q.get_filter_context.sql
LIST_CARDS = Q.list_cards.sql
LIST_FACET_COUNTS = Q.list_facet_counts.sql
LIST_FACET_COMBOS = Q.list_facet_combos.sql
LIST_OPTION_LABELS = Q.list_option_labels.sql
LIST_CATEGORY_PRIORITIES = Q.list_category_priorities.sql
LIST_SIMILAR_WORDS = Q.list_similar_words.sql
LIST_EXACT_HITS = Q.list_exact_hits.sql
LIST_SEARCH_HITS = Q.list_search_hits.sql
LIST_LOOKUP_HITS = Q.list_lookup_hits.sql
LIST_SERVICE_DETAILS = Q.list_service_details.sql
LIST_EVENTS = Q.list_events.sql
GET_EVENTS_HORIZON = Q.get_events_horizon.sql
DELETE_OLD_EVENTS = Q.delete_old_events.sql
GET_LATEST_EVENT_ID = Q.get_latest_event_id.sql
LIST_FACET_ATTRIBUTES = Q.list_facet_attributes.sql


async def get_config(conn: asyncpg.Connection) -> tuple[tuple[str, ...], str]:
    row = await conn.fetchrow(GET_STOREFRONT_CONFIG)
    return tuple(row["locales"]), str(row["currency"])


async def get_document(conn: asyncpg.Connection, code: str, locale: str, now: datetime) -> asyncpg.Record | None:
    """The stored page when current, else the page computed now; None when no listed product has the code.
    (Two statements: one with both ways made every stored page ~40 µs slower to start.)"""
    row = await conn.fetchrow(GET_DOCUMENT, code, locale, now)
    if row is None:
        row = await conn.fetchrow(GET_DOCUMENT_NOW, code, locale, now)
    return row


async def list_tree_categories(conn: asyncpg.Connection, tree: str) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_TREE_CATEGORIES, tree))


async def get_tree_exists(conn: asyncpg.Connection, tree: str) -> bool:
    return bool(await conn.fetchval(GET_TREE_EXISTS, tree))


async def get_category_id(conn: asyncpg.Connection, code: str) -> int | None:
    value = await conn.fetchval(GET_CATEGORY_ID, code)
    return int(value) if value is not None else None


@dataclass(frozen=True)
class FilterContext:
    category_id: int | None  # None: no such category
    attributes: dict[str, Any]  # the named attributes by code, with their options
    role_known: bool  # (true when no role was named)
    series_known: bool
    fingerprint: str  # the stamp all the above was read with (merch_context_stamp; list_cards reads it again)


async def get_filter_context(
    conn: asyncpg.Connection, category: str, codes: list[str], role: str | None, series: str | None
) -> FilterContext:
    row = await conn.fetchrow(GET_FILTER_CONTEXT, category, codes, role, series)
    return FilterContext(
        category_id=row["category_id"],
        attributes={a["code"]: a for a in row["attributes"]},
        role_known=row["role_known"],
        series_known=row["series_known"],
        fingerprint=row["fingerprint"],
    )


async def list_option_labels(conn: asyncpg.Connection, attributes: list[str]) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_OPTION_LABELS, attributes))


async def list_category_priorities(conn: asyncpg.Connection, category_id: int) -> dict[str, int]:
    return {r["code"]: r["priority"] for r in await conn.fetch(LIST_CATEGORY_PRIORITIES, category_id)}


async def list_cards(conn: asyncpg.Connection, *args: Any) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_CARDS, *args))


async def list_facet_counts(
    conn: asyncpg.Connection,
    tokens: list[str],
    groups: dict[str, list[str]],
    ranges: dict[str, list[str | None]],
    price_min: Decimal | None,
    price_max: Decimal | None,
    attributes: list[str],
    any_of: list[str],
    numeric: list[str],
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(LIST_FACET_COUNTS, tokens, groups, ranges, price_min, price_max, attributes, any_of, numeric)
    )


async def list_facet_combos(
    conn: asyncpg.Connection,
    tokens: list[str],
    groups: dict[str, list[str]],
    ranges: dict[str, list[str | None]],
    any_of: list[str],
    attributes: list[str],
    numeric: list[str],
    category_id: int,
    index_terms: tuple[list[str], list[str], dict[str, list[str]]],
    probe: int,
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            LIST_FACET_COMBOS, tokens, groups, ranges, any_of, attributes, numeric, category_id, *index_terms, probe
        )
    )


async def list_similar_words(conn: asyncpg.Connection, words: list[str]) -> list[list[str]]:
    """Per word, the catalog words it may stand for (itself included when the catalog has it)."""
    found: list[list[str]] = [[] for _ in words]
    rows = await conn.fetch(LIST_SIMILAR_WORDS, words, ["".join(sorted(w)) for w in words])
    for row in rows:
        found[row["n"] - 1].append(row["word"])
    return found


async def list_exact_hits(
    conn: asyncpg.Connection, query: str, locale: str, default: str, now: datetime
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_EXACT_HITS, query, locale, default, now))


async def list_search_hits(
    conn: asyncpg.Connection,
    words: str | None,
    grams: list[str],
    category_id: int | None,
    limit: int,
    locale: str,
    default: str,
    now: datetime,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_SEARCH_HITS, words, grams, category_id, limit, locale, default, now))


async def list_lookup_hits(
    conn: asyncpg.Connection, words: str | None, grams: list[str], limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_LOOKUP_HITS, words, grams, limit))


async def list_service_details(
    conn: asyncpg.Connection, ids: list[int], currency: str, now: datetime
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_SERVICE_DETAILS, ids, currency, now))


async def list_events(conn: asyncpg.Connection, after: int, limit: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_EVENTS, after, limit))


async def get_events_horizon(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(GET_EVENTS_HORIZON))


async def get_latest_event_id(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(GET_LATEST_EVENT_ID))


async def delete_old_events(conn: asyncpg.Connection, hours: int) -> int:
    return int(await conn.fetchval(DELETE_OLD_EVENTS, hours) or 0)


async def list_facet_attributes(conn: asyncpg.Connection, types: list[str]) -> list[asyncpg.Record]:
    return list(await conn.fetch(LIST_FACET_ATTRIBUTES, types))
