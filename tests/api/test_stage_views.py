"""Stage views: exactly what a stage reads, for the role that works in it."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from domain.keys.model import ROLES
from domain.stages.model import STAGE_ROLE
from domain.types import STAGES
from tests import scenario
from tests.conftest import client_for


async def view(api: httpx.AsyncClient, stage: str) -> dict[str, Any]:
    r = await api.get(f"/v1/products/p1/views/{stage}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_listing_view_reads_its_needs_and_the_attributes_listing_requires(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    body = await view(api, "listing")
    items = {i["item"]: i for i in body["items"]}
    assert [i["item"] for i in body["items"]] == [
        "labels",
        "description",
        "images",
        "selling_points",
        "public_attributes",
        "sale_price",
        "category_path",
        "in_stock",
        "colour",
        "material",
        "width",
    ]
    assert items["labels"]["value"] == {"zh-CN": "真丝方巾", "en": "Silk square"}
    # Public attributes only, in shopper-attention order (display priority, highest first).
    assert [a["code"] for a in items["public_attributes"]["value"]] == ["material", "width", "origin"]
    assert items["category_path"]["value"] == [
        {"code": "accessories", "labels": {"en": "accessories"}},
        {"code": "scarves", "labels": {"en": "scarves"}},
        {"code": "silk-squares", "labels": {"en": "silk-squares"}},
    ]
    # No prices exist yet: shown as missing, not invented.
    assert items["sale_price"] == {
        "item": "sale_price",
        "kind": "field",
        "labels": {"zh-CN": "销售价", "en": "Sale price"},
        "required": True,
        "present": False,
    }
    assert items["colour"]["present"] is False and items["material"]["value"] == "silk"
    assert body["complete"] is False
    assert body["missing"] == [
        {"item": "colour"},
        {"item": "sale_price", "sku": "S1"},
        {"item": "sale_price", "sku": "S2"},
    ]


async def test_the_warehousing_view_has_skus_barcodes_and_logistics_attributes(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    body = await view(api, "warehousing")
    items = {i["item"]: i for i in body["items"]}
    assert items["skus"]["value"] == [
        {"sku": "S1", "barcode": "4006381333931", "axes": {"size": "s"}},
        {"sku": "S2", "barcode": None, "axes": {"size": "m"}},
    ]
    assert items["barcode"]["present"] is False
    assert items["weight"] == {
        "item": "weight",
        "kind": "attribute",
        "labels": {"en": "weight"},
        "required": True,
        "present": False,
    }
    assert "labels" not in items and "description" not in items


async def test_confidential_items_in_a_view_are_redacted_for_roles_outside_finance_and_purchasing(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await scenario.build(conn, api)
    r = await api.put(
        "/v1/stages/marketing/needs", json={"reads": ["role", "cost_price", "secret"], "requires": ["role"]}
    )
    assert r.status_code == 200, r.text
    cost = await api.post("/v1/skus/S1/prices", json={"kind": "cost", "amount": "40.00", "currency": "CNY"})
    assert cost.status_code == 201, cost.text
    async with as_role("marketing") as marketing:
        body = (await marketing.get("/v1/products/p1/views/marketing")).json()
    items = {i["item"]: i for i in body["items"]}
    assert items["secret"]["redacted"] is True and "value" not in items["secret"]
    assert items["cost_price"]["redacted"] is True and "value" not in items["cost_price"]
    admin_items = {i["item"]: i for i in (await view(api, "marketing"))["items"]}
    assert admin_items["secret"]["value"] == "x"
    assert "redacted" not in admin_items["secret"]
    assert "redacted" not in admin_items["cost_price"]
    assert admin_items["cost_price"]["value"] == {"S1": {"amount": "40.00", "currency": "CNY"}}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("stage", STAGES)
async def test_a_role_reads_only_its_own_stage_view(
    app: Any, api: httpx.AsyncClient, conn: asyncpg.Connection, role: str, stage: str
) -> None:
    await scenario.build(conn, api)
    async with client_for(app, role) as client:
        r = await client.get(f"/v1/products/p1/views/{stage}")
    if role == "admin" or STAGE_ROLE[stage] == role:
        assert r.status_code == 200, r.text
        assert r.json()["stage"] == stage
    else:
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"


async def test_an_unknown_stage_or_product_is_a_404(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await scenario.build(conn, api)
    assert (await api.get("/v1/products/p1/views/shipping")).json()["code"] == "stage-not-found"
    assert (await api.get("/v1/products/nope/views/listing")).json()["code"] == "product-not-found"


async def test_the_warehousing_view_shows_stock_by_location_once_stock_is_received(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    wid = await conn.fetchval("INSERT INTO warehouses (code) VALUES ('hz') RETURNING id")
    for code, seq in (("A-01", 2), ("B-07", 1)):
        await conn.execute(
            "INSERT INTO locations (warehouse_id, code, zone, pick_sequence) VALUES ($1, $2, $3, $4)",
            wid,
            code,
            code[0],
            seq,
        )
    r = await api.post(
        "/v1/stock/movements",
        json={
            "movements": [
                {"type": "receive", "sku": "S1", "qty": 5, "warehouse": "hz", "location": "A-01"},
                {"type": "receive", "sku": "S2", "qty": 2, "warehouse": "hz", "location": "B-07"},
                {"type": "reserve", "sku": "S2", "qty": 2, "warehouse": "hz", "location": "B-07"},
            ]
        },
    )
    assert r.status_code == 201, r.text
    items = {i["item"]: i for i in (await view(api, "warehousing"))["items"]}
    assert items["stock_by_location"]["value"] == [
        {
            "sku": "S1",
            "warehouse": "hz",
            "location": "A-01",
            "zone": "A",
            "pick_sequence": 2,
            "on_hand": 5,
            "reserved": 0,
            "available": 5,
        },
        {
            "sku": "S2",
            "warehouse": "hz",
            "location": "B-07",
            "zone": "B",
            "pick_sequence": 1,
            "on_hand": 2,
            "reserved": 2,
            "available": 0,
        },
    ]
    assert items["stock"]["value"] == {"on_hand": 7, "reserved": 2, "available": 5}
    assert [loc["location"] for loc in items["locations"]["value"]] == ["A-01", "B-07"]
    listing = {i["item"]: i for i in (await view(api, "listing"))["items"]}
    assert listing["in_stock"]["value"] is True


async def test_a_confidential_attribute_a_stage_requires_without_reading_it_is_redacted_too(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    """`secret` is required for marketing by its category binding, not listed in marketing's needs: the view
    adds it as a required item — and redacts its value as it does for a listed one."""
    await scenario.build(conn, api)
    await conn.execute(
        "UPDATE category_attributes SET required_for = '{marketing}'"
        " WHERE attribute_id = (SELECT id FROM attributes WHERE code = 'secret')"
    )
    r = await api.put("/v1/stages/marketing/needs", json={"reads": ["role"], "requires": ["role"]})
    assert r.status_code == 200, r.text
    async with as_role("marketing") as marketing:
        body = (await marketing.get("/v1/products/p1/views/marketing")).json()
    secret = {i["item"]: i for i in body["items"]}["secret"]
    assert secret == {
        "item": "secret",
        "kind": "attribute",
        "labels": {"en": "secret"},
        "required": True,
        "present": True,
        "redacted": True,
    }
    admin_secret = {i["item"]: i for i in (await view(api, "marketing"))["items"]}["secret"]
    assert admin_secret["value"] == "x" and "redacted" not in admin_secret


async def test_an_attribute_a_stage_reads_is_required_when_the_stage_or_its_category_binding_requires_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """`material` is read by marketing without being required there, but its category binding requires it for
    marketing: the view marks it required. `origin`, read and required by nothing, is not."""
    await scenario.build(conn, api)
    await conn.execute(
        "UPDATE category_attributes SET required_for = '{marketing}'"
        " WHERE attribute_id = (SELECT id FROM attributes WHERE code = 'material')"
    )
    needs = {"reads": ["role", "material", "origin"], "requires": ["role"]}
    r = await api.put("/v1/stages/marketing/needs", json=needs)
    assert r.status_code == 200, r.text
    items = {i["item"]: i for i in (await view(api, "marketing"))["items"]}
    assert {k: (v["required"], v["present"]) for k, v in items.items()} == {
        "role": (True, True),
        "material": (True, True),
        "origin": (False, True),
    }
    assert (items["material"]["value"], items["origin"]["value"]) == ("silk", "Hangzhou")
