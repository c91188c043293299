"""Correcting sales facts: removing the facts of a day or a range (optionally one SKU and one channel) and
re-sending a fact with fewer units or none. Afterwards every rollup and report is exactly that of a database
that never had the removed fact (or only ever had the corrected one); removals are audited with their reason,
need their days and a reason, are for finance only, and are retry-safe."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.api.test_reports import sale, shop
from tests.api.test_sales import ROLLUP

TOTALS = (
    "SELECT s.sku, t.currency, t.product_id, facts, qty, revenue, cost, costed_qty, costed_facts, costed_revenue,"
    " distribution_value, distributed_qty, distributed_facts, returned_qty"
    " FROM sales_sku_totals t JOIN skus s ON s.id = t.sku_id ORDER BY 1, 2"
)
# Periods that read whole months from the rollup, partial months from the facts, or most of the history as
# the totals minus the months outside it.
PERIODS: list[dict[str, str]] = [
    {},
    {"from": "2026-01-01", "to": "2026-01-31"},
    {"from": "2026-01-11", "to": "2026-02-10"},
    {"from": "2025-12-15", "to": "2026-03-31"},
    {"from": "2026-03-01", "to": "2026-03-31"},
]


async def snapshot(api: httpx.AsyncClient, conn: asyncpg.Connection) -> dict[str, Any]:
    """Everything read from the sales facts: each sales report over each period and for a subtree, the other
    reports, the rollup and the per-SKU totals (which the stage views' sales volume reads)."""
    taken: dict[str, Any] = {}
    for name in ("assortment", "abc", "purchasing-scorecard", "receivables"):
        for period in [*PERIODS, {"category": "scarves"}, {"category": "scarves", "from": "2026-01-11"}]:
            r = await api.get(f"/v1/reports/{name}", params=period)
            assert r.status_code == 200, r.text
            taken[f"{name} {period}"] = r.json()
    for name, params in (("margins", {"by": "category"}), ("inventory-valuation", {}), ("payables", {})):
        r = await api.get(f"/v1/reports/{name}", params=params)
        assert r.status_code == 200, r.text
        taken[name] = r.json()
        taken[name]["parameters"].pop("at", None)  # "now" as the clock read it
    taken["rollup"] = [dict(r) for r in await conn.fetch(ROLLUP)]
    taken["totals"] = [dict(r) for r in await conn.fetch(TOTALS)]
    return taken


def fact(day: str, sku: str, channel: str, qty: int, amount: str) -> dict[str, Any]:
    return {"day": day, "sku": sku, "channel": channel, "qty": qty, "revenue": {"amount": amount, "currency": "CNY"}}


async def upload(api: httpx.AsyncClient, *facts: dict[str, Any]) -> dict[str, Any]:
    r = await api.post("/v1/sales", json={"facts": list(facts)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def remove(api: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await api.delete("/v1/sales", params={"reason": "POS sent the day twice", **params})


async def facts(api: httpx.AsyncClient, **params: str) -> list[tuple[str, str, str, int, str]]:
    r = await api.get("/v1/sales", params={"limit": "500", **params})
    assert r.status_code == 200, r.text
    return [(x["day"], x["sku"], x["channel"], x["qty"], x["revenue"]["amount"]) for x in r.json()["items"]]


async def test_removed_facts_leave_every_report_as_in_a_database_that_never_had_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    never = await snapshot(api, conn)
    await upload(
        api,
        fact("2026-01-12", "A-1", "web", 6, "600.00"),  # into a month the rollup has rows of (they move back)
        fact("2026-01-12", "C-1", "distribution", 4, "600.00"),  # a distribution sale: receivables
        fact("2026-03-05", "B-1", "web", 7, "350.00"),  # a month of its own (its rollup row goes with it)
        fact("2026-03-06", "B-1", "app", 1, "50.00"),
    )
    assert await snapshot(api, conn) != never
    r = await remove(api, day="2026-01-12")
    assert r.status_code == 200, r.text
    assert r.json() == {"removed": 2, "skus": 2, "qty": 10, "revenue": [{"amount": "1200.00", "currency": "CNY"}]}
    r = await remove(api, sku="B-1", **{"from": "2026-03-01", "to": "2026-03-31"})
    assert r.json() == {"removed": 2, "skus": 1, "qty": 8, "revenue": [{"amount": "400.00", "currency": "CNY"}]}
    assert await snapshot(api, conn) == never


async def test_a_fact_corrected_to_fewer_units_or_to_none_reports_as_if_only_the_correction_was_ever_sent(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    base = await snapshot(api, conn)
    # A-1 web on 2026-01-10 is 5 × 500.00 in the shop; B-1 distribution on 2026-02-03 2 × 80.00.
    await upload(api, fact("2026-01-10", "A-1", "web", 0, "0.00"), fact("2026-02-03", "B-1", "distribution", 0, "0"))
    to_zero = await snapshot(api, conn)
    await upload(api, fact("2026-01-10", "A-1", "web", 2, "200.00"), fact("2026-02-03", "B-1", "distribution", 1, "40"))
    to_fewer = await snapshot(api, conn)
    assert len({repr(base), repr(to_zero), repr(to_fewer)}) == 3
    # Up again, then corrected down: exactly the figures of the database that only had the lower ones.
    assert (await upload(api, fact("2026-01-10", "A-1", "web", 9, "900.00")))["replaced"] == 1
    await upload(api, fact("2026-01-10", "A-1", "web", 2, "200.00"))
    assert await snapshot(api, conn) == to_fewer
    await upload(api, fact("2026-01-10", "A-1", "web", 0, "0.00"), fact("2026-02-03", "B-1", "distribution", 0, "0"))
    assert await snapshot(api, conn) == to_zero
    # a fact of zero units is still a fact (a day reported as sold nothing); removed, it is gone
    assert ("2026-01-10", "A-1", "web", 0, "0.00") in await facts(api, day="2026-01-10")
    assert (await remove(api, day="2026-01-10", sku="A-1", channel="web")).json()["removed"] == 1
    assert (await remove(api, day="2026-02-03", sku="B-1")).json()["removed"] == 1
    await upload(api, fact("2026-01-10", "A-1", "web", 5, "500.00"), fact("2026-02-03", "B-1", "distribution", 2, "80"))
    assert await snapshot(api, conn) == base


async def test_a_removal_takes_only_what_its_filters_name_and_the_audit_keeps_each_skus_facts_and_the_reason(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    before = await facts(api)
    assert await facts(api, day="2026-01-10") == [
        ("2026-01-10", "A-1", "distribution", 10, "800.00"),
        ("2026-01-10", "A-1", "web", 5, "500.00"),
        ("2026-01-10", "B-1", "web", 4, "200.00"),
        ("2026-01-10", "C-1", "web", 1, "200.00"),
    ]
    r = await api.delete(
        "/v1/sales", params={"day": "2026-01-10", "channel": "web", "reason": "  web shop counted test orders  "}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"removed": 3, "skus": 3, "qty": 10, "revenue": [{"amount": "900.00", "currency": "CNY"}]}
    assert await facts(api) == [x for x in before if not (x[0] == "2026-01-10" and x[2] == "web")]
    audit = (await api.get("/v1/audit", params={"entity": "sales"})).json()["items"]
    assert [(e["action"], e["code"], e["actor"], e["reason"], e["version"], e["changes"]) for e in audit] == [
        (
            "delete",
            sku,
            "test-admin",
            "web shop counted test orders",
            None,
            {
                "facts": {
                    "before": [{"day": "2026-01-10", "channel": "web", "qty": qty, "revenue": revenue}],
                    "after": None,
                }
            },
        )
        for sku, qty, revenue in (
            ("C-1", 1, {"amount": "200.00", "currency": "CNY"}),
            ("B-1", 4, {"amount": "200.00", "currency": "CNY"}),
            ("A-1", 5, {"amount": "500.00", "currency": "CNY"}),
        )
    ]
    # nothing left to remove: removing again is harmless, answers 0 and records nothing
    r = await remove(api, day="2026-01-10", channel="web")
    assert r.json() == {"removed": 0, "skus": 0, "qty": 0, "revenue": []}
    assert len((await api.get("/v1/audit", params={"entity": "sales"})).json()["items"]) == 3
    # other audit records keep their shape: no reason member where none was given
    await api.post("/v1/series", json={"code": "s1", "labels": {"en": "S1"}})
    assert "reason" not in (await api.get("/v1/audit", params={"entity": "series"})).json()["items"][0]


async def test_a_retry_with_the_idempotency_key_answers_the_first_answer_and_removes_nothing_more(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    params = {"day": "2026-01-10", "sku": "A-1", "reason": "duplicate"}
    key = {"Idempotency-Key": "fix-2026-01-10"}
    first = await api.delete("/v1/sales", params=params, headers=key)
    assert first.json() == {"removed": 2, "skus": 1, "qty": 15, "revenue": [{"amount": "1300.00", "currency": "CNY"}]}
    # the day is uploaded again meanwhile; the retry must not take it
    await upload(api, fact("2026-01-10", "A-1", "web", 1, "100.00"))
    again = await api.delete("/v1/sales", params=params, headers=key)
    assert (again.status_code, again.json()) == (200, first.json())
    assert await facts(api, day="2026-01-10", sku="A-1") == [("2026-01-10", "A-1", "web", 1, "100.00")]
    other = await api.delete("/v1/sales", params={**params, "channel": "web"}, headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"
    # an upload's key is not a removal's: the same key on another kind of request is refused too
    upload_key = {"Idempotency-Key": "upload-7"}
    body = {"facts": [fact("2026-01-11", "A-1", "web", 1, "100.00")]}
    assert (await api.post("/v1/sales", json=body, headers=upload_key)).status_code == 200
    assert (await api.delete("/v1/sales", params=params, headers=upload_key)).status_code == 422
    assert len(await facts(api, sku="A-1")) == 3


@pytest.mark.parametrize(
    ("params", "parameter", "code", "message"),
    [
        (
            {},
            "day",
            "required",
            "A removal names its days: `day`, or both `from` and `to` (no removal without them).",
        ),
        (
            {"sku": "A-1", "channel": "web"},
            "day",
            "required",
            "A removal names its days: `day`, or both `from` and `to` (no removal without them).",
        ),
        (
            {"from": "2026-01-01"},
            "to",
            "required",
            "A removal names its days: `day`, or both `from` and `to` (no removal without them).",
        ),
        (
            {"to": "2026-01-31"},
            "from",
            "required",
            "A removal names its days: `day`, or both `from` and `to` (no removal without them).",
        ),
        (
            {"day": "2026-01-10", "from": "2026-01-01"},
            "from",
            "conflicting",
            "Send `day` for one day, or `from` and `to` for a range: not both.",
        ),
        (
            {"day": "0001-01-01"},
            "day",
            "before_first_day",
            "0001-01-01 is before 2000-01-01: no sale is kept before that day.",
        ),
        (
            {"from": "1999-12-31", "to": "2000-01-05"},
            "from",
            "before_first_day",
            "1999-12-31 is before 2000-01-01: no sale is kept before that day.",
        ),
        (
            {"from": "2026-01-31", "to": "2026-01-01"},
            "to",
            "before_from",
            "`to` (2026-01-01) is before `from` (2026-01-31).",
        ),
        (
            {"day": "2026-01-10", "reason": None},
            "reason",
            "required",
            "A removal says why: `reason` is kept in the audit trail.",
        ),
        (
            {"day": "2026-01-10", "reason": "   "},
            "reason",
            "required",
            "A removal says why: `reason` is kept in the audit trail.",
        ),
        (
            {"day": "2026-01-10", "reason": "x" * 501},
            "reason",
            "too_long",
            "`reason` has at most 500 characters.",
        ),
        (
            {"day": "2026-01-10", "channel": "Web Shop"},
            "channel",
            "invalid_format",
            "'Web Shop' is not a channel code.",
        ),
    ],
)
async def test_a_removal_without_its_days_or_a_reason_or_with_a_bad_filter_is_a_400_and_removes_nothing(
    api: httpx.AsyncClient,
    conn: asyncpg.Connection,
    params: dict[str, str | None],
    parameter: str,
    code: str,
    message: str,
) -> None:
    await shop(conn)
    before = await facts(api)
    query = {k: v for k, v in {"reason": "typo", **params}.items() if v is not None}
    r = await api.delete("/v1/sales", params=query)
    assert r.status_code == 400, r.text
    assert r.json() == {
        "type": "/problems/invalid-parameter",
        "title": "Invalid query parameter",
        "status": 400,
        "detail": message,
        "code": "invalid-parameter",
        "instance": "/v1/sales",
        "errors": [{"parameter": parameter, "code": code, "message": message}],
    }
    assert await facts(api) == before


async def test_a_removal_naming_an_unknown_sku_is_a_404_and_an_unparseable_day_a_400(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    before = await facts(api)
    r = await remove(api, day="2026-01-10", sku="NO-SUCH")
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/sku-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No SKU has the code 'NO-SUCH'.",
        "code": "sku-not-found",
        "instance": "/v1/sales",
    }
    r = await remove(api, day="2026-13-01")
    assert r.status_code == 400
    assert (r.json()["code"], [e["parameter"] for e in r.json()["errors"]]) == ("invalid-parameter", ["day"])
    # named as the client sends it, not as the handler calls it (since, until)
    r = await remove(api, **{"from": "2026-13-01", "to": "2026-01-31"})
    assert (r.status_code, [e["parameter"] for e in r.json()["errors"]]) == (400, ["from"])
    r = await remove(api, **{"from": "2026-01-01", "to": "2026-01-32"})
    assert (r.status_code, [e["parameter"] for e in r.json()["errors"]]) == (400, ["to"])
    assert await facts(api) == before
    assert (await api.get("/v1/audit", params={"entity": "sales"})).json()["items"] == []


async def test_only_finance_and_admin_remove_sales_facts(as_role: Any, conn: asyncpg.Connection) -> None:
    await shop(conn)
    params = {"day": "2026-01-10", "sku": "C-1", "reason": "test"}
    for role in ("marketing", "purchasing", "warehouse", "listing", "service", "storefront"):
        async with as_role(role) as client:
            r = await client.delete("/v1/sales", params=params)
            assert r.status_code == 403, role
            assert r.json()["code"] == "forbidden"
    async with as_role(None) as client:
        assert (await client.delete("/v1/sales", params=params)).status_code == 401
    async with as_role("finance") as client:
        assert await facts(client, sku="C-1") == [("2026-01-10", "C-1", "web", 1, "200.00")]
        assert (await client.delete("/v1/sales", params=params)).json()["removed"] == 1
        assert await facts(client, sku="C-1") == []
        audit = await conn.fetchval("SELECT actor FROM audit_log WHERE entity = 'sales' AND code = 'C-1'")
        assert audit == "test-finance"


async def test_the_listing_takes_one_day_and_refuses_a_day_with_a_range_or_a_reversed_range(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    assert await facts(api, day="2026-02-03") == [("2026-02-03", "B-1", "distribution", 2, "80.00")]
    assert await facts(api, day="2026-02-04") == []
    r = await api.get("/v1/sales", params={"day": "2026-02-03", "to": "2026-02-05"})
    assert (r.status_code, r.json()["errors"][0]["parameter"]) == (400, "to")
    r = await api.get("/v1/sales", params={"from": "2026-02-05", "to": "2026-02-03"})
    assert (r.status_code, r.json()["errors"][0]["code"]) == (400, "before_from")


async def test_a_month_removed_and_sent_again_gives_back_the_very_same_rollup_rows(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    rollup = [dict(r) for r in await conn.fetch(ROLLUP)]
    await remove(api, **{"from": "2026-01-01", "to": "2026-01-31"})
    await upload(
        api,
        fact("2026-01-10", "A-1", "web", 5, "500.00"),
        fact("2026-01-20", "A-1", "web", 3, "300.00"),
        fact("2026-01-10", "A-1", "distribution", 10, "800.00"),
        fact("2026-01-10", "B-1", "web", 4, "200.00"),
        fact("2026-01-10", "C-1", "web", 1, "200.00"),
    )
    assert [dict(r) for r in await conn.fetch(ROLLUP)] == rollup
    await sale(conn, "2026-01-20", "A-1", "web", 3, "300.00")
    assert [dict(r) for r in await conn.fetch(ROLLUP)] == rollup
