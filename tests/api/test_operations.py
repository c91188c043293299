"""Health, readiness, metrics and the docs page: what operators and newcomers touch first."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import KEYS


async def test_healthz_and_readyz_answer_without_a_key(app: Any, conn: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "database": "ok",
        "pending_migrations": [],
        "routines_current": True,
        "replicas": [],  # none configured
    }


async def test_the_docs_page_and_its_assets_are_served_by_the_app(app: Any, conn: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        page = await client.get("/schema/swagger")
        script = await client.get("/schema/assets/swagger-ui-bundle.js")
        spec = await client.get("/schema/openapi.json")
    assert page.status_code == 200
    assert "/schema/assets/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert script.status_code == 200 and len(script.content) > 100_000
    assert spec.json()["info"]["title"] == "merchflow"


async def test_an_unknown_route_is_a_404_problem(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not-found"


async def test_a_wrong_method_is_a_405_problem(api: httpx.AsyncClient) -> None:
    r = await api.request("TRACE", "/v1/category-trees")
    assert r.status_code == 405
    assert r.json()["code"] == "method-not-allowed"


async def test_an_unexpected_error_is_a_500_problem_that_reveals_nothing(
    api: httpx.AsyncClient, monkeypatch: Any
) -> None:
    from domain.trees import service as trees

    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("password=hunter2 in a stack trace")

    monkeypatch.setattr(trees, "list_trees", boom)
    r = await api.get("/v1/category-trees")
    assert r.status_code == 500
    assert r.json() == {
        "type": "/problems/internal-error",
        "title": "Internal server error",
        "status": 500,
        "detail": "Something went wrong on our side; it has been logged.",
        "code": "internal-error",
        "instance": "/v1/category-trees",
    }


async def test_a_body_over_the_configured_limit_is_a_413_problem(conn: Any, shared_pool: Any) -> None:
    from api.app import asgi_app
    from api.settings import Settings
    from tests.conftest import client_for

    small = asgi_app(Settings(MERCH_MAX_BODY_BYTES=2048), pool=shared_pool)  # type: ignore[call-arg]
    async with client_for(small) as client:
        r = await client.post("/v1/category-trees", json={"code": "big", "labels": {"en": "x" * 5000}})
    assert r.status_code == 413
    assert r.json()["code"] == "body-too-large"
    assert await conn.fetchval("SELECT count(*) FROM category_trees") == 0


async def test_a_malformed_consistency_token_is_refused_without_replicas_too(as_role: Any) -> None:
    async with as_role("storefront") as http:
        r = await http.get("/v1/events", headers={"X-Consistency-Token": "0/zz"})
        ok = await http.get("/v1/events", params={"after": -1}, headers={"X-Consistency-Token": "0/16B3748"})
        page = await http.get("/v1/storefront/products/any", headers={"X-Consistency-Token": "0/zz"})  # a fast lane
    assert r.status_code == 400 and r.json()["code"] == "invalid-consistency-token"
    assert r.json()["errors"][0]["parameter"] == "X-Consistency-Token"
    assert page.status_code == 400 and page.json()["code"] == "invalid-consistency-token"
    assert ok.status_code == 200 and ok.json()["items"] == []


def _concrete(path: str, item: dict[str, Any]) -> str:
    """The path with its parameters filled in: 1 for an integer, else `x`."""
    params = [p for op in item.values() for p in op.get("parameters", []) if p.get("in") == "path"]  # ($refs: headers)
    ints = {p["name"] for p in params if p["schema"].get("type") == "integer"}
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m[1] in ints else "x", path)


async def test_options_lists_every_method_of_a_path_that_the_document_lists(app: Any, conn: Any) -> None:
    """Litestar 2 kept the OPTIONS handler of a path's first handler (`Allow: OPTIONS, POST` on /v1/products);
    api.app.allow_every_method fixes it, for every path of the document."""
    from api.openapi import document

    paths = document()["paths"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for path, item in paths.items():
            r = await client.options(_concrete(path, item))
            assert r.status_code == 204, (path, r.text)
            assert set(r.headers["allow"].split(", ")) == {m.upper() for m in item} | {"OPTIONS"}, path
    assert len(paths) > 50


@pytest.mark.parametrize(
    "url",
    [
        "/v1/storefront/categories?locale=" + "0" * 36,  # (the locale dependency's parameter, after `conn`)
        "/v1/service/lookup?q=silk&locale=" + "0" * 36,
        "/v1/storefront/products?category=x&price=" + "9" * 40,
    ],
)
async def test_a_request_refused_by_a_dependencys_parameter_gives_its_database_connection_back(
    fresh_app: Any, fresh_pool: Any, url: str
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh_app), base_url="http://t") as client:
        for _ in range(3):
            r = await client.get(url, headers={"Authorization": f"Bearer {KEYS['admin']}"})
            assert r.status_code == 400, r.text
            assert fresh_pool.get_idle_size() == fresh_pool.get_size(), "a connection was not given back"
