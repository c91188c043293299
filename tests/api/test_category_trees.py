"""Category trees over HTTP: the conventions every resource follows (codes, ETags, problems, audit)."""

from __future__ import annotations

import httpx


async def create(api: httpx.AsyncClient, code: str = "merch", **fields: object) -> httpx.Response:
    body = {"code": code, "labels": {"zh-CN": "商品结构", "en": "Merchandise"}, **fields}
    return await api.post("/v1/category-trees", json=body)


async def test_creating_a_tree_answers_201_with_location_etag_and_default_levels(api: httpx.AsyncClient) -> None:
    r = await create(api)
    assert r.status_code == 201
    assert r.headers["location"] == "/v1/category-trees/merch"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body["code"] == "merch"
    assert body["labels"] == {"zh-CN": "商品结构", "en": "Merchandise"}
    assert body["level_names"] == ["major", "middle", "minor"]
    assert body["version"] == 1


async def test_a_taken_code_is_a_409_problem(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await create(api)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json() == {
        "type": "/problems/category-tree-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "A category tree with the code 'merch' exists already.",
        "code": "category-tree-exists",
        "instance": "/v1/category-trees",
    }


async def test_every_invalid_field_is_named_with_a_pointer(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/v1/category-trees",
        json={"code": "Bad Code", "labels": {"en": ""}, "level_names": [], "colour": "red"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation-failed"
    assert {(e["pointer"], e["code"]) for e in body["errors"]} == {
        ("/colour", "unknown_field"),
        ("/code", "invalid_format"),
        ("/labels/en", "too_short"),
        ("/level_names", "too_short"),
    }
    listing = await api.get("/v1/category-trees")
    assert listing.json()["items"] == []


async def test_malformed_json_is_a_400_problem(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/category-trees", content=b'{"code": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "malformed-json"


async def test_get_with_a_matching_if_none_match_is_304(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.get("/v1/category-trees/merch", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.content == b""
    r = await api.get("/v1/category-trees/merch", headers={"If-None-Match": '"7"'})
    assert r.status_code == 200
    assert r.json()["code"] == "merch"


async def test_a_stale_if_match_is_412_and_changes_nothing(api: httpx.AsyncClient) -> None:
    await create(api)
    ok = await api.patch("/v1/category-trees/merch", json={"labels": {"en": "Merch"}}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = await api.patch("/v1/category-trees/merch", json={"labels": {"en": "Other"}}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version-mismatch"
    assert stale.json()["context"] == {"current_version": 2}
    assert (await api.get("/v1/category-trees/merch")).json()["labels"]["en"] == "Merch"


async def test_merge_patch_removes_a_locale_with_null_and_keeps_the_rest(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.patch("/v1/category-trees/merch", json={"labels": {"en": None}})
    assert r.status_code == 200
    assert r.json()["labels"] == {"zh-CN": "商品结构"}
    assert r.json()["level_names"] == ["major", "middle", "minor"]


async def test_put_creates_then_replaces_and_a_no_op_put_keeps_the_version(api: httpx.AsyncClient) -> None:
    body = {"labels": {"en": "Web"}, "level_names": ["shelf", "aisle"]}
    first = await api.put("/v1/category-trees/web", json=body)
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/category-trees/web"
    again = await api.put("/v1/category-trees/web", json=body)
    assert again.status_code == 200
    assert again.json()["version"] == 1
    changed = await api.put("/v1/category-trees/web", json={**body, "labels": {"en": "Storefront"}})
    assert changed.json()["version"] == 2
    audit = (await api.get("/v1/audit", params={"entity": "category-tree", "code": "web"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("update", 2), ("create", 1)]
    assert audit[0]["actor"] == "test-admin"
    assert audit[0]["changes"] == {"labels": {"before": {"en": "Web"}, "after": {"en": "Storefront"}}}


async def test_put_with_an_invalid_code_in_the_path_is_a_422(api: httpx.AsyncClient) -> None:
    r = await api.put("/v1/category-trees/NOT%20A%20CODE", json={"labels": {}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/code"


async def test_pagination_returns_every_tree_exactly_once(api: httpx.AsyncClient) -> None:
    codes = [f"t{i:02d}" for i in range(23)]
    for code in reversed(codes):
        assert (await create(api, code)).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/category-trees", params=params)).json()
        seen += [t["code"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == codes
    assert pages == 5


async def test_a_forged_cursor_is_a_400_naming_the_parameter(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/category-trees", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"parameter": "cursor", "code": "invalid_cursor", "message": "The cursor is not one this list handed out."}
    ]


async def test_a_limit_over_500_is_a_400(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/category-trees", params={"limit": 501})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid-parameter"
    assert r.json()["errors"][0]["parameter"] == "limit"


async def test_deleting_an_empty_tree_works_and_is_audited(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.delete("/v1/category-trees/merch")
    assert r.status_code == 204
    assert (await api.get("/v1/category-trees/merch")).status_code == 404
    audit = (await api.get("/v1/audit", params={"code": "merch"})).json()["items"]
    assert audit[0]["action"] == "delete"
