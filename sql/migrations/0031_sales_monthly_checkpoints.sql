-- Checkpoints in the monthly rollup (issue 14, part 4: sales reports over a period that cuts months): each
-- `sales_monthly` row also holds, per measure a sales report reads, the month's cumulative sum through day 8, 16
-- and 24 (`<measure>_d8`, `_d16`, `_d24`), net of returns as the row's own sums (costed_qty, which no report
-- reads, has none). A period that cuts a month then reads that month's rows and at most 4 days of facts per
-- cut — the days between the cut and the nearest checkpoint (0, 8, 16, 24 or the whole month) — instead of every
-- day of the cut part from the facts (merch_report_sku_sales, sql/functions/reports.sql). Placed after the
-- existing columns, so that readers of whole months never deform them. Kept like the other sums by the
-- statement triggers on the facts and the refresh point's merge (sql/functions/sales.sql), from the deltas'
-- part of the month (`sales_pending.segment`).
-- The backfill: one grouping of the facts of days 1..24 per rollup row (set-based), net of returns as
-- merch_net computes it (written out: the routines are created after the migrations). The defaults serve
-- only the ADD COLUMN: no writer may leave a checkpoint out, so they are dropped. Run
-- `VACUUM (ANALYZE) sales_monthly` afterwards (the UPDATE leaves the old row versions dead).
ALTER TABLE sales_monthly
    ADD COLUMN facts_d8 integer NOT NULL DEFAULT 0,
    ADD COLUMN qty_d8 bigint NOT NULL DEFAULT 0,
    ADD COLUMN revenue_d8 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN cost_d8 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN costed_facts_d8 integer NOT NULL DEFAULT 0,
    ADD COLUMN costed_revenue_d8 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN distribution_value_d8 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN distributed_qty_d8 bigint NOT NULL DEFAULT 0,
    ADD COLUMN distributed_facts_d8 integer NOT NULL DEFAULT 0,
    ADD COLUMN facts_d16 integer NOT NULL DEFAULT 0,
    ADD COLUMN qty_d16 bigint NOT NULL DEFAULT 0,
    ADD COLUMN revenue_d16 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN cost_d16 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN costed_facts_d16 integer NOT NULL DEFAULT 0,
    ADD COLUMN costed_revenue_d16 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN distribution_value_d16 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN distributed_qty_d16 bigint NOT NULL DEFAULT 0,
    ADD COLUMN distributed_facts_d16 integer NOT NULL DEFAULT 0,
    ADD COLUMN facts_d24 integer NOT NULL DEFAULT 0,
    ADD COLUMN qty_d24 bigint NOT NULL DEFAULT 0,
    ADD COLUMN revenue_d24 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN cost_d24 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN costed_facts_d24 integer NOT NULL DEFAULT 0,
    ADD COLUMN costed_revenue_d24 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN distribution_value_d24 numeric(38, 4) NOT NULL DEFAULT 0,
    ADD COLUMN distributed_qty_d24 bigint NOT NULL DEFAULT 0,
    ADD COLUMN distributed_facts_d24 integer NOT NULL DEFAULT 0;

UPDATE sales_monthly m
   SET
       facts_d8 = x.facts_d8,
       qty_d8 = x.qty_d8,
       revenue_d8 = x.revenue_d8,
       cost_d8 = x.cost_d8,
       costed_facts_d8 = x.costed_facts_d8,
       costed_revenue_d8 = x.costed_revenue_d8,
       distribution_value_d8 = x.distribution_value_d8,
       distributed_qty_d8 = x.distributed_qty_d8,
       distributed_facts_d8 = x.distributed_facts_d8,
       facts_d16 = x.facts_d16,
       qty_d16 = x.qty_d16,
       revenue_d16 = x.revenue_d16,
       cost_d16 = x.cost_d16,
       costed_facts_d16 = x.costed_facts_d16,
       costed_revenue_d16 = x.costed_revenue_d16,
       distribution_value_d16 = x.distribution_value_d16,
       distributed_qty_d16 = x.distributed_qty_d16,
       distributed_facts_d16 = x.distributed_facts_d16,
       facts_d24 = x.facts_d24,
       qty_d24 = x.qty_d24,
       revenue_d24 = x.revenue_d24,
       cost_d24 = x.cost_d24,
       costed_facts_d24 = x.costed_facts_d24,
       costed_revenue_d24 = x.costed_revenue_d24,
       distribution_value_d24 = x.distribution_value_d24,
       distributed_qty_d24 = x.distributed_qty_d24,
       distributed_facts_d24 = x.distributed_facts_d24
  FROM (SELECT n.month, n.sku_id, n.channel, n.currency,
               count(*) FILTER (WHERE n.d < 8) AS facts_d8,
               coalesce(sum(n.qty) FILTER (WHERE n.d < 8), 0) AS qty_d8,
               coalesce(sum(n.revenue) FILTER (WHERE n.d < 8), 0) AS revenue_d8,
               coalesce(sum(n.cost) FILTER (WHERE n.d < 8), 0) AS cost_d8,
               count(n.cost) FILTER (WHERE n.d < 8) AS costed_facts_d8,
               coalesce(sum(n.revenue) FILTER (WHERE n.d < 8 AND n.cost IS NOT NULL), 0) AS costed_revenue_d8,
               coalesce(sum(n.distribution_value) FILTER (WHERE n.d < 8), 0) AS distribution_value_d8,
               coalesce(sum(n.qty) FILTER (WHERE n.d < 8 AND n.distribution_value IS NOT NULL), 0) AS distributed_qty_d8,
               count(n.distribution_value) FILTER (WHERE n.d < 8) AS distributed_facts_d8,
               count(*) FILTER (WHERE n.d < 16) AS facts_d16,
               coalesce(sum(n.qty) FILTER (WHERE n.d < 16), 0) AS qty_d16,
               coalesce(sum(n.revenue) FILTER (WHERE n.d < 16), 0) AS revenue_d16,
               coalesce(sum(n.cost) FILTER (WHERE n.d < 16), 0) AS cost_d16,
               count(n.cost) FILTER (WHERE n.d < 16) AS costed_facts_d16,
               coalesce(sum(n.revenue) FILTER (WHERE n.d < 16 AND n.cost IS NOT NULL), 0) AS costed_revenue_d16,
               coalesce(sum(n.distribution_value) FILTER (WHERE n.d < 16), 0) AS distribution_value_d16,
               coalesce(sum(n.qty) FILTER (WHERE n.d < 16 AND n.distribution_value IS NOT NULL), 0) AS distributed_qty_d16,
               count(n.distribution_value) FILTER (WHERE n.d < 16) AS distributed_facts_d16,
               count(*) FILTER (WHERE n.d < 24) AS facts_d24,
               coalesce(sum(n.qty) FILTER (WHERE n.d < 24), 0) AS qty_d24,
               coalesce(sum(n.revenue) FILTER (WHERE n.d < 24), 0) AS revenue_d24,
               coalesce(sum(n.cost) FILTER (WHERE n.d < 24), 0) AS cost_d24,
               count(n.cost) FILTER (WHERE n.d < 24) AS costed_facts_d24,
               coalesce(sum(n.revenue) FILTER (WHERE n.d < 24 AND n.cost IS NOT NULL), 0) AS costed_revenue_d24,
               coalesce(sum(n.distribution_value) FILTER (WHERE n.d < 24), 0) AS distribution_value_d24,
               coalesce(sum(n.qty) FILTER (WHERE n.d < 24 AND n.distribution_value IS NOT NULL), 0) AS distributed_qty_d24,
               count(n.distribution_value) FILTER (WHERE n.d < 24) AS distributed_facts_d24
          FROM (SELECT date_trunc('month', f.day)::date AS month, f.day - date_trunc('month', f.day)::date AS d,
                       f.sku_id, f.channel, f.currency, f.qty - f.returned_qty AS qty, f.revenue - f.refunded AS revenue,
                       CASE WHEN f.returned_qty = 0 THEN f.cost
                            ELSE round(f.cost * (f.qty - f.returned_qty) / f.qty, 4) END AS cost,
                       CASE WHEN f.returned_qty = 0 THEN f.distribution_value
                            ELSE round(f.distribution_value * (f.qty - f.returned_qty) / f.qty, 4) END
                         AS distribution_value
                  FROM sales_facts f
                 WHERE f.day - date_trunc('month', f.day)::date < 24) n
         GROUP BY n.month, n.sku_id, n.channel, n.currency) x
 WHERE m.month = x.month AND m.sku_id = x.sku_id AND m.channel = x.channel AND m.currency = x.currency;

ALTER TABLE sales_monthly
    ALTER COLUMN facts_d8 DROP DEFAULT,
    ALTER COLUMN qty_d8 DROP DEFAULT,
    ALTER COLUMN revenue_d8 DROP DEFAULT,
    ALTER COLUMN cost_d8 DROP DEFAULT,
    ALTER COLUMN costed_facts_d8 DROP DEFAULT,
    ALTER COLUMN costed_revenue_d8 DROP DEFAULT,
    ALTER COLUMN distribution_value_d8 DROP DEFAULT,
    ALTER COLUMN distributed_qty_d8 DROP DEFAULT,
    ALTER COLUMN distributed_facts_d8 DROP DEFAULT,
    ALTER COLUMN facts_d16 DROP DEFAULT,
    ALTER COLUMN qty_d16 DROP DEFAULT,
    ALTER COLUMN revenue_d16 DROP DEFAULT,
    ALTER COLUMN cost_d16 DROP DEFAULT,
    ALTER COLUMN costed_facts_d16 DROP DEFAULT,
    ALTER COLUMN costed_revenue_d16 DROP DEFAULT,
    ALTER COLUMN distribution_value_d16 DROP DEFAULT,
    ALTER COLUMN distributed_qty_d16 DROP DEFAULT,
    ALTER COLUMN distributed_facts_d16 DROP DEFAULT,
    ALTER COLUMN facts_d24 DROP DEFAULT,
    ALTER COLUMN qty_d24 DROP DEFAULT,
    ALTER COLUMN revenue_d24 DROP DEFAULT,
    ALTER COLUMN cost_d24 DROP DEFAULT,
    ALTER COLUMN costed_facts_d24 DROP DEFAULT,
    ALTER COLUMN costed_revenue_d24 DROP DEFAULT,
    ALTER COLUMN distribution_value_d24 DROP DEFAULT,
    ALTER COLUMN distributed_qty_d24 DROP DEFAULT,
    ALTER COLUMN distributed_facts_d24 DROP DEFAULT;

-- (empty between transactions: the refresh point deletes a transaction's rows as it merges them) The deltas
-- carry the part of the month their days fall in — 0: days 1..8, 1: 9..16, 2: 17..24, 3: the rest — so that the
-- merge sums the checkpoints' deltas from them: a statement records no more sums than before.
ALTER TABLE sales_pending ADD COLUMN segment integer NOT NULL;
