"""Stage views of several products are read together, set-based (customer service's lookup shows up to 20):
each is exactly the view of that product read alone, for every stage — window items, trade, prices,
promotions, stock and completeness included — and an unknown code among them is a 404."""

from __future__ import annotations

import asyncpg
import httpx
import msgspec
import pytest

from domain.keys.model import Principal
from domain.products.model import ProductNotFound
from domain.stages.model import STAGE_ROLE
from domain.stages.views import stage_view, stage_views
from tests.api.test_outcome_views import shop

ADMIN = Principal(name="test", roles=frozenset({"admin"}))
CODES = ["silk-sq", "silk-long", "silk-new", "oil", "lonely"]


async def test_views_read_together_equal_each_read_alone(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await shop(api, conn)
    # stock in a bin for two products, and supplier terms for one (the trade items)
    await conn.execute(
        "INSERT INTO stock_levels (sku_id, location_id, warehouse_id, on_hand, reserved)"
        " SELECT s.id, l.id, l.warehouse_id, 5 + s.id, 1 FROM skus s, locations l"
        " WHERE s.sku IN ('A2', 'B') AND l.code = 'A-01'"
    )
    supplier = await conn.fetchval(
        "INSERT INTO suppliers (code, type, labels) VALUES ('mill', 'manufacturer', '{}') RETURNING id"
    )
    await conn.execute(
        "INSERT INTO product_suppliers (product_id, supplier_id, purchase_price, currency, preferred)"
        " SELECT id, $1, 40, 'CNY', true FROM products WHERE code = 'silk-long'",
        supplier,
    )
    seen: dict[str, list[bytes]] = {code: [] for code in CODES}
    for stage in STAGE_ROLE:
        together = [msgspec.to_builtins(v) for v in await stage_views(conn, ADMIN, CODES, stage)]
        alone = [msgspec.to_builtins(await stage_view(conn, ADMIN, code, stage)) for code in CODES]
        assert together == alone, stage
        assert [v["product"] for v in together] == CODES
        for v in together:
            seen[v["product"]].append(msgspec.json.encode(v["items"]))
    # (the products' views differ: a mix-up between them would show)
    assert len({b"".join(views) for views in seen.values()}) == len(CODES)
    # the same code twice, in another order: the same views
    again = await stage_views(conn, ADMIN, ["oil", "silk-sq", "oil"], "service")
    assert [v.product for v in again] == ["oil", "silk-sq", "oil"]
    assert again[0] == again[2] == await stage_view(conn, ADMIN, "oil", "service")


async def test_an_unknown_code_among_them_is_not_found(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await shop(api, conn)
    with pytest.raises(ProductNotFound):
        await stage_views(conn, ADMIN, ["silk-sq", "nope", "oil"], "service")
