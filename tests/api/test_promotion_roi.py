"""Promotion outcomes (营销推广): a promotion's spend and baseline rule, and GET /v1/reports/promotion-roi —
figures computed by hand below: a promotion that lost money, one with no sales, one whose baseline window
reaches before any sales data, and the effect on the other listed products of the category and series."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from api.db import OneConnectionPool
from domain.jobs.service import run_pending
from tests import factories as f
from tests.api.test_reports import price, sale

# The fields of a row the tests compare, in order.
FIELDS = (
    "level",
    "sku",
    "days",
    "baseline_days",
    "baseline_days_known",
    "units",
    "revenue",
    "margin",
    "margin_pct",
    "baseline_units",
    "baseline_revenue",
    "baseline_margin",
    "incremental_units",
    "incremental_revenue",
    "incremental_margin",
    "discount_cost",
    "spend",
    "roi",
    "effect",
)


async def market(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    """silk-sq (A) and silk-long (B) in scarves; lavender-set (D) in home but in the silk series with silk-sq;
    oil (C) in home, no series: not a neighbour; silk-old (E) in scarves, retired: no neighbour either (it sold
    on Mar 12 all the same). Sales data start on 2026-03-01.

    A: Mar 1 4 × 100, Mar 2 2 × 100; Mar 3 5 × 90, Mar 4 3 × 90; Mar 8–10 2 × 100 a day; Mar 11–13 5 × 80 a day.
    B: Mar 8–10 3 × 50 a day; Mar 11–13 2 × 50 a day. D: Mar 12 1 × 40. C: Mar 12 10 × 50.
    Costs: A 60, B 30, C 10, D 20; sale prices A 100, B 50, C 50, D 40."""
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.category(conn, "home")
    await f.series(conn, "silk")
    for code, category in (("silk-sq", "scarves"), ("silk-long", "scarves"), ("oil", "home"), ("lavender-set", "home")):
        await f.product(conn, code, category, lifecycle="listed")
    await f.product(conn, "silk-old", "scarves", lifecycle="retired")
    await f.sku(conn, "E", "silk-old")
    await conn.execute(
        "INSERT INTO product_series (product_id, series_id) SELECT p.id, s.id FROM products p, series s"
        " WHERE p.code IN ('silk-sq', 'lavender-set') AND s.code = 'silk'"
    )
    for sku, product, sale_price, cost in (
        ("A", "silk-sq", "100", "60"),
        ("B", "silk-long", "50", "30"),
        ("C", "oil", "50", "10"),
        ("D", "lavender-set", "40", "20"),
    ):
        await f.sku(conn, sku, product)
        await price(conn, sku, "sale", sale_price, "2025-01-01T00:00:00Z")
        await price(conn, sku, "cost", cost, "2025-01-01T00:00:00Z")
    facts = [
        ("2026-03-01", "A", 4, "400"),
        ("2026-03-02", "A", 2, "200"),
        ("2026-03-03", "A", 5, "450"),
        ("2026-03-04", "A", 3, "270"),
        *[(f"2026-03-{d:02}", "A", 2, "200") for d in (8, 9, 10)],
        *[(f"2026-03-{d:02}", "A", 5, "400") for d in (11, 12, 13)],
        *[(f"2026-03-{d:02}", "B", 3, "150") for d in (8, 9, 10)],
        *[(f"2026-03-{d:02}", "B", 2, "100") for d in (11, 12, 13)],
        ("2026-03-12", "D", 1, "40"),
        ("2026-03-12", "C", 10, "500"),
        ("2026-03-12", "E", 3, "300"),
    ]
    for day, sku, qty, revenue in facts:
        await sale(conn, day, sku, "web", qty, revenue)
    for body in (
        {
            "code": "opening",
            "starts_at": "2026-03-03T00:00:00Z",
            "ends_at": "2026-03-05T00:00:00Z",
            "items": [{"sku": "A", "price": {"amount": "90", "currency": "CNY"}}],
            "baseline_days": 4,
        },
        {
            "code": "spring",
            "starts_at": "2026-03-11T00:00:00Z",
            "ends_at": "2026-03-14T00:00:00Z",
            "items": [{"sku": "A", "price": {"amount": "80", "currency": "CNY"}}],
            "spend": {"amount": "100", "currency": "CNY"},
        },
        {
            "code": "quiet",
            "starts_at": "2026-03-20T00:00:00Z",
            "ends_at": "2026-03-22T00:00:00Z",
            "items": [{"sku": "B", "price": {"amount": "45", "currency": "CNY"}}],
            "spend": {"amount": "50.00", "currency": "CNY"},
            "baseline_days": 4,
        },
    ):
        r = await api.post("/v1/promotions", json=body)
        assert r.status_code == 201, r.text
    await run_jobs(conn)  # (the promotion-outcomes job: domain/reports/outcomes.py)


async def run_jobs(conn: asyncpg.Connection) -> int:
    """Run the queued jobs on the test's connection: the promotion-outcomes job folds the outcomes' log and
    recomputes the promotions a write marked (domain/reports/outcomes.py)."""
    return await run_pending(OneConnectionPool(conn), workers=1)


def rows(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(i["promotion"], *(i.get(k, "hidden") for k in FIELDS)) for i in body["items"]]


def line(
    promotion: str,
    level: str,
    sku: str | None,
    window: tuple[int, int, int],
    figures: tuple[Any, ...],
    discount: str | None = None,
    spend: str | None = None,
    roi: str | None = None,
    effect: str | None = None,
) -> tuple[Any, ...]:
    """An expected row: window = (days, baseline_days, known); figures = (units, revenue, margin, margin_pct,
    baseline units, revenue, margin, incremental units, revenue, margin)."""
    return (promotion, level, sku, *window, *figures, discount, spend, roi, effect)


NO_SALES = (0, "0.00", "0.00", None, "0.00", "0.00", "0.00", "0.00", "0.00", "0.00")
# opening, Mar 3–4 (2 days): baseline 4 days from Feb 27, but data start on Mar 1: 2 days known (6 units,
# 600.00, margin 600 − 6 × 60 = 240.00) × 2 / 2. During: 8 units, 720.00, margin 720 − 480 = 240.00 (33.33 %).
OPENING = (8, "720.00", "240.00", "33.33", "6.00", "600.00", "240.00", "2.00", "120.00", "0.00")
# spring, Mar 11–13: baseline Mar 8–10 (6 units, 600.00, margin 240.00). During: 15 units, 1200.00, margin
# 1200 − 900 = 300.00 (25 %). Increment 9 units, 600.00, margin 60.00.
SPRING = (15, "1200.00", "300.00", "25.00", "6.00", "600.00", "240.00", "9.00", "600.00", "60.00")
# Neighbours during spring: B (scarves) 6 units 300.00 margin 120 and D (silk series) 1 unit 40.00 margin 20
# against B's baseline 9 units 450.00 margin 180.
SPRING_OTHERS = (7, "340.00", "140.00", "41.18", "9.00", "450.00", "180.00", "-2.00", "-110.00", "-40.00")
EXPECTED = [
    # opening: discount (100 − 90) × 8 = 80.00. No spend: no ROI. Neighbours sold nothing then.
    line("opening", "promotion", None, (2, 4, 2), OPENING, "80.00"),
    line("opening", "item", "A", (2, 4, 2), OPENING, "80.00"),
    line("opening", "others", None, (2, 4, 2), NO_SALES, effect="none"),
    # quiet, Mar 20–21: B sold nothing, before or during; spend 50.00: ROI (0 − 50) / 50 = −1.
    line("quiet", "promotion", None, (2, 4, 4), NO_SALES, "0.00", "50.00", "-1.0000"),
    line("quiet", "item", "B", (2, 4, 4), NO_SALES, "0.00"),
    line("quiet", "others", None, (2, 4, 4), NO_SALES, effect="none"),
    # spring: discount (100 − 80) × 15 = 300.00; ROI (60 − 100) / 100 = −0.4: it lost money; the neighbours
    # sold fewer units than before: cannibalisation.
    line("spring", "promotion", None, (3, 3, 3), SPRING, "300.00", "100.00", "-0.4000"),
    line("spring", "item", "A", (3, 3, 3), SPRING, "300.00"),
    line("spring", "others", None, (3, 3, 3), SPRING_OTHERS, effect="cannibalisation"),
]


async def test_the_report_answers_each_promotion_and_item_against_its_baseline_by_hand(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    r = await api.get("/v1/reports/promotion-roi", params={"detail": "items"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert rows(body) == EXPECTED
    caveats = {i["promotion"]: i["caveats"] for i in body["items"] if i["level"] == "promotion"}
    assert caveats == {
        "opening": "the baseline window reaches before any sales data: 2 of 4 days known; no spend recorded: no ROI",
        "quiet": None,
        "spring": None,
    }
    one = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()
    assert rows(one) == [e for e in EXPECTED if e[0] == "spring"]
    assert one["parameters"]["promotion"] == "spring"
    # a period selects the promotions whose days meet it
    during = (
        await api.get("/v1/reports/promotion-roi", params={"detail": "items", "from": "2026-03-13", "to": "2026-03-20"})
    ).json()
    assert sorted({i["promotion"] for i in during["items"]}) == ["quiet", "spring"]
    csv = await api.get(
        "/v1/reports/promotion-roi", params={"detail": "items", "promotion": "quiet"}, headers={"Accept": "text/csv"}
    )
    lines = csv.text.splitlines()
    assert lines[0].startswith("promotion,level,sku,currency,days,baseline_days,baseline_days_known,units,revenue,")
    assert (
        lines[1] == "quiet,promotion,,CNY,2,4,4,0,0.00,0.00,,0.00,0.00,0.00,0.00,0.00,0.00,0.00,50.00,-1.0000,,,false"
    )


async def test_the_report_lists_promotions_by_default_and_with_detail_the_items_of_the_scope(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """By default a promotion row and an others row per promotion (the figures they have with the items); with
    `detail=items` a row per item too — with a scope, of the scope's products alone, the promotion row still
    summing all its items."""
    await market(api, conn)
    body = (await api.get("/v1/reports/promotion-roi")).json()
    assert rows(body) == [e for e in EXPECTED if e[1] != "item"]
    assert body["parameters"]["detail"] == "promotions"
    # duo, Mar 12 only, on A (scarves: 5 units, 400.00 that day) and C (home: 10 units, 500.00)
    r = await api.post(
        "/v1/promotions",
        json={
            "code": "duo",
            "starts_at": "2026-03-12T00:00:00Z",
            "ends_at": "2026-03-13T00:00:00Z",
            "items": [
                {"sku": "A", "price": {"amount": "90", "currency": "CNY"}},
                {"sku": "C", "price": {"amount": "45", "currency": "CNY"}},
            ],
        },
    )
    assert r.status_code == 201, r.text
    await run_jobs(conn)
    whole = (await api.get("/v1/reports/promotion-roi", params={"promotion": "duo", "detail": "items"})).json()
    assert [(i["level"], i["sku"], i["units"], i["revenue"]) for i in whole["items"]] == [
        ("promotion", None, 15, "900.00"),
        ("item", "A", 5, "400.00"),
        ("item", "C", 10, "500.00"),
        ("others", None, whole["items"][3]["units"], whole["items"][3]["revenue"]),
    ]
    home = (await api.get("/v1/reports/promotion-roi", params={"category": "home", "detail": "items"})).json()
    assert [(i["promotion"], i["level"], i["sku"]) for i in home["items"]] == [
        ("duo", "promotion", None),
        ("duo", "item", "C"),
        ("duo", "others", None),
    ]
    assert home["items"] == [whole["items"][0], whole["items"][2], whole["items"][3]]
    r = await api.get("/v1/reports/promotion-roi", params={"detail": "everything"})
    assert r.status_code == 400, r.text
    assert [(e["parameter"], e["code"]) for e in r.json()["errors"]] == [("detail", "invalid")]
    assert "promotions" in r.json()["errors"][0]["message"], r.json()


async def test_a_spend_channel_counts_that_channel_only_and_returns_count_net(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    # an app sale during spring does not count for a promotion spent on the web only
    await sale(conn, "2026-03-12", "A", "app", 10, "800")
    r = await api.patch("/v1/promotions/spring", json={"spend": {"amount": "100", "currency": "CNY", "channel": "web"}})
    assert r.status_code == 200, r.text
    assert r.json()["spend"] == {"amount": "100.00", "currency": "CNY", "channel": "web"}
    await run_jobs(conn)
    body = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()
    assert rows(body) == [e for e in EXPECTED if e[0] == "spring"]
    # without the channel, the app's 10 units × 80.00 (margin 200.00) count: increment 19 units, margin 260.00,
    # ROI (260 − 100) / 100 = 1.6: it paid
    # (a merge patch: `null` removes the channel)
    r = await api.patch("/v1/promotions/spring", json={"spend": {"channel": None}})
    assert r.json()["spend"] == {"amount": "100.00", "currency": "CNY"}
    await run_jobs(conn)
    total = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()[
        "items"
    ][0]
    assert (total["units"], total["incremental_units"], total["incremental_margin"], total["roi"]) == (
        25,
        "19.00",
        "260.00",
        "1.6000",
    )


async def test_marketing_sees_roi_and_margin_percentages_never_margin_amounts(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await market(api, conn)
    async with as_role("marketing") as client:
        body = (await client.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()
    assert body["omitted"] == ["margin", "baseline_margin", "incremental_margin"]
    assert "margin" not in body["columns"] and "margin_pct" in body["columns"]
    hidden = {"margin", "baseline_margin", "incremental_margin"}
    assert rows(body) == [
        tuple("hidden" if FIELDS[n - 1] in hidden else v for n, v in enumerate(e)) for e in EXPECTED if e[0] == "spring"
    ]
    for role, status in (("finance", 200), ("purchasing", 200), ("service", 403), ("storefront", 403)):
        async with as_role(role) as client:
            assert (await client.get("/v1/reports/promotion-roi", params={"detail": "items"})).status_code == status, (
                role
            )


async def test_bad_spends_and_report_parameters_are_refused(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await market(api, conn)
    r = await api.patch("/v1/promotions/spring", json={"spend": {"amount": "100", "currency": "USD"}})
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/spend/currency", "currency_mismatch")]
    r = await api.patch(
        "/v1/promotions/spring", json={"spend": {"amount": "-1", "currency": "CNY"}, "baseline_days": 0}
    )
    assert r.status_code == 422
    assert {e["pointer"] for e in r.json()["errors"]} >= {"/baseline_days"}
    spring = (await api.get("/v1/promotions/spring")).json()
    assert (spring["spend"], spring["version"]) == ({"amount": "100.00", "currency": "CNY"}, 1)
    r = await api.get("/v1/reports/promotion-roi", params={"detail": "items", "from": "2026-03-20", "to": "2026-03-01"})
    assert (r.status_code, r.json()["errors"][0]["parameter"]) == (400, "from")
    r = await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "winter"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"parameter": "promotion", "code": "unknown_code", "message": "No promotion has the code 'winter'."}
    ]


async def test_returns_of_a_promotion_s_sales_lower_its_outcome(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    wid = await conn.fetchval("INSERT INTO warehouses (code, labels) VALUES ('hz', '{}') RETURNING id")
    await conn.execute("INSERT INTO locations (warehouse_id, code) VALUES ($1, 'A-01')", wid)
    # 3 of the 5 units sold on Mar 12 come back (refund: their share, 240.00; the margin of 3 × (80 − 60) goes)
    r = await api.post(
        "/v1/stock/movements",
        json={
            "type": "return",
            "sku": "A",
            "qty": 3,
            "warehouse": "hz",
            "location": "A-01",
            "return_reason": "changed_mind",
            "condition": "resellable",
            "sale": {"channel": "web", "day": "2026-03-12"},
        },
    )
    assert r.status_code == 201, r.text
    total = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()[
        "items"
    ][0]
    assert (total["units"], total["revenue"], total["margin"], total["incremental_margin"], total["roi"]) == (
        12,
        "960.00",
        "240.00",
        "0.00",
        "-1.0000",
    )
