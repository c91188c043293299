-- Sales: the monthly rollup `sales_monthly` (per month, SKU, channel and currency) and the per-SKU totals
-- `sales_sku_totals` (per SKU and currency, all months), both sums of the daily facts; a rollup row also holds
-- its month's checkpoints (<measure>_d8, _d16, _d24: the sums of days 1..8, 1..16, 1..24, which reports over a
-- period that cuts the month read: sql/functions/reports.sql, migration 0031); returned_qty: the units of the
-- facts' sales that came back (migration 0032), beside the net qty. Every statement that
-- writes facts records its deltas (+ new values, − old values) in `sales_pending`; the refresh point
-- (sql/functions/refresh.sql) merges them into both in key order before the transaction commits, so that
-- any writer of facts keeps them exact and concurrent writers never lock their rows in crossing orders.

-- Re-cost the facts of months from_month..to_month (first days) at the prices in force on their days (after a
-- retroactive price change): their deltas move the rollup and the totals like any write of facts.
CREATE FUNCTION merch_recost_sales(from_month date, to_month date) RETURNS void
    LANGUAGE sql VOLATILE AS $$
    UPDATE sales_facts f
       SET cost = f.qty * merch_price_on_day(f.sku_id, 'cost', f.currency, f.day),
           distribution_value = f.qty * merch_price_on_day(f.sku_id, 'distribution', f.currency, f.day)
     WHERE f.day >= from_month AND f.day < to_month + interval '1 month';
$$;

-- The facts a statement wrote, as deltas of the rollup rows they fall in: + the new values, − the old ones,
-- summed per key within the statement. Facts count net of their returns (units kept, revenue less refunds,
-- the cost and distribution value of the units kept).
CREATE FUNCTION merch_record_sales_delta() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_net text := 'day, day - date_trunc(''month'', day)::date AS d, sku_id, channel, currency, '
                  'qty - returned_qty AS qty, revenue - refunded AS revenue, '
                  'merch_net(cost, qty, returned_qty) AS cost, '
                  'merch_net(distribution_value, qty, returned_qty) AS distribution_value, returned_qty';
    v_rows text := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT 1 AS sign, %s FROM new_rows', v_net)
        WHEN 'DELETE' THEN format('SELECT -1 AS sign, %s FROM old_rows', v_net)
        ELSE format('SELECT 1 AS sign, %1$s FROM new_rows UNION ALL SELECT -1, %1$s FROM old_rows', v_net) END;
BEGIN
    EXECUTE format($sql$
        INSERT INTO sales_pending (txid, month, sku_id, channel, currency, segment, facts, qty, revenue, cost,
                                   costed_qty, costed_facts, costed_revenue, distribution_value, distributed_qty,
                                   distributed_facts, returned_qty)
        SELECT pg_current_xact_id(), date_trunc('month', r.day)::date, r.sku_id, r.channel, r.currency,
               -- the part of the month: 0 for days 1..8, 1 for 9..16, 2 for 17..24, 3 after (the checkpoints')
               least(r.d / 8, 3),
               sum(r.sign), sum(r.sign * r.qty), sum(r.sign * r.revenue), coalesce(sum(r.sign * r.cost), 0),
               coalesce(sum(r.sign * r.qty) FILTER (WHERE r.cost IS NOT NULL), 0),
               coalesce(sum(r.sign) FILTER (WHERE r.cost IS NOT NULL), 0),
               coalesce(sum(r.sign * r.revenue) FILTER (WHERE r.cost IS NOT NULL), 0),
               coalesce(sum(r.sign * r.distribution_value), 0),
               coalesce(sum(r.sign * r.qty) FILTER (WHERE r.distribution_value IS NOT NULL), 0),
               coalesce(sum(r.sign) FILTER (WHERE r.distribution_value IS NOT NULL), 0),
               sum(r.sign * r.returned_qty)
          FROM (%s) r
         GROUP BY 2, r.sku_id, r.channel, r.currency, 6
    $sql$, v_rows);
    PERFORM merch_queue_refresh();
    RETURN NULL;
END
$$;

CREATE TRIGGER sales_facts_inserted_delta AFTER INSERT ON sales_facts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_record_sales_delta();
CREATE TRIGGER sales_facts_updated_delta AFTER UPDATE ON sales_facts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_record_sales_delta();
CREATE TRIGGER sales_facts_deleted_delta AFTER DELETE ON sales_facts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_record_sales_delta();

-- Merge a transaction's pending deltas into the rollup and then the totals, each in key order (the order
-- every writer takes their rows in), and drop the rows no fact feeds any more (a currency replaced).
-- Answers the products whose units sold (net of returns, every currency) changed, in id order, else null.
CREATE FUNCTION merch_merge_sales_pending(p_tx xid8) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    v_sold bigint[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sales_pending WHERE txid = p_tx) THEN
        RETURN NULL;
    END IF;
    INSERT INTO sales_monthly AS m (month, sku_id, channel, currency, facts, qty, revenue, cost, costed_qty,
                                    costed_facts, costed_revenue, distribution_value, distributed_qty,
                                    distributed_facts,
                                    facts_d8, qty_d8, revenue_d8, cost_d8, costed_facts_d8, costed_revenue_d8,
                                    distribution_value_d8, distributed_qty_d8, distributed_facts_d8, facts_d16,
                                    qty_d16, revenue_d16, cost_d16, costed_facts_d16, costed_revenue_d16,
                                    distribution_value_d16, distributed_qty_d16, distributed_facts_d16, facts_d24,
                                    qty_d24, revenue_d24, cost_d24, costed_facts_d24, costed_revenue_d24,
                                    distribution_value_d24, distributed_qty_d24, distributed_facts_d24, returned_qty,
                                    returned_qty_d8, returned_qty_d16, returned_qty_d24)
    SELECT d.month, d.sku_id, d.channel, d.currency, sum(d.facts), sum(d.qty), sum(d.revenue), sum(d.cost),
           sum(d.costed_qty), sum(d.costed_facts), sum(d.costed_revenue), sum(d.distribution_value),
           sum(d.distributed_qty), sum(d.distributed_facts),
           -- the checkpoints' deltas: those of the days up to day 8, 16, 24
           coalesce(sum(d.facts) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.qty) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.revenue) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.cost) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.costed_facts) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.costed_revenue) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.distribution_value) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.distributed_qty) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.distributed_facts) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.facts) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.qty) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.revenue) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.cost) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.costed_facts) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.costed_revenue) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.distribution_value) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.distributed_qty) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.distributed_facts) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.facts) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.qty) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.revenue) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.cost) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.costed_facts) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.costed_revenue) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.distribution_value) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.distributed_qty) FILTER (WHERE d.segment < 3), 0),
           coalesce(sum(d.distributed_facts) FILTER (WHERE d.segment < 3), 0),
           sum(d.returned_qty),
           coalesce(sum(d.returned_qty) FILTER (WHERE d.segment < 1), 0),
           coalesce(sum(d.returned_qty) FILTER (WHERE d.segment < 2), 0),
           coalesce(sum(d.returned_qty) FILTER (WHERE d.segment < 3), 0)
      FROM sales_pending d
     WHERE d.txid = p_tx
     GROUP BY d.month, d.sku_id, d.channel, d.currency
     ORDER BY d.month, d.sku_id, d.channel, d.currency
    ON CONFLICT ON CONSTRAINT sales_monthly_pkey DO UPDATE
       SET facts = m.facts + EXCLUDED.facts, qty = m.qty + EXCLUDED.qty, revenue = m.revenue + EXCLUDED.revenue,
           cost = m.cost + EXCLUDED.cost, costed_qty = m.costed_qty + EXCLUDED.costed_qty,
           costed_facts = m.costed_facts + EXCLUDED.costed_facts,
           costed_revenue = m.costed_revenue + EXCLUDED.costed_revenue,
           distribution_value = m.distribution_value + EXCLUDED.distribution_value,
           distributed_qty = m.distributed_qty + EXCLUDED.distributed_qty,
           distributed_facts = m.distributed_facts + EXCLUDED.distributed_facts,
           facts_d8 = m.facts_d8 + EXCLUDED.facts_d8,
           qty_d8 = m.qty_d8 + EXCLUDED.qty_d8,
           revenue_d8 = m.revenue_d8 + EXCLUDED.revenue_d8,
           cost_d8 = m.cost_d8 + EXCLUDED.cost_d8,
           costed_facts_d8 = m.costed_facts_d8 + EXCLUDED.costed_facts_d8,
           costed_revenue_d8 = m.costed_revenue_d8 + EXCLUDED.costed_revenue_d8,
           distribution_value_d8 = m.distribution_value_d8 + EXCLUDED.distribution_value_d8,
           distributed_qty_d8 = m.distributed_qty_d8 + EXCLUDED.distributed_qty_d8,
           distributed_facts_d8 = m.distributed_facts_d8 + EXCLUDED.distributed_facts_d8,
           facts_d16 = m.facts_d16 + EXCLUDED.facts_d16,
           qty_d16 = m.qty_d16 + EXCLUDED.qty_d16,
           revenue_d16 = m.revenue_d16 + EXCLUDED.revenue_d16,
           cost_d16 = m.cost_d16 + EXCLUDED.cost_d16,
           costed_facts_d16 = m.costed_facts_d16 + EXCLUDED.costed_facts_d16,
           costed_revenue_d16 = m.costed_revenue_d16 + EXCLUDED.costed_revenue_d16,
           distribution_value_d16 = m.distribution_value_d16 + EXCLUDED.distribution_value_d16,
           distributed_qty_d16 = m.distributed_qty_d16 + EXCLUDED.distributed_qty_d16,
           distributed_facts_d16 = m.distributed_facts_d16 + EXCLUDED.distributed_facts_d16,
           facts_d24 = m.facts_d24 + EXCLUDED.facts_d24,
           qty_d24 = m.qty_d24 + EXCLUDED.qty_d24,
           revenue_d24 = m.revenue_d24 + EXCLUDED.revenue_d24,
           cost_d24 = m.cost_d24 + EXCLUDED.cost_d24,
           costed_facts_d24 = m.costed_facts_d24 + EXCLUDED.costed_facts_d24,
           costed_revenue_d24 = m.costed_revenue_d24 + EXCLUDED.costed_revenue_d24,
           distribution_value_d24 = m.distribution_value_d24 + EXCLUDED.distribution_value_d24,
           distributed_qty_d24 = m.distributed_qty_d24 + EXCLUDED.distributed_qty_d24,
           distributed_facts_d24 = m.distributed_facts_d24 + EXCLUDED.distributed_facts_d24,
           returned_qty = m.returned_qty + EXCLUDED.returned_qty,
           returned_qty_d8 = m.returned_qty_d8 + EXCLUDED.returned_qty_d8,
           returned_qty_d16 = m.returned_qty_d16 + EXCLUDED.returned_qty_d16,
           returned_qty_d24 = m.returned_qty_d24 + EXCLUDED.returned_qty_d24;
    INSERT INTO sales_sku_totals AS t (sku_id, currency, product_id, facts, qty, revenue, cost, costed_qty,
                                       costed_facts, costed_revenue, distribution_value, distributed_qty,
                                       distributed_facts, returned_qty)
    SELECT d.sku_id, d.currency, s.product_id, d.facts, d.qty, d.revenue, d.cost, d.costed_qty, d.costed_facts,
           d.costed_revenue, d.distribution_value, d.distributed_qty, d.distributed_facts, d.returned_qty
      FROM (SELECT p.sku_id, p.currency, sum(p.facts) AS facts, sum(p.qty) AS qty, sum(p.revenue) AS revenue,
                   sum(p.cost) AS cost, sum(p.costed_qty) AS costed_qty, sum(p.costed_facts) AS costed_facts,
                   sum(p.costed_revenue) AS costed_revenue, sum(p.distribution_value) AS distribution_value,
                   sum(p.distributed_qty) AS distributed_qty, sum(p.distributed_facts) AS distributed_facts,
                   sum(p.returned_qty) AS returned_qty
              FROM sales_pending p
             WHERE p.txid = p_tx
             GROUP BY p.sku_id, p.currency) d
      JOIN skus s ON s.id = d.sku_id
     ORDER BY d.sku_id, d.currency
    ON CONFLICT (sku_id, currency) DO UPDATE
       SET facts = t.facts + EXCLUDED.facts, qty = t.qty + EXCLUDED.qty, revenue = t.revenue + EXCLUDED.revenue,
           cost = t.cost + EXCLUDED.cost, costed_qty = t.costed_qty + EXCLUDED.costed_qty,
           costed_facts = t.costed_facts + EXCLUDED.costed_facts,
           costed_revenue = t.costed_revenue + EXCLUDED.costed_revenue,
           distribution_value = t.distribution_value + EXCLUDED.distribution_value,
           distributed_qty = t.distributed_qty + EXCLUDED.distributed_qty,
           distributed_facts = t.distributed_facts + EXCLUDED.distributed_facts,
           returned_qty = t.returned_qty + EXCLUDED.returned_qty;
    DELETE FROM sales_monthly m
     USING (SELECT DISTINCT month, sku_id, channel, currency FROM sales_pending WHERE txid = p_tx) k
     WHERE m.month = k.month AND m.sku_id = k.sku_id AND m.channel = k.channel AND m.currency = k.currency
       AND m.facts = 0;
    DELETE FROM sales_sku_totals t
     USING (SELECT DISTINCT sku_id, currency FROM sales_pending WHERE txid = p_tx) k
     WHERE t.sku_id = k.sku_id AND t.currency = k.currency AND t.facts = 0;
    -- (a re-costing moves no unit; units moved between two SKUs of one product leave it as it was)
    SELECT array_agg(x.product_id ORDER BY x.product_id) INTO v_sold
      FROM (SELECT s.product_id FROM sales_pending d JOIN skus s ON s.id = d.sku_id
             WHERE d.txid = p_tx GROUP BY s.product_id HAVING sum(d.qty) <> 0) x;
    DELETE FROM sales_pending WHERE txid = p_tx;
    RETURN v_sold;
END
$$;
