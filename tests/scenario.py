"""A small catalog for the stage tests: a three-level tree with attributes required at every level."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import factories as f


async def build(conn: asyncpg.Connection, api: httpx.AsyncClient) -> None:
    """merch › accessories › scarves › silk-squares; product `p1` with SKUs S1 (size s, with a barcode) and
    S2 (size m, without)."""
    await f.tree(conn)
    await f.category(conn, "accessories")
    await f.category(conn, "scarves", parent="accessories")
    await f.category(conn, "silk-squares", parent="scarves")
    await f.attribute(conn, "weight", "measurement", visibility="internal", validation={"unit_family": "mass"})
    await f.attribute(conn, "origin", "text", display_priority=10)
    await f.attribute(conn, "material", "select", options=("silk", "cotton"), display_priority=90)
    await f.attribute(conn, "colour", "select", options=("red", "navy"), display_priority=100)
    await f.attribute(conn, "width", "measurement", validation={"unit_family": "length"}, display_priority=70)
    await f.attribute(conn, "secret", "text", visibility="confidential")
    await f.attribute(conn, "size", "select", options=("s", "m"))
    await f.bind(conn, "accessories", "weight", ("warehousing",))
    await f.bind(conn, "accessories", "origin")
    await f.bind(conn, "accessories", "secret")
    await f.bind(conn, "scarves", "material", ("listing", "purchasing"))
    await f.bind(conn, "scarves", "colour", ("listing",))
    await f.bind(conn, "silk-squares", "width", ("listing",))
    await f.bind(conn, "silk-squares", "size")
    r = await api.post("/v1/products", json=product_body("p1"))
    assert r.status_code == 201, r.text
    for sku, barcode, size in (("S1", "4006381333931", "s"), ("S2", None, "m")):
        r = await api.post("/v1/products/p1/skus", json={"sku": sku, "barcode": barcode, "axes": {"size": size}})
        assert r.status_code == 201, r.text


def product_body(code: str, **overrides: Any) -> dict[str, Any]:
    return {
        "code": code,
        "category": "silk-squares",
        "role": "destination",
        "labels": {"zh-CN": "真丝方巾", "en": "Silk square"},
        "description": {"en": "Mulberry silk."},
        "images": ["https://img.example.com/p1.jpg"],
        "selling_points": [{"en": "Hand-rolled hems"}],
        "attributes": {"material": "silk", "width": {"value": "90", "unit": "cm"}, "origin": "Hangzhou", "secret": "x"},
        **overrides,
    }


def stage(required: int, present: int, missing: list[dict[str, str]]) -> dict[str, Any]:
    ratio = 1.0 if required == 0 else round(present / required, 4)
    return {"required": required, "present": present, "ratio": ratio, "missing": missing}


# What p1 of `build` is missing, stage by stage, with the default attribute application table.
P1 = {
    "purchasing": stage(
        6, 3, [{"item": "cost_price", "sku": "S1"}, {"item": "cost_price", "sku": "S2"}, {"item": "supplier"}]
    ),
    "warehousing": stage(3, 1, [{"item": "barcode", "sku": "S2"}, {"item": "weight"}]),
    "listing": stage(
        9, 6, [{"item": "colour"}, {"item": "sale_price", "sku": "S1"}, {"item": "sale_price", "sku": "S2"}]
    ),
    "marketing": stage(2, 2, []),
    "service": stage(1, 1, []),
    "finance": stage(
        6,
        0,
        [
            {"item": "cost_price", "sku": "S1"},
            {"item": "cost_price", "sku": "S2"},
            {"item": "distribution_price", "sku": "S1"},
            {"item": "distribution_price", "sku": "S2"},
            {"item": "sale_price", "sku": "S1"},
            {"item": "sale_price", "sku": "S2"},
        ],
    ),
}
