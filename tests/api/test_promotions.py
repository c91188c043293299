"""Promotions (活动) over HTTP, and the price a shopper pays: the lowest of the sale price in force and the
promotions running then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from domain.money import Money
from domain.promotions.service import shopper_price
from tests import factories as f
from tests.prices import history

URL = "/v1/promotions"


@pytest.fixture
async def skus(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "p1", "scarves")
    await f.sku(conn, "S1", "p1", axes={"size": "s"})
    await f.sku(conn, "S2", "p1", axes={"size": "m"})
    await f.sku(conn, "S3", "p1", axes={"size": "l"})


def body(code: str = "spring", **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "labels": {"zh-CN": "春季活动", "en": "Spring sale"},
        "starts_at": "2025-03-01T00:00:00+08:00",
        "ends_at": "2025-03-08T00:00:00+08:00",
        "items": [{"sku": "S2", "price": {"amount": "99.90", "currency": "CNY"}}, item("S1", "109")],
        **fields,
    }


def item(sku: str, amount: str, currency: str = "CNY") -> dict[str, Any]:
    return {"sku": sku, "price": {"amount": amount, "currency": currency}}


def answer(r: httpx.Response) -> dict[str, Any]:
    data: dict[str, Any] = r.json()
    data.pop("created_at")
    data.pop("updated_at")
    return data


SPRING = {
    "code": "spring",
    "labels": {"zh-CN": "春季活动", "en": "Spring sale"},
    "starts_at": "2025-02-28T16:00:00Z",
    "ends_at": "2025-03-07T16:00:00Z",
    "active": True,
    "items": [item("S1", "109.00"), item("S2", "99.90")],
    "version": 1,
}


async def test_creating_a_promotion_answers_201_with_location_etag_and_utc_dates(
    api: httpx.AsyncClient, skus: None
) -> None:
    r = await api.post(URL, json=body())
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/promotions/spring"
    assert r.headers["etag"] == '"1"'
    assert answer(r) == SPRING
    r = await api.get(f"{URL}/spring")
    assert answer(r) == SPRING
    assert (await api.get(f"{URL}/spring", headers={"If-None-Match": '"1"'})).status_code == 304
    audit = (await api.get("/v1/audit", params={"entity": "promotion", "code": "spring"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("create", 1)]


async def test_a_taken_code_is_a_409(api: httpx.AsyncClient, skus: None) -> None:
    await api.post(URL, json=body())
    r = await api.post(URL, json=body())
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/promotion-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "A promotion with the code 'spring' exists already.",
        "code": "promotion-exists",
        "instance": URL,
    }


async def test_reversed_or_equal_dates_are_a_422(api: httpx.AsyncClient, skus: None) -> None:
    for ends_at in ("2025-02-28T16:00:00Z", "2025-02-01T00:00:00Z"):
        r = await api.post(URL, json=body(ends_at=ends_at))
        assert r.status_code == 422
        message = "The promotion dates are reversed: `ends_at` must be after `starts_at`."
        assert r.json() == {
            "type": "/problems/validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": message,
            "code": "validation-failed",
            "instance": URL,
            "errors": [{"pointer": "/ends_at", "code": "dates_reversed", "message": message}],
        }
    assert (await api.get(URL)).json() == {"items": [], "next_cursor": None}


async def test_unknown_and_repeated_skus_and_bad_prices_are_each_named(api: httpx.AsyncClient, skus: None) -> None:
    items = [item("S1", "10.00"), item("NOPE", "1.00"), item("S1", "9.00"), item("S2", "-1.00"), item("S3", "1.001")]
    r = await api.post(URL, json=body(items=items))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"pointer": "/items/1/sku", "code": "not_found", "message": "No SKU has the code 'NOPE'."},
        {"pointer": "/items/2/sku", "code": "duplicate", "message": "SKU 'S1' is listed twice."},
        {"pointer": "/items/3/price/amount", "code": "negative_amount", "message": "The amount cannot be negative."},
        {
            "pointer": "/items/4/price/amount",
            "code": "too_many_decimals",
            "message": "CNY takes at most 2 decimal places here.",
        },
    ]
    r = await api.post(URL, json=body(items=[{"sku": "S1", "price": {"amount": 9.5, "currency": "CNY"}}]))
    assert r.json()["errors"] == [
        {"pointer": "/items/0/price/amount", "code": "wrong_type", "message": "Expected `str`, got `float`."}
    ]
    r = await api.post(URL, json=body(items=[item("S1", "9.50", "XYZ")]))
    assert r.json()["errors"] == [
        {
            "pointer": "/items/0/price/currency",
            "code": "unknown_currency",
            "message": "XYZ is not an ISO 4217 currency merchflow knows.",
        }
    ]


async def test_put_creates_then_replaces_and_a_no_op_put_keeps_the_version(api: httpx.AsyncClient, skus: None) -> None:
    fields = body()
    del fields["code"]
    r = await api.put(f"{URL}/spring", json=fields)
    assert r.status_code == 201
    assert r.headers["location"] == "/v1/promotions/spring"
    # The same content in another offset and with an amount written differently changes nothing.
    same = {
        **fields,
        "starts_at": "2025-02-28T16:00:00Z",
        "items": [item("S1", "109.00"), item("S2", "99.9")],
    }
    r = await api.put(f"{URL}/spring", json=same)
    assert r.status_code == 200
    assert answer(r) == SPRING
    r = await api.put(f"{URL}/spring", json={**fields, "active": False, "items": [item("S3", "5.00")]})
    assert r.status_code == 200
    assert answer(r) == {**SPRING, "active": False, "items": [item("S3", "5.00")], "version": 2}
    audit = (await api.get("/v1/audit", params={"entity": "promotion", "code": "spring"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("update", 2), ("create", 1)]
    assert audit[0]["changes"] == {
        "active": {"before": True, "after": False},
        "items": {"before": SPRING["items"], "after": [item("S3", "5.00")]},
    }


async def test_merge_patch_replaces_the_items_and_keeps_the_rest(api: httpx.AsyncClient, skus: None) -> None:
    await api.post(URL, json=body())
    r = await api.patch(
        f"{URL}/spring", json={"labels": {"en": None}, "items": [item("S3", "7.50")]}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert answer(r) == {**SPRING, "labels": {"zh-CN": "春季活动"}, "items": [item("S3", "7.50")], "version": 2}
    r = await api.patch(f"{URL}/spring", json={"ends_at": "2025-02-01T00:00:00Z"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/ends_at"


async def test_a_stale_if_match_is_412_and_changes_nothing(api: httpx.AsyncClient, skus: None) -> None:
    await api.post(URL, json=body())
    r = await api.patch(f"{URL}/spring", json={"active": False}, headers={"If-Match": '"7"'})
    assert r.status_code == 412
    assert r.json() == {
        "type": "/problems/version-mismatch",
        "title": "Precondition failed",
        "status": 412,
        "detail": "Promotion 'spring' is at version 1, not 7: it changed since you read it.",
        "code": "version-mismatch",
        "instance": "/v1/promotions/spring",
        "context": {"current_version": 1},
    }
    assert (await api.delete(f"{URL}/spring", headers={"If-Match": '"7"'})).status_code == 412
    assert answer(await api.get(f"{URL}/spring")) == SPRING


async def test_deleting_a_promotion_removes_it_and_is_audited(api: httpx.AsyncClient, skus: None) -> None:
    await api.post(URL, json=body())
    assert (await api.delete(f"{URL}/spring")).status_code == 204
    r = await api.get(f"{URL}/spring")
    assert r.status_code == 404
    assert r.json()["code"] == "promotion-not-found"
    assert (await api.delete(f"{URL}/spring")).status_code == 404
    audit = (await api.get("/v1/audit", params={"entity": "promotion", "code": "spring"})).json()["items"]
    assert [e["action"] for e in audit] == ["delete", "create"]


async def test_the_list_pages_by_code_and_filters_by_the_moment(api: httpx.AsyncClient, skus: None) -> None:
    await api.post(URL, json=body("c-later", starts_at="2025-04-01T00:00:00Z", ends_at="2025-05-01T00:00:00Z"))
    await api.post(URL, json=body("a-march", starts_at="2025-03-01T00:00:00Z", ends_at="2025-04-01T00:00:00Z"))
    await api.post(URL, json=body("b-off", starts_at="2025-03-01T00:00:00Z", ends_at="2025-04-01T00:00:00Z"))
    await api.patch(f"{URL}/b-off", json={"active": False})
    page = (await api.get(URL, params={"limit": 2})).json()
    assert [p["code"] for p in page["items"]] == ["a-march", "b-off"]
    page = (await api.get(URL, params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [p["code"] for p in page["items"]] == ["c-later"]
    assert page["next_cursor"] is None

    async def running(moment: str) -> list[str]:
        r = await api.get(URL, params={"active_at": moment})
        assert r.status_code == 200, r.text
        return [p["code"] for p in r.json()["items"]]

    assert await running("2025-03-01T07:59:59+08:00") == []
    assert await running("2025-03-01T08:00:00+08:00") == ["a-march"]
    assert await running("2025-04-01T00:00:00Z") == ["c-later"]
    assert await running("2025-05-01T00:00:00Z") == []
    r = await api.get(URL, params={"active_at": "soon"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {
            "parameter": "active_at",
            "code": "invalid_moment",
            "message": "`active_at` must be an RFC 3339 moment with an offset, e.g. 2025-03-01T00:00:00+08:00.",
        }
    ]


async def test_marketing_writes_promotions_and_the_other_stages_only_read_them(as_role: Any, skus: None) -> None:
    async with as_role("marketing") as client:
        assert (await client.post(URL, json=body())).status_code == 201
    for role in ("purchasing", "listing", "service", "finance"):
        async with as_role(role) as client:
            assert (await client.get(f"{URL}/spring")).status_code == 200
            assert (await client.patch(f"{URL}/spring", json={"active": False})).status_code == 403
    for role in ("warehouse", "storefront"):
        async with as_role(role) as client:
            assert (await client.get(URL)).status_code == 403


async def test_the_shopper_pays_the_lowest_of_the_sale_price_and_the_running_promotions(
    conn: asyncpg.Connection, api: httpx.AsyncClient, skus: None
) -> None:
    for sku, amount in (("S1", "129.00"), ("S2", "99.90")):
        await history(api, sku, "sale", amount, "2025-01-01T00:00:00Z")
    march = {"starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-04-01T00:00:00Z"}
    promotions = [
        body("a", items=[item("S1", "119.90"), item("S2", "99.91")], **march),
        body("b", items=[item("S1", "109.99")], **march),
        body("c", items=[item("S1", "109.98")], active=False, **march),
        body("d", items=[item("S1", "1.00", "USD")], **march),
        body(
            "e",
            items=[item("S1", "0.01"), item("S3", "0.01")],
            starts_at="2025-02-01T00:00:00Z",
            ends_at="2025-03-01T00:00:00Z",
        ),
        body("f", items=[item("S2", "99.90")], **march),
    ]
    for promotion in promotions:
        r = await api.post(URL, json=promotion)
        assert r.status_code == 201, r.text
    ids = {r["sku"]: r["id"] for r in await conn.fetch("SELECT id, sku FROM skus")}
    found = await shopper_price(conn, list(ids.values()), datetime(2025, 3, 1, tzinfo=UTC))
    # S1: promotion b beats a, the inactive c, the USD d and e that ended; S2: the sale price wins a tie with f;
    # S3 has no sale price.
    assert found == {
        ids["S1"]: (Money(amount="109.99", currency="CNY"), "promotion:b"),
        ids["S2"]: (Money(amount="99.90", currency="CNY"), "sale"),
    }
    found = await shopper_price(conn, [ids["S1"]], datetime(2025, 2, 28, 23, 59, 59, tzinfo=UTC))
    assert found == {ids["S1"]: (Money(amount="0.01", currency="CNY"), "promotion:e")}
    assert await shopper_price(conn, [ids["S1"]], datetime(2025, 3, 1, tzinfo=UTC), currency="USD") == {}
    assert await shopper_price(conn, [], datetime(2025, 3, 1, tzinfo=UTC)) == {}


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"), ("2026-01-01T00:00:00Z", "9999-12-31T00:00:00Z")],
)
async def test_a_promotion_outside_the_years_2000_to_9000_is_a_422_and_the_roi_report_stays_whole(
    api: httpx.AsyncClient, starts_at: str, ends_at: str
) -> None:
    """A promotion of 0001-01-01 was taken, and GET /v1/reports/promotion-roi (whose baseline reaches back
    before the promotion starts) answered every later request with a 500."""
    r = await api.post("/v1/promotions", json={"code": "ancient", "starts_at": starts_at, "ends_at": ends_at})
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert {e["code"] for e in errors} == {"out_of_range"} and errors[-1]["pointer"] == "/ends_at"
    assert {e["message"] for e in errors} == {"A promotion runs between 2000-01-01 and 9000-01-01."}
    assert (await api.get("/v1/reports/promotion-roi")).status_code == 200
