"""Every cell of the role × route table: the expectations are the table written out in tests/api/role_table.py
(data a reviewer reads), never the routes' own declarations — a route whose roles drift from the table fails,
a new route fails until its line is added there, and one that declares no roles stops the app from starting."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import get

from api.app import create_app
from api.roles import route_table
from api.settings import Settings
from domain.keys.model import ROLES
from tests.api.role_table import TABLE as WRITTEN
from tests.conftest import client_for

GROUPS: dict[str, frozenset[str] | None] = {
    "public": None,
    "everyone": frozenset(ROLES),
    "readers": frozenset(ROLES) - {"storefront"},
}


def written() -> list[tuple[str, str, frozenset[str] | None]]:
    rows = []
    for line in WRITTEN.strip().splitlines():
        method, path, *who = line.split()
        roles = GROUPS[who[0]] if len(who) == 1 and who[0] in GROUPS else frozenset(who)
        assert roles is None or roles <= set(ROLES), line
        rows.append((method, path, roles))
    return rows


TABLE = written()
CELLS = [(m, p, roles, role) for (m, p, roles) in TABLE for role in ROLES]


def test_the_routes_declare_exactly_the_roles_of_the_written_table() -> None:
    declared = {(m, p): roles for m, p, roles in route_table(create_app(Settings()))}
    expected = {(m, p): roles for m, p, roles in TABLE}
    assert sorted(set(declared) - set(expected)) == [], "a route with no line in tests/api/role_table.py"
    assert sorted(set(expected) - set(declared)) == [], "a line in tests/api/role_table.py with no route"
    drifted = {
        k: (sorted(declared[k] or ["public"]), sorted(v or ["public"])) for k, v in expected.items() if declared[k] != v
    }
    assert drifted == {}, "declared roles (left) differ from the written table (right)"


def concrete(path: str) -> str:
    path = re.sub(r"\{([a-z_]+):int\}", "0", path)
    return re.sub(r"\{([a-z_]+)(:[a-z]+)?\}", "zz-nothing-here", path)


@pytest.mark.parametrize(("method", "path", "roles", "role"), CELLS, ids=[f"{m} {p} as {r}" for m, p, _, r in CELLS])
async def test_each_role_is_let_through_or_refused_as_the_table_says(
    app: Any, conn: Any, method: str, path: str, roles: frozenset[str] | None, role: str
) -> None:
    async with client_for(app, role) as client:
        r = await client.request(method, concrete(path), json={} if method in ("POST", "PUT", "PATCH") else None)
    assert r.status_code < 500, r.text
    if roles is None or role in roles:
        assert r.status_code not in (401, 403), r.text
    else:
        assert r.status_code == 403
        body = r.json()
        assert body["code"] == "forbidden"
        assert role in body["detail"]


@pytest.mark.parametrize(("method", "path"), sorted({(m, p) for m, p, roles in TABLE if roles is not None}))
async def test_a_request_without_a_key_is_401(app: Any, conn: Any, method: str, path: str) -> None:
    async with client_for(app, None) as client:
        r = await client.request(method, concrete(path))
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["code"] == "unauthenticated"


async def test_an_unknown_key_is_401(app: Any, conn: Any) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"Authorization": "Bearer mf_nope"}
    ) as client:
        r = await client.get("/v1/category-trees")
    assert r.status_code == 401
    assert r.json()["detail"] == "The API key is unknown or revoked."


async def test_a_revoked_key_is_401_at_once(app: Any, conn: Any) -> None:
    await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE name = 'test-listing'")
    async with client_for(app, "listing") as client:
        r = await client.get("/v1/category-trees")
    assert r.status_code == 401


def test_an_app_with_a_route_that_declares_no_roles_refuses_to_start() -> None:
    @get("/v1/oops")
    async def oops() -> None:
        return None

    with pytest.raises(RuntimeError, match="declares no roles"):
        from api import app as app_module

        original = list(app_module.ROUTE_HANDLERS)
        app_module.ROUTE_HANDLERS.append(oops)
        try:
            create_app(Settings())
        finally:
            app_module.ROUTE_HANDLERS[:] = original


def test_the_readme_prints_the_current_role_table() -> None:
    from pathlib import Path

    from api.readme import section
    from api.roles import markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert section(readme, "roles") == markdown(create_app(Settings())), "run `make openapi`"


def test_storefront_routes_and_the_change_feed_are_the_only_ones_a_storefront_key_reaches() -> None:
    reachable = {(m, p) for m, p, roles in TABLE if roles is not None and "storefront" in roles}
    assert all(p.startswith("/v1/storefront/") or p == "/v1/events" for _, p in reachable), reachable
    assert len(reachable) == 6
