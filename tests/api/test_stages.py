"""The attribute application table: the six stages, what each reads and requires, and bad input."""

from __future__ import annotations

import asyncpg
import httpx

from tests import factories as f


async def test_the_six_stages_come_with_the_default_table(api: httpx.AsyncClient) -> None:
    body = (await api.get("/v1/stages")).json()
    assert [(s["code"], s["role"], s["reads"], s["requires"]) for s in body["items"]] == [
        ("purchasing", "purchasing", 9, 4),
        ("warehousing", "warehouse", 5, 1),
        ("listing", "listing", 8, 5),
        ("marketing", "marketing", 9, 2),
        ("service", "service", 7, 1),
        ("finance", "finance", 7, 3),
    ]
    fields = {f["code"]: (f["per_sku"], f["requirable"]) for f in body["fields"]}
    assert fields["barcode"] == (True, True)
    assert fields["margin"] == (False, False)


async def test_a_stage_needs_list_items_in_order_with_their_kind(api: httpx.AsyncClient) -> None:
    body = (await api.get("/v1/stages/listing/needs")).json()
    assert body["stage"] == "listing"
    assert body["role"] == "listing"
    assert body["labels"] == {"zh-CN": "上架", "en": "Listing"}
    assert [(n["item"], n["required"]) for n in body["needs"]] == [
        ("labels", True),
        ("description", True),
        ("images", True),
        ("selling_points", True),
        ("public_attributes", False),
        ("sale_price", True),
        ("category_path", False),
        ("in_stock", False),
    ]
    assert body["needs"][5] == {
        "item": "sale_price",
        "kind": "field",
        "labels": {"zh-CN": "销售价", "en": "Sale price"},
        "required": True,
        "per_sku": True,
    }


async def test_attributes_can_be_read_and_required_by_a_stage(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await f.attribute(conn, "weight", "measurement", validation={"unit_family": "mass"})
    r = await api.put(
        "/v1/stages/warehousing/needs", json={"reads": ["skus", "barcode", "weight"], "requires": ["barcode", "weight"]}
    )
    assert r.status_code == 200, r.text
    assert [(n["item"], n["kind"], n["required"]) for n in r.json()["needs"]] == [
        ("skus", "field", False),
        ("barcode", "field", True),
        ("weight", "attribute", True),
    ]
    deleted = await api.delete("/v1/attributes/weight")
    assert deleted.status_code == 409
    assert deleted.json()["code"] == "still-referenced"


async def test_bad_needs_are_refused_with_every_reason_and_change_nothing(api: httpx.AsyncClient) -> None:
    before = (await api.get("/v1/stages/finance/needs")).json()
    r = await api.put(
        "/v1/stages/finance/needs",
        json={
            "reads": ["sale_price", "nonsense", "sale_price", "margin"],
            "requires": ["cost_price", "margin", "sale_price"],
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "/reads/1",
            "code": "unknown_item",
            "message": "`nonsense` is neither a built-in field nor an attribute.",
        },
        {"pointer": "/reads/2", "code": "duplicate_item", "message": "`sale_price` is listed twice."},
        {
            "pointer": "/requires/0",
            "code": "not_read",
            "message": "`cost_price` is required but not read; add it to `reads`.",
        },
        {
            "pointer": "/requires/1",
            "code": "not_requirable",
            "message": "`margin` is derived; a stage can read it but not require it.",
        },
    ]
    assert (await api.get("/v1/stages/finance/needs")).json() == before


async def test_an_unknown_stage_is_a_404(api: httpx.AsyncClient) -> None:
    for r in (
        await api.get("/v1/stages/shipping/needs"),
        await api.put("/v1/stages/shipping/needs", json={"reads": []}),
    ):
        assert r.status_code == 404
        assert r.json()["code"] == "stage-not-found"
        assert r.json()["detail"].startswith("'shipping' is not a stage")


async def test_an_attribute_cannot_take_the_name_of_a_built_in_item(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/attributes", json={"code": "barcode", "type": "text"})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "pointer": "/code",
            "code": "reserved_code",
            "message": "`barcode` names a built-in information item; choose another code.",
        }
    ]


async def test_only_admin_changes_the_needs(as_role: object) -> None:
    async with as_role("listing") as client:  # type: ignore[operator]
        r = await client.put("/v1/stages/listing/needs", json={"reads": []})
    assert r.status_code == 403
