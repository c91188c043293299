"""The fast lane (api/fastlane.py) answers exactly what the framework's route answers, and hands everything
off its happy path to that route."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from api.app import asgi_app
from api.edge import Edge
from api.settings import Settings
from tests import factories as f
from tests import stockbed
from tests import storefront_catalog as shop
from tests.conftest import KEYS, UNLIMITED
from tests.stockbed import move

SETTINGS: dict[str, Any] = {"MERCH_KEY_CACHE_SECONDS": 0, **UNLIMITED}
# Both apps are asked with the same request id: their answers are then the same, header by header.
SAME_ID = {"X-Request-ID": "lane-or-route"}


@pytest.fixture(scope="module")
def framework(shared_pool: Any) -> Any:
    """The same app without its fast lane (its edge included)."""
    return asgi_app(Settings(**SETTINGS), pool=shared_pool, lanes=False)


@pytest.fixture(scope="module")
def lane(shared_pool: Any) -> Edge:
    return asgi_app(Settings(**SETTINGS), pool=shared_pool)


async def post(app: Any, body: Any, role: str | None = "warehouse", **headers: str) -> httpx.Response:
    sent = {"Authorization": f"Bearer {KEYS[role]}"} if role else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        return await http.post("/v1/stock/movements", json=body, headers={**SAME_ID, **sent, **headers})


def same(a: httpx.Response, b: httpx.Response) -> None:
    """Same status, headers and body."""
    assert a.status_code == b.status_code
    assert dict(a.headers.items()) == dict(b.headers.items())
    assert a.json() == b.json()


async def test_the_lane_answers_what_the_route_answers(framework: Any, lane: Edge, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    await post(framework, move("receive", 10))
    served = lane.app.served
    by_lane = await post(lane, move("pick", 2), **{"Idempotency-Key": "lane-1"})
    by_route = await post(framework, move("pick", 2), **{"Idempotency-Key": "route-1"})
    assert lane.app.served == served + 1
    assert by_lane.status_code == 201 and by_lane.json()["movements"][0]["on_hand"] == 8
    assert by_route.json()["movements"][0]["on_hand"] == 6
    by_route_json = by_route.json()
    by_route_json["movements"][0].update(on_hand=8, available=8)
    assert by_lane.json() | {"request": 0} == by_route_json | {"request": 0}
    assert {k: v for k, v in by_lane.headers.items()} == {k: v for k, v in by_route.headers.items()}

    # A retry: replayed, with the header saying so, from either.
    replay_lane = await post(lane, move("pick", 2), **{"Idempotency-Key": "lane-1"})
    replay_route = await post(framework, move("pick", 2), **{"Idempotency-Key": "lane-1"})
    assert lane.app.served == served + 2
    same(replay_lane, replay_route)
    assert replay_lane.headers["idempotency-replayed"] == "true"
    assert replay_lane.json() == by_lane.json() | {"replayed": True}


@pytest.mark.parametrize(
    ("body", "role", "headers", "status"),
    [
        (move("pick", 1), None, {}, 401),  # no key
        (move("pick", 1), "storefront", {}, 403),  # a role the route does not allow
        (move("pick", 99), "warehouse", {}, 409),  # refused by the domain: more than there is
        (move("pick", 1, sku="NOPE"), "warehouse", {}, 422),  # refused by the domain: unknown SKU
        ({"type": "pick"}, "warehouse", {}, 422),  # a movement without its fields
        ({"type": "pick", "qty": "two"}, "warehouse", {}, 422),  # does not decode as a movement
        (move("pick", 1), "warehouse", {"Idempotency-Key": "x" * 201}, 400),  # an invalid key
    ],
)
async def test_everything_off_the_happy_path_is_answered_by_the_route(
    framework: Any,
    lane: Edge,
    conn: asyncpg.Connection,
    body: Any,
    role: str | None,
    headers: dict[str, str],
    status: int,
) -> None:
    await stockbed.build(conn)
    await post(framework, move("receive", 10))
    served = lane.app.served
    by_lane, by_route = await post(lane, body, role, **headers), await post(framework, body, role, **headers)
    assert lane.app.served == served
    assert by_lane.status_code == status, by_lane.text
    assert by_lane.headers["content-type"] == "application/problem+json"
    same(by_lane, by_route)


async def test_a_body_not_declared_as_json_is_the_routes_to_answer(
    framework: Any, lane: Edge, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    served = lane.app.served
    answers = []
    for app in (lane, framework):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            answers.append(
                await http.post(
                    "/v1/stock/movements",
                    content=b'{"type": "receive"}',
                    headers={**SAME_ID, "Authorization": f"Bearer {KEYS['warehouse']}", "Content-Type": "text/plain"},
                )
            )
    assert lane.app.served == served
    assert answers[0].headers["content-type"] == "application/problem+json"
    same(*answers)


async def get(app: Any, path: str, role: str | None = "warehouse", **headers: str) -> httpx.Response:
    sent = {"Authorization": f"Bearer {KEYS[role]}"} if role else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        return await http.get(path, headers={**SAME_ID, **sent, **headers})


async def served_alike(framework: Any, lane: Edge, path: str, headers: dict[str, str]) -> httpx.Response:
    """The lane serves `path` with the route's status 200, headers and bytes, then a 304 to its ETag with the
    route's headers: its answer."""
    served = lane.app.served
    by_lane, by_route = (
        await get(lane, path, "storefront", **headers),
        await get(framework, path, "storefront", **headers),
    )
    assert lane.app.served == served + 1
    assert by_lane.status_code == 200, by_lane.text
    same(by_lane, by_route)
    assert by_lane.content == by_route.content
    tag = by_lane.headers["etag"]
    current = await get(lane, path, "storefront", **headers, **{"If-None-Match": tag})
    assert lane.app.served == served + 2
    assert current.status_code == 304 and current.content == b""
    assert dict(current.headers) == dict(
        (await get(framework, path, "storefront", **headers, **{"If-None-Match": tag})).headers
    )
    return by_lane


async def product(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.attribute(conn, "colour", "text")
    await f.attribute(conn, "supplier-notes", "text", visibility="confidential")
    await f.bind(conn, "scarves", "colour")
    await f.bind(conn, "scarves", "supplier-notes")
    await f.product(conn, "sq-1", "scarves", attributes={"colour": "red", "supplier-notes": "3% off"})


@pytest.mark.parametrize("role", ["admin", "warehouse"])
async def test_a_product_from_the_lane_is_the_routes_product_with_its_etag_and_304(
    framework: Any, lane: Edge, conn: asyncpg.Connection, role: str
) -> None:
    await product(conn)
    served = lane.app.served
    by_lane, by_route = await get(lane, "/v1/products/sq-1", role), await get(framework, "/v1/products/sq-1", role)
    assert lane.app.served == served + 1
    assert by_lane.status_code == 200
    same(by_lane, by_route)
    assert ("supplier-notes" in by_lane.json()["attributes"]) is (role == "admin")
    tag = by_lane.headers["etag"]
    current = await get(lane, "/v1/products/sq-1", role, **{"If-None-Match": tag})
    assert lane.app.served == served + 2
    assert current.status_code == 304 and current.content == b"" and current.headers["etag"] == tag
    assert dict(current.headers) == dict(
        (await get(framework, "/v1/products/sq-1", role, **{"If-None-Match": tag})).headers
    )


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("/v1/products/nope", "warehouse", 404),  # the domain's refusal
        ("/v1/products/sq-1", "storefront", 403),  # a role the route does not allow
        ("/v1/products/sq-1", None, 401),
        ("/v1/products/sq-1?x=1", "warehouse", 400),  # a query string: the framework judges it (no `x`)
        ("/v1/products/sq-1/", "warehouse", 200),  # a path the framework normalises
    ],
)
async def test_products_off_the_happy_path_are_answered_by_the_route(
    framework: Any, lane: Edge, conn: asyncpg.Connection, path: str, role: str | None, status: int
) -> None:
    await product(conn)
    served = lane.app.served
    by_lane, by_route = await get(lane, path, role), await get(framework, path, role)
    assert lane.app.served == served
    assert by_lane.status_code == status, by_lane.text
    same(by_lane, by_route)


@pytest.mark.parametrize("accept", [None, "en-GB, zh;q=0.5", "fr"])
async def test_a_storefront_page_from_the_lane_is_the_routes_page_with_its_etag_and_304(
    framework: Any, lane: Edge, conn: asyncpg.Connection, accept: str | None
) -> None:
    await shop.shop(conn)
    headers = {"Accept-Language": accept} if accept else {}
    path = "/v1/storefront/products/peony"
    by_lane = await served_alike(framework, lane, path, headers)
    assert by_lane.headers["content-language"] == ("en" if accept and accept.startswith("en") else "zh-CN")


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("/v1/storefront/products/lotus", "storefront", 404),  # a draft: the domain's refusal
        ("/v1/storefront/products/peony", None, 401),
        ("/v1/storefront/products/peony?locale=en", "storefront", 200),  # a query string: the route's
    ],
)
async def test_storefront_pages_off_the_happy_path_are_answered_by_the_route(
    framework: Any, lane: Edge, conn: asyncpg.Connection, path: str, role: str | None, status: int
) -> None:
    await shop.shop(conn)
    served = lane.app.served
    by_lane, by_route = await get(lane, path, role), await get(framework, path, role)
    assert lane.app.served == served
    assert by_lane.status_code == status, by_lane.text
    same(by_lane, by_route)


async def test_a_movement_with_a_nul_character_is_the_routes_400(
    framework: Any, lane: Edge, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    body = {**move("receive", 1), "reference": "PO-\u0000-1"}
    served = lane.app.served
    by_lane, by_route = await post(lane, body), await post(framework, body)
    assert lane.app.served == served
    assert by_lane.status_code == 400 and by_lane.json()["code"] == "malformed-json"
    same(by_lane, by_route)


async def test_an_unexpected_error_in_a_read_lane_is_the_routes_problem(
    lane: Edge, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that fails off its happy path (here: any error) is run again by the route, whose handlers answer
    a problem with the security headers — never the server's bare 500."""
    await product(conn)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("domain.products.service.get_product", broken)
    r = await get(lane, "/v1/products/sq-1")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "internal-error" and "boom" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_an_unexpected_error_in_the_write_lane_is_a_problem_and_runs_nothing_twice(
    lane: Edge, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await stockbed.build(conn)
    calls = 0

    async def broken(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    monkeypatch.setattr("domain.stock.service.MovementWriter.post", broken)
    r = await post(lane, move("receive", 3))
    assert r.status_code == 500 and calls == 1
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "internal-error" and "boom" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


LIST = "/v1/storefront/products"


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("category=scarves", None),
        ("category=scarves&filter=color:navy,red&filter=material:silk", None),
        ("category=scarves&filter=color%3Anavy&filter=width:600..800mm&sort=price_desc&in_stock=false", "en"),
        ("category=accessories&filter=organic:true&sort=price_asc&limit=1&locale=en", None),
        ("category=scarves&price=100..200&role=routine&series=silk-series&sort=newest", "fr, en;q=0.5"),
        ("category=web-gifts&sort=best_selling&in_stock=true", None),
        ("sort=position&limit=2&category=scarves", "zh"),
        ("category=scarves&price=000000000000100.000000..00000000200.0000", None),  # at the route's 40 characters
    ],
)
async def test_a_category_page_from_the_lane_is_the_routes_page_with_its_etag_and_304(
    framework: Any, lane: Edge, conn: asyncpg.Connection, query: str, accept: str | None
) -> None:
    await shop.shop(conn)
    headers = {"Accept-Language": accept} if accept else {}
    path = f"{LIST}?{query}"
    by_lane = await served_alike(framework, lane, path, headers)
    assert by_lane.json()["items"], "a page with cards"
    other = await get(lane, path, "storefront", **headers, **{"If-None-Match": '"0123456789abcdef01234567"'})
    assert other.status_code == 200 and other.content == by_lane.content


async def test_the_lanes_keyset_pages_are_the_routes(framework: Any, lane: Edge, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    served = lane.app.served
    for sort in ("position", "price_asc"):
        path, seen = f"{LIST}?category=scarves&limit=1&sort={sort}", []
        for _ in range(4):
            by_lane, by_route = await get(lane, path, "storefront"), await get(framework, path, "storefront")
            same(by_lane, by_route)
            assert by_lane.content == by_route.content
            page = by_lane.json()
            seen += [c["code"] for c in page["items"]]
            if page["next_cursor"] is None:
                break
            path = f"{LIST}?category=scarves&limit=1&sort={sort}&cursor={page['next_cursor']}"
        assert len(seen) == 3 and len(set(seen)) == 3
    assert lane.app.served == served + 6


async def test_a_price_change_changes_the_lanes_page_and_its_etag(lane: Edge, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    path = f"{LIST}?category=scarves&sort=price_asc"
    before = await get(lane, path, "storefront")
    await conn.execute(
        "UPDATE prices SET amount = 299 WHERE kind = 'sale' AND sku_id = (SELECT id FROM skus WHERE sku = 'CHECK-1')"
    )
    after = await get(lane, path, "storefront")
    assert [c["code"] for c in before.json()["items"]] == ["check", "wave", "peony"]
    assert [c["code"] for c in after.json()["items"]] == ["wave", "peony", "check"]
    assert after.headers["etag"] != before.headers["etag"]
    stale = await get(lane, path, "storefront", **{"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200 and stale.content == after.content


@pytest.mark.parametrize(
    ("query", "role", "status"),
    [
        ("category=scarves", None, 401),
        ("category=nope", "storefront", 400),  # the domain's refusal
        ("category=scarves&filter=color:purple", "storefront", 400),
        ("category=scarves&filter=care:x", "storefront", 400),  # not a filter
        ("category=scarves&cursor=%25%25%25", "storefront", 400),
        ("category=scarves&x=1", "storefront", 400),  # a parameter the route does not take
        ("category=scarves&category=bags", "storefront", 400),  # given twice
        ("category=scarves&sort=cheapest", "storefront", 400),
        ("category=scarves&limit=0", "storefront", 400),
        ("category=scarves&limit=101", "storefront", 400),
        ("category=scarves&limit=050", "storefront", 400),  # (the framework reads numbers strictly)
        ("category=scarves&limit=null", "storefront", 400),
        ("category=scarves&in_stock=1", "storefront", 200),  # read by the framework
        ("category=scarves&in_stock=maybe", "storefront", 400),
        ("category=scarves&price=", "storefront", 400),
        ("filter=color:red", "storefront", 400),  # no category
        (f"category={'x' * 65}", "storefront", 400),
        ("category=scarves&price=100000000000000.000000..200000000000000.000000", "storefront", 400),  # > 40
        ("category=scarves&" + "&".join(["filter=color:red"] * 21), "storefront", 400),
    ],
)
async def test_category_pages_off_the_happy_path_are_answered_by_the_route(
    framework: Any, lane: Edge, conn: asyncpg.Connection, query: str, role: str | None, status: int
) -> None:
    await shop.shop(conn)
    served = lane.app.served
    path = f"{LIST}?{query}"
    by_lane, by_route = await get(lane, path, role), await get(framework, path, role)
    assert lane.app.served == served
    assert by_lane.status_code == status, by_lane.text
    same(by_lane, by_route)
    assert by_lane.content == by_route.content


async def test_a_category_page_from_a_browser_is_the_routes(
    framework: Any, lane: Edge, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    served = lane.app.served
    path = f"{LIST}?category=scarves"
    headers = {"Origin": "http://shop.example"}
    by_lane, by_route = (
        await get(lane, path, "storefront", **headers),
        await get(framework, path, "storefront", **headers),
    )
    assert lane.app.served == served
    same(by_lane, by_route)
