"""Warehouses over HTTP: codes, ETags, upsert, merge patch, deactivation, deletion refused while bins
exist, audit, roles, and nothing written on a rejected body."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

LABELS = {"zh-CN": "杭州仓", "en": "Hangzhou"}


async def create(api: httpx.AsyncClient, code: str = "hz", **fields: Any) -> httpx.Response:
    return await api.post("/v1/warehouses", json={"code": code, "labels": LABELS, **fields})


def without_times(body: dict[str, Any]) -> dict[str, Any]:
    assert body.pop("created_at") and body.pop("updated_at")
    return body


async def counts(conn: asyncpg.Connection) -> tuple[int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM warehouses"),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'warehouse'"),
    )


async def test_creating_a_warehouse_answers_201_with_location_etag_and_the_warehouse(api: httpx.AsyncClient) -> None:
    r = await create(api)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/warehouses/hz"
    assert r.headers["etag"] == '"1"'
    assert without_times(r.json()) == {"code": "hz", "labels": LABELS, "active": True, "version": 1}
    got = await api.get("/v1/warehouses/hz")
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json() == r.json() | {"created_at": got.json()["created_at"], "updated_at": got.json()["updated_at"]}


async def test_a_warehouse_can_be_created_inactive_and_labels_default_to_empty(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/warehouses", json={"code": "old-depot", "active": False})
    assert r.status_code == 201
    assert without_times(r.json()) == {"code": "old-depot", "labels": {}, "active": False, "version": 1}


async def test_a_taken_code_is_a_409_problem(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await create(api)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json() == {
        "type": "/problems/warehouse-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "A warehouse with the code 'hz' exists already.",
        "code": "warehouse-exists",
        "instance": "/v1/warehouses",
    }


async def test_every_invalid_field_is_named_and_nothing_is_written(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await api.post(
        "/v1/warehouses", json={"code": "HZ Main", "labels": {"en": ""}, "active": "yes", "city": "Hangzhou"}
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation-failed"
    assert {(e["pointer"], e["code"]) for e in body["errors"]} == {
        ("/city", "unknown_field"),
        ("/code", "invalid_format"),
        ("/labels/en", "too_short"),
        ("/active", "wrong_type"),
    }
    assert await counts(conn) == (0, 0)


async def test_an_unknown_warehouse_is_a_404_problem(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/warehouses/nowhere")
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/warehouse-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No warehouse has the code 'nowhere'.",
        "code": "warehouse-not-found",
        "instance": "/v1/warehouses/nowhere",
    }
    assert (await api.patch("/v1/warehouses/nowhere", json={"active": False})).status_code == 404
    assert (await api.delete("/v1/warehouses/nowhere")).status_code == 404


async def test_get_with_a_matching_if_none_match_is_304(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.get("/v1/warehouses/hz", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert (await api.get("/v1/warehouses/hz", headers={"If-None-Match": '"2"'})).status_code == 200


async def test_the_list_is_in_code_order_pages_by_keyset_and_filters_on_active(api: httpx.AsyncClient) -> None:
    codes = [f"w{i:02d}" for i in range(7)]
    for code in reversed(codes):
        assert (await create(api, code, active=code not in ("w01", "w04"))).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/warehouses", params=params)).json()
        seen += [w["code"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == codes
    inactive = (await api.get("/v1/warehouses", params={"active": "false"})).json()
    assert [w["code"] for w in inactive["items"]] == ["w01", "w04"]
    active = (await api.get("/v1/warehouses", params={"active": "true", "limit": 2})).json()
    assert [w["code"] for w in active["items"]] == ["w00", "w02"]
    rest = (await api.get("/v1/warehouses", params={"active": "true", "cursor": active["next_cursor"]})).json()
    assert [w["code"] for w in rest["items"]] == ["w03", "w05", "w06"]
    assert rest["next_cursor"] is None


async def test_a_forged_cursor_and_a_bad_active_flag_are_400s_naming_the_parameter(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/warehouses", params={"cursor": "bm90LWEtbGlzdA"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"parameter": "cursor", "code": "invalid_cursor", "message": "The cursor is not one this list handed out."}
    ]
    r = await api.get("/v1/warehouses", params={"active": "perhaps"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid-parameter"
    assert r.json()["errors"][0]["parameter"] == "active"


async def test_put_creates_then_replaces_and_a_no_op_put_keeps_the_version_and_writes_no_audit(
    api: httpx.AsyncClient,
) -> None:
    body = {"labels": {"en": "Shanghai"}, "active": True}
    first = await api.put("/v1/warehouses/sh", json=body)
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/warehouses/sh"
    again = await api.put("/v1/warehouses/sh", json=body)
    assert again.status_code == 200
    assert again.json()["version"] == 1
    assert again.headers["etag"] == '"1"'
    changed = await api.put("/v1/warehouses/sh", json={"labels": {"en": "Shanghai"}, "active": False})
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.json()["active"] is False
    audit = (await api.get("/v1/audit", params={"entity": "warehouse", "code": "sh"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("update", 2), ("create", 1)]
    assert audit[0]["actor"] == "test-admin"
    assert audit[0]["changes"] == {"active": {"before": True, "after": False}}


async def test_put_with_an_invalid_code_in_the_path_is_a_422_and_writes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await api.put("/v1/warehouses/Main%20Depot", json={"labels": {}})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "/code",
            "code": "invalid_format",
            "message": "Expected `str` matching regex '^[a-z0-9][a-z0-9_-]{0,63}$'.",
        }
    ]
    assert await counts(conn) == (0, 0)


async def test_put_with_if_match_on_a_missing_warehouse_is_a_412(api: httpx.AsyncClient) -> None:
    r = await api.put("/v1/warehouses/sh", json={}, headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert r.json()["detail"] == "Warehouse 'sh' does not exist."


async def test_patching_active_false_retires_a_warehouse_and_null_removes_a_locale(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.patch("/v1/warehouses/hz", json={"active": False, "labels": {"en": None}})
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    assert without_times(r.json()) == {"code": "hz", "labels": {"zh-CN": "杭州仓"}, "active": False, "version": 2}


async def test_a_no_op_patch_keeps_the_version(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.patch("/v1/warehouses/hz", json={"active": True, "labels": LABELS})
    assert r.status_code == 200
    assert r.json()["version"] == 1
    audit = (await api.get("/v1/audit", params={"entity": "warehouse"})).json()["items"]
    assert [e["action"] for e in audit] == ["create"]


async def test_a_stale_if_match_is_412_and_changes_nothing(api: httpx.AsyncClient) -> None:
    await create(api)
    ok = await api.patch("/v1/warehouses/hz", json={"labels": {"en": "HZ"}}, headers={"If-Match": '"1"'})
    assert ok.json()["version"] == 2
    stale = await api.patch("/v1/warehouses/hz", json={"active": False}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json() == {
        "type": "/problems/version-mismatch",
        "title": "Precondition failed",
        "status": 412,
        "detail": "Warehouse 'hz' is at version 2, not 1: it changed since you read it.",
        "code": "version-mismatch",
        "instance": "/v1/warehouses/hz",
        "context": {"current_version": 2},
    }
    assert (await api.get("/v1/warehouses/hz")).json()["active"] is True
    assert (await api.delete("/v1/warehouses/hz", headers={"If-Match": '"1"'})).status_code == 412


async def test_a_patch_with_null_active_or_an_unknown_field_is_a_422(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.patch("/v1/warehouses/hz", json={"active": None, "city": "x"})
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/active", "wrong_type"),
        ("/city", "unknown_field"),
    }
    assert (await api.get("/v1/warehouses/hz")).json()["version"] == 1


async def test_deleting_a_warehouse_with_locations_is_a_409_naming_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await create(api)
    for code, seq in (("B-01", 2), ("A-01", 1)):
        r = await api.post("/v1/warehouses/hz/locations", json={"code": code, "pick_sequence": seq})
        assert r.status_code == 201
    r = await api.delete("/v1/warehouses/hz")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Warehouse 'hz' still has locations (A-01, B-01); delete them first, "
        "or deactivate the warehouse (`active: false`).",
        "code": "still-referenced",
        "instance": "/v1/warehouses/hz",
        "context": {"references": {"locations": ["A-01", "B-01"]}},
    }
    assert await counts(conn) == (1, 1)


async def test_deleting_a_warehouse_without_locations_works_and_is_audited(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.delete("/v1/warehouses/hz", headers={"If-Match": '"1"'})
    assert r.status_code == 204
    assert (await api.get("/v1/warehouses/hz")).status_code == 404
    audit = (await api.get("/v1/audit", params={"entity": "warehouse", "code": "hz"})).json()["items"]
    assert [(e["action"], e["version"], e["actor"]) for e in audit] == [
        ("delete", 1, "test-admin"),
        ("create", 1, "test-admin"),
    ]
    assert audit[0]["changes"]["code"] == {"before": "hz", "after": None}


async def test_other_departments_read_warehouses_but_only_the_warehouse_role_writes(
    api: httpx.AsyncClient, as_role: Any
) -> None:
    await create(api)
    async with as_role("finance") as finance:
        assert (await finance.get("/v1/warehouses/hz")).status_code == 200
        r = await finance.patch("/v1/warehouses/hz", json={"active": False})
        assert r.status_code == 403
        assert r.json()["detail"] == "This route needs one of the roles admin, warehouse; the key has finance."
    async with as_role("storefront") as storefront:
        assert (await storefront.get("/v1/warehouses")).status_code == 403
    async with as_role("warehouse") as warehouse:
        r = await warehouse.patch("/v1/warehouses/hz", json={"active": False})
        assert r.status_code == 200
    audit = (await api.get("/v1/audit", params={"entity": "warehouse", "code": "hz"})).json()["items"]
    assert audit[0]["actor"] == "test-warehouse"
