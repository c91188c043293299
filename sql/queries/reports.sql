-- Reports: one set-based statement each. Every one takes the same scope filters first:
-- $1 the category's path (its subtree; home categories and placements in other trees), $2 a role id,
-- $3 a series id — each NULL for "all". Sales days are in UTC; "the price in force on a day" is the price
-- in force at the last moment of that day (UTC).

-- name: get_report_scope :one
-- The ids behind the filter codes (NULL where the code is NULL); a code that names nothing gives `found` false.
SELECT (SELECT c.path FROM categories c WHERE c.code = $1::text) AS category_path,
       (SELECT r.id FROM roles r WHERE r.code = $2::text) AS role_id,
       (SELECT s.id FROM series s WHERE s.code = $3::text) AS series_id;

-- name: list_margins :many
-- Sale and distribution prices in force at $4 (NULL: now, from the maintained prices_in_force) against the
-- cost price in force then, per group ($5: sku, product, category, role or series) and currency, summed over
-- the SKUs that have both prices.
WITH per_sku AS (
    SELECT f.sku_id, s.sku, sp.id AS product_id, sp.code AS product, sp.category_id, sp.role_id, f.currency,
           f.sale, f.distribution, f.cost
      FROM merch_prices_in_force($4::timestamptz) f
      JOIN skus s ON s.id = f.sku_id
      JOIN merch_report_products($1::ltree, $2::bigint, $3::bigint) sp ON sp.id = s.product_id
), keyed AS (
    -- grouped by id; the label is carried along where it is at hand (sku, product) and looked up per group
    -- otherwise. Only grouping by series multiplies a SKU by its product's series (one row, NULL, if none).
    SELECT CASE $5::text
               WHEN 'sku' THEN ps.sku_id WHEN 'product' THEN ps.product_id WHEN 'category' THEN ps.category_id
               WHEN 'role' THEN ps.role_id ELSE pser.series_id
           END AS gid,
           CASE $5::text WHEN 'sku' THEN ps.sku WHEN 'product' THEN ps.product END AS label,
           ps.currency, ps.sale, ps.distribution, ps.cost
      FROM per_sku ps
      LEFT JOIN product_series pser ON $5::text = 'series' AND pser.product_id = ps.product_id
), totals AS (
    -- per SKU each row is its own group (no aggregation needed); otherwise summed per group
    SELECT gid, label, currency, 1 AS skus,
           CASE WHEN sale IS NOT NULL AND cost IS NOT NULL THEN sale END AS sale,
           CASE WHEN sale IS NOT NULL AND cost IS NOT NULL THEN cost END AS sale_cost,
           CASE WHEN distribution IS NOT NULL AND cost IS NOT NULL THEN distribution END AS distribution,
           CASE WHEN distribution IS NOT NULL AND cost IS NOT NULL THEN cost END AS distribution_cost
      FROM keyed
     WHERE $5::text = 'sku'
    UNION ALL
    SELECT gid, label, currency, count(*) AS skus,
           sum(sale) FILTER (WHERE sale IS NOT NULL AND cost IS NOT NULL) AS sale,
           sum(cost) FILTER (WHERE sale IS NOT NULL AND cost IS NOT NULL) AS sale_cost,
           sum(distribution) FILTER (WHERE distribution IS NOT NULL AND cost IS NOT NULL) AS distribution,
           sum(cost) FILTER (WHERE distribution IS NOT NULL AND cost IS NOT NULL) AS distribution_cost
      FROM keyed
     WHERE $5::text <> 'sku'
     GROUP BY gid, label, currency
), labelled AS (
    SELECT coalesce(t.label,
                    CASE $5::text
                        WHEN 'category' THEN (SELECT c.code::text FROM categories c WHERE c.id = t.gid)
                        WHEN 'role' THEN (SELECT r.code::text FROM roles r WHERE r.id = t.gid)
                        WHEN 'series' THEN (SELECT se.code::text FROM series se WHERE se.id = t.gid)
                    END) AS grp,
           t.*
      FROM totals t
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
      FROM merch_prices_in_force(NULL) f
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
-- Per role (every role) and per series of the subtree: products, and over days $4..$5 qty, revenue, cost
-- (qty × cost price in force on the day, where there is one) and margin, with shares of the subtree totals.
WITH scope AS (
    SELECT * FROM merch_report_products($1::ltree, $2::bigint, $3::bigint)
), per_sku AS (
    SELECT so.sku_id, so.currency, sum(so.qty) AS qty, sum(so.revenue) AS revenue,
           sum(so.costed_revenue) AS costed_revenue, sum(so.cost) AS cost
      FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $6::boolean) so
     GROUP BY so.sku_id, so.currency
), per_product AS (
    SELECT s.product_id, ps.currency, sum(ps.qty) AS qty, sum(ps.revenue) AS revenue,
           sum(ps.costed_revenue) AS costed_revenue, sum(ps.cost) AS cost
      FROM per_sku ps
      JOIN skus s ON s.id = ps.sku_id
     GROUP BY s.product_id, ps.currency
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
), sold AS (
    SELECT 'role' AS dimension, p.role_id AS gid, pp.currency, sum(pp.qty) AS qty, sum(pp.revenue) AS revenue,
           sum(pp.costed_revenue) AS costed_revenue, sum(pp.cost) AS cost
      FROM per_product pp JOIN products p ON p.id = pp.product_id
     GROUP BY p.role_id, pp.currency
    UNION ALL
    SELECT 'series', ps.series_id, pp.currency, sum(pp.qty), sum(pp.revenue), sum(pp.costed_revenue), sum(pp.cost)
      FROM per_product pp LEFT JOIN product_series ps ON ps.product_id = pp.product_id
     GROUP BY ps.series_id, pp.currency
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
 ORDER BY k.dimension, k.grp NULLS LAST, s.currency NULLS LAST;

-- name: list_abc :many
-- SKUs ranked by revenue over days $4..$5 per currency, classed by the cumulative share before each one:
-- the class whose cumulative upper bound ($6, ascending, last 100) is the first above it.
WITH per_sku AS (
    SELECT so.sku_id, so.currency, sum(so.qty) AS qty, sum(so.revenue) AS revenue,
           sum(so.costed_revenue) AS costed_revenue, sum(so.cost) AS cost
      FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $8::boolean) so
     GROUP BY so.sku_id, so.currency
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
-- Products ranked by the weighted score ($6: volume, margin, appeal, value weights) of their components over
-- days $4..$5 (value and margin in currency $7), each normalised min-max to 0..1 within the result.
WITH scope AS (
    SELECT * FROM merch_report_products($1::ltree, $2::bigint, $3::bigint)
), per_sku AS (
    SELECT sa.sku_id, sum(sa.qty)::bigint AS qty,
           sum(sa.revenue) FILTER (WHERE sa.currency = $7::text) AS revenue,
           sum(sa.costed_revenue) FILTER (WHERE sa.currency = $7::text) AS costed_revenue,
           sum(sa.cost) FILTER (WHERE sa.currency = $7::text) AS cost
      FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $9::boolean) sa
     GROUP BY sa.sku_id
), sold AS (
    SELECT s.product_id, sum(ps.qty)::bigint AS qty, sum(ps.revenue) AS revenue,
           sum(ps.costed_revenue) AS costed_revenue, sum(ps.cost) AS cost
      FROM per_sku ps
      JOIN skus s ON s.id = ps.sku_id
     GROUP BY s.product_id
), components AS (
    SELECT sp.code AS product,
           coalesce(so.qty, 0) AS volume,
           round((so.costed_revenue - so.cost) / nullif(so.costed_revenue, 0) * 100, 2) AS margin_pct,
           -- the listing share (0 for a product never computed) plus a quarter per quality tag, at most 1
           least(1, coalesce(pc.listing_share, 0)
                    + 0.25 * (('famous' = ANY (sp.quality_tags))::int + ('specialty' = ANY (sp.quality_tags))::int
                              + ('quality' = ANY (sp.quality_tags))::int + ('new' = ANY (sp.quality_tags))::int))
             AS appeal,
           coalesce(so.revenue, 0) AS value
      FROM scope sp
      LEFT JOIN sold so ON so.product_id = sp.id
      LEFT JOIN product_completeness pc ON pc.product_id = sp.id
), bounds AS (
    SELECT c.*,
           min(volume) OVER () AS v_min, max(volume) OVER () AS v_max,
           min(margin_pct) OVER () AS m_min, max(margin_pct) OVER () AS m_max,
           min(appeal) OVER () AS a_min, max(appeal) OVER () AS a_max,
           min(value) OVER () AS x_min, max(value) OVER () AS x_max
      FROM components c
), normalised AS (
    -- a component equal on every line normalises to 1; a line without a margin scores 0 on it
    SELECT b.product, b.volume, b.margin_pct, b.appeal, b.value,
           coalesce((b.volume - b.v_min)::numeric / nullif(b.v_max - b.v_min, 0), 1) AS volume_score,
           CASE WHEN b.margin_pct IS NULL THEN 0
                ELSE coalesce((b.margin_pct - b.m_min) / nullif(b.m_max - b.m_min, 0), 1) END AS margin_score,
           coalesce((b.appeal - b.a_min) / nullif(b.a_max - b.a_min, 0), 1) AS appeal_score,
           coalesce((b.value - b.x_min) / nullif(b.x_max - b.x_min, 0), 1) AS value_score
      FROM bounds b
), scored AS (
    SELECT n.*,
           n.volume_score * ($6::numeric[])[1] + n.margin_score * ($6::numeric[])[2]
             + n.appeal_score * ($6::numeric[])[3] + n.value_score * ($6::numeric[])[4] AS score
      FROM normalised n
)
SELECT (row_number() OVER (ORDER BY t.score DESC, t.product))::integer AS rank,
       t.product, t.volume, t.margin_pct, t.appeal, t.value, t.volume_score, t.margin_score, t.appeal_score,
       t.value_score, t.score
  FROM (
    -- the first $8 lines only (a top-N sort), numbered afterwards: the same ranks as numbering every line
    SELECT s.product, s.volume::bigint AS volume, s.margin_pct, round(s.appeal, 4) AS appeal, s.value,
           round(s.volume_score, 4) AS volume_score, round(s.margin_score, 4) AS margin_score,
           round(s.appeal_score, 4) AS appeal_score, round(s.value_score, 4) AS value_score,
           round(s.score, 4) AS score
      FROM scored s
     ORDER BY round(s.score, 4) DESC, s.product
     LIMIT $8::integer
  ) t
 ORDER BY rank;

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
   AND ($4::date IS NULL OR m.created_at >= $4::date::timestamp AT TIME ZONE 'UTC')
   AND ($5::date IS NULL OR m.created_at < ($5::date + 1)::timestamp AT TIME ZONE 'UTC')
 GROUP BY 1, m.supplier, m.currency
 ORDER BY 1, m.supplier NULLS LAST, m.currency
 LIMIT $6::integer;

-- name: list_receivables :many
-- Accrued receivables: distribution-channel facts on days $4..$5 at qty × the distribution price in force
-- on the day (in the fact's currency), per month and currency; qty without such a price is counted apart.
SELECT to_char(so.month, 'YYYY-MM') AS month, so.currency, sum(so.facts)::integer AS facts,
       sum(so.qty)::bigint AS qty, sum(so.distribution_value) AS amount, sum(so.unpriced_qty)::bigint AS unpriced_qty
  FROM merch_report_sku_sales($1::ltree, $2::bigint, $3::bigint, $4::date, $5::date, $7::boolean, 'distribution') so
 GROUP BY so.month, so.currency
 ORDER BY so.month, so.currency
 LIMIT $6::integer;
