"""The edge (api/edge.py): every answer — a route's, a fast lane's, a problem, a 404, the docs, /metrics — carries
the security headers once and its request id; headers too large are a 431; one access line per request."""

from __future__ import annotations

import json
import logging
from typing import Any

import asyncpg
import httpx
import pytest

from api.app import asgi_app
from api.logs import JsonFormatter, TextFormatter
from api.settings import Settings
from tests import stockbed
from tests import storefront_catalog as shop
from tests.conftest import KEYS, UNLIMITED, client_for

SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def secured_once(r: httpx.Response) -> None:
    for name, value in SECURITY.items():
        assert r.headers.get_list(name) == [value], (name, r.status_code, r.request.url)
    assert len(r.headers.get_list("x-request-id")) == 1


async def test_every_family_of_answers_carries_the_security_headers_and_a_request_id(
    app: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    lanes = app.app
    async with client_for(app) as admin, client_for(app, "storefront") as store, client_for(app, None) as anonymous:
        served = lanes.served
        by_lane = [
            await admin.get("/v1/products/peony"),
            await admin.post(
                "/v1/stock/movements",
                json={"type": "receive", "sku": "PEONY-1", "qty": 1, "warehouse": "hz", "location": "A-1"},
            ),
            await store.get("/v1/storefront/products/peony"),
        ]
        assert lanes.served == served + 3, "the fast lanes answered these themselves"
        tag = by_lane[0].headers["etag"]
        answers = [
            *by_lane,
            await admin.get("/v1/products/peony", headers={"If-None-Match": tag}),  # a lane's 304
            await admin.get("/v1/category-trees"),  # a route
            await admin.get("/v1/category-trees/nope"),  # a domain problem
            await admin.get("/v1/nothing-here"),  # no route: the framework's 404
            await admin.request("TRACE", "/v1/category-trees"),  # 405
            await admin.post("/v1/category-trees", content=b"{", headers={"Content-Type": "application/json"}),
            await anonymous.get("/v1/products/peony"),  # 401 (the lane hands it to the route)
            await store.get("/v1/products/peony"),  # 403
            await admin.get("/v1/products/a%00"),  # the guard's 400
            await admin.get("/v1/products/" + "x" * 9000),  # 414
            await admin.get("/v1/products/peony", headers={"X-Padding": "x" * 20_000}),  # 431
            await admin.get("/metrics"),
            await anonymous.get("/healthz"),
            await anonymous.get("/readyz"),
            await anonymous.get("/schema/swagger"),
            await anonymous.get("/schema/openapi.json"),
            await anonymous.get("/schema/assets/swagger-ui.css"),
            await anonymous.options("/v1/category-trees"),
        ]
    statuses = [r.status_code for r in answers]
    assert statuses == [200, 201, 200, 304, 200, 404, 404, 405, 400, 401, 403, 400, 414, 431, *[200] * 6, 204]
    for r in answers:
        secured_once(r)


async def test_a_sane_request_id_is_echoed_and_named_in_a_problem(api: httpx.AsyncClient) -> None:
    given = "req-2026.11.30:abc/DEF+1=@_"
    r = await api.get("/v1/category-trees/nope", headers={"X-Request-ID": given})
    assert r.headers["x-request-id"] == given
    # (tests/conftest.py's hook has checked the body's `request_id` against the header and taken it out)
    assert r.json()["code"] == "category-tree-not-found"


async def test_a_problem_body_names_the_request_id(app: Any, conn: asyncpg.Connection) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
        routed = await raw.get("/v1/category-trees", headers={"X-Request-ID": "abc-123"})
        guarded = await raw.get("/v1/products/%FF", headers={"X-Request-ID": "abc-124"})
        refused = await raw.get("/healthz", headers={"X-Request-ID": "abc-125", "X-Padding": "x" * 20_000})
    assert routed.status_code == 401 and routed.json()["request_id"] == "abc-123"
    assert guarded.status_code == 400 and guarded.json()["request_id"] == "abc-124"
    assert refused.status_code == 431
    assert refused.json() == {
        "type": "/problems/request-header-fields-too-large",
        "title": "Request header fields too large",
        "status": 431,
        "detail": "The request's headers are 20,147 bytes together; at most 16,384 are taken.",
        "code": "request-header-fields-too-large",
        "request_id": "abc-125",
    }


@pytest.mark.parametrize("given", ["", "x" * 129, "two words", "naïve", "a\tb", "<script>"])
async def test_an_unusable_request_id_is_replaced_by_a_new_one(api: httpx.AsyncClient, given: str) -> None:
    r = await api.get("/healthz", headers={"X-Request-ID": given.encode("utf-8")})  # type: ignore[dict-item]
    assert r.headers["x-request-id"] != given
    assert len(r.headers["x-request-id"]) == 19  # 12 hex digits of the process, `-`, a counter


async def test_requests_without_an_id_get_different_ones_and_fast_lanes_echo_theirs(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    ids = {(await api.get("/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    r = await api.get("/v1/products/scarf", headers={"X-Request-ID": "scan-7"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "scan-7"


async def test_the_header_limit_is_the_setting_and_counts_the_whole_block(shared_pool: Any, conn: Any) -> None:
    app = asgi_app(Settings(MERCH_MAX_HEADER_BYTES=2048, **UNLIMITED), pool=shared_pool)  # type: ignore[call-arg]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
        # httpx sends host, accept, accept-encoding, connection, user-agent besides: about 120 bytes
        fits = await raw.get("/healthz", headers={"X-Padding": "x" * 1800})
        many = await raw.get("/healthz", headers=[(f"x-h{i}", "y" * 40) for i in range(45)])
    assert fits.status_code == 200
    assert many.status_code == 431 and many.json()["code"] == "request-header-fields-too-large"


async def test_one_access_line_per_request_names_the_route_the_key_and_the_request_id(
    app: Any, conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    await stockbed.build(conn)
    with caplog.at_level(logging.INFO, logger="merchflow.access"):
        async with client_for(app, "warehouse") as scanner, client_for(app, None) as anonymous:
            await scanner.get("/v1/products/scarf", headers={"X-Request-ID": "lane-1"})  # a fast lane
            await scanner.get("/v1/stock?sku=S-RED", headers={"X-Request-ID": "route-1"})
            await anonymous.get("/v1/nothing", headers={"X-Request-ID": "none-1"})
    records = [r for r in caplog.records if r.name == "merchflow.access"]
    assert len(records) == 3
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    for line in lines:
        assert line.pop("time").endswith("+00:00")
        assert 0 < line.pop("duration_ms") < 5000
    assert lines == [
        {
            "level": "info",
            "logger": "merchflow.access",
            "message": "GET /v1/products/{code} 200",
            "request_id": "lane-1",
            "method": "GET",
            "route": "/v1/products/{code}",
            "path": "/v1/products/scarf",
            "status": 200,
            "key": "test-warehouse",
        },
        {
            "level": "info",
            "logger": "merchflow.access",
            "message": "GET /v1/stock 200",
            "request_id": "route-1",
            "method": "GET",
            "route": "/v1/stock",
            "path": "/v1/stock",
            "status": 200,
            "key": "test-warehouse",
        },
        {
            "level": "info",
            "logger": "merchflow.access",
            "message": "GET unmatched 404",
            "request_id": "none-1",
            "method": "GET",
            "route": "unmatched",
            "path": "/v1/nothing",
            "status": 404,
            "key": None,
        },
    ]
    assert not any(KEYS["warehouse"] in JsonFormatter().format(r) for r in records), "never the secret"
    text = TextFormatter().format(records[0])
    assert text.endswith("merchflow.access: GET /v1/products/{code} 200 [request_id=lane-1 path=/v1/products/scarf "
                         f"duration_ms={records[0].duration_ms} key=test-warehouse]")  # fmt: skip


def test_the_log_format_is_json_or_text() -> None:
    assert Settings().log_format == "json"
    assert Settings(MERCH_LOG_FORMAT="text").log_format == "text"  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="MERCH_LOG_FORMAT"):
        Settings(MERCH_LOG_FORMAT="xml")  # type: ignore[call-arg]
