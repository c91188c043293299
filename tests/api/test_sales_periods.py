"""Sales over a period that cuts months (issue 14, part 4): a cut month is read from its rollup rows'
checkpoints — its sums through day 8, 16 and 24, and the whole month's — plus the few days between the cut
and the nearest checkpoint from the facts. Whatever the period (cut at either end, both, one day, a month's
inner days, inside one month, before or after every fact), by SKU, month, product, channel and scope, it gives
exactly what summing every day's facts gives (`p_rollup` false), through uploads, back-dated re-sent days,
returns and removed facts; and the rollup's checkpoints equal a rebuild from the facts."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
import pytest

from api.migrate import MIGRATIONS_DIR
from domain.keys.model import Principal
from domain.reports import returns as returns_report
from domain.reports import sales
from domain.reports.model import ReportScope
from domain.sql import load
from tests.api.test_reports import shop
from tests.api.test_sales import CHECKPOINTS, ROLLUP, ROLLUP_OF_FACTS

SALES = load("sales")
# Days of each month around every checkpoint (after day 8, 16, 24 and the month's end) and the cuts' reach.
DAYS = (1, 2, 4, 5, 6, 8, 9, 11, 12, 13, 15, 16, 17, 19, 20, 21, 23, 24, 25, 27, 28, 29, 30, 31)
MONTHS = (date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))


async def upload(conn: asyncpg.Connection, facts: list[tuple[date, str, str, int, str, str]]) -> None:
    """Facts through the upload's own statement: costed at the prices of their days, rolled up as they commit."""
    ids = {r["sku"]: r["id"] for r in await conn.fetch("SELECT sku, id FROM skus")}
    await conn.fetchrow(
        SALES.upsert_sales_facts.sql,
        [x[0] for x in facts],
        [ids[x[1]] for x in facts],
        [x[2] for x in facts],
        [x[3] for x in facts],
        [Decimal(x[4]) for x in facts],
        [x[5] for x in facts],
    )


async def history(conn: asyncpg.Connection) -> None:
    """The shop (tests/api/test_reports.py: A-1 costed from a price that changes on 2026-01-15, B-1 and C-1
    costed, D-1 unpriced) with facts on the days around every checkpoint of December to March, on three
    channels and in two currencies (USD: no price, so uncosted); then returns on some, back-dated days
    re-sent with other figures (one in another currency) and some facts removed."""
    await shop(conn)
    facts = []
    for month in MONTHS:
        length = ((month + timedelta(days=32)).replace(day=1) - month).days
        for n in (d for d in DAYS if d <= length):
            day = month + timedelta(days=n - 1)
            for i, (sku, channel, currency) in enumerate(
                (("A-1", "web", "CNY"), ("B-1", "distribution", "CNY"), ("C-1", "app", "USD"), ("D-1", "web", "CNY"))
            ):
                if (n + i) % 4 != 3:  # (not every key every day)
                    qty = 1 + (n * 7 + i * 3 + month.month) % 9
                    facts.append((day, sku, channel, qty, f"{qty * (10 + i)}.{n % 100:02d}", currency))
    await upload(conn, facts)
    await conn.execute(
        "UPDATE sales_facts SET returned_qty = qty / 2, refunded = round(revenue / 3, 2)"
        " WHERE extract(day FROM day)::integer % 5 = 2 AND qty > 1"
    )
    await upload(
        conn,
        [
            (date(2026, 1, 9), "A-1", "web", 40, "4000.00", "CNY"),  # re-sent, the day after a checkpoint
            (date(2026, 1, 24), "B-1", "distribution", 7, "77.00", "CNY"),  # on a checkpoint's last day
            (date(2026, 2, 16), "A-1", "web", 3, "33.00", "USD"),  # re-sent in another currency
            (date(2026, 1, 3), "B-1", "web", 2, "20.00", "CNY"),  # a new key, back-dated
        ],
    )
    await conn.execute(
        "DELETE FROM sales_facts WHERE (day, channel) IN (('2026-01-17', 'web'), ('2026-02-28', 'distribution'))"
    )


# Every sales row of each period, by SKU, product, month (with p_monthly) and currency, with the rollup and
# from the facts alone: the periods are every pair of the days given ($1) in either order of reading, plus
# open ends; $2 the scope's category (code), $3 the channel, $4 p_monthly. Rows that sum to no fact are left
# out (the callers leave them out), on both sides.
DIFFERENCES = """
WITH periods AS (
    SELECT a.d AS since, b.d AS until
      FROM unnest($1::date[] || NULL::date) a(d), unnest($1::date[] || NULL::date) b(d)
     WHERE a.d IS NULL OR b.d IS NULL OR a.d <= b.d
), sold AS (
    SELECT r.rollup, p.since, p.until, x.sku_id, x.product_id, CASE WHEN $4 THEN x.month END AS month, x.currency,
           sum(x.facts) AS facts,
           sum(x.qty) AS qty, sum(x.revenue) AS revenue, sum(x.cost) AS cost, sum(x.costed_facts) AS costed_facts,
           sum(x.costed_revenue) AS costed_revenue, sum(x.distribution_value) AS distribution_value,
           sum(x.distributed_facts) AS distributed_facts, sum(x.unpriced_qty) AS unpriced_qty,
           sum(x.returned_qty) AS returned_qty
      FROM periods p
     CROSS JOIN (VALUES (true), (false)) r(rollup)
     CROSS JOIN LATERAL merch_report_sku_sales((SELECT c.path FROM categories c WHERE c.code = $2::text), NULL, NULL,
                                               p.since, p.until, r.rollup, $3::text, $4::boolean, true) x
     GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING sum(x.facts) <> 0
), a AS (
    SELECT since, until, sku_id, product_id, month, currency, facts, qty, revenue, cost, costed_facts, costed_revenue,
           distribution_value, distributed_facts, unpriced_qty, returned_qty FROM sold WHERE rollup
), b AS (
    SELECT since, until, sku_id, product_id, month, currency, facts, qty, revenue, cost, costed_facts, costed_revenue,
           distribution_value, distributed_facts, unpriced_qty, returned_qty FROM sold WHERE NOT rollup
)
SELECT 'rollup' AS side, * FROM (TABLE a EXCEPT ALL TABLE b) x
UNION ALL
SELECT 'facts', * FROM (TABLE b EXCEPT ALL TABLE a) y
 ORDER BY 2, 3, 4, 6, 7, 1
 LIMIT 20
"""


def days_around(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize(
    ("path", "channel", "monthly"),
    [
        (None, None, False),  # the whole tree: a long period is read as the totals minus the outside months
        (None, None, True),  # month by month (as receivables)
        ("apparel", None, False),  # a subtree: read by SKU
        (None, "distribution", True),  # one channel
        ("home", "app", False),
    ],
)
async def test_every_period_sums_the_same_from_the_checkpoints_as_from_the_facts(
    conn: asyncpg.Connection, path: str | None, channel: str | None, monthly: bool
) -> None:
    await history(conn)
    # every day of January (each cut at each distance from each checkpoint, both ends in one month, one day),
    # February's days on either side of each checkpoint (a 28-day month: its last checkpoint is nearer 24 or
    # the end), the first and last days of the data and days before and after it
    days = [date(2025, 11, 20), date(2025, 11, 30), date(2025, 12, 1), date(2025, 12, 2), date(2025, 12, 18)]
    days += days_around(date(2026, 1, 1), date(2026, 1, 31))
    days += [date(2026, 2, d) for d in (1, 2, 5, 6, 12, 13, 17, 20, 21, 25, 26, 27, 28)]
    days += [date(2026, 3, 1), date(2026, 3, 13), date(2026, 3, 31), date(2026, 4, 1)]
    found = await conn.fetch(DIFFERENCES, days, path, channel, monthly)
    assert [dict(r) for r in found] == []
    count = await conn.fetchval(
        "SELECT count(*) FROM merch_report_sku_sales((SELECT path FROM categories WHERE code = $1), NULL, NULL,"
        " '2026-01-06', '2026-02-20', true, $2, $3, true)",
        path,
        channel,
        monthly,
    )
    assert count > 0  # (the comparison compared something)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (date(2024, 3, 10), date(2025, 9, 20)),
        (date(2024, 5, 1), date(2024, 8, 31)),
        (date(2024, 6, 13), date(2024, 6, 27)),
    ],
)
async def test_the_whole_trees_sales_are_summed_in_parallel_workers(
    conn: asyncpg.Connection, since: date, until: date
) -> None:
    """With no filter merch_report_sku_sales is one flat UNION ALL (no WITH at its top, no sub-select: its gates are
    functions), which the planner pulls up into the caller: the caller's sums (per currency here) run in parallel
    workers over every branch (partial aggregates) — the totals less the months outside or the months inside, cut
    or not. A WITH or a sub-select there would keep the whole read in one process (the costs set so that a plan
    which can sum in the workers does: only whether it can is asked; two years of facts on 20 channels, so that
    there are rows to sum)."""
    await shop(conn)
    await conn.execute(
        "INSERT INTO sales_facts (day, sku_id, channel, qty, revenue, currency)"
        " SELECT d::date, s.id, 'c' || c, 1 + (s.id + c) % 5, 10, CASE WHEN c % 2 = 0 THEN 'CNY' ELSE 'USD' END"
        "   FROM skus s, generate_series(1, 20) c,"
        "        generate_series('2024-01-01'::date, '2025-12-31'::date, interval '1 day') d"
    )
    await conn.execute("ANALYZE sales_monthly, sales_sku_totals, sales_facts")
    # (workers and their rows free, sums dear: a plan that can make them in the workers does)
    for setting, value in (
        ("parallel_setup_cost", 0),
        ("parallel_tuple_cost", 0),
        ("cpu_operator_cost", 10),
        ("min_parallel_table_scan_size", 0),
        ("min_parallel_index_scan_size", 0),
    ):
        await conn.execute(f"SET LOCAL {setting} = {value}")
    plan = "\n".join(
        r[0]
        for r in await conn.fetch(
            "EXPLAIN SELECT currency, sum(qty), sum(revenue) FROM"
            " merch_report_sku_sales(NULL, NULL, NULL, $1::date, $2::date, true) GROUP BY 1",
            since,
            until,
        )
    )
    assert re.search(r"Partial (Hash|Group)Aggregate", plan), plan
    assert "CTE" not in plan, plan


@pytest.mark.parametrize(
    ("since", "until"),
    [(None, None), (date(2026, 1, 15), None), (None, date(2026, 3, 20)), (date(2026, 2, 1), date(2026, 4, 30))],
)
async def test_with_no_sales_at_all_every_period_reads_nothing(
    conn: asyncpg.Connection, since: date | None, until: date | None
) -> None:
    """An empty rollup has no first or last month: whether to read the totals less the months outside the period
    is then no (its span would be infinite less infinite), and every report over any period answers nothing."""
    assert await conn.fetchval("SELECT count(*) FROM sales_monthly") == 0
    rows = await conn.fetch(
        "SELECT * FROM merch_report_sku_sales(NULL, NULL, NULL, $1::date, $2::date, true)", since, until
    )
    assert rows == []
    for name, run in reports(conn, ReportScope(since=since, until=until)).items():
        items = (await run(True)).items
        if name == "assortment":  # (a row per role, every one at nothing)
            assert {(r.dimension, r.products, r.qty, r.revenue) for r in items} == {("role", 0, 0, "0.00")}, items
        else:
            assert items == [], name


async def test_the_rollup_and_its_checkpoints_equal_a_rebuild_through_uploads_resends_returns_and_removals(
    conn: asyncpg.Connection,
) -> None:
    await history(conn)
    assert await conn.fetchval("SELECT count(*) FROM sales_facts WHERE returned_qty > 0") > 10
    rollup = [dict(r) for r in await conn.fetch(ROLLUP)]
    assert rollup == [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]
    # the checkpoints are sums through day 8, 16 and 24: January's A-1 web row by hand from its facts
    jan = next(r for r in rollup if r["sku"] == "A-1" and r["month"] == date(2026, 1, 1) and r["channel"] == "web")
    by_day = {
        r["day"].day: r["qty"]
        for r in await conn.fetch(
            "SELECT f.day, f.qty - f.returned_qty AS qty FROM sales_facts f JOIN skus s ON s.id = f.sku_id"
            " WHERE s.sku = 'A-1' AND f.channel = 'web' AND f.day BETWEEN '2026-01-01' AND '2026-01-31'"
        )
    }
    assert by_day[9] == 40 and 8 in by_day and 24 in by_day and 25 in by_day
    assert (jan["qty_d8"], jan["qty_d16"], jan["qty_d24"], jan["qty"]) == tuple(
        sum(q for d, q in by_day.items() if d <= last) for last in (8, 16, 24, 31)
    )


# Report-level periods: cut at either end or both, one day, a month's inner days, inside one month, at and
# next to the checkpoints, before and after every fact.
PERIODS = [
    ("2026-01-09", "2026-02-16"),
    ("2026-01-13", "2026-03-31"),
    ("2025-12-01", "2026-02-21"),
    ("2025-12-25", "2026-03-05"),  # most of the history: the totals minus the outside months, two cuts
    ("2026-02-02", "2026-02-27"),  # a month's inner days
    ("2026-01-17", "2026-01-17"),  # one day
    ("2026-02-28", "2026-02-28"),  # one day whose distribution fact was removed: no receivable that month
    ("2026-01-05", "2026-01-28"),
    ("2026-01-25", "2026-01-31"),
    (None, "2026-02-12"),
    ("2026-01-29", None),
    ("2025-10-01", "2025-11-30"),  # before every fact
    ("2026-03-10", "2026-03-20"),
    ("2026-04-02", "2026-06-30"),  # after every fact
]


def reports(conn: asyncpg.Connection, scope: ReportScope) -> dict[str, Callable[[bool], Awaitable[Any]]]:
    """Every sales report over the scope, with the rollup (True) or from the facts alone (False)."""
    finance = Principal(name="t", roles=frozenset({"finance"}))
    return {
        "assortment": lambda r: sales.assortment(conn, finance, scope, target=None, rollup=r),
        "abc": lambda r: sales.abc(conn, finance, scope, classes=None, limit=100, rollup=r),
        "scorecard": lambda r: sales.purchasing_scorecard(
            conn, scope, weights=None, currency="CNY", limit=100, rollup=r
        ),
        "receivables": lambda r: sales.receivables(conn, scope, limit=100, rollup=r),
        "returns": lambda r: returns_report.returns(conn, scope, by="sku", limit=100, rollup=r),
    }


@pytest.mark.parametrize(("since", "until"), PERIODS)
async def test_every_sales_report_over_a_cut_period_equals_the_report_from_the_facts(
    conn: asyncpg.Connection, since: str | None, until: str | None
) -> None:
    await history(conn)
    for category in (None, "scarves"):
        scope = ReportScope(
            category=category,
            since=date.fromisoformat(since) if since else None,
            until=date.fromisoformat(until) if until else None,
        )
        for name, run in reports(conn, scope).items():
            by_rollup, by_facts = msgspec.to_builtins(await run(True)), msgspec.to_builtins(await run(False))
            assert by_rollup == by_facts, (name, category)


async def test_a_cut_reads_the_facts_of_at_most_4_days_up_to_its_nearest_checkpoint(conn: asyncpg.Connection) -> None:
    """merch_checkpoint: for every day of two years (leap February included) as a cut, the checkpoint is one of
    its month's (0, 8, 16, 24 days in, or its end) and the nearest one — never more than 4 days away."""
    rows = await conn.fetch(
        "SELECT b, abs(merch_checkpoint(b) - b) AS distance,"
        " (SELECT min(abs(b - (m + k))) FROM unnest(ARRAY[0, 8, 16, 24, n]) k) AS nearest,"
        " merch_checkpoint(b) - m = ANY (ARRAY[0, 8, 16, 24, n]) AS known"
        " FROM (SELECT g::date AS b, date_trunc('month', g)::date AS m,"
        " (date_trunc('month', g) + interval '1 month')::date - date_trunc('month', g)::date AS n"
        " FROM generate_series('2027-01-01'::date, '2028-12-31'::date, interval '1 day') g) x"
    )
    assert len(rows) == 731
    assert [r["b"] for r in rows if not r["known"] or r["distance"] != r["nearest"]] == []
    assert max(r["nearest"] for r in rows) == 4


async def test_the_migration_backfills_the_checkpoints_of_a_rollup_that_had_none(conn: asyncpg.Connection) -> None:
    """Migration 0031's set-based backfill (its UPDATE, run on the history's rollup with every checkpoint at 0,
    as the ADD COLUMN leaves them) gives the checkpoints a rebuild from the facts gives, returns included."""
    await history(conn)
    text = (MIGRATIONS_DIR / "0031_sales_monthly_checkpoints.sql").read_text(encoding="utf-8")
    backfill = re.search(r"^UPDATE sales_monthly m\n.*?;$", text, re.S | re.M)
    assert backfill
    added = [c for c in CHECKPOINTS if not c.startswith("returned_qty")]  # (0032's are its own)
    await conn.execute(f"UPDATE sales_monthly SET {', '.join(f'{c} = 0' for c in added)}")
    assert [dict(r) for r in await conn.fetch(ROLLUP)] != [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]
    await conn.execute(backfill.group(0))
    assert [dict(r) for r in await conn.fetch(ROLLUP)] == [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]


async def test_the_migration_backfills_the_units_returned_of_a_rollup_and_totals_that_had_none(
    conn: asyncpg.Connection,
) -> None:
    """Migration 0032's set-based backfill (its two UPDATEs, run on the history's rollup and totals with every
    returned_qty at 0, as the ADD COLUMN leaves them) gives what a rebuild from the facts gives."""
    await history(conn)
    text = (MIGRATIONS_DIR / "0032_sales_returned_units.sql").read_text(encoding="utf-8")
    backfills = re.findall(r"^UPDATE sales_(?:monthly m|sku_totals t)\n.*?;$", text, re.S | re.M)
    assert len(backfills) == 2
    totals = "SELECT sku_id, currency, returned_qty FROM sales_sku_totals ORDER BY 1, 2"
    of_facts = (
        "SELECT sku_id, currency, sum(returned_qty) FROM sales_facts GROUP BY 1, 2 HAVING count(*) > 0 ORDER BY 1, 2"
    )
    assert [tuple(r) for r in await conn.fetch(totals)] == [tuple(r) for r in await conn.fetch(of_facts)]
    assert await conn.fetchval("SELECT sum(returned_qty) FROM sales_facts") > 0  # the history has returns
    await conn.execute(
        "UPDATE sales_monthly SET returned_qty = 0, returned_qty_d8 = 0, returned_qty_d16 = 0, returned_qty_d24 = 0"
    )
    await conn.execute("UPDATE sales_sku_totals SET returned_qty = 0")
    assert [dict(r) for r in await conn.fetch(ROLLUP)] != [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]
    for backfill in backfills:
        await conn.execute(backfill)
    assert [dict(r) for r in await conn.fetch(ROLLUP)] == [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]
    assert [tuple(r) for r in await conn.fetch(totals)] == [tuple(r) for r in await conn.fetch(of_facts)]
