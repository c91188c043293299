"""Every operation that takes `If-Match` (read from the app's OpenAPI), on an entity of the demo catalog: a
stale version is a 412 `version-mismatch` naming the current version, and nothing changes — every copy of the
optimistic-concurrency rule is tested, not one of them. The entity each path names is written out below."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from api.openapi import document

SPEC = document()

# Concrete paths of the demo catalog, and where to read the entity whose version the operation checks.
PATHS = {
    "/v1/attribute-groups/{code}": ("/v1/attribute-groups/basics", None),
    "/v1/attributes/{code}": ("/v1/attributes/pattern", None),
    "/v1/attributes/{code}/options": ("/v1/attributes/color/options", "/v1/attributes/color"),
    "/v1/attributes/{code}/options/{option}": ("/v1/attributes/color/options/red", "/v1/attributes/color"),
    "/v1/categories/{code}": ("/v1/categories/web-new", None),
    "/v1/categories/{code}/move": ("/v1/categories/web-new/move", "/v1/categories/web-new"),
    "/v1/category-trees/{code}": ("/v1/category-trees/web", None),
    "/v1/products/{code}": ("/v1/products/silk-square-classic", None),
    "/v1/products/{code}/suppliers/{supplier}": ("/v1/products/silk-square-peony/suppliers/hz-silk-mill", None),
    "/v1/products/{code}/transitions": (
        "/v1/products/silk-square-classic/transitions",
        "/v1/products/silk-square-classic",
    ),
    "/v1/promotions/{code}": ("/v1/promotions/double-twelve", None),
    "/v1/return-reasons/{code}": ("/v1/return-reasons/changed_mind", None),
    "/v1/roles/{code}": ("/v1/roles/routine", None),
    "/v1/series/{code}": ("/v1/series/lavender-series", None),
    "/v1/skus/{sku}": ("/v1/skus/SSC-NAVY", None),
    "/v1/suppliers/{code}": ("/v1/suppliers/provence-oils", None),
    "/v1/warehouses/{code}": ("/v1/warehouses/sh", None),
    "/v1/warehouses/{code}/locations/{location}": ("/v1/warehouses/hz/locations/B-01-02-01", None),
}

OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if any(p.get("name", "").lower() == "if-match" for p in op.get("parameters", []))
)


pytestmark = pytest.mark.usefixtures("demo_catalog")  # seeded once for the module (tests/conftest.py)


def request_fields(method: str, path: str) -> set[str] | None:
    """The top-level fields the operation's JSON body takes (None: no body)."""
    body = SPEC["paths"][path][method.lower()].get("requestBody")
    if body is None:
        return None
    schema = body["content"]["application/json"]["schema"]
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema.get("properties", {}))


def test_the_table_names_every_operation_that_takes_if_match() -> None:
    assert {p for _, p in OPERATIONS} == set(PATHS), "add the new path to PATHS"
    assert len(OPERATIONS) >= 40


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_a_stale_if_match_is_a_412_and_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection, method: str, path: str
) -> None:
    concrete, entity = PATHS[path]
    entity = entity or concrete
    before = await api.get(entity)
    assert before.status_code == 200, before.text
    version = before.json()["version"]
    fields = request_fields(method, path)
    body: Any = None
    if fields is not None:
        current = before.json() if entity == concrete else {}
        body = {k: v for k, v in current.items() if k in fields}
        if path.endswith("/move"):
            body = {"parent": "web-gifts"}
        elif path.endswith("/transitions"):
            body = {"to": "retired"}
        elif path.endswith("/options") and method == "POST":
            body = {"code": "zz-new", "labels": {"en": "New"}}
        elif path.endswith("/options"):
            body = {"options": []}
    stale = f'"{version + 7}"'
    r = await api.request(method, concrete, json=body, headers={"If-Match": stale})
    assert r.status_code == 412, (r.status_code, r.text, json.dumps(body)[:300])
    problem = r.json()
    assert problem["code"] == "version-mismatch"
    assert problem["context"] == {"current_version": version}
    after = await api.get(entity)
    assert after.status_code == 200 and after.json() == before.json()
    # and the version itself is no refusal: the check compares, it does not refuse every If-Match
    current = await api.request(method, concrete, json=body, headers={"If-Match": f'"{version}"'})
    assert current.status_code != 412, current.text
    assert current.status_code < 500, current.text
