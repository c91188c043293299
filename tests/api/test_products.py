"""Products over HTTP: attribute values checked against the inherited attribute set, placements, filters,
merge patches, ETags, audit, and nothing half-written on a rejected body."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import factories as f


async def catalog(conn: asyncpg.Connection) -> None:
    """Two roots of three levels in `merch`, a `web` and a `promo` tree, attributes bound at every level.

    accessories (material, weight) › scarves (colour, width, soft) › silk-squares (tags) / silk-longs
    fragrance › lavender (scent) › oils
    """
    await f.tree(conn, "merch")
    await f.tree(conn, "web", levels=("shelf", "aisle"))
    await f.tree(conn, "promo", levels=("campaign",))
    for code, parent in [
        ("accessories", None),
        ("scarves", "accessories"),
        ("silk-squares", "scarves"),
        ("silk-longs", "scarves"),
        ("fragrance", None),
        ("lavender", "fragrance"),
        ("oils", "lavender"),
    ]:
        await f.category(conn, code, "merch", parent)
    await f.category(conn, "web-gifts", "web")
    await f.category(conn, "web-scarves", "web", "web-gifts")
    await f.category(conn, "web-sale", "web")
    await f.category(conn, "promo-summer", "promo")
    await f.attribute(conn, "material", "select", options=("silk", "cotton", "wool"))
    await f.attribute(conn, "weight", "decimal", validation={"decimals": 2, "min": 0})
    await f.attribute(conn, "colour", "select", options=("red", "blue", "green"))
    await f.attribute(conn, "width", "integer", validation={"min": 10, "max": 200})
    await f.attribute(conn, "soft", "boolean")
    await f.attribute(conn, "tags", "multiselect", options=("light", "warm", "gift"))
    await f.attribute(conn, "scent", "text")
    await f.attribute(conn, "unbound", "text")
    await f.bind(conn, "accessories", "material")
    await f.bind(conn, "accessories", "weight")
    await f.bind(conn, "scarves", "colour")
    await f.bind(conn, "scarves", "width")
    await f.bind(conn, "scarves", "soft")
    await f.bind(conn, "silk-squares", "tags")
    await f.bind(conn, "lavender", "scent")
    await f.series(conn, "silk-series")
    await f.series(conn, "lavender-series")


FULL: dict[str, Any] = {
    "code": "sq-90",
    "category": "silk-squares",
    "categories": ["web-scarves", "promo-summer"],
    "role": "destination",
    "series": ["silk-series"],
    "labels": {"zh-CN": "真丝方巾", "en": "Silk square scarf"},
    "description": {"zh-CN": "100% 桑蚕丝", "en": "Pure mulberry silk"},
    "selling_points": [{"zh-CN": "手工卷边", "en": "Hand-rolled hems"}, {"en": "Gift boxed"}],
    "images": ["https://img.example.com/sq-90-1.jpg", "http://img.example.com/sq-90-2.jpg"],
    "quality_tags": ["new", "famous"],
    "attributes": {
        "material": "silk",
        "weight": 35.5,
        "colour": "red",
        "width": 90,
        "tags": ["light", "gift"],
    },
}


async def create(api: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await api.post("/v1/products", json={**FULL, **fields})


async def product_count(conn: asyncpg.Connection) -> tuple[int, int, int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM products"),
        await conn.fetchval("SELECT count(*) FROM product_placements"),
        await conn.fetchval("SELECT count(*) FROM product_series"),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'product'"),
    )


async def test_creating_a_product_with_every_field_answers_it_in_draft_with_its_etag(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await create(api)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/products/sq-90"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body.pop("created_at") == body.pop("updated_at")
    assert body == {
        "code": "sq-90",
        "category": "silk-squares",
        "categories": ["promo-summer", "web-scarves"],
        "role": "destination",
        "series": ["silk-series"],
        "labels": {"zh-CN": "真丝方巾", "en": "Silk square scarf"},
        "description": {"zh-CN": "100% 桑蚕丝", "en": "Pure mulberry silk"},
        "selling_points": [{"zh-CN": "手工卷边", "en": "Hand-rolled hems"}, {"en": "Gift boxed"}],
        "images": ["https://img.example.com/sq-90-1.jpg", "http://img.example.com/sq-90-2.jpg"],
        "quality_tags": ["famous", "new"],
        "attributes": {
            "material": "silk",
            "weight": "35.5",
            "colour": "red",
            "width": 90,
            "tags": ["light", "gift"],
        },
        "lifecycle": "draft",
        "version": 1,
    }
    again = await api.get("/v1/products/sq-90")
    assert again.status_code == 200
    assert again.json() == r.json()
    audit = (await api.get("/v1/audit", params={"entity": "product", "code": "sq-90"})).json()["items"]
    assert [(e["action"], e["version"], e["actor"]) for e in audit] == [("create", 1, "test-admin")]
    assert audit[0]["changes"]["role"] == {"before": None, "after": "destination"}


async def test_attributes_bound_on_the_root_are_used_on_a_leaf_and_those_of_another_branch_are_refused(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    ok = await create(api, code="sq-1", attributes={"material": "wool", "width": 10})
    assert ok.status_code == 201, ok.text
    assert ok.json()["attributes"] == {"material": "wool", "width": 10}
    r = await create(api, code="sq-2", attributes={"material": "silk", "scent": "lavender"})
    assert r.status_code == 422
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "`scent` is not in this category's attribute set.",
        "code": "validation-failed",
        "instance": "/v1/products",
        "errors": [
            {
                "pointer": "/attributes/scent",
                "code": "not_in_attribute_set",
                "message": "`scent` is not in this category's attribute set.",
            }
        ],
    }


async def test_an_attribute_bound_nowhere_above_the_home_category_is_a_422(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await create(api, category="silk-longs", attributes={"unbound": "x", "tags": ["light"]})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "/attributes/tags",
            "code": "not_in_attribute_set",
            "message": "`tags` is not in this category's attribute set.",
        },
        {
            "pointer": "/attributes/unbound",
            "code": "not_in_attribute_set",
            "message": "`unbound` is not in this category's attribute set.",
        },
    ]


async def test_every_error_of_a_body_comes_in_one_422_and_nothing_is_written(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    before = await product_count(conn)
    r = await create(
        api,
        categories=["web-scarves", "web-sale", "nowhere"],
        role="hero",
        series=["silk-series", "no-such-series", "silk-series"],
        quality_tags=["new", "new"],
        attributes={"width": 500, "colour": "purple", "tags": ["gift", "gift"], "scent": "rose"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "10 fields are invalid."
    assert body["errors"] == [
        {
            "pointer": "/categories/1",
            "code": "tree_taken",
            "message": "'web-sale' is a second placement in tree 'web' (after 'web-scarves'); "
            "a product has at most one category per tree.",
        },
        {
            "pointer": "/categories/2",
            "code": "unknown_category",
            "message": "No category has the code 'nowhere'.",
        },
        {"pointer": "/role", "code": "unknown_role", "message": "No product role has the code 'hero'."},
        {
            "pointer": "/series/1",
            "code": "unknown_series",
            "message": "No series has the code 'no-such-series'.",
        },
        {"pointer": "/series/2", "code": "duplicate", "message": "'silk-series' is listed twice."},
        {"pointer": "/quality_tags/1", "code": "duplicate", "message": "'new' is listed twice."},
        {
            "pointer": "/attributes/colour",
            "code": "unknown_option",
            "message": "'purple' is not an option of `colour`.",
        },
        {
            "pointer": "/attributes/scent",
            "code": "not_in_attribute_set",
            "message": "`scent` is not in this category's attribute set.",
        },
        {"pointer": "/attributes/tags/1", "code": "duplicate_option", "message": "'gift' is listed twice."},
        {"pointer": "/attributes/width", "code": "out_of_range", "message": "Must be at most 200."},
    ]
    assert await product_count(conn) == before


async def test_an_unknown_home_category_is_reported_with_the_other_unknown_codes(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await create(api, category="nowhere", role="hero", series=["nope"])
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/category", "unknown_category"),
        ("/role", "unknown_role"),
        ("/series/0", "unknown_series"),
    ]
    assert await product_count(conn) == (0, 0, 0, 0)


async def test_shape_errors_are_422s_with_pointers_and_lifecycle_is_not_writable(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await create(
        api,
        lifecycle="listed",
        images=["ftp://img.example.com/a.jpg", *[f"https://img.example.com/{i}.jpg" for i in range(50)]],
        quality_tags=["cheap"],
        description={"en": ""},
    )
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/lifecycle", "unknown_field"),
        ("/description/en", "too_short"),
        ("/images/0", "invalid_format"),
        ("/quality_tags/0", "invalid_choice"),
    }
    too_many = await create(api, images=[f"https://img.example.com/{i}.jpg" for i in range(51)])
    assert too_many.status_code == 422
    assert [(e["pointer"], e["code"]) for e in too_many.json()["errors"]] == [("/images", "too_long")]
    put = await api.put("/v1/products/sq-90", json={**{k: v for k, v in FULL.items() if k != "code"}, "lifecycle": "x"})
    assert put.status_code == 422
    assert [(e["pointer"], e["code"]) for e in put.json()["errors"]] == [("/lifecycle", "unknown_field")]
    assert await product_count(conn) == (0, 0, 0, 0)


async def test_a_taken_code_is_a_409_problem(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    await create(api)
    r = await create(api)
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/product-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "A product with the code 'sq-90' exists already.",
        "code": "product-exists",
        "instance": "/v1/products",
    }


async def test_an_unknown_product_is_a_404_problem(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/products/nope")
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/product-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No product has the code 'nope'.",
        "code": "product-not-found",
        "instance": "/v1/products/nope",
    }


async def test_a_merge_patch_removes_one_attribute_value_and_one_label_locale(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await create(api)
    r = await api.patch("/v1/products/sq-90", json={"attributes": {"width": None}, "labels": {"en": None}})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    body = r.json()
    assert body["version"] == 2
    assert body["labels"] == {"zh-CN": "真丝方巾"}
    assert body["attributes"] == {
        "material": "silk",
        "weight": "35.5",
        "colour": "red",
        "tags": ["light", "gift"],
    }
    assert body["categories"] == ["promo-summer", "web-scarves"]
    assert body["series"] == ["silk-series"]
    audit = (await api.get("/v1/audit", params={"entity": "product", "code": "sq-90"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("update", 2), ("create", 1)]
    assert audit[0]["changes"] == {
        "attributes": {
            "before": {
                "material": "silk",
                "weight": "35.5",
                "colour": "red",
                "width": 90,
                "tags": ["light", "gift"],
            },
            "after": {"material": "silk", "weight": "35.5", "colour": "red", "tags": ["light", "gift"]},
        },
        "labels": {
            "before": {"zh-CN": "真丝方巾", "en": "Silk square scarf"},
            "after": {"zh-CN": "真丝方巾"},
        },
    }


async def test_a_merge_patch_changes_one_locale_and_keeps_the_others(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await create(api)
    r = await api.patch("/v1/products/sq-90", json={"labels": {"en": "Square scarf"}, "series": None})
    assert r.status_code == 200
    assert r.json()["labels"] == {"zh-CN": "真丝方巾", "en": "Square scarf"}
    assert r.json()["series"] == []
    assert await conn.fetchval("SELECT count(*) FROM product_series") == 0


async def test_a_no_op_patch_or_put_keeps_the_version_and_writes_no_audit_row(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await create(api)
    noop = await api.patch(
        "/v1/products/sq-90",
        json={
            "labels": {"en": "Silk square scarf"},
            "quality_tags": ["new", "famous"],
            "attributes": {"weight": 35.5},
        },
    )
    assert noop.status_code == 200
    assert noop.json()["version"] == 1
    fields = {k: v for k, v in FULL.items() if k != "code"}
    put = await api.put("/v1/products/sq-90", json={**fields, "categories": ["web-scarves", "promo-summer"]})
    assert put.status_code == 200
    assert put.json()["version"] == 1
    audit = (await api.get("/v1/audit", params={"entity": "product", "code": "sq-90"})).json()["items"]
    assert [e["action"] for e in audit] == ["create"]


async def test_put_creates_then_replaces_and_a_stale_if_match_is_a_412(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    body = {
        "category": "oils",
        "role": "routine",
        "labels": {"en": "Lavender oil"},
        "attributes": {"scent": "fresh"},
    }
    first = await api.put("/v1/products/oil-10", json=body)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == "/v1/products/oil-10"
    assert first.json()["lifecycle"] == "draft"
    changed = await api.put(
        "/v1/products/oil-10", json={**body, "series": ["lavender-series"]}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.json()["series"] == ["lavender-series"]
    stale = await api.put("/v1/products/oil-10", json=body, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version-mismatch"
    assert stale.json()["context"] == {"current_version": 2}
    missing = await api.put("/v1/products/oil-11", json=body, headers={"If-Match": '"1"'})
    assert missing.status_code == 412
    assert (await api.get("/v1/products/oil-10")).json()["series"] == ["lavender-series"]


async def test_put_with_an_invalid_code_in_the_path_is_a_422(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    r = await api.put("/v1/products/Not%20A%20Code", json={"category": "oils", "role": "routine"})
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/code", "invalid_format")]


async def test_get_with_a_matching_if_none_match_is_304(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    await create(api)
    r = await api.get("/v1/products/sq-90", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == '"1"'
    r = await api.get("/v1/products/sq-90", headers={"If-None-Match": '"2"'})
    assert r.status_code == 200


async def test_a_placement_in_the_home_tree_or_a_second_one_in_a_tree_is_a_422_at_its_pointer(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    home = await create(api, categories=["web-scarves", "oils"])
    assert home.status_code == 422
    assert home.json()["errors"] == [
        {
            "pointer": "/categories/1",
            "code": "home_tree",
            "message": "'oils' is in tree 'merch', the tree of the home category 'silk-squares'; "
            "placements are in other trees.",
        }
    ]
    twice = await create(api, categories=["web-scarves", "web-scarves"])
    assert twice.status_code == 422
    assert [(e["pointer"], e["code"]) for e in twice.json()["errors"]] == [("/categories/1", "tree_taken")]
    assert await product_count(conn) == (0, 0, 0, 0)
    moved = await create(api, categories=["web-sale"])
    assert moved.status_code == 201
    r = await api.patch("/v1/products/sq-90", json={"categories": ["web-gifts", "promo-summer"]})
    assert r.json()["categories"] == ["promo-summer", "web-gifts"]
    rows = await conn.fetch(
        "SELECT t.code AS tree, c.code FROM product_placements p JOIN categories c ON c.id = p.category_id "
        "JOIN category_trees t ON t.id = p.tree_id ORDER BY t.code"
    )
    assert [(r["tree"], r["code"]) for r in rows] == [("promo", "promo-summer"), ("web", "web-gifts")]


async def test_a_new_home_category_rechecks_the_attributes_and_lists_those_outside_its_set(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await create(api)
    r = await api.patch("/v1/products/sq-90", json={"category": "oils"})
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/attributes/colour", "not_in_attribute_set"),
        ("/attributes/material", "not_in_attribute_set"),
        ("/attributes/tags", "not_in_attribute_set"),
        ("/attributes/weight", "not_in_attribute_set"),
        ("/attributes/width", "not_in_attribute_set"),
    ]
    narrower = await api.patch("/v1/products/sq-90", json={"category": "silk-longs"})
    assert narrower.status_code == 422
    assert [e["pointer"] for e in narrower.json()["errors"]] == ["/attributes/tags"]
    moved = await api.patch("/v1/products/sq-90", json={"category": "silk-longs", "attributes": {"tags": None}})
    assert moved.status_code == 200
    assert moved.json()["category"] == "silk-longs"
    assert moved.json()["version"] == 2


async def test_a_new_home_category_without_the_attributes_its_skus_use_is_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await create(api, attributes={"material": "silk"})
    await f.sku(conn, "SQ-90-RED", "sq-90", axes={"colour": "red"})
    r = await api.patch("/v1/products/sq-90", json={"category": "fragrance", "attributes": {"material": None}})
    assert r.status_code == 409
    assert r.json()["code"] == "skus-outside-attribute-set"
    assert r.json()["context"] == {"skus": {"SQ-90-RED": ["colour"]}}
    assert (await api.get("/v1/products/sq-90")).json()["category"] == "silk-squares"


async def filtered(api: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await api.get("/v1/products", params=params)
    assert r.status_code == 200, r.text
    return [p["code"] for p in r.json()["items"]]


async def test_the_list_filters_by_subtree_home_or_placed_role_series_lifecycle_and_attributes(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await f.product(
        conn, "p-a", "silk-squares", "destination", {"colour": "red", "width": 90, "tags": ["light", "gift"]}
    )
    await f.product(conn, "p-b", "silk-longs", "routine", {"colour": "blue", "width": 180, "weight": "12.50"})
    await f.product(conn, "p-c", "oils", "image", {"scent": "fresh"}, lifecycle="listed")
    await f.product(conn, "p-d", "scarves", "routine", {"colour": "red", "soft": True, "tags": ["warm"]})
    await conn.execute(
        "INSERT INTO product_placements (product_id, tree_id, category_id) "
        "SELECT p.id, c.tree_id, c.id FROM products p, categories c "
        "WHERE p.code = 'p-c' AND c.code = 'web-scarves'"
    )
    await conn.execute(
        "INSERT INTO product_series (product_id, series_id) SELECT p.id, s.id FROM products p, series s "
        "WHERE (p.code, s.code) IN "
        "(('p-a', 'silk-series'), ('p-b', 'silk-series'), ('p-c', 'lavender-series'))"
    )
    assert await filtered(api) == ["p-a", "p-b", "p-c", "p-d"]
    assert await filtered(api, category="accessories") == ["p-a", "p-b", "p-d"]
    assert await filtered(api, category="scarves") == ["p-a", "p-b", "p-d"]
    assert await filtered(api, category="silk-squares") == ["p-a"]
    assert await filtered(api, category="web-gifts") == ["p-c"]
    assert await filtered(api, category="fragrance") == ["p-c"]
    assert await filtered(api, role="routine") == ["p-b", "p-d"]
    assert await filtered(api, series="silk-series") == ["p-a", "p-b"]
    assert await filtered(api, lifecycle="listed") == ["p-c"]
    assert await filtered(api, lifecycle="draft", category="scarves", role="routine") == ["p-b", "p-d"]
    assert await filtered(api, attr="colour:red") == ["p-a", "p-d"]
    assert await filtered(api, attr="width:180") == ["p-b"]
    assert await filtered(api, attr="width:+90") == ["p-a"]
    assert await filtered(api, attr="tags:gift") == ["p-a"]
    assert await filtered(api, attr=["tags:light", "tags:gift"]) == ["p-a"]
    assert await filtered(api, attr=["tags:warm", "colour:red"]) == ["p-d"]
    assert await filtered(api, attr=["colour:red", "colour:blue"]) == []
    assert await filtered(api, attr="soft:true") == ["p-d"]
    assert await filtered(api, attr="weight:12.5") == ["p-b"]
    assert await filtered(api, attr="scent:fresh", category="web-scarves") == ["p-c"]


async def test_an_unknown_code_or_a_bad_value_in_a_filter_is_a_400_naming_the_parameter(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    cases = [
        ({"category": "nowhere"}, "category", "unknown_code", "No category has the code 'nowhere'."),
        ({"role": "hero"}, "role", "unknown_code", "No product role has the code 'hero'."),
        ({"series": "nope"}, "series", "unknown_code", "No series has the code 'nope'."),
        ({"attr": "nope:1"}, "attr", "unknown_attribute", "No attribute has the code 'nope'."),
        ({"attr": "width"}, "attr", "invalid_format", "'width' is not code:value, e.g. colour:red."),
        ({"attr": "width:wide"}, "attr", "wrong_type", "`width` takes an integer, not 'wide'."),
        ({"attr": "colour:purple"}, "attr", "unknown_option", "'purple' is not an option of `colour`."),
        ({"attr": "soft:yes"}, "attr", "wrong_type", "`soft` takes true or false, not 'yes'."),
        (
            {"attr": "weight:heavy"},
            "attr",
            "wrong_type",
            "`weight` takes a decimal such as 12.5, not 'heavy'.",
        ),
    ]
    for params, parameter, code, message in cases:
        r = await api.get("/v1/products", params=params)
        assert r.status_code == 400, params
        assert r.json() == {
            "type": "/problems/invalid-parameter",
            "title": "Invalid query parameter",
            "status": 400,
            "detail": message,
            "code": "invalid-parameter",
            "instance": "/v1/products",
            "errors": [{"parameter": parameter, "code": code, "message": message}],
        }
    bad = await api.get("/v1/products", params={"lifecycle": "gone"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["parameter"] == "lifecycle"


async def test_pagination_with_filters_returns_every_match_exactly_once(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    for i in range(23):
        colour = "red" if i % 3 else "blue"
        await f.product(conn, f"p{i:02d}", "silk-longs" if i % 2 else "silk-squares", "routine", {"colour": colour})
    await f.product(conn, "x-other", "oils", "routine")
    expected = [f"p{i:02d}" for i in range(23) if i % 3]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4, "category": "scarves", "attr": "colour:red"}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/v1/products", params=params)).json()
        seen += [p["code"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 4


async def test_deleting_a_product_deletes_its_skus_and_audits_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await create(api)
    await f.sku(conn, "SQ-90-RED", "sq-90", axes={"colour": "red"})
    await f.sku(conn, "SQ-90-BLUE", "sq-90", axes={"colour": "blue"})
    stale = await api.delete("/v1/products/sq-90", headers={"If-Match": '"2"'})
    assert stale.status_code == 412
    r = await api.delete("/v1/products/sq-90", headers={"If-Match": '"1"'})
    assert r.status_code == 204
    assert (await api.get("/v1/products/sq-90")).status_code == 404
    assert (await api.get("/v1/skus/SQ-90-RED")).status_code == 404
    assert await conn.fetchval("SELECT count(*) FROM skus") == 0
    assert await product_count(conn) == (0, 0, 0, 2)
    audit = (await api.get("/v1/audit", params={"entity": "product", "code": "sq-90"})).json()["items"]
    assert [e["action"] for e in audit] == ["delete", "create"]
    assert audit[0]["changes"]["skus"] == {"before": ["SQ-90-BLUE", "SQ-90-RED"], "after": None}


async def test_deleting_a_product_still_referenced_elsewhere_is_a_409_and_deletes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await create(api)
    await f.sku(conn, "SQ-90-RED", "sq-90", axes={"colour": "red"})
    # stands in for the stock and price tables that will reference SKUs
    await conn.execute(
        "CREATE TABLE stock_probe (sku_id bigint CONSTRAINT stock_probe_sku_id_fkey REFERENCES skus (id))"
    )
    await conn.execute("INSERT INTO stock_probe SELECT id FROM skus")
    r = await api.delete("/v1/products/sq-90")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Product 'sq-90' is still referenced from stock_probe; remove those references first.",
        "code": "still-referenced",
        "instance": "/v1/products/sq-90",
        "context": {"references": {"stock_probe": "stock_probe_sku_id_fkey"}},
    }
    assert await conn.fetchval("SELECT count(*) FROM skus") == 1
    assert (await api.get("/v1/products/sq-90")).status_code == 200


async def test_reads_are_open_to_every_stage_and_writes_to_purchasing_and_listing_only(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    async with as_role("listing") as listing:
        assert (await create(listing)).status_code == 201
    async with as_role("finance") as finance:
        assert (await finance.get("/v1/products/sq-90")).status_code == 200
        assert (await finance.patch("/v1/products/sq-90", json={"labels": {"en": "x"}})).status_code == 403
    async with as_role("warehouse") as warehouse:
        assert (await warehouse.get("/v1/products")).status_code == 200
        assert (await warehouse.delete("/v1/products/sq-90")).status_code == 403
    async with as_role("storefront") as storefront:
        assert (await storefront.get("/v1/products/sq-90")).status_code == 403
    async with as_role("purchasing") as purchasing:
        assert (await purchasing.delete("/v1/products/sq-90")).status_code == 204
