-- name: list_promotions :many
-- Promotions in code order after a keyset cursor, optionally only those running (and active) at a moment.
SELECT pr.code, pr.labels, pr.starts_at, pr.ends_at, pr.active, pr.version, pr.created_at, pr.updated_at,
       CASE WHEN pr.spend_amount IS NOT NULL
            THEN jsonb_build_object('amount', pr.spend_amount::text, 'currency', pr.spend_currency,
                                    'channel', pr.spend_channel) END AS spend,
       pr.baseline_days,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('sku', s.sku, 'amount', pi.price::text,
                                                     'currency', pi.currency) ORDER BY s.sku), '[]')
          FROM promotion_items pi JOIN skus s ON s.id = pi.sku_id
         WHERE pi.promotion_id = pr.id) AS items
  FROM promotions pr
 WHERE pr.code > coalesce($1::text, '')
   AND ($2::timestamptz IS NULL OR (pr.active AND pr.starts_at <= $2::timestamptz AND pr.ends_at > $2::timestamptz))
 ORDER BY pr.code
 LIMIT $3::integer;

-- name: get_promotion :one
-- One promotion by code, with its items in SKU order.
SELECT pr.code, pr.labels, pr.starts_at, pr.ends_at, pr.active, pr.version, pr.created_at, pr.updated_at,
       CASE WHEN pr.spend_amount IS NOT NULL
            THEN jsonb_build_object('amount', pr.spend_amount::text, 'currency', pr.spend_currency,
                                    'channel', pr.spend_channel) END AS spend,
       pr.baseline_days,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('sku', s.sku, 'amount', pi.price::text,
                                                     'currency', pi.currency) ORDER BY s.sku), '[]')
          FROM promotion_items pi JOIN skus s ON s.id = pi.sku_id
         WHERE pi.promotion_id = pr.id) AS items
  FROM promotions pr
 WHERE pr.code = $1::text;

-- name: lock_promotion :one
-- One promotion's id and version by code, locked for update.
SELECT id, code, version FROM promotions WHERE code = $1::text FOR UPDATE;

-- name: insert_promotion :one
-- Create a promotion; no row back means the code is taken.
INSERT INTO promotions (code, labels, starts_at, ends_at, active, spend_amount, spend_currency, spend_channel,
                        baseline_days)
VALUES ($1::text, $2::jsonb, $3::timestamptz, $4::timestamptz, $5::boolean, $6::numeric, $7::text, $8::text,
        $9::integer)
ON CONFLICT (code) DO NOTHING
RETURNING id;

-- name: update_promotion :exec
-- Replace a promotion's fields and bump its version.
UPDATE promotions
   SET labels = $2::jsonb, starts_at = $3::timestamptz, ends_at = $4::timestamptz, active = $5::boolean,
       spend_amount = $6::numeric, spend_currency = $7::text, spend_channel = $8::text, baseline_days = $9::integer,
       version = version + 1, updated_at = now()
 WHERE id = $1::bigint;

-- name: delete_promotion_items :exec
-- Remove every item of a promotion (before writing its new list).
DELETE FROM promotion_items WHERE promotion_id = $1::bigint;

-- name: insert_promotion_items :exec
-- Write a promotion's items at once from parallel arrays of SKU ids, prices and currencies.
INSERT INTO promotion_items (promotion_id, sku_id, price, currency)
SELECT $1::bigint, x.sku_id, x.price, x.currency
  FROM unnest($2::bigint[], $3::numeric[], $4::text[]) AS x (sku_id, price, currency)
 ORDER BY x.sku_id;

-- name: delete_promotion :exec
-- Delete a promotion (its items go with it).
DELETE FROM promotions WHERE id = $1::bigint;

-- name: list_sku_ids :many
-- The ids of the SKUs among these codes that exist.
SELECT id, sku FROM skus WHERE sku = ANY($1::text[]) ORDER BY sku;

-- name: list_product_promotions :many
-- Active promotions running now that cover some products' ($1) SKUs, one row per SKU item, per product
-- soonest ending first.
SELECT s.product_id, pr.code, pr.labels, pr.starts_at, pr.ends_at, s.sku, pi.price, pi.currency
  FROM promotions pr
  JOIN promotion_items pi ON pi.promotion_id = pr.id
  JOIN skus s ON s.id = pi.sku_id
 WHERE s.product_id = ANY ($1::bigint[]) AND pr.active AND pr.starts_at <= now() AND pr.ends_at > now()
 ORDER BY s.product_id, pr.ends_at, pr.code, s.sku;

-- name: list_shopper_prices :many
-- Per SKU the lowest of its sale price in force at $2 and the prices of active promotions running then in
-- that currency (the sale price wins a tie); only currency $3 when given, else the first currency by code.
WITH sale AS (
    SELECT p.sku_id, p.amount, p.currency
      FROM prices p
     WHERE p.sku_id = ANY($1::bigint[]) AND p.kind = 'sale'
       AND p.valid_from <= $2::timestamptz AND (p.valid_to IS NULL OR p.valid_to > $2::timestamptz)
       AND ($3::text IS NULL OR p.currency = $3::text)
), candidates AS (
    SELECT sale.sku_id, sale.amount, sale.currency, 'sale' AS source, 0 AS rank
      FROM sale
    UNION ALL
    SELECT pi.sku_id, pi.price, pi.currency, 'promotion:' || pr.code, 1
      FROM promotion_items pi
      JOIN promotions pr ON pr.id = pi.promotion_id
      JOIN sale ON sale.sku_id = pi.sku_id AND sale.currency = pi.currency
     WHERE pr.active AND pr.starts_at <= $2::timestamptz AND pr.ends_at > $2::timestamptz
)
SELECT DISTINCT ON (sku_id) sku_id, amount, currency, source
  FROM candidates
 ORDER BY sku_id, currency, amount, rank, source;
