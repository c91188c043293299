-- Units returned, in the monthly rollup and the per-SKU totals (issue 14: the purchasing scorecard weighs each
-- product's return rate as its quality component). `returned_qty` is the sum of the facts' `returned_qty`: of
-- the units a day's sales sold, how many came back (the sale-day basis; the rollup's `qty` stays net of them, so
-- the units sold are qty + returned_qty). `sales_monthly` also holds its checkpoints through day 8, 16 and 24
-- (`returned_qty_d8`, `_d16`, `_d24`), as the other measures do (migration 0031), so that a period that cuts a
-- month reads it as it reads them. Kept by the statement triggers on the facts and the refresh point's merge
-- (sql/functions/sales.sql) through `sales_pending.returned_qty`.
-- The backfill groups only the facts with returns (set-based); the defaults serve only the ADD COLUMN: no writer
-- may leave the measure out, so they are dropped. Run `VACUUM (ANALYZE) sales_monthly, sales_sku_totals`
-- afterwards.
ALTER TABLE sales_monthly
    ADD COLUMN returned_qty bigint NOT NULL DEFAULT 0,
    ADD COLUMN returned_qty_d8 bigint NOT NULL DEFAULT 0,
    ADD COLUMN returned_qty_d16 bigint NOT NULL DEFAULT 0,
    ADD COLUMN returned_qty_d24 bigint NOT NULL DEFAULT 0;
ALTER TABLE sales_sku_totals ADD COLUMN returned_qty bigint NOT NULL DEFAULT 0;
ALTER TABLE sales_pending ADD COLUMN returned_qty bigint NOT NULL DEFAULT 0;

UPDATE sales_monthly m
   SET returned_qty = x.returned_qty, returned_qty_d8 = x.returned_qty_d8, returned_qty_d16 = x.returned_qty_d16,
       returned_qty_d24 = x.returned_qty_d24
  FROM (SELECT n.month, n.sku_id, n.channel, n.currency, sum(n.returned_qty) AS returned_qty,
               coalesce(sum(n.returned_qty) FILTER (WHERE n.d < 8), 0) AS returned_qty_d8,
               coalesce(sum(n.returned_qty) FILTER (WHERE n.d < 16), 0) AS returned_qty_d16,
               coalesce(sum(n.returned_qty) FILTER (WHERE n.d < 24), 0) AS returned_qty_d24
          FROM (SELECT date_trunc('month', f.day)::date AS month, f.day - date_trunc('month', f.day)::date AS d,
                       f.sku_id, f.channel, f.currency, f.returned_qty
                  FROM sales_facts f
                 WHERE f.returned_qty > 0) n
         GROUP BY n.month, n.sku_id, n.channel, n.currency) x
 WHERE m.month = x.month AND m.sku_id = x.sku_id AND m.channel = x.channel AND m.currency = x.currency;

UPDATE sales_sku_totals t
   SET returned_qty = x.returned_qty
  FROM (SELECT f.sku_id, f.currency, sum(f.returned_qty) AS returned_qty
          FROM sales_facts f
         WHERE f.returned_qty > 0
         GROUP BY f.sku_id, f.currency) x
 WHERE t.sku_id = x.sku_id AND t.currency = x.currency;

ALTER TABLE sales_monthly
    ALTER COLUMN returned_qty DROP DEFAULT,
    ALTER COLUMN returned_qty_d8 DROP DEFAULT,
    ALTER COLUMN returned_qty_d16 DROP DEFAULT,
    ALTER COLUMN returned_qty_d24 DROP DEFAULT;
ALTER TABLE sales_sku_totals ALTER COLUMN returned_qty DROP DEFAULT;
ALTER TABLE sales_pending ALTER COLUMN returned_qty DROP DEFAULT;
