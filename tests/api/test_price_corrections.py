"""The past of a price changes only through a correction: a recorded price starts now or later (a minute of
clock skew counts as now), and `POST /v1/skus/{sku}/prices/corrections` sets the price over a range — past
included — with a reason, keeps the periods apart, is kept and audited with the periods before and after,
shows in the price history, re-costs the sales facts of the days it changed, and is for finance alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories as f
from tests.api.test_reports import shop
from tests.api.test_sales import ROLLUP_OF_FACTS
from tests.api.test_sales_removals import ROLLUP, snapshot

PRICES = "/v1/skus/S1/prices"
CORRECTIONS = "/v1/skus/S1/prices/corrections"


@pytest.fixture
async def sku(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "p1", "scarves")
    await f.sku(conn, "S1", "p1")


def price(amount: str, valid_from: str, valid_to: str | None = None, kind: str = "sale") -> dict[str, Any]:
    return {
        "sku": "S1",
        "kind": kind,
        "amount": amount,
        "currency": "CNY",
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


def correction(amount: str | None, valid_from: str, valid_to: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "sale",
        "currency": "CNY",
        "amount": amount,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "reason": "supplier invoice 118",
        **fields,
    }


async def history(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await api.get(PRICES)
    assert r.status_code == 200, r.text
    return [{k: v for k, v in p.items() if k != "correction"} for p in r.json()["items"]]


def iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


async def test_a_recorded_price_starting_in_the_past_is_a_422_pointing_at_the_corrections(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None
) -> None:
    now = await conn.fetchval("SELECT now()")
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
        " SELECT id, 'sale', 'CNY', 100, '2026-01-01T00:00:00Z', 'test' FROM skus WHERE sku = 'S1'"
    )
    # inside the open period that began in January: a POST used to close it back in time
    r = await api.post(
        PRICES, json={"kind": "sale", "amount": "90.00", "currency": "CNY", "valid_from": "2026-03-01T00:00:00+08:00"}
    )
    assert r.status_code == 422, r.text
    assert r.json() == {
        "type": "/problems/price-starts-in-the-past",
        "title": "Unprocessable content",
        "status": 422,
        "detail": f"The sale price of SKU 'S1' would start at 2026-02-28T16:00:00+00:00, before now "
        f"({now.isoformat()}): a new price starts now or later. To change the prices of the past, POST a "
        "correction with a reason to /v1/skus/S1/prices/corrections.",
        "code": "price-starts-in-the-past",
        "instance": PRICES,
        "context": {"valid_from": "2026-02-28T16:00:00Z", "now": iso(now), "correction": CORRECTIONS},
    }
    assert await history(api) == [price("100.00", "2026-01-01T00:00:00Z")]
    assert (await api.get("/v1/audit", params={"entity": "price"})).json()["items"] == []


async def test_a_price_starting_now_or_within_a_minute_before_starts_now_and_closes_the_open_period(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None
) -> None:
    now = await conn.fetchval("SELECT now()")  # the transaction's: what the service reads as now
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, actor)"
        " SELECT id, kind, 'CNY', 100, '2026-01-01T00:00:00Z', 'test'"
        " FROM skus, unnest('{sale,cost,distribution}'::text[]) kind WHERE sku = 'S1'"
    )
    body = {"amount": "110.00", "currency": "CNY"}
    r = await api.post(PRICES, json={"kind": "sale", **body, "valid_from": iso(now)})  # exactly now
    assert (r.status_code, r.json()) == (201, price("110.00", iso(now)))
    r = await api.post(PRICES, json={"kind": "cost", **body, "valid_from": iso(now - timedelta(seconds=60))})
    assert (r.status_code, r.json()) == (201, price("110.00", iso(now), kind="cost"))  # skew: taken as now
    late = now - timedelta(seconds=60, microseconds=1)
    r = await api.post(PRICES, json={"kind": "distribution", **body, "valid_from": iso(late)})
    assert (r.status_code, r.json()["code"]) == (422, "price-starts-in-the-past")
    soon = now + timedelta(microseconds=1)
    r = await api.post(PRICES, json={"kind": "distribution", **body, "valid_from": iso(soon)})
    assert (r.status_code, r.json()) == (201, price("110.00", iso(soon), kind="distribution"))
    assert sorted(map(tuple, map(dict.values, await history(api)))) == sorted(
        tuple(p.values())
        for p in (
            price("110.00", iso(now)),
            price("100.00", "2026-01-01T00:00:00Z", iso(now)),
            price("110.00", iso(now), kind="cost"),
            price("100.00", "2026-01-01T00:00:00Z", iso(now), kind="cost"),
            price("110.00", iso(soon), kind="distribution"),
            price("100.00", "2026-01-01T00:00:00Z", iso(soon), kind="distribution"),
        )
    )


async def test_a_correction_splits_the_period_it_falls_inside_and_shows_in_the_history_and_the_audit(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None
) -> None:
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor)"
        " SELECT s.id, 'sale', 'CNY', p.amount, p.valid_from::timestamptz, p.valid_to::timestamptz, 'test'"
        " FROM skus s, (VALUES (100, '2025-01-01T00:00:00Z', '2026-06-01T00:00:00Z'),"
        "                      (120, '2026-06-01T00:00:00Z', NULL)) AS p(amount, valid_from, valid_to)"
        " WHERE s.sku = 'S1'"
    )
    r = await api.post(CORRECTIONS, json=correction("90.00", "2025-03-01T00:00:00+08:00", "2025-04-01T00:00:00Z"))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == CORRECTIONS
    answer = r.json()
    now = await conn.fetchval("SELECT now()")
    assert answer == {
        "id": answer["id"],
        "sku": "S1",
        "kind": "sale",
        "currency": "CNY",
        "amount": "90.00",
        "valid_from": "2025-02-28T16:00:00Z",
        "valid_to": "2025-04-01T00:00:00Z",
        "reason": "supplier invoice 118",
        "actor": "test-admin",
        "at": iso(now),
        "before": [price("100.00", "2025-01-01T00:00:00Z", "2026-06-01T00:00:00Z")],
        "after": [
            price("100.00", "2025-01-01T00:00:00Z", "2025-02-28T16:00:00Z"),
            price("90.00", "2025-02-28T16:00:00Z", "2025-04-01T00:00:00Z"),
            price("100.00", "2025-04-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        ],
    }
    ref = {"id": answer["id"], "at": iso(now), "actor": "test-admin", "reason": "supplier invoice 118"}
    assert (await api.get(PRICES)).json()["items"] == [
        price("120.00", "2026-06-01T00:00:00Z"),
        {**price("100.00", "2025-04-01T00:00:00Z", "2026-06-01T00:00:00Z"), "correction": ref},
        {**price("90.00", "2025-02-28T16:00:00Z", "2025-04-01T00:00:00Z"), "correction": ref},
        {**price("100.00", "2025-01-01T00:00:00Z", "2025-02-28T16:00:00Z"), "correction": ref},
    ]
    r = await api.get(PRICES, params={"at": "2025-03-15T00:00:00Z"})
    assert [p["amount"] for p in r.json()["items"]] == ["90.00"]
    assert (await api.get(CORRECTIONS)).json() == {"items": [answer], "next_cursor": None}
    audit = (await api.get("/v1/audit", params={"entity": "price", "code": "S1"})).json()["items"]
    assert [(e["action"], e["reason"], e["changes"]) for e in audit] == [
        ("correct", "supplier invoice 118", {"periods": {"before": answer["before"], "after": answer["after"]}})
    ]


async def test_corrections_move_a_start_remove_a_period_and_replace_what_follows_an_open_ended_one(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None
) -> None:
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor)"
        " SELECT s.id, 'sale', 'CNY', p.amount, p.valid_from::timestamptz, p.valid_to::timestamptz, 'test'"
        " FROM skus s, (VALUES (100, '2025-01-01T00:00:00Z', '2026-06-01T00:00:00Z'),"
        "                      (120, '2026-06-01T00:00:00Z', '2127-01-01T00:00:00Z'),"
        "                      (130, '2127-01-01T00:00:00Z', NULL)) AS p(amount, valid_from, valid_to)"
        " WHERE s.sku = 'S1'"
    )
    # the 120 price really began on May 1st
    r = await api.post(CORRECTIONS, json=correction("120.00", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"))
    assert [(p["amount"], p["valid_from"], p["valid_to"]) for p in r.json()["after"]] == [
        ("100.00", "2025-01-01T00:00:00Z", "2026-05-01T00:00:00Z"),
        ("120.00", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"),
    ]
    # no sale price at all in March 2025 (the shop was closed)
    r = await api.post(CORRECTIONS, json=correction(None, "2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z"))
    assert (r.status_code, r.json()["amount"], len(r.json()["after"])) == (201, None, 2)
    assert await history(api) == [
        price("130.00", "2127-01-01T00:00:00Z"),
        price("120.00", "2026-06-01T00:00:00Z", "2127-01-01T00:00:00Z"),
        price("120.00", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        price("100.00", "2025-04-01T00:00:00Z", "2026-05-01T00:00:00Z"),
        price("100.00", "2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z"),
    ]
    assert (await api.get(PRICES, params={"at": "2025-03-15T00:00:00Z"})).json()["items"] == []
    # open-ended: from then on 125, the scheduled 130 included
    r = await api.post(CORRECTIONS, json=correction("125.00", "2026-09-01T00:00:00Z", None))
    assert [p["amount"] for p in r.json()["before"]] == ["120.00", "130.00"]
    assert await history(api) == [
        price("125.00", "2026-09-01T00:00:00Z"),
        price("120.00", "2026-06-01T00:00:00Z", "2026-09-01T00:00:00Z"),
        price("120.00", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        price("100.00", "2025-04-01T00:00:00Z", "2026-05-01T00:00:00Z"),
        price("100.00", "2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z"),
    ]
    assert [c["amount"] for c in (await api.get(CORRECTIONS)).json()["items"]] == ["125.00", None, "120.00"]
    # the database holds the periods apart whatever writes them
    with pytest.raises(asyncpg.ExclusionViolationError):
        async with conn.transaction():
            await conn.execute(
                "UPDATE prices SET valid_to = '2026-05-02T00:00:00Z' WHERE valid_to = '2026-05-01T00:00:00Z'"
            )


async def test_a_correction_the_periods_already_say_answers_200_and_records_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None
) -> None:
    body = correction("90.00", "2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z")
    first = await api.post(CORRECTIONS, json=body)
    assert first.status_code == 201, first.text
    again = await api.post(CORRECTIONS, json={**body, "amount": "90"})  # a retry (another scale)
    assert again.status_code == 200, again.text
    assert again.json() == {
        **first.json(),
        "id": None,
        "amount": "90.00",
        "before": first.json()["after"],
        "after": first.json()["after"],
    }
    nothing = await api.post(CORRECTIONS, json=correction(None, "2025-05-01T00:00:00Z", None))
    assert (nothing.status_code, nothing.json()["id"], nothing.json()["before"]) == (200, None, [])
    assert len((await api.get(CORRECTIONS)).json()["items"]) == 1
    assert len((await api.get("/v1/audit", params={"entity": "price"})).json()["items"]) == 1


def problem(errors: list[dict[str, str]], instance: str = CORRECTIONS) -> dict[str, Any]:
    return {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": errors[0]["message"] if len(errors) == 1 else f"{len(errors)} fields are invalid.",
        "code": "validation-failed",
        "instance": instance,
        "errors": errors,
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"reason": None},
            [{"pointer": "/reason", "code": "wrong_type", "message": "Expected `str`, got `null`."}],
        ),
        (
            {"reason": ""},
            [{"pointer": "/reason", "code": "too_short", "message": "Expected `str` of length >= 1."}],
        ),
        (
            {"reason": "  "},
            [
                {
                    "pointer": "/reason",
                    "code": "blank",
                    "message": "`reason` says why the past is changed: it cannot be blank.",
                }
            ],
        ),
        (
            {"reason": "x" * 501},
            [{"pointer": "/reason", "code": "too_long", "message": "Expected `str` of length <= 500."}],
        ),
        (
            {"valid_from": "2025-04-01T00:00:00Z", "valid_to": "2025-04-01T08:00:00+08:00"},
            [
                {
                    "pointer": "/valid_to",
                    "code": "before_valid_from",
                    "message": "`valid_to` must be after `valid_from`.",
                }
            ],
        ),
        (
            {"valid_from": "2025-05-01T00:00:00Z", "valid_to": "2025-04-01T00:00:00Z", "amount": "-1"},
            [
                {"pointer": "/amount", "code": "negative_amount", "message": "The amount cannot be negative."},
                {
                    "pointer": "/valid_to",
                    "code": "before_valid_from",
                    "message": "`valid_to` must be after `valid_from`.",
                },
            ],
        ),
        (
            {"amount": 90},
            [{"pointer": "/amount", "code": "wrong_type", "message": "Expected `str`, got `int`."}],
        ),
        (
            {"kind": "promotion"},
            [{"pointer": "/kind", "code": "invalid_choice", "message": "Invalid enum value 'promotion'."}],
        ),
    ],
)
async def test_a_bad_correction_is_a_422_naming_each_field_and_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection, sku: None, body: dict[str, Any], errors: list[dict[str, str]]
) -> None:
    r = await api.post(
        CORRECTIONS, json={**correction("90.00", "2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z"), **body}
    )
    assert r.status_code == 422, r.text
    assert r.json() == problem(errors)
    assert await history(api) == []
    assert await conn.fetchval("SELECT count(*) FROM price_corrections") == 0


@pytest.mark.parametrize("missing", ["reason", "valid_to", "amount", "valid_from"])
async def test_a_correction_must_name_its_range_its_amount_and_its_reason(
    api: httpx.AsyncClient, sku: None, missing: str
) -> None:
    body = correction("90.00", "2025-03-01T00:00:00Z", None)
    del body[missing]
    r = await api.post(CORRECTIONS, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"pointer": f"/{missing}", "code": "required", "message": f"`{missing}` is required."}
    ]


async def test_a_correction_of_an_unknown_sku_is_a_404(api: httpx.AsyncClient, sku: None) -> None:
    r = await api.post("/v1/skus/NOPE/prices/corrections", json=correction("1.00", "2025-03-01T00:00:00Z", None))
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/sku-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No SKU has the code 'NOPE'.",
        "code": "sku-not-found",
        "instance": "/v1/skus/NOPE/prices/corrections",
    }
    assert (await api.get("/v1/skus/NOPE/prices/corrections")).status_code == 404


async def test_only_finance_and_admin_correct_prices_and_purchasing_reads_the_corrections(
    as_role: Any, conn: asyncpg.Connection, sku: None
) -> None:
    body = correction("61.80", "2025-03-01T00:00:00Z", None, kind="cost")
    for role in ("purchasing", "listing", "marketing", "warehouse", "service", "storefront"):
        async with as_role(role) as client:
            r = await client.post(CORRECTIONS, json=body)
            assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
    async with as_role(None) as client:
        assert (await client.post(CORRECTIONS, json=body)).status_code == 401
    assert await conn.fetchval("SELECT count(*) FROM prices") == 0
    async with as_role("finance") as client:
        r = await client.post(CORRECTIONS, json=body)
        assert (r.status_code, r.json()["actor"]) == (201, "test-finance")
    async with as_role("admin") as client:
        r = await client.post(CORRECTIONS, json={**body, "amount": "62.00"})
        assert (r.status_code, r.json()["actor"]) == (201, "test-admin")
    for role, status in (("purchasing", 200), ("finance", 200), ("admin", 200), ("listing", 403), ("marketing", 403)):
        async with as_role(role) as client:
            assert (await client.get(CORRECTIONS)).status_code == status, role


async def test_the_corrections_page_newest_first_with_a_cursor(api: httpx.AsyncClient, sku: None) -> None:
    for month in range(1, 6):
        r = await api.post(CORRECTIONS, json=correction(f"{100 + month}.00", f"2025-0{month}-01T00:00:00Z", None))
        assert r.status_code == 201, r.text
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = (await api.get(CORRECTIONS, params={"limit": "2", **({"cursor": cursor} if cursor else {})})).json()
        seen.extend(c["amount"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["105.00", "104.00", "103.00", "102.00", "101.00"]


async def test_a_cost_correction_re_costs_the_facts_of_its_days_as_if_the_price_had_always_been_right(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)  # A-1 cost 60 until 2026-01-15, then 70; facts of A-1 on 2026-01-10 (15 units) and 01-20
    wrong = await snapshot(api, conn)
    body = {**correction("65.00", "2026-01-01T00:00:00Z", "2026-01-15T00:00:00Z"), "kind": "cost"}
    r = await api.post("/v1/skus/A-1/prices/corrections", json=body)
    assert r.status_code == 201, r.text
    corrected = await snapshot(api, conn)
    jan = [r for r in corrected["rollup"] if r["sku"] == "A-1" and r["month"].month == 1]
    assert [(r["channel"], str(r["cost"])) for r in jan] == [("distribution", "650.0000"), ("web", "535.0000")]
    assert corrected != wrong
    # The facts sent afresh now are costed at the corrected history: the same figures everywhere.
    facts = (await api.get("/v1/sales", params={"limit": "500"})).json()["items"]
    removed = await api.delete("/v1/sales", params={"from": "2000-01-01", "to": "2030-12-31", "reason": "reload"})
    assert removed.json()["removed"] == len(facts) == 6
    reloaded = [{k: v for k, v in x.items() if k != "updated_at"} for x in facts]
    assert (await api.post("/v1/sales", json={"facts": reloaded})).json()["inserted"] == 6
    assert await snapshot(api, conn) == corrected


async def test_a_cost_price_recorded_now_re_costs_todays_facts(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    today = (await conn.fetchval("SELECT (now() AT TIME ZONE 'UTC')::date")).isoformat()
    fact = {"day": today, "sku": "B-1", "channel": "web", "qty": 3, "revenue": {"amount": "150.00", "currency": "CNY"}}
    assert (await api.post("/v1/sales", json={"facts": [fact]})).status_code == 200
    cost = (
        "SELECT cost FROM sales_facts f JOIN skus s ON s.id = f.sku_id WHERE s.sku = 'B-1' AND f.day = $1::text::date"
    )
    assert str(await conn.fetchval(cost, today)) == "90.0000"  # 3 × 30
    r = await api.post("/v1/skus/B-1/prices", json={"kind": "cost", "amount": "32.00", "currency": "CNY"})
    assert r.status_code == 201, r.text
    assert str(await conn.fetchval(cost, today)) == "96.0000"  # 3 × 32: the price in force at the day's end
    assert [dict(r) for r in await conn.fetch(ROLLUP)] == [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]
