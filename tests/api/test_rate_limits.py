"""Per-key rate limits (api/limits.py): a token bucket per key, driven here by a clock the test moves by hand."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from api.app import asgi_app
from api.limits import Rate, RateLimiter
from api.settings import Settings
from tests import stockbed
from tests.conftest import client_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(shared_pool: Any, clock: Clock) -> Any:
    """2 requests a second in bursts of 3 for every key; finance 1 every 2 s; admin none."""
    settings = Settings(  # type: ignore[call-arg]
        MERCH_KEY_CACHE_SECONDS=0,
        MERCH_RATE_LIMIT=2,
        MERCH_RATE_LIMIT_BURST=3,
        MERCH_RATE_LIMIT_ROLES="admin:0,finance:0.5:1",
    )
    app = asgi_app(settings, pool=shared_pool)
    app.framework.state.limiter.clock = clock
    return app


async def test_a_key_gets_its_burst_then_a_429_problem_with_retry_after(
    limited: Any, clock: Clock, conn: asyncpg.Connection
) -> None:
    async with client_for(limited, "warehouse") as scanner:
        first = [await scanner.get("/v1/stock") for _ in range(3)]
        refused = await scanner.get("/v1/stock", headers={"X-Request-ID": "too-soon"})
        clock.now += 0.4  # 0.8 of a token: still none
        still = await scanner.get("/v1/stock")
        clock.now += 0.1  # one token
        again = await scanner.get("/v1/stock")
        refused_again = await scanner.get("/v1/stock")
    assert [r.status_code for r in first] == [200, 200, 200]
    assert [r.headers["ratelimit"] for r in first] == ['"per-key";r=2;t=1', '"per-key";r=1;t=1', '"per-key";r=0;t=2']
    assert first[0].headers["ratelimit-policy"] == '"per-key";q=3;w=2'
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["ratelimit"] == '"per-key";r=0;t=2'
    assert refused.headers["x-request-id"] == "too-soon"
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert refused.json() == {
        "type": "/problems/too-many-requests",
        "title": "Too many requests",
        "status": 429,
        "detail": "The key 'test-warehouse' may send 2 requests a second (bursts of 3); try again in 1 s.",
        "code": "too-many-requests",
        "instance": "/v1/stock",
    }
    assert still.status_code == 429 and still.headers["retry-after"] == "1"  # 0.1 s, rounded up
    assert again.status_code == 200
    assert refused_again.status_code == 429


async def test_retry_after_is_whole_seconds_rounded_up(limited: Any, clock: Clock, conn: asyncpg.Connection) -> None:
    async with client_for(limited, "finance") as finance:
        assert (await finance.get("/v1/reports/payables")).status_code == 200
        waits = []
        for _ in range(3):
            waits.append((await finance.get("/v1/reports/payables")).headers.get("retry-after"))
            clock.now += 0.75
        admitted = await finance.get("/v1/reports/payables")
    assert waits == ["2", "2", "1"]  # 2 s, 1.25 s, 0.5 s until the next token
    assert admitted.status_code == 200


async def test_refused_requests_take_no_token_and_keys_do_not_share_buckets(
    limited: Any, clock: Clock, conn: asyncpg.Connection
) -> None:
    async with client_for(limited, "warehouse") as scanner, client_for(limited, "purchasing") as buyer:
        for _ in range(3):
            await scanner.get("/v1/stock")
        refusals = [(await scanner.get("/v1/stock")).status_code for _ in range(10)]
        other = [(await buyer.get("/v1/stock")).status_code for _ in range(3)]
        clock.now += 0.5
        one_more = [(await scanner.get("/v1/stock")).status_code for _ in range(2)]
    assert refusals == [429] * 10
    assert other == [200, 200, 200]
    assert one_more == [200, 429]


async def test_admin_keys_are_not_limited_by_default(limited: Any, conn: asyncpg.Connection) -> None:
    async with client_for(limited, "admin") as admin:
        answers = [await admin.get("/v1/stock") for _ in range(20)]
    assert {r.status_code for r in answers} == {200}
    assert "ratelimit" not in answers[-1].headers


async def test_requests_without_a_key_are_not_counted(limited: Any, conn: asyncpg.Connection) -> None:
    async with client_for(limited, None) as anonymous:
        statuses = {(await anonymous.get("/v1/stock")).status_code for _ in range(10)}
        health = await anonymous.get("/healthz")
    assert statuses == {401}
    assert health.status_code == 200 and "ratelimit" not in health.headers


async def test_the_fast_lane_counts_a_request_once_and_leaves_the_429_to_the_route(
    limited: Any, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    lanes = limited.app
    served = lanes.served
    async with client_for(limited, "warehouse") as scanner:
        missing = await scanner.get("/v1/products/nope")  # the lane takes a token, then hands it to the route
        found = [await scanner.get("/v1/products/scarf") for _ in range(2)]
        refused = await scanner.get("/v1/products/scarf")
    assert missing.status_code == 404 and missing.headers["ratelimit"] == '"per-key";r=2;t=1'
    assert [r.status_code for r in found] == [200, 200]
    assert lanes.served == served + 2
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert refused.json()["code"] == "too-many-requests"


async def test_no_limit_when_the_rate_is_zero(shared_pool: Any, conn: asyncpg.Connection) -> None:
    app = asgi_app(Settings(MERCH_RATE_LIMIT=0, MERCH_RATE_LIMIT_BURST=1), pool=shared_pool)  # type: ignore[call-arg]
    async with client_for(app, "warehouse") as scanner:
        answers = [await scanner.get("/v1/stock") for _ in range(10)]
    assert {r.status_code for r in answers} == {200}
    assert "ratelimit" not in answers[0].headers


def test_a_key_of_several_roles_gets_the_most_generous_rate() -> None:
    limiter = RateLimiter(Rate(10, 20), {"storefront": Rate(1000, 2000), "finance": Rate(1, 1), "admin": None})
    assert limiter.rate_of(frozenset({"warehouse"})) == Rate(10, 20)
    assert limiter.rate_of(frozenset({"finance"})) == Rate(1, 1)
    assert limiter.rate_of(frozenset({"finance", "warehouse"})) == Rate(10, 20)
    assert limiter.rate_of(frozenset({"storefront", "finance"})) == Rate(1000, 2000)
    assert limiter.rate_of(frozenset({"admin", "finance"})) is None
    assert RateLimiter(None, {"finance": Rate(1, 1)}).rate_of(frozenset({"finance", "warehouse"})) is None


def test_rate_settings_default_and_refuse_nonsense() -> None:
    settings = Settings()
    assert (settings.rate_limit, settings.rate_limit_burst) == (100.0, 200)
    assert settings.role_rates == {"admin": (0.0, 1), "storefront": (1000.0, 2000)}
    assert Settings(MERCH_RATE_LIMIT_ROLES="finance:5").role_rates == {"finance": (5.0, 10)}  # type: ignore[call-arg]
    for bad in ("wizard:5", "finance:fast", "finance:-1", "finance:5:0", "finance:nan"):
        with pytest.raises(ValueError, match="MERCH_RATE_LIMIT_ROLES"):
            Settings(MERCH_RATE_LIMIT_ROLES=bad)  # type: ignore[call-arg]


@pytest.mark.parametrize("role", ["warehouse", "storefront"])
async def test_the_default_settings_limit_every_role_but_admin(
    shared_pool: Any, conn: asyncpg.Connection, clock: Clock, role: str
) -> None:
    app = asgi_app(Settings(MERCH_KEY_CACHE_SECONDS=0), pool=shared_pool)
    app.framework.state.limiter.clock = clock
    path = "/v1/storefront/categories" if role == "storefront" else "/v1/stock"
    async with client_for(app, role) as client:
        r = await client.get(path)
    burst = 2000 if role == "storefront" else 200
    assert r.headers["ratelimit-policy"] == f'"per-key";q={burst};w=2'


async def test_a_429_is_documented_for_every_route_with_a_key(app: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
        spec = (await raw.get("/schema/openapi.json")).json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    keyed = [op for op in operations if "401" in op["responses"]]  # (a route that takes a key can answer 401)
    assert len(keyed) > 100
    assert [op["operationId"] for op in keyed if "429" not in op["responses"]] == []
    assert keyed[0]["responses"]["429"]["description"].startswith("The key sent more requests than its rate limit")
