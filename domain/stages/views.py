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
from domain.stages.model import STAGE_ROLE, Missing, Need, Recomputing, StageNotFound, StageViewForbidden, may_read
from domain.stages.service import get_needs

# Items drawn from suppliers, sales and stock valuation (read only for views that list one of them).
TRADE_ITEMS = frozenset({"supplier", "supplier_terms", "sales_volume", "stock_valuation"})

# Items read over a window of days (`from`..`to`), each loaded only when the stage reads it.
WINDOW_ITEMS = frozenset({"category_share", "promotion_outcomes", "returns"})
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
    sets: dict[int, list[AttributeSetEntry]] = {}  # attribute sets by category: products often share one
    return [await _view(conn, principal, code, stage, needs, sets, window) for code in codes]


async def _outcomes(conn: asyncpg.Connection, ctx: Context, wanted: frozenset[str], window: tuple[date, date]) -> None:
    """Load the window items the view reads into `ctx.outcomes`, each value carrying its window."""
    since, until = window
    days = {"from": since.isoformat(), "to": until.isoformat()}
    product_id = ctx.product["id"]
    if "category_share" in wanted:
        ctx.outcomes["category_share"] = {**days, **await store.get_view_category_share(conn, product_id, since, until)}
    if "returns" in wanted:
        ctx.outcomes["returns"] = {**days, **await store.get_view_returns(conn, product_id, since, until)}
    if "promotion_outcomes" in wanted:
        skus = {s["sku"] for s in ctx.skus}
        ctx.outcomes["promotion_outcomes"] = await product_promotions(
            conn, product_id, skus, until, shown=PROMOTIONS_SHOWN
        )


async def _view(
    conn: asyncpg.Connection,
    principal: Principal,
    code: str,
    stage: str,
    needs: list[Need],
    sets: dict[int, list[AttributeSetEntry]],
    window: tuple[date, date],
) -> StageView:
    product = await store.get_view_product(conn, code)
    if product is None:
        raise ProductNotFound(code)
    skus = await store.list_view_skus(conn, product["id"])
    if product["category_id"] not in sets:
        sets[product["category_id"]] = await effective_attribute_set(conn, product["category_id"])
    attribute_set = sets[product["category_id"]]
    stock = await store.list_view_stock(conn, product["id"])
    ctx = Context(
        conn=conn,
        product=product,
        skus=skus,
        attribute_set=attribute_set,
        stock=stock,
        principal=principal,
        prices=await pricing.list_product_prices(conn, product["id"]),
        promotions=await pricing.list_product_promotions(conn, product["id"]),
    )
    if TRADE_ITEMS & {need.item for need in needs}:
        ctx.trade = await store.get_view_trade(conn, product["id"], datetime.now(UTC).date())
    if wanted := WINDOW_ITEMS & {need.item for need in needs}:
        await _outcomes(conn, ctx, wanted, window)
    state = await completeness.get_completeness(conn, code)
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
