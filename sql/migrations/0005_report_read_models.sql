-- Reports at full scale (1M products, a year of daily sales): read models that keep a whole-tree report to
-- one pass over narrow rows instead of per-query lookups into the price history.
--
-- 1. prices_in_force: per SKU and currency, the sale, distribution and cost price in force, when that was
--    computed and when it goes stale (the next moment one of the SKU's periods in that currency starts or
--    ends). Kept current by statement-level triggers on prices (set-based, in the writing transaction);
--    rows gone stale with time alone are recomputed by merch_refresh_stale_prices_in_force() (the job
--    runner calls it each minute). Readers go through merch_prices_in_force(at), which recomputes a stale
--    row from the history itself: the answer is exact whether or not the runner has caught up.
-- 2. merch_report_products / merch_report_sku_sales: the whole tree reads no scope at all (a branch that the
--    planner drops when no filter is given), and sales come per SKU, so that callers aggregate before they join.

CREATE TABLE prices_in_force (
    sku_id bigint NOT NULL,
    currency text NOT NULL,
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
    ), gone AS (
        DELETE FROM prices_in_force f
         WHERE f.sku_id = ANY (p_skus)
           AND NOT EXISTS (SELECT 1 FROM fresh x WHERE x.sku_id = f.sku_id AND x.currency = f.currency)
    )
    INSERT INTO prices_in_force (sku_id, currency, sale, distribution, cost, computed_at, stale_at)
    SELECT sku_id, currency, sale, distribution, cost, p_at, stale_at FROM fresh
    ON CONFLICT (sku_id, currency) DO UPDATE
       SET sale = EXCLUDED.sale, distribution = EXCLUDED.distribution, cost = EXCLUDED.cost,
           computed_at = EXCLUDED.computed_at, stale_at = EXCLUDED.stale_at;
$$;

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

-- Rows gone stale with time: recompute them. SKUs a price writer holds right now are skipped (its trigger
-- recomputes them when it writes). Answers the number of SKUs recomputed.
CREATE FUNCTION merch_refresh_stale_prices_in_force() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_skus bigint[];
BEGIN
    v_skus := ARRAY(SELECT s.id FROM skus s
                     WHERE s.id IN (SELECT f.sku_id FROM prices_in_force f WHERE f.stale_at <= clock_timestamp())
                     ORDER BY s.id FOR UPDATE SKIP LOCKED);
    PERFORM merch_refresh_prices_in_force(v_skus, clock_timestamp());
    RETURN cardinality(v_skus);
END
$$;

-- The prices in force at p_at (NULL: now) per SKU and currency, SKUs with at least one. Now: the rows of
-- prices_in_force, except stale ones, recomputed from the history (one index probe per SKU); another moment:
-- all from the history.
CREATE FUNCTION merch_prices_in_force(p_at timestamptz)
RETURNS TABLE (sku_id bigint, currency text, sale numeric, distribution numeric, cost numeric)
LANGUAGE sql STABLE AS $$
    SELECT f.sku_id, f.currency, f.sale::numeric, f.distribution::numeric, f.cost::numeric
      FROM prices_in_force f
     WHERE p_at IS NULL AND (f.stale_at IS NULL OR f.stale_at > statement_timestamp())
       AND (f.sale IS NOT NULL OR f.distribution IS NOT NULL OR f.cost IS NOT NULL)
    UNION ALL
    SELECT d.sku_id, x.currency, x.sale, x.distribution, x.cost
      FROM (SELECT DISTINCT f.sku_id FROM prices_in_force f
             WHERE p_at IS NULL AND f.stale_at <= statement_timestamp()) d
     CROSS JOIN LATERAL (
        SELECT pr.currency,
               max(pr.amount) FILTER (WHERE pr.kind = 'sale') AS sale,
               max(pr.amount) FILTER (WHERE pr.kind = 'distribution') AS distribution,
               max(pr.amount) FILTER (WHERE pr.kind = 'cost') AS cost
          FROM prices pr
         WHERE pr.sku_id = d.sku_id AND pr.valid_from <= statement_timestamp()
           AND (pr.valid_to IS NULL OR pr.valid_to > statement_timestamp())
         GROUP BY pr.currency) x
    UNION ALL
    SELECT pr.sku_id, pr.currency,
           max(pr.amount) FILTER (WHERE pr.kind = 'sale'),
           max(pr.amount) FILTER (WHERE pr.kind = 'distribution'),
           max(pr.amount) FILTER (WHERE pr.kind = 'cost')
      FROM prices pr
     WHERE p_at IS NOT NULL AND pr.valid_from <= p_at AND (pr.valid_to IS NULL OR pr.valid_to > p_at)
     GROUP BY pr.sku_id, pr.currency
$$;

SELECT merch_refresh_prices_in_force(ARRAY(SELECT DISTINCT sku_id FROM prices), clock_timestamp());

-- The scope: with no filter, every product (the filtered branch is dropped when planned for NULLs).
CREATE OR REPLACE FUNCTION merch_report_products(p_path ltree, p_role bigint, p_series bigint)
RETURNS TABLE (id bigint, code text, category_id bigint, role_id bigint, quality_tags text[])
LANGUAGE sql STABLE AS $$
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

-- Sales per SKU, month and currency of the SKUs in scope: whole months from the rollup, the days of partial
-- edge months from the facts (p_rollup false: every day from the facts, to check the rollup); one channel or
-- all. Cost and distribution value are NULL where no fact had the price. With no filter the rollup and the
-- facts are read directly (the scope is not read at all); with one they are read by SKU from the scope.
-- Each branch is gated by its condition on the parameters, which the planner drops when it is false.
DROP FUNCTION merch_report_sales(ltree, bigint, bigint, date, date, boolean, text);

-- The whole months of [p_from, p_to] read from the rollup are [merch_rollup_from, merch_rollup_to); the days
-- before and after them come from the facts (with p_rollup false the range is empty: every day from the facts).
-- IMMUTABLE so that, for given dates, the planner sees the bounds as constants (and estimates the rows).
CREATE FUNCTION merch_rollup_from(p_from date, p_rollup boolean) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_rollup
                THEN coalesce((date_trunc('month', (p_from - 1)::timestamp) + interval '1 month')::date, '-infinity'::date)
                ELSE 'infinity'::date END
$$;
CREATE FUNCTION merch_rollup_to(p_from date, p_to date, p_rollup boolean) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(merch_rollup_from(p_from, p_rollup),
                    coalesce(date_trunc('month', (p_to + 1)::timestamp)::date, 'infinity'::date))
$$;

CREATE FUNCTION merch_report_sku_sales(p_path ltree, p_role bigint, p_series bigint, p_from date, p_to date,
                                       p_rollup boolean, p_channel text DEFAULT NULL)
RETURNS TABLE (sku_id bigint, month date, currency text, facts bigint, qty bigint, revenue numeric,
               cost numeric, costed_revenue numeric, distribution_value numeric, unpriced_qty bigint)
LANGUAGE sql STABLE AS $$
WITH scope AS (
    SELECT s.id FROM merch_report_products(p_path, p_role, p_series) sp JOIN skus s ON s.product_id = sp.id
), monthly AS (
    SELECT m.* FROM sales_monthly m
     WHERE p_path IS NULL AND p_role IS NULL AND p_series IS NULL
    UNION ALL
    SELECT m.* FROM scope sc JOIN sales_monthly m ON m.sku_id = sc.id
     WHERE NOT (p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
), facts AS (
    SELECT f.* FROM sales_facts f
     WHERE p_path IS NULL AND p_role IS NULL AND p_series IS NULL
    UNION ALL
    SELECT f.* FROM scope sc JOIN sales_facts f ON f.sku_id = sc.id
     WHERE NOT (p_path IS NULL AND p_role IS NULL AND p_series IS NULL)
)
    SELECT m.sku_id, m.month, m.currency, m.facts::bigint, m.qty, m.revenue::numeric,
           CASE WHEN m.costed_facts > 0 THEN m.cost::numeric END,
           CASE WHEN m.costed_facts > 0 THEN m.costed_revenue::numeric END,
           CASE WHEN m.distributed_facts > 0 THEN m.distribution_value::numeric END,
           m.qty - m.distributed_qty
      FROM monthly m
     WHERE m.month >= merch_rollup_from(p_from, p_rollup) AND m.month < merch_rollup_to(p_from, p_to, p_rollup)
       AND (p_channel IS NULL OR m.channel = p_channel)
    UNION ALL
    SELECT f.sku_id, date_trunc('month', f.day::timestamp)::date, f.currency, 1::bigint, f.qty::bigint,
           f.revenue::numeric, f.cost::numeric, CASE WHEN f.cost IS NOT NULL THEN f.revenue::numeric END,
           f.distribution_value::numeric, (CASE WHEN f.distribution_value IS NULL THEN f.qty ELSE 0 END)::bigint
      FROM facts f
      -- a gate: no facts are read for a period of whole months
     WHERE (merch_rollup_from(p_from, p_rollup) > coalesce(p_from, '-infinity'::date)
            OR (p_to IS NOT NULL AND merch_rollup_to(p_from, p_to, p_rollup) <= p_to))
       AND f.day >= coalesce(p_from, '-infinity'::date) AND f.day <= coalesce(p_to, 'infinity'::date)
       AND (f.day < merch_rollup_from(p_from, p_rollup) OR f.day >= merch_rollup_to(p_from, p_to, p_rollup))
       AND (p_channel IS NULL OR f.channel = p_channel)
$$;

-- The appeal of the purchasing scorecard reads the share of listing information present for every product:
-- a stored column and a covering index let a whole-tree report read it without the stage documents.
ALTER TABLE product_completeness ADD COLUMN listing_share numeric GENERATED ALWAYS AS (
    coalesce((stages -> 'listing' ->> 'present')::numeric / nullif((stages -> 'listing' ->> 'required')::numeric, 0),
             1)) STORED;  -- nothing required: complete
CREATE INDEX product_completeness_listing_share_idx ON product_completeness (product_id) INCLUDE (listing_share);
