"""Customer service's lookup: a SKU, a barcode, a code or part of a name → what an agent tells a shopper."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests import storefront_catalog as shop


async def lookup(http: Any, q: str, **params: Any) -> Any:
    r = await http.get("/v1/service/lookup", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    ("q", "matched_by"), [("PEONY-1", "sku"), ("peony-1", "sku"), ("6900000000000", "barcode"), ("peony", "code")]
)
async def test_a_sku_a_barcode_or_a_code_finds_the_product_first(
    as_role: Any, conn: asyncpg.Connection, q: str, matched_by: str
) -> None:
    await shop.shop(conn)
    async with as_role("service") as http:
        body = await lookup(http, q)
    first = body["items"][0]
    assert (first["code"], first["matched_by"]) == ("peony", matched_by)


async def test_what_an_agent_says_of_a_destination_item(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    await shop.stock(conn, "PEONY-1", 4, warehouse="sh", bin_code="B-1", reserved=1)
    async with as_role("service") as http:
        item = (await lookup(http, "PEONY-1", locale="en"))["items"][0]
    assert item["label"] == "Silk scarf peony"
    assert (item["lifecycle"], item["listed"]) == ("listed", True)
    assert item["role"]["code"] == "destination" and item["role"]["says"].startswith("Destination item")
    assert (item["destination_item"], item["promotion_item"], item["image_item"]) == (True, False, False)
    assert item["selling_points"] == ["peony point"]
    (sku,) = item["skus"]
    assert (sku["price"], sku["regular_price"], sku["promotion"]) == (shop.cny("199.00"), shop.cny("199.00"), None)
    assert "currency" not in sku  # (each amount names its currency)
    # available quantity per warehouse (on hand − reserved), never bins
    assert sku["available"] == [{"warehouse": "hz", "available": 5}, {"warehouse": "sh", "available": 3}]
    assert "A-1" not in str(item) and "B-1" not in str(item)
    needs = {n["item"]: n for n in item["needs"]}
    assert needs["selling_points"]["present"] is True
    assert needs["in_stock"]["value"] is True


async def test_a_promotion_item_shows_its_running_promotions_with_dates_and_price(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await conn.execute(
        "UPDATE products SET role_id = (SELECT id FROM roles WHERE code = 'promotion') WHERE code = 'wave'"
    )
    await shop.promotion(conn, "double11", "WAVE-1", "99", starts_in_days=-1, ends_in_days=3)
    await shop.promotion(conn, "later", "WAVE-1", "89", starts_in_days=5, ends_in_days=6)
    async with as_role("service") as http:
        item = (await lookup(http, "WAVE-1"))["items"][0]
    assert item["promotion_item"] is True and item["role"]["says"].startswith("Promotion item")
    assert [(p["code"], p["sku"], p["price"]) for p in item["promotions"]] == [
        ("double11", "WAVE-1", shop.cny("99.00"))
    ]
    assert item["promotions"][0]["ends_at"] > item["promotions"][0]["starts_at"]
    assert (item["skus"][0]["price"], item["skus"][0]["promotion"]) == (shop.cny("99.00"), "double11")
    assert item["skus"][0]["available"] == [{"warehouse": "hz", "available": 0}]


async def test_part_of_a_name_finds_products_in_every_lifecycle_state(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    async with as_role("service") as http:
        body = await lookup(http, "scarf lotus")
        chinese = await lookup(http, "格纹")
    assert [(i["code"], i["lifecycle"], i["listed"], i["matched_by"]) for i in body["items"]] == [
        ("lotus", "draft", False, "name")
    ]
    assert [i["code"] for i in chinese["items"]] == ["check"]


async def test_no_cost_distribution_price_supplier_or_confidential_value(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    async with as_role("service") as http:
        r = await http.get("/v1/service/lookup", params={"q": "peony"})
    assert r.status_code == 200, r.text
    assert [i["code"] for i in r.json()["items"]] == ["peony"]  # (what is checked below is this answer)
    for hidden in ("80.00", "120.00", "3% off", "supplier-notes"):
        assert hidden not in r.text


@pytest.mark.parametrize("role", ["storefront", "warehouse", "finance", "marketing"])
async def test_only_service_and_admin_look_up(as_role: Any, conn: asyncpg.Connection, role: str) -> None:
    async with as_role(role) as http:
        r = await http.get("/v1/service/lookup", params={"q": "peony"})
    assert r.status_code == 403


@pytest.mark.parametrize(("q", "code"), [("", "empty_query"), ("y" * 101, "query_too_long")])
async def test_a_bad_query_is_a_400(as_role: Any, conn: asyncpg.Connection, q: str, code: str) -> None:
    async with as_role("service") as http:
        r = await http.get("/v1/service/lookup", params={"q": q})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == code
