-- Reports: one set-based statement each. Every one takes the same scope filters first:
-- $1 the category's path (its subtree; home categories and placements in other trees), $2 a role id,
-- $3 a series id — each NULL for "all". Sales days are in UTC; "the price in force on a day" is the price
-- in force at the last moment of that day (UTC).

-- name: get_report_scope :one
-- The ids behind the filter codes (NULL where the code is NULL); a code that names nothing gives `found` false.
SELECT (SELECT c.path FROM categories c WHERE c.code = $1::text) AS category_path,
       (SELECT r.id FROM roles r WHERE r.code = $2::text) AS role_id,
       (SELECT s.id FROM series s WHERE s.code = $3::text) AS series_id;

-- name: list_margins_by_sku :many
-- Sale and distribution prices in force at $4 (NULL: now, from the maintained prices_in_force) against the
-- cost price in force then, per SKU and currency (each SKU its own group: nothing to add up), by SKU code.
WITH per_sku AS (
    SELECT f.sku, f.currency, f.sale, f.distribution, f.cost
      FROM merch_report_prices($1::ltree, $2::bigint, $3::bigint, $4::timestamptz) f
), paired AS (
    SELECT ps.sku AS grp, ps.currency,
           CASE WHEN ps.sale IS NOT NULL AND ps.cost IS NOT NULL THEN ps.sale END AS sale,
           CASE WHEN ps.sale IS NOT NULL AND ps.cost IS NOT NULL THEN ps.cost END AS sale_cost,
           CASE WHEN ps.distribution IS NOT NULL AND ps.cost IS NOT NULL THEN ps.distribution END AS distribution,
           CASE WHEN ps.distribution IS NOT NULL AND ps.cost IS NOT NULL THEN ps.cost END AS distribution_cost
      FROM per_sku ps
)
SELECT grp AS "group", currency, 1 AS skus,
       sale, sale_cost, sale - sale_cost AS sale_margin,
       round((sale - sale_cost) / nullif(sale, 0) * 100, 2) AS sale_margin_pct,
       distribution, distribution_cost, distribution - distribution_cost AS distribution_margin,
       round((distribution - distribution_cost) / nullif(distribution, 0) * 100, 2) AS distribution_margin_pct
  FROM paired
 ORDER BY grp, currency
 LIMIT $5::integer;

-- name: list_margins :many
-- Sale and distribution prices in force at $4 (NULL: now, from the maintained prices_in_force) against the
-- cost price in force then, per group ($5: product, category, role or series) and currency, summed over the
-- SKUs that have both prices.
WITH per_sku AS (
    SELECT f.sku_id, f.product_id, f.category_id, f.role_id, f.currency, f.sale, f.distribution, f.cost
      FROM merch_report_prices($1::ltree, $2::bigint, $3::bigint, $4::timestamptz) f
), keyed AS (
    -- only grouping by series multiplies a SKU by its product's series (one row, NULL, if it has none)
    SELECT CASE $5::text
               WHEN 'product' THEN ps.product_id WHEN 'category' THEN ps.category_id WHEN 'role' THEN ps.role_id
               ELSE pser.series_id
           END AS gid,
           ps.currency, ps.sale, ps.distribution, ps.cost
      FROM per_sku ps
      LEFT JOIN product_series pser ON $5::text = 'series' AND pser.product_id = ps.product_id
), totals AS (
    SELECT gid, currency, count(*) AS skus,
           sum(sale) FILTER (WHERE sale IS NOT NULL AND cost IS NOT NULL) AS sale,
           sum(cost) FILTER (WHERE sale IS NOT NULL AND cost IS NOT NULL) AS sale_cost,
           sum(distribution) FILTER (WHERE distribution IS NOT NULL AND cost IS NOT NULL) AS distribution,
           sum(cost) FILTER (WHERE distribution IS NOT NULL AND cost IS NOT NULL) AS distribution_cost
      FROM keyed
     GROUP BY gid, currency
), labelled AS (
    -- labels after grouping: joined for products (many groups), looked up per group otherwise
    SELECT coalesce(p.code::text,
                    CASE $5::text
                        WHEN 'category' THEN (SELECT c.code::text FROM categories c WHERE c.id = t.gid)
                        WHEN 'role' THEN (SELECT r.code::text FROM roles r WHERE r.id = t.gid)
                        WHEN 'series' THEN (SELECT se.code::text FROM series se WHERE se.id = t.gid)
                    END) AS grp,
           t.*
      FROM totals t
      LEFT JOIN products p ON $5::text = 'product' AND p.id = t.gid
)
SELECT grp AS "group", currency, skus::integer AS skus,
       sale, sale_cost, sale - sale_cost AS sale_margin,
       round((sale - sale_cost) / nullif(sale, 0) * 100, 2) AS sale_margin_pct,
       distribution, distribution_cost, distribution - distribution_cost AS distribution_margin,
       round((distribution - distribution_cost) / nullif(distribution, 0) * 100, 2) AS distribution_margin_pct
  FROM labelled
 ORDER BY grp NULLS LAST, currency
 LIMIT $6::integer;

-- name: list_inventory_valuation :many
-- On-hand stock × unit cost per warehouse, home category, cost source and currency: the moving-average
-- cost where the SKU has one, else the cost price in force now, else no value (cost_source 'none').
WITH scope AS (
    SELECT * FROM merch_report_products($1::ltree, $2::bigint, $3::bigint)
), stock AS (
    SELECT sl.warehouse_id, sp.category_id, sl.sku_id, sum(sl.on_hand) AS on_hand
      FROM scope sp
      JOIN skus s ON s.product_id = sp.id
      JOIN stock_levels sl ON sl.sku_id = s.id
     WHERE sl.on_hand > 0
     GROUP BY sl.warehouse_id, sp.category_id, sl.sku_id
), cost_prices AS (
    -- one cost price in force per SKU (the first currency, should a SKU have several)
    SELECT DISTINCT ON (f.sku_id) f.sku_id, f.currency, f.cost AS amount
      FROM merch_report_prices($1::ltree, $2::bigint, $3::bigint, NULL) f
     WHERE f.cost IS NOT NULL AND f.sku_id IN (SELECT sku_id FROM stock)
     ORDER BY f.sku_id, f.currency
), costed AS (
    SELECT st.warehouse_id, st.category_id, st.sku_id, st.on_hand,
           CASE WHEN sc.sku_id IS NOT NULL THEN 'moving-average'
                WHEN cp.sku_id IS NOT NULL THEN 'cost-price' ELSE 'none' END AS cost_source,
           coalesce(sc.currency, cp.currency) AS currency,
           coalesce(sc.avg_unit_cost, cp.amount) AS unit_cost
      FROM stock st
      LEFT JOIN sku_costs sc ON sc.sku_id = st.sku_id
      LEFT JOIN cost_prices cp ON cp.sku_id = st.sku_id
)
SELECT w.code AS warehouse, c.code AS category, k.cost_source, k.currency,
       count(DISTINCT k.sku_id)::integer AS skus, sum(k.on_hand)::bigint AS on_hand,
       sum(k.on_hand * k.unit_cost) AS value
  FROM costed k
  JOIN warehouses w ON w.id = k.warehouse_id
  JOIN categories c ON c.id = k.category_id
 GROUP BY w.code, c.code, k.cost_source, k.currency
 ORDER BY w.code, c.code, k.cost_source, k.currency NULLS LAST
 LIMIT $4::integer;

-- name: list_assortment :many
-- Per home category, per role (every role) and per series of the subtree: products, and over days $4..$5
-- qty, revenue, cost (qty × cost price in force on the day, where there is one) and margin, with shares of
-- the subtree totals.
WITH scope AS (
    SELECT * FROM merch_report_products($1::ltree, $2::bigint, $3::bigint)
), per_product AS (
    SELECT so.product_id, so.currency, sum(so.qty) AS qty, sum(so.revenue) AS revenue,
           CASE WHEN sum(so.costed_facts) > 0 THEN sum(so.costed_revenue) END AS costed_revenue,
           CASE WHEN sum(so.costed_facts) > 0 THEN sum(so.cost) END AS cost
      FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $6::boolean, NULL, false,
                                  true) so
     GROUP BY so.product_id, so.currency
    HAVING sum(so.facts) > 0
), by_role AS (
    SELECT sp.role_id, count(*) AS products FROM scope sp GROUP BY sp.role_id
), by_series AS (
    SELECT ps.series_id, count(*) AS products
      FROM scope sp LEFT JOIN product_series ps ON ps.product_id = sp.id
     GROUP BY ps.series_id
), counted AS (
    -- every role (0 products where none), and the series of the subtree's products (NULL: in none)
    SELECT 'role' AS dimension, r.id AS gid, r.code::text AS grp, coalesce(b.products, 0) AS products
      FROM roles r LEFT JOIN by_role b ON b.role_id = r.id
     WHERE $2::bigint IS NULL OR r.id = $2::bigint
    UNION ALL
    SELECT 'series', b.series_id, se.code::text, b.products
      FROM by_series b LEFT JOIN series se ON se.id = b.series_id
    UNION ALL
    SELECT 'category', c.id, c.code::text, count(*)
      FROM scope sp JOIN categories c ON c.id = sp.category_id
     GROUP BY c.id, c.code
), sold AS (
    SELECT 'role' AS dimension, p.role_id AS gid, pp.currency, sum(pp.qty) AS qty, sum(pp.revenue) AS revenue,
           sum(pp.costed_revenue) AS costed_revenue, sum(pp.cost) AS cost
      FROM per_product pp JOIN products p ON p.id = pp.product_id
     GROUP BY p.role_id, pp.currency
    UNION ALL
    SELECT 'series', ps.series_id, pp.currency, sum(pp.qty), sum(pp.revenue), sum(pp.costed_revenue), sum(pp.cost)
      FROM per_product pp LEFT JOIN product_series ps ON ps.product_id = pp.product_id
     GROUP BY ps.series_id, pp.currency
    UNION ALL
    SELECT 'category', p.category_id, pp.currency, sum(pp.qty), sum(pp.revenue), sum(pp.costed_revenue),
           sum(pp.cost)
      FROM per_product pp JOIN products p ON p.id = pp.product_id
     GROUP BY p.category_id, pp.currency
), totals AS (
    -- the subtree's totals count each product once, whatever its series
    SELECT currency, sum(revenue) AS revenue, sum(costed_revenue) - sum(cost) AS margin
      FROM per_product GROUP BY currency
)
SELECT k.dimension, k.grp AS "group", k.products::integer AS products, s.currency,
       coalesce(s.qty, 0)::bigint AS qty, coalesce(s.revenue, 0) AS revenue,
       round(s.revenue / nullif(t.revenue, 0) * 100, 2) AS revenue_share,
       s.cost, s.costed_revenue - s.cost AS margin,
       round((s.costed_revenue - s.cost) / nullif(s.costed_revenue, 0) * 100, 2) AS margin_pct,
       round((s.costed_revenue - s.cost) / nullif(t.margin, 0) * 100, 2) AS margin_share
  FROM counted k
  LEFT JOIN sold s ON s.dimension = k.dimension AND s.gid IS NOT DISTINCT FROM k.gid
  LEFT JOIN totals t ON t.currency = s.currency
 ORDER BY array_position(ARRAY['role', 'series', 'category'], k.dimension), k.grp NULLS LAST, s.currency NULLS LAST;

-- name: list_abc :many
-- SKUs ranked by revenue over days $4..$5 per currency, classed by the cumulative share before each one:
-- the class whose cumulative upper bound ($6, ascending, last 100) is the first above it.
WITH per_sku AS (
    SELECT so.sku_id, so.currency, sum(so.qty) AS qty, sum(so.revenue) AS revenue,
           CASE WHEN sum(so.costed_facts) > 0 THEN sum(so.costed_revenue) END AS costed_revenue,
           CASE WHEN sum(so.costed_facts) > 0 THEN sum(so.cost) END AS cost
      FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $8::boolean) so
     GROUP BY so.sku_id, so.currency
    HAVING sum(so.facts) > 0
), named AS (
    SELECT s.sku, p.code::text AS product, ps.currency, ps.qty, ps.revenue, ps.costed_revenue, ps.cost
      FROM per_sku ps
      JOIN skus s ON s.id = ps.sku_id
      JOIN products p ON p.id = s.product_id
), ranked AS (
    SELECT ps.*,
           row_number() OVER w AS rank,
           sum(ps.revenue) OVER w AS running,
           sum(ps.revenue) OVER (PARTITION BY ps.currency) AS total
      FROM named ps
    WINDOW w AS (PARTITION BY ps.currency ORDER BY ps.revenue DESC, ps.sku)
)
SELECT r.rank::integer AS rank, r.sku, r.product, r.currency, r.qty::bigint AS qty, r.revenue,
       round(r.revenue / nullif(r.total, 0) * 100, 2) AS share,
       round(r.running / nullif(r.total, 0) * 100, 2) AS cumulative_share,
       (SELECT b.ord::integer FROM unnest($6::numeric[]) WITH ORDINALITY AS b(bound, ord)
         WHERE coalesce((r.running - r.revenue) / nullif(r.total, 0) * 100, 0) < b.bound
            OR b.ord = cardinality($6::numeric[])
         ORDER BY b.ord LIMIT 1) AS class_index,
       r.cost, r.costed_revenue - r.cost AS margin,
       round((r.costed_revenue - r.cost) / nullif(r.costed_revenue, 0) * 100, 2) AS margin_pct
  FROM ranked r
 ORDER BY r.currency, r.rank
 LIMIT $7::integer;

-- name: list_purchasing_scorecard :many
-- Products ranked by the weighted score ($6: volume, margin, appeal, value, quality weights) of their components
-- over days $4..$5 (value and margin in currency $7), each normalised min-max to 0..1 within the result; quality:
-- the return rate (units of the period's sales that came back / units sold, %), the lowest scoring 1.
WITH scope AS MATERIALIZED (
    -- (read twice when unsold products can rank: computed once)
    SELECT * FROM merch_report_products($1::ltree, $2::bigint, $3::bigint)
), sold AS (
    SELECT x.*, x.margin_pct::float8 AS margin_f, x.value::float8 AS value_f, x.return_rate::float8 AS rate_f
      FROM (SELECT sa.product_id, sum(sa.qty)::bigint AS qty,
                   round(sum(sa.returned_qty) * 100.0 / nullif(sum(sa.qty) + sum(sa.returned_qty), 0), 2)
                     AS return_rate,
                   coalesce(sum(sa.revenue) FILTER (WHERE sa.currency = $7::text), 0) AS value,
                   CASE WHEN sum(sa.costed_facts) FILTER (WHERE sa.currency = $7::text) > 0
                        THEN round((sum(sa.costed_revenue) FILTER (WHERE sa.currency = $7::text)
                                    - sum(sa.cost) FILTER (WHERE sa.currency = $7::text))
                                   / nullif(sum(sa.costed_revenue) FILTER (WHERE sa.currency = $7::text), 0) * 100, 2)
                   END AS margin_pct
              FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $9::boolean, NULL,
                                          false, true) sa
             GROUP BY sa.product_id
            HAVING sum(sa.facts) > 0) x
), inputs_of_tree AS NOT MATERIALIZED (
    -- every product and its appeal's inputs, with no filter: straight from products (in id order, to merge
    -- with the completeness rows); read whole once (the combinations), and again only when unsold products
    -- can rank
    SELECT p.id, p.quality_score AS tags, pc.product_id IS NOT NULL AS computed, pc.listing_present AS lp,
           pc.listing_required AS lr
      FROM products p
      LEFT JOIN product_completeness pc ON pc.product_id = p.id
     WHERE $1::ltree IS NULL AND $2::bigint IS NULL AND $3::bigint IS NULL
), inputs_of_scope AS MATERIALIZED (
    -- with a filter, those of the scope's products (a few thousand: kept for the second reading)
    SELECT p.id, p.quality_score AS tags, pc.product_id IS NOT NULL AS computed, pc.listing_present AS lp,
           pc.listing_required AS lr
      FROM scope sp
      JOIN products p ON p.id = sp.id
      LEFT JOIN product_completeness pc ON pc.product_id = sp.id
     WHERE NOT ($1::ltree IS NULL AND $2::bigint IS NULL AND $3::bigint IS NULL)
), inputs AS NOT MATERIALIZED (
    SELECT * FROM inputs_of_tree
    UNION ALL
    SELECT * FROM inputs_of_scope
), inputs_of_sold AS MATERIALIZED (
    -- what each sold product's score is made of, as integers and floats (its appeal's inputs read by id)
    SELECT so.product_id AS id, so.qty AS volume, so.margin_f, so.value_f, so.rate_f,
           pc.product_id IS NOT NULL AS computed, pc.listing_present AS lp, pc.listing_required AS lr,
           p.quality_score AS tags
      FROM sold so
      JOIN products p ON p.id = so.product_id
      LEFT JOIN product_completeness pc ON pc.product_id = so.product_id
), combos AS MATERIALIZED (
    -- an unsold product's score depends on its appeal's inputs alone: the combinations that occur, with how
    -- many products in scope have each and how many of those are unsold
    SELECT a.computed, a.lp, a.lr, a.tags, a.products - coalesce(b.products, 0) AS unsold
      FROM (SELECT i.computed, i.lp, i.lr, i.tags, count(*) AS products FROM inputs i GROUP BY 1, 2, 3, 4) a
      LEFT JOIN (SELECT computed, lp, lr, tags, count(*) AS products FROM inputs_of_sold GROUP BY 1, 2, 3, 4) b
        ON b.computed = a.computed AND b.lp IS NOT DISTINCT FROM a.lp AND b.lr IS NOT DISTINCT FROM a.lr
       AND b.tags = a.tags
), bounds AS MATERIALIZED (
    -- exact bounds of each component: volume and value over every line (0 for the unsold), margin and return
    -- rate over the sold ones, appeal over each combination of its inputs that occurs
    SELECT least(m.v_min, CASE WHEN c.unsold THEN 0 END) AS v_min,
           greatest(m.v_max, CASE WHEN c.unsold THEN 0 END) AS v_max, m.m_min, m.m_max, c.a_min, c.a_max,
           m.r_min, m.r_max, least(m.x_min, CASE WHEN c.unsold THEN 0 END) AS x_min,
           greatest(m.x_max, CASE WHEN c.unsold THEN 0 END) AS x_max
      FROM (SELECT bool_or(unsold > 0) AS unsold, min(merch_appeal(computed, lp, lr, tags)) AS a_min,
                   max(merch_appeal(computed, lp, lr, tags)) AS a_max
              FROM combos) c,
           (SELECT min(qty) AS v_min, max(qty) AS v_max, min(margin_pct) AS m_min, max(margin_pct) AS m_max,
                   min(value) AS x_min, max(value) AS x_max, min(return_rate) AS r_min, max(return_rate) AS r_max
              FROM sold) m
), fb AS MATERIALIZED (
    -- the bounds and weights in floating point, once
    SELECT b.v_min::float8 AS v_min, (b.v_max - b.v_min)::float8 AS v_span, b.m_min::float8 AS m_min,
           (b.m_max - b.m_min)::float8 AS m_span, b.a_min::float8 AS a_min, (b.a_max - b.a_min)::float8 AS a_span,
           b.x_min::float8 AS x_min, (b.x_max - b.x_min)::float8 AS x_span, b.r_max::float8 AS r_max,
           (b.r_max - b.r_min)::float8 AS r_span,
           ($6::numeric[])[1]::float8 AS w_volume, ($6::numeric[])[2]::float8 AS w_margin,
           ($6::numeric[])[3]::float8 AS w_appeal, ($6::numeric[])[4]::float8 AS w_value,
           ($6::numeric[])[5]::float8 AS w_quality
      FROM bounds b
), lines AS (
    -- what the scores are made of: each sold product (n 1), and each combination's unsold products (n of them:
    -- volume and value 0, no margin, no return rate)
    SELECT l.id, 1::bigint AS n, l.volume, l.margin_f, l.value_f, l.rate_f, l.computed, l.lp, l.lr, l.tags
      FROM inputs_of_sold l
    UNION ALL
    SELECT NULL, c.unsold, 0, NULL, 0, NULL, c.computed, c.lp, c.lr, c.tags
      FROM combos c
     WHERE c.unsold > 0
), approx AS MATERIALIZED (
    -- the score in floating point of each line, only to find the lines that can be among the first $8: a line is
    -- among them only if its score is within 0.0001 (the rounding of scores, half up, to 4 decimals) of the $8th
    -- best one, float error aside (< 1e-12 here). Those lines are then scored exactly.
    SELECT l.id, l.n, l.computed, l.lp, l.lr, l.tags,
           coalesce((l.volume - b.v_min) / nullif(b.v_span, 0), 1) * b.w_volume
           + CASE WHEN l.margin_f IS NULL THEN 0 ELSE coalesce((l.margin_f - b.m_min) / nullif(b.m_span, 0), 1) END
             * b.w_margin
           + coalesce((least(1, CASE WHEN NOT l.computed THEN 0 ELSE coalesce(l.lp::float8 / nullif(l.lr, 0), 1) END
                                + 0.25 * l.tags) - b.a_min) / nullif(b.a_span, 0), 1) * b.w_appeal
           + coalesce((l.value_f - b.x_min) / nullif(b.x_span, 0), 1) * b.w_value
           + CASE WHEN l.rate_f IS NULL THEN 0 ELSE coalesce((b.r_max - l.rate_f) / nullif(b.r_span, 0), 1) END
             * b.w_quality AS score
      FROM lines l CROSS JOIN fb b
), cutoff AS (
    -- the $8th best score (the lowest of the lines counted best first until $8 are, or of all when fewer)
    SELECT coalesce(min(x.score), '-infinity'::float8) - 0.0002 AS score
      FROM (SELECT a.score, a.n, sum(a.n) OVER (ORDER BY a.score DESC ROWS UNBOUNDED PRECEDING) AS running
              FROM approx a) x
     WHERE x.running - x.n < $8::integer
), unsold_floor AS (
    -- the least appeal of the combinations whose unsold products can rank (NULL: none can)
    SELECT min(merch_appeal(a.computed, a.lp, a.lr, a.tags)) AS appeal
      FROM approx a
     WHERE a.id IS NULL AND a.score >= (SELECT score FROM cutoff)
), candidates AS (
    -- (few lines: their codes looked up one by one) the sold lines that can rank, and the unsold products of
    -- the combinations that can
    SELECT (SELECT p.code::text FROM products p WHERE p.id = a.id) AS product, so.qty AS volume, so.margin_pct,
           merch_appeal(a.computed, a.lp, a.lr, a.tags) AS appeal, so.value, so.return_rate
      FROM approx a
      JOIN sold so ON so.product_id = a.id
     WHERE a.id IS NOT NULL AND a.score >= (SELECT score FROM cutoff)
    UNION ALL
    -- an unsold product's score grows with its appeal: those whose appeal is at least the least of the
    -- combinations that can rank (read only when one can)
    SELECT (SELECT p.code::text FROM products p WHERE p.id = i.id), 0, NULL, merch_appeal(i.computed, i.lp, i.lr, i.tags),
           0, NULL
      FROM inputs i
     WHERE (SELECT appeal FROM unsold_floor) IS NOT NULL
       AND merch_appeal(i.computed, i.lp, i.lr, i.tags) >= (SELECT appeal FROM unsold_floor)
       AND i.id NOT IN (SELECT so.product_id FROM sold so WHERE so.product_id IS NOT NULL)  -- (a hashed subplan)
), normalised AS (
    -- exactly: a component equal on every line normalises to 1; a line without a margin (or a return rate:
    -- nothing sold) scores 0 on it
    SELECT c.product, c.volume, c.margin_pct, c.appeal, c.value, c.return_rate,
           coalesce((c.volume - b.v_min)::numeric / nullif(b.v_max - b.v_min, 0), 1) AS volume_score,
           CASE WHEN c.margin_pct IS NULL THEN 0
                ELSE coalesce((c.margin_pct - b.m_min) / nullif(b.m_max - b.m_min, 0), 1) END AS margin_score,
           coalesce((c.appeal - b.a_min) / nullif(b.a_max - b.a_min, 0), 1) AS appeal_score,
           coalesce((c.value - b.x_min) / nullif(b.x_max - b.x_min, 0), 1) AS value_score,
           CASE WHEN c.return_rate IS NULL THEN 0
                ELSE coalesce((b.r_max - c.return_rate) / nullif(b.r_max - b.r_min, 0), 1) END AS quality_score
      FROM candidates c CROSS JOIN bounds b
), scored AS (
    SELECT n.*,
           n.volume_score * ($6::numeric[])[1] + n.margin_score * ($6::numeric[])[2]
             + n.appeal_score * ($6::numeric[])[3] + n.value_score * ($6::numeric[])[4]
             + n.quality_score * ($6::numeric[])[5] AS score
      FROM normalised n
)
SELECT (row_number() OVER (ORDER BY t.score DESC, t.product))::integer AS rank,
       t.product, t.volume, t.margin_pct, t.appeal, t.value, t.return_rate, t.volume_score, t.margin_score,
       t.appeal_score, t.value_score, t.quality_score, t.score
  FROM (
    -- the first $8 lines only (a top-N sort), numbered afterwards: the same ranks as numbering every line
    SELECT s.product, s.volume::bigint AS volume, s.margin_pct, round(s.appeal, 4) AS appeal, s.value,
           s.return_rate, round(s.volume_score, 4) AS volume_score, round(s.margin_score, 4) AS margin_score,
           round(s.appeal_score, 4) AS appeal_score, round(s.value_score, 4) AS value_score,
           round(s.quality_score, 4) AS quality_score,
           round(s.score, 4) AS score
      FROM scored s
     ORDER BY round(s.score, 4) DESC, s.product
     LIMIT $8::integer
  ) t
 ORDER BY rank;

-- name: list_scorecard_suppliers :many
-- The preferred supplier of each product named ($1: codes) with, over days $2..$3 (NULL: no bound), its return
-- rate over every product it is the preferred supplier of — units returned on those days (UTC) / units sold on
-- them (the facts as uploaded) × 100, as the returns report by supplier counts them — and the defective share:
-- units returned as `defective` / units returned × 100. A supplier's products read by index, once a supplier.
WITH chosen AS (
    SELECT p.code::text AS product, ps.supplier_id
      FROM products p JOIN product_suppliers ps ON ps.product_id = p.id AND ps.preferred
     WHERE p.code = ANY ($1::text[])
), supplied AS (
    SELECT s.id AS sku_id, su.supplier_id
      FROM (SELECT DISTINCT c.supplier_id FROM chosen c) su
      JOIN product_suppliers ps ON ps.supplier_id = su.supplier_id AND ps.preferred
      JOIN skus s ON s.product_id = ps.product_id
), sold AS (
    SELECT k.supplier_id, sum(f.qty) AS units
      FROM supplied k JOIN sales_facts f ON f.sku_id = k.sku_id
     WHERE f.day >= coalesce($2::date, '-infinity'::date) AND f.day <= coalesce($3::date, 'infinity'::date)
     GROUP BY k.supplier_id
), back AS (
    SELECT k.supplier_id, sum(r.qty) AS units, coalesce(sum(r.qty) FILTER (WHERE rr.code = 'defective'), 0) AS defective
      FROM supplied k
      JOIN sales_returns r ON r.sku_id = k.sku_id
      JOIN return_reasons rr ON rr.id = r.reason_id
     WHERE r.returned_on >= coalesce($2::date, '-infinity'::date)
       AND r.returned_on <= coalesce($3::date, 'infinity'::date)
     GROUP BY k.supplier_id
)
SELECT c.product, su.code::text AS supplier,
       round(coalesce(b.units, 0) * 100.0 / nullif(so.units, 0), 2) AS return_rate,
       round(b.defective * 100.0 / nullif(b.units, 0), 2) AS defective_share
  FROM chosen c
  JOIN suppliers su ON su.id = c.supplier_id
  LEFT JOIN sold so ON so.supplier_id = c.supplier_id
  LEFT JOIN back b ON b.supplier_id = c.supplier_id
 ORDER BY c.product;

-- name: list_payables :many
-- Accrued payables: receipts with a unit cost (qty × unit cost) per supplier, month of receipt (UTC) and
-- currency, for receipts on days $4..$5.
SELECT to_char(date_trunc('month', m.created_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
       m.supplier, m.currency, count(*)::integer AS receipts, sum(m.qty)::bigint AS qty,
       sum(m.qty * m.unit_cost) AS amount
  FROM stock_movements m
  JOIN skus s ON s.id = m.sku_id
 WHERE m.type = 'receive' AND m.unit_cost IS NOT NULL
   AND (($1::ltree IS NULL AND $2::bigint IS NULL AND $3::bigint IS NULL)
        OR s.product_id IN (SELECT id FROM merch_report_products($1::ltree, $2::bigint, $3::bigint)))
   AND m.created_at >= coalesce($4::date::timestamp AT TIME ZONE 'UTC', '-infinity')
   AND m.created_at < coalesce(($5::date + 1)::timestamp AT TIME ZONE 'UTC', 'infinity')
 GROUP BY 1, m.supplier, m.currency
 ORDER BY 1, m.supplier NULLS LAST, m.currency
 LIMIT $6::integer;

-- name: list_receivables :many
-- Accrued receivables: distribution-channel facts on days $4..$5 at qty × the distribution price in force
-- on the day (in the fact's currency), per month and currency; qty without such a price is counted apart.
SELECT to_char(so.month, 'YYYY-MM') AS month, so.currency, sum(so.facts)::integer AS facts,
       sum(so.qty)::bigint AS qty,
       CASE WHEN sum(so.distributed_facts) > 0 THEN sum(so.distribution_value) END AS amount,
       sum(so.unpriced_qty)::bigint AS unpriced_qty
  FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $7::boolean, 'distribution',
                              true) so
 GROUP BY so.month, so.currency
HAVING sum(so.facts) > 0
 ORDER BY so.month, so.currency
 LIMIT $6::integer;

-- name: list_returns :many
-- Returns (售后) by $6 (sku, product, category — the home category —, supplier — the preferred one — or
-- reason): units sold on days $4..$5 (gross, as the facts say: read from the rollup, $8 as the other sales
-- reports take it, plus the units returned of those days' sales) and units that came back on those days (UTC),
-- resellable or not, the return rate in percent (returned / sold) and, per group other than reason, the reason
-- most units came back for (ties by code). By reason, `sold` is every unit sold in scope.
-- Everything is summed per SKU first, in one pass over the returns; a SKU's product, category and supplier are
-- looked up only for the SKUs that sold or came back (with no scope, the scope is not read at all); the top
-- reasons only for the groups shown (at most $7).
WITH scoped AS (
    SELECT s.id AS sku_id FROM merch_report_products($1::ltree, $2::bigint, $3::bigint) sp JOIN skus s ON s.product_id = sp.id
     WHERE NOT ($1::ltree IS NULL AND $2::bigint IS NULL AND $3::bigint IS NULL)
), returned AS NOT MATERIALIZED (
    SELECT r.sku_id, r.qty, r.resellable, r.reason_id, r.sale_day, r.returned_on
      FROM sales_returns r
     WHERE $1::ltree IS NULL AND $2::bigint IS NULL AND $3::bigint IS NULL
    UNION ALL
    SELECT r.sku_id, r.qty, r.resellable, r.reason_id, r.sale_day, r.returned_on
      FROM scoped sc JOIN sales_returns r ON r.sku_id = sc.sku_id
), per_sku AS (
    -- per SKU: gross units sold on the days — the rollup's units (net of the returns that name their sale) plus
    -- the units of those returns, by the day of the sale they name (a return never names a fact it does not
    -- lower) —, and the units that came back on the days, resellable of them. A SKU whose rollup rows sum to no
    -- fact, that no such return names and that nothing came back of is left out.
    SELECT k.sku_id, sum(k.sold) AS sold, sum(k.returned) AS returned, sum(k.resellable) AS resellable
      FROM (SELECT x.sku_id, x.qty AS sold, 0 AS returned, 0 AS resellable, x.facts
              FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $8::boolean) x
            UNION ALL
            SELECT r.sku_id,
                   CASE WHEN r.sale_day >= coalesce($4::date, '-infinity'::date)
                         AND r.sale_day <= coalesce($5::date, 'infinity'::date) THEN r.qty ELSE 0 END,
                   CASE WHEN r.returned_on >= coalesce($4::date, '-infinity'::date)
                         AND r.returned_on <= coalesce($5::date, 'infinity'::date) THEN r.qty ELSE 0 END,
                   CASE WHEN r.resellable AND r.returned_on >= coalesce($4::date, '-infinity'::date)
                         AND r.returned_on <= coalesce($5::date, 'infinity'::date) THEN r.qty ELSE 0 END,
                   NULL
              FROM returned r
             WHERE (r.sale_day >= coalesce($4::date, '-infinity'::date) AND r.sale_day <= coalesce($5::date, 'infinity'::date))
                OR (r.returned_on >= coalesce($4::date, '-infinity'::date)
                    AND r.returned_on <= coalesce($5::date, 'infinity'::date))) k
     GROUP BY k.sku_id
    HAVING sum(k.facts) > 0 OR count(k.facts) < count(*)
), keyed AS (
    -- the group of each SKU that sold or came back (none needed by reason); '' for no preferred supplier (a
    -- code is never empty): a key to join on. The grouping is a constant of the plan: only its lookup is made.
    SELECT ps.sku_id, ps.sold, ps.returned, ps.resellable,
           CASE $6::text WHEN 'sku' THEN s.sku::text
                         WHEN 'product' THEN (SELECT p.code::text FROM products p WHERE p.id = s.product_id)
                         WHEN 'category' THEN (SELECT c.code::text FROM products p JOIN categories c ON c.id = p.category_id
                                                WHERE p.id = s.product_id)
                         WHEN 'supplier' THEN coalesce((SELECT sup.code::text FROM product_suppliers pps
                                                          JOIN suppliers sup ON sup.id = pps.supplier_id
                                                         WHERE pps.product_id = s.product_id AND pps.preferred), '') END AS grp
      FROM per_sku ps
      JOIN skus s ON s.id = ps.sku_id
     WHERE $6::text <> 'reason'
), grouped AS (
    SELECT k.grp, sum(k.sold) AS sold, sum(k.returned) AS returned, sum(k.resellable) AS resellable
      FROM keyed k
     GROUP BY k.grp
    UNION ALL
    -- by reason: what came back on the days for each reason, against every unit sold in scope
    SELECT rr.code::text, (SELECT coalesce(sum(ps.sold), 0) FROM per_sku ps), sum(r.qty),
           coalesce(sum(r.qty) FILTER (WHERE r.resellable), 0)
      FROM returned r
      JOIN return_reasons rr ON rr.id = r.reason_id
     WHERE $6::text = 'reason'
       AND r.returned_on >= coalesce($4::date, '-infinity'::date) AND r.returned_on <= coalesce($5::date, 'infinity'::date)
     GROUP BY rr.code
), shown AS (
    SELECT g.grp, g.sold, g.returned, g.resellable, round(g.returned * 100.0 / nullif(g.sold, 0), 2) AS return_rate
      FROM grouped g
     ORDER BY return_rate DESC NULLS LAST, g.returned DESC, nullif(g.grp, '') NULLS LAST
     LIMIT $7::integer
), top AS (
    -- per shown group and reason, the units that came back on the days (the shown groups' SKUs' returns, by
    -- index: the SKUs are in scope already)
    SELECT k.grp, rr.code::text AS reason, sum(r.qty) AS returned
      FROM keyed k
     CROSS JOIN LATERAL (SELECT x.reason_id, x.qty FROM sales_returns x
                          WHERE x.sku_id = k.sku_id AND x.returned_on >= coalesce($4::date, '-infinity'::date)
                            AND x.returned_on <= coalesce($5::date, 'infinity'::date)) r
      JOIN return_reasons rr ON rr.id = r.reason_id
     WHERE k.returned > 0 AND k.grp IN (SELECT sh.grp FROM shown sh)
     GROUP BY k.grp, rr.code
), labelled AS (
    -- each shown group with the reason most of its units came back for (ties by code), grouped rather than joined
    -- (the groups shown are many more than a plan made for the estimates would expect)
    SELECT u.grp, max(u.sold) AS sold, max(u.returned) AS returned, max(u.resellable) AS resellable,
           max(u.return_rate) AS return_rate,
           (array_agg(u.reason ORDER BY u.by_reason DESC, u.reason) FILTER (WHERE u.reason IS NOT NULL))[1] AS top_reason
      FROM (SELECT sh.grp, sh.sold, sh.returned, sh.resellable, sh.return_rate, NULL::text AS reason,
                   NULL::numeric AS by_reason
              FROM shown sh
            UNION ALL
            SELECT t.grp, NULL, NULL, NULL, NULL, t.reason, t.returned FROM top t) u
     GROUP BY u.grp
)
SELECT nullif(l.grp, '') AS "group", l.sold::bigint AS sold, l.returned::bigint AS returned,
       l.resellable::bigint AS resellable, (l.returned - l.resellable)::bigint AS not_resellable, l.return_rate,
       l.top_reason
  FROM labelled l
 ORDER BY l.return_rate DESC NULLS LAST, l.returned DESC, nullif(l.grp, '') NULLS LAST;

-- name: list_promotion_outcomes :many
-- Promotions (one, $4, or those whose days meet $5..$6 and that list a product in scope — and, with $8, list
-- that product) with, per promotion, one row per item (its SKU) and one for the other listed products of its
-- items' home categories and series (`others`, none when there is no such product): units, revenue and cost
-- of their sales during the promotion's days (UTC) and over its baseline window, net of returns, in the
-- promotion's currency and on its spend channel — the kept read model's sums (promotion_outcome_lines,
-- sql/functions/promotions.sql, with the log's rows not folded yet). Costed: whether every such fact has a
-- cost. `regular` is an item's sale price in force when the promotion starts. `recomputing`: the promotion is
-- being recomputed after a change (sql/functions/promotions.sql): its row alone, with no line.
WITH promo AS (
    SELECT * FROM merch_report_promotions($1::ltree, $2::bigint, $3::bigint, $4::text, $5::date, $6::date, $8::bigint)
     ORDER BY code
     LIMIT $7::integer
)
SELECT w.code AS promotion, w.currency, w.first_day, w.last_day, w.last_day - w.first_day + 1 AS days,
       w.baseline_days AS baseline_days_asked, greatest(w.first_day - w.baseline_from, 0) AS baseline_days_known,
       w.spend_amount, w.spend_channel, CASE WHEN l.sku_id = 0 THEN 'others' WHEN l.sku_id > 0 THEN 'item' END AS level,
       s.sku::text AS sku, l.price, l.regular, l.units, l.revenue, l.cost, l.uncosted = 0 AS costed,
       l.baseline_units, l.baseline_revenue, l.baseline_cost, l.baseline_uncosted = 0 AS baseline_costed,
       w.recomputing
  FROM promo w
  LEFT JOIN merch_promotion_lines(ARRAY(SELECT p.id FROM promo p WHERE NOT p.recomputing)) l ON l.promotion_id = w.id
  LEFT JOIN skus s ON s.id = l.sku_id
 ORDER BY w.code, level, s.sku NULLS LAST;

-- name: list_promotion_roi :many
-- The promotion-roi report's rows, built from the kept outcomes (promotion_outcome_lines): for each promotion
-- (one, $4, or those whose days meet $5..$6 and that list a product in scope; at most $7, by code) its row
-- (its items' figures summed, spend, ROI = (incremental margin − spend) / spend, caveats), with $8 one per item
-- (by SKU; with a scope, the items of its products only — the promotion's row sums all of them) and one for its
-- neighbours (`others`: halo, cannibalisation or none), in that order: amounts rounded
-- half up to the currency's minor units, units and percentages to 2 places, ROI to 4 (merch_decimal_text).
-- `promotions` (on every row): how many promotions matched (at most $7 + 1). A promotion being recomputed after a
-- change (`recomputing`: marked, or between the two steps of its recompute — sql/functions/promotions.sql)
-- has its row alone, its spend and no figure.
-- A line's baseline is its baseline window's sums × the promotion's days / the baseline days known (none
-- known: no baseline); its discount cost (regular − promotion price) × units.
WITH promo AS (
    SELECT r.id, r.code, r.spend_amount, r.currency, r.first_day, r.last_day, r.last_day - r.first_day + 1 AS days,
           r.baseline_days AS asked, greatest(r.first_day - r.baseline_from, 0) AS known, r.recomputing
      FROM merch_report_promotions($1::ltree, $2::bigint, $3::bigint, $4::text, $5::date, $6::date, NULL) r
     ORDER BY r.code
     LIMIT $7::integer + 1
), shown AS (
    SELECT * FROM promo ORDER BY code LIMIT $7::integer
), line AS (
    -- per item (with $8) and the neighbours: actual, baseline (scaled) and discount figures, unrounded
    SELECT w.id, CASE WHEN l.sku_id = 0 THEN 'others' ELSE 'item' END AS level, l.sku_id,
           l.units::numeric AS units, l.revenue,
           CASE WHEN l.uncosted = 0 THEN l.revenue - l.cost END AS margin,
           CASE WHEN w.known > 0 THEN l.baseline_units::numeric * w.days / w.known END AS base_units,
           CASE WHEN w.known > 0 THEN l.baseline_revenue * w.days / w.known END AS base_revenue,
           CASE WHEN w.known > 0 AND l.baseline_uncosted = 0
                THEN (l.baseline_revenue - l.baseline_cost) * w.days / w.known END AS base_margin,
           CASE WHEN l.sku_id <> 0 THEN (l.regular - l.price) * l.units END AS discount,
           l.sku_id = 0 OR (l.uncosted = 0 AND (w.known = 0 OR l.baseline_uncosted = 0)) AS costed
      FROM shown w
      JOIN merch_promotion_lines(ARRAY(SELECT x.id FROM shown x WHERE NOT x.recomputing), $8::boolean) l
        ON l.promotion_id = w.id
), total AS (
    -- per promotion: its items' figures summed (merch_promotion_totals: one pass over its lines, whatever is
    -- shown) — null when one item's is —, the baseline's sums scaled once; and its neighbours' (zero when none)
    -- (none of them while it is being recomputed)
    SELECT w.id, 'promotion' AS level, 0::bigint AS sku_id,
           CASE WHEN NOT w.recomputing THEN coalesce(t.units, 0) END AS units,
           CASE WHEN NOT w.recomputing THEN coalesce(t.revenue, 0) END AS revenue,
           CASE WHEN NOT w.recomputing AND coalesce(t.uncosted, 0) = 0 THEN coalesce(t.revenue - t.cost, 0) END AS margin,
           CASE WHEN NOT w.recomputing AND (t.items IS NULL OR w.known > 0)
                THEN coalesce(t.baseline_units * w.days / w.known, 0) END AS base_units,
           CASE WHEN NOT w.recomputing AND (t.items IS NULL OR w.known > 0)
                THEN coalesce(t.baseline_revenue * w.days / w.known, 0) END AS base_revenue,
           CASE WHEN NOT w.recomputing AND (t.items IS NULL OR (w.known > 0 AND t.baseline_uncosted = 0))
                THEN coalesce((t.baseline_revenue - t.baseline_cost) * w.days / w.known, 0) END AS base_margin,
           CASE WHEN NOT w.recomputing AND (t.items IS NULL OR t.priced) THEN coalesce(t.discount, 0) END AS discount,
           t.items IS NULL OR (t.uncosted = 0 AND (w.known = 0 OR t.baseline_uncosted = 0)) AS costed
      FROM shown w
      LEFT JOIN merch_promotion_totals(ARRAY(SELECT x.id FROM shown x WHERE NOT x.recomputing)) t ON t.promotion_id = w.id
), others AS (
    SELECT w.id, 'others' AS level, 0::bigint AS sku_id, coalesce(n.units, 0) AS units,
           coalesce(n.revenue, 0) AS revenue, CASE WHEN n.id IS NULL THEN 0 ELSE n.margin END AS margin,
           CASE WHEN n.id IS NULL THEN 0 ELSE n.base_units END AS base_units,
           CASE WHEN n.id IS NULL THEN 0 ELSE n.base_revenue END AS base_revenue,
           CASE WHEN n.id IS NULL THEN 0 ELSE n.base_margin END AS base_margin, NULL::numeric AS discount,
           true AS costed
      FROM shown w
      LEFT JOIN line n ON n.id = w.id AND n.level = 'others'
     WHERE NOT w.recomputing
), fig AS (
    SELECT 0 AS rank, NULL::text AS sku, t.* FROM total t
    UNION ALL
    SELECT 1, s.sku::text, i.* FROM line i JOIN skus s ON s.id = i.sku_id
     WHERE i.level = 'item' AND $8::boolean
       AND (($1::ltree IS NULL AND $2::bigint IS NULL AND $3::bigint IS NULL)
            OR s.product_id IN (SELECT x.id FROM merch_report_products($1::ltree, $2::bigint, $3::bigint) x))
    UNION ALL SELECT 2, NULL, n.* FROM others n
), item AS (
    SELECT w.code, f.rank, f.sku, w.currency, w.spend_amount, w.last_day, w.known, w.asked, w.recomputing,
           f.level, f.costed, w.days, f.units, f.revenue, f.margin, f.base_units, f.base_revenue, f.base_margin,
           f.units - f.base_units AS inc_units, f.revenue - f.base_revenue AS inc_revenue,
           f.margin - f.base_margin AS inc_margin, f.discount,
           merch_currency_decimals(w.currency) AS places
      FROM shown w JOIN fig f ON f.id = w.id
)
SELECT (SELECT count(*) FROM promo)::integer AS promotions, i.code AS promotion, i.level, i.sku, i.currency,
       CASE WHEN NOT i.recomputing THEN i.days END AS days,
       CASE WHEN NOT i.recomputing THEN i.asked END AS baseline_days,
       CASE WHEN NOT i.recomputing THEN i.known END AS baseline_days_known, i.units::bigint AS units,
       merch_decimal_text(i.revenue, i.places) AS revenue,
       merch_decimal_text(i.margin, i.places) AS margin,
       CASE WHEN i.revenue <> 0 THEN merch_decimal_text(i.margin * 100 / i.revenue, 2) END AS margin_pct,
       merch_decimal_text(i.base_units, 2) AS baseline_units,
       merch_decimal_text(i.base_revenue, i.places) AS baseline_revenue,
       merch_decimal_text(i.base_margin, i.places) AS baseline_margin,
       merch_decimal_text(i.inc_units, 2) AS incremental_units,
       merch_decimal_text(i.inc_revenue, i.places) AS incremental_revenue,
       merch_decimal_text(i.inc_margin, i.places) AS incremental_margin,
       merch_decimal_text(i.discount, i.places) AS discount_cost,
       CASE WHEN i.rank = 0 THEN merch_decimal_text(i.spend_amount, i.places) END AS spend,
       CASE WHEN i.rank = 0 AND i.spend_amount <> 0
            THEN merch_decimal_text((i.inc_margin - i.spend_amount) / i.spend_amount, 4) END AS roi,
       CASE WHEN i.rank = 2 THEN CASE WHEN i.inc_units > 0 THEN 'halo' WHEN i.inc_units < 0 THEN 'cannibalisation'
                                      WHEN i.inc_units = 0 THEN 'none' END END AS effect,
       CASE WHEN i.recomputing THEN 'being recomputed after a change: no figure until it is done'
            WHEN i.rank = 0 THEN nullif(concat_ws('; ',
           CASE WHEN i.known = 0 THEN 'no sales data before the promotion: no baseline, no increment'
                WHEN i.known < i.asked
                THEN format('the baseline window reaches before any sales data: %s of %s days known', i.known, i.asked)
                END,
           CASE WHEN i.spend_amount IS NULL THEN 'no spend recorded: no ROI'
                WHEN i.spend_amount = 0 THEN 'the spend is 0: no ROI' END,
           CASE WHEN NOT i.costed THEN 'some sales have no cost price: no margin' END,
           CASE WHEN i.last_day >= (now() AT TIME ZONE 'UTC')::date
                THEN 'the promotion has days from today on: their sales are not all in' END), '') END AS caveats,
       i.recomputing
  FROM item i
 ORDER BY i.code, i.rank, i.sku;

-- name: update_report_settings :exec
-- Settings for a report's transaction: a report is one large statement; it gets memory to hash and sort in
-- (not spill to disk) and a plan made for its parameters (the branches for "no filter" are planned away, see
-- merch_report_products); the working set is in memory (random reads cost about what sequential ones do);
-- JIT compilation costs more than it saves on these plans.
SET LOCAL work_mem = '256MB'; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off;
SET LOCAL random_page_cost = 1.1;

-- name: lock_promotion_outcomes_job :val
-- One promotion-outcomes job at a time (a session lock, held across its transactions): true when taken, false
-- when another job holds it (the caller asks again, keeping its heartbeat, rather than waiting here past the
-- statement timeout).
SELECT pg_try_advisory_lock(7340655, 1);

-- name: delete_promotion_outcomes_job_lock :exec
-- The promotion-outcomes job is done.
SELECT pg_advisory_unlock(7340655, 1);

-- name: update_promotion_log_folded :val
-- Fold the promotion outcomes' log into their lines (in a repeatable-read transaction); answers how many rows.
SELECT merch_fold_promotion_log();

-- name: list_promotion_marks :one
-- The promotions marked to be recomputed, and the marks' ids (those a recompute takes: merch_sum_promotion_outcomes).
SELECT coalesce(array_agg(id ORDER BY id), '{}')::bigint[] AS marks,
       coalesce(array_agg(DISTINCT promotion_id ORDER BY promotion_id), '{}')::bigint[] AS promotions
  FROM promotion_outcome_stale;

-- name: update_promotion_outcomes_rebuilt :exec
-- A recompute's step one: the promotions' new build, committed before the barrier.
SELECT merch_rebuild_promotion_outcomes($1::bigint[]);

-- name: lock_promotion_writers :exec
-- The barrier: wait for every writer of the promotion outcomes' log that may have read a previous build.
SELECT pg_advisory_xact_lock(7340655, 0);

-- name: update_promotion_outcomes_summed :exec
-- A recompute's step two (one repeatable-read snapshot taken after the barrier): the sums, the marks $2 taken.
SELECT merch_sum_promotion_outcomes($1::bigint[], $2::bigint[]);

-- name: update_local_statement_timeout :exec
-- This transaction's statement timeout ($1, e.g. 0: none), for the promotion-outcomes job's long statements.
SELECT set_config('statement_timeout', $1::text, true);

-- name: update_local_lock_timeout :exec
-- This transaction's lock timeout ($1, e.g. 1s): the job's barrier asks for the writers' lock a second at a time.
SELECT set_config('lock_timeout', $1::text, true);
