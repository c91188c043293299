"""`make mutate`: mutants — one plausible bug at a time — each applied to its file, the tests that cover it run,
the file restored. A mutant is killed when those tests fail. Prints each outcome, the score and the survivors;
exits 1 when one survives.

Two sets, neither part of `make test` (each mutant costs a test run):

- the kept list below (MUTANTS), written by hand, in the SQL that holds the rules (SQL mutants rebuild the
  template database) and in the Python around it. Add a mutant for each rule a test is written for: the text it
  replaces must occur exactly once in its file.
- generated mutants (tests/mutagen.py) of the rule-bearing Python modules (MODULES, each with the tests that
  cover it): comparisons off by one or turned round, `and`/`or` swapped, `not` dropped, a constant ±1, a bool
  answer inverted, a `raise` removed. At most `--cap` per module (a sample, the same for the same `--seed`); the
  template database is built once for the run. A survivor known to be equivalent (no test can tell it from the
  code) is listed in EQUIVALENT with the reason, and not run.

    python -m tests.mutation                      # the kept list
    python -m tests.mutation stock                # those of the kept list whose name contains "stock"
    python -m tests.mutation --generated          # generated mutants of every module of MODULES
    python -m tests.mutation --module domain/money.py --cap 0     # every generated mutant of one module
    python -m tests.mutation --module domain/money.py --list      # list them, run nothing
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import mutagen

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS = [
    Mutant(
        "returns: a returned unit still counts as sold in the rollups",
        "sql/functions/sales.sql",
        "'qty - returned_qty AS qty, revenue - refunded AS revenue, '",
        "'qty, revenue - refunded AS revenue, '",
        ("tests/api/test_returns.py", "-k", "fewer_units"),
    ),
    Mutant(
        "returns: a return brings back more than the named sale sold",
        "sql/functions/stock.sql",
        "IF NOT FOUND OR v_fact.returned_qty + l.qty > v_fact.qty THEN",
        "IF NOT FOUND THEN",
        ("tests/api/test_returns.py", "-k", "bad_returns"),
    ),
    Mutant(
        "returns: a quarantine bin's units count as available",
        "sql/queries/stock.sql",
        "CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END AS available, s.reorder_point",
        "sl.on_hand - sl.reserved AS available, s.reorder_point",
        ("tests/api/test_returns.py", "-k", "quarantine"),
    ),
    Mutant(
        "promotion-roi: the baseline reaches before the first sales data",
        "sql/functions/promotions.sql",
        "greatest(w.first_day - w.asked, coalesce((SELECT min(f.day) FROM sales_facts f), w.first_day))",
        "least(w.first_day - w.asked, coalesce((SELECT min(f.day) FROM sales_facts f), w.first_day))",
        ("tests/api/test_promotion_roi.py", "-k", "by_hand"),
    ),
    Mutant(
        "promotion-roi: returned units still count for the promotion",
        "sql/functions/promotions.sql",
        "'day, sku_id, channel, currency, qty - returned_qty AS qty, revenue - refunded AS revenue, '",
        "'day, sku_id, channel, currency, qty, revenue - refunded AS revenue, '",
        ("tests/api/test_promotion_roi.py", "-k", "returns"),
    ),
    Mutant(
        "promotion outcomes: facts written record no delta",
        "sql/functions/promotions.sql",
        "    IF NOT v_any THEN",
        "    IF true THEN",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "uploads or came_before"),
    ),
    Mutant(
        "promotion outcomes: a neighbour's category or lifecycle change is not recorded",
        "sql/functions/promotions.sql",
        "    IF NOT EXISTS (SELECT 1 FROM promotion_outcomes) THEN",
        "    IF true THEN",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "neighbours"),
    ),
    Mutant(
        "promotion outcomes: an earlier first day of sales data leaves the baselines as they were",
        "sql/functions/promotions.sql",
        "         WHERE o.baseline_from IS DISTINCT FROM",
        "         WHERE false AND o.baseline_from IS DISTINCT FROM",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "neighbours"),
    ),
    Mutant(
        "promotion outcomes: a new sale price leaves the items' regular price",
        "sql/functions/promotions.sql",
        "        ' JOIN promotion_outcome_lines l ON l.sku_id = r.sku_id AND l.sku_id <> 0'\n"
        "        ' JOIN promotion_outcomes",
        "        ' JOIN promotion_outcome_lines l ON l.sku_id = r.sku_id AND false'\n        ' JOIN promotion_outcomes",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "edits"),
    ),
    Mutant(
        "promotion outcomes: a promotion's new end is not recorded",
        "sql/functions/promotions.sql",
        "             WHERE (n.starts_at, n.ends_at, n.baseline_days, n.spend_currency, n.spend_channel)",
        "             WHERE (n.starts_at, o.ends_at, n.baseline_days, n.spend_currency, n.spend_channel)",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "edits"),
    ),
    Mutant(
        "promotion outcomes: series memberships are not recorded",
        "sql/functions/promotions.sql",
        "CASE TG_OP WHEN 'INSERT' THEN 'new_rows' ELSE 'old_rows' END);",
        "CASE TG_OP WHEN 'INSERT' THEN 'old_rows' ELSE 'old_rows' END);",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "neighbours"),
    ),
    Mutant(
        "promotion outcomes: an item's product counts among its promotion's neighbours",
        "sql/functions/promotions.sql",
        "     WHERE p_lifecycle = 'listed'\n       AND NOT EXISTS",
        "     WHERE p_lifecycle = 'listed'\n       AND EXISTS",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "neighbours"),
    ),
    Mutant(
        "promotion outcomes: a new SKU of a neighbour is not among its neighbours' SKUs",
        "sql/functions/promotions.sql",
        "      JOIN products p ON p.id = w.product_id\n",
        "      JOIN products p ON p.id = w.product_id AND false\n",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "python"),
    ),
    Mutant(
        "promotion outcomes: a neighbour moved keeps its SKUs' rows as they were",
        "sql/functions/promotions.sql",
        "' JOIN skus s ON s.product_id = c.id WHERE c.sign = 1 ON CONFLICT DO NOTHING'",
        "' JOIN skus s ON s.product_id = c.id WHERE false ON CONFLICT DO NOTHING'",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "neighbours"),
    ),
    Mutant(
        "promotion outcomes: the report leaves out the log's rows not folded yet",
        "sql/functions/promotions.sql",
        "           AND (p_skus IS NULL OR g.sku_id = ANY (p_skus))\n         GROUP BY g.promotion_id, g.sku_id",
        "           AND (p_skus IS NULL OR g.sku_id = ANY (p_skus)) AND false\n"
        "         GROUP BY g.promotion_id, g.sku_id",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "log"),
    ),
    Mutant(
        "promotion outcomes: the report counts log rows of an older build",
        "sql/functions/promotions.sql",
        "          JOIN promotion_outcomes o ON o.promotion_id = g.promotion_id AND o.generation = g.generation\n"
        "         WHERE g.promotion_id = ANY (p_promotions) AND (p_items",
        "          JOIN promotion_outcomes o ON o.promotion_id = g.promotion_id\n"
        "         WHERE g.promotion_id = ANY (p_promotions) AND (p_items",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "log"),
    ),
    Mutant(
        "promotion outcomes: the fold keeps the log rows it added",
        "sql/functions/promotions.sql",
        "    DELETE FROM promotion_outcome_log g\n     WHERE NOT EXISTS",
        "    DELETE FROM promotion_outcome_log g\n     WHERE false AND NOT EXISTS",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "log"),
    ),
    Mutant(
        "promotion outcomes: the fold adds log rows of an older build",
        "sql/functions/promotions.sql",
        "      JOIN promotion_outcomes o ON o.promotion_id = g.promotion_id AND o.generation = g.generation"
        " AND o.computed",
        "      JOIN promotion_outcomes o ON o.promotion_id = g.promotion_id AND o.computed",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "log"),
    ),
    Mutant(
        "promotion outcomes: a recompute's second step keeps the log rows its snapshot saw",
        "sql/functions/promotions.sql",
        "    DELETE FROM promotion_outcome_log WHERE promotion_id = ANY (p_promotions);\n"
        "    DELETE FROM promotion_outcome_stale",
        "    DELETE FROM promotion_outcome_stale",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "recomputing"),
    ),
    Mutant(
        "promotion outcomes: every write queues another job (not coalesced)",
        "sql/functions/promotions.sql",
        "     WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND kind = 'promotion-outcomes')",
        "     WHERE true",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "log"),
    ),
    Mutant(
        "promotion outcomes: a promotion's edit recomputes it in the writer's transaction",
        "sql/functions/promotions.sql",
        "    PERFORM merch_queue_promotion_outcomes('promotions changed');\nEND",
        "    PERFORM merch_queue_promotion_outcomes('promotions changed');\n"
        "    PERFORM merch_rebuild_promotion_outcomes(p_promotions);\n"
        "    PERFORM merch_sum_promotion_outcomes(p_promotions, ARRAY(SELECT id FROM promotion_outcome_stale));\nEND",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "recomputing"),
    ),
    Mutant(
        "promotion outcomes: a marked promotion is not said to be recomputing",
        "sql/functions/reports.sql",
        "NOT o.computed OR EXISTS (SELECT 1 FROM promotion_outcome_stale s WHERE s.promotion_id = o.promotion_id)",
        "NOT o.computed",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "recomputing"),
    ),
    Mutant(
        "promotion-roi: a promotion being recomputed shows the figures of its lines",
        "sql/queries/reports.sql",
        "           CASE WHEN NOT w.recomputing THEN coalesce(t.units, 0) END AS units,",
        "           coalesce(t.units, 0) AS units,",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "recomputing"),
    ),
    Mutant(
        "promotion outcomes: the job's recompute leaves the marks",
        "sql/functions/promotions.sql",
        "    DELETE FROM promotion_outcome_stale WHERE id = ANY (p_marks);",
        "",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "recomputing"),
    ),
    Mutant(
        "promotion outcomes: a writer holds no writers' lock (the job's barrier waits for nothing)",
        "sql/functions/promotions.sql",
        "    SELECT pg_advisory_xact_lock_shared(7340655, 0)\n",
        "    SELECT pg_advisory_xact_lock_shared(7340655, 2)\n",
        ("tests/db/test_promotion_outcomes_concurrency.py",),
    ),
    Mutant(
        "promotion outcomes: the job sums without waiting at the barrier",
        "sql/queries/reports.sql",
        "SELECT pg_advisory_xact_lock(7340655, 0);",
        "SELECT 1;",
        ("tests/db/test_promotion_outcomes_concurrency.py",),
    ),
    Mutant(
        "promotion-roi: a baseline's units scaled in integers",
        "sql/queries/reports.sql",
        "CASE WHEN w.known > 0 THEN l.baseline_units::numeric * w.days / w.known END AS base_units,",
        "CASE WHEN w.known > 0 THEN l.baseline_units * w.days / w.known END AS base_units,",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "python"),
    ),
    Mutant(
        "promotion-roi: a negative amount that rounds to zero loses its sign",
        "sql/functions/reports.sql",
        "CASE WHEN p_value < 0 AND round(p_value, p_places) = 0 THEN '-' ELSE '' END",
        "''",
        ("tests/api/test_promotion_outcomes_kept.py", "-k", "python or half_up"),
    ),
    Mutant(
        "assortment: the category rows group by role",
        "sql/queries/reports.sql",
        "SELECT 'category', p.category_id, pp.currency",
        "SELECT 'category', p.role_id, pp.currency",
        ("tests/api/test_reports.py", "-k", "assortment"),
    ),
    Mutant(
        "stock: pick and ship take one unit more than on hand",
        "sql/functions/stock.sql",
        "THEN sl.on_hand - sl.reserved >= l.qty - least(sl.reserved, l.qty)",
        "THEN sl.on_hand - sl.reserved >= l.qty - least(sl.reserved, l.qty) - 1",
        ("tests/api/test_stock_movements.py", "-k", "limit"),
    ),
    Mutant(
        "stock: a negative adjust eats reserved stock",
        "sql/functions/stock.sql",
        "WHEN l.type = 'adjust' THEN sl.on_hand::bigint + l.qty BETWEEN sl.reserved AND 2147483647",
        "WHEN l.type = 'adjust' THEN sl.on_hand::bigint + l.qty BETWEEN 0 AND 2147483647",
        ("tests/api/test_stock_movements.py", "-k", "limit"),
    ),
    Mutant(
        "stock: a reserve takes more than is available",
        "sql/functions/stock.sql",
        "WHEN l.type IN ('transfer', 'reserve') THEN sl.on_hand - sl.reserved >= l.qty",
        "WHEN l.type IN ('transfer', 'reserve') THEN sl.on_hand >= l.qty",
        ("tests/api/test_stock_movements.py", "-k", "limit"),
    ),
    Mutant(
        "stock: a receipt overfills a bin",
        "sql/functions/stock.sql",
        "WHEN l.type IN ('receive', 'return') THEN sl.on_hand::bigint + l.qty <= 2147483647",
        "WHEN l.type IN ('receive', 'return') THEN true",
        ("tests/api/test_stock_movements.py", "-k", "overfill"),
    ),
    Mutant(
        "stock: requests with one Idempotency-Key do not take turns",
        "sql/functions/stock.sql",
        "    PERFORM pg_advisory_xact_lock(x.lock)\n       FROM (SELECT DISTINCT hashtextextended(r.actor",
        "    PERFORM x.lock\n       FROM (SELECT DISTINCT hashtextextended(r.actor",
        ("tests/db/test_idempotency_races.py", "-k", "stock"),
    ),
    Mutant(
        "stock: the levels' keyset repeats a row across pages",
        "sql/queries/stock.sql",
        "(s.sku, w.code, l.code) > (coalesce($7::text, ''), coalesce($8::text, ''), coalesce($9::text, ''))",
        "(s.sku, w.code, l.code) >= (coalesce($7::text, ''), coalesce($8::text, ''), coalesce($9::text, ''))",
        ("tests/api/test_stock_movements.py", "-k", "page_through"),
    ),
    Mutant(
        "sales: uploads with one Idempotency-Key do not take turns",
        "domain/sales/service.py",
        "    await store.lock_sales_request(conn, actor.name, idempotency_key)\n",
        "",
        ("tests/db/test_idempotency_races.py", "-k", "sales"),
    ),
    Mutant(
        "sales: a removal leaves the rollup and the totals as they were",
        "sql/functions/sales.sql",
        "WHEN 'DELETE' THEN format('SELECT -1 AS sign, %s FROM old_rows', v_net)",
        "WHEN 'DELETE' THEN format('SELECT -1 AS sign, %s FROM old_rows WHERE false', v_net)",
        ("tests/api/test_sales_removals.py", "-k", "never_had"),
    ),
    Mutant(
        "sales: a removal needs no days",
        "domain/sales/model.py",
        "    if first is None or last is None:\n",
        "    if first is None and last is None and False:\n",
        ("tests/api/test_sales_removals.py", "-k", "without_its_days"),
    ),
    Mutant(
        "prices: a recorded price may start in the past",
        "domain/prices/model.py",
        "    if valid_from < now:\n        raise PriceStartsInThePast",
        "    if valid_from < now - NOW_TOLERANCE * 60 * 24 * 365:\n        raise PriceStartsInThePast",
        ("tests/api/test_price_corrections.py", "-k", "past or minute"),
    ),
    Mutant(
        "prices: a correction drops the rest of a period it splits",
        "domain/prices/model.py",
        "                inserted.append((end, p.price.valid_to, p.price.amount))",
        "                pass",
        ("tests/api/test_price_corrections.py", "-k", "splits"),
    ),
    Mutant(
        "prices: corrections of one SKU do not take turns (neither the product nor the SKU is locked)",
        "sql/queries/prices.sql",
        "   FOR NO KEY UPDATE;\n\n-- name: lock_price_sku :one\n-- A SKU locked for a price write (its prices"
        " change one writer at a time), with the transaction's now().\nSELECT s.id, s.sku, s.product_id,"
        " now() AS now\n  FROM skus s\n WHERE s.sku = $1::text\n   FOR NO KEY UPDATE;",
        ";\n\n-- name: lock_price_sku :one\n-- A SKU locked for a price write (its prices"
        " change one writer at a time), with the transaction's now().\nSELECT s.id, s.sku, s.product_id,"
        " now() AS now\n  FROM skus s\n WHERE s.sku = $1::text;",
        ("tests/db/test_corrections_concurrency.py", "-k", "corrections_of_one"),
    ),
    Mutant(
        "prices: a correction leaves the facts of its days costed at the old price",
        "domain/prices/service.py",
        "        await _recost(conn, locked.id, body.kind, body.currency, body.valid_from, body.valid_to)\n",
        "",
        ("tests/api/test_price_corrections.py", "-k", "re_costs"),
    ),
    Mutant(
        "stage views: a required, unlisted confidential attribute is shown",
        "domain/stages/views.py",
        'not in listed:\n            hidden = entry.visibility == "confidential" and not confidential_ok',
        "not in listed:\n            hidden = False",
        ("tests/api/test_stage_views.py",),
    ),
    Mutant(
        "completeness: nothing required counts as 0 % complete",
        "domain/stages/model.py",
        "ratio = 1.0 if required == 0 else",
        "ratio = 0.0 if required == 0 else",
        ("tests/api/test_completeness.py", "-k", "requires_nothing"),
    ),
    Mutant(
        "locations: a delete ignores If-Match",
        "domain/warehouses/service.py",
        "await _locations(warehouse, for_delete=True).remove(conn, actor, location, expected)",
        "await _locations(warehouse, for_delete=True).remove(conn, actor, location, None)",
        ("tests/api/test_locations.py", "tests/api/test_if_match_everywhere.py", "-k", "stale_if_match"),
    ),
    Mutant(
        "roles: any back-office role may move categories",
        "api/routes/categories.py",
        'summary="Move a category",\n        opt=WRITERS,',
        'summary="Move a category",\n        opt=READERS,',
        ("tests/api/test_role_matrix.py", "-k", "move or written_table"),
    ),
    Mutant(
        "storefront quarantine: a quarantine bin's units put a product in stock",
        "sql/functions/storefront.sql",
        "WHERE l.sku_id = s.id AND l.on_hand > l.reserved AND NOT q.quarantine LIMIT 1",
        "WHERE l.sku_id = s.id AND l.on_hand > l.reserved LIMIT 1",
        ("tests/api/test_storefront.py", "-k", "quarantine"),
    ),
    Mutant(
        "storefront quarantine: a bin put into quarantine leaves its products in stock",
        "sql/functions/storefront.sql",
        "WHEN (OLD.quarantine <> NEW.quarantine) EXECUTE FUNCTION merch_touch_location_quarantine();",
        "WHEN (false) EXECUTE FUNCTION merch_touch_location_quarantine();",
        ("tests/api/test_storefront.py", "-k", "quarantine"),
    ),
    Mutant(
        "facets: a shelf row whose tokens changed leaves its combination as it was",
        "sql/functions/shelf_combos.sql",
        "OR (o.tokens, o.numbers) IS DISTINCT FROM (n.tokens, n.numbers)) c",
        "OR false) c",
        ("tests/api/test_storefront_facet_combos.py", "-k", "burst"),
    ),
    Mutant(
        "facets: a combination no product carries any more is kept",
        "sql/functions/shelf_combos.sql",
        "    IF v_emptied IS NOT NULL THEN",
        "    IF false THEN",
        ("tests/api/test_storefront_facet_combos.py", "-k", "burst"),
    ),
    Mutant(
        "facets: an attribute's values counted under its own selection too (not disjunctive)",
        "sql/queries/storefront.sql",
        "SELECT u.t, sum(u.products) FILTER (WHERE u.passes OR starts_with(u.t, u.failed || '='))::bigint AS n,",
        "SELECT u.t, sum(u.products) FILTER (WHERE u.passes)::bigint AS n,",
        ("tests/api/test_storefront.py", "-k", "brute_force"),
    ),
    Mutant(
        "suppliers: an agent ranks above a manufacturer",
        "sql/queries/suppliers.sql",
        "THEN array_position(ARRAY['manufacturer', 'agent', 'wholesaler', 'trading_company'], s.type)",
        "THEN array_position(ARRAY['agent', 'manufacturer', 'wholesaler', 'trading_company'], s.type)",
        ("tests/api/test_product_suppliers.py",),
    ),
    Mutant(
        "storefront: an internal attribute reaches the shop",
        "sql/functions/visibility.sql",
        "FROM attributes a WHERE a.visibility <> 'public'",
        "FROM attributes a WHERE a.visibility NOT IN ('public', 'internal')",
        ("tests/api/test_storefront.py", "tests/api/test_product_visibility.py"),
    ),
    Mutant(
        "replicas: a read with a consistency token takes any replica",
        "api/replicas.py",
        "ready = token is None or await self._caught_up(replica, conn, token, deadline)",
        "ready = True",
        ("tests/replicas/test_read_your_writes.py",),
    ),
    Mutant(
        "replicas: a lagging replica still serves reads",
        "api/replicas.py",
        'return self.state == "streaming" and not self.pool.down',
        'return self.state in ("streaming", "lagging") and not self.pool.down',
        ("tests/replicas/test_routing.py", "-k", "lagging"),
    ),
    Mutant(
        "replicas: a read whose replica failed under it is answered with the failure",
        "api/replicas.py",
        'if marks.get(_RETRY) or (served is not None and message["status"] >= 500):',
        "if False:",
        ("tests/replicas/test_failover.py", "-k", "killed"),
    ),
    Mutant(
        "replicas: a conflict with recovery is logged as a fault of ours",
        "api/replicas.py",
        "(db.DatabaseUnavailable, asyncpg.SerializationError, *db.LOST)",
        "(db.DatabaseUnavailable, *db.LOST)",
        ("tests/replicas/test_failover.py", "-k", "conflict"),
    ),
    Mutant(
        "replicas: a route that writes may declare replica reads",
        "api/replicas.py",
        "                if handler.http_methods & WRITE_METHODS:",
        "                if False:",
        ("tests/replicas/test_routing.py", "-k", "writes"),
    ),
    Mutant(
        "promotion outcomes: a writer looks for a queued job before it holds the writers' lock",
        "sql/functions/promotions.sql",
        "    SELECT merch_promotion_writer();\n    INSERT INTO jobs (kind, reason, requested_by)",
        "    INSERT INTO jobs (kind, reason, requested_by)",
        ("tests/db/test_promotion_outcomes_concurrency.py", "-k", "stranded"),
    ),
    Mutant(
        "promotion outcomes: the job ends on a list of marks taken before any barrier",
        "domain/reports/outcomes.py",
        "                if not promotions and barrier_passed:",
        "                if not promotions:",
        ("tests/db/test_promotion_outcomes_concurrency.py", "-k", "stranded"),
    ),
    Mutant(
        "the clock: a tick waits for the queued products another tick holds",
        "sql/functions/refresh.sql",
        "LIMIT p_limit FOR UPDATE SKIP LOCKED))",
        "LIMIT p_limit FOR UPDATE))",
        ("tests/db/test_storefront_sold_concurrency.py", "-k", "two_ticks"),
    ),
    Mutant(
        "jobs: a runner claims a job of a kind it has no runner for",
        "sql/queries/jobs.sql",
        "                AND kind = ANY ($2::text[])",
        "                AND (kind = ANY ($2::text[]) OR $2::text[] IS NOT NULL)",
        ("tests/db/test_job_kinds.py",),
    ),
    Mutant(
        "sales periods: a delta's part of the month counts the day after it",
        "sql/functions/sales.sql",
        "least(r.d / 8, 3),",
        "least((r.d + 1) / 8, 3),",
        ("tests/api/test_sales_periods.py", "-k", "equal_a_rebuild"),
    ),
    Mutant(
        "sales periods: the merge replaces a checkpoint instead of adding to it",
        "sql/functions/sales.sql",
        "revenue_d8 = m.revenue_d8 + EXCLUDED.revenue_d8",
        "revenue_d8 = EXCLUDED.revenue_d8",
        ("tests/api/test_sales_periods.py", "-k", "equal_a_rebuild"),
    ),
    Mutant(
        "sales periods: the merge sums a checkpoint's deltas over one part of the month too many",
        "sql/functions/sales.sql",
        "coalesce(sum(d.qty) FILTER (WHERE d.segment < 2), 0),",
        "coalesce(sum(d.qty) FILTER (WHERE d.segment <= 2), 0),",
        ("tests/api/test_sales_periods.py", "-k", "equal_a_rebuild"),
    ),
    Mutant(
        "sales periods: a cut reads the checkpoint of another day than its column's",
        "sql/functions/reports.sql",
        "<= 12 THEN 8",
        "<= 12 THEN 9",
        ("tests/api/test_sales_periods.py", "-k", "checkpoints_as_from_the_facts and None-None-False"),
    ),
    Mutant(
        "sales periods: a cut is read from a checkpoint farther than the nearest",
        "sql/functions/reports.sql",
        "<= 4 THEN 0",
        "<= 5 THEN 0",
        ("tests/api/test_sales_periods.py", "-k", "at_most_4"),
    ),
    Mutant(
        "sales periods: the start's days between cut and checkpoint count the wrong way",
        "sql/functions/reports.sql",
        "merch_checkpoint(merch_cut(p_from, p_rollup)) THEN 1 ELSE -1 END",
        "merch_checkpoint(merch_cut(p_from, p_rollup)) THEN -1 ELSE 1 END",
        ("tests/api/test_sales_periods.py", "-k", "checkpoints_as_from_the_facts and apparel"),
    ),
    Mutant(
        "sales periods: the complement's gate reads the span of an empty rollup",
        "sql/functions/reports.sql",
        "CASE WHEN p_may AND b.mn IS NOT NULL",
        "CASE WHEN p_may",
        ("tests/api/test_sales_periods.py", "-k", "no_sales"),
    ),
    Mutant(
        "sales periods: receivables show a month with no fact in the period",
        "sql/queries/reports.sql",
        "HAVING sum(so.facts) > 0\n ORDER BY so.month, so.currency",
        " ORDER BY so.month, so.currency",
        ("tests/api/test_sales_periods.py", "-k", "cut_period and 2026-02-28"),
    ),
    Mutant(
        "sales periods: migration 0031 backfills a checkpoint with the day after it",
        "sql/migrations/0031_sales_monthly_checkpoints.sql",
        "coalesce(sum(n.qty) FILTER (WHERE n.d < 16), 0) AS qty_d16",
        "coalesce(sum(n.qty) FILTER (WHERE n.d <= 16), 0) AS qty_d16",
        ("tests/api/test_sales_periods.py", "-k", "backfills"),
    ),
    Mutant(
        "scorecard: the return rate over the units kept rather than those sold",
        "sql/queries/reports.sql",
        "nullif(sum(sa.qty) + sum(sa.returned_qty), 0)",
        "nullif(sum(sa.qty), 0)",
        ("tests/api/test_returns.py", "-k", "quality"),
    ),
    Mutant(
        "scorecard: the quality component left out of the exact score",
        "sql/queries/reports.sql",
        "\n             + n.quality_score * ($6::numeric[])[5] AS score",
        " AS score",
        ("tests/api/test_returns.py", "-k", "quality"),
    ),
    Mutant(
        "scorecard: the highest return rate scoring 1 on quality",
        "sql/queries/reports.sql",
        "ELSE coalesce((b.r_max - c.return_rate) / nullif(b.r_max - b.r_min, 0), 1) END AS quality_score",
        "ELSE coalesce((c.return_rate - b.r_min) / nullif(b.r_max - b.r_min, 0), 1) END AS quality_score",
        ("tests/api/test_returns.py", "-k", "quality"),
    ),
    Mutant(
        "scorecard: sold products read again as unsold ones",
        "sql/queries/reports.sql",
        "       AND i.id NOT IN (SELECT so.product_id FROM sold so WHERE so.product_id IS NOT NULL)",
        "       AND true",
        ("tests/api/test_reports.py", "-k", "scorecard"),
    ),
    Mutant(
        "scorecard: unsold products at the least appeal that can rank left out",
        "sql/queries/reports.sql",
        "       AND merch_appeal(i.computed, i.lp, i.lr, i.tags) >= (SELECT appeal FROM unsold_floor)",
        "       AND merch_appeal(i.computed, i.lp, i.lr, i.tags) > (SELECT appeal FROM unsold_floor)",
        ("tests/api/test_reports.py", "-k", "scorecard"),
    ),
    Mutant(
        "scorecard: a combination's unsold count includes its sold products",
        "sql/queries/reports.sql",
        "a.products - coalesce(b.products, 0) AS unsold",
        "a.products AS unsold",
        ("tests/api/test_reports.py", "-k", "scorecard"),
    ),
    Mutant(
        "sales periods: a cut month's units returned read whole",
        "sql/functions/reports.sql",
        "merch_between(e.lo, e.hi, p_less, e.returned_qty_d8, e.returned_qty_d16, e.returned_qty_d24, e.returned_qty)",
        "merch_between(e.lo, 32, p_less, e.returned_qty_d8, e.returned_qty_d16, e.returned_qty_d24, e.returned_qty)",
        ("tests/api/test_sales_periods.py", "-k", "every_period_sums"),
    ),
    Mutant(
        "sales periods: with the complement, a cut month's part outside the period is not taken off",
        "sql/functions/reports.sql",
        "SELECT * FROM merch_cut_month_sales(p_from, p_to, p_rollup, 1)",
        "SELECT * FROM merch_cut_month_sales(p_from, p_to, p_rollup, 0)",
        ("tests/api/test_sales_periods.py", "-k", "checkpoints_as_from_the_facts and None-None-False"),
    ),
    Mutant(
        "sales periods: with the complement, the months cut are also taken off whole",
        "sql/functions/reports.sql",
        "THEN m.month < coalesce(merch_month(merch_cut(p_from, p_rollup)),",
        "THEN m.month < coalesce(NULL::date,",
        ("tests/api/test_sales_periods.py", "-k", "checkpoints_as_from_the_facts and None-None-False"),
    ),
    Mutant(
        "sales rollup: units returned left out of an update's deltas",
        "sql/functions/sales.sql",
        "'merch_net(distribution_value, qty, returned_qty) AS distribution_value, returned_qty';",
        "'merch_net(distribution_value, qty, returned_qty) AS distribution_value, 0 AS returned_qty';",
        ("tests/api/test_sales_periods.py", "-k", "rebuild"),
    ),
    Mutant(
        "migration 0032 backfills a checkpoint of units returned with the day after it",
        "sql/migrations/0032_sales_returned_units.sql",
        "coalesce(sum(n.returned_qty) FILTER (WHERE n.d < 16), 0) AS returned_qty_d16",
        "coalesce(sum(n.returned_qty) FILTER (WHERE n.d <= 16), 0) AS returned_qty_d16",
        ("tests/api/test_sales_periods.py", "-k", "units_returned"),
    ),
    Mutant(
        "keyset: the product list's cursor a filter under a generic plan (a page reads every row before it)",
        "sql/queries/products.sql",
        "   AND p.code > coalesce($8::text, '')",
        "   AND ($8::text IS NULL OR p.code > $8)",
        ("tests/db/test_keyset_plans.py", "-k", "page_of_products"),
    ),
    Mutant(
        "keyset: the audit log's cursor a filter under a generic plan",
        "sql/queries/audit.sql",
        "   AND id < coalesce($5::bigint, 9223372036854775807)",
        "   AND ($5::bigint IS NULL OR id < $5)",
        ("tests/db/test_keyset_plans.py", "-k", "audit_log"),
    ),
    Mutant(
        "exports: a JSON Lines export keeps PostgreSQL's whitespace",
        "domain/imports/exports.py",
        'msgspec.json.format(r["line"], indent=-1)',
        'r["line"]',
        ("tests/api/test_imports.py", "-k", "round_trips"),
    ),
    Mutant(
        "exports: the next chunk asked for only once the last one is written out",
        "domain/imports/exports.py",
        "                await asyncio.sleep(0)  # (its query on its way before this chunk is written out)",
        "                pass",
        ("tests/unit/test_export_pages.py", "-k", "asked_for"),
    ),
    Mutant(
        "exports: a reader who leaves leaves the query ahead running",
        "domain/imports/exports.py",
        "                ahead.cancel()\n",
        "                pass\n",
        ("tests/unit/test_export_pages.py", "-k", "leaves"),
    ),
    Mutant(
        "imports: the import's own ANALYZE reads every indexed column, the documents' GIN among them",
        "sql/functions/imports.sql",
        "JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'",
        "JOIN pg_am am ON am.oid = ic.relam",
        ("tests/db/test_imports.py", "-k", "indexed_columns"),
    ),
    Mutant(
        "paging: a cursor's integer beyond bigint taken (the statement refuses it: a 500)",
        "domain/paging.py",
        " and value in INT_RANGE",
        "",
        ("tests/api/test_keyset_everywhere.py", "-k", "beyond_bigint"),
    ),
    Mutant(
        "exports: a CSV header without the keys of the home categories of the products placed in scope",
        "sql/queries/imports.sql",
        "     WHERE pc.path <@ $1\n), keys AS (",
        "     WHERE false\n), keys AS (",
        ("tests/api/test_imports.py", "-k", "subtree"),
    ),
    Mutant(
        "exports: a CSV header naming an attribute removed since its last value went",
        "sql/queries/imports.sql",
        "       ARRAY(SELECT k.key FROM keys k JOIN attributes a ON a.code = k.key\n",
        "       ARRAY(SELECT k.key FROM keys k LEFT JOIN attributes a ON a.code = k.key\n",
        ("tests/api/test_imports.py", "-k", "no_product_has"),
    ),
    Mutant(
        "refresh point: a product's update leaves the keys of its texts and values unrecorded",
        "sql/functions/refresh.sql",
        "    PERFORM merch_touch('keys', v_read);\n",
        "",
        ("tests/db/test_refresh_point.py", "-k", "keys"),
    ),
]


def run(mutant: Mutant) -> tuple[bool, float]:
    path = ROOT / mutant.file
    original = path.read_text(encoding="utf-8")
    found = original.count(mutant.old)
    if found != 1:
        raise SystemExit(f"{mutant.name}: the text to replace occurs {found} times in {mutant.file}, not once")
    started = time.monotonic()
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", *mutant.tests],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    finally:
        path.write_text(original, encoding="utf-8")
    return done.returncode != 0, time.monotonic() - started


def kept(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or any(a in m.name for a in names)]
    survivors = []
    for i, mutant in enumerate(chosen, 1):
        killed, seconds = run(mutant)
        print(f"[{i}/{len(chosen)}] {'killed  ' if killed else 'SURVIVED'} {seconds:5.1f} s  {mutant.name}", flush=True)
        if not killed:
            survivors.append(mutant)
    killed_count = len(chosen) - len(survivors)
    print(f"\nscore: {killed_count}/{len(chosen)} killed ({100 * killed_count / max(1, len(chosen)):.0f} %)")
    for mutant in survivors:
        print(f"  survived: {mutant.name} ({mutant.file}; tests {' '.join(mutant.tests)})")
    return 1 if survivors else 0


# ------------------------------------------------------------------------------------------ generated mutants

# The rule-bearing Python modules, each with the tests that cover it. A module that declares bounds of the API's
# schema (msgspec.Meta) is covered by the OpenAPI drift test too: a changed bound changes the published document.
OPENAPI = "tests/api/test_openapi.py"
MODULES: dict[str, tuple[str, ...]] = {
    "domain/money.py": (
        "tests/api/test_money_bounds.py",
        "tests/api/test_prices.py",
        "tests/api/test_product_suppliers.py",
    ),
    "domain/stages/completeness.py": ("tests/api/test_completeness.py", "tests/api/test_worklist.py"),
    "domain/stages/model.py": (
        "tests/unit/test_job_scope.py",
        "tests/api/test_completeness.py",
        "tests/api/test_worklist.py",
        "tests/api/test_stages.py",
        "tests/api/test_transitions.py",
    ),
    "domain/stages/views.py": (
        "tests/api/test_stage_views.py",
        "tests/api/test_trade_views.py",
        "tests/api/test_stage_views_batched.py",
    ),
    "domain/stock/model.py": (
        OPENAPI,
        "tests/api/test_stock_movements.py",
        "tests/api/test_pick_lists.py",
        "tests/api/test_returns.py",
    ),
    "domain/prices/model.py": (
        OPENAPI,
        "tests/unit/test_price_rules.py",
        "tests/api/test_prices.py",
        "tests/api/test_price_corrections.py",
    ),
    "domain/suppliers/model.py": (OPENAPI, "tests/api/test_product_suppliers.py"),
    "domain/imports/formats.py": (
        "tests/unit/test_upload_readers.py",
        "tests/api/test_imports.py",
        "tests/db/test_imports.py",
    ),
}

# Survivors no test can tell from the code: (file, the line as written, column, the mutation) → why.
_WORKLIST = (
    "rows = await store.list_worklist(conn, stage, below, path, role_id, after[0] if after else None, limit + 1)"
)
_PLACES = "places = -exponent if isinstance(exponent, int) and exponent < 0 else 0"
_QUANTUM = "Decimal.quantize takes only the exponent of its argument: 2E-n and 0E-n quantize as 1E-n do"
EQUIVALENT: dict[tuple[str, str, int, str], str] = {
    ("domain/money.py", "quantum = Decimal(1).scaleb(-minor)", 23, "1 → 2"): _QUANTUM,
    ("domain/money.py", "quantum = Decimal(1).scaleb(-minor)", 23, "1 → 0"): _QUANTUM,
    **{
        ("domain/money.py", _PLACES, column, mutation): "an exponent of 0 gives -0 = 0 places either way; `places` "
        "is only compared with `>` to a bound ≥ 0, so -1 places is as good as 0 (an Amount has no exponent)"
        for column, mutation in ((57, "`<` → `<=`"), (68, "0 → 1"), (75, "0 → -1"))
    },
    ("domain/suppliers/model.py", 'return (True, 0, "", Decimal(0), 0, t.supplier)', 38, "0 → 1"): "the key of an "
    "inactive supplier is only ever compared with another inactive one's (an active one differs at `active` first), "
    "and all of theirs hold the same tier",
    ("domain/stages/completeness.py", _WORKLIST, 79, "0 → -1"): "the cursor's key is checked to hold exactly one "
    "value (decode_cursor), so after[-1] is after[0]",
    ("domain/stages/completeness.py", _WORKLIST, 110, "1 → 2"): "split_page keeps `limit` rows and hands out a "
    "cursor when there were more: one row more fetched changes no page",
}

DEFAULT_CAP = 10


def _pytest(tests: tuple[str, ...], env: dict[str, str], timeout: float) -> tuple[str, float]:
    """Run the tests: "passed", "failed" or "timeout" (a mutant that loops counts as killed), and the seconds."""
    started = time.monotonic()
    # The plugins these tests do not use (schemathesis, hypothesis, faker) cost seconds of every run.
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin"]
    proc = subprocess.Popen(
        [*command, *tests],
        cwd=ROOT,
        env={**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        asyncio.run(_drop_databases_of(proc.pid))
        return "timeout", time.monotonic() - started
    return ("passed" if code == 0 else "failed"), time.monotonic() - started


async def _drop_databases_of(pid: int) -> None:
    """The databases a killed test run left behind (tests/conftest.py names its own after its pid)."""
    from tests.conftest import Server, _admin, drop

    server = Server()
    admin = await _admin(server)
    try:
        names = await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", f"merch_run_{pid}_%")
    finally:
        await admin.close()
    for row in names:
        await drop(server, row["datname"])


@contextmanager
def _one_template() -> Iterator[dict[str, str]]:
    """The environment of the test runs: one template database for them all, on a server held for the run."""
    from tests.conftest import GIVEN_TEMPLATE, Server, build_template, drop

    server = Server()
    name = f"merch_tpl_mutation_{os.getpid()}"
    asyncio.run(build_template(server, name))
    try:
        yield {**os.environ, GIVEN_TEMPLATE: name}
    finally:
        asyncio.run(drop(server, name))


def generated(modules: list[str], cap: int, seed: int, listing: bool) -> int:
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        raise SystemExit(f"not a module of MODULES: {', '.join(unknown)} (they are: {', '.join(MODULES)})")
    plan = {
        module: mutagen.sample(mutagen.mutants_of((ROOT / module).read_text(encoding="utf-8"), module), cap, seed)
        for module in modules
    }
    if listing:
        for mutants in plan.values():
            for m in mutants:
                print(f"{m.where}  {m.description}  | {m.original_line}")
        return 0
    totals = {"killed": 0, "survived": 0, "equivalent": 0}
    survivors: list[mutagen.Mutant] = []
    equivalents: list[tuple[mutagen.Mutant, str]] = []
    started = time.monotonic()
    with _one_template() as env:
        for module, mutants in plan.items():
            tests = MODULES[module]
            outcome, seconds = _pytest(tests, env, timeout=600)
            if outcome != "passed":
                raise SystemExit(f"{module}: its tests ({' '.join(tests)}) do not pass unmutated: {outcome}")
            timeout = max(60.0, 3 * seconds)
            print(f"{module}: {len(mutants)} mutants, tests {' '.join(tests)} ({seconds:.0f} s unmutated)", flush=True)
            path = ROOT / module
            original = path.read_text(encoding="utf-8")
            counts = {"killed": 0, "survived": 0, "equivalent": 0}
            for i, mutant in enumerate(mutants, 1):
                why = EQUIVALENT.get(mutant.key)
                if why is not None:
                    equivalents.append((mutant, why))
                    verdict, seconds = "equivalent", 0.0
                else:
                    path.write_text(mutant.apply(original), encoding="utf-8")
                    try:
                        outcome, seconds = _pytest(tests, env, timeout)
                    finally:
                        path.write_text(original, encoding="utf-8")
                    verdict = "survived" if outcome == "passed" else "killed"
                    if verdict == "survived":
                        survivors.append(mutant)
                counts[verdict] += 1
                label = {"killed": "killed  ", "survived": "SURVIVED", "equivalent": "equiv.  "}[verdict]
                print(
                    f"  [{i}/{len(mutants)}] {label} {seconds:5.1f} s  {mutant.where}  {mutant.description}"
                    f"  | {mutant.original_line}",
                    flush=True,
                )
            for key in totals:
                totals[key] += counts[key]
            print(f"  {module}: {_score(counts)}", flush=True)
    print(f"\nscore: {_score(totals)} ({(time.monotonic() - started) / 60:.0f} min)")
    for mutant in survivors:
        print(f"  survived: {mutant.where}  {mutant.description}  | {mutant.original_line}")
    for mutant, why in equivalents:
        print(f"  equivalent: {mutant.where}  {mutant.description}  | {mutant.original_line} — {why}")
    return 1 if survivors else 0


def _score(counts: dict[str, int]) -> str:
    """Killed of those that are not equivalent."""
    judged = counts["killed"] + counts["survived"]
    percent = 100 * counts["killed"] / max(1, judged)
    return f"{counts['killed']}/{judged} killed ({percent:.0f} %), {counts['equivalent']} equivalent"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="kept mutants whose name contains one of these")
    parser.add_argument("--generated", action="store_true", help="generated mutants of the modules of MODULES")
    parser.add_argument("--module", action="append", default=[], help="only this module (implies --generated)")
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP, help="at most this many per module (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="which sample of a module's mutants")
    parser.add_argument("--list", action="store_true", help="list the generated mutants, run nothing")
    args = parser.parse_args(argv)
    if args.generated or args.module or args.list:
        return generated(args.module or list(MODULES), args.cap, args.seed, args.list)
    return kept(args.names)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
