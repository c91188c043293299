"""SKU prices over HTTP: effective-dated periods, the price at a moment, auto-closing the open period,
overlaps, exact amounts, time zones, and who may see or write which kind."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories as f
from tests.conftest import client_for

PRICES = "/v1/skus/S1/prices"


@pytest.fixture
async def sku(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "p1", "scarves")
    await f.sku(conn, "S1", "p1")


def price(
    amount: str,
    valid_from: str,
    valid_to: str | None = None,
    *,
    kind: str = "sale",
    currency: str = "CNY",
    sku: str = "S1",
) -> dict[str, Any]:
    return {
        "sku": sku,
        "kind": kind,
        "amount": amount,
        "currency": currency,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


async def post(api: httpx.AsyncClient, sku: str = "S1", **body: Any) -> httpx.Response:
    return await api.post(f"/v1/skus/{sku}/prices", json={"kind": "sale", "currency": "CNY", **body})


async def at(api: httpx.AsyncClient, moment: str, **params: str) -> list[dict[str, Any]]:
    r = await api.get(PRICES, params={"at": moment, **params})
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_posting_a_price_answers_201_with_the_period_in_utc(api: httpx.AsyncClient, sku: None) -> None:
    r = await post(api, amount="129.00", valid_from="2125-03-01T00:00:00+08:00", valid_to="2125-04-01T00:00:00Z")
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/skus/S1/prices"
    assert r.json() == price("129.00", "2125-02-28T16:00:00Z", "2125-04-01T00:00:00Z")


async def test_a_price_is_in_force_from_its_valid_from_and_until_just_before_its_valid_to(
    api: httpx.AsyncClient, sku: None
) -> None:
    r = await post(api, amount="129.00", valid_from="2125-03-01T00:00:00+08:00", valid_to="2125-04-01T00:00:00Z")
    assert r.status_code == 201, r.text
    expected = [price("129.00", "2125-02-28T16:00:00Z", "2125-04-01T00:00:00Z")]
    assert await at(api, "2125-02-28T15:59:59.999999Z") == []
    assert await at(api, "2125-02-28T23:59:59+08:00") == []
    assert await at(api, "2125-02-28T16:00:00Z") == expected
    assert await at(api, "2125-03-01T00:00:00+08:00") == expected
    assert await at(api, "2125-03-31T23:59:59.999999Z") == expected
    assert await at(api, "2125-04-01T00:00:00Z") == []
    assert await at(api, "2125-04-01T07:59:59-01:00") == []


async def test_an_unencoded_plus_in_the_moment_still_means_a_positive_offset(api: httpx.AsyncClient, sku: None) -> None:
    await post(api, amount="129.00", valid_from="2125-03-01T00:00:00+08:00")
    r = await api.get(PRICES + "?at=2125-03-01T00:00:00+08:00")
    assert r.json()["items"] == [price("129.00", "2125-02-28T16:00:00Z")]
    r = await api.get(PRICES + "?at=2125-02-28T23:59:59+08:00")
    assert r.json()["items"] == []


async def test_a_new_price_closes_the_open_period_it_starts_inside_and_keeps_the_history(
    api: httpx.AsyncClient, sku: None
) -> None:
    assert (await post(api, amount="100.00", valid_from="2125-01-01T00:00:00Z")).status_code == 201
    r = await post(api, amount="120.00", valid_from="2125-06-01T08:00:00+08:00")
    assert r.status_code == 201, r.text
    r = await api.get(PRICES)
    assert r.json() == {
        "items": [
            price("120.00", "2125-06-01T00:00:00Z"),
            price("100.00", "2125-01-01T00:00:00Z", "2125-06-01T00:00:00Z"),
        ],
        "next_cursor": None,
    }
    assert await at(api, "2125-05-31T23:59:59.999999Z") == [
        price("100.00", "2125-01-01T00:00:00Z", "2125-06-01T00:00:00Z")
    ]
    assert await at(api, "2125-06-01T00:00:00Z") == [price("120.00", "2125-06-01T00:00:00Z")]
    audit = (await api.get("/v1/audit", params={"entity": "price", "code": "S1"})).json()["items"]
    assert [(e["action"], e["changes"]) for e in audit] == [
        (
            "create",
            {
                "amount": {"before": None, "after": "120.00"},
                "currency": {"before": None, "after": "CNY"},
                "kind": {"before": None, "after": "sale"},
                "sku": {"before": None, "after": "S1"},
                "valid_from": {"before": None, "after": "2125-06-01T00:00:00Z"},
            },
        ),
        ("update", {"valid_to": {"before": None, "after": "2125-06-01T00:00:00Z"}}),
        (
            "create",
            {
                "amount": {"before": None, "after": "100.00"},
                "currency": {"before": None, "after": "CNY"},
                "kind": {"before": None, "after": "sale"},
                "sku": {"before": None, "after": "S1"},
                "valid_from": {"before": None, "after": "2125-01-01T00:00:00Z"},
            },
        ),
    ]


async def test_a_price_of_another_kind_or_currency_does_not_close_or_overlap(api: httpx.AsyncClient, sku: None) -> None:
    await post(api, amount="100.00", valid_from="2125-01-01T00:00:00Z")
    assert (await post(api, amount="15.00", currency="USD", valid_from="2125-02-01T00:00:00Z")).status_code == 201
    r = await post(api, kind="cost", amount="61.80", valid_from="2125-02-01T00:00:00Z")
    assert r.status_code == 201
    # Newest valid_from first, then the latest recorded first.
    assert await at(api, "2125-03-01T00:00:00Z") == [
        price("61.80", "2125-02-01T00:00:00Z", kind="cost"),
        price("15.00", "2125-02-01T00:00:00Z", currency="USD"),
        price("100.00", "2125-01-01T00:00:00Z"),
    ]
    assert await at(api, "2125-03-01T00:00:00Z", kind="sale", currency="CNY") == [
        price("100.00", "2125-01-01T00:00:00Z")
    ]


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "existing"),
    [
        # Inside a closed period.
        ("2125-01-15T00:00:00Z", None, ("2125-01-01T00:00:00Z", "2125-02-01T00:00:00Z")),
        # Starting before a closed period and running into it.
        ("2124-12-01T00:00:00Z", "2125-01-02T00:00:00Z", ("2125-01-01T00:00:00Z", "2125-02-01T00:00:00Z")),
        # Starting exactly where the open period starts (it cannot be closed to nothing).
        ("2125-03-01T00:00:00Z", None, ("2125-03-01T00:00:00Z", None)),
        # Starting before the open period.
        ("2125-02-15T00:00:00Z", "2125-03-02T00:00:00Z", ("2125-03-01T00:00:00Z", None)),
    ],
)
async def test_an_overlap_other_than_starting_inside_the_open_period_is_409_naming_the_existing_period(
    api: httpx.AsyncClient, sku: None, valid_from: str, valid_to: str | None, existing: tuple[str, str | None]
) -> None:
    await post(api, amount="100.00", valid_from="2125-01-01T00:00:00Z", valid_to="2125-02-01T00:00:00Z")
    await post(api, amount="110.00", valid_from="2125-03-01T00:00:00Z")
    before = (await api.get(PRICES)).json()
    r = await post(api, amount="90.00", valid_from=valid_from, valid_to=valid_to)
    assert r.status_code == 409
    amount = "100.00" if existing[0].startswith("2125-01") else "110.00"
    shown = existing[0].replace("Z", "+00:00"), existing[1].replace("Z", "+00:00") if existing[1] else "open"
    assert r.json() == {
        "type": "/problems/price-period-overlap",
        "title": "Conflict",
        "status": 409,
        "detail": f"The new sale price of SKU 'S1' in CNY overlaps the period [{shown[0]}, {shown[1]}); "
        "only a price that starts inside the open-ended current period may close it.",
        "code": "price-period-overlap",
        "instance": PRICES,
        "context": {"existing": price(amount, *existing)},
    }
    assert (await api.get(PRICES)).json() == before


async def test_valid_from_defaults_to_now(api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None) -> None:
    now = await conn.fetchval("SELECT now()")
    r = await api.post(PRICES, json={"kind": "sale", "amount": "129", "currency": "CNY"})
    assert r.status_code == 201, r.text
    assert r.json() == price("129.00", now.isoformat().replace("+00:00", "Z"))


def problem(errors: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": errors[0]["message"] if len(errors) == 1 else f"{len(errors)} fields are invalid.",
        "code": "validation-failed",
        "instance": PRICES,
        "errors": errors,
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"amount": 129},
            [{"pointer": "/amount", "code": "wrong_type", "message": "Expected `str`, got `int`."}],
        ),
        (
            {"amount": 129.5},
            [{"pointer": "/amount", "code": "wrong_type", "message": "Expected `str`, got `float`."}],
        ),
        (
            {"amount": "-1.00"},
            [{"pointer": "/amount", "code": "negative_amount", "message": "The amount cannot be negative."}],
        ),
        (
            {"amount": "1.001"},
            [
                {
                    "pointer": "/amount",
                    "code": "too_many_decimals",
                    "message": "CNY takes at most 2 decimal places here.",
                }
            ],
        ),
        (
            {"amount": "100.5", "currency": "JPY"},
            [
                {
                    "pointer": "/amount",
                    "code": "too_many_decimals",
                    "message": "JPY takes at most 0 decimal places here.",
                }
            ],
        ),
        (
            {"amount": "1.00", "currency": "XYZ"},
            [
                {
                    "pointer": "/currency",
                    "code": "unknown_currency",
                    "message": "XYZ is not an ISO 4217 currency merchflow knows.",
                }
            ],
        ),
        (
            {"amount": "1.00", "currency": "cny"},
            [
                {
                    "pointer": "/currency",
                    "code": "invalid_format",
                    "message": "Expected `str` matching regex '^[A-Z]{3}$'.",
                }
            ],
        ),
        (
            {"amount": "1.00", "kind": "promotion"},
            [
                {
                    "pointer": "/kind",
                    "code": "invalid_choice",
                    "message": "Invalid enum value 'promotion'.",
                }
            ],
        ),
        (
            {"amount": "1.00", "valid_from": "2125-03-01T00:00:00Z", "valid_to": "2125-03-01T08:00:00+08:00"},
            [
                {
                    "pointer": "/valid_to",
                    "code": "before_valid_from",
                    "message": "`valid_to` must be after `valid_from`.",
                }
            ],
        ),
        (
            {"amount": "1.00", "valid_to": "2001-01-01T00:00:00Z"},
            [
                {
                    "pointer": "/valid_to",
                    "code": "before_valid_from",
                    "message": "`valid_to` must be after `valid_from` (now).",
                }
            ],
        ),
        (
            {"amount": "1.00", "valid_from": "2125-03-01T00:00:00"},
            [
                {
                    "pointer": "/valid_from",
                    "code": "invalid",
                    "message": "Expected `datetime` with a timezone component.",
                }
            ],
        ),
        (
            {"amount": "1.00", "valid_from": "yesterday"},
            [{"pointer": "/valid_from", "code": "invalid", "message": "Invalid RFC3339 encoded datetime."}],
        ),
        (
            {"colour": "red"},
            [
                {"pointer": "/colour", "code": "unknown_field", "message": "`colour` is not a field here."},
                {"pointer": "/amount", "code": "required", "message": "`amount` is required."},
            ],
        ),
    ],
)
async def test_every_bad_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, sku: None, body: dict[str, Any], errors: list[dict[str, str]]
) -> None:
    r = await api.post(PRICES, json={"kind": "sale", "currency": "CNY", **body})
    assert r.status_code == 422, r.text
    assert r.json() == problem(errors)
    assert (await api.get(PRICES)).json()["items"] == []


@pytest.mark.parametrize(
    ("amount", "currency", "answered"),
    [
        ("0.00", "CNY", "0.00"),
        ("0", "CNY", "0.00"),
        ("1500", "JPY", "1500"),
        ("1.5", "CNY", "1.50"),
        ("12.345", "BHD", "12.345"),
        ("999999999999.99", "CNY", "999999999999.99"),
    ],
)
async def test_amounts_at_the_edges_of_what_a_currency_takes_are_recorded_in_its_precision(
    api: httpx.AsyncClient, sku: None, amount: str, currency: str, answered: str
) -> None:
    # Zero is not negative; a whole amount has no decimals, so a currency without minor units takes it.
    r = await post(api, amount=amount, currency=currency, valid_from="2125-03-01T00:00:00Z")
    assert r.status_code == 201, r.text
    assert r.json() == price(answered, "2125-03-01T00:00:00Z", currency=currency)


async def test_a_price_for_an_unknown_sku_is_a_404(api: httpx.AsyncClient, sku: None) -> None:
    r = await post(api, sku="NOPE", amount="1.00")
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/sku-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No SKU has the code 'NOPE'.",
        "code": "sku-not-found",
        "instance": "/v1/skus/NOPE/prices",
    }
    assert (await api.get("/v1/skus/NOPE/prices")).status_code == 404


@pytest.mark.parametrize(
    ("params", "parameter", "code", "message"),
    [
        (
            {"at": "2125-03-01"},
            "at",
            "invalid_moment",
            "`at` must be an RFC 3339 moment with an offset, e.g. 2025-03-01T00:00:00+08:00.",
        ),
        (
            {"at": "2125-03-01T00:00:00"},
            "at",
            "invalid_moment",
            "`at` must be an RFC 3339 moment with an offset, e.g. 2025-03-01T00:00:00+08:00.",
        ),
        ({"kind": "promotion"}, "kind", "invalid_choice", "`kind` is one of sale, distribution, cost."),
        ({"currency": "XYZ"}, "currency", "unknown_currency", "'XYZ' is not an ISO 4217 currency merchflow knows."),
    ],
)
async def test_a_bad_query_parameter_is_a_400_naming_it(
    api: httpx.AsyncClient, sku: None, params: dict[str, str], parameter: str, code: str, message: str
) -> None:
    r = await api.get(PRICES, params=params)
    assert r.status_code == 400
    assert r.json() == {
        "type": "/problems/invalid-parameter",
        "title": "Invalid query parameter",
        "status": 400,
        "detail": message,
        "code": "invalid-parameter",
        "instance": PRICES,
        "errors": [{"parameter": parameter, "code": code, "message": message}],
    }


async def test_cost_and_distribution_prices_are_left_out_for_roles_that_may_not_see_them(
    api: httpx.AsyncClient, as_role: Any, sku: None
) -> None:
    await post(api, amount="129.00", valid_from="2125-01-01T00:00:00Z")
    await post(api, kind="cost", amount="61.80", valid_from="2125-01-01T00:00:00Z")
    await post(api, kind="distribution", amount="99.00", valid_from="2125-01-01T00:00:00Z")
    everything = [
        price("129.00", "2125-01-01T00:00:00Z"),
        price("61.80", "2125-01-01T00:00:00Z", kind="cost"),
        price("99.00", "2125-01-01T00:00:00Z", kind="distribution"),
    ]
    for role in ("finance", "purchasing", "admin"):
        async with as_role(role) as client:
            items = (await client.get(PRICES)).json()["items"]
        assert sorted(items, key=lambda p: p["kind"]) == sorted(everything, key=lambda p: p["kind"]), role
    for role in ("warehouse", "listing", "marketing", "service"):
        async with as_role(role) as client:
            assert (await client.get(PRICES)).json() == {"items": [everything[0]], "next_cursor": None}, role
            assert (await client.get(PRICES, params={"kind": "cost"})).json() == {"items": [], "next_cursor": None}
    async with as_role("storefront") as client:
        assert (await client.get(PRICES)).status_code == 403


async def test_a_listing_key_may_record_sale_prices_but_not_cost_or_distribution_prices(
    as_role: Any, sku: None
) -> None:
    async with as_role("listing") as client:
        assert (await post(client, amount="129.00")).status_code == 201
        for kind in ("cost", "distribution"):
            r = await post(client, kind=kind, amount="61.80")
            assert r.status_code == 403
            assert r.json() == {
                "type": "/problems/forbidden",
                "title": "Forbidden",
                "status": 403,
                "detail": f"{kind.capitalize()} prices are written by the finance or purchasing role; "
                "the key has listing.",
                "code": "forbidden",
                "instance": PRICES,
            }
    for role in ("finance", "purchasing"):
        async with as_role(role) as client:
            r = await post(client, kind="cost", currency="USD" if role == "finance" else "EUR", amount="8.10")
            assert r.status_code == 201, r.text
    async with as_role("marketing") as client:
        assert (await post(client, amount="1.00")).status_code == 403


async def test_the_history_pages_newest_first_with_a_cursor(api: httpx.AsyncClient, sku: None) -> None:
    for month in range(1, 6):
        r = await post(api, amount=f"{100 + month}.00", valid_from=f"2125-0{month}-01T00:00:00Z")
        assert r.status_code == 201, r.text
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await api.get(PRICES, params=params)).json()
        seen.extend(p["amount"] for p in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["105.00", "104.00", "103.00", "102.00", "101.00"]


async def test_a_racing_write_that_takes_the_period_first_is_a_409_naming_it(
    fresh_pool: asyncpg.Pool, fresh_app: Any
) -> None:
    async with fresh_pool.acquire() as setup:
        await f.tree(setup)
        await f.category(setup, "scarves")
        await f.product(setup, "p1", "scarves")
        await f.sku(setup, "S1", "p1")
    async with fresh_pool.acquire() as other, fresh_pool.acquire() as watcher:
        # Another writer (not through the API, so it takes no product lock) holds an overlapping period uncommitted.
        tx = other.transaction()
        await tx.start()
        await other.execute(
            "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
            " SELECT id, 'sale', 'CNY', 100, '2125-01-01T00:00:00Z', 'other' FROM skus WHERE sku = 'S1'"
        )
        async with client_for(fresh_app) as client:
            request = asyncio.ensure_future(post(client, amount="90.00", valid_from="2125-02-01T00:00:00Z"))
            # Wait until the API's insert waits on the other writer's row in the exclusion check.
            while not await watcher.fetchval(
                "SELECT count(*) > 0 FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ):
                assert not request.done(), request.result().text
            await tx.commit()
            r = await request
    assert r.status_code == 409
    assert r.json()["code"] == "price-period-overlap"
    assert r.json()["context"] == {"existing": price("100.00", "2125-01-01T00:00:00Z")}
    async with client_for(fresh_app) as client:
        assert (await client.get(PRICES)).json()["items"] == [price("100.00", "2125-01-01T00:00:00Z")]


async def test_a_sku_or_product_with_prices_is_not_deleted_a_409_names_the_prices(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None
) -> None:
    """The prices' foreign key is ON DELETE RESTRICT, whose violation (23001) is not a foreign key violation
    (23503) to asyncpg: it was answered as a `constraint-violation` saying a write had raced another."""
    assert (await post(api, amount="129.00")).status_code == 201
    for url, what in (("/v1/skus/S1", "SKU 'S1'"), ("/v1/products/p1", "Product 'p1'")):
        r = await api.delete(url)
        assert r.status_code == 409, r.text
        body = r.json()
        assert (body["code"], body["context"]) == ("still-referenced", {"references": {"prices": "prices_sku_id_fkey"}})
        assert body["detail"] == f"{what} is still referenced from prices; remove those references first."
    assert (await api.get("/v1/skus/S1")).status_code == 200
