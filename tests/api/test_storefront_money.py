"""Every amount the storefront and customer service answer is money as the API writes it everywhere
(../shared/design/DOMAIN.md): `{"amount": "129.00", "currency": "CNY"}`, or null when there is none — never a
bare number or string beside a separate currency. Walks the answers of every storefront and service route
(the app's own list of them: a new route is walked or this test fails) on the test catalog."""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from api.app import create_app
from api.settings import Settings
from tests import storefront_catalog as shop

# Each storefront and service route, with a request of it on the test catalog and whether its answer holds
# amounts at all (navigation and the change feed do not).
REQUESTS: dict[str, tuple[str, dict[str, str], bool]] = {
    "/v1/storefront/categories": ("/v1/storefront/categories", {"tree": "web"}, False),
    "/v1/storefront/products": ("/v1/storefront/products", {"category": "scarves"}, True),
    "/v1/storefront/products/{code}": ("/v1/storefront/products/wave", {}, True),
    "/v1/storefront/facets": ("/v1/storefront/facets", {"category": "scarves"}, True),
    "/v1/storefront/search": ("/v1/storefront/search", {"q": "silk"}, True),
    "/v1/service/lookup": ("/v1/service/lookup", {"q": "WAVE-1"}, True),
    "/v1/events": ("/v1/events", {"after": "0"}, False),
}
AMOUNT_KEY = re.compile(r"price|amount|revenue|cost", re.IGNORECASE)
DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def is_money(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"amount", "currency"}
        and isinstance(value["amount"], str)
        and DECIMAL.match(value["amount"]) is not None
        and isinstance(value["currency"], str)
        and re.match(r"^[A-Z]{3}$", value["currency"]) is not None
    )


def amounts(value: Any, where: str, found: list[str]) -> None:
    """Appends to `found` the path of each money object; fails on an amount that is not one, and on a
    `currency` anywhere but in a money object (a bare amount's companion)."""
    if isinstance(value, list):
        for n, item in enumerate(value):
            amounts(item, f"{where}/{n}", found)
        return
    if not isinstance(value, dict):
        return
    assert "currency" not in value or is_money(value), f"{where}: a currency beside bare amounts: {value}"
    for key, item in value.items():
        path = f"{where}/{key}"
        if not AMOUNT_KEY.search(key) or key == "amount":
            amounts(item, path, found)
        elif is_money(item):
            found.append(path)
        elif isinstance(item, dict):  # amounts by name: the facets' bounds (min, max), a need's prices by SKU
            for name, each in item.items():
                assert each is None or is_money(each), f"{path}/{name}: {each!r} is not money"
                found += [f"{path}/{name}"] if each is not None else []
        else:
            assert item is None, f"{path}: {item!r} is not money"


def walked_routes() -> set[str]:
    app = create_app(Settings())  # type: ignore[call-arg]
    paths = {re.sub(r":[a-z]+\}", "}", r.path) for r in app.routes}
    return {p for p in paths if p.startswith(("/v1/storefront", "/v1/service", "/v1/events"))}


async def test_every_storefront_and_service_amount_is_money(as_role: Any, conn: asyncpg.Connection) -> None:
    assert walked_routes() == set(REQUESTS)  # (a new storefront or service route: add its request here)
    await shop.shop(conn)
    await shop.promotion(conn, "double11", "WAVE-1", "99", starts_in_days=-1, ends_in_days=3)
    for route, (path, params, priced) in REQUESTS.items():
        role = "service" if route.startswith("/v1/service") else "storefront"
        for locale in ("en", "zh-CN") if route != "/v1/events" else (None,):
            async with as_role(role) as http:
                r = await http.get(path, params={**params, **({"locale": locale} if locale else {})})
            assert r.status_code == 200, (route, r.text)
            found: list[str] = []
            amounts(r.json(), route, found)
            assert bool(found) == priced, (route, found)
            if route == "/v1/storefront/products/{code}":  # the product's, its SKU's, promotion price and sale price
                assert sorted(found) == [f"{route}/{k}" for k in ("price", "regular_price", "skus/0/price",
                                                                     "skus/0/regular_price")]  # fmt: skip
                assert r.json()["price"] == shop.cny("99.00") and r.json()["regular_price"] == shop.cny("149.00")
            if route == "/v1/service/lookup":
                assert r.json()["items"][0]["promotions"][0]["price"] == shop.cny("99.00")
            if route == "/v1/storefront/facets":
                assert r.json()["price"] == {"min": shop.cny("99.00"), "max": shop.cny("199.00")}


def test_the_walk_refuses_bare_amounts() -> None:
    """The walk's own rule, on answers of the old shape."""
    for bad in (
        {"currency": "CNY", "price": "199.00", "regular_price": None},
        {"price": 199.0},
        {"items": [{"skus": [{"price": {"amount": 199, "currency": "CNY"}}]}]},
        {"price": {"currency": "CNY", "min": "99.00", "max": "199.00"}},
        {"price": {"min": "99.00", "max": None}},
        {"prices": {"WAVE-1": "99.00"}},
        {"promotions": [{"price": "99.00", "currency": "CNY"}]},
    ):
        try:
            amounts(bad, "", [])
        except AssertionError:
            continue
        raise AssertionError(f"{bad} passed the walk")
    found: list[str] = []
    amounts(
        {"price": shop.cny("1.00"), "regular_price": None, "bounds": {"price": {"min": None, "max": None}}}, "", found
    )
    assert found == ["/price"]
