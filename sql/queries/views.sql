-- name: get_view_product :one
-- A product with what every stage view draws on: role, home category and its path, series.
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
 WHERE p.code = $1::text;

-- name: list_view_skus :many
-- A product's SKUs for the views.
SELECT id, sku, barcode, axes, attributes FROM skus WHERE product_id = $1::bigint ORDER BY sku;

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
-- Where a product's SKUs lie (bins holding or reserving something), in pick order.
SELECT s.sku, w.code AS warehouse, l.code AS location, l.zone, l.pick_sequence, sl.on_hand, sl.reserved,
       CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END AS available
  FROM stock_levels sl
  JOIN skus s ON s.id = sl.sku_id
  JOIN warehouses w ON w.id = sl.warehouse_id
  JOIN locations l ON l.id = sl.location_id
 WHERE s.product_id = $1::bigint AND (sl.on_hand > 0 OR sl.reserved > 0)
 ORDER BY s.sku, w.code, l.pick_sequence, l.code;

-- name: get_view_trade :one
-- What the purchasing, marketing and finance views read of a product's trade ($1): its active suppliers'
-- terms, ranked (preferred first, then manufacturer > agent > wholesaler > trading company, then code); units
-- sold in all and in the last 30 days ($2: today); the on-hand stock valued at moving-average cost, per
-- currency.
SELECT
    (SELECT jsonb_agg(jsonb_build_object(
                'supplier', s.code, 'labels', s.labels, 'type', s.type, 'preferred', ps.preferred,
                'purchase_price', jsonb_build_object('amount', ps.purchase_price::text, 'currency', ps.currency),
                'moq', ps.moq, 'lead_time_days', ps.lead_time_days)
            ORDER BY ps.preferred DESC, array_position(ARRAY['manufacturer', 'agent', 'wholesaler', 'trading_company'],
                                                         s.type), s.code)
       FROM product_suppliers ps JOIN suppliers s ON s.id = ps.supplier_id
      WHERE ps.product_id = $1::bigint AND s.active) AS terms,
    (SELECT jsonb_build_object('units', sum(t.qty), 'units_last_30_days',
                               (SELECT coalesce(sum(f.qty - f.returned_qty), 0) FROM sales_facts f JOIN skus k ON k.id = f.sku_id
                                 WHERE k.product_id = $1::bigint AND f.day > $2::date - 30))
       FROM sales_sku_totals t JOIN skus k ON k.id = t.sku_id
      WHERE k.product_id = $1::bigint
     HAVING count(*) > 0) AS sales,
    (SELECT jsonb_agg(jsonb_build_object('currency', v.currency, 'amount', round(v.amount, 2)::text, 'units', v.units)
                      ORDER BY v.currency)
       FROM (SELECT c.currency, sum(l.on_hand * c.avg_unit_cost) AS amount, sum(l.on_hand) AS units
               FROM stock_levels l JOIN skus k ON k.id = l.sku_id JOIN sku_costs c ON c.sku_id = l.sku_id
              WHERE k.product_id = $1::bigint AND l.on_hand > 0
              GROUP BY c.currency) v) AS valuation;
