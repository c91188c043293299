-- Reports: the scope of a report, its prices and its sales, read set-based.

-- The scope: with no filter, every product (the filtered branch is dropped when planned for NULLs).
CREATE FUNCTION merch_report_products(p_path ltree, p_role bigint, p_series bigint)
RETURNS TABLE (id bigint, code text, category_id bigint, role_id bigint, quality_tags text[])
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p.id, p.code::text, p.category_id, p.role_id, p.quality_tags
      FROM products p
     WHERE p_path IS NULL
       AND (p_role IS NULL OR p.role_id = p_role)
       AND (p_series IS NULL OR EXISTS (SELECT 1 FROM product_series ps
                                         WHERE ps.product_id = p.id AND ps.series_id = p_series))
    UNION ALL
    -- under a category: home category or a placement in another tree, read from the categories so that the
    -- planner sees a small scope for one category
    SELECT p.id, p.code::text, p.category_id, p.role_id, p.quality_tags
      FROM products p
     WHERE p_path IS NOT NULL
       AND p.id IN (SELECT h.id FROM categories c JOIN products h ON h.category_id = c.id WHERE c.path <@ p_path
                    UNION ALL
                    SELECT pp.product_id FROM categories c JOIN product_placements pp ON pp.category_id = c.id
                     WHERE c.path <@ p_path)
       AND (p_role IS NULL OR p.role_id = p_role)
       AND (p_series IS NULL OR EXISTS (SELECT 1 FROM product_series ps
                                         WHERE ps.product_id = p.id AND ps.series_id = p_series))
$$;

-- The prices in force for a report: at p_at (NULL: now, from the read model) of the products in scope (all,
-- without reading the scope, when no filter is given; a subtree's products by index from the read model).
CREATE FUNCTION merch_report_prices(p_path ltree, p_role bigint, p_series bigint, p_at timestamptz)
RETURNS TABLE (sku_id bigint, currency text, sku text, product_id bigint, category_id bigint, role_id bigint,
               sale numeric, distribution numeric, cost numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT f.*
      FROM merch_prices_in_force_now(
               CASE WHEN NOT (p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
                    THEN ARRAY(SELECT id FROM merch_report_products(p_path, p_role, p_series)) END) f
     WHERE p_at IS NULL
    UNION ALL
    SELECT f.*
      FROM merch_prices_in_force_at(p_at) f
     WHERE p_at IS NOT NULL
       AND ((p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
            OR f.product_id IN (SELECT id FROM merch_report_products(p_path, p_role, p_series)))
$$;

-- The whole months of [p_from, p_to] read from the rollup are [merch_rollup_from, merch_rollup_to); the days
-- before and after them come from the facts (with p_rollup false the range is empty: every day from the facts).
-- IMMUTABLE so that, for given dates, the planner sees the bounds as constants (and estimates the rows).
CREATE FUNCTION merch_rollup_from(p_from date, p_rollup boolean) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_rollup
                THEN coalesce((date_trunc('month', (p_from - 1)::timestamp) + interval '1 month')::date, '-infinity'::date)
                ELSE 'infinity'::date END
$$;

CREATE FUNCTION merch_rollup_to(p_from date, p_to date, p_rollup boolean) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT greatest(merch_rollup_from(p_from, p_rollup),
                    coalesce(date_trunc('month', (p_to + 1)::timestamp)::date, 'infinity'::date))
$$;

-- The part of a fact's cost (or distribution value) that stays with the units kept after returns: the fact's
-- amount is its units × the price of its day, so this is the units kept × that price, exactly.
CREATE FUNCTION merch_net(p_amount numeric, p_qty integer, p_returned integer) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_returned = 0 THEN p_amount ELSE round(p_amount * (p_qty - p_returned) / p_qty, 4) END
$$;

-- Sales of the SKUs in scope over [p_from, p_to] (all days when NULL), net of returns, as rows to be summed per SKU (or per
-- month with p_monthly): whole months from the rollup, the days of partial edge months from the facts
-- (p_rollup false: every day from the facts, to check the rollup); one channel or all. Raw sums: cost and
-- costed revenue count where costed_facts > 0, distribution value where distributed_facts > 0. product_id:
-- on every row with p_products (from the totals, which hold every SKU and currency of the rollup: a small map),
-- else only on the totals' rows.
-- With no filter the rollup and the facts are read directly (the scope not at all), and a period covering
-- more than half of the rollup's months (all channels) is read as the totals minus the months outside it
-- (negative rows);
-- with a filter they are read by SKU from the scope. Each branch is gated by a condition on the
-- parameters, which the planner drops when false or checks once.
CREATE FUNCTION merch_report_sku_sales(p_path ltree, p_role bigint, p_series bigint, p_from date, p_to date,
                                       p_rollup boolean, p_channel text DEFAULT NULL, p_monthly boolean DEFAULT false,
                                       p_products boolean DEFAULT false)
RETURNS TABLE (sku_id bigint, product_id bigint, month date, currency text, facts bigint, qty bigint,
               revenue numeric, cost numeric, costed_facts bigint, costed_revenue numeric, distribution_value numeric,
               distributed_facts bigint, unpriced_qty bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
WITH scope AS (
    SELECT s.id FROM merch_report_products(p_path, p_role, p_series) sp JOIN skus s ON s.product_id = sp.id
), gate AS (
    -- whether to read totals minus the outside months: more than half of the rollup's days are inside
    SELECT CASE WHEN p_monthly OR NOT p_rollup OR p_path IS NOT NULL OR p_role IS NOT NULL
                     OR p_series IS NOT NULL OR p_channel IS NOT NULL OR b.mn IS NULL THEN false
                ELSE 2 * greatest(least(merch_rollup_to(p_from, p_to, p_rollup), (b.mx + interval '1 month')::date)
                                  - greatest(merch_rollup_from(p_from, p_rollup), b.mn), 0)
                     > (b.mx + interval '1 month')::date - b.mn
           END AS complement
      FROM (SELECT min(m.month) AS mn, max(m.month) AS mx FROM sales_monthly m) b
), monthly AS (
    SELECT 1 AS sign, m.* FROM sales_monthly m
     WHERE p_path IS NULL AND p_role IS NULL AND p_series IS NULL AND NOT (SELECT complement FROM gate)
       AND m.month >= merch_rollup_from(p_from, p_rollup) AND m.month < merch_rollup_to(p_from, p_to, p_rollup)
    UNION ALL
    SELECT 1, m.* FROM scope sc JOIN sales_monthly m ON m.sku_id = sc.id
     WHERE NOT (p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
       AND m.month >= merch_rollup_from(p_from, p_rollup) AND m.month < merch_rollup_to(p_from, p_to, p_rollup)
    UNION ALL
    SELECT -1, m.* FROM sales_monthly m
     WHERE (SELECT complement FROM gate)
       AND (m.month < merch_rollup_from(p_from, p_rollup) OR m.month >= merch_rollup_to(p_from, p_to, p_rollup))
), facts AS (
    SELECT f.* FROM sales_facts f
     WHERE p_path IS NULL AND p_role IS NULL AND p_series IS NULL
    UNION ALL
    SELECT f.* FROM scope sc JOIN sales_facts f ON f.sku_id = sc.id
     WHERE NOT (p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
)
    SELECT m.sku_id, s.product_id, m.month, m.currency, m.sign * m.facts::bigint, m.sign * m.qty,
           m.sign * m.revenue::numeric, m.sign * m.cost::numeric, m.sign * m.costed_facts::bigint,
           m.sign * m.costed_revenue::numeric, m.sign * m.distribution_value::numeric,
           m.sign * m.distributed_facts::bigint, m.sign * (m.qty - m.distributed_qty)
      FROM monthly m
      LEFT JOIN sales_sku_totals s ON p_products AND s.sku_id = m.sku_id AND s.currency = m.currency
     WHERE p_channel IS NULL OR m.channel = p_channel
    UNION ALL
    SELECT t.sku_id, t.product_id, NULL::date, t.currency, t.facts, t.qty, t.revenue::numeric, t.cost::numeric,
           t.costed_facts, t.costed_revenue::numeric, t.distribution_value::numeric, t.distributed_facts,
           t.qty - t.distributed_qty
      FROM sales_sku_totals t
     WHERE (SELECT complement FROM gate)
    UNION ALL
    SELECT f.sku_id, s.product_id, date_trunc('month', f.day::timestamp)::date, f.currency, 1::bigint, f.qty::bigint,
           f.revenue::numeric, coalesce(f.cost, 0)::numeric, (f.cost IS NOT NULL)::integer::bigint,
           CASE WHEN f.cost IS NOT NULL THEN f.revenue ELSE 0 END::numeric,
           coalesce(f.distribution_value, 0)::numeric, (f.distribution_value IS NOT NULL)::integer::bigint,
           (CASE WHEN f.distribution_value IS NULL THEN f.qty ELSE 0 END)::bigint
      -- net of returns, as the rollup holds them
      FROM (SELECT f.day, f.sku_id, f.channel, f.currency, f.qty - f.returned_qty AS qty, f.revenue - f.refunded AS revenue,
                   merch_net(f.cost, f.qty, f.returned_qty) AS cost,
                   merch_net(f.distribution_value, f.qty, f.returned_qty) AS distribution_value
              FROM facts f) f
      LEFT JOIN sales_sku_totals s ON p_products AND s.sku_id = f.sku_id AND s.currency = f.currency
      -- a gate: no facts are read for a period of whole months
     WHERE (merch_rollup_from(p_from, p_rollup) > coalesce(p_from, '-infinity'::date)
            OR (p_to IS NOT NULL AND merch_rollup_to(p_from, p_to, p_rollup) <= p_to))
       AND f.day >= coalesce(p_from, '-infinity'::date) AND f.day <= coalesce(p_to, 'infinity'::date)
       AND (f.day < merch_rollup_from(p_from, p_rollup) OR f.day >= merch_rollup_to(p_from, p_to, p_rollup))
       AND (p_channel IS NULL OR f.channel = p_channel)
$$;

-- The appeal of a product in the purchasing scorecard: the share of listing information present (0 for a
-- product whose completeness was never computed, 1 when nothing is required) plus a quarter per quality tag
-- (名特优新), at most 1.
CREATE FUNCTION merch_appeal(p_computed boolean, p_present integer, p_required integer, p_tags integer)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(1, CASE WHEN NOT p_computed THEN 0 ELSE coalesce(p_present::numeric / nullif(p_required, 0), 1) END
                    + 0.25 * p_tags)
$$;

-- A number rounded half up (away from zero) to some places, as Python's Decimal.quantize(ROUND_HALF_UP) writes
-- it (format "f"): a negative number that rounds to zero keeps its sign ("-0.00"). Null for none.
CREATE FUNCTION merch_decimal_text(p_value numeric, p_places integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_value < 0 AND round(p_value, p_places) = 0 THEN '-' ELSE '' END || round(p_value, p_places)::text
$$;

-- The promotions a promotion report covers: one (p_code), or those whose days meet p_since..p_until and that
-- list a product in the scope (merch_report_products of p_path, p_role, p_series) — and, with p_product, list
-- that product — with their kept outcome's days, baseline window and currency, and whether they are being
-- recomputed: marked, or between the two steps of their recompute (sql/functions/promotions.sql). Inlined into
-- its callers (sql/queries/reports.sql), which order and limit (and so is the marks' test: a function holding
-- it would be called once a promotion, never inlined).
CREATE FUNCTION merch_report_promotions(p_path ltree, p_role bigint, p_series bigint, p_code text, p_since date,
                                        p_until date, p_product bigint)
RETURNS TABLE (id bigint, code text, spend_amount numeric, spend_channel text, currency text, first_day date,
               last_day date, baseline_days integer, baseline_from date, recomputing boolean)
LANGUAGE sql STABLE AS $$
    SELECT pr.id, pr.code::text, pr.spend_amount, pr.spend_channel::text, coalesce(o.currency, pr.spend_currency)::text,
           o.first_day, o.last_day, o.baseline_days, o.baseline_from,
           NOT o.computed OR EXISTS (SELECT 1 FROM promotion_outcome_stale s WHERE s.promotion_id = o.promotion_id)
      FROM promotions pr
      JOIN promotion_outcomes o ON o.promotion_id = pr.id
     WHERE (p_code IS NULL OR pr.code = p_code)
       AND (p_since IS NULL OR o.last_day >= p_since)
       AND (p_until IS NULL OR o.first_day <= p_until)
       AND ((p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
            OR EXISTS (SELECT 1 FROM promotion_items pi JOIN skus s ON s.id = pi.sku_id
                        WHERE pi.promotion_id = pr.id
                          AND s.product_id IN (SELECT x.id FROM merch_report_products(p_path, p_role, p_series) x)))
       AND (p_product IS NULL
            OR pr.id IN (SELECT pi.promotion_id FROM promotion_items pi JOIN skus s ON s.id = pi.sku_id
                          WHERE s.product_id = p_product))
$$;
