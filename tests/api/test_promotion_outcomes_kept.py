"""The kept promotion outcomes (promotion_outcome_lines, sql/functions/promotions.sql) against a computation from
scratch: after uploads, a re-sent day, a return, a promotion's dates, baseline and items edited, an item's sale
price changed, neighbours moved, delisted or put in a series, and sales data reaching further back, the report's
figures (the statement it reads, row for row) equal those the facts give when read whole — the statement the
report ran before the outcomes were kept, below."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import httpx
import msgspec

from api.db import OneConnectionPool
from domain.housekeeping import forget_old_records
from domain.jobs.service import run_pending
from domain.reports import promotions as roi
from domain.reports import store
from domain.reports.model import ScopeIds
from domain.reports.service import amount
from domain.reports.store import LIST_PROMOTION_OUTCOMES
from tests import factories as f
from tests.api.test_promotion_roi import EXPECTED, market, rows
from tests.api.test_reports import price, sale

# Every promotion's items' and neighbours' sales during it and over its baseline, read from the daily facts.
FROM_FACTS = """
WITH promo AS (
    SELECT pr.id, pr.code::text AS code, pr.starts_at, (pr.starts_at AT TIME ZONE 'UTC')::date AS first_day,
           ((pr.ends_at - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day, pr.baseline_days,
           pr.spend_amount, pr.spend_currency, pr.spend_channel,
           coalesce(pr.spend_currency,
                    (SELECT min(pi.currency) FROM promotion_items pi WHERE pi.promotion_id = pr.id)) AS currency
      FROM promotions pr
     WHERE ($4::text IS NULL OR pr.code = $4::text)
       AND ($5::date IS NULL OR ((pr.ends_at - interval '1 microsecond') AT TIME ZONE 'UTC')::date >= $5::date)
       AND ($6::date IS NULL OR (pr.starts_at AT TIME ZONE 'UTC')::date <= $6::date)
       AND (($1::ltree IS NULL AND $2::bigint IS NULL AND $3::bigint IS NULL)
            OR EXISTS (SELECT 1 FROM promotion_items pi JOIN skus s ON s.id = pi.sku_id
                        WHERE pi.promotion_id = pr.id
                          AND s.product_id IN (SELECT id
                                                 FROM merch_report_products($1::ltree, $2::bigint, $3::bigint))))
       AND ($8::bigint IS NULL
            OR pr.id IN (SELECT pi.promotion_id FROM promotion_items pi JOIN skus s ON s.id = pi.sku_id
                          WHERE s.product_id = $8::bigint))
     ORDER BY pr.code
     LIMIT $7::integer
), win AS (
    SELECT p.*, p.last_day - p.first_day + 1 AS days,
           coalesce(p.baseline_days, p.last_day - p.first_day + 1) AS baseline_days_asked,
           -- no earlier than the first day of any sales data (none at all: no baseline)
           greatest(p.first_day - coalesce(p.baseline_days, p.last_day - p.first_day + 1),
                    coalesce((SELECT min(f.day) FROM sales_facts f), p.first_day)) AS baseline_from
      FROM promo p
), items AS (
    SELECT w.id AS promotion_id, s.id AS sku_id, s.sku::text AS sku, pi.price, s.product_id, p.category_id
      FROM win w JOIN promotion_items pi ON pi.promotion_id = w.id JOIN skus s ON s.id = pi.sku_id
      JOIN products p ON p.id = s.product_id
), neighbours AS (
    -- the other listed products of the items' home categories and series, once a promotion (found from the
    -- items by index: never a condition tried on every listed product for every promotion)
    SELECT n.promotion_id, n.product_id
      FROM (SELECT c.promotion_id, o.id AS product_id
              FROM (SELECT DISTINCT i.promotion_id, i.category_id FROM items i) c
              JOIN products o ON o.category_id = c.category_id
            UNION
            SELECT r.promotion_id, os.product_id
              FROM (SELECT DISTINCT i.promotion_id, ps.series_id
                      FROM items i JOIN product_series ps ON ps.product_id = i.product_id) r
              JOIN product_series os ON os.series_id = r.series_id) n
      JOIN products o ON o.id = n.product_id AND o.lifecycle = 'listed'
     WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.promotion_id = n.promotion_id AND i.product_id = n.product_id)
), members AS (
    -- the items' SKUs, and the SKUs of the neighbours
    SELECT i.promotion_id, 'item' AS level, i.sku, i.sku_id, i.price,
           (SELECT pz.amount FROM prices pz
             WHERE pz.sku_id = i.sku_id AND pz.kind = 'sale' AND pz.currency = w.currency
               AND pz.valid_from <= w.starts_at AND (pz.valid_to IS NULL OR pz.valid_to > w.starts_at)) AS regular
      FROM items i JOIN win w ON w.id = i.promotion_id
    UNION ALL
    SELECT n.promotion_id, 'others', NULL, s.id, NULL, NULL
      FROM neighbours n JOIN skus s ON s.product_id = n.product_id
), sold AS (
    SELECT m.promotion_id, m.level, m.sku, min(m.price) AS price, min(m.regular) AS regular,
           coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day >= w.first_day), 0) AS units,
           coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day >= w.first_day), 0) AS revenue,
           coalesce(sum(merch_net(f.cost, f.qty, f.returned_qty)) FILTER (WHERE f.day >= w.first_day), 0) AS cost,
           coalesce(bool_and(f.cost IS NOT NULL) FILTER (WHERE f.day >= w.first_day), true) AS costed,
           coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day < w.first_day), 0) AS baseline_units,
           coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day < w.first_day), 0) AS baseline_revenue,
           coalesce(sum(merch_net(f.cost, f.qty, f.returned_qty)) FILTER (WHERE f.day < w.first_day), 0)
               AS baseline_cost,
           coalesce(bool_and(f.cost IS NOT NULL) FILTER (WHERE f.day < w.first_day), true) AS baseline_costed
      FROM members m
      JOIN win w ON w.id = m.promotion_id
      LEFT JOIN sales_facts f ON f.sku_id = m.sku_id AND f.currency = w.currency
       AND f.day >= w.baseline_from AND f.day <= w.last_day
       AND (w.spend_channel IS NULL OR f.channel = w.spend_channel)
     GROUP BY m.promotion_id, m.level, m.sku
)
SELECT w.code AS promotion, w.currency, w.first_day, w.last_day, w.days, w.baseline_days_asked,
       greatest(w.first_day - w.baseline_from, 0) AS baseline_days_known,
       w.spend_amount, w.spend_channel, so.level, so.sku, so.price, so.regular, so.units, so.revenue, so.cost,
       so.costed, so.baseline_units, so.baseline_revenue, so.baseline_cost, so.baseline_costed
  FROM win w
  LEFT JOIN sold so ON so.promotion_id = w.id
 ORDER BY w.code, so.level, so.sku NULLS LAST;

"""


async def run_jobs(conn: asyncpg.Connection) -> int:
    """Run the queued jobs (the promotion-outcomes job among them) on the test's connection."""
    return await run_pending(OneConnectionPool(conn), workers=1)


async def same(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Assert the kept figures (every promotion, no scope) equal the facts'; answers them."""
    args = (None, None, None, None, None, None, None, None)
    kept = [dict(r) for r in await conn.fetch(LIST_PROMOTION_OUTCOMES, *args)]
    assert not any(k.pop("recomputing") for k in kept)
    scratch = [dict(r) for r in await conn.fetch(FROM_FACTS, *args)]
    for k, s in zip(kept, scratch, strict=False):
        assert k == s, {c: (k[c], s[c]) for c in k if k[c] != s.get(c)}
    assert kept == scratch
    return kept


async def kept_equals_scratch(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Assert the kept figures equal the facts': before the job runs (the log's rows not folded yet) when no
    promotion is being recomputed, and after it (folded: the log empty, no promotion recomputing)."""
    recomputing = await conn.fetchval(
        "SELECT count(*) FROM merch_report_promotions(NULL, NULL, NULL, NULL, NULL, NULL, NULL) WHERE recomputing"
    )
    if not recomputing:
        await same(conn)
    await run_jobs(conn)
    assert await conn.fetchval("SELECT count(*) FROM promotion_outcome_log") == 0
    return await same(conn)


def line(kept: list[dict[str, Any]], promotion: str, level: str, sku: str | None = None) -> dict[str, Any]:
    return next(r for r in kept if (r["promotion"], r["level"], r["sku"]) == (promotion, level, sku))


async def test_the_kept_outcomes_follow_uploads_re_sent_days_and_returns(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    before = await kept_equals_scratch(conn)
    # a new day inside spring for its item, a neighbour (B, scarves) and a non-neighbour (C), one in its
    # baseline, one on another channel, one outside every window
    await sale(conn, "2026-03-13", "B", "app", 4, "180")
    await sale(conn, "2026-03-09", "A", "app", 1, "100")
    await sale(conn, "2026-03-13", "C", "web", 7, "350")
    await sale(conn, "2026-04-20", "A", "web", 9, "900")
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "others")["units"] == line(before, "spring", "others")["units"] + 4
    assert line(kept, "spring", "item", "A")["baseline_units"] == 7
    # a re-sent day replaces the day: A sold 1, not 5, on Mar 12
    await sale(conn, "2026-03-12", "A", "web", 1, "80")
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "item", "A")["units"] == 11
    # a return of 1 of B's Mar 8 units (the spring baseline of its neighbours)
    wid = await conn.fetchval("INSERT INTO warehouses (code, labels) VALUES ('hz', '{}') RETURNING id")
    await conn.execute("INSERT INTO locations (warehouse_id, code) VALUES ($1, 'A-01')", wid)
    r = await api.post(
        "/v1/stock/movements",
        json={
            "type": "return",
            "sku": "B",
            "qty": 1,
            "warehouse": "hz",
            "location": "A-01",
            "return_reason": "changed_mind",
            "condition": "resellable",
            "sale": {"channel": "web", "day": "2026-03-08"},
        },
    )
    assert r.status_code == 201, r.text
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "others")["baseline_units"] == 8


async def test_the_kept_outcomes_follow_a_promotion_s_edits_and_its_items(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    # spring one day longer (its row alone: a PATCH writes its items again); then a baseline of 2 days, spent on
    # the web only
    await conn.execute("UPDATE promotions SET ends_at = '2026-03-15T00:00:00Z' WHERE code = 'spring'")
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "item", "A")["days"] == 4
    r = await api.patch(
        "/v1/promotions/spring",
        json={"baseline_days": 2, "spend": {"amount": "100", "currency": "CNY", "channel": "web"}},
    )
    assert r.status_code == 200, r.text
    kept = await kept_equals_scratch(conn)
    assert (line(kept, "spring", "item", "A")["days"], line(kept, "spring", "item", "A")["baseline_days_asked"]) == (
        4,
        2,
    )
    # items replaced: B added at 40 (B now an item: no longer spring's neighbour), then A removed
    items = [
        {"sku": "A", "price": {"amount": "80", "currency": "CNY"}},
        {"sku": "B", "price": {"amount": "40", "currency": "CNY"}},
    ]
    r = await api.patch("/v1/promotions/spring", json={"items": items})
    assert r.status_code == 200, r.text
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "item", "B")["price"] == 40
    r = await api.patch("/v1/promotions/spring", json={"items": items[1:]})
    assert r.status_code == 200, r.text
    kept = await kept_equals_scratch(conn)
    assert [x["sku"] for x in kept if x["promotion"] == "spring"] == ["B", None]
    # a new sale price of B in force when spring starts (the old one closed): its regular price
    await conn.execute(
        "UPDATE prices SET valid_to = '2026-03-01T00:00:00Z'"
        " WHERE kind = 'sale' AND sku_id = (SELECT id FROM skus WHERE sku = 'B')"
    )
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "item", "B")["regular"] is None
    await price(conn, "B", "sale", "55", "2026-03-01T00:00:00Z")
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "item", "B")["regular"] == 55
    r = await api.delete("/v1/promotions/quiet")
    assert r.status_code == 204, r.text
    kept = await kept_equals_scratch(conn)
    assert "quiet" not in {x["promotion"] for x in kept}


async def test_the_kept_outcomes_follow_neighbours_and_the_first_day_of_sales_data(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    # B moves to home: no longer a neighbour of spring (scarves, silk); then back, then delisted
    await conn.execute(
        "UPDATE products SET category_id = (SELECT id FROM categories WHERE code = 'home') WHERE code = 'silk-long'"
    )
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "others")["units"] == 1  # D's only
    await conn.execute(
        "UPDATE products SET category_id = (SELECT id FROM categories WHERE code = 'scarves') WHERE code = 'silk-long'"
    )
    await kept_equals_scratch(conn)
    await sale(conn, "2026-03-12", "B", "app", 2, "90")  # (B a neighbour again: its new facts count)
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "others")["units"] == 1 + 6 + 2
    await conn.execute("UPDATE products SET lifecycle = 'delisted' WHERE code = 'silk-long'")
    await kept_equals_scratch(conn)
    # the oil (C, home, no series) joins the silk series: a neighbour of spring; E (retired) is listed again
    await conn.execute(
        "INSERT INTO product_series (product_id, series_id) SELECT p.id, s.id FROM products p, series s"
        " WHERE p.code = 'oil' AND s.code = 'silk'"
    )
    await conn.execute("UPDATE products SET lifecycle = 'listed' WHERE code = 'silk-old'")
    kept = await kept_equals_scratch(conn)
    assert line(kept, "spring", "others")["units"] == 1 + 10 + 3
    # the item's product (A's) moves to home: spring's scopes change
    await conn.execute(
        "UPDATE products SET category_id = (SELECT id FROM categories WHERE code = 'home') WHERE code = 'silk-sq'"
    )
    await kept_equals_scratch(conn)
    # sales data now start on Feb 27: the opening's baseline has its 4 days
    await sale(conn, "2026-02-27", "C", "web", 1, "50")
    kept = await kept_equals_scratch(conn)
    assert line(kept, "opening", "item", "A")["baseline_days_known"] == 4


async def test_the_report_s_hand_figures_hold_when_the_promotions_came_before_their_sales(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """The same market with the promotions written first and the facts uploaded after: every figure kept by
    the facts' deltas alone, the hand-computed report unchanged."""
    await market(api, conn)
    facts = await conn.fetch("SELECT day, sku_id, channel, qty, revenue, currency FROM sales_facts ORDER BY day")
    await conn.execute("DELETE FROM sales_facts")
    await run_jobs(conn)
    assert {r["units"] for r in await conn.fetch("SELECT units FROM promotion_outcome_lines")} == {0}
    for fact in facts:
        sku = await conn.fetchval("SELECT sku FROM skus WHERE id = $1", fact["sku_id"])
        await sale(conn, fact["day"].isoformat(), sku, fact["channel"], fact["qty"], str(fact["revenue"]))
    await kept_equals_scratch(conn)
    r = await api.get("/v1/reports/promotion-roi", params={"detail": "items"})
    assert rows(r.json()) == EXPECTED


async def python_rows(conn: asyncpg.Connection, show: bool) -> list[dict[str, Any]]:
    """The report's rows as Python builds them from the kept sums (the stage view's code, and the report's before
    its rows were built in SQL)."""
    out: list[Any] = []
    sums = await store.list_promotion_outcomes(conn, ScopeIds(), None, None, None, 1000)
    for o in roi._outcomes(sums, datetime.now(UTC).date()):
        promo = o.promo
        figures = [x for _, x in o.lines]
        spent = amount(o.spend, promo["currency"])
        out.append(
            roi._row(
                promo,
                "promotion",
                None,
                figures,
                show,
                spend=spent,
                roi=roi._q(o.roi, roi.ROI_PLACES),
                caveats=o.caveats,
            )
        )
        out += [roi._row(promo, "item", r["sku"], [x], show) for r, x in o.lines]
        inc = roi._sub(sum((x.units for x in o.others), Decimal(0)), roi._sum([x.baseline_units for x in o.others]))
        effect = None if inc is None else "halo" if inc > 0 else "cannibalisation" if inc < 0 else "none"
        out.append(roi._row(promo, "others", None, o.others, show, effect=effect))
    return [msgspec.to_builtins(r) for r in out]


async def test_the_report_s_rows_built_in_sql_equal_python_s_on_scaled_baselines_and_uncosted_sales(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await market(api, conn)
    # spring over 3 days against 7 days before it of which 7 known (rates × 3 / 7: thirds and sevenths to round)
    r = await api.patch("/v1/promotions/spring", json={"baseline_days": 7})
    assert r.status_code == 200, r.text
    # a scarf with no cost price sells during spring (neighbour: no margin for the others) and is an item of
    # "quiet" (no margin, a caveat); a promotion still running
    await f.product(conn, "silk-new", "scarves", lifecycle="listed")
    await f.sku(conn, "F", "silk-new")
    await price(conn, "F", "sale", "70", "2025-01-01T00:00:00Z")
    await sale(conn, "2026-03-12", "F", "web", 3, "200")
    await sale(conn, "2026-03-19", "F", "web", 1, "70")
    await sale(conn, "2026-03-20", "F", "web", 2, "133.3333")
    await kept_equals_scratch(conn)  # (F: a new SKU of a new neighbour of spring)
    r = await api.patch(
        "/v1/promotions/quiet", json={"items": [{"sku": "F", "price": {"amount": "66.66", "currency": "CNY"}}]}
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        "/v1/promotions",
        json={
            "code": "running",
            "starts_at": "2026-03-12T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00Z",
            "items": [{"sku": "D", "price": {"amount": "35", "currency": "CNY"}}],
            "spend": {"amount": "0", "currency": "CNY"},
        },
    )
    assert r.status_code == 201, r.text
    await run_jobs(conn)
    body = (await api.get("/v1/reports/promotion-roi", params={"detail": "items"})).json()
    expected = await python_rows(conn, True)
    for got, want in zip(body["items"], expected, strict=True):
        assert got == want, {k: (got.get(k), want.get(k)) for k in {*got, *want} if got.get(k) != want.get(k)}
    assert {i["promotion"] for i in body["items"]} == {"opening", "quiet", "running", "spring"}
    async with as_role("marketing") as client:
        hidden = (await client.get("/v1/reports/promotion-roi", params={"detail": "items"})).json()
    assert hidden["items"] == await python_rows(conn, False)


async def test_amounts_round_half_up_as_python_writes_them(conn: asyncpg.Connection) -> None:
    """merch_decimal_text, the report's rounding, against Decimal.quantize(ROUND_HALF_UP) and format "f"."""
    values = ["-0.001", "-0.005", "0.005", "-0.0049", "2.675", "-2.675", "0", "1e-10", "-1234.5", "0.4999"]
    for places in (0, 2, 3, 4):
        got = await conn.fetch(
            "SELECT merch_decimal_text(v::numeric, $2) AS t FROM unnest($1::text[]) WITH ORDINALITY u(v, n) ORDER BY n",
            values,
            places,
        )
        quantum = Decimal(1).scaleb(-places)
        want = [format(Decimal(v).quantize(quantum, rounding=ROUND_HALF_UP), "f") for v in values]
        assert [r["t"] for r in got] == want, places


SPRING_LINES = """
SELECT l.sku_id, l.neighbours, l.regular, l.units, l.revenue, l.baseline_units, l.baseline_revenue, o.generation
  FROM promotion_outcome_lines l JOIN promotion_outcomes o ON o.promotion_id = l.promotion_id
 WHERE l.promotion_id = (SELECT id FROM promotions WHERE code = 'spring')
 ORDER BY l.sku_id
"""
QUEUED = "SELECT count(*) FROM jobs WHERE kind = 'promotion-outcomes' AND state = 'queued'"


async def test_an_upload_appends_its_deltas_to_the_log_which_the_report_adds_until_the_job_folds_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    lines = await conn.fetch(SPRING_LINES)
    assert await conn.fetchval(QUEUED) == 0
    # B (a neighbour of spring) sells 4 during it, A (its item) 1 in its baseline: no line is written, the log
    # has the deltas, per line, against spring's build; one job queued, and no second for the next upload
    await sale(conn, "2026-03-13", "B", "app", 4, "180")
    await sale(conn, "2026-03-09", "A", "app", 1, "100")
    assert await conn.fetch(SPRING_LINES) == lines
    logged = await conn.fetch(
        "SELECT g.sku_id, g.units, g.baseline_units, g.generation FROM promotion_outcome_log g"
        " WHERE g.promotion_id = (SELECT id FROM promotions WHERE code = 'spring') ORDER BY g.sku_id"
    )
    a = await conn.fetchval("SELECT id FROM skus WHERE sku = 'A'")
    generation = lines[0]["generation"]
    assert [tuple(r) for r in logged] == [(0, 4, 0, generation), (a, 0, 1, generation)]
    assert await conn.fetchval(QUEUED) == 1
    # the report adds the log's rows: exact before the fold
    unfolded = await same(conn)
    assert line(unfolded, "spring", "others")["units"] == next(r["units"] for r in lines if r["sku_id"] == 0) + 4
    body = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()
    # a row of an older build (a writer that read the build a recompute replaced) counts for nothing
    await conn.execute(
        "INSERT INTO promotion_outcome_log (promotion_id, sku_id, generation, units)"
        " SELECT id, 0, $1::bigint - 1, 1000 FROM promotions WHERE code = 'spring'",
        generation,
    )
    assert await same(conn) == unfolded
    # the job folds the log into the lines: the same figures, the log empty, the job done
    assert await run_jobs(conn) == 1
    assert await conn.fetchval("SELECT count(*) FROM promotion_outcome_log") == 0
    assert await same(conn) == unfolded
    assert (
        await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})
    ).json() == body
    assert await conn.fetchval(QUEUED) == 0


async def test_a_promotion_s_edit_marks_it_recomputing_and_the_job_recomputes_it_not_the_writer(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    lines = await conn.fetch(SPRING_LINES)
    before = (await api.get("/v1/reports/promotion-roi", params={"detail": "items"})).json()
    r = await api.patch("/v1/promotions/spring", json={"baseline_days": 2})
    assert r.status_code == 200, r.text
    # the writer's transaction recomputed nothing: spring's lines and build are as they were, spring is marked
    assert await conn.fetch(SPRING_LINES) == lines
    assert await conn.fetchval(QUEUED) == 1
    # the report: spring's row alone, recomputing, with its spend and no figure; the others as they were
    body = (await api.get("/v1/reports/promotion-roi", params={"detail": "items"})).json()
    spring = [i for i in body["items"] if i["promotion"] == "spring"]
    figures = ("days", "baseline_days", "baseline_days_known", "units", "revenue", "margin", "margin_pct")
    figures += ("baseline_units", "baseline_revenue", "baseline_margin", "incremental_units", "incremental_revenue")
    figures += ("incremental_margin", "discount_cost", "roi", "effect")
    assert spring == [
        {
            "promotion": "spring",
            "level": "promotion",
            "sku": None,
            "currency": "CNY",
            **dict.fromkeys(figures),
            "spend": "100.00",
            "caveats": "being recomputed after a change: no figure until it is done",
            "recomputing": True,
        }
    ]
    assert [i for i in body["items"] if i["promotion"] != "spring"] == [
        i for i in before["items"] if i["promotion"] != "spring"
    ]
    assert not any(i["recomputing"] for i in before["items"])
    csv = await api.get(
        "/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"}, headers={"Accept": "text/csv"}
    )
    header, row = csv.text.splitlines()[:2]
    assert header.endswith(",caveats,recomputing") and row.endswith(",true")
    # the job's first step installs the new build (no sums yet): still recomputing; its second sums it
    spring_id = await conn.fetchval("SELECT id FROM promotions WHERE code = 'spring'")
    await conn.execute("SELECT merch_rebuild_promotion_outcomes(ARRAY[$1::bigint])", spring_id)
    rebuilt = await conn.fetch(SPRING_LINES)
    assert {(r["units"], r["baseline_units"], r["generation"]) for r in rebuilt} == {(0, 0, lines[0]["generation"] + 1)}
    again = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()[
        "items"
    ]
    assert [(i["level"], i["recomputing"], i["units"]) for i in again] == [("promotion", True, None)]
    # a sale written between the two steps (against the new build) is in the second step's sums: its log row,
    # which that step's snapshot sees, goes
    await sale(conn, "2026-03-12", "B", "app", 1, "50")
    assert (
        await conn.fetchval("SELECT generation FROM promotion_outcome_log WHERE promotion_id = $1", spring_id)
        == lines[0]["generation"] + 1
    )
    await conn.execute(
        "SELECT merch_sum_promotion_outcomes(ARRAY[$1::bigint], ARRAY(SELECT id FROM promotion_outcome_stale))",
        spring_id,
    )
    assert await conn.fetchval("SELECT count(*) FROM promotion_outcome_log WHERE promotion_id = $1", spring_id) == 0
    kept = await kept_equals_scratch(conn)  # (exact before the job runs, and after)
    assert line(kept, "spring", "item", "A")["baseline_days_asked"] == 2
    after = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()[
        "items"
    ]
    assert [(i["level"], i["recomputing"]) for i in after] == [("promotion", False), ("item", False), ("others", False)]
    assert after[0]["units"] == 15 and after[0]["baseline_days"] == 2


async def test_a_new_promotion_is_recomputing_until_the_job_has_built_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    r = await api.post(
        "/v1/promotions",
        json={
            "code": "summer",
            "starts_at": "2026-03-12T00:00:00Z",
            "ends_at": "2026-03-13T00:00:00Z",
            "items": [{"sku": "B", "price": {"amount": "45", "currency": "CNY"}}],
        },
    )
    assert r.status_code == 201, r.text
    body = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "summer"})).json()[
        "items"
    ]
    assert [(i["level"], i["recomputing"], i["units"], i["spend"]) for i in body] == [("promotion", True, None, None)]
    await kept_equals_scratch(conn)
    body = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "summer"})).json()[
        "items"
    ]
    assert [(i["level"], i["sku"], i["recomputing"], i["units"]) for i in body] == [
        ("promotion", None, False, 2),
        ("item", "B", False, 2),
        ("others", None, False, 5),
    ]


async def test_housekeeping_forgets_finished_promotion_outcomes_jobs_after_48_hours(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await market(api, conn)
    await sale(conn, "2026-03-13", "B", "app", 4, "180")
    await run_jobs(conn)
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM jobs WHERE kind = 'promotion-outcomes' ORDER BY id")]
    assert len(ids) == 2  # (the market's promotions, the upload)
    await conn.execute("UPDATE jobs SET finished_at = now() - interval '49 hours' WHERE id = $1", ids[0])
    await forget_old_records(conn)
    assert [r["id"] for r in await conn.fetch("SELECT id FROM jobs WHERE kind = 'promotion-outcomes'")] == ids[1:]


async def test_a_mark_the_job_did_not_list_stays_even_with_a_smaller_id(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """Mark ids are handed out at insert, not at commit: an edit's mark with a smaller id than one the job listed
    may commit only after the job's step one. The recompute takes the marks it listed, by id — not every mark up
    to the largest — so the late edit's mark stays and the promotion reads recomputing for the next round."""
    await market(api, conn)
    r = await api.patch("/v1/promotions/spring", json={"baseline_days": 2})
    assert r.status_code == 200, r.text
    marks, promotions = await store.list_promotion_marks(conn)
    spring = await conn.fetchval("SELECT id FROM promotions WHERE code = 'spring'")
    assert promotions == [spring] and marks
    late = min(marks) - 1  # (an id taken before the listed ones, committed after the listing)
    await conn.execute(
        "INSERT INTO promotion_outcome_stale (id, promotion_id) OVERRIDING SYSTEM VALUE VALUES ($1, $2)", late, spring
    )
    await store.update_promotion_outcomes_rebuilt(conn, promotions)
    await store.update_promotion_outcomes_summed(conn, promotions, marks)
    assert await conn.fetchval("SELECT array_agg(id) FROM promotion_outcome_stale") == [late]
    body = (await api.get("/v1/reports/promotion-roi", params={"detail": "items", "promotion": "spring"})).json()[
        "items"
    ]
    assert [(i["level"], i["recomputing"]) for i in body] == [("promotion", True)]
