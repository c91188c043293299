"""Price items of the stage views (sale, cost and distribution price in force, price history, running
promotions, margin), computed from two reads per view."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg

from domain.money import Money, money
from domain.prices import store


async def list_product_prices(conn: asyncpg.Connection, product_ids: list[int]) -> dict[int, list[asyncpg.Record]]:
    """Every price of some products' SKUs, each flagged `in_force` now, by product."""
    return _by_product(await store.list_product_prices(conn, product_ids))


async def list_product_promotions(conn: asyncpg.Connection, product_ids: list[int]) -> dict[int, list[asyncpg.Record]]:
    """The items of active promotions running now that cover some products' SKUs, by product."""
    return _by_product(await store.list_product_promotions(conn, product_ids))


def _by_product(rows: list[asyncpg.Record]) -> dict[int, list[asyncpg.Record]]:
    grouped: dict[int, list[asyncpg.Record]] = {}
    for r in rows:
        grouped.setdefault(r["product_id"], []).append(r)
    return grouped


def _in_force(prices: Iterable[asyncpg.Record], kind: str) -> dict[str, Money]:
    # Rows come per SKU newest first; with several currencies in force the first by code is shown.
    found: dict[str, Money] = {}
    for r in sorted(
        (r for r in prices if r["in_force"] and r["kind"] == kind), key=lambda r: (r["sku"], r["currency"])
    ):
        found.setdefault(r["sku"], money(Decimal(r["amount"]), r["currency"]))
    return found


def prices_in_force(prices: list[asyncpg.Record], kind: str) -> dict[str, Money] | None:
    """{sku: price} of one kind in force now; None when no SKU has one."""
    return _in_force(prices, kind) or None


def price_history(prices: list[asyncpg.Record]) -> dict[str, list[dict[str, Any]]] | None:
    """{sku: every price period, newest first}; None when there is none."""
    history: dict[str, list[dict[str, Any]]] = {}
    for r in prices:
        history.setdefault(r["sku"], []).append(
            {
                "kind": r["kind"],
                "amount": money(Decimal(r["amount"]), r["currency"]).amount,
                "currency": r["currency"],
                "valid_from": r["valid_from"],
                "valid_to": r["valid_to"],
            }
        )
    return history or None


def running_promotions(rows: list[asyncpg.Record]) -> list[dict[str, Any]] | None:
    """Promotions running now with the prices they give the product's SKUs; None when there is none."""
    by_code: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_code.setdefault(
            r["code"], {"code": r["code"], "labels": r["labels"], "ends_at": r["ends_at"], "prices": {}}
        )
        entry["prices"][r["sku"]] = money(Decimal(r["price"]), r["currency"])
    return list(by_code.values()) or None


def margins(prices: list[asyncpg.Record], *, amounts: bool) -> dict[str, dict[str, Any]] | None:
    """{sku: {"amount", "percent"}}: sale − cost and its percent of the sale price, for SKUs with both in force
    in one currency; without `amounts` only the percent. None when no SKU has both."""
    both: dict[str, dict[str, dict[str, Decimal]]] = {}
    for r in prices:
        if r["in_force"] and r["kind"] in ("sale", "cost"):
            both.setdefault(r["sku"], {}).setdefault(r["currency"], {})[r["kind"]] = Decimal(r["amount"])
    found: dict[str, dict[str, Any]] = {}
    for sku, by_currency in sorted(both.items()):
        # The first currency (by code) with both a sale and a cost price in force.
        pair = next(((cur, k) for cur, k in sorted(by_currency.items()) if "sale" in k and "cost" in k), None)
        if pair is None:
            continue
        currency, kinds = pair
        gross = kinds["sale"] - kinds["cost"]
        percent = None
        if kinds["sale"] != 0:
            percent = format((gross * 100 / kinds["sale"]).quantize(Decimal("0.01"), ROUND_HALF_UP), "f")
        found[sku] = {"amount": money(gross, currency), "percent": percent} if amounts else {"percent": percent}
    return found or None
