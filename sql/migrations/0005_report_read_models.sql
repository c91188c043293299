-- Reports at full scale (1M products, a year of daily sales): read models that keep a whole-tree report to
-- one pass over narrow rows instead of per-query lookups into the price history.
--
-- 1. prices_in_force: per SKU and currency, the sale, distribution and cost price in force, when that was
--    computed and when it goes stale (the next moment one of the SKU's periods in that currency starts or
--    ends), with the SKU's code (immutable), product, home category and role (a margin report groups
--    without joining 1M rows). Kept current by statement-level triggers on prices (set-based, in the writing
--    transaction) and a trigger on products for their category and role; rows gone stale with time alone
--    are recomputed, with the completeness of their products, by the job runner each minute. Readers
--    go through merch_prices_in_force_now(), which recomputes a stale row from the history itself: the
--    answer is exact whether or not the runner has caught up (merch_prices_in_force_at(at): another moment,
--    from the history).
-- 2. merch_report_products / merch_report_sku_sales: the whole tree reads no scope at all (a branch that the
--    planner drops when no filter is given), and sales come per SKU, so that callers aggregate before they
--    join.
-- 3. sales_sku_totals: per SKU and currency, the sum of the monthly rollup, kept by triggers on it; a period
--    covering most of the history is read as these totals minus the months outside it.
-- 4. Narrow stored columns for the purchasing scorecard (listing information present / required per product,
--    quality tags per product) and covering indexes to read them for every product.

CREATE TABLE prices_in_force (
    sku_id bigint NOT NULL,
    currency text NOT NULL,
    sku text NOT NULL,
    product_id bigint NOT NULL,
    category_id bigint NOT NULL,
    role_id bigint NOT NULL,
    sale numeric(18,4),
    distribution numeric(18,4),
    cost numeric(18,4),
    computed_at timestamptz NOT NULL,
    stale_at timestamptz,
    CONSTRAINT prices_in_force_pkey PRIMARY KEY (sku_id, currency),
    CONSTRAINT prices_in_force_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE CASCADE,
    CONSTRAINT prices_in_force_stale_at_check CHECK (stale_at > computed_at)
);
CREATE INDEX prices_in_force_stale_at_idx ON prices_in_force (stale_at) WHERE stale_at IS NOT NULL;
CREATE INDEX prices_in_force_product_id_idx ON prices_in_force (product_id);

-- Recompute the rows of the given SKUs as of p_at, one per currency the SKU has ever been priced in (all
-- amounts NULL when none is in force). Set-based.
CREATE FUNCTION merch_refresh_prices_in_force(p_skus bigint[], p_at timestamptz) RETURNS void
LANGUAGE sql AS $$
    WITH fresh AS (
        SELECT pr.sku_id, pr.currency,
               max(pr.amount) FILTER (WHERE pr.kind = 'sale' AND pr.in_force) AS sale,
               max(pr.amount) FILTER (WHERE pr.kind = 'distribution' AND pr.in_force) AS distribution,
               max(pr.amount) FILTER (WHERE pr.kind = 'cost' AND pr.in_force) AS cost,
               least(min(pr.valid_from) FILTER (WHERE pr.valid_from > p_at),
                     min(pr.valid_to) FILTER (WHERE pr.valid_to > p_at)) AS stale_at
          FROM (SELECT p.*, p.valid_from <= p_at AND (p.valid_to IS NULL OR p.valid_to > p_at) AS in_force
                  FROM prices p WHERE p.sku_id = ANY (p_skus)) pr
         GROUP BY pr.sku_id, pr.currency
    ), placed AS (
        SELECT x.*, s.sku, s.product_id, p.category_id, p.role_id
          FROM fresh x JOIN skus s ON s.id = x.sku_id JOIN products p ON p.id = s.product_id
    ), gone AS (
        DELETE FROM prices_in_force f
         WHERE f.sku_id = ANY (p_skus)
           AND NOT EXISTS (SELECT 1 FROM fresh x WHERE x.sku_id = f.sku_id AND x.currency = f.currency)
    )
    INSERT INTO prices_in_force (sku_id, currency, sku, product_id, category_id, role_id, sale, distribution, cost,
                                 computed_at, stale_at)
    SELECT sku_id, currency, sku, product_id, category_id, role_id, sale, distribution, cost, p_at, stale_at
      FROM placed
     ORDER BY sku_id, currency  -- key order: concurrent refreshes never deadlock on each other's rows
    ON CONFLICT (sku_id, currency) DO UPDATE
       SET sale = EXCLUDED.sale, distribution = EXCLUDED.distribution, cost = EXCLUDED.cost,
           product_id = EXCLUDED.product_id, category_id = EXCLUDED.category_id, role_id = EXCLUDED.role_id,
           computed_at = EXCLUDED.computed_at, stale_at = EXCLUDED.stale_at;
$$;

-- A product moved to another home category or given another role: its SKUs' rows follow.
CREATE FUNCTION merch_prices_in_force_product_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE prices_in_force f SET category_id = NEW.category_id, role_id = NEW.role_id WHERE f.product_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER prices_in_force_product_moved AFTER UPDATE OF category_id, role_id ON products
    FOR EACH ROW WHEN (OLD.category_id IS DISTINCT FROM NEW.category_id OR OLD.role_id IS DISTINCT FROM NEW.role_id)
    EXECUTE FUNCTION merch_prices_in_force_product_moved();

-- Written prices: their SKUs are recomputed at the moment of the write. Price writers hold the SKU's row lock.
CREATE FUNCTION merch_prices_in_force_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM merch_refresh_prices_in_force(ARRAY(SELECT DISTINCT sku_id FROM old_rows), clock_timestamp());
    ELSE
        PERFORM merch_refresh_prices_in_force(ARRAY(SELECT DISTINCT sku_id FROM new_rows), clock_timestamp());
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER prices_in_force_insert AFTER INSERT ON prices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_prices_in_force_written();
CREATE TRIGGER prices_in_force_update AFTER UPDATE ON prices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_prices_in_force_written();
CREATE TRIGGER prices_in_force_delete AFTER DELETE ON prices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_prices_in_force_written();

-- The prices in force now per SKU and currency (SKUs with at least one) of the products p_products (NULL:
-- all), with the SKU's product, home category and role: the rows of prices_in_force, a stale one recomputed
-- from the history for its SKU and currency (one index probe). Given products are read by index.
CREATE FUNCTION merch_prices_in_force_now(p_products bigint[])
RETURNS TABLE (sku_id bigint, currency text, sku text, product_id bigint, category_id bigint, role_id bigint,
               sale numeric, distribution numeric, cost numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH rows AS NOT MATERIALIZED (
        SELECT f.* FROM prices_in_force f WHERE p_products IS NULL
        UNION ALL
        SELECT f.* FROM prices_in_force f WHERE f.product_id = ANY (p_products)
    )
    SELECT f.sku_id, f.currency, f.sku, f.product_id, f.category_id, f.role_id, f.sale::numeric,
           f.distribution::numeric, f.cost::numeric
      FROM rows f
     WHERE (f.stale_at IS NULL OR f.stale_at > statement_timestamp())
       AND (f.sale IS NOT NULL OR f.distribution IS NOT NULL OR f.cost IS NOT NULL)
    UNION ALL
    SELECT f.sku_id, f.currency, f.sku, f.product_id, f.category_id, f.role_id, x.sale, x.distribution, x.cost
      FROM rows f
     CROSS JOIN LATERAL (
        SELECT max(pr.amount) FILTER (WHERE pr.kind = 'sale') AS sale,
               max(pr.amount) FILTER (WHERE pr.kind = 'distribution') AS distribution,
               max(pr.amount) FILTER (WHERE pr.kind = 'cost') AS cost
          FROM prices pr
         WHERE pr.sku_id = f.sku_id AND pr.currency = f.currency AND pr.valid_from <= statement_timestamp()
           AND (pr.valid_to IS NULL OR pr.valid_to > statement_timestamp())) x
     WHERE f.stale_at <= statement_timestamp()
       AND (x.sale IS NOT NULL OR x.distribution IS NOT NULL OR x.cost IS NOT NULL)
$$;

-- The same at another moment, from the price history.
CREATE FUNCTION merch_prices_in_force_at(p_at timestamptz)
RETURNS TABLE (sku_id bigint, currency text, sku text, product_id bigint, category_id bigint, role_id bigint,
               sale numeric, distribution numeric, cost numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT h.sku_id, h.currency, s.sku::text, s.product_id, p.category_id, p.role_id, h.sale, h.distribution, h.cost
      FROM (SELECT pr.sku_id, pr.currency,
                   max(pr.amount) FILTER (WHERE pr.kind = 'sale') AS sale,
                   max(pr.amount) FILTER (WHERE pr.kind = 'distribution') AS distribution,
                   max(pr.amount) FILTER (WHERE pr.kind = 'cost') AS cost
              FROM prices pr
             WHERE pr.valid_from <= p_at AND (pr.valid_to IS NULL OR pr.valid_to > p_at)
             GROUP BY pr.sku_id, pr.currency) h
      JOIN skus s ON s.id = h.sku_id
      JOIN products p ON p.id = s.product_id
$$;

SELECT merch_refresh_prices_in_force(ARRAY(SELECT DISTINCT sku_id FROM prices), clock_timestamp());

-- The scope: with no filter, every product (the filtered branch is dropped when planned for NULLs).
CREATE OR REPLACE FUNCTION merch_report_products(p_path ltree, p_role bigint, p_series bigint)
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

-- merch_report_sales (0004) gives way to merch_report_sku_sales below.
DROP FUNCTION merch_report_sales(ltree, bigint, bigint, date, date, boolean, text);

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

-- Per SKU and currency (all channels), the sum of all its rollup rows (all months), with the SKU's product,
-- kept by triggers on the rollup: a period covering most of the history is read as these totals minus the
-- months outside it (far fewer rows than the months inside).
CREATE TABLE sales_sku_totals (
    sku_id bigint NOT NULL,
    currency text NOT NULL,
    product_id bigint NOT NULL,
    facts bigint NOT NULL,
    qty bigint NOT NULL,
    revenue numeric(20,4) NOT NULL,
    cost numeric(20,4) NOT NULL,
    costed_qty bigint NOT NULL,
    costed_facts bigint NOT NULL,
    costed_revenue numeric(20,4) NOT NULL,
    distribution_value numeric(20,4) NOT NULL,
    distributed_qty bigint NOT NULL,
    distributed_facts bigint NOT NULL,
    CONSTRAINT sales_sku_totals_pkey PRIMARY KEY (sku_id, currency),
    CONSTRAINT sales_sku_totals_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE RESTRICT
);
-- rows that no rollup row feeds any more are dropped at once; the index is empty between statements
CREATE INDEX sales_sku_totals_empty_idx ON sales_sku_totals (sku_id) WHERE facts = 0;

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

INSERT INTO sales_sku_totals (sku_id, currency, product_id, facts, qty, revenue, cost, costed_qty, costed_facts,
                              costed_revenue, distribution_value, distributed_qty, distributed_facts)
SELECT m.sku_id, m.currency, s.product_id, m.facts, m.qty, m.revenue, m.cost, m.costed_qty, m.costed_facts,
       m.costed_revenue, m.distribution_value, m.distributed_qty, m.distributed_facts
  FROM (SELECT sku_id, currency, sum(facts) AS facts, sum(qty) AS qty, sum(revenue) AS revenue, sum(cost) AS cost,
               sum(costed_qty) AS costed_qty, sum(costed_facts) AS costed_facts, sum(costed_revenue) AS costed_revenue,
               sum(distribution_value) AS distribution_value, sum(distributed_qty) AS distributed_qty,
               sum(distributed_facts) AS distributed_facts
          FROM sales_monthly
         GROUP BY sku_id, currency
        HAVING sum(facts) <> 0) m
  JOIN skus s ON s.id = m.sku_id;

-- Sales of the SKUs in scope over [p_from, p_to] (all days when NULL), as rows to be summed per SKU (or per
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
      FROM facts f
      LEFT JOIN sales_sku_totals s ON p_products AND s.sku_id = f.sku_id AND s.currency = f.currency
      -- a gate: no facts are read for a period of whole months
     WHERE (merch_rollup_from(p_from, p_rollup) > coalesce(p_from, '-infinity'::date)
            OR (p_to IS NOT NULL AND merch_rollup_to(p_from, p_to, p_rollup) <= p_to))
       AND f.day >= coalesce(p_from, '-infinity'::date) AND f.day <= coalesce(p_to, 'infinity'::date)
       AND (f.day < merch_rollup_from(p_from, p_rollup) OR f.day >= merch_rollup_to(p_from, p_to, p_rollup))
       AND (p_channel IS NULL OR f.channel = p_channel)
$$;

-- The appeal of the purchasing scorecard reads how much listing information every product has: stored
-- columns and a covering index let a whole-tree report read them without the stage documents (and as
-- integers, cheap to score).
ALTER TABLE product_completeness
    ADD COLUMN listing_present integer GENERATED ALWAYS AS ((stages -> 'listing' ->> 'present')::integer) STORED,
    ADD COLUMN listing_required integer GENERATED ALWAYS AS ((stages -> 'listing' ->> 'required')::integer) STORED;
CREATE INDEX product_completeness_listing_idx ON product_completeness (product_id)
    INCLUDE (listing_present, listing_required);

-- The appeal of a product in the purchasing scorecard: the share of listing information present (0 for a
-- product whose completeness was never computed, 1 when nothing is required) plus a quarter per quality tag
-- (名特优新), at most 1.
CREATE FUNCTION merch_appeal(p_computed boolean, p_present integer, p_required integer, p_tags integer)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(1, CASE WHEN NOT p_computed THEN 0 ELSE coalesce(p_present::numeric / nullif(p_required, 0), 1) END
                    + 0.25 * p_tags)
$$;

-- How many of the quality tags (名特优新: famous, specialty, quality, new) a product carries, stored; and what
-- a whole-tree report reads of every product, in one narrow index (an index-only scan in id order instead of
-- the wide product rows).
ALTER TABLE products ADD COLUMN quality_score smallint GENERATED ALWAYS AS (
    (('famous' = ANY (quality_tags))::integer + ('specialty' = ANY (quality_tags))::integer
     + ('quality' = ANY (quality_tags))::integer + ('new' = ANY (quality_tags))::integer)::smallint) STORED;
CREATE INDEX products_report_idx ON products (id) INCLUDE (code, category_id, role_id, quality_score);
