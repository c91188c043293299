"""The lifecycle: each move exists or not, gates refuse while a stage misses something, then allow."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import scenario


async def move(client: httpx.AsyncClient, to: str, **headers: str) -> httpx.Response:
    return await client.post("/v1/products/p1/transitions", json={"to": to}, headers=headers)


async def purchasing_needs_only_category_and_role(api: httpx.AsyncClient) -> None:
    r = await api.put(
        "/v1/stages/purchasing/needs", json={"reads": ["category", "role"], "requires": ["category", "role"]}
    )
    assert r.status_code == 200


async def test_a_gate_not_met_is_a_409_listing_what_is_missing_and_nothing_changes(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await scenario.build(conn, api)
    async with as_role("purchasing") as purchasing:
        r = await move(purchasing, "sourced")
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "gate-not-met"
    assert (
        body["detail"] == "p1 cannot become sourced yet — missing purchasing: cost_price S1, cost_price S2, supplier."
    )
    assert body["context"] == {
        "to": "sourced",
        "missing": {
            "purchasing": [
                {"item": "cost_price", "sku": "S1"},
                {"item": "cost_price", "sku": "S2"},
                {"item": "supplier"},
            ]
        },
    }
    product = (await api.get("/v1/products/p1")).json()
    assert (product["lifecycle"], product["version"]) == ("draft", 1)


async def test_a_gate_allows_once_the_stage_is_complete_and_the_move_is_audited(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await scenario.build(conn, api)
    await purchasing_needs_only_category_and_role(api)
    async with as_role("purchasing") as purchasing:
        r = await move(purchasing, "sourced", **{"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert (r.json()["lifecycle"], r.json()["version"]) == ("sourced", 2)
    audit = (await api.get("/v1/audit", params={"entity": "product", "code": "p1"})).json()["items"][0]
    assert (audit["action"], audit["actor"], audit["version"]) == ("transition", "test-purchasing", 2)
    assert audit["changes"] == {"lifecycle": {"before": "draft", "after": "sourced"}}


async def test_stocked_needs_warehousing_complete_and_stock_received(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    await purchasing_needs_only_category_and_role(api)
    assert (await move(api, "sourced")).status_code == 200
    refused = await move(api, "stocked")
    assert refused.status_code == 409
    assert refused.json()["context"]["missing"] == {
        "warehousing": [{"item": "barcode", "sku": "S2"}, {"item": "weight"}, {"item": "stock"}]
    }
    assert (await api.patch("/v1/skus/S2", json={"barcode": "9780201379624"})).status_code == 200
    assert (
        await api.patch("/v1/products/p1", json={"attributes": {"weight": {"value": "45", "unit": "g"}}})
    ).status_code == 200
    still = await move(api, "stocked")
    assert still.json()["context"]["missing"] == {"warehousing": [{"item": "stock"}]}
    # Stock arrives with the warehousing capability; here the database says it was received.
    await conn.execute(
        "CREATE OR REPLACE FUNCTION merch_product_has_stock(product_id bigint) RETURNS boolean "
        "LANGUAGE sql STABLE AS $$ SELECT true $$"
    )
    assert (await move(api, "stocked")).json()["lifecycle"] == "stocked"


async def test_listed_needs_listing_complete_and_a_sale_price_then_delist_relist_retire(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    await conn.execute("UPDATE products SET lifecycle = 'stocked' WHERE code = 'p1'")
    refused = await move(api, "listed")
    assert refused.json()["context"]["missing"] == {
        "listing": [{"item": "colour"}, {"item": "sale_price", "sku": "S1"}, {"item": "sale_price", "sku": "S2"}]
    }
    for sku in ("S1", "S2"):
        sale = {"kind": "sale", "amount": "129.00", "currency": "CNY"}
        assert (await api.post(f"/v1/skus/{sku}/prices", json=sale)).status_code == 201
    assert (await api.patch("/v1/products/p1", json={"attributes": {"colour": "red"}})).status_code == 200
    assert (await move(api, "listed")).json()["lifecycle"] == "listed"
    assert (await move(api, "delisted")).json()["lifecycle"] == "delisted"
    assert (await move(api, "listed")).json()["lifecycle"] == "listed"
    assert (await move(api, "delisted")).json()["lifecycle"] == "delisted"
    assert (await move(api, "retired")).json()["lifecycle"] == "retired"
    dead_end = await move(api, "listed")
    assert dead_end.status_code == 409
    assert dead_end.json()["code"] == "invalid-transition"
    assert dead_end.json()["context"] == {"lifecycle": "retired", "allowed": []}


async def test_a_move_that_does_not_exist_from_the_current_state_is_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    r = await move(api, "listed")
    assert r.status_code == 409
    assert r.json()["detail"] == "A product cannot go from draft to listed; from draft it can go to: sourced."


async def test_an_unknown_state_is_a_422_and_a_stale_if_match_a_412(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await scenario.build(conn, api)
    bad = await move(api, "archived")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/to"
    await purchasing_needs_only_category_and_role(api)
    stale = await move(api, "sourced", **{"If-Match": '"9"'})
    assert stale.status_code == 412


async def test_each_move_is_for_the_role_that_works_in_that_stage(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await scenario.build(conn, api)
    await purchasing_needs_only_category_and_role(api)
    async with as_role("warehouse") as warehouse:
        r = await move(warehouse, "sourced")
    assert r.status_code == 403
    assert r.json()["detail"] == "Moving a product to sourced is for the roles purchasing."
    async with as_role("finance") as finance:
        assert (await move(finance, "sourced")).status_code == 403
