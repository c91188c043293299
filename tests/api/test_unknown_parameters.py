"""A query parameter a route does not take is a 400 naming it and what the route takes — never silently
ignored (`GET /v1/products?barcode=…` used to answer every product with 200)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests import factories as f


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v1/products?barcode=6901234560015", "barcode"),
        ("/v1/products?category=scarves&colour=red", "colour"),
        ("/v1/products/sq-1?expand=skus", "expand"),
        ("/v1/storefront/products?category=scarves&color=red", "color"),
        ("/v1/stock?sku=X&bellow=3", "bellow"),
    ],
)
async def test_an_unknown_query_parameter_is_a_400_naming_it(
    as_role: Any, conn: asyncpg.Connection, url: str, parameter: str
) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "sq-1", "scarves")
    async with as_role("admin") as http:
        r = await http.get(url)
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "invalid-parameter"
    assert problem["errors"][0]["parameter"] == parameter
    assert problem["errors"][0]["code"] == "unknown_parameter"
    assert "it takes:" in problem["detail"]


async def test_declared_parameters_pass(as_role: Any, conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "sq-1", "scarves")
    async with as_role("admin") as http:
        listing = await http.get("/v1/products", params={"category": "scarves", "limit": 5})
        detail = await http.get("/v1/products/sq-1")
    assert listing.status_code == 200 and [p["code"] for p in listing.json()["items"]] == ["sq-1"]
    assert detail.status_code == 200


@pytest.mark.parametrize(
    ("url", "parameter", "count"),
    [
        ("/v1/reports/receivables?to=2026-01-31&to=2026-12-31", "to", 2),
        ("/v1/products?category=scarves&category=bags&category=x", "category", 3),
        ("/v1/storefront/products?category=scarves&category=scarves", "category", 2),
    ],
)
async def test_a_parameter_given_twice_that_takes_one_value_is_a_400(
    as_role: Any, conn: asyncpg.Connection, url: str, parameter: str, count: int
) -> None:
    """The framework kept one of the values, unsaid; a list parameter (`attr`, `filter`) may repeat."""
    await f.tree(conn)
    await f.category(conn, "scarves")
    async with as_role("admin") as http:
        r = await http.get(url)
        listed = await http.get("/v1/products?attr=colour:red&attr=size:m")
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {
            "code": "repeated",
            "message": f"`{parameter}` takes one value; it is given {count} times.",
            "parameter": parameter,
        }
    ]
    assert listed.status_code != 400 or listed.json()["errors"][0]["code"] != "repeated", listed.text


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v1/reports/receivables?to=null", "to"),
        ("/v1/stock?below=null", "below"),
        ("/v1/attributes?filterable=null", "filterable"),
    ],
)
async def test_null_for_a_parameter_that_takes_a_date_a_number_or_a_boolean_is_a_400(
    as_role: Any, conn: asyncpg.Connection, url: str, parameter: str
) -> None:
    """`?to=null` was read as no `to` at all; text parameters take `null` as the text it is."""
    async with as_role("admin") as http:
        r = await http.get(url)
        text = await http.get("/v1/audit?entity=null")
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {"code": "invalid", "message": f"`{parameter}` is not null: leave it out for none.", "parameter": parameter}
    ]
    assert text.status_code == 200, text.text


@pytest.mark.parametrize(
    ("method", "url", "parameter"),
    [
        ("POST", "/v1/imports", "type"),
        ("GET", "/v1/exports", "type"),
        ("GET", "/v1/service/lookup", "q"),
        ("GET", "/v1/storefront/search", "q"),
    ],
)
async def test_a_required_query_parameter_left_out_is_a_400_naming_it(
    as_role: Any, conn: asyncpg.Connection, method: str, url: str, parameter: str
) -> None:
    async with as_role("admin") as http:
        r = await http.request(method, url, content=b"code\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "invalid-parameter"
    assert problem["errors"] == [
        {"parameter": parameter, "code": "required", "message": f"The query parameter `{parameter}` is required."}
    ]
    assert problem["detail"] == f"The query parameter `{parameter}` is required."


@pytest.mark.parametrize(
    ("url", "parameter", "takes"),
    [
        ("/v1/storefront/products?category=scarves&sort=cheapest", "sort", ["position", "price_asc", "best_selling"]),
        ("/v1/exports?type=wine", "type", ["products", "skus", "prices", "stock"]),
    ],
)
async def test_a_value_a_parameter_does_not_take_is_named_with_the_values_it_takes(
    as_role: Any, conn: asyncpg.Connection, url: str, parameter: str, takes: list[str]
) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    async with as_role("admin") as http:
        r = await http.get(url)
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert (error["parameter"], error["code"]) == (parameter, "invalid")
    assert error["message"].startswith("Invalid enum value"), error
    said = error["message"].split("; it takes: ")[1].rstrip(".").split(", ")
    assert set(takes) <= set(said), error
