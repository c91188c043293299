"""The storefront: product pages, navigation, category pages with filters, sorts and keyset pages, facets
and search — only listed products, only public attributes, the price a shopper pays, ETags and caching."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import pytest

from domain.paging import decode_cursor, encode_cursor
from domain.storefront import service as storefront_service
from tests import factories as f
from tests import storefront_catalog as shop

LISTED = ["check", "peony", "wave"]
NOT_LISTED = ["draft", "sourced", "stocked", "delisted", "retired"]
HIDDEN_VALUES = ["6214100000", "3% off", "80.00", "120.00"]  # internal, confidential, cost, distribution


async def codes(http: Any, **params: Any) -> list[str]:
    r = await http.get("/v1/storefront/products", params=params)
    assert r.status_code == 200, r.text
    return [c["code"] for c in r.json()["items"]]


# Product page -------------------------------------------------------------------------------------------


async def test_a_product_page_shows_public_attributes_in_shopper_attention_order_and_the_price_to_pay(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/products/peony", params={"locale": "en"})
    assert r.status_code == 200, r.text
    page = r.json()
    assert r.headers["content-language"] == "en"
    assert page["label"] == "Silk scarf peony"
    assert page["selling_points"] == ["peony point"]
    assert page["category"] == {"code": "scarves", "label": "Scarves"}
    assert page["role"]["code"] == "destination"
    groups = [(g["code"], [a["code"] for a in g["attributes"]]) for g in page["attribute_groups"]]
    assert groups == [("basics", ["color"]), (None, ["material", "width", "organic", "care"])]
    width = page["attribute_groups"][1]["attributes"][1]
    assert width["display"] == "90 cm" and width["value"] == {"value": "90", "unit": "cm"}
    assert page["skus"] == [
        {
            "sku": "PEONY-1",
            "barcode": "6900000000000",
            "axes": {},
            "price": shop.cny("199.00"),
            "regular_price": shop.cny("199.00"),
            "promotion": None,
            "in_stock": True,
        }
    ]
    assert (page["price"], page["regular_price"], page["in_stock"]) == (shop.cny("199.00"), shop.cny("199.00"), True)
    assert "currency" not in page  # (each amount names its currency)
    assert page["series"] == [
        {
            "code": "silk-series",
            "label": "Silk series",
            "products": [  # its listed products, this one among them (lotus is a draft)
                {"code": "peony", "label": "Silk scarf peony", "image": "https://img.example/peony.jpg"},
                {"code": "wave", "label": "Silk scarf wave", "image": "https://img.example/wave.jpg"},
            ],
        }
    ]
    for hidden in [*HIDDEN_VALUES, "hs-code", "supplier-notes", "cost", "distribution"]:
        assert hidden not in r.text


async def test_a_category_binding_overrides_the_display_priority(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    await conn.execute(
        "UPDATE category_attributes SET display_priority = 500 WHERE attribute_id = (SELECT id FROM attributes"
        " WHERE code = 'care')"
    )
    await f.bind(conn, "accessories", "care", display_priority=1)  # (farther up: the nearest binding counts)
    await conn.execute("SELECT merch_touch('storefront', ARRAY(SELECT id FROM products))")
    async with as_role("storefront") as http:
        page = (await http.get("/v1/storefront/products/peony")).json()
    groups = [(g["code"], [a["code"] for a in g["attributes"]]) for g in page["attribute_groups"]]
    assert groups == [(None, ["care", "material", "width", "organic"]), ("basics", ["color"])]


async def test_labels_follow_locale_then_accept_language_then_the_default(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        default = await http.get("/v1/storefront/products/check")
        accepted = await http.get("/v1/storefront/products/check", headers={"Accept-Language": "fr, en-GB;q=0.8"})
        asked = await http.get(
            "/v1/storefront/products/check", params={"locale": "zh-CN"}, headers={"Accept-Language": "en"}
        )
        unknown = await http.get("/v1/storefront/products/check", params={"locale": "fr"})
    assert (default.json()["label"], default.headers["content-language"]) == ("棉格纹方巾", "zh-CN")
    assert (accepted.json()["label"], accepted.headers["content-language"]) == ("Cotton check scarf", "en")
    assert asked.json()["label"] == "棉格纹方巾"
    assert unknown.json()["label"] == "棉格纹方巾"
    assert default.headers["etag"] != accepted.headers["etag"]
    assert default.headers["vary"] == "Accept-Language"


@pytest.mark.parametrize("state", NOT_LISTED)
async def test_a_product_in_any_other_lifecycle_state_is_not_on_the_storefront(
    as_role: Any, conn: asyncpg.Connection, state: str
) -> None:
    await shop.shop(conn)
    await shop.list_product(conn, "peony", state)
    async with as_role("storefront") as http:
        page = await http.get("/v1/storefront/products/peony")
        cards = await codes(http, category="accessories")
        found = await http.get("/v1/storefront/search", params={"q": "peony"})
        shelves = await http.get("/v1/storefront/categories", params={"tree": "web"})
    assert page.status_code == 404
    assert page.json()["code"] == "storefront-product-not-found"
    assert "peony" not in cards
    assert [c["code"] for c in found.json()["items"]] == []
    gifts = next(c for c in shelves.json()["categories"] if c["code"] == "web-gifts")
    assert gifts["listed_products"] == 1


async def test_an_attribute_made_internal_leaves_every_page_at_once(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    await conn.execute("UPDATE attributes SET visibility = 'internal' WHERE code = 'care'")
    async with as_role("storefront") as http:
        page = await http.get("/v1/storefront/products/peony")
    assert page.status_code == 200
    assert "care" not in page.text and "Hand wash" not in page.text
    # the stored copy is due, and the runner's refresh rewrites it
    # peony and check carry a care value (two pages each: zh-CN, en); wave does not
    assert await conn.fetchval("SELECT count(*) FROM storefront_documents WHERE stale_at = '-infinity'") == 4
    await conn.execute("SELECT merch_touch_due()")
    assert await conn.fetchval("SELECT count(*) FROM storefront_documents WHERE stale_at = '-infinity'") == 0
    body = await conn.fetchval(
        "SELECT convert_from(body, 'UTF8') FROM storefront_documents WHERE code = 'peony' AND locale = 'en'"
    )
    assert "Hand wash" not in body


@pytest.mark.parametrize("visibility", ["internal", "confidential"])
async def test_values_of_internal_and_confidential_attributes_reach_no_storefront_answer(
    as_role: Any, conn: asyncpg.Connection, visibility: str
) -> None:
    await shop.shop(conn)
    await conn.execute("UPDATE attributes SET visibility = $1 WHERE code = 'material'", visibility)
    await conn.execute("SELECT merch_touch_due()")
    async with as_role("storefront") as http:
        answers = [
            await http.get("/v1/storefront/products/peony"),
            await http.get("/v1/storefront/products", params={"category": "scarves"}),
            await http.get("/v1/storefront/facets", params={"category": "scarves"}),
            await http.get("/v1/storefront/search", params={"q": "silk"}),
            await http.get("/v1/storefront/categories", params={"tree": "merch"}),
        ]
        refused = await http.get("/v1/storefront/products", params={"category": "scarves", "filter": "material:silk"})
    for r in answers:
        assert r.status_code == 200, r.text
        for hidden in [*HIDDEN_VALUES, '"material"', "cotton"]:
            assert hidden not in r.text, (r.url, hidden)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "not_a_filter"


async def test_a_page_shows_a_select_and_a_multiselect_by_their_options_labels(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await f.attribute(conn, "motifs", "multiselect", options=("peony", "wave"), display_priority=5)
    await f.bind(conn, "scarves", "motifs")
    await conn.execute(
        "UPDATE attribute_options o SET labels = jsonb_build_object('en', initcap(o.code) || ' (label)')"
        " FROM attributes a WHERE a.id = o.attribute_id AND a.code IN ('motifs', 'material')"
    )
    await conn.execute("""UPDATE products SET attributes = attributes || '{"motifs": ["wave", "peony"]}'
                           WHERE code = 'peony'""")
    await conn.execute("SELECT merch_refresh_pending()")  # (what the commit would run)
    async with as_role("storefront") as http:
        page = (await http.get("/v1/storefront/products/peony", params={"locale": "en"})).json()
    shown = {a["code"]: (a["value"], a["display"]) for g in page["attribute_groups"] for a in g["attributes"]}
    assert shown["motifs"] == (["wave", "peony"], "Wave (label), Peony (label)")
    assert shown["material"] == ("silk", "Silk (label)")
    assert shown["care"][1] == shown["care"][0]  # (a text shows itself)


async def test_sku_axes_of_attributes_that_are_not_public_reach_no_page(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    await f.attribute(conn, "size", "select", options=("s", "m"))
    await f.attribute(conn, "batch", "text", visibility="internal")
    await f.sku(conn, "PEONY-2", "peony", None, {"size": "m", "batch": "B-77"})
    async with as_role("storefront") as http:
        page = await http.get("/v1/storefront/products/peony")
    assert {s["sku"]: s["axes"] for s in page.json()["skus"]} == {"PEONY-1": {}, "PEONY-2": {"size": "m"}}
    assert "B-77" not in page.text
    # an attribute that only SKUs carry, made internal: its pages are due at once, and computed without it
    await conn.execute("UPDATE attributes SET visibility = 'internal' WHERE code = 'size'")
    async with as_role("storefront") as http:
        page = await http.get("/v1/storefront/products/peony")
    assert {s["sku"]: s["axes"] for s in page.json()["skus"]} == {"PEONY-1": {}, "PEONY-2": {}}
    due = "SELECT count(*) FROM storefront_documents WHERE code = 'peony' AND stale_at = '-infinity'"
    assert await conn.fetchval(due) == 2  # both locales


async def test_only_changes_a_page_shows_make_it_due(conn: asyncpg.Connection) -> None:
    """An update that changes nothing shown (the same option labels written again, a role's description)
    leaves the stored pages be; a series' new labels make its products due (their search words carry them)."""
    await shop.shop(conn)
    due = "SELECT array_agg(DISTINCT code ORDER BY code) FROM storefront_documents WHERE stale_at = '-infinity'"
    await conn.execute("UPDATE attribute_options SET labels = labels, position = position")
    await conn.execute('UPDATE roles SET description = \'{"en": "new words"}\'')
    await conn.execute('UPDATE attribute_groups SET description = \'{"en": "new words"}\'')
    assert await conn.fetchval(due) is None
    await conn.execute("UPDATE series SET labels = '{\"en\": \"Mulberry\"}' WHERE code = 'silk-series'")
    assert await conn.fetchval(due) == ["peony", "wave"]  # (lotus is a draft: no page)
    await conn.execute("SELECT merch_touch_due()")
    words = "SELECT words::text FROM storefront_products WHERE code = 'wave'"
    assert "'mulberry'" in await conn.fetchval(words)


# Caching ------------------------------------------------------------------------------------------------


async def test_a_page_has_an_etag_a_current_copy_is_304_and_a_change_changes_it(
    as_role: Any, api: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        first = await http.get("/v1/storefront/products/check")
        again = await http.get("/v1/storefront/products/check", headers={"If-None-Match": first.headers["etag"]})
        assert (await api.patch("/v1/products/check", json={"labels": {"zh-CN": "新格纹"}})).status_code == 200
        changed = await http.get("/v1/storefront/products/check", headers={"If-None-Match": first.headers["etag"]})
        listing = await http.get("/v1/storefront/products", params={"category": "scarves"})
        listing_again = await http.get(
            "/v1/storefront/products",
            params={"category": "scarves"},
            headers={"If-None-Match": listing.headers["etag"]},
        )
    assert first.headers["cache-control"] == "public, max-age=60"
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert changed.status_code == 200 and changed.json()["label"] == "新格纹"
    assert changed.headers["etag"] != first.headers["etag"]
    assert listing.headers["cache-control"] == "public, max-age=30"
    assert listing_again.status_code == 304


async def simulate_time_passing(conn: asyncpg.Connection, promotion: str) -> None:
    """The promotion written to start in an hour now started 30 s ago, with no write: moved without the
    triggers, and the read model stale since that moment, as the refresh computed it."""
    await conn.execute("SET LOCAL session_replication_role = replica")
    await conn.execute("UPDATE promotions SET starts_at = now() - interval '30 s' WHERE code = $1", promotion)
    await conn.execute("SET LOCAL session_replication_role = origin")
    await conn.execute(
        "UPDATE storefront_documents SET stale_at = now() - interval '30 s' WHERE stale_at IS NOT NULL;"
        "UPDATE storefront_products SET stale_at = now() - interval '30 s' WHERE stale_at IS NOT NULL"
    )


async def test_a_promotion_starting_with_time_and_no_write_changes_price_and_etag(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await shop.promotion(conn, "double11", "PEONY-1", "159", starts_in_days=1 / 24, ends_in_days=2)
    async with as_role("storefront") as http:
        before = await http.get("/v1/storefront/products/peony")
        await simulate_time_passing(conn, "double11")
        after = await http.get("/v1/storefront/products/peony", headers={"If-None-Match": before.headers["etag"]})
        card = (await http.get("/v1/storefront/products", params={"category": "scarves", "sort": "price_asc"})).json()
        await conn.execute("SELECT merch_touch_due()")
        stored = await http.get("/v1/storefront/products/peony")
    assert before.json()["price"] == shop.cny("199.00")
    assert after.status_code == 200
    assert after.json()["price"] == shop.cny("159.00") and after.json()["regular_price"] == shop.cny("199.00")
    assert after.json()["skus"][0]["promotion"]["code"] == "double11"
    assert after.headers["etag"] != before.headers["etag"]
    peony = next(c for c in card["items"] if c["code"] == "peony")
    assert (peony["price"], peony["regular_price"]) == (shop.cny("159.00"), shop.cny("199.00"))
    assert stored.headers["etag"] == after.headers["etag"]
    assert stored.content == after.content


async def test_a_running_promotion_not_below_the_sale_price_is_not_the_shoppers(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    """The sale price wins a tie (as the shopper prices of /v1/promotions): a page names no promotion the
    shopper does not get, and neither does customer service."""
    await shop.shop(conn)
    await shop.promotion(conn, "dearer", "PEONY-1", "199", starts_in_days=-1, ends_in_days=2)
    await shop.promotion(conn, "cheaper", "CHECK-1", "89", starts_in_days=-1, ends_in_days=2)
    async with as_role("storefront") as http:
        peony = (await http.get("/v1/storefront/products/peony", params={"locale": "en"})).json()
        check = (await http.get("/v1/storefront/products/check", params={"locale": "en"})).json()
    async with as_role("service") as http:
        told = (await http.get("/v1/service/lookup", params={"q": "PEONY-1"})).json()
    assert (peony["price"], peony["skus"][0]["price"], peony["skus"][0]["promotion"]) == (
        shop.cny("199.00"),
        shop.cny("199.00"),
        None,
    )
    assert (check["price"], check["skus"][0]["promotion"]["code"]) == (shop.cny("89.00"), "cheaper")
    assert told["items"][0]["skus"][0]["promotion"] is None


async def test_a_page_is_cached_no_longer_than_until_its_price_changes(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    await shop.promotion(conn, "flash", "WAVE-1", "99", starts_in_days=20 / 86400, ends_in_days=1)
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/products/wave")
    max_age = int(r.headers["cache-control"].split("max-age=")[1])
    assert 0 <= max_age <= 20
    # a page computed on the spot (its stored copy is due) is cached no longer either
    await conn.execute("SELECT merch_storefront_due(ARRAY(SELECT id FROM products WHERE code = 'wave'))")
    async with as_role("storefront") as http:
        computed = await http.get("/v1/storefront/products/wave")
    assert computed.content == r.content
    assert 0 <= int(computed.headers["cache-control"].split("max-age=")[1]) <= 20


# Navigation ---------------------------------------------------------------------------------------------


async def test_navigation_counts_listed_products_per_subtree_and_keeps_empty_branches(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        web = (await http.get("/v1/storefront/categories", params={"tree": "web", "locale": "en"})).json()
        merch = (await http.get("/v1/storefront/categories", params={"tree": "merch"})).json()
        unknown = await http.get("/v1/storefront/categories", params={"tree": "nope"})
    assert [(c["code"], c["label"], c["listed_products"]) for c in web["categories"]] == [
        ("web-gifts", "Gift ideas", 2),
        ("web-new", "New", 0),
    ]
    (accessories,) = merch["categories"]
    assert (accessories["label"], accessories["listed_products"]) == ("服饰配件", 3)
    assert [(c["code"], c["listed_products"]) for c in accessories["children"]] == [("scarves", 3), ("bags", 0)]
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["parameter"] == "tree"


# Category page ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "accessories"}, ["peony", "check", "wave"]),
        ({"category": "web-gifts"}, ["peony", "check"]),
        ({"category": "bags"}, []),
        ({"category": "scarves", "filter": "color:navy"}, ["check", "wave"]),
        ({"category": "scarves", "filter": "color:navy,red"}, ["peony", "check", "wave"]),
        ({"category": "scarves", "filter": ["color:navy", "material:silk"]}, ["wave"]),
        ({"category": "scarves", "filter": ["color:navy,red", "material:silk"]}, ["peony", "wave"]),
        # several values in two and three attributes: each attribute past the first OR'ed one is a group of the
        # walk's signature check (merch_storefront_hits), a product passing by any one of its values
        ({"category": "scarves", "filter": ["color:navy,red", "material:silk,cotton"]}, ["peony", "check", "wave"]),
        (
            {"category": "scarves", "filter": ["color:red,green", "material:cotton,silk", "organic:true,false"]},
            ["peony"],
        ),
        (
            {"category": "scarves", "filter": ["color:navy,red", "material:cotton,silk", "organic:true,false"]},
            ["peony", "check", "wave"],
        ),
        (
            {"category": "scarves", "filter": ["color:navy,red", "organic:true,false", "material:cotton,silk"]},
            ["peony", "check", "wave"],
        ),
        ({"category": "scarves", "filter": "width:55..95cm"}, ["peony", "wave"]),
        ({"category": "scarves", "filter": "width:600..800mm"}, ["wave"]),
        ({"category": "scarves", "filter": "width:0.6m..0.8m"}, ["wave"]),
        ({"category": "scarves", "filter": "width:..60"}, ["check"]),
        ({"category": "scarves", "filter": "organic:true"}, ["check", "wave"]),
        ({"category": "scarves", "filter": "organic:false"}, ["peony"]),
        ({"category": "scarves", "price": "100..200"}, ["peony", "wave"]),
        ({"category": "scarves", "price": "..99"}, ["check"]),
        ({"category": "scarves", "in_stock": "true"}, ["peony", "check"]),
        ({"category": "scarves", "role": "destination"}, ["peony"]),
        ({"category": "scarves", "series": "silk-series"}, ["peony", "wave"]),
    ],
)
async def test_a_category_page_filters(
    as_role: Any, conn: asyncpg.Connection, params: dict[str, Any], expected: list[str]
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        assert await codes(http, **params) == expected


async def test_units_in_a_quarantine_bin_never_put_a_product_in_stock(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    # wave's 4 units in a quarantine bin (returns that cannot be resold) do not make it available
    await conn.execute(
        "INSERT INTO locations (warehouse_id, code, quarantine)"
        " SELECT id, 'Q-1', true FROM warehouses WHERE code = 'hz'"
    )
    await shop.stock(conn, "WAVE-1", 4, bin_code="Q-1")
    # peony's bin put into quarantine takes it out of stock at once (its units did not move)
    await conn.execute(
        "UPDATE locations SET quarantine = true WHERE code = 'A-1'"
        " AND warehouse_id = (SELECT id FROM warehouses WHERE code = 'hz')"
    )
    async with as_role("storefront") as http:
        assert await codes(http, category="scarves", in_stock="true") == ["check"]
        for code in ("peony", "wave"):
            page = (await http.get(f"/v1/storefront/products/{code}")).json()
            assert (page["in_stock"], [s["in_stock"] for s in page["skus"]]) == (False, [False]), code
    # and out of quarantine, in stock again
    await conn.execute("UPDATE locations SET quarantine = false WHERE code = 'A-1'")
    async with as_role("storefront") as http:
        assert await codes(http, category="scarves", in_stock="true") == ["peony", "check"]
        assert (await http.get("/v1/storefront/products/peony")).json()["in_stock"] is True


async def test_cards_show_the_price_to_pay_and_no_hidden_data(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/products", params={"category": "scarves", "locale": "en"})
    assert r.json()["items"][0] == {
        "code": "peony",
        "label": "Silk scarf peony",
        "image": "https://img.example/peony.jpg",
        "role": "destination",
        "series": ["silk-series"],
        "price": shop.cny("199.00"),
        "regular_price": shop.cny("199.00"),
        "in_stock": True,
    }
    for hidden in HIDDEN_VALUES:
        assert hidden not in r.text


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("position", ["peony", "check", "wave"]),
        ("price_asc", ["check", "wave", "peony"]),
        ("price_desc", ["peony", "wave", "check"]),
        ("best_selling", ["wave", "check", "peony"]),
    ],
)
async def test_a_category_page_sorts(as_role: Any, conn: asyncpg.Connection, sort: str, expected: list[str]) -> None:
    await shop.shop(conn)
    await shop.sold(conn, {"WAVE-1": 30, "CHECK-1": 20, "PEONY-1": 10})
    async with as_role("storefront") as http:
        assert await codes(http, category="scarves", sort=sort) == expected


async def test_newest_first(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    await conn.execute("UPDATE products SET created_at = now() - make_interval(days => id::integer)")
    await conn.execute("SELECT merch_touch('storefront', ARRAY(SELECT id FROM products))")
    async with as_role("storefront") as http:
        newest = await codes(http, category="scarves", sort="newest")
    ids = dict(await conn.fetch("SELECT code, id FROM products"))
    assert newest == sorted(LISTED, key=lambda c: ids[c])  # a larger id was made older: the smallest id is newest


@pytest.mark.parametrize("sort", ["position", "price_asc", "price_desc"])
async def test_keyset_pages_walk_every_product_once(as_role: Any, conn: asyncpg.Connection, sort: str) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        whole = await codes(http, category="scarves", sort=sort)
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            params = {"category": "scarves", "sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/v1/storefront/products", params=params)).json()
            seen += [c["code"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == whole and len(whole) == 3


async def test_a_cursor_from_another_query_is_a_400(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        first = (await http.get("/v1/storefront/products", params={"category": "scarves", "limit": 1})).json()
        other = await http.get(
            "/v1/storefront/products",
            params={"category": "scarves", "limit": 1, "filter": "color:navy", "cursor": first["next_cursor"]},
        )
    assert other.status_code == 400
    assert other.json()["errors"][0] == {
        "code": "invalid_cursor",
        "message": "The cursor belongs to another query (filters or sort changed).",
        "parameter": "cursor",
    }


@pytest.mark.parametrize(
    ("params", "parameter", "code"),
    [
        ({"filter": "nope:1"}, "filter", "unknown_attribute"),
        ({"filter": "care:x"}, "filter", "not_a_filter"),
        ({"filter": "hs-code:6214100000"}, "filter", "not_a_filter"),
        ({"filter": "supplier-notes:x"}, "filter", "not_a_filter"),
        ({"filter": "color"}, "filter", "invalid_filter"),
        ({"filter": "color:purple"}, "filter", "unknown_option"),
        ({"filter": "organic:yes"}, "filter", "invalid_value"),
        ({"filter": "width:a..b"}, "filter", "invalid_range"),
        ({"filter": "width:90..50"}, "filter", "reversed_range"),
        ({"filter": "width:1..2kg"}, "filter", "invalid_unit"),
        ({"filter": "width:1cm..2mm"}, "filter", "invalid_range"),
        ({"filter": "width:.."}, "filter", "invalid_range"),
        ({"filter": "width:99999999999999999999..1"}, "filter", "invalid_range"),
        ({"filter": ["width:1..2", "width:3..4"]}, "filter", "repeated_filter"),
        ({"price": "300..100"}, "price", "reversed_range"),
        ({"price": "1..2cm"}, "price", "invalid_range"),
        ({"price": "NaN..1"}, "price", "invalid_range"),
        ({"role": "nope"}, "role", "unknown_role"),
        ({"series": "nope"}, "series", "unknown_series"),
        ({"category": "nope"}, "category", "unknown_category"),
        ({"cursor": "%%%"}, "cursor", "invalid_cursor"),
    ],
)
async def test_bad_category_page_queries_are_400_naming_the_parameter(
    as_role: Any, conn: asyncpg.Connection, params: dict[str, Any], parameter: str, code: str
) -> None:
    await shop.shop(conn)
    params = {"category": "scarves", **params}
    async with as_role("storefront") as http:
        for path in ("/v1/storefront/products", "/v1/storefront/facets"):
            if path.endswith("facets") and parameter == "cursor":
                continue
            r = await http.get(path, params=params)
            assert r.status_code == 400, r.text
            problem = r.json()
            assert problem["errors"][0]["parameter"] == parameter, problem
            assert problem["errors"][0]["code"] == code, problem


async def test_a_range_bound_too_long_is_named_as_such_not_as_a_malformed_range(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        for params in ({"price": "1..99999999999999999999"}, {"filter": "width:1.1234567..2"}):
            r = await http.get("/v1/storefront/products", params={"category": "scarves", **params})
            assert r.status_code == 400, r.text
            error = r.json()["errors"][0]
            assert error["code"] == "invalid_range"
            assert "at most 15 digits before the decimal point and 6 after it" in error["message"], error
        for malformed in ("a..b", "12345678901234567", "1..2..12345678901234567"):  # (not ranges, whatever the digits)
            r = await http.get("/v1/storefront/products", params={"category": "scarves", "price": malformed})
            assert "is not a range" in r.json()["errors"][0]["message"], malformed


@pytest.mark.parametrize(
    "params",
    [{"sort": "cheapest"}, {"limit": 101}, {"limit": 0}, {}, {"in_stock": "maybe"}, {"filter": ["color:red"] * 21}],
)
async def test_malformed_parameters_are_400(as_role: Any, conn: asyncpg.Connection, params: dict[str, Any]) -> None:
    await shop.shop(conn)
    if params:
        params = {"category": "scarves", **params}
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/products", params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


# Facets -------------------------------------------------------------------------------------------------


def brute_force(filters: dict[str, set[str]], price: tuple[float, float] | None) -> dict[str, dict[str, int]]:
    """Counts per attribute value over the listed products, each attribute counted under every filter but
    its own."""
    prices = {"peony": 199, "check": 99, "wave": 149}
    out: dict[str, dict[str, int]] = {}
    for attribute in ("color", "material", "organic"):
        counts: dict[str, int] = {}
        for code in LISTED:
            values = shop.PRODUCTS[code]
            ok = all(str(values.get(a)).lower() in wanted for a, wanted in filters.items() if a != attribute) and (
                price is None or price[0] <= prices[code] <= price[1]
            )
            if ok and attribute in values:
                v = str(values[attribute]).lower()
                counts[v] = counts.get(v, 0) + 1
        out[attribute] = counts
    return out


SELECTIONS = [
    {},
    {"color": {"navy"}},
    {"color": {"navy", "red"}},
    {"color": {"navy"}, "material": {"silk"}},
    {"material": {"cotton"}, "organic": {"true"}},
    {"color": {"green"}},
]


@pytest.mark.parametrize(("selection", "price"), list(itertools.product(SELECTIONS, [None, (100.0, 200.0)])))
async def test_facet_counts_are_disjunctive_and_equal_a_brute_force_count(
    as_role: Any, conn: asyncpg.Connection, selection: dict[str, set[str]], price: tuple[float, float] | None
) -> None:
    await shop.shop(conn)
    params: dict[str, Any] = {
        "category": "scarves",
        "filter": [f"{a}:{','.join(sorted(v))}" for a, v in selection.items()],
    }
    if price:
        params["price"] = f"{price[0]:g}..{price[1]:g}"
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/facets", params=params)
        total = len(await codes(http, **params))
    assert r.status_code == 200, r.text
    body = r.json()
    got = {f["attribute"]: {v["value"]: v["count"] for v in f["values"]} for f in body["facets"] if f.get("values")}
    expected = {a: c for a, c in brute_force(selection, price).items() if c}
    assert got == expected
    assert body["total"] == total
    for facet in body["facets"]:
        for value in facet.get("values", []):
            assert value["selected"] == (value["value"] in selection.get(facet["attribute"], set()))


async def test_facets_come_in_shopper_attention_order_with_labels_and_bounds(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await conn.execute("UPDATE attribute_options SET labels = '{\"en\": \"Navy blue\"}' WHERE code = 'navy'")
    async with as_role("storefront") as http:
        body = (
            await http.get("/v1/storefront/facets", params={"category": "scarves", "price": "100..150", "locale": "en"})
        ).json()
    assert [f["attribute"] for f in body["facets"]] == ["color", "material", "width", "organic"]
    color = body["facets"][0]  # under the price filter only wave (navy) is left: red is not offered
    assert [(v["value"], v["label"], v["count"]) for v in color["values"]] == [("navy", "Navy blue", 1)]
    width = body["facets"][2]  # bounds in the attribute's default unit
    assert (width["min"], width["max"], width["unit"]) == ("70", "70", "cm")
    assert body["price"] == {"min": shop.cny("99.00"), "max": shop.cny("199.00")}  # without the price filter
    assert body["total"] == 1


# Search -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("方巾", {"peony", "check", "wave"}),
        ("格纹", {"check"}),
        ("真丝", {"peony", "wave"}),
        ("丝", {"peony", "wave", "check"}),  # 丝巾 is the category's label
        ("slik scraf", {"peony", "wave"}),
        ("silk scarf", {"peony", "wave"}),
        ("cotton", {"check"}),
        ("cott", {"check"}),
        ("scarfs", {"peony", "check", "wave"}),
        ("lotus", set()),  # a draft
        ("!!!", set()),
    ],
)
async def test_search_finds_by_chinese_characters_english_words_typos_and_prefixes(
    as_role: Any, conn: asyncpg.Connection, q: str, expected: set[str]
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/search", params={"q": q})
    assert r.status_code == 200, r.text
    assert {c["code"] for c in r.json()["items"]} == expected


@pytest.mark.parametrize("q", ["CHECK-1", "6900000000001", "check-1"])
async def test_an_exact_sku_or_barcode_comes_first(as_role: Any, conn: asyncpg.Connection, q: str) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/search", params={"q": q})
    assert next(c["code"] for c in r.json()["items"]) == "check"


async def test_search_within_a_category(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/search", params={"q": "方巾", "category": "web-gifts"})
        bad = await http.get("/v1/storefront/search", params={"q": "方巾", "category": "nope"})
    assert {c["code"] for c in r.json()["items"]} == {"peony", "check"}
    assert bad.status_code == 400 and bad.json()["errors"][0]["parameter"] == "category"


@pytest.mark.parametrize(("q", "code"), [("", "empty_query"), ("   ", "empty_query"), ("x" * 101, "query_too_long")])
async def test_an_empty_or_over_long_query_is_a_400(as_role: Any, conn: asyncpg.Connection, q: str, code: str) -> None:
    async with as_role("storefront") as http:
        r = await http.get("/v1/storefront/search", params={"q": q})
    assert r.status_code == 400
    assert r.json()["errors"][0] == {"parameter": "q", "code": code, "message": r.json()["errors"][0]["message"]}


@pytest.mark.parametrize(("k", "product_id"), [("abc", 1), ("NaN", 1), ("Infinity", 1), ("1", 2**63), ("1", -1)])
async def test_a_forged_cursor_is_a_400_not_a_500(
    as_role: Any, conn: asyncpg.Connection, k: str, product_id: int
) -> None:
    await shop.shop(conn)
    async with as_role("storefront") as http:
        first = (await http.get("/v1/storefront/products", params={"category": "scarves", "limit": 1})).json()
        fingerprint = decode_cursor(first["next_cursor"], (str, str, int))[0]  # type: ignore[index]
        forged = encode_cursor([fingerprint, k, product_id])
        r = await http.get("/v1/storefront/products", params={"category": "scarves", "limit": 1, "cursor": forged})
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "invalid_cursor"


async def test_a_fresh_process_answers_a_filtered_page_and_its_facets(as_role: Any, conn: asyncpg.Connection) -> None:
    """The locale and the filters are both worked out on the request's connection: one after the other (a
    fresh server, whose storefront configuration is not read yet, once answered 500)."""
    await shop.shop(conn)
    async with as_role("storefront") as http:
        for path in ("/v1/storefront/products", "/v1/storefront/facets"):
            storefront_service._config = None  # as in a process that has not read it yet
            r = await http.get(path, params={"category": "scarves", "filter": "color:navy", "locale": "en"})
            assert r.status_code == 200, r.text
