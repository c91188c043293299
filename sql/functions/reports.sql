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

-- The first day of a day's month. IMMUTABLE (and so are the three below) so that, for given dates, the planner
-- sees the bounds as constants (and estimates the rows).
CREATE FUNCTION merch_month(p_day date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_trunc('month', p_day::timestamp)::date
$$;

-- A cut of a month by a period, as the boundary between days (for the period's start: its first day; for its
-- end: the day after its last): the boundary when it falls inside a month, NULL when it falls before a month's
-- first day (whole months) or with p_rollup false (every day from the facts).
CREATE FUNCTION merch_cut(p_boundary date, p_rollup boolean) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_rollup AND p_boundary <> merch_month(p_boundary) THEN p_boundary END
$$;

-- The checkpoint of the rollup nearest a boundary: the boundary, in its month, before day 1, 9, 17 or 25 or after
-- the month's last day (offsets 0, 8, 16, 24 and the month's length: sales_monthly's <measure>_d8, _d16, _d24
-- and its whole-month sums); at most 4 days from the boundary.
CREATE FUNCTION merch_checkpoint(p_boundary date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT merch_month(p_boundary)
           + CASE WHEN p_boundary - merch_month(p_boundary) <= 4 THEN 0
                  WHEN p_boundary - merch_month(p_boundary) <= 12 THEN 8
                  WHEN p_boundary - merch_month(p_boundary) <= 20 THEN 16
                  WHEN 2 * (p_boundary - merch_month(p_boundary)) - 24
                       <= (merch_month(p_boundary) + interval '1 month')::date - merch_month(p_boundary) THEN 24
                  ELSE (merch_month(p_boundary) + interval '1 month')::date - merch_month(p_boundary) END
$$;

-- A rollup row's sums between two checkpoint offsets (0: none, 8, 16, 24; any other: the whole month), the
-- later less the earlier, less p_less times the whole month, from a measure's checkpoint columns and its month's
-- sum (sales_monthly <measure>_d8, _d16, _d24, <measure>). Inlined.
CREATE FUNCTION merch_between(p_lo integer, p_hi integer, p_less integer, p_d8 anycompatible, p_d16 anycompatible,
                              p_d24 anycompatible, p_month anycompatible) RETURNS anycompatible
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_hi WHEN 0 THEN 0 WHEN 8 THEN p_d8 WHEN 16 THEN p_d16 WHEN 24 THEN p_d24 ELSE p_month END
           - CASE p_lo WHEN 0 THEN 0 WHEN 8 THEN p_d8 WHEN 16 THEN p_d16 WHEN 24 THEN p_d24 ELSE p_month END
           - p_less * p_month
$$;

-- The whole months of [p_from, p_to] read from the rollup are [merch_rollup_from, merch_rollup_to); the months
-- cut before and after them are read from their checkpoints (merch_cut) (with p_rollup false the range is
-- empty: every day from the facts).
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

-- Whether a sales read may take the totals less the months outside the period (negative rows) rather than the
-- months inside it (p_may: no filter, all channels, by SKU): when more than half of the rollup's months lie
-- inside the period's whole months (never with an empty rollup: its bounds would be infinite). Not inlined (it
-- reads the rollup's bounds): a gate checked once a branch and process — parallel workers check it too, where a
-- CTE or a sub-select would keep them from the read.
CREATE FUNCTION merch_sales_complement(p_from date, p_to date, p_may boolean) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_may AND b.mn IS NOT NULL
                THEN 2 * greatest(least(merch_rollup_to(p_from, p_to, true), (b.mx + interval '1 month')::date)
                                  - greatest(merch_rollup_from(p_from, true), b.mn), 0)
                     > (b.mx + interval '1 month')::date - b.mn
                ELSE false END
      FROM (SELECT min(m.month) AS mn, max(m.month) AS mx FROM sales_monthly m) b
$$;

-- A row of sales to be summed (merch_cut_month_sales, merch_month_sales, merch_day_sales: the parts of a period),
-- by SKU, channel, month and currency; signed. Raw sums as merch_report_sku_sales says.
CREATE TYPE merch_sales_row AS (
    sku_id bigint, channel text, month date, currency text, facts bigint, qty bigint, revenue numeric, cost numeric,
    costed_facts bigint, costed_revenue numeric, distribution_value numeric, distributed_facts bigint,
    unpriced_qty bigint, returned_qty bigint
);

-- A month the period [p_from, p_to] cuts, by SKU, channel and currency: its sums up to the end's checkpoint (the
-- whole month's when the period goes on) less those up to the start's (none when the period began before the
-- month), less p_less times the whole month; checkpoint offsets 0, 8, 16, 24 or the month's length (ELSE: the
-- whole month). Inlined (merch_sales_rows).
CREATE FUNCTION merch_cut_month_sales(p_from date, p_to date, p_rollup boolean, p_less integer)
RETURNS SETOF merch_sales_row
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT e.sku_id, e.channel::text, e.month, e.currency::text,
           merch_between(e.lo, e.hi, p_less, e.facts_d8, e.facts_d16, e.facts_d24, e.facts)::bigint,
           merch_between(e.lo, e.hi, p_less, e.qty_d8, e.qty_d16, e.qty_d24, e.qty)::bigint,
           merch_between(e.lo, e.hi, p_less, e.revenue_d8, e.revenue_d16, e.revenue_d24, e.revenue)::numeric,
           merch_between(e.lo, e.hi, p_less, e.cost_d8, e.cost_d16, e.cost_d24, e.cost)::numeric,
           merch_between(e.lo, e.hi, p_less, e.costed_facts_d8, e.costed_facts_d16, e.costed_facts_d24,
                         e.costed_facts)::bigint,
           merch_between(e.lo, e.hi, p_less, e.costed_revenue_d8, e.costed_revenue_d16, e.costed_revenue_d24,
                         e.costed_revenue)::numeric,
           merch_between(e.lo, e.hi, p_less, e.distribution_value_d8, e.distribution_value_d16,
                         e.distribution_value_d24, e.distribution_value)::numeric,
           merch_between(e.lo, e.hi, p_less, e.distributed_facts_d8, e.distributed_facts_d16,
                         e.distributed_facts_d24, e.distributed_facts)::bigint,
           (merch_between(e.lo, e.hi, p_less, e.qty_d8, e.qty_d16, e.qty_d24, e.qty)
            - merch_between(e.lo, e.hi, p_less, e.distributed_qty_d8, e.distributed_qty_d16, e.distributed_qty_d24,
                            e.distributed_qty))::bigint,
           merch_between(e.lo, e.hi, p_less, e.returned_qty_d8, e.returned_qty_d16, e.returned_qty_d24, e.returned_qty)::bigint
      FROM (SELECT x.*,
                   CASE WHEN x.month = merch_month(merch_cut(p_to + 1, p_rollup))
                        THEN merch_checkpoint(merch_cut(p_to + 1, p_rollup)) - merch_month(merch_cut(p_to + 1, p_rollup))
                        ELSE 32 END AS hi,
                   CASE WHEN x.month = merch_month(merch_cut(p_from, p_rollup))
                        THEN merch_checkpoint(merch_cut(p_from, p_rollup)) - merch_month(merch_cut(p_from, p_rollup))
                        ELSE 0 END AS lo
              FROM sales_monthly x
             WHERE (merch_cut(p_from, p_rollup) IS NOT NULL OR merch_cut(p_to + 1, p_rollup) IS NOT NULL)
               AND x.month IN (merch_month(merch_cut(p_from, p_rollup)), merch_month(merch_cut(p_to + 1, p_rollup)))) e
$$;

-- Whole months of the rollup, by SKU, channel and currency, signed: with p_outside false the whole months of
-- [p_from, p_to]; with p_outside true (the complement, to be added to the totals) every month outside the period
-- but those it cuts, negative. Inlined. (The columns named: whole months never deform the checkpoints, stored after
-- them.)
CREATE FUNCTION merch_month_sales(p_from date, p_to date, p_rollup boolean, p_outside boolean)
RETURNS SETOF merch_sales_row
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT m.sku_id, m.channel::text, m.month, m.currency::text, m.sign * m.facts::bigint, m.sign * m.qty::bigint,
           m.sign * m.revenue::numeric, m.sign * m.cost::numeric, m.sign * m.costed_facts::bigint,
           m.sign * m.costed_revenue::numeric, m.sign * m.distribution_value::numeric,
           m.sign * m.distributed_facts::bigint, m.sign * (m.qty - m.distributed_qty)::bigint,
           m.sign * m.returned_qty::bigint
      FROM (SELECT CASE WHEN p_outside THEN -1 ELSE 1 END AS sign, m.month, m.sku_id, m.channel, m.currency, m.facts,
                   m.qty, m.revenue, m.cost, m.costed_facts, m.costed_revenue, m.distribution_value,
                   m.distributed_facts, m.distributed_qty, m.returned_qty
              FROM sales_monthly m
             WHERE CASE WHEN p_outside
                        THEN m.month < coalesce(merch_month(merch_cut(p_from, p_rollup)),
                                                merch_rollup_from(p_from, p_rollup))
                             OR m.month >= coalesce((merch_month(merch_cut(p_to + 1, p_rollup)) + interval '1 month')::date,
                                                    merch_rollup_to(p_from, p_to, p_rollup))
                        ELSE m.month >= merch_rollup_from(p_from, p_rollup)
                             AND m.month < merch_rollup_to(p_from, p_to, p_rollup) END) m
$$;

-- Facts of [p_from, p_to], net of returns as the rollup holds them, by SKU, channel, month and currency, with the
-- sign they count with: p_part 0, with p_rollup false, every day of the period; p_part 1 and 2 the days between
-- the period's start (1) or end (2) and the nearest checkpoint — a cut's month sums through the day before it as
-- the checkpoint's sums plus the days from the checkpoint to the cut, or minus those from the cut to the
-- checkpoint; the period's start subtracts that, its end adds it. Inlined (p_part a constant: one range).
CREATE FUNCTION merch_day_sales(p_from date, p_to date, p_rollup boolean, p_part integer)
RETURNS SETOF merch_sales_row
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT f.sku_id, f.channel::text, date_trunc('month', f.day::timestamp)::date, f.currency::text, f.sign::bigint,
           f.sign * f.qty::bigint, f.sign * f.revenue::numeric, f.sign * coalesce(f.cost, 0)::numeric,
           f.sign * (f.cost IS NOT NULL)::integer::bigint,
           f.sign * CASE WHEN f.cost IS NOT NULL THEN f.revenue ELSE 0 END::numeric,
           f.sign * coalesce(f.distribution_value, 0)::numeric,
           f.sign * (f.distribution_value IS NOT NULL)::integer::bigint,
           f.sign * (CASE WHEN f.distribution_value IS NULL THEN f.qty ELSE 0 END)::bigint,
           f.sign * f.returned_qty::bigint
      FROM (SELECT CASE p_part
                        WHEN 0 THEN 1
                        WHEN 1 THEN CASE WHEN merch_cut(p_from, p_rollup) < merch_checkpoint(merch_cut(p_from, p_rollup)) THEN 1 ELSE -1 END
                        ELSE CASE WHEN merch_cut(p_to + 1, p_rollup) > merch_checkpoint(merch_cut(p_to + 1, p_rollup)) THEN 1 ELSE -1 END
                   END AS sign,
                   f.day, f.sku_id, f.channel, f.currency, f.qty - f.returned_qty AS qty, f.returned_qty,
                   f.revenue - f.refunded AS revenue, merch_net(f.cost, f.qty, f.returned_qty) AS cost,
                   merch_net(f.distribution_value, f.qty, f.returned_qty) AS distribution_value
              FROM sales_facts f
             WHERE CASE p_part
                        WHEN 0 THEN NOT p_rollup AND f.day >= coalesce(p_from, '-infinity'::date)
                                    AND f.day <= coalesce(p_to, 'infinity'::date)
                        WHEN 1 THEN f.day >= least(merch_cut(p_from, p_rollup), merch_checkpoint(merch_cut(p_from, p_rollup)))
                                    AND f.day < greatest(merch_cut(p_from, p_rollup), merch_checkpoint(merch_cut(p_from, p_rollup)))
                        ELSE f.day >= least(merch_cut(p_to + 1, p_rollup), merch_checkpoint(merch_cut(p_to + 1, p_rollup)))
                             AND f.day < greatest(merch_cut(p_to + 1, p_rollup), merch_checkpoint(merch_cut(p_to + 1, p_rollup)))
                   END) f
$$;

-- Sales of the SKUs in scope over [p_from, p_to] (all days when NULL), net of returns, as rows to be summed per SKU (or per
-- month with p_monthly): whole months from the rollup; a month the period cuts from its rollup rows'
-- checkpoints (the month's sums through day 8, 16 and 24, and the whole month's) and the days between each cut
-- and its nearest checkpoint from the facts, at most 4 a cut (merch_cut, merch_checkpoint); with p_rollup false
-- every day from the facts, to check the rollup. One channel or all. returned_qty: the units of those sales
-- that came back (qty is net of them). Raw sums: cost and costed revenue count
-- where costed_facts > 0, distribution value where distributed_facts > 0; rows may sum to nothing (no fact: a
-- caller keeps a SKU, month or product only where its facts sum above 0). product_id: on every row with
-- p_products (from the totals, which hold every SKU and currency of the rollup: a small map; with a filter from
-- the scope), else only on the totals' rows.
-- With no filter the rollup and the facts are read directly (the scope not at all), and a period whose whole
-- months cover more than half of the rollup's months (all channels, by SKU: merch_sales_complement) is read as
-- the totals less the months outside it (a month it cuts less its part outside); with a filter they are read
-- by SKU from the scope (computed once, joined to each kind of row). Each branch is gated by a condition on
-- the parameters, which the planner drops when false or checks once (the complement's two ways are gated
-- apart: a function's value in a select list would be computed for every row).
-- No WITH at the top and no sub-select with no filter: its branches are one flat UNION ALL that the planner
-- pulls up into the caller, so that the caller's sums per SKU or product run in parallel workers (partial
-- aggregates) over every branch rather than in one process after them.
CREATE FUNCTION merch_report_sku_sales(p_path ltree, p_role bigint, p_series bigint, p_from date, p_to date,
                                       p_rollup boolean, p_channel text DEFAULT NULL, p_monthly boolean DEFAULT false,
                                       p_products boolean DEFAULT false)
RETURNS TABLE (sku_id bigint, product_id bigint, month date, currency text, facts bigint, qty bigint,
               revenue numeric, cost numeric, costed_facts bigint, costed_revenue numeric, distribution_value numeric,
               distributed_facts bigint, unpriced_qty bigint, returned_qty bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT x.sku_id, s.product_id, x.month, x.currency, x.facts, x.qty, x.revenue, x.cost, x.costed_facts,
           x.costed_revenue, x.distribution_value, x.distributed_facts, x.unpriced_qty, x.returned_qty
      FROM (SELECT * FROM merch_month_sales(p_from, p_to, p_rollup, false)
             WHERE NOT merch_sales_complement(p_from, p_to, p_rollup AND NOT p_monthly AND p_channel IS NULL)
            UNION ALL
            SELECT * FROM merch_month_sales(p_from, p_to, p_rollup, true)
             WHERE merch_sales_complement(p_from, p_to, p_rollup AND NOT p_monthly AND p_channel IS NULL)
            UNION ALL
            SELECT * FROM merch_cut_month_sales(p_from, p_to, p_rollup, 0)
             WHERE NOT merch_sales_complement(p_from, p_to, p_rollup AND NOT p_monthly AND p_channel IS NULL)
            UNION ALL
            SELECT * FROM merch_cut_month_sales(p_from, p_to, p_rollup, 1)
             WHERE merch_sales_complement(p_from, p_to, p_rollup AND NOT p_monthly AND p_channel IS NULL)
            UNION ALL
            SELECT * FROM merch_day_sales(p_from, p_to, p_rollup, 0)
            UNION ALL
            SELECT * FROM merch_day_sales(p_from, p_to, p_rollup, 1)
            UNION ALL
            SELECT * FROM merch_day_sales(p_from, p_to, p_rollup, 2)) x
      LEFT JOIN sales_sku_totals s ON p_products AND s.sku_id = x.sku_id AND s.currency = x.currency
     WHERE p_path IS NULL AND p_role IS NULL AND p_series IS NULL
       AND (p_channel IS NULL OR x.channel = p_channel)
    UNION ALL
    SELECT t.sku_id, t.product_id, NULL::date, t.currency::text, t.facts::bigint, t.qty::bigint, t.revenue::numeric,
           t.cost::numeric, t.costed_facts::bigint, t.costed_revenue::numeric, t.distribution_value::numeric,
           t.distributed_facts::bigint, (t.qty - t.distributed_qty)::bigint, t.returned_qty::bigint
      FROM sales_sku_totals t
     WHERE p_path IS NULL AND p_role IS NULL AND p_series IS NULL
       AND merch_sales_complement(p_from, p_to, p_rollup AND NOT p_monthly AND p_channel IS NULL)
    UNION ALL
    SELECT x.sku_id, CASE WHEN p_products THEN x.pid END, x.month, x.currency, x.facts, x.qty, x.revenue, x.cost,
           x.costed_facts, x.costed_revenue, x.distribution_value, x.distributed_facts, x.unpriced_qty, x.returned_qty
      FROM (WITH scope AS MATERIALIZED (
                SELECT s.id, s.product_id
                  FROM merch_report_products(p_path, p_role, p_series) sp JOIN skus s ON s.product_id = sp.id
            )
            SELECT sc.product_id AS pid, m.* FROM scope sc JOIN merch_month_sales(p_from, p_to, p_rollup, false) m
                ON m.sku_id = sc.id
            UNION ALL
            SELECT sc.product_id, c.* FROM scope sc JOIN merch_cut_month_sales(p_from, p_to, p_rollup, 0) c
                ON c.sku_id = sc.id
            UNION ALL
            SELECT sc.product_id, f.* FROM scope sc JOIN merch_day_sales(p_from, p_to, p_rollup, 0) f ON f.sku_id = sc.id
            UNION ALL
            SELECT sc.product_id, f.* FROM scope sc JOIN merch_day_sales(p_from, p_to, p_rollup, 1) f ON f.sku_id = sc.id
            UNION ALL
            SELECT sc.product_id, f.* FROM scope sc JOIN merch_day_sales(p_from, p_to, p_rollup, 2) f ON f.sku_id = sc.id) x
     WHERE NOT (p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
       AND (p_channel IS NULL OR x.channel = p_channel)
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
