"""Attributes and their options over HTTP: typed validation rules, options, and what blocks a change."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories


async def group(conn: asyncpg.Connection, code: str = "logistics") -> None:
    await conn.execute("INSERT INTO attribute_groups (code, labels) VALUES ($1, $2)", code, {"en": code})


async def create(api: httpx.AsyncClient, code: str = "material", **fields: Any) -> httpx.Response:
    body = {"code": code, "type": "text", "labels": {"zh-CN": "材质", "en": "Material"}, **fields}
    return await api.post("/v1/attributes", json=body)


async def audit_of(api: httpx.AsyncClient, code: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.get("/v1/audit", params={"entity": "attribute", "code": code})).json()[
        "items"
    ]
    return items


async def catalog_with_values(conn: asyncpg.Connection) -> None:
    """A category with a colour select and a weight measurement, and products and SKUs carrying values."""
    await factories.tree(conn)
    await factories.category(conn, "scarves")
    await factories.attribute(conn, "colour", "select", options=("red", "blue", "green"))
    await factories.attribute(conn, "pattern", "multiselect", options=("floral", "plain", "striped"))
    await factories.product(conn, "p1", "scarves", attributes={"colour": "red", "pattern": ["floral", "plain"]})
    await factories.product(conn, "p2", "scarves", attributes={"colour": "red"})
    await factories.product(conn, "p3", "scarves")
    await factories.sku(conn, "P3-BLUE", "p3", axes={"colour": "blue"})


# Creating and reading -----------------------------------------------------------------------------


async def test_creating_an_attribute_answers_201_with_location_etag_and_defaults(
    api: httpx.AsyncClient,
) -> None:
    r = await create(api)
    assert r.status_code == 201
    assert r.headers["location"] == "/v1/attributes/material"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body.pop("created_at") == body.pop("updated_at")
    assert body == {
        "code": "material",
        "type": "text",
        "group": None,
        "labels": {"zh-CN": "材质", "en": "Material"},
        "visibility": "internal",
        "display_priority": 0,
        "filterable": False,
        "validation": {},
        "version": 1,
    }
    assert (await api.get("/v1/attributes/material")).json() == r.json()
    audit = await audit_of(api, "material")
    assert [(e["action"], e["version"], e["actor"]) for e in audit] == [("create", 1, "test-admin")]


async def test_a_select_attribute_shows_its_options_and_a_group_is_named_by_code(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await group(conn, "looks")
    r = await create(
        api,
        "colour",
        type="select",
        group="looks",
        visibility="public",
        display_priority=900,
        filterable=True,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["group"], body["visibility"], body["display_priority"], body["filterable"]) == (
        "looks",
        "public",
        900,
        True,
    )
    assert body["options"] == []


VALID_RULES = [
    ("text", {"max_length": 40, "regex": "^[A-Z]{2}-[0-9]+$"}),
    ("textarea", {"max_length": 20000}),
    ("url", {"max_length": 300, "regex": "https://.*"}),
    ("integer", {"min": 1, "max": 12}),
    ("decimal", {"min": "0.5", "max": 99.95, "decimals": 2}),
    ("measurement", {"min": "0", "max": "500", "decimals": 1, "unit_family": "mass", "default_unit": "g"}),
    ("boolean", {}),
    ("date", {}),
    ("select", {}),
    ("multiselect", {}),
]


@pytest.mark.parametrize(("type_", "rules"), VALID_RULES, ids=[t for t, _ in VALID_RULES])
async def test_every_type_takes_the_rules_that_fit_it(
    api: httpx.AsyncClient, type_: str, rules: dict[str, Any]
) -> None:
    r = await create(api, f"a-{type_}", type=type_, validation=rules)
    assert r.status_code == 201, r.text
    expected = {k: (str(v) if k in ("min", "max") else v) for k, v in rules.items()}
    assert r.json()["validation"] == expected
    assert r.json()["type"] == type_


async def test_decimal_bounds_are_stored_in_plain_notation(api: httpx.AsyncClient) -> None:
    r = await create(api, "volume", type="decimal", validation={"min": "1E+3", "max": 2500.50})
    assert r.json()["validation"] == {"min": "1000", "max": "2500.5"}


async def test_rules_that_do_not_fit_the_type_are_each_a_422_at_their_pointer(api: httpx.AsyncClient) -> None:
    rules = {"max_length": 10, "min": 1, "max": 2, "decimals": 1, "unit_family": "mass", "default_unit": "g"}
    r = await create(api, type="text", validation=rules)
    assert r.status_code == 422
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "5 fields are invalid.",
        "code": "validation-failed",
        "instance": "/v1/attributes",
        "errors": [
            {
                "pointer": f"/validation/{rule}",
                "code": "not_applicable",
                "message": f"`{rule}` does not apply to text attributes.",
            }
            for rule in ("min", "max", "decimals", "unit_family", "default_unit")
        ],
    }
    assert (await api.get("/v1/attributes")).json()["items"] == []


@pytest.mark.parametrize(
    ("type_", "rules", "errors"),
    [
        ("boolean", {"regex": "x"}, [("/validation/regex", "not_applicable")]),
        ("select", {"max_length": 3}, [("/validation/max_length", "not_applicable")]),
        (
            "integer",
            {"decimals": 0, "regex": "1"},
            [("/validation/regex", "not_applicable"), ("/validation/decimals", "not_applicable")],
        ),
        ("text", {"regex": "(unclosed"}, [("/validation/regex", "invalid_regex")]),
        ("text", {"regex": "(a)\\1"}, [("/validation/regex", "invalid_regex")]),  # a backreference: no RE2
        ("text", {"regex": "a(?=b)"}, [("/validation/regex", "invalid_regex")]),  # a lookahead: no RE2
        ("integer", {"min": "1.5"}, [("/validation/min", "wrong_type")]),
        ("decimal", {"min": 10, "max": 9}, [("/validation/min", "min_above_max")]),
        ("decimal", {"max": "NaN"}, [("/validation/max", "invalid")]),
        ("measurement", {"default_unit": "g"}, [("/validation/unit_family", "required")]),
        (
            "measurement",
            {"unit_family": "weight", "default_unit": "g"},
            [("/validation/unit_family", "unknown_unit_family")],
        ),
        ("measurement", {"unit_family": "mass"}, [("/validation/default_unit", "required")]),
        (
            "measurement",
            {"unit_family": "mass", "default_unit": "cm"},
            [("/validation/default_unit", "unknown_unit")],
        ),
    ],
)
async def test_rules_that_make_no_sense_are_a_422_naming_the_rule(
    api: httpx.AsyncClient, type_: str, rules: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    r = await create(api, type=type_, validation=rules)
    assert r.status_code == 422, r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == errors


async def test_a_measurement_unit_outside_its_family_says_which_units_are_allowed(
    api: httpx.AsyncClient,
) -> None:
    r = await create(api, "weight", type="measurement", validation={"unit_family": "volume", "default_unit": "g"})
    assert r.json()["errors"] == [
        {
            "pointer": "/validation/default_unit",
            "code": "unknown_unit",
            "message": "A volume unit: one of ml, cl, l, fl_oz.",
        }
    ]


async def test_out_of_range_rule_limits_and_unknown_fields_are_listed_together(
    api: httpx.AsyncClient,
) -> None:
    r = await create(
        api,
        type="text",
        display_priority=-1,
        visibility="secret",
        validation={"max_length": 20001, "regex": "x" * 501, "decimals": 11, "colour": "red"},
    )
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/visibility", "invalid_choice"),
        ("/display_priority", "out_of_range"),
        ("/validation/colour", "unknown_field"),
        ("/validation/max_length", "out_of_range"),
        ("/validation/regex", "too_long"),
        ("/validation/decimals", "out_of_range"),
    }


async def test_max_length_of_zero_is_out_of_range(api: httpx.AsyncClient) -> None:
    r = await create(api, type="text", validation={"max_length": 0})
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/validation/max_length", "out_of_range")]


async def test_an_unknown_group_is_a_422_at_group_alongside_the_rule_errors(api: httpx.AsyncClient) -> None:
    r = await create(api, group="nowhere", type="date", validation={"min": 1})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "/group",
            "code": "unknown_group",
            "message": "No attribute group has the code 'nowhere'.",
        },
        {
            "pointer": "/validation/min",
            "code": "not_applicable",
            "message": "`min` does not apply to date attributes.",
        },
    ]


async def test_an_unknown_type_is_a_422(api: httpx.AsyncClient) -> None:
    r = await create(api, type="colour")
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/type", "invalid_choice")]


async def test_a_taken_code_is_a_409(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await create(api)
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/attribute-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "An attribute with the code 'material' exists already.",
        "code": "attribute-exists",
        "instance": "/v1/attributes",
    }


async def test_an_unknown_attribute_is_a_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/attributes/nothing")
    assert r.status_code == 404
    assert r.json()["code"] == "attribute-not-found"
    assert r.json()["detail"] == "No attribute has the code 'nothing'."


# Listing ------------------------------------------------------------------------------------------


async def test_pagination_returns_every_attribute_exactly_once(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    codes = [f"a{i:02d}" for i in range(17)]
    for code in reversed(codes):
        await factories.attribute(conn, code)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = (await api.get("/v1/attributes", params={"limit": 4, **({"cursor": cursor} if cursor else {})})).json()
        seen += [a["code"] for a in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == codes
    assert pages == 5


async def test_the_list_filters_by_group_type_visibility_and_filterable(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await group(conn, "logistics")
    await factories.attribute(
        conn,
        "weight",
        "measurement",
        visibility="internal",
        group="logistics",
        validation={"unit_family": "mass", "default_unit": "g"},
    )
    await factories.attribute(conn, "colour", "select", visibility="public", filterable=True, options=("red",))
    await factories.attribute(conn, "cost-code", "text", visibility="confidential")
    await factories.attribute(conn, "fragile", "boolean", visibility="internal", group="logistics")

    async def codes(**params: Any) -> list[str]:
        return [a["code"] for a in (await api.get("/v1/attributes", params=params)).json()["items"]]

    assert await codes() == ["colour", "cost-code", "fragile", "weight"]
    assert await codes(group="logistics") == ["fragile", "weight"]
    assert await codes(type="select") == ["colour"]
    assert await codes(visibility="internal") == ["fragile", "weight"]
    assert await codes(filterable="true") == ["colour"]
    assert await codes(filterable="false", group="logistics", type="boolean") == ["fragile"]
    listed = (await api.get("/v1/attributes", params={"type": "select"})).json()["items"][0]
    assert listed["options"] == [{"code": "red", "labels": {"en": "red"}, "position": 0}]


async def test_an_unknown_type_filter_is_a_400_naming_the_parameter(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/attributes", params={"type": "colour"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid-parameter"
    assert r.json()["errors"][0]["parameter"] == "type"


async def test_readers_may_read_but_not_write(as_role: Any, conn: asyncpg.Connection) -> None:
    await factories.attribute(conn, "colour")
    async with as_role("warehouse") as warehouse, as_role("storefront") as storefront:
        assert (await warehouse.get("/v1/attributes/colour")).status_code == 200
        assert (await warehouse.post("/v1/attributes", json={"code": "x", "type": "text"})).status_code == 403
        assert (await storefront.get("/v1/attributes")).status_code == 403


# Versions, PUT and PATCH --------------------------------------------------------------------------


async def test_get_with_a_matching_if_none_match_is_304(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.get("/v1/attributes/material", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert (await api.get("/v1/attributes/material", headers={"If-None-Match": '"2"'})).status_code == 200


async def test_a_stale_if_match_is_412_and_changes_nothing(api: httpx.AsyncClient) -> None:
    await create(api)
    ok = await api.patch("/v1/attributes/material", json={"filterable": True}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = await api.patch("/v1/attributes/material", json={"display_priority": 5}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version-mismatch"
    assert stale.json()["context"] == {"current_version": 2}
    assert stale.json()["detail"] == "Attribute 'material' is at version 2, not 1: it changed since you read it."
    deleted = await api.delete("/v1/attributes/material", headers={"If-Match": '"1"'})
    assert deleted.status_code == 412
    assert (await api.get("/v1/attributes/material")).json()["display_priority"] == 0


async def test_put_creates_then_replaces_and_a_no_op_put_keeps_the_version(api: httpx.AsyncClient) -> None:
    body = {"type": "integer", "labels": {"en": "Threads"}, "validation": {"min": 1}}
    first = await api.put("/v1/attributes/threads", json=body)
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/attributes/threads"
    again = await api.put("/v1/attributes/threads", json=body)
    assert again.status_code == 200
    assert again.json()["version"] == 1
    changed = await api.put("/v1/attributes/threads", json={**body, "validation": {"min": 1, "max": 400}})
    assert changed.json()["version"] == 2
    assert changed.headers["etag"] == '"2"'
    audit = await audit_of(api, "threads")
    assert [(e["action"], e["version"]) for e in audit] == [("update", 2), ("create", 1)]
    assert audit[0]["changes"] == {"validation": {"before": {"min": "1"}, "after": {"min": "1", "max": "400"}}}


async def test_put_with_an_if_match_on_a_missing_attribute_is_412(api: httpx.AsyncClient) -> None:
    r = await api.put("/v1/attributes/threads", json={"type": "integer"}, headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert r.json()["detail"] == "Attribute 'threads' does not exist."


async def test_put_with_an_invalid_code_in_the_path_is_a_422(api: httpx.AsyncClient) -> None:
    r = await api.put("/v1/attributes/Not%20A%20Code", json={"type": "text"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/code"


async def test_merge_patch_removes_a_rule_with_null_and_keeps_the_others(api: httpx.AsyncClient) -> None:
    await create(api, validation={"max_length": 30, "regex": "[a-z]+"})
    r = await api.patch("/v1/attributes/material", json={"validation": {"regex": None}, "labels": {"en": None}})
    assert r.status_code == 200
    assert r.json()["validation"] == {"max_length": 30}
    assert r.json()["labels"] == {"zh-CN": "材质"}


async def test_patching_the_type_checks_the_rules_against_the_new_type(api: httpx.AsyncClient) -> None:
    await create(api, validation={"max_length": 30})
    r = await api.patch("/v1/attributes/material", json={"type": "integer"})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "/validation/max_length",
            "code": "not_applicable",
            "message": "`max_length` does not apply to integer attributes.",
        }
    ]
    ok = await api.patch("/v1/attributes/material", json={"type": "integer", "validation": None})
    assert ok.status_code == 200
    assert (ok.json()["type"], ok.json()["validation"], ok.json()["version"]) == ("integer", {}, 2)


async def test_a_no_op_patch_keeps_the_version_and_writes_no_audit(api: httpx.AsyncClient) -> None:
    await create(api, filterable=True)
    r = await api.patch("/v1/attributes/material", json={"filterable": True})
    assert r.json()["version"] == 1
    assert len(await audit_of(api, "material")) == 1


async def test_changing_the_type_of_an_attribute_products_carry_is_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog_with_values(conn)
    r = await api.patch("/v1/attributes/colour", json={"type": "text"})
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/attribute-in-use",
        "title": "Conflict",
        "status": 409,
        "detail": "Attribute 'colour' has values on 2 products and 1 SKUs; its type cannot change from select to text.",
        "code": "attribute-in-use",
        "instance": "/v1/attributes/colour",
        "context": {"products": 2, "skus": 1},
    }
    assert (await api.get("/v1/attributes/colour")).json()["type"] == "select"


async def test_changing_an_unused_select_to_text_drops_its_options(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await factories.attribute(conn, "finish", "select", options=("matte", "gloss"))
    r = await api.patch("/v1/attributes/finish", json={"type": "multiselect"})
    assert [o["code"] for o in r.json()["options"]] == ["matte", "gloss"]
    r = await api.patch("/v1/attributes/finish", json={"type": "text"})
    assert r.status_code == 200
    assert "options" not in r.json()
    assert await conn.fetchval("SELECT count(*) FROM attribute_options") == 0


# Deleting -----------------------------------------------------------------------------------------


async def test_deleting_an_unused_attribute_works_and_is_audited(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await factories.attribute(conn, "finish", "select", options=("matte",))
    r = await api.delete("/v1/attributes/finish")
    assert r.status_code == 204
    assert (await api.get("/v1/attributes/finish")).status_code == 404
    assert [e["action"] for e in await audit_of(api, "finish")] == ["delete"]


async def test_deleting_an_attribute_bound_to_categories_is_a_409_naming_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await factories.tree(conn)
    await factories.category(conn, "scarves")
    await factories.category(conn, "silk", parent="scarves")
    await factories.attribute(conn, "width", "integer")
    await factories.bind(conn, "silk", "width")
    await factories.bind(conn, "scarves", "width")
    r = await api.delete("/v1/attributes/width")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Attribute 'width' is still bound to 2 categories (scarves, silk); "
        "unbind it and remove its values first.",
        "code": "still-referenced",
        "instance": "/v1/attributes/width",
        "context": {"references": {"categories": ["scarves", "silk"], "category_count": 2, "products": 0, "skus": 0}},
    }
    assert (await api.get("/v1/attributes/width")).status_code == 200


async def test_deleting_an_attribute_products_carry_is_a_409_with_counts(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog_with_values(conn)
    r = await api.delete("/v1/attributes/colour")
    assert r.status_code == 409
    assert r.json()["detail"] == (
        "Attribute 'colour' is still carried by 2 products and 1 SKUs; unbind it and remove its values first."
    )
    assert r.json()["context"] == {"references": {"categories": [], "category_count": 0, "products": 2, "skus": 1}}


# Options ------------------------------------------------------------------------------------------


async def test_the_options_lifecycle_bumps_the_attribute_version_each_time(api: httpx.AsyncClient) -> None:
    await create(api, "colour", type="select")
    added = await api.post(
        "/v1/attributes/colour/options", json={"code": "red", "labels": {"zh-CN": "红色", "en": "Red"}}
    )
    assert added.status_code == 201
    assert added.headers["location"] == "/v1/attributes/colour/options/red"
    assert added.headers["etag"] == '"2"'
    assert added.json() == {"code": "red", "labels": {"zh-CN": "红色", "en": "Red"}, "position": 0}
    await api.post("/v1/attributes/colour/options", json={"code": "blue"})
    # inserting at a taken position moves that option and the later ones down
    first = await api.post("/v1/attributes/colour/options", json={"code": "black", "position": 0})
    assert first.json()["position"] == 0
    listed = await api.get("/v1/attributes/colour/options")
    assert listed.headers["etag"] == '"4"'
    assert listed.json() == {
        "options": [
            {"code": "black", "labels": {}, "position": 0},
            {"code": "red", "labels": {"zh-CN": "红色", "en": "Red"}, "position": 1},
            {"code": "blue", "labels": {}, "position": 2},
        ]
    }
    assert (await api.get("/v1/attributes/colour/options", headers={"If-None-Match": '"4"'})).status_code == 304
    relabelled = await api.put("/v1/attributes/colour/options/blue", json={"labels": {"en": "Blue"}})
    assert relabelled.status_code == 200
    assert relabelled.json() == {"code": "blue", "labels": {"en": "Blue"}, "position": 2}
    same = await api.put("/v1/attributes/colour/options/blue", json={"labels": {"en": "Blue"}})
    assert same.headers["etag"] == '"5"'
    created = await api.put("/v1/attributes/colour/options/white", json={"labels": {"en": "White"}})
    assert created.status_code == 201
    assert created.json() == {"code": "white", "labels": {"en": "White"}, "position": 3}
    assert (await api.delete("/v1/attributes/colour/options/black")).status_code == 204
    attribute = (await api.get("/v1/attributes/colour")).json()
    assert attribute["version"] == 7
    assert [o["code"] for o in attribute["options"]] == ["red", "blue", "white"]
    assert (await api.get("/v1/attributes/colour/options/red")).json()["labels"]["en"] == "Red"
    audit = await audit_of(api, "colour")
    assert [(e["action"], e["version"]) for e in audit] == [
        ("update", 7),
        ("update", 6),
        ("update", 5),
        ("update", 4),
        ("update", 3),
        ("update", 2),
        ("create", 1),
    ]
    assert audit[0]["changes"]["options"]["before"][0] == {"code": "black", "labels": {}, "position": 0}


async def test_a_taken_option_code_and_a_missing_option_are_409_and_404(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await factories.attribute(conn, "colour", "select", options=("red",))
    taken = await api.post("/v1/attributes/colour/options", json={"code": "red"})
    assert taken.status_code == 409
    assert taken.json()["code"] == "option-exists"
    assert taken.json()["detail"] == "Attribute 'colour' has an option 'red' already."
    missing = await api.delete("/v1/attributes/colour/options/blue")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Attribute 'colour' has no option 'blue'."
    assert (await api.get("/v1/attributes/colour/options/blue")).status_code == 404
    assert (await api.get("/v1/attributes/nothing/options")).status_code == 404


async def test_options_of_a_text_attribute_are_a_409(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await factories.attribute(conn, "material", "text")
    r = await api.post("/v1/attributes/material/options", json={"code": "silk"})
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/options-not-applicable",
        "title": "Conflict",
        "status": 409,
        "detail": "Attribute 'material' is of type text; only select and multiselect attributes have options.",
        "code": "options-not-applicable",
        "instance": "/v1/attributes/material/options",
        "context": {"type": "text"},
    }
    assert (await api.get("/v1/attributes/material/options")).status_code == 409
    assert (await api.put("/v1/attributes/material/options", json={"options": []})).status_code == 409


async def test_replacing_the_options_sets_the_list_order_and_a_no_op_keeps_the_version(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await factories.attribute(conn, "size", "select", options=("m",))
    body = {
        "options": [
            {"code": "s", "labels": {"en": "Small"}},
            {"code": "m"},
            {"code": "l", "labels": {"en": "Large"}},
        ]
    }
    r = await api.put("/v1/attributes/size/options", json=body)
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    assert r.json() == {
        "options": [
            {"code": "s", "labels": {"en": "Small"}, "position": 0},
            {"code": "m", "labels": {}, "position": 1},
            {"code": "l", "labels": {"en": "Large"}, "position": 2},
        ]
    }
    again = await api.put("/v1/attributes/size/options", json=body)
    assert again.headers["etag"] == '"2"'
    assert len(await audit_of(api, "size")) == 1
    emptied = await api.put("/v1/attributes/size/options", json={"options": []}, headers={"If-Match": '"2"'})
    assert emptied.json() == {"options": []}
    assert emptied.headers["etag"] == '"3"'


async def test_a_replacement_listing_an_option_twice_is_a_422(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await factories.attribute(conn, "size", "select")
    r = await api.put("/v1/attributes/size/options", json={"options": [{"code": "s"}, {"code": "m"}, {"code": "s"}]})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"pointer": "/options/2/code", "code": "duplicate", "message": "'s' is listed twice."}
    ]


async def test_dropping_options_that_values_use_is_a_409_naming_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog_with_values(conn)
    r = await api.put("/v1/attributes/colour/options", json={"options": [{"code": "green"}]})
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/option-in-use",
        "title": "Conflict",
        "status": 409,
        "detail": "Options of 'colour' still in use by product or SKU values: blue (1 products), red (2 products).",
        "code": "option-in-use",
        "instance": "/v1/attributes/colour/options",
        "context": {"in_use": [{"option": "blue", "products": 1}, {"option": "red", "products": 2}]},
    }
    assert [o["code"] for o in (await api.get("/v1/attributes/colour/options")).json()["options"]] == [
        "red",
        "blue",
        "green",
    ]
    ok = await api.put("/v1/attributes/colour/options", json={"options": [{"code": "red"}, {"code": "blue"}]})
    assert ok.status_code == 200


async def test_deleting_an_option_a_multiselect_value_uses_is_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog_with_values(conn)
    r = await api.delete("/v1/attributes/pattern/options/plain")
    assert r.status_code == 409
    assert r.json()["context"] == {"in_use": [{"option": "plain", "products": 1}]}
    assert (await api.delete("/v1/attributes/pattern/options/striped")).status_code == 204
    blue = await api.delete("/v1/attributes/colour/options/blue")
    assert blue.json()["detail"] == "Options of 'colour' still in use by product or SKU values: blue (1 products)."


async def test_option_bodies_are_validated_with_pointers(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await factories.attribute(conn, "size", "select")
    r = await api.post("/v1/attributes/size/options", json={"code": "Big", "position": -1, "labels": {"en": ""}})
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/code", "invalid_format"),
        ("/position", "out_of_range"),
        ("/labels/en", "too_short"),
    }
    bad_path = await api.put("/v1/attributes/size/options/Big", json={})
    assert bad_path.status_code == 422
    assert bad_path.json()["errors"][0]["pointer"] == "/code"
    assert (await api.get("/v1/attributes/size/options")).json() == {"options": []}


async def test_an_option_write_with_a_stale_if_match_is_412(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await factories.attribute(conn, "size", "select", options=("s",))
    r = await api.post("/v1/attributes/size/options", json={"code": "m"}, headers={"If-Match": '"9"'})
    assert r.status_code == 412
    assert r.json()["context"] == {"current_version": 1}
    assert (await api.delete("/v1/attributes/size/options/s", headers={"If-Match": '"9"'})).status_code == 412
