"""Series, roles and attribute groups: one vocabulary service, three resources."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories as f

RESOURCES = ["/v1/series", "/v1/roles", "/v1/attribute-groups"]


async def test_roles_are_seeded_with_the_four_product_roles(api: httpx.AsyncClient) -> None:
    body = (await api.get("/v1/roles")).json()
    assert [(r["code"], r["labels"]["zh-CN"]) for r in body["items"]] == [
        ("destination", "目标性产品"),
        ("image", "形象产品"),
        ("promotion", "活动产品"),
        ("routine", "常规性产品"),
    ]
    assert body["next_cursor"] is None


@pytest.mark.parametrize("path", RESOURCES)
async def test_a_term_is_created_read_patched_and_deleted(api: httpx.AsyncClient, path: str) -> None:
    created = await api.post(path, json={"code": "silk", "labels": {"zh-CN": "丝巾系列", "en": "Silk"}})
    assert created.status_code == 201
    assert created.headers["location"] == f"{path}/silk"
    assert created.json()["description"] == {}
    patched = await api.patch(f"{path}/silk", json={"description": {"en": "Mulberry silk."}, "labels": {"en": None}})
    assert patched.status_code == 200
    assert patched.json()["labels"] == {"zh-CN": "丝巾系列"}
    assert patched.json()["description"] == {"en": "Mulberry silk."}
    assert patched.json()["version"] == 2
    assert (await api.delete(f"{path}/silk", headers={"If-Match": '"1"'})).status_code == 412
    assert (await api.delete(f"{path}/silk", headers={"If-Match": '"2"'})).status_code == 204
    missing = await api.get(f"{path}/silk")
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith("No ")


@pytest.mark.parametrize("path", RESOURCES)
async def test_a_duplicate_code_is_409_and_bad_fields_are_422(api: httpx.AsyncClient, path: str) -> None:
    assert (await api.post(path, json={"code": "dup"})).status_code == 201
    again = await api.post(path, json={"code": "dup"})
    assert again.status_code == 409
    assert again.json()["code"].endswith("-exists")
    bad = await api.post(path, json={"code": "-x", "labels": {"en": 3}, "extra": True})
    assert bad.status_code == 422
    assert sorted(e["pointer"] for e in bad.json()["errors"]) == ["/code", "/extra", "/labels/en"]


async def test_a_role_used_by_a_product_cannot_be_deleted(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "scarf-1", "scarves", role="image")
    r = await api.delete("/v1/roles/image")
    assert r.status_code == 409
    assert r.json()["code"] == "still-referenced"
    assert r.json()["context"] == {"references": {"products": ["scarf-1"]}}
    assert (await api.get("/v1/roles/image")).status_code == 200


async def test_a_series_with_products_and_a_group_with_attributes_cannot_be_deleted(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    product_id = await f.product(conn, "scarf-1", "scarves")
    series_id = await f.series(conn, "silk")
    await conn.execute("INSERT INTO product_series (product_id, series_id) VALUES ($1, $2)", product_id, series_id)
    await api.post("/v1/attribute-groups", json={"code": "logistics"})
    await f.attribute(conn, "weight", "measurement", group="logistics", validation={"unit_family": "mass"})
    series = await api.delete("/v1/series/silk")
    assert series.status_code == 409
    assert series.json()["context"] == {"references": {"products": ["scarf-1"]}}
    group = await api.delete("/v1/attribute-groups/logistics")
    assert group.status_code == 409
    assert group.json()["context"] == {"references": {"attributes": ["weight"]}}


async def test_roles_are_extendable_and_put_is_an_idempotent_upsert(api: httpx.AsyncClient) -> None:
    body = {"labels": {"zh-CN": "引流产品", "en": "Traffic builder"}}
    first = await api.put("/v1/roles/traffic", json=body)
    second = await api.put("/v1/roles/traffic", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["version"] == 1
    audit = (await api.get("/v1/audit", params={"entity": "role", "code": "traffic"})).json()["items"]
    assert [e["action"] for e in audit] == ["create"]


async def test_a_storefront_key_cannot_read_the_vocabularies(as_role: object) -> None:
    async with as_role("storefront") as client:  # type: ignore[operator]
        r = await client.get("/v1/series")
    assert r.status_code == 403


@pytest.mark.parametrize("since", ["0.5", "1700000000", "2025-03-01T00:00:00", "2025-03-01", "yesterday", ""])
async def test_the_audit_trail_since_a_moment_takes_an_rfc_3339_moment_with_an_offset_only(
    api: httpx.AsyncClient, since: str
) -> None:
    """A bare number was read as a Unix time and a moment without an offset in the server's time zone."""
    r = await api.get("/v1/audit", params={"since": since})
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {
            "code": "invalid_moment",
            "message": "`since` must be an RFC 3339 moment with an offset, e.g. 2025-03-01T00:00:00+08:00.",
            "parameter": "since",
        }
    ]


async def test_the_audit_trail_since_a_moment_lists_what_changed_from_then_on(api: httpx.AsyncClient) -> None:
    await api.put("/v1/roles/traffic", json={"labels": {"en": "Traffic builder"}})
    changed_at = (await api.get("/v1/roles/traffic")).json()["updated_at"]
    later = (await api.get("/v1/audit", params={"code": "traffic", "since": "2999-01-01T00:00:00+08:00"})).json()
    since = (await api.get("/v1/audit", params={"code": "traffic", "since": changed_at})).json()
    assert later["items"] == []
    assert [(e["entity"], e["action"]) for e in since["items"]] == [("role", "create")]


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PUT", {"description": {"en": ""}}),
        ("PATCH", {"description": {"en": ""}}),
        ("PUT", {"description": {"not a locale": "text"}}),
    ],
)
async def test_an_empty_description_or_one_under_no_locale_is_a_422_not_a_constraint_violation(
    api: httpx.AsyncClient, method: str, body: dict[str, Any]
) -> None:
    """The tables refuse an empty text in a locale map: it reached them as a 409 `constraint-violation`."""
    await api.put("/v1/roles/traffic", json={"labels": {"en": "Traffic builder"}, "description": {"en": "Draws"}})
    r = await api.request(method, "/v1/roles/traffic", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation-failed"
    assert [e["pointer"].split("/")[1] for e in r.json()["errors"]] == ["description"]
    assert (await api.get("/v1/roles/traffic")).json()["description"] == {"en": "Draws"}


async def test_a_patch_of_labels_or_description_under_no_locale_is_a_422(api: httpx.AsyncClient) -> None:
    await api.put("/v1/roles/traffic", json={"labels": {"en": "Traffic builder"}})
    r = await api.patch("/v1/roles/traffic", json={"labels": {"not a locale": "x"}})
    assert r.status_code == 422, r.text
    assert [(e["code"], e["pointer"]) for e in r.json()["errors"]] == [("invalid_key", "/labels/not a locale")]
