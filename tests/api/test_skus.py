"""SKUs over HTTP: GTIN barcodes, unique barcodes and axes, axes and overrides from the product's attribute
set, a fixed product, ETags, audit, and nothing half-written on a rejected body."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import factories as f
from tests.api.test_products import catalog

EAN13 = "4006381333931"
UPC_A = "036000291452"


async def scarf(conn: asyncpg.Connection, code: str = "sq-90") -> None:
    await f.product(conn, code, "silk-squares", "destination", {"material": "silk"})


async def sku_count(conn: asyncpg.Connection) -> tuple[int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM skus"),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'sku'"),
    )


async def create(api: httpx.AsyncClient, product: str = "sq-90", **fields: Any) -> httpx.Response:
    body = {"sku": "SQ-90-RED", "barcode": EAN13, "axes": {"colour": "red"}, "attributes": {"weight": "35.5"}}
    return await api.post(f"/v1/products/{product}/skus", json={**body, **fields})


async def test_creating_a_sku_answers_it_with_location_and_etag(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    r = await create(api, attributes={"weight": 35.5, "tags": ["gift"]})
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/skus/SQ-90-RED"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body.pop("created_at") == body.pop("updated_at")
    assert body == {
        "sku": "SQ-90-RED",
        "product": "sq-90",
        "barcode": EAN13,
        "axes": {"colour": "red"},
        "attributes": {"tags": ["gift"], "weight": "35.5"},
        "version": 1,
    }
    assert (await api.get("/v1/skus/SQ-90-RED")).json() == r.json()
    audit = (await api.get("/v1/audit", params={"entity": "sku", "code": "SQ-90-RED"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("create", 1)]
    assert audit[0]["changes"]["barcode"] == {"before": None, "after": EAN13}


async def test_a_bad_check_digit_and_axes_outside_the_attribute_set_come_in_one_422(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    r = await create(
        api,
        product="sq-90",
        barcode="4006381333932",
        axes={"colour": "purple", "scent": "rose"},
        attributes={"width": 5},
    )
    assert r.status_code == 422
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "4 fields are invalid.",
        "code": "validation-failed",
        "instance": "/v1/products/sq-90/skus",
        "errors": [
            {
                "pointer": "/barcode",
                "code": "invalid_check_digit",
                "message": "The check digit of 4006381333932 should be 1.",
            },
            {
                "pointer": "/axes/colour",
                "code": "unknown_option",
                "message": "'purple' is not an option of `colour`.",
            },
            {
                "pointer": "/axes/scent",
                "code": "not_in_attribute_set",
                "message": "`scent` is not in this category's attribute set.",
            },
            {"pointer": "/attributes/width", "code": "out_of_range", "message": "Must be at least 10."},
        ],
    }
    short = await create(api, barcode="1234567", sku="bad code!")
    assert short.status_code == 422
    assert [(e["pointer"], e["code"]) for e in short.json()["errors"]] == [("/sku", "invalid_format")]
    assert await sku_count(conn) == (0, 0)
    wrong_length = await create(api, barcode="12345678901")
    assert wrong_length.json()["errors"] == [
        {
            "pointer": "/barcode",
            "code": "invalid_gtin",
            "message": "A barcode is a GTIN of 8, 12, 13 or 14 digits.",
        }
    ]
    assert await sku_count(conn) == (0, 0)


async def test_upc_a_ean_8_and_gtin_14_barcodes_are_accepted(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    await scarf(conn)
    for sku, barcode, colour in [
        ("A", UPC_A, "red"),
        ("B", "96385074", "blue"),
        ("C", "10614141000415", "green"),
    ]:
        r = await create(api, sku=sku, barcode=barcode, axes={"colour": colour})
        assert r.status_code == 201, r.text
        assert r.json()["barcode"] == barcode


async def test_a_taken_barcode_is_a_409_naming_the_sku_that_has_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    await scarf(conn, "sq-70")
    await f.sku(conn, "SQ-70-RED", "sq-70", barcode=EAN13, axes={"colour": "red"})
    r = await create(api)
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/barcode-taken",
        "title": "Conflict",
        "status": 409,
        "detail": f"The barcode {EAN13} belongs to SKU 'SQ-70-RED' already.",
        "code": "barcode-taken",
        "instance": "/v1/products/sq-90/skus",
        "context": {"sku": "SQ-70-RED"},
    }
    await create(api, barcode=UPC_A)
    patched = await api.patch("/v1/skus/SQ-90-RED", json={"barcode": EAN13})
    assert patched.status_code == 409
    assert patched.json()["context"] == {"sku": "SQ-70-RED"}
    assert await sku_count(conn) == (2, 1)


async def test_two_skus_of_a_product_with_the_same_axes_are_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    await create(api, axes={"colour": "red", "width": 90})
    r = await create(api, sku="SQ-90-RED-2", barcode=UPC_A, axes={"width": 90, "colour": "red"})
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/duplicate-axes",
        "title": "Conflict",
        "status": 409,
        "detail": "SKU 'SQ-90-RED' of product 'sq-90' has the same axes already; SKUs of a product differ on "
        "their axes.",
        "code": "duplicate-axes",
        "instance": "/v1/products/sq-90/skus",
        "context": {"sku": "SQ-90-RED", "axes": {"colour": "red", "width": 90}},
    }
    other = await create(api, sku="SQ-90-BLUE", barcode=UPC_A, axes={"colour": "blue", "width": 90})
    assert other.status_code == 201
    clash = await api.patch("/v1/skus/SQ-90-BLUE", json={"axes": {"colour": "red"}})
    assert clash.status_code == 409
    assert clash.json()["code"] == "duplicate-axes"
    assert await sku_count(conn) == (2, 2)


async def test_a_taken_sku_code_is_a_409_and_an_unknown_product_a_404(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    await create(api)
    r = await create(api, barcode=UPC_A, axes={"colour": "blue"})
    assert r.status_code == 409
    assert r.json()["code"] == "sku-exists"
    assert r.json()["detail"] == "A SKU with the code 'SQ-90-RED' exists already."
    missing = await create(api, product="nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "product-not-found"
    same = await api.post("/v1/products/sq-90/skus", json={"sku": "SQ-90-X", "product": "sq-90", "axes": {}})
    assert same.status_code == 201
    body = {"sku": "SQ-90-Y", "product": "sq-70", "axes": {"colour": "green"}}
    wrong = await api.post("/v1/products/sq-90/skus", json=body)
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {
            "pointer": "/product",
            "code": "product_mismatch",
            "message": "This SKU is created under product 'sq-90', not 'sq-70'.",
        }
    ]


async def test_put_creates_a_sku_of_the_named_product_and_moving_it_to_another_product_is_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    await scarf(conn, "sq-70")
    no_product = await api.put("/v1/skus/SQ-90-RED", json={"axes": {"colour": "red"}})
    assert no_product.status_code == 422
    assert no_product.json()["errors"] == [
        {"pointer": "/product", "code": "required", "message": "`product` is required to create a SKU."}
    ]
    unknown = await api.put("/v1/skus/SQ-90-RED", json={"product": "nope"})
    assert unknown.json()["errors"] == [
        {"pointer": "/product", "code": "unknown_product", "message": "No product has the code 'nope'."}
    ]
    bad_code = await api.put("/v1/skus/-bad", json={"product": "sq-90"})
    assert bad_code.status_code == 422
    assert [(e["pointer"], e["code"]) for e in bad_code.json()["errors"]] == [("/sku", "invalid_format")]
    body = {"product": "sq-90", "barcode": EAN13, "axes": {"colour": "red"}}
    first = await api.put("/v1/skus/SQ-90-RED", json=body)
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/skus/SQ-90-RED"
    again = await api.put("/v1/skus/SQ-90-RED", json=body)
    assert again.status_code == 200
    assert again.json()["version"] == 1
    without_product = await api.put("/v1/skus/SQ-90-RED", json={**body, "product": None, "barcode": UPC_A})
    assert without_product.json()["version"] == 2
    assert without_product.json()["product"] == "sq-90"
    moved = await api.put("/v1/skus/SQ-90-RED", json={**body, "product": "sq-70"})
    assert moved.status_code == 409
    assert moved.json()["code"] == "sku-product-fixed"
    assert moved.json()["detail"] == "SKU 'SQ-90-RED' belongs to product 'sq-90'; it cannot move to 'sq-70'."
    patched = await api.patch("/v1/skus/SQ-90-RED", json={"product": "sq-70"})
    assert patched.status_code == 409
    audit = (await api.get("/v1/audit", params={"entity": "sku", "code": "SQ-90-RED"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("update", 2), ("create", 1)]
    assert audit[0]["changes"] == {"barcode": {"before": EAN13, "after": UPC_A}}


async def test_a_merge_patch_removes_the_barcode_and_one_axis_and_a_no_op_keeps_the_version(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    await create(api, axes={"colour": "red", "width": 90})
    noop = await api.patch("/v1/skus/SQ-90-RED", json={"axes": {"width": 90}, "attributes": {"weight": 35.5}})
    assert noop.status_code == 200
    assert noop.json()["version"] == 1
    r = await api.patch(
        "/v1/skus/SQ-90-RED", json={"barcode": None, "axes": {"width": None}}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert {k: r.json()[k] for k in ("barcode", "axes", "attributes", "version")} == {
        "barcode": None,
        "axes": {"colour": "red"},
        "attributes": {"weight": "35.5"},
        "version": 2,
    }
    stale = await api.patch("/v1/skus/SQ-90-RED", json={"axes": {"width": 100}}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["context"] == {"current_version": 2}
    bad = await api.patch("/v1/skus/SQ-90-RED", json={"axes": {"scent": "rose"}, "barcode": "96385070"})
    assert bad.status_code == 422
    assert [(e["pointer"], e["code"]) for e in bad.json()["errors"]] == [
        ("/barcode", "invalid_check_digit"),
        ("/axes/scent", "not_in_attribute_set"),
    ]
    audit = (await api.get("/v1/audit", params={"entity": "sku", "code": "SQ-90-RED"})).json()["items"]
    assert [e["action"] for e in audit] == ["update", "create"]
    missing = await api.patch("/v1/skus/NOPE", json={})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No SKU has the code 'NOPE'."


async def test_get_with_a_matching_if_none_match_is_304(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    await scarf(conn)
    await create(api)
    r = await api.get("/v1/skus/SQ-90-RED", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert (await api.get("/v1/skus/SQ-90-RED", headers={"If-None-Match": '"3"'})).status_code == 200


async def test_the_skus_of_a_product_are_listed_in_sku_order_each_exactly_once(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    await scarf(conn, "sq-70")
    for width in range(10, 21):
        await f.sku(conn, f"SQ-90-W{width}", "sq-90", axes={"width": width})
    await f.sku(conn, "SQ-70-W10", "sq-70", axes={"width": 10})
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/products/sq-90/skus", params=params)).json()
        seen += [s["sku"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"SQ-90-W{w}" for w in range(10, 21)]
    missing = await api.get("/v1/products/nope/skus")
    assert missing.status_code == 404
    assert missing.json()["code"] == "product-not-found"


async def test_deleting_a_sku_is_audited_and_a_referenced_one_is_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    await create(api)
    await create(api, sku="SQ-90-BLUE", barcode=UPC_A, axes={"colour": "blue"})
    await conn.execute(
        "CREATE TABLE price_probe (sku_id bigint CONSTRAINT price_probe_sku_id_fkey REFERENCES skus (id))"
    )
    await conn.execute("INSERT INTO price_probe SELECT id FROM skus WHERE sku = 'SQ-90-BLUE'")
    stale = await api.delete("/v1/skus/SQ-90-RED", headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    r = await api.delete("/v1/skus/SQ-90-RED", headers={"If-Match": '"1"'})
    assert r.status_code == 204
    assert (await api.get("/v1/skus/SQ-90-RED")).status_code == 404
    audit = (await api.get("/v1/audit", params={"entity": "sku", "code": "SQ-90-RED"})).json()["items"]
    assert [e["action"] for e in audit] == ["delete", "create"]
    assert audit[0]["changes"]["axes"] == {"before": {"colour": "red"}, "after": None}
    referenced = await api.delete("/v1/skus/SQ-90-BLUE")
    assert referenced.status_code == 409
    assert referenced.json()["context"] == {"references": {"price_probe": "price_probe_sku_id_fkey"}}
    assert (await api.get("/v1/skus/SQ-90-BLUE")).status_code == 200


async def test_warehouse_may_write_skus_and_marketing_and_storefront_may_not(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await scarf(conn)
    async with as_role("warehouse") as warehouse:
        assert (await create(warehouse)).status_code == 201
        assert (await warehouse.patch("/v1/skus/SQ-90-RED", json={"barcode": UPC_A})).status_code == 200
    async with as_role("marketing") as marketing:
        assert (await marketing.get("/v1/skus/SQ-90-RED")).status_code == 200
        assert (await marketing.get("/v1/products/sq-90/skus")).status_code == 200
        assert (await marketing.delete("/v1/skus/SQ-90-RED")).status_code == 403
    async with as_role("storefront") as storefront:
        assert (await storefront.get("/v1/skus/SQ-90-RED")).status_code == 403
