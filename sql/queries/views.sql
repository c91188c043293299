-- name: list_view_products :many
-- Products (by code, $1) with what every stage view draws on: role, home category and its path, series.
SELECT p.id, p.code, p.category_id, p.labels, p.description, p.selling_points, p.images, p.quality_tags,
       p.attributes, p.lifecycle, p.version,
       jsonb_build_object('code', r.code, 'labels', r.labels) AS role,
       jsonb_build_object('code', c.code, 'labels', c.labels) AS category,
       (SELECT jsonb_agg(jsonb_build_object('code', anc.code, 'labels', anc.labels) ORDER BY nlevel(anc.path))
          FROM categories anc WHERE anc.path @> c.path) AS category_path,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('code', s.code, 'labels', s.labels) ORDER BY s.code), '[]')
          FROM product_series ps JOIN series s ON s.id = ps.series_id WHERE ps.product_id = p.id) AS series
  FROM products p
  JOIN roles r ON r.id = p.role_id
  JOIN categories c ON c.id = p.category_id
 WHERE p.code = ANY ($1::text[]);

-- name: list_view_skus :many
-- Some products' ($1) SKUs for the views, per product.
SELECT product_id, id, sku, barcode, axes, attributes FROM skus WHERE product_id = ANY ($1::bigint[])
 ORDER BY product_id, sku;

-- name: lock_product_lifecycle :one
-- A product's lifecycle, locked for a transition.
SELECT id, code, lifecycle, version FROM products WHERE code = $1::text FOR UPDATE;

-- name: update_product_lifecycle :exec
-- Move a product to another lifecycle state.
UPDATE products SET lifecycle = $2::text, version = version + 1, updated_at = now() WHERE id = $1::bigint;

-- name: is_stock_received :val
-- Whether a product has received stock (the extra condition for `stocked`).
SELECT merch_product_has_stock($1::bigint);

-- name: list_skus_without_sale_price :many
-- A product's SKUs with no sale price in force (the extra condition for `listed`); no SKU at all answers one NULL.
SELECT s.sku FROM skus s WHERE s.product_id = $1::bigint AND NOT merch_sku_has_price(s.id, 'sale')
UNION ALL
SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM skus s WHERE s.product_id = $1::bigint)
ORDER BY 1;

-- name: list_view_stock :many
-- Where some products' ($1) SKUs lie (bins holding or reserving something), per product in pick order.
SELECT s.product_id, s.sku, w.code AS warehouse, l.code AS location, l.zone, l.pick_sequence, sl.on_hand,
       sl.reserved, CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END AS available
  FROM stock_levels sl
  JOIN skus s ON s.id = sl.sku_id
  JOIN warehouses w ON w.id = sl.warehouse_id
  JOIN locations l ON l.id = sl.location_id
 WHERE s.product_id = ANY ($1::bigint[]) AND (sl.on_hand > 0 OR sl.reserved > 0)
 ORDER BY s.product_id, s.sku, w.code, l.pick_sequence, l.code;

-- name: list_view_trade :many
-- What the purchasing, marketing and finance views read of some products' trade ($1), per product: its
-- active suppliers' terms, ranked (preferred first, then manufacturer > agent > wholesaler > trading company,
-- then code); units sold in all and in the last 30 days ($2: today); the on-hand stock valued at
-- moving-average cost, per currency.
SELECT x.id AS product_id, d.*
  FROM unnest($1::bigint[]) AS x(id)
 CROSS JOIN LATERAL (
    SELECT
        (SELECT jsonb_agg(jsonb_build_object(
                    'supplier', s.code, 'labels', s.labels, 'type', s.type, 'preferred', ps.preferred,
                    'purchase_price', jsonb_build_object('amount', ps.purchase_price::text, 'currency', ps.currency),
                    'moq', ps.moq, 'lead_time_days', ps.lead_time_days)
                ORDER BY ps.preferred DESC, array_position(ARRAY['manufacturer', 'agent', 'wholesaler', 'trading_company'],
                                                             s.type), s.code)
           FROM product_suppliers ps JOIN suppliers s ON s.id = ps.supplier_id
          WHERE ps.product_id = x.id AND s.active) AS terms,
        (SELECT jsonb_build_object('units', sum(t.qty), 'units_last_30_days',
                                   (SELECT coalesce(sum(f.qty - f.returned_qty), 0) FROM sales_facts f JOIN skus k ON k.id = f.sku_id
                                     WHERE k.product_id = x.id AND f.day > $2::date - 30))
           FROM sales_sku_totals t JOIN skus k ON k.id = t.sku_id
          WHERE k.product_id = x.id
         HAVING count(*) > 0) AS sales,
        (SELECT jsonb_agg(jsonb_build_object('currency', v.currency, 'amount', round(v.amount, 2)::text, 'units', v.units)
                          ORDER BY v.currency)
           FROM (SELECT c.currency, sum(l.on_hand * c.avg_unit_cost) AS amount, sum(l.on_hand) AS units
                   FROM stock_levels l JOIN skus k ON k.id = l.sku_id JOIN sku_costs c ON c.sku_id = l.sku_id
                  WHERE k.product_id = x.id AND l.on_hand > 0
                  GROUP BY c.currency) v) AS valuation) d;

-- name: list_view_category_shares :many
-- Some products' ($1) shares of their home categories over days $2..$3, net of returns, per product: its
-- units against those of every product whose home category is its own (units_share, percent), and per
-- currency its revenue share; read from the rollup and a few days of facts (merch_report_sku_sales: a product
-- whose rows sum to no fact sold nothing), once per home category however many of the products share it.
WITH own AS (
    SELECT p.id, p.category_id FROM products p WHERE p.id = ANY ($1::bigint[])
), homes AS MATERIALIZED (
    SELECT c.id, c.path FROM categories c WHERE c.id IN (SELECT o.category_id FROM own o)
), sold AS MATERIALIZED (
    SELECT h.id AS category_id, s.product_id, so.currency, sum(so.qty) AS qty, sum(so.revenue) AS revenue
      FROM homes h
     CROSS JOIN LATERAL merch_report_sku_sales(h.path, NULL, NULL, $2::date, $3::date, true) so
      JOIN skus s ON s.id = so.sku_id
      JOIN products p ON p.id = s.product_id
     WHERE p.category_id = h.id
     GROUP BY h.id, s.product_id, so.currency
    HAVING sum(so.facts) > 0
), shares AS (
    SELECT o.id, c.currency, sum(c.qty) FILTER (WHERE c.product_id = o.id) AS own_qty, sum(c.qty) AS qty,
           sum(c.revenue) FILTER (WHERE c.product_id = o.id) AS own_revenue, sum(c.revenue) AS revenue
      FROM own o JOIN sold c ON c.category_id = o.category_id
     GROUP BY o.id, c.currency
)
SELECT o.id AS product_id, h.code::text AS category, h.labels,
       (SELECT coalesce(sum(s.own_qty), 0) FROM shares s WHERE s.id = o.id)::bigint AS units,
       (SELECT coalesce(sum(s.qty), 0) FROM shares s WHERE s.id = o.id)::bigint AS category_units,
       (SELECT round(coalesce(sum(s.own_qty), 0) * 100.0 / nullif(sum(s.qty), 0), 2)::text
          FROM shares s WHERE s.id = o.id) AS units_share,
       (SELECT coalesce(jsonb_object_agg(s.currency,
                                         round(coalesce(s.own_revenue, 0) * 100 / nullif(s.revenue, 0), 2)::text),
                        '{}')
          FROM shares s WHERE s.id = o.id) AS revenue_share
  FROM own o JOIN categories h ON h.id = o.category_id;

-- name: list_view_returns :many
-- Some products' ($1) returns over days $2..$3, per product: units sold on those days (the facts, before
-- returns, as the returns report counts them), units that came back on them (UTC), the return rate in percent
-- (null when nothing was sold) and the reasons, most units first (ties by code), each with its share of the
-- returned units.
SELECT x.id AS product_id, d.*
  FROM unnest($1::bigint[]) AS x(id)
 CROSS JOIN LATERAL (
    WITH sold AS (
        SELECT coalesce(sum(f.qty), 0) AS units
          FROM skus s JOIN sales_facts f ON f.sku_id = s.id
         WHERE s.product_id = x.id AND f.day >= $2::date AND f.day <= $3::date
    ), reasons AS (
        SELECT rr.code::text AS reason, rr.labels, sum(r.qty) AS units,
               coalesce(sum(r.qty) FILTER (WHERE r.resellable), 0) AS resellable
          FROM skus s
          JOIN sales_returns r ON r.sku_id = s.id
          JOIN return_reasons rr ON rr.id = r.reason_id
         WHERE s.product_id = x.id AND r.returned_on >= $2::date AND r.returned_on <= $3::date
         GROUP BY rr.code, rr.labels
    ), returned AS (
        SELECT coalesce(sum(units), 0) AS units, coalesce(sum(resellable), 0) AS resellable FROM reasons
    )
    SELECT so.units::bigint AS sold, rt.units::bigint AS returned, rt.resellable::bigint AS resellable,
           round(rt.units * 100.0 / nullif(so.units, 0), 2)::text AS return_rate,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('reason', re.reason, 'labels', re.labels, 'units', re.units,
                                                         'share', round(re.units * 100.0 / rt.units, 2)::text)
                                      ORDER BY re.units DESC, re.reason), '[]')
              FROM reasons re) AS reasons
      FROM sold so CROSS JOIN returned rt) d;
