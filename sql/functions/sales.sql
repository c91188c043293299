-- Sales: the monthly rollup's rebuild, and the per-SKU totals kept from the rollup.

-- Re-cost the facts of months from_month..to_month (first days) at the prices in force on their days and
-- recompute their rollup rows from them: after a retroactive price change, and to check the rollup.
CREATE FUNCTION merch_rebuild_sales_monthly(from_month date, to_month date) RETURNS void
    LANGUAGE sql VOLATILE AS $$
    UPDATE sales_facts f
       SET cost = f.qty * merch_price_on_day(f.sku_id, 'cost', f.currency, f.day),
           distribution_value = f.qty * merch_price_on_day(f.sku_id, 'distribution', f.currency, f.day)
     WHERE f.day >= from_month AND f.day < to_month + interval '1 month';
    DELETE FROM sales_monthly m WHERE m.month >= from_month AND m.month <= to_month;
    INSERT INTO sales_monthly (month, sku_id, channel, currency, facts, qty, revenue, cost, costed_qty, costed_facts,
                               costed_revenue, distribution_value, distributed_qty, distributed_facts)
    SELECT date_trunc('month', f.day)::date, f.sku_id, f.channel, f.currency, count(*), sum(f.qty), sum(f.revenue),
           coalesce(sum(f.cost), 0), coalesce(sum(f.qty) FILTER (WHERE f.cost IS NOT NULL), 0),
           count(f.cost), coalesce(sum(f.revenue) FILTER (WHERE f.cost IS NOT NULL), 0),
           coalesce(sum(f.distribution_value), 0),
           coalesce(sum(f.qty) FILTER (WHERE f.distribution_value IS NOT NULL), 0), count(f.distribution_value)
      FROM sales_facts f
     WHERE f.day >= from_month AND f.day < to_month + interval '1 month'
     GROUP BY 1, f.sku_id, f.channel, f.currency;
$$;

-- The rollup rows a statement inserted (+), deleted (−) or updated (new − old) move the totals, set-based.
-- Writers of the totals take turns until they commit (a self-conflicting table lock): an upsert of the rollup
-- fires its INSERT and its UPDATE trigger one after the other, so two uploads would otherwise lock totals
-- rows in crossing orders and deadlock. Readers are not held (they take no conflicting lock).
CREATE FUNCTION merch_sales_totals_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_rows text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows o'
        ELSE 'SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o' END;
BEGIN
    LOCK TABLE sales_sku_totals IN SHARE ROW EXCLUSIVE MODE;
    EXECUTE format($sql$
        INSERT INTO sales_sku_totals AS t (sku_id, currency, product_id, facts, qty, revenue, cost, costed_qty,
                                           costed_facts, costed_revenue, distribution_value, distributed_qty,
                                           distributed_facts)
        SELECT d.sku_id, d.currency, s.product_id, d.facts, d.qty, d.revenue, d.cost, d.costed_qty, d.costed_facts,
               d.costed_revenue, d.distribution_value, d.distributed_qty, d.distributed_facts
          FROM (SELECT r.sku_id, r.currency, sum(r.sign * r.facts) AS facts, sum(r.sign * r.qty) AS qty,
                       sum(r.sign * r.revenue) AS revenue, sum(r.sign * r.cost) AS cost,
                       sum(r.sign * r.costed_qty) AS costed_qty, sum(r.sign * r.costed_facts) AS costed_facts,
                       sum(r.sign * r.costed_revenue) AS costed_revenue,
                       sum(r.sign * r.distribution_value) AS distribution_value,
                       sum(r.sign * r.distributed_qty) AS distributed_qty,
                       sum(r.sign * r.distributed_facts) AS distributed_facts
                  FROM (%s) r
                 GROUP BY r.sku_id, r.currency) d
          JOIN skus s ON s.id = d.sku_id
         ORDER BY d.sku_id, d.currency
        ON CONFLICT (sku_id, currency) DO UPDATE
           SET facts = t.facts + EXCLUDED.facts, qty = t.qty + EXCLUDED.qty, revenue = t.revenue + EXCLUDED.revenue,
               cost = t.cost + EXCLUDED.cost, costed_qty = t.costed_qty + EXCLUDED.costed_qty,
               costed_facts = t.costed_facts + EXCLUDED.costed_facts,
               costed_revenue = t.costed_revenue + EXCLUDED.costed_revenue,
               distribution_value = t.distribution_value + EXCLUDED.distribution_value,
               distributed_qty = t.distributed_qty + EXCLUDED.distributed_qty,
               distributed_facts = t.distributed_facts + EXCLUDED.distributed_facts
    $sql$, v_rows);
    DELETE FROM sales_sku_totals WHERE facts = 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER sales_sku_totals_insert AFTER INSERT ON sales_monthly
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_sales_totals_moved();

CREATE TRIGGER sales_sku_totals_update AFTER UPDATE ON sales_monthly
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_sales_totals_moved();

CREATE TRIGGER sales_sku_totals_delete AFTER DELETE ON sales_monthly
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_sales_totals_moved();
