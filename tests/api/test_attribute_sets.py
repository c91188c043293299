"""Attribute sets over HTTP: a category's own binding, what it inherits, and the nearest binding winning."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from domain.attributes.sets import effective_definitions
from domain.attributes.values import AttributeDef, Validation
from tests import factories
from tests.conftest import client_for


async def three_levels(conn: asyncpg.Connection) -> None:
    """accessories › scarves › silk-squares, with an attribute bound at each level and one bound twice."""
    await factories.tree(conn)
    await factories.category(conn, "accessories")
    await factories.category(conn, "scarves", parent="accessories")
    await factories.category(conn, "silk-squares", parent="scarves")
    await factories.category(conn, "other-root")
    await factories.attribute(conn, "brand", "text", display_priority=100)
    await factories.attribute(conn, "cost-code", "text", visibility="confidential", display_priority=0)
    await factories.attribute(conn, "colour", "select", options=("red", "blue"), display_priority=800)
    await factories.attribute(conn, "material", "text", display_priority=500)
    await factories.attribute(
        conn,
        "width",
        "measurement",
        display_priority=300,
        validation={"unit_family": "length", "default_unit": "cm"},
    )
    await factories.attribute(conn, "unbound", "text")
    await factories.bind(conn, "accessories", "brand", ("listing",))
    await factories.bind(conn, "accessories", "cost-code", ("purchasing", "finance"))
    await factories.bind(conn, "accessories", "material", ("listing",))
    await factories.bind(conn, "scarves", "colour", ("listing", "warehousing"))
    # the middle level gives material a higher priority; the leaf rebinds it again, nearer, with its own
    await factories.bind(conn, "scarves", "material", ("purchasing",), display_priority=900)
    await factories.bind(conn, "silk-squares", "material", ("listing", "service"), display_priority=50)
    await factories.bind(conn, "silk-squares", "width", ("warehousing",))
    await factories.bind(conn, "other-root", "unbound")


def entry(attribute: str, type_: str, priority: int, required: list[str], origin: str, **more: Any) -> dict[str, Any]:
    return {
        "attribute": attribute,
        "type": type_,
        "labels": {"en": attribute},
        "visibility": more.get("visibility", "public"),
        "group": None,
        "display_priority": priority,
        "display_priority_override": more.get("override"),
        "required_for": required,
        "origin": origin,
        "inherited": origin != "silk-squares",
    }


async def test_the_effective_set_of_a_leaf_inherits_from_every_ancestor_and_the_nearest_binding_wins(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await three_levels(conn)
    r = await api.get("/v1/categories/silk-squares/attributes", params={"effective": "true"})
    assert r.status_code == 200
    assert r.json() == {
        "category": "silk-squares",
        "effective": True,
        "attributes": [
            entry("colour", "select", 800, ["warehousing", "listing"], "scarves"),
            entry("width", "measurement", 300, ["warehousing"], "silk-squares"),
            entry("brand", "text", 100, ["listing"], "accessories"),
            entry("material", "text", 50, ["listing", "service"], "silk-squares", override=50),
            entry("cost-code", "text", 0, ["purchasing", "finance"], "accessories", visibility="confidential"),
        ],
    }


async def test_the_middle_level_sees_its_own_override_and_the_root_only_its_own(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await three_levels(conn)
    middle = (await api.get("/v1/categories/scarves/attributes", params={"effective": "true"})).json()["attributes"]
    assert [(e["attribute"], e["display_priority"], e["origin"], e["inherited"]) for e in middle] == [
        ("material", 900, "scarves", False),
        ("colour", 800, "scarves", False),
        ("brand", 100, "accessories", True),
        ("cost-code", 0, "accessories", True),
    ]
    root = (await api.get("/v1/categories/accessories/attributes", params={"effective": "true"})).json()["attributes"]
    assert [e["attribute"] for e in root] == ["material", "brand", "cost-code"]


async def test_without_effective_only_the_own_binding_is_answered_in_the_order_given(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await three_levels(conn)
    await api.put(
        "/v1/categories/silk-squares/attributes",
        json={"attributes": [{"attribute": "width"}, {"attribute": "brand", "required_for": ["listing"]}]},
    )
    r = await api.get("/v1/categories/silk-squares/attributes")
    assert r.json()["effective"] is False
    assert [(e["attribute"], e["origin"], e["inherited"]) for e in r.json()["attributes"]] == [
        ("width", "silk-squares", False),
        ("brand", "silk-squares", False),
    ]


async def test_replacing_a_binding_answers_it_and_records_one_bind_audit_row(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await three_levels(conn)
    body = {
        "attributes": [
            {"attribute": "colour", "required_for": ["listing", "purchasing"], "display_priority": 999},
            {"attribute": "width"},
        ]
    }
    r = await api.put("/v1/categories/scarves/attributes", json=body)
    assert r.status_code == 200
    # What the binding requires changed, so the products below are recomputed by a job.
    job = await conn.fetchrow("SELECT id, scope_path::text AS scope, reason FROM jobs ORDER BY id DESC LIMIT 1")
    scarves_path = await conn.fetchval("SELECT path::text FROM categories WHERE code = 'scarves'")
    assert (job["scope"], job["reason"]) == (scarves_path, "attribute set of scarves changed")
    assert r.json() == {
        "recompute": {"id": job["id"], "href": f"/v1/jobs/{job['id']}"},
        "category": "scarves",
        "effective": False,
        "attributes": [
            {
                **entry("colour", "select", 999, ["purchasing", "listing"], "scarves", override=999),
                "inherited": False,
            },
            {**entry("width", "measurement", 300, [], "scarves"), "inherited": False},
        ],
    }
    leaf = (await api.get("/v1/categories/silk-squares/attributes", params={"effective": "true"})).json()["attributes"]
    assert [(e["attribute"], e["origin"]) for e in leaf] == [
        ("colour", "scarves"),
        ("width", "silk-squares"),
        ("brand", "accessories"),
        ("material", "silk-squares"),
        ("cost-code", "accessories"),
    ]
    audit = (await api.get("/v1/audit", params={"entity": "category", "code": "scarves"})).json()["items"]
    assert [(e["action"], e["version"], e["actor"]) for e in audit] == [("bind", None, "test-admin")]
    assert audit[0]["changes"] == {
        "attributes": {
            "before": [
                {"attribute": "colour", "required_for": ["warehousing", "listing"], "display_priority": None},
                {"attribute": "material", "required_for": ["purchasing"], "display_priority": 900},
            ],
            "after": [
                {"attribute": "colour", "required_for": ["purchasing", "listing"], "display_priority": 999},
                {"attribute": "width", "required_for": [], "display_priority": None},
            ],
        }
    }


async def test_a_no_op_put_writes_no_audit_row(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await three_levels(conn)
    body = {
        "attributes": [
            {"attribute": "material", "required_for": ["service", "listing"], "display_priority": 50},
            {"attribute": "width", "required_for": ["warehousing"]},
        ]
    }
    r = await api.put("/v1/categories/silk-squares/attributes", json=body)
    assert r.status_code == 200
    audit = (await api.get("/v1/audit", params={"entity": "category", "code": "silk-squares"})).json()["items"]
    assert audit == []
    cleared = await api.put("/v1/categories/silk-squares/attributes", json={"attributes": []})
    assert cleared.json()["attributes"] == []
    audit = (await api.get("/v1/audit", params={"entity": "category", "code": "silk-squares"})).json()["items"]
    assert len(audit) == 1


async def test_unknown_and_repeated_attributes_and_stages_are_each_a_422(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await three_levels(conn)
    body = {
        "attributes": [
            {"attribute": "brand", "required_for": ["listing", "listing"]},
            {"attribute": "colour"},
            {"attribute": "nothing"},
            {"attribute": "brand"},
        ]
    }
    r = await api.put("/v1/categories/scarves/attributes", json=body)
    assert r.status_code == 422
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "3 fields are invalid.",
        "code": "validation-failed",
        "instance": "/v1/categories/scarves/attributes",
        "errors": [
            {
                "pointer": "/attributes/0/required_for/1",
                "code": "duplicate",
                "message": "'listing' is listed twice.",
            },
            {
                "pointer": "/attributes/2/attribute",
                "code": "unknown_attribute",
                "message": "No attribute has the code 'nothing'.",
            },
            {
                "pointer": "/attributes/3/attribute",
                "code": "duplicate",
                "message": "'brand' is listed twice.",
            },
        ],
    }
    own = (await api.get("/v1/categories/scarves/attributes")).json()["attributes"]
    assert [e["attribute"] for e in own] == ["material", "colour"]


async def test_an_unknown_stage_and_a_negative_priority_are_422_with_pointers(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await three_levels(conn)
    body = {
        "attributes": [{"attribute": "brand", "required_for": ["listing", "shipping"], "display_priority": -1, "x": 1}]
    }
    r = await api.put("/v1/categories/scarves/attributes", json=body)
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/attributes/0/required_for/1", "invalid_choice"),
        ("/attributes/0/display_priority", "out_of_range"),
        ("/attributes/0/x", "unknown_field"),
    }


async def test_a_category_that_does_not_exist_is_a_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/categories/nothing/attributes")
    assert r.status_code == 404
    assert r.json()["detail"] == "No category has the code 'nothing'."
    assert r.json()["code"] == "category-not-found"
    put = await api.put("/v1/categories/nothing/attributes", json={"attributes": []})
    assert put.status_code == 404


async def test_readers_may_read_a_set_and_only_admin_may_write_it(as_role: Any, conn: asyncpg.Connection) -> None:
    await three_levels(conn)
    async with as_role("listing") as listing, as_role("storefront") as storefront:
        assert (await listing.get("/v1/categories/scarves/attributes")).status_code == 200
        assert (await listing.put("/v1/categories/scarves/attributes", json={"attributes": []})).status_code == 403
        assert (await storefront.get("/v1/categories/scarves/attributes")).status_code == 403


async def test_effective_definitions_give_the_value_checker_each_attribute_of_the_set(
    conn: asyncpg.Connection,
) -> None:
    await three_levels(conn)
    leaf = await conn.fetchval("SELECT id FROM categories WHERE code = 'silk-squares'")
    definitions = await effective_definitions(conn, leaf)
    assert definitions == {
        "brand": AttributeDef(code="brand", type="text", visibility="public"),
        "colour": AttributeDef(code="colour", type="select", visibility="public", options=frozenset({"red", "blue"})),
        "cost-code": AttributeDef(code="cost-code", type="text", visibility="confidential"),
        "material": AttributeDef(code="material", type="text", visibility="public"),
        "width": AttributeDef(
            code="width",
            type="measurement",
            visibility="public",
            validation=Validation(unit_family="length", default_unit="cm"),
        ),
    }
    root = await conn.fetchval("SELECT id FROM categories WHERE code = 'other-root'")
    assert list(await effective_definitions(conn, root)) == ["unbound"]


async def test_effective_definitions_carry_rules_written_through_the_api(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await factories.tree(conn)
    leaf = await factories.category(conn, "oils")
    await api.post(
        "/v1/attributes",
        json={
            "code": "volume",
            "type": "measurement",
            "validation": {"max": "500", "unit_family": "volume", "default_unit": "ml"},
        },
    )
    await api.put("/v1/categories/oils/attributes", json={"attributes": [{"attribute": "volume"}]})
    definitions = await effective_definitions(conn, leaf)
    assert definitions["volume"].validation == Validation(max=Decimal("500"), unit_family="volume", default_unit="ml")
    assert definitions["volume"].visibility == "internal"


async def test_concurrent_replacements_of_one_binding_leave_exactly_one_of_them(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as setup:
        await factories.tree(setup)
        await factories.category(setup, "scarves")
        for code in ("a1", "a2", "a3", "a4"):
            await factories.attribute(setup, code)
    bodies = [
        {"attributes": [{"attribute": code, "required_for": ["listing"]} for code in ("a1", "a2", "a3", "a4")[:n]]}
        for n in (1, 2, 3, 4, 1, 2, 3, 4)
    ]
    async with client_for(fresh_app) as api:
        answers = await asyncio.gather(*(api.put("/v1/categories/scarves/attributes", json=b) for b in bodies))
        assert [a.status_code for a in answers] == [200] * len(bodies)
        final = (await api.get("/v1/categories/scarves/attributes")).json()["attributes"]
    assert [e["attribute"] for e in final] in [
        ["a1"],
        ["a1", "a2"],
        ["a1", "a2", "a3"],
        ["a1", "a2", "a3", "a4"],
    ]
    async with fresh_pool.acquire() as check:
        rows = await check.fetchval("SELECT count(*) FROM category_attributes")
        binds = await check.fetchval("SELECT count(*) FROM audit_log WHERE action = 'bind'")
    assert rows == len(final)
    assert 1 <= binds <= len(bodies)


async def test_concurrent_option_additions_each_get_their_own_position(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as setup:
        await factories.attribute(setup, "colour", "select")
    codes = [f"c{i}" for i in range(8)]
    async with client_for(fresh_app) as api:
        answers = await asyncio.gather(*(api.post("/v1/attributes/colour/options", json={"code": c}) for c in codes))
        assert sorted(a.json()["position"] for a in answers) == list(range(8))
        attribute = (await api.get("/v1/attributes/colour")).json()
    assert attribute["version"] == 9
    assert sorted(o["code"] for o in attribute["options"]) == codes
