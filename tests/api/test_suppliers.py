"""Suppliers (供应商) over HTTP: tiers, bounded contacts, keyset list with filters, upsert, merge patch,
ETags, deletion refused while a product has terms with the supplier, completeness following activity,
audit and roles."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import factories as f

LABELS = {"zh-CN": "杭州丝绸厂", "en": "Hangzhou Silk Mill"}
CONTACT = {"name": "王丽", "phone": "+86 571 8888 1234", "email": "wangli@silk.example.cn", "role": "sales"}


async def create(api: httpx.AsyncClient, code: str = "hz-silk", **fields: Any) -> httpx.Response:
    body = {"code": code, "type": "manufacturer", "labels": LABELS, "contacts": [CONTACT], **fields}
    return await api.post("/v1/suppliers", json=body)


def without_times(body: dict[str, Any]) -> dict[str, Any]:
    assert body.pop("created_at") and body.pop("updated_at")
    return body


async def counts(conn: asyncpg.Connection) -> tuple[int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM suppliers"),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'supplier'"),
    )


async def product_with_terms(conn: asyncpg.Connection, product: str, supplier: str) -> int:
    """A product (home category `silk-squares`, created once) with terms from `supplier`."""
    if await conn.fetchval("SELECT count(*) FROM categories WHERE code = 'silk-squares'") == 0:
        await f.tree(conn)
        await f.category(conn, "silk-squares")
    product_id = await f.product(conn, product, "silk-squares")
    await conn.execute(
        """
        INSERT INTO product_suppliers (product_id, supplier_id, purchase_price, currency)
        SELECT $1, id, 38.5, 'CNY' FROM suppliers WHERE code = $2
        """,
        product_id,
        supplier,
    )
    return product_id


async def audit_of(api: httpx.AsyncClient, code: str) -> list[dict[str, Any]]:
    r = await api.get("/v1/audit", params={"entity": "supplier", "code": code})
    assert r.status_code == 200, r.text
    return [{k: e[k] for k in ("actor", "action", "code", "version", "changes")} for e in r.json()["items"]]


async def test_creating_a_supplier_answers_201_with_location_etag_and_the_supplier(api: httpx.AsyncClient) -> None:
    r = await create(api)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/suppliers/hz-silk"
    assert r.headers["etag"] == '"1"'
    assert without_times(r.json()) == {
        "code": "hz-silk",
        "type": "manufacturer",
        "labels": LABELS,
        "contacts": [CONTACT],
        "active": True,
        "version": 1,
    }
    got = await api.get("/v1/suppliers/hz-silk")
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert without_times(got.json())["contacts"] == [CONTACT]


async def test_labels_contacts_and_activity_have_defaults_and_a_contact_needs_only_a_name(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post("/v1/suppliers", json={"code": "yiwu-trade", "type": "trading_company"})
    assert r.status_code == 201, r.text
    assert without_times(r.json()) == {
        "code": "yiwu-trade",
        "type": "trading_company",
        "labels": {},
        "contacts": [],
        "active": True,
        "version": 1,
    }
    r = await create(api, "sz-agent", type="agent", contacts=[{"name": "Li Wei", "phone": None}], active=False)
    assert r.status_code == 201, r.text
    assert without_times(r.json()) == {
        "code": "sz-agent",
        "type": "agent",
        "labels": LABELS,
        "contacts": [{"name": "Li Wei"}],
        "active": False,
        "version": 1,
    }


async def test_a_taken_code_is_a_409_problem(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    assert (await create(api)).status_code == 201
    r = await create(api, type="agent")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/supplier-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "A supplier with the code 'hz-silk' exists already.",
        "code": "supplier-exists",
        "instance": "/v1/suppliers",
    }
    assert await counts(conn) == (1, 1)


async def test_every_invalid_field_is_named_and_nothing_is_written(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await api.post(
        "/v1/suppliers",
        json={
            "code": "Hangzhou Silk",
            "type": "factory",
            "labels": {"en": ""},
            "contacts": [
                {"name": "", "email": "not-an-email"},
                {"name": "ok", "phone": "call me", "fax": "123"},
                {"name": "x" * 201, "role": "r" * 101},
            ],
            "active": "yes",
        },
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation-failed"
    assert body["detail"] == "10 fields are invalid."
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [
        ("/type", "invalid_choice"),
        ("/labels/en", "too_short"),
        ("/contacts/0/name", "too_short"),
        ("/contacts/0/email", "invalid_format"),
        ("/contacts/1/fax", "unknown_field"),
        ("/contacts/1/phone", "invalid_format"),
        ("/contacts/2/name", "too_long"),
        ("/contacts/2/role", "too_long"),
        ("/active", "wrong_type"),
        ("/code", "invalid_format"),
    ]
    assert await counts(conn) == (0, 0)


async def test_an_unknown_type_alone_is_a_422_naming_the_allowed_tiers(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await create(api, type="factory")
    assert r.status_code == 422
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "Invalid enum value 'factory'.",
        "code": "validation-failed",
        "instance": "/v1/suppliers",
        "errors": [{"pointer": "/type", "code": "invalid_choice", "message": "Invalid enum value 'factory'."}],
    }
    assert await counts(conn) == (0, 0)


async def test_more_than_twenty_contacts_are_refused(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    r = await create(api, contacts=[{"name": f"c{i}"} for i in range(21)])
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"pointer": "/contacts", "code": "too_long", "message": "Expected `array` of length <= 20."}
    ]
    assert await counts(conn) == (0, 0)


async def test_the_list_pages_by_code_and_filters_by_type_and_activity(api: httpx.AsyncClient) -> None:
    for code, kind, active in (
        ("d-whole", "wholesaler", True),
        ("a-maker", "manufacturer", True),
        ("c-maker", "manufacturer", False),
        ("b-agent", "agent", True),
    ):
        assert (await create(api, code, type=kind, active=active)).status_code == 201
    first = (await api.get("/v1/suppliers", params={"limit": 2})).json()
    assert [s["code"] for s in first["items"]] == ["a-maker", "b-agent"]
    assert first["next_cursor"]
    second = (await api.get("/v1/suppliers", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [s["code"] for s in second["items"]] == ["c-maker", "d-whole"]
    assert second["next_cursor"] is None
    makers = (await api.get("/v1/suppliers", params={"type": "manufacturer"})).json()
    assert [s["code"] for s in makers["items"]] == ["a-maker", "c-maker"]
    active_makers = (await api.get("/v1/suppliers", params={"type": "manufacturer", "active": "true"})).json()
    assert [s["code"] for s in active_makers["items"]] == ["a-maker"]
    inactive = (await api.get("/v1/suppliers", params={"active": "false"})).json()
    assert [s["code"] for s in inactive["items"]] == ["c-maker"]


async def test_an_unknown_type_filter_or_a_forged_cursor_is_a_400(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/suppliers", params={"type": "factory"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid-parameter"
    assert [e["parameter"] for e in r.json()["errors"]] == ["type"]
    r = await api.get("/v1/suppliers", params={"cursor": "bm9wZQ"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"parameter": "cursor", "code": "invalid_cursor", "message": "The cursor is not one this list handed out."}
    ]


async def test_an_unknown_supplier_is_a_404_problem(api: httpx.AsyncClient) -> None:
    for r in (
        await api.get("/v1/suppliers/nobody"),
        await api.patch("/v1/suppliers/nobody", json={"active": False}),
        await api.delete("/v1/suppliers/nobody"),
    ):
        assert r.status_code == 404
        assert r.json() == {
            "type": "/problems/supplier-not-found",
            "title": "Not found",
            "status": 404,
            "detail": "No supplier has the code 'nobody'.",
            "code": "supplier-not-found",
            "instance": "/v1/suppliers/nobody",
        }


async def test_if_none_match_with_the_current_etag_answers_304(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.get("/v1/suppliers/hz-silk", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.headers["etag"] == '"1"'
    assert r.content == b""
    await api.patch("/v1/suppliers/hz-silk", json={"labels": {"en": "HZ Silk"}})
    r = await api.get("/v1/suppliers/hz-silk", headers={"If-None-Match": '"1"'})
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'


async def test_a_stale_if_match_is_412_and_changes_nothing(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await create(api)
    ok = await api.patch("/v1/suppliers/hz-silk", json={"type": "agent"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    expected = {
        "type": "/problems/version-mismatch",
        "title": "Precondition failed",
        "status": 412,
        "detail": "Supplier 'hz-silk' is at version 2, not 1: it changed since you read it.",
        "code": "version-mismatch",
        "instance": "/v1/suppliers/hz-silk",
        "context": {"current_version": 2},
    }
    for stale in (
        await api.patch("/v1/suppliers/hz-silk", json={"active": False}, headers={"If-Match": '"1"'}),
        await api.put("/v1/suppliers/hz-silk", json={"type": "wholesaler"}, headers={"If-Match": '"1"'}),
        await api.delete("/v1/suppliers/hz-silk", headers={"If-Match": '"1"'}),
    ):
        assert stale.status_code == 412
        assert stale.json() == expected
    got = without_times((await api.get("/v1/suppliers/hz-silk")).json())
    assert (got["type"], got["active"], got["version"]) == ("agent", True, 2)
    assert await counts(conn) == (1, 2)


async def test_put_creates_then_replaces_and_a_no_op_put_keeps_the_version_and_writes_no_audit(
    api: httpx.AsyncClient,
) -> None:
    body = {"type": "wholesaler", "labels": {"en": "Keqiao Textiles"}, "contacts": [{"name": "Zhao"}]}
    first = await api.put("/v1/suppliers/keqiao", json=body)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == "/v1/suppliers/keqiao"
    again = await api.put("/v1/suppliers/keqiao", json=body)
    assert again.status_code == 200
    assert again.headers["etag"] == '"1"'
    assert again.json()["version"] == 1
    changed = await api.put("/v1/suppliers/keqiao", json={**body, "type": "agent"})
    assert changed.status_code == 200
    assert without_times(changed.json()) == {
        "code": "keqiao",
        "type": "agent",
        "labels": {"en": "Keqiao Textiles"},
        "contacts": [{"name": "Zhao"}],
        "active": True,
        "version": 2,
    }
    assert await audit_of(api, "keqiao") == [
        {
            "actor": "test-admin",
            "action": "update",
            "code": "keqiao",
            "version": 2,
            "changes": {"type": {"before": "wholesaler", "after": "agent"}},
        },
        {
            "actor": "test-admin",
            "action": "create",
            "code": "keqiao",
            "version": 1,
            "changes": {
                "active": {"before": None, "after": True},
                "code": {"before": None, "after": "keqiao"},
                "contacts": {"before": None, "after": [{"name": "Zhao"}]},
                "labels": {"before": None, "after": {"en": "Keqiao Textiles"}},
                "type": {"before": None, "after": "wholesaler"},
            },
        },
    ]


async def test_put_with_an_invalid_code_in_the_path_is_a_422_and_writes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await api.put("/v1/suppliers/Big%20Mill", json={"type": "manufacturer"})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "/code",
            "code": "invalid_format",
            "message": "Expected `str` matching regex '^[a-z0-9][a-z0-9_-]{0,63}$'.",
        }
    ]
    assert await counts(conn) == (0, 0)


async def test_a_merge_patch_changes_only_what_it_names_and_replaces_the_contacts_whole(
    api: httpx.AsyncClient,
) -> None:
    await create(api)
    r = await api.patch(
        "/v1/suppliers/hz-silk", json={"labels": {"en": None, "ja": "杭州シルク"}, "contacts": [{"name": "陈"}]}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert without_times(r.json()) == {
        "code": "hz-silk",
        "type": "manufacturer",
        "labels": {"zh-CN": "杭州丝绸厂", "ja": "杭州シルク"},
        "contacts": [{"name": "陈"}],
        "active": True,
        "version": 2,
    }
    same = await api.patch("/v1/suppliers/hz-silk", json={"type": "manufacturer"})
    assert same.json()["version"] == 2
    bad = await api.patch("/v1/suppliers/hz-silk", json={"type": "broker", "contacts": [{"email": "a@b.cn"}]})
    assert bad.status_code == 422
    assert [(e["pointer"], e["code"]) for e in bad.json()["errors"]] == [
        ("/type", "invalid_choice"),
        ("/contacts/0/name", "required"),
    ]
    assert [e["action"] for e in await audit_of(api, "hz-silk")] == ["update", "create"]


async def test_deleting_a_supplier_with_product_terms_is_a_409_naming_the_products(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await create(api)
    await product_with_terms(conn, "sq-90", "hz-silk")
    await product_with_terms(conn, "long-180", "hz-silk")
    r = await api.delete("/v1/suppliers/hz-silk")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Supplier 'hz-silk' still has terms for products (long-180, sq-90); delete those terms first, "
        "or deactivate the supplier (`active: false`).",
        "code": "still-referenced",
        "instance": "/v1/suppliers/hz-silk",
        "context": {"references": {"products": ["long-180", "sq-90"]}},
    }
    assert await counts(conn) == (1, 1)
    assert (await api.patch("/v1/suppliers/hz-silk", json={"active": False})).status_code == 200


async def test_deleting_a_supplier_without_terms_works_and_is_audited(api: httpx.AsyncClient) -> None:
    await create(api)
    r = await api.delete("/v1/suppliers/hz-silk", headers={"If-Match": '"1"'})
    assert r.status_code == 204
    assert (await api.get("/v1/suppliers/hz-silk")).status_code == 404
    entries = await audit_of(api, "hz-silk")
    assert [(e["action"], e["version"], e["actor"]) for e in entries] == [
        ("delete", 1, "test-admin"),
        ("create", 1, "test-admin"),
    ]
    assert entries[0]["changes"]["type"] == {"before": "manufacturer", "after": None}


async def test_deactivating_a_supplier_puts_supplier_back_into_what_purchasing_misses(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await create(api)
    await product_with_terms(conn, "sq-90", "hz-silk")

    async def missing() -> list[str]:
        body = (await api.get("/v1/products/sq-90/completeness")).json()
        return [m["item"] for m in body["stages"]["purchasing"]["missing"]]

    assert "supplier" not in await missing()
    assert (await api.patch("/v1/suppliers/hz-silk", json={"active": False})).status_code == 200
    assert "supplier" in await missing()
    assert (await api.put("/v1/suppliers/hz-silk", json={"type": "manufacturer", "active": True})).status_code == 200
    assert "supplier" not in await missing()


async def test_purchasing_writes_finance_reads_and_other_roles_are_refused(as_role: Any) -> None:
    async with as_role("purchasing") as purchasing:
        r = await create(purchasing)
        assert r.status_code == 201, r.text
        audit = (await purchasing.get("/v1/audit", params={"entity": "supplier"})).status_code
    async with as_role("admin") as admin:
        entries = await audit_of(admin, "hz-silk")
        assert [(e["actor"], e["action"]) for e in entries] == [("test-purchasing", "create")]
    del audit
    async with as_role("finance") as finance:
        assert (await finance.get("/v1/suppliers")).status_code == 200
        assert (await finance.get("/v1/suppliers/hz-silk")).status_code == 200
        r = await finance.patch("/v1/suppliers/hz-silk", json={"active": False})
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"
    for role in ("storefront", "marketing", "listing", "warehouse", "service"):
        async with as_role(role) as client:
            for r in (await client.get("/v1/suppliers"), await client.get("/v1/suppliers/hz-silk")):
                assert r.status_code == 403, role
                assert r.json()["code"] == "forbidden"
    async with as_role(None) as anonymous:
        assert (await anonymous.get("/v1/suppliers")).status_code == 401
