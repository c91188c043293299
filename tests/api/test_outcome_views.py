"""The window items of the stage views (issue 14): marketing reads a product's share of its home category and
its promotions with their ROI, service reads its return rate and the reasons units came back for — units,
shares, rates, ROI and margin percent, never amounts; figures computed by hand below, on days counted back
from today (the default window is the 28 days up to today, UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories as f
from tests.api.test_promotion_roi import run_jobs
from tests.api.test_reports import price, sale
from tests.api.test_returns import post, ret

TODAY = datetime.now(UTC).date()


@pytest.fixture(autouse=True)
def today() -> None:
    """Today as the views see it, read when each test starts (not when the module is collected: a run that
    crosses midnight between the two had the views count from one day and the tests from the one before)."""
    global TODAY
    TODAY = datetime.now(UTC).date()


def day(back: int) -> date:
    return TODAY - timedelta(days=back)


def at(back: int) -> str:
    """Midnight (UTC) `back` days before today (negative: after)."""
    return f"{day(back).isoformat()}T00:00:00Z"


async def shop(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    """scarves: silk-sq (SKUs A, A2), silk-long (B), silk-new (N, never sold); home: oil (C); bare: lonely (L,
    alone in its category, never sold). Costs 60 (A, A2), 30 (B).

    Sales (T = today): A T-40 10 × 100, A T-3 6 × 100; A2 T-1 2 × 100; B T-2 12 × 50; C T-2 100 × 10.
    Returns today: A 2 wrong_size (resellable, reversing the web sale of T-3, 200.00 refunded), A 1 defective
    (not resellable, no sale named) — so A's T-3 fact nets to 4 units, 400.00.
    Promotions of silk-sq: `past` T-5..T-3 (A at 90, spend 100), `running` T-1..T+1 (A2 at 95, no spend),
    `later` T+5..T+6 (A: not started); `other` T-5..T-3 lists B only."""
    await f.tree(conn)
    for code in ("scarves", "home", "bare"):
        await f.category(conn, code)
    for code, category in (
        ("silk-sq", "scarves"),
        ("silk-long", "scarves"),
        ("silk-new", "scarves"),
        ("oil", "home"),
        ("lonely", "bare"),
    ):
        await f.product(conn, code, category, lifecycle="listed")
    await f.sku(conn, "A", "silk-sq", axes={"size": "s"})
    await f.sku(conn, "A2", "silk-sq", axes={"size": "m"})
    for sku, product in (("B", "silk-long"), ("N", "silk-new"), ("C", "oil"), ("L", "lonely")):
        await f.sku(conn, sku, product)
    for sku, sale_price, cost in (("A", "100", "60"), ("A2", "100", "60"), ("B", "50", "30")):
        await price(conn, sku, "sale", sale_price, "2020-01-01T00:00:00Z")
        await price(conn, sku, "cost", cost, "2020-01-01T00:00:00Z")
    for back, sku, qty, revenue in (
        (40, "A", 10, "1000"),
        (3, "A", 6, "600"),
        (1, "A2", 2, "200"),
        (2, "B", 12, "600"),
        (2, "C", 100, "1000"),
    ):
        await sale(conn, day(back).isoformat(), sku, "web", qty, revenue)
    wid = await conn.fetchval("INSERT INTO warehouses (code, labels) VALUES ('hz', '{}') RETURNING id")
    await conn.execute(
        "INSERT INTO locations (warehouse_id, code, zone, pick_sequence, quarantine)"
        " VALUES ($1, 'A-01', 'A', 10, false), ($1, 'Q-01', 'Q', 90, true)",
        wid,
    )
    r = await post(
        api,
        {
            "movements": [
                ret(
                    "A", 2, "wrong_size", sale=("web", day(3).isoformat()), refund={"amount": "200", "currency": "CNY"}
                ),
                ret("A", 1, "defective", "not_resellable"),
            ]
        },
    )
    assert r.status_code == 201, r.text
    for code, first, last, sku, amount, spend in (
        ("past", 5, 3, "A", "90", {"amount": "100", "currency": "CNY"}),
        ("running", 1, -1, "A2", "95", None),
        ("later", -5, -6, "A", "90", None),
        ("other", 5, 3, "B", "45", None),
    ):
        body: dict[str, Any] = {
            "code": code,
            "starts_at": at(first),
            "ends_at": at(last - 1),
            "items": [{"sku": sku, "price": {"amount": amount, "currency": "CNY"}}],
        }
        if spend:
            body["spend"] = spend
        r = await api.post("/v1/promotions", json=body)
        assert r.status_code == 201, r.text
    await run_jobs(conn)  # (the promotion outcomes: recomputed by a job)


async def item(client: httpx.AsyncClient, product: str, stage: str, name: str, **params: str) -> dict[str, Any]:
    r = await client.get(f"/v1/products/{product}/views/{stage}", params=params)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = next(i for i in r.json()["items"] if i["item"] == name)
    return found


def window(first: date, last: date | None = None) -> dict[str, str]:
    return {"from": first.isoformat(), "to": (last or TODAY).isoformat()}


async def test_marketing_sees_a_products_share_of_its_home_category_over_a_window(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(api, conn)
    share = await item(api, "silk-sq", "marketing", "category_share")
    assert (share["present"], share["required"], share["kind"]) == (True, False, "field")
    # the last 28 days, net of returns: silk-sq 4 (A) + 2 (A2) of 18 with silk-long's 12 (oil is in home);
    # revenue 400 + 200 of 1,200
    assert share["value"] == {
        **window(day(27)),
        "category": "scarves",
        "labels": {"en": "scarves"},
        "units": 6,
        "category_units": 18,
        "units_share": "33.33",
        "revenue_share": {"CNY": "50.00"},
    }
    # 61 days hold a whole month (read from the rollup) and the days around it (from the facts): A's 10 of T-40
    # count too: 16 of 28 units, 1,600 of 2,200
    wide = (await item(api, "silk-sq", "marketing", "category_share", **window(day(60))))["value"]
    assert (wide["units"], wide["category_units"], wide["units_share"], wide["revenue_share"]) == (
        16,
        28,
        "57.14",
        {"CNY": "72.73"},
    )
    # one day with one sale in the category: all of it
    one = (await item(api, "silk-sq", "marketing", "category_share", **window(day(40), day(40))))["value"]
    assert (one["units"], one["category_units"], one["units_share"], one["revenue_share"]) == (
        10,
        10,
        "100.00",
        {"CNY": "100.00"},
    )
    # days of T-40's month without its sale (a period that cuts the month: its rollup rows sum to nothing there):
    # nothing sold in the category, no share
    d40 = day(40)
    first, last = (d40.replace(day=1), d40 - timedelta(days=1))
    if d40.day == 1:
        first, last = d40 + timedelta(days=1), d40 + timedelta(days=5)
    none = (await item(api, "silk-sq", "marketing", "category_share", **window(first, last)))["value"]
    assert (none["units"], none["category_units"], none["units_share"], none["revenue_share"]) == (0, 0, None, {})
    # a product that sold nothing in a category that did: 0 %; alone in a category that sold nothing: no share
    new = (await item(api, "silk-new", "marketing", "category_share"))["value"]
    assert (new["units"], new["category_units"], new["units_share"], new["revenue_share"]) == (
        0,
        18,
        "0.00",
        {"CNY": "0.00"},
    )
    lonely = (await item(api, "lonely", "marketing", "category_share"))["value"]
    assert (lonely["units"], lonely["category_units"], lonely["units_share"], lonely["revenue_share"]) == (
        0,
        0,
        None,
        {},
    )


async def test_marketing_sees_running_and_past_promotions_with_roi_and_margin_percent_never_amounts(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(api, conn)
    promotions = await item(api, "silk-sq", "marketing", "promotion_outcomes")
    # newest first; `later` has not started, `other` lists silk-long only.
    # past, T-5..T-3 (3 days): A sold 4 units (6, 2 came back), 400.00 at cost 4 × 60: margin 160.00 (40 %);
    # baseline T-8..T-6 sold nothing: increment 4 units; ROI (160 − 100) / 100 = 0.6.
    # running, T-1..T+1: A2 2 units, 200.00 − 120.00 (40 %); no spend, days still to come.
    assert promotions["value"] == [
        {
            "promotion": "running",
            "first_day": day(1).isoformat(),
            "last_day": day(-1).isoformat(),
            "state": "running",
            "roi": None,
            "units": 2,
            "margin_pct": "40.00",
            "incremental_units": "2.00",
            "caveats": "no spend recorded: no ROI; the promotion has days from today on: their sales are not all in",
        },
        {
            "promotion": "past",
            "first_day": day(5).isoformat(),
            "last_day": day(3).isoformat(),
            "state": "past",
            "roi": "0.6000",
            "units": 4,
            "margin_pct": "40.00",
            "incremental_units": "4.00",
            "caveats": None,
        },
    ]
    # the ROI report says the same of `past`
    report = (await api.get("/v1/reports/promotion-roi", params={"promotion": "past"})).json()["items"][0]
    assert (report["roi"], report["margin_pct"], report["units"]) == ("0.6000", "40.00", 4)
    # a view up to a day before `running` started lists `past` alone; a product with no promotion: none
    earlier = await item(api, "silk-sq", "marketing", "promotion_outcomes", **window(day(10), day(2)))
    assert [p["promotion"] for p in earlier["value"]] == ["past"]
    none = await item(api, "silk-new", "marketing", "promotion_outcomes")
    assert (none["present"], none.get("value")) == (False, None)


async def test_service_sees_a_products_return_rate_and_its_reasons(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(api, conn)
    returns = await item(api, "silk-sq", "service", "returns")
    # the last 28 days: 8 units sold (A 6, A2 2, as uploaded), 3 came back today: 37.5 %
    assert returns["value"] == {
        **window(day(27)),
        "sold": 8,
        "returned": 3,
        "resellable": 2,
        "return_rate": "37.50",
        "reasons": [
            {
                "reason": "wrong_size",
                "labels": {"zh-CN": "尺码不合适", "en": "Wrong size"},
                "units": 2,
                "share": "66.67",
            },
            {"reason": "defective", "labels": {"zh-CN": "质量问题", "en": "Defective"}, "units": 1, "share": "33.33"},
        ],
    }
    # the returns report agrees
    report = await api.get("/v1/reports/returns", params={"by": "product", **window(day(27))})
    assert [(r["group"], r["sold"], r["returned"], r["return_rate"]) for r in report.json()["items"]] == [
        ("silk-sq", 8, 3, "37.50"),
        ("oil", 100, 0, "0.00"),
        ("silk-long", 12, 0, "0.00"),
    ]
    # before the returns: sold, nothing back (0 %, not null)
    before = (await item(api, "silk-sq", "service", "returns", **window(day(40), day(1))))["value"]
    assert (before["sold"], before["returned"], before["return_rate"], before["reasons"]) == (18, 0, "0.00", [])
    # sold nothing, in the window or at all: no rate (not 0 / 0)
    for product, params in (("silk-new", {}), ("silk-sq", window(day(80), day(70)))):
        none = (await item(api, product, "service", "returns", **params))["value"]
        assert (none["sold"], none["returned"], none["return_rate"], none["reasons"]) == (0, 0, None, []), product
    # today alone: 3 back of nothing sold today
    today = (await item(api, "silk-sq", "service", "returns", **window(TODAY)))["value"]
    assert (today["sold"], today["returned"], today["return_rate"]) == (0, 3, None)
    # the service lookup shows the same item
    lookup = (await api.get("/v1/service/lookup", params={"q": "A2"})).json()["items"][0]
    assert next(n for n in lookup["needs"] if n["item"] == "returns")["value"] == returns["value"]


async def test_a_window_is_a_day_range_and_a_reversed_one_is_a_400(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(api, conn)
    r = await api.get("/v1/products/silk-sq/views/service", params=window(day(1), day(2)))
    assert r.status_code == 400
    assert r.json()["errors"] == [{"parameter": "from", "code": "dates_reversed", "message": "`from` is after `to`."}]
    r = await api.get("/v1/products/silk-sq/views/service", params={"to": "2026-02-30"})
    assert (r.status_code, r.json()["code"], r.json()["detail"]) == (
        400,
        "invalid-parameter",
        "Invalid RFC3339 encoded date.",
    )
    # only `to`: the 28 days up to it; only `from`: from it to today; the first day there is
    returns = (await item(api, "silk-sq", "service", "returns", to=day(3).isoformat()))["value"]
    assert (returns["from"], returns["to"], returns["sold"]) == (day(30).isoformat(), day(3).isoformat(), 6)
    returns = (await item(api, "silk-sq", "service", "returns", **{"from": day(2).isoformat()}))["value"]
    assert (returns["from"], returns["to"], returns["sold"], returns["returned"]) == (
        day(2).isoformat(),
        TODAY.isoformat(),
        2,
        3,
    )
    edge = (await item(api, "silk-sq", "service", "returns", to="0001-01-05"))["value"]
    assert (edge["from"], edge["to"], edge["return_rate"]) == ("0001-01-01", "0001-01-05", None)
    far = await item(api, "silk-sq", "marketing", "category_share", **{"from": "0001-01-01", "to": "9999-12-31"})
    assert (far["value"]["units"], far["value"]["category_units"]) == (16, 28)


async def test_each_role_reads_its_own_window_items_and_no_role_sees_amounts_there(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await shop(api, conn)
    amounts = {"revenue", "margin", "spend", "cost", "discount_cost", "amount", "baseline_margin", "refunded"}
    seen: dict[str, Any] = {}
    for role in ("marketing", "admin"):
        async with as_role(role) as client:
            view = (await client.get("/v1/products/silk-sq/views/marketing")).json()
        items = {i["item"]: i for i in view["items"]}
        assert items["category_share"]["present"] is True and items["promotion_outcomes"]["present"] is True
        for entry in [items["category_share"]["value"], *items["promotion_outcomes"]["value"]]:
            assert not amounts & set(entry), (role, entry)
        seen[role] = (items["category_share"]["value"], items["promotion_outcomes"]["value"])
    assert seen["marketing"] == seen["admin"]  # nothing held back from marketing: nothing there is confidential
    for role, stage, status in (
        ("service", "service", 200),
        ("service", "marketing", 403),
        ("marketing", "service", 403),
        ("finance", "marketing", 403),
        ("purchasing", "service", 403),
        ("storefront", "service", 403),
        ("storefront", "marketing", 403),
    ):
        async with as_role(role) as client:
            r = await client.get(f"/v1/products/silk-sq/views/{stage}")
        assert r.status_code == status, (role, stage, r.text)
        if status == 200:
            returns = next(i for i in r.json()["items"] if i["item"] == "returns")["value"]
            assert (returns["return_rate"], not amounts & set(returns)) == ("37.50", True)


async def test_a_share_counts_the_products_of_the_home_category_itself_not_of_its_subcategories(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(api, conn)
    await f.category(conn, "mini-scarves", parent="scarves")  # a subcategory of silk-sq's home, with sales
    await f.product(conn, "silk-mini", "mini-scarves", lifecycle="listed")
    await f.sku(conn, "M", "silk-mini")
    await sale(conn, day(2).isoformat(), "M", "web", 5, "250")
    share = (await item(api, "silk-sq", "marketing", "category_share"))["value"]
    assert (share["units"], share["category_units"], share["units_share"]) == (6, 18, "33.33")  # as before
    mini = (await item(api, "silk-mini", "marketing", "category_share"))["value"]
    assert (mini["category"], mini["units"], mini["category_units"], mini["units_share"]) == (
        "mini-scarves",
        5,
        5,
        "100.00",
    )
