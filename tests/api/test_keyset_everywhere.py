"""Every operation that pages with a keyset cursor (read from the app's OpenAPI), on the demo catalog: paged
through one item at a time, it answers exactly the items of one large page, in the same order, each once — a
keyset condition off by one (`>=` for `>`: a row repeated; a wrong column: rows skipped) fails here for every
copy of it, not only for the route someone remembered. The request each path is paged with is written out
below."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from api.openapi import document

SPEC = document()

# The concrete request of each paged operation on the demo catalog (path, query parameters).
REQUESTS: dict[str, tuple[str, dict[str, str]]] = {
    "/v1/attribute-groups": ("/v1/attribute-groups", {}),
    "/v1/attributes": ("/v1/attributes", {}),
    "/v1/audit": ("/v1/audit", {}),
    "/v1/categories": ("/v1/categories", {}),
    "/v1/category-trees": ("/v1/category-trees", {}),
    "/v1/completeness": ("/v1/completeness", {}),
    "/v1/jobs": ("/v1/jobs", {}),
    "/v1/products": ("/v1/products", {}),
    "/v1/products/{code}/skus": ("/v1/products/silk-square-peony/skus", {}),
    "/v1/products/{code}/suppliers": ("/v1/products/silk-square-peony/suppliers", {}),
    "/v1/promotions": ("/v1/promotions", {}),
    "/v1/return-reasons": ("/v1/return-reasons", {}),
    "/v1/roles": ("/v1/roles", {}),
    "/v1/sales": ("/v1/sales", {"sku": "SLF-RED", "from": "2026-10-01", "to": "2026-10-07"}),
    "/v1/series": ("/v1/series", {}),
    "/v1/skus/{sku}/prices": ("/v1/skus/SSP-RED/prices", {}),
    "/v1/skus/{sku}/prices/corrections": ("/v1/skus/SSP-RED/prices/corrections", {}),
    "/v1/stock": ("/v1/stock", {}),
    "/v1/stock/movements": ("/v1/stock/movements", {}),
    "/v1/storefront/products": ("/v1/storefront/products", {"category": "web-gifts", "locale": "en"}),
    "/v1/suppliers": ("/v1/suppliers", {}),
    "/v1/warehouses": ("/v1/warehouses", {}),
    "/v1/warehouses/{code}/locations": ("/v1/warehouses/hz/locations", {}),
}

# What a path needs beyond the demo catalog to have two items to page through (in the test's transaction).
SETUP: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "/v1/promotions": [
        ("/v1/promotions", {"code": code, "starts_at": f"2027-0{m}-01T00:00:00Z", "ends_at": f"2027-0{m}-08T00:00:00Z"})
        for code, m in (("keyset-a", 1), ("keyset-b", 2))
    ],
}

OPERATIONS = sorted(
    path
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method == "get" and any(p.get("name") == "cursor" for p in op.get("parameters", []))
)

pytestmark = pytest.mark.usefixtures("demo_catalog")  # seeded once for the module (tests/conftest.py)


def test_the_table_names_every_operation_that_pages_with_a_cursor() -> None:
    assert sorted(REQUESTS) == OPERATIONS


def _largest_limit(path: str) -> int:
    for p in SPEC["paths"][path]["get"]["parameters"]:
        if p.get("name") == "limit":
            return int(p["schema"]["maximum"])
    raise AssertionError(f"{path} pages with a cursor but takes no limit")


async def _page(api: httpx.AsyncClient, url: str, params: dict[str, Any]) -> dict[str, Any]:
    r = await api.get(url, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize("path", OPERATIONS)
async def test_paging_one_item_at_a_time_answers_each_item_of_one_page_once_in_order(
    api: httpx.AsyncClient, path: str
) -> None:
    url, params = REQUESTS[path]
    for target, body in SETUP.get(path, []):
        r = await api.post(target, json=body)
        assert r.status_code == 201, r.text
    whole = await _page(api, url, {**params, "limit": _largest_limit(path)})
    assert whole["next_cursor"] is None, f"{url}: the demo catalog fits one page"
    assert len(whole["items"]) >= 2, f"{url}: the demo catalog has too few items to page through"
    paged: list[Any] = []
    cursor = None
    for _ in range(len(whole["items"]) + 1):
        page = await _page(api, url, {**params, "limit": 1, **({"cursor": cursor} if cursor else {})})
        assert len(page["items"]) <= 1
        paged.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    key = [json.dumps(item, sort_keys=True) for item in paged]
    assert len(set(key)) == len(key), f"{url}: an item came twice"
    assert paged == whole["items"]


def _forged(cursor: str, value: int) -> str | None:
    """A cursor of the list's own shape with each integer of its key replaced by `value` (None: no integer)."""
    key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged = [value if isinstance(v, int) and not isinstance(v, bool) else v for v in key]
    if forged == key:
        return None
    return base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", OPERATIONS)
async def test_a_cursor_carrying_an_integer_beyond_bigint_is_a_400_not_a_500(api: httpx.AsyncClient, path: str) -> None:
    # A hostile client forges a cursor of the right shape with a number no column holds: the statement could not
    # take it (asyncpg refuses it for a bigint) — an invalid cursor, never an internal error.
    url, params = REQUESTS[path]
    for target, body in SETUP.get(path, []):
        assert (await api.post(target, json=body)).status_code == 201
    cursor = (await _page(api, url, {**params, "limit": 1}))["next_cursor"]
    assert cursor is not None
    for value, fits in ((2**63, False), (-(2**63) - 1, False), (10**30, False), (2**63 - 1, True)):
        forged = _forged(cursor, value)
        if forged is None:
            return  # (a key of codes alone)
        r = await api.get(url, params={**params, "limit": 1, "cursor": forged})
        if fits:
            assert r.status_code == 200, (value, r.text)
        else:
            assert (r.status_code, r.json()["code"], r.json()["errors"][0]["code"]) == (
                400,
                "invalid-parameter",
                "invalid_cursor",
            ), (value, r.text)
