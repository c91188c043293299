"""CORS is off by default and on for the origins of MERCH_CORS_ORIGINS: a shop front end in a browser can ask
for storefront pages with its key, read their ETag, and send conditional requests."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from api.app import asgi_app
from api.settings import Settings
from tests import storefront_catalog as shop
from tests.conftest import KEYS

SHOP = "https://shop.example"


@pytest.fixture
def cors_app(shared_pool: Any) -> Any:
    return asgi_app(Settings(MERCH_CORS_ORIGINS=f"{SHOP}, https://m.shop.example"), pool=shared_pool)  # type: ignore[call-arg]


async def test_a_listed_origin_may_ask_and_read_the_etag(cors_app: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cors_app), base_url="http://t") as http:
        preflight = await http.options(
            "/v1/storefront/products/peony",
            headers={
                "Origin": SHOP,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, if-none-match",
            },
        )
        page = await http.get(
            "/v1/storefront/products/peony", headers={"Origin": SHOP, "Authorization": f"Bearer {KEYS['storefront']}"}
        )
        stranger = await http.get(
            "/v1/storefront/products/peony",
            headers={"Origin": "https://evil.example", "Authorization": f"Bearer {KEYS['storefront']}"},
        )
    assert preflight.status_code in (200, 204), preflight.text
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert page.status_code == 200
    assert page.headers["access-control-allow-origin"] == SHOP
    assert "etag" in page.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in stranger.headers


async def test_cors_is_off_by_default(app: Any, conn: asyncpg.Connection) -> None:
    await shop.shop(conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        page = await http.get(
            "/v1/storefront/products/peony", headers={"Origin": SHOP, "Authorization": f"Bearer {KEYS['storefront']}"}
        )
    assert page.status_code == 200
    assert "access-control-allow-origin" not in page.headers
