-- name: get_price_sku :one
-- A SKU by its code: its id and product.
SELECT s.id, s.sku, s.product_id FROM skus s WHERE s.sku = $1::text;

-- name: lock_price_product :one
-- The product of a SKU, locked first (SKU writes of one product take turns, product before SKU).
SELECT p.id
  FROM products p
 WHERE p.id = (SELECT s.product_id FROM skus s WHERE s.sku = $1::text)
   FOR NO KEY UPDATE;

-- name: lock_price_sku :one
-- A SKU locked for a price write (its prices change one writer at a time), with the transaction's now().
SELECT s.id, s.sku, s.product_id, now() AS now
  FROM skus s
 WHERE s.sku = $1::text
   FOR NO KEY UPDATE;

-- name: list_prices :many
-- A SKU's prices of some kinds, newest valid_from first, optionally of one currency or in force at a moment;
-- with the correction that last set each one's bounds or amount.
SELECT p.id, p.kind, p.amount, p.currency, p.valid_from, p.valid_to,
       c.id AS correction_id, c.created_at AS corrected_at, c.actor AS corrected_by, c.reason AS correction_reason
  FROM prices p
  LEFT JOIN price_corrections c ON c.id = p.correction_id
 WHERE p.sku_id = $1::bigint
   AND p.kind = ANY($2::text[])
   AND ($3::text IS NULL OR p.currency = $3::text)
   AND p.valid_from <= coalesce($4::timestamptz, 'infinity')
   AND ($4::timestamptz IS NULL OR p.valid_to IS NULL OR p.valid_to > $4::timestamptz)
   AND (p.valid_from, p.id) < (coalesce($5::timestamptz, 'infinity'), coalesce($6::bigint, 9223372036854775807))
 ORDER BY p.valid_from DESC, p.id DESC
 LIMIT $7::integer;

-- name: list_overlapping_prices :many
-- Prices of a SKU, kind and currency whose period overlaps [$4, $5) (a null end is open), earliest first.
SELECT p.id, p.kind, p.amount, p.currency, p.valid_from, p.valid_to
  FROM prices p
 WHERE p.sku_id = $1::bigint AND p.kind = $2::text AND p.currency = $3::text
   AND tstzrange(p.valid_from, p.valid_to) && tstzrange($4::timestamptz, $5::timestamptz)
 ORDER BY p.valid_from, p.id;

-- name: update_price_valid_to :one
-- Close an open-ended price period at a moment; no row back means it was closed meanwhile.
UPDATE prices
   SET valid_to = $2::timestamptz
 WHERE id = $1::bigint AND valid_to IS NULL
RETURNING id, kind, amount, currency, valid_from, valid_to;

-- name: insert_price :one
-- Record a price period of a SKU, optionally as set by a correction (the EXCLUDE constraint refuses an overlap).
INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor, correction_id)
VALUES ($1::bigint, $2::text, $3::text, $4::numeric, $5::timestamptz, $6::timestamptz, $7::text, $8::bigint)
RETURNING id, kind, amount, currency, valid_from, valid_to;

-- name: update_price_period :one
-- Give a price period new bounds, as a correction sets them.
UPDATE prices
   SET valid_from = $2::timestamptz, valid_to = $3::timestamptz, correction_id = $4::bigint
 WHERE id = $1::bigint
RETURNING id, kind, amount, currency, valid_from, valid_to;

-- name: delete_prices :exec
-- Remove price periods a correction replaces.
DELETE FROM prices WHERE id = ANY ($1::bigint[]);

-- name: insert_price_correction :one
-- Record a correction of a SKU's price periods (the periods after it are added once written).
INSERT INTO price_corrections (sku_id, kind, currency, amount, valid_from, valid_to, reason, actor, before, after)
VALUES ($1::bigint, $2::text, $3::text, $4::numeric, $5::timestamptz, $6::timestamptz, $7::text, $8::text,
        $9::jsonb, '[]'::jsonb)
RETURNING id, created_at;

-- name: update_price_correction :exec
-- Record the periods a correction left.
UPDATE price_corrections SET after = $2::jsonb WHERE id = $1::bigint;

-- name: list_price_corrections :many
-- A SKU's price corrections, newest first, after a keyset cursor (id).
SELECT c.id, c.kind, c.currency, c.amount, c.valid_from, c.valid_to, c.reason, c.actor, c.created_at, c.before,
       c.after
  FROM price_corrections c
 WHERE c.sku_id = $1::bigint
   AND c.id < coalesce($2::bigint, 9223372036854775807)
 ORDER BY c.id DESC
 LIMIT $3::integer;

-- name: list_product_prices :many
-- Every price of some products' ($1) SKUs for the stage views, flagged when in force now, per product
-- newest first per SKU.
SELECT s.product_id, s.sku, p.kind, p.amount, p.currency, p.valid_from, p.valid_to,
       (p.valid_from <= now() AND (p.valid_to IS NULL OR p.valid_to > now())) AS in_force
  FROM prices p
  JOIN skus s ON s.id = p.sku_id
 WHERE s.product_id = ANY ($1::bigint[])
 ORDER BY s.product_id, s.sku, p.valid_from DESC, p.kind, p.currency;
