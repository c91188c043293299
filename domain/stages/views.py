"""Stage views: for one product, exactly what a stage reads (its needs, plus the attributes its category's
set requires for that stage), each item with its value — or null and listed as missing when the data
does not exist yet. Read models: their own Structs; their statements run in store.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import asyncpg
import msgspec

from domain.attributes.model import AttributeSetEntry
from domain.attributes.sets import effective_attribute_set
from domain.errors import param_error
from domain.keys.model import Principal
from domain.prices import views as pricing
from domain.products.model import ProductNotFound
from domain.reports.promotions import product_promotions
from domain.stages import completeness, store
from domain.stages.model import (
    STAGE_ROLE,
    Completeness,
    Missing,
    Need,
    Recomputing,
    StageNotFound,
    StageViewForbidden,
    may_read,
)
from domain.stages.service import get_needs

# Items drawn from suppliers, sales and stock valuation (read only for views that list one of them).
TRADE_ITEMS = frozenset({"supplier", "supplier_terms", "sales_volume", "stock_valuation"})

# The window when the request names no `from`: the 28 days up to `to` (default today, UTC).
WINDOW_DAYS = 28
# The promotions of a product the marketing view lists (newest first).
PROMOTIONS_SHOWN = 20

# Money and supplier items only these roles may see, whatever view lists them.
CONFIDENTIAL_ITEMS = frozenset(
    {"cost_price", "distribution_price", "supplier_terms", "price_history", "stock_valuation"}
)


class ViewItem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    item: str
    kind: Literal["field", "attribute"]
    labels: dict[str, str]
    required: bool
    present: bool
    value: Any = None
    redacted: bool = False


class StageView(msgspec.Struct, frozen=True, kw_only=True):
    product: str
    stage: str
    labels: dict[str, str]
    lifecycle: str
    version: int
    complete: bool
    items: list[ViewItem]
    missing: list[Missing]
    recomputing: Recomputing | None = None


@dataclass
class Context:
    """What the resolvers draw on, loaded once per view."""

    conn: asyncpg.Connection
    product: dict[str, Any]
    skus: list[dict[str, Any]]
    attribute_set: list[AttributeSetEntry]
    stock: list[dict[str, Any]] = field(default_factory=list)
    principal: Principal | None = None
    prices: list[asyncpg.Record] = field(default_factory=list)
    promotions: list[asyncpg.Record] = field(default_factory=list)
    trade: dict[str, Any] = field(default_factory=dict)  # supplier terms, sales, stock valuation
    outcomes: dict[str, Any] = field(default_factory=dict)  # the window items, by item


Resolver = Callable[[Context], Any]


def _public_attributes(ctx: Context) -> list[dict[str, Any]] | None:
    values = ctx.product["attributes"]
    shown = [
        {"code": e.attribute, "labels": e.labels, "value": values[e.attribute]}
        for e in ctx.attribute_set  # already in shopper-attention order
        if e.visibility == "public" and e.attribute in values
    ]
    return shown or None


def _non_empty(value: Any) -> Any:
    return value if value else None


def _stock_total(ctx: Context) -> dict[str, int] | None:
    if not ctx.stock:
        return None
    on_hand = sum(r["on_hand"] for r in ctx.stock)
    reserved = sum(r["reserved"] for r in ctx.stock)
    return {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}


def _locations(ctx: Context) -> list[dict[str, Any]] | None:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for r in ctx.stock:
        seen.setdefault(
            (r["warehouse"], r["location"]),
            {
                "warehouse": r["warehouse"],
                "location": r["location"],
                "zone": r["zone"],
                "pick_sequence": r["pick_sequence"],
            },
        )
    return list(seen.values()) or None


# Built-in items with data today; items whose data arrives with later capabilities resolve to None.
RESOLVERS: dict[str, Resolver] = {
    "category": lambda c: c.product["category"],
    "category_path": lambda c: c.product["category_path"],
    "role": lambda c: c.product["role"],
    "series": lambda c: _non_empty(c.product["series"]),
    "quality_tags": lambda c: _non_empty(list(c.product["quality_tags"])),
    "labels": lambda c: _non_empty(c.product["labels"]),
    "description": lambda c: _non_empty(c.product["description"]),
    "images": lambda c: _non_empty(list(c.product["images"])),
    "selling_points": lambda c: _non_empty(c.product["selling_points"]),
    "public_attributes": _public_attributes,
    "skus": lambda c: _non_empty([{"sku": s["sku"], "barcode": s["barcode"], "axes": s["axes"]} for s in c.skus]),
    "barcode": lambda c: _non_empty({s["sku"]: s["barcode"] for s in c.skus}),
    "stock": _stock_total,
    "stock_by_location": lambda c: _non_empty([dict(r) for r in c.stock]),
    "locations": _locations,
    "in_stock": lambda c: any(r["available"] > 0 for r in c.stock),
    "sale_price": lambda c: pricing.prices_in_force(c.prices, "sale"),
    "cost_price": lambda c: pricing.prices_in_force(c.prices, "cost"),
    "distribution_price": lambda c: pricing.prices_in_force(c.prices, "distribution"),
    "price_history": lambda c: pricing.price_history(c.prices),
    "promotions": lambda c: pricing.running_promotions(c.promotions),
    # The best-ranked active supplier; every active supplier's terms (confidential: redacted for other roles).
    "supplier": lambda c: (
        {k: c.trade["terms"][0][k] for k in ("supplier", "labels", "type")} if c.trade.get("terms") else None
    ),
    "supplier_terms": lambda c: c.trade.get("terms"),
    "sales_volume": lambda c: c.trade.get("sales"),
    "stock_valuation": lambda c: c.trade.get("valuation"),
    # Shares, ROI, margin percent, units and rates: no amounts, so every role reading the view sees them.
    "category_share": lambda c: c.outcomes.get("category_share"),
    "promotion_outcomes": lambda c: c.outcomes.get("promotion_outcomes"),
    "returns": lambda c: c.outcomes.get("returns"),
    # Margin amounts derive from cost prices: other roles (marketing) see the percent only.
    "margin": lambda c: pricing.margins(c.prices, amounts=c.principal is not None and c.principal.sees_confidential),
}


def _attribute_value(ctx: Context, code: str) -> Any:
    if code in ctx.product["attributes"]:
        return ctx.product["attributes"][code]
    per_sku = {
        s["sku"]: {**s["axes"], **s["attributes"]}[code] for s in ctx.skus if code in {**s["axes"], **s["attributes"]}
    }
    return per_sku or None


def view_window(since: date | None, until: date | None) -> tuple[date, date]:
    """The days the window items cover: up to `until` (default today, UTC), from `since` (default the
    WINDOW_DAYS days up to `until`); `from` after `to` is a 400."""
    until = until or datetime.now(UTC).date()
    if since is None:
        back = timedelta(days=WINDOW_DAYS - 1)
        since = until - back if until >= date.min + back else date.min
    if since > until:
        raise param_error("from", "dates_reversed", "`from` is after `to`.")
    return since, until


async def stage_view(
    conn: asyncpg.Connection,
    principal: Principal,
    code: str,
    stage: str,
    *,
    since: date | None = None,
    until: date | None = None,
) -> StageView:
    """Exactly what `stage` reads of one product (its window items over `since`..`until`); a role may read
    only its own stage's view."""
    return (await stage_views(conn, principal, [code], stage, since=since, until=until))[0]


async def stage_views(
    conn: asyncpg.Connection,
    principal: Principal,
    codes: list[str],
    stage: str,
    *,
    since: date | None = None,
    until: date | None = None,
) -> list[StageView]:
    """The stage's view of each of some products (the stage's needs and the caller's right read once)."""
    if stage not in STAGE_ROLE:
        raise StageNotFound(stage)
    if not may_read(principal.roles, stage):
        raise StageViewForbidden(stage, principal.roles)
    window = view_window(since, until)
    needs = (await get_needs(conn, stage)).needs
    contexts = await _contexts(conn, principal, codes, needs, window)
    states = await completeness.get_completenesses(conn, codes)
    return [_view(contexts[code], principal, states[code], stage, needs) for code in codes]


async def _contexts(
    conn: asyncpg.Connection, principal: Principal, codes: list[str], needs: list[Need], window: tuple[date, date]
) -> dict[str, Context]:
    """What the views of some products draw on, read set-based — a statement per kind of data for all of
    them, not per product (a customer service lookup shows up to 20 views); an unknown code is a 404."""
    products = await store.list_view_products(conn, codes)
    for code in codes:
        if code not in products:
            raise ProductNotFound(code)
    ids = sorted({p["id"] for p in products.values()})
    skus = await store.list_view_skus(conn, ids)
    stock = await store.list_view_stock(conn, ids)
    prices = await pricing.list_product_prices(conn, ids)
    promotions = await pricing.list_product_promotions(conn, ids)
    sets: dict[int, list[AttributeSetEntry]] = {}  # attribute sets by category: products often share one
    for category_id in sorted({p["category_id"] for p in products.values()}):
        sets[category_id] = await effective_attribute_set(conn, category_id)
    wanted = {need.item for need in needs}
    trade = await store.list_view_trade(conn, ids, datetime.now(UTC).date()) if TRADE_ITEMS & wanted else {}
    # the window items, each value carrying its window
    since, until = window
    days = {"from": since.isoformat(), "to": until.isoformat()}
    shares = await store.list_view_category_shares(conn, ids, since, until) if "category_share" in wanted else {}
    returns = await store.list_view_returns(conn, ids, since, until) if "returns" in wanted else {}
    contexts: dict[str, Context] = {}
    for code, product in products.items():
        pid = product["id"]
        ctx = Context(
            conn=conn,
            product=product,
            skus=skus.get(pid, []),
            attribute_set=sets[product["category_id"]],
            stock=stock.get(pid, []),
            principal=principal,
            prices=prices.get(pid, []),
            promotions=promotions.get(pid, []),
            trade=trade.get(pid, {}),
        )
        if pid in shares:
            ctx.outcomes["category_share"] = {**days, **shares[pid]}
        if pid in returns:
            ctx.outcomes["returns"] = {**days, **returns[pid]}
        if "promotion_outcomes" in wanted:  # (the marketing view's: a report's own reads, per product)
            ctx.outcomes["promotion_outcomes"] = await product_promotions(
                conn, pid, {s["sku"] for s in ctx.skus}, until, shown=PROMOTIONS_SHOWN
            )
        contexts[code] = ctx
    return contexts


def _view(ctx: Context, principal: Principal, state: Completeness, stage: str, needs: list[Need]) -> StageView:
    """One product's view, from what was read for it."""
    product, attribute_set = ctx.product, ctx.attribute_set
    mine = state.stages[stage]
    missing_items = {m.item for m in mine.missing}
    confidential_ok = principal.sees_confidential
    by_code = {e.attribute: e for e in attribute_set}
    items: list[ViewItem] = []
    listed: set[str] = set()
    for need in needs:
        listed.add(need.item)
        if need.kind == "attribute":
            entry = by_code.get(need.item)
            hidden = entry is not None and entry.visibility == "confidential" and not confidential_ok
            value = None if hidden else _attribute_value(ctx, need.item)
            required = need.required or (entry is not None and stage in entry.required_for)
        else:
            hidden = need.item in CONFIDENTIAL_ITEMS and not confidential_ok
            resolver = RESOLVERS.get(need.item)
            value = None if hidden or resolver is None else resolver(ctx)
            required = need.required
        present = need.item not in missing_items if required else value is not None
        items.append(
            ViewItem(
                item=need.item,
                kind=need.kind,
                labels=need.labels,
                required=required,
                present=present,
                value=value,
                redacted=hidden,
            )
        )
    for entry in attribute_set:
        if stage in entry.required_for and entry.attribute not in listed:
            hidden = entry.visibility == "confidential" and not confidential_ok
            value = None if hidden else _attribute_value(ctx, entry.attribute)
            items.append(
                ViewItem(
                    item=entry.attribute,
                    kind="attribute",
                    labels=entry.labels,
                    required=True,
                    present=entry.attribute not in missing_items,
                    value=value,
                    redacted=hidden,
                )
            )
    return StageView(
        product=product["code"],
        stage=stage,
        labels=product["labels"],
        lifecycle=product["lifecycle"],
        version=product["version"],
        complete=not mine.missing,
        items=items,
        missing=mine.missing,
        recomputing=state.recomputing,
    )
