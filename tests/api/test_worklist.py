"""The completeness worklist: what is incomplete where, with counts per stage and per category."""

from __future__ import annotations

import asyncpg
import httpx

from tests import factories as f
from tests import scenario


async def build(conn: asyncpg.Connection, api: httpx.AsyncClient) -> None:
    await scenario.build(conn, api)
    await f.category(conn, "home")
    await f.category(conn, "candles", parent="home")
    for code in ("c1", "c2", "c3"):
        body = scenario.product_body(code, category="candles", attributes={}, role="routine")
        assert (await api.post("/v1/products", json=body)).status_code == 201
    full = scenario.product_body(
        "p2", attributes={"material": "silk", "colour": "red", "width": {"value": "1", "unit": "m"}}
    )
    assert (await api.post("/v1/products", json=full)).status_code == 201


async def test_the_listing_worklist_names_each_incomplete_product_with_what_it_misses(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await build(conn, api)
    body = (await api.get("/v1/completeness", params={"stage": "listing"})).json()
    assert [i["product"] for i in body["items"]] == ["c1", "c2", "c3", "p1", "p2"]
    p1 = body["items"][3]
    assert (p1["category"], p1["role"], p1["lifecycle"]) == ("silk-squares", "destination", "draft")
    assert list(p1["stages"]) == ["listing"]
    assert p1["stages"]["listing"]["missing"][0] == {"item": "colour"}
    assert body["incomplete_by_stage"] == {
        "purchasing": 5,
        "warehousing": 5,
        "listing": 5,
        "marketing": 0,
        "service": 0,
        "finance": 5,
    }
    assert body["incomplete_by_category"] == [
        {
            "category": "accessories",
            "labels": {"en": "accessories"},
            "incomplete": {"finance": 2, "listing": 2, "purchasing": 2, "warehousing": 2},
        },
        {
            "category": "home",
            "labels": {"en": "home"},
            "incomplete": {"finance": 3, "listing": 3, "purchasing": 3, "warehousing": 3},
        },
    ]
    assert body["recomputing"] == []


async def test_filters_narrow_the_list_and_the_counts_drill_down(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await build(conn, api)
    body = (await api.get("/v1/completeness", params={"category": "accessories", "role": "destination"})).json()
    assert [i["product"] for i in body["items"]] == ["p1", "p2"]
    assert set(body["items"][0]["stages"]) == {"purchasing", "warehousing", "listing", "finance"}
    assert body["incomplete_by_category"] == [
        {
            "category": "scarves",
            "labels": {"en": "scarves"},
            "incomplete": {"finance": 2, "listing": 2, "purchasing": 2, "warehousing": 2},
        },
    ]


async def test_below_keeps_products_under_a_ratio(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await build(conn, api)
    # listing: p1 6/9, p2 7/9 (both lack sale prices), candles 5/7 (no attributes required there)
    body = (await api.get("/v1/completeness", params={"stage": "listing", "below": "0.7"})).json()
    assert [i["product"] for i in body["items"]] == ["p1"]
    assert body["items"][0]["stages"]["listing"]["ratio"] == 0.6667


async def test_the_worklist_pages_every_product_exactly_once(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await build(conn, api)
    seen, cursor = [], None
    while True:
        params = {"stage": "finance", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/completeness", params=params)).json()
        seen += [i["product"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["c1", "c2", "c3", "p1", "p2"]


async def test_bad_filters_are_400_problems_naming_the_parameter(api: httpx.AsyncClient) -> None:
    for params, parameter in (
        ({"stage": "shipping"}, "stage"),
        ({"category": "nowhere"}, "category"),
        ({"role": "hero"}, "role"),
        ({"below": "1.5"}, "below"),
        ({"below": "0"}, "below"),
    ):
        r = await api.get("/v1/completeness", params=params)
        assert r.status_code == 400, params
        assert r.json()["errors"][0]["parameter"] == parameter
