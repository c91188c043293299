"""The product lifecycle: draft → sourced → stocked → listed → delisted → retired (and back from delisted
to listed). Entering a state is gated on the completeness of the stage that works in it."""

from __future__ import annotations

from typing import Literal

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.catalog.products import Product, get_product
from domain.errors import Conflict, NotFound, PermissionDenied
from domain.keys.model import Principal
from domain.sql import load
from domain.stages import completeness
from domain.versioning import check_version

Q = load("views")

Lifecycle = Literal["draft", "sourced", "stocked", "listed", "delisted", "retired"]

# Where a product may go from each state.
MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("sourced",),
    "sourced": ("stocked",),
    "stocked": ("listed",),
    "listed": ("delisted",),
    "delisted": ("listed", "retired"),
    "retired": (),
}
# The stage whose completeness gates entering a state.
GATES: dict[str, str] = {"sourced": "purchasing", "stocked": "warehousing", "listed": "listing"}
# Who may move a product into each state (admin may do all).
MOVERS: dict[str, frozenset[str]] = {
    "sourced": frozenset({"purchasing"}),
    "stocked": frozenset({"warehouse"}),
    "listed": frozenset({"listing"}),
    "delisted": frozenset({"listing", "marketing"}),
    "retired": frozenset({"purchasing", "listing"}),
}


class TransitionBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/products/{code}/transitions."""

    to: Lifecycle


async def transition(
    conn: asyncpg.Connection, actor: Principal, code: str, body: TransitionBody, expected: int | None
) -> Product:
    """Move a product to another lifecycle state if the move exists and its gate is met (else a 409 naming
    what is missing, per stage)."""
    target = body.to
    if "admin" not in actor.roles and actor.roles.isdisjoint(MOVERS[target] if target in MOVERS else frozenset()):
        allowed = ", ".join(sorted(MOVERS.get(target, frozenset())))
        raise PermissionDenied(f"Moving a product to {target} is for the roles {allowed}.", code="forbidden")
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_product_lifecycle.sql, code)
        if row is None:
            raise NotFound(f"No product has the code {code!r}.", code="product-not-found")
        check_version(expected, row["version"], f"Product {code!r}")
        current = row["lifecycle"]
        if target not in MOVES[current]:
            allowed_moves = ", ".join(MOVES[current]) or "none"
            raise Conflict(
                f"A product cannot go from {current} to {target}; from {current} it can go to: {allowed_moves}.",
                code="invalid-transition",
                lifecycle=current,
                allowed=list(MOVES[current]),
            )
        missing: dict[str, list[dict[str, str]]] = {}
        if target in GATES:
            stage = GATES[target]
            # computed now: exact even for a price that came into force since the last refresh
            gaps = (await completeness.computed_now(conn, row["id"]))[stage].missing
            if gaps:
                missing[stage] = [msgspec.to_builtins(m) for m in gaps]
        if target == "stocked" and not await conn.fetchval(Q.is_stock_received.sql, row["id"]):
            missing.setdefault("warehousing", []).append({"item": "stock"})
        if target == "listed":
            unpriced = [r["sku"] for r in await conn.fetch(Q.list_skus_without_sale_price.sql, row["id"])]
            listing = missing.setdefault("listing", [])
            for sku in unpriced:
                entry = {"item": "sale_price", **({"sku": sku} if sku else {})}
                if entry not in listing:
                    listing.append(entry)
            if not listing:
                del missing["listing"]
        if missing:
            summary = "; ".join(
                f"{stage}: {', '.join(m['item'] + (' ' + m['sku'] if 'sku' in m else '') for m in items)}"
                for stage, items in missing.items()
            )
            raise Conflict(
                f"{code} cannot become {target} yet — missing {summary}.",
                code="gate-not-met",
                to=target,
                missing=missing,
            )
        await conn.execute(Q.update_product_lifecycle.sql, row["id"], target)
        await audit.record(
            conn,
            actor,
            "transition",
            "product",
            code,
            version=row["version"] + 1,
            before={"lifecycle": current},
            after={"lifecycle": target},
        )
        return await get_product(conn, code)
