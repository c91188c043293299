"""The product lifecycle: draft → sourced → stocked → listed → delisted → retired (and back from delisted
to listed). Entering a state is gated on the completeness of the stage that works in it."""

from __future__ import annotations

import asyncpg

from domain.audit import service as audit
from domain.keys.model import Principal
from domain.products.model import Product, ProductNotFound
from domain.products.service import get_product
from domain.stages import completeness, store
from domain.stages.model import (
    GATES,
    MOVES,
    GateNotMet,
    InvalidTransition,
    Missing,
    TransitionBody,
    TransitionForbidden,
    gate_gaps,
    may_move,
)
from domain.versioning import check_version


async def transition(
    conn: asyncpg.Connection, actor: Principal, code: str, body: TransitionBody, expected: int | None
) -> Product:
    """Move a product to another lifecycle state if the move exists and its gate is met (else a 409 naming
    what is missing, per stage)."""
    target = body.to
    if not may_move(actor.roles, target):
        raise TransitionForbidden(target)
    async with conn.transaction():
        product = await store.lock_product_lifecycle(conn, code)
        if product is None:
            raise ProductNotFound(code)
        check_version(expected, product.version, f"Product {code!r}")
        current = product.lifecycle
        if target not in MOVES[current]:
            raise InvalidTransition(current, target)
        gaps: list[Missing] = []
        if target in GATES:
            # computed now: exact even for a price that came into force since the last refresh
            gaps = (await completeness.computed_now(conn, product.id))[GATES[target]].missing
        stock_received = target != "stocked" or await store.is_stock_received(conn, product.id)
        unpriced = await store.list_skus_without_sale_price(conn, product.id) if target == "listed" else []
        missing = gate_gaps(target, gaps, stock_received, unpriced)
        if missing:
            raise GateNotMet(code, target, missing)
        await store.update_product_lifecycle(conn, product.id, target)
        await audit.record(
            conn,
            actor,
            "transition",
            "product",
            code,
            version=product.version + 1,
            before={"lifecycle": current},
            after={"lifecycle": target},
        )
        return await get_product(conn, code, actor)
