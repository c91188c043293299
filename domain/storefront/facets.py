"""Facets of a category page: for each filterable public attribute of the products under the filters, its values
with disjunctive counts (an attribute's own selection left out) or its bounds, in shopper-attention order, and the
price bounds — from the category's kept combinations of shelf tokens and numbers (storefront_shelf_combos), or from
the shelf rows when a price range is given."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from domain.attributes.units import FAMILIES
from domain.money import money
from domain.storefront import store
from domain.storefront.listing import FILTER_TYPES, PROBE_ROWS, RANGE_TYPES, Filters, plain, unit_of
from domain.storefront.model import Facet, Facets, FacetValue, PriceBounds
from domain.storefront.service import config, localized


async def facets(conn: asyncpg.Connection, filters: Filters, locale: str) -> Facets:
    """Per filterable public attribute of the products on the page: its values with disjunctive counts (or
    its bounds), in shopper-attention order; the price bounds."""
    locales, currency = await config(conn)
    candidates = await store.list_facet_attributes(conn, list(FILTER_TYPES))
    by_code = {r["code"]: r for r in candidates}
    # a row that fails at most one filter passes at least one of two or more groups
    union = [t for g in filters.groups.values() for t in g] if len(filters.groups) > 1 else [filters.category_token]
    numeric = sorted(c for c, a in by_code.items() if a["type"] in RANGE_TYPES)
    tokens = [filters.category_token, *filters.tokens]
    if filters.price_min is None and filters.price_max is None:
        # what passes depends on tokens and numbers alone: counted from the category's combinations of them
        rows = await store.list_facet_combos(
            conn,
            tokens,
            filters.groups,
            filters.ranges,
            union,
            sorted(by_code),
            numeric,
            filters.category_id,
            filters.index_terms(),
            PROBE_ROWS,
        )
    else:  # a price range: from the shelf rows that pass all filters but one
        rows = await store.list_facet_counts(
            conn,
            tokens,
            filters.groups,
            filters.ranges,
            filters.price_min,
            filters.price_max,
            sorted(by_code),
            union,
            numeric,
        )
    values: dict[str, list[tuple[str, int]]] = {}
    ranges: dict[str, tuple[Decimal, Decimal]] = {}
    price = PriceBounds(min=None, max=None)
    total = 0
    for row in rows:
        if row["kind"] == "value":
            values.setdefault(row["attribute"], []).append((row["value"], row["n"]))
        elif row["kind"] == "total":
            total = row["n"]
            low, high = row["low"], row["high"]
            price = PriceBounds(
                min=None if low is None else money(low, currency),
                max=None if high is None else money(high, currency),
            )
        else:
            ranges[row["attribute"]] = (row["low"], row["high"])
    priorities = await store.list_category_priorities(conn, filters.category_id)
    labels: dict[str, dict[str, tuple[int, Any]]] = {}
    for row in await store.list_option_labels(conn, sorted(values)):  # the options of the facets shown only
        labels.setdefault(row["attribute"], {})[row["option"]] = (row["position"], row["labels"])
    out: list[tuple[int, str, Facet]] = []
    for code in sorted(set(values) | set(ranges)):
        attribute = by_code[code]
        priority = priorities.get(code, attribute["display_priority"])
        label = localized(attribute["labels"], locale, locales[0])
        if code in ranges:
            low, high = ranges[code]
            unit = unit_of(attribute) if attribute["type"] == "measurement" else None
            if unit is not None:  # bounds in the unit the attribute is entered in
                factor = FAMILIES[attribute["unit_family"]][unit]
                low, high = plain(low / factor), plain(high / factor)
            facet = Facet(attribute=code, label=label, type=attribute["type"], min=low, max=high, unit=unit)
            out.append((priority, code, facet))
            continue
        selected = set(filters.groups.get(code, []))
        options = labels.get(code, {})
        entries = sorted(values[code], key=lambda vn: (options.get(vn[0], (1 << 30, None))[0], vn[0]))
        facet_values = [
            FacetValue(
                value=v,
                label=localized(options[v][1], locale, locales[0]) if v in options else v,
                count=n,
                selected=f"{code}={v}" in selected,
            )
            for v, n in entries
        ]
        out.append((priority, code, Facet(attribute=code, label=label, type=attribute["type"], values=facet_values)))
    out.sort(key=lambda x: (-x[0], x[1]))
    return Facets(category=filters.category, total=total, facets=[f for _, _, f in out], price=price)
