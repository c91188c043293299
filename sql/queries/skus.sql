-- name: list_product_skus :many
-- The SKUs of one product in sku order, after a keyset cursor.
SELECT s.sku, p.code AS product, s.barcode, s.axes, s.attributes, s.version, s.created_at, s.updated_at
  FROM skus s JOIN products p ON p.id = s.product_id
 WHERE s.product_id = $1::bigint
   AND s.sku > coalesce($2::text, '')
 ORDER BY s.sku
 LIMIT $3::integer;

-- name: get_sku :one
-- One SKU by its code.
SELECT s.id, s.sku, p.code AS product, s.barcode, s.axes, s.attributes, s.version, s.created_at, s.updated_at
  FROM skus s JOIN products p ON p.id = s.product_id
 WHERE s.sku = $1::text;

-- name: lock_sku :one
-- One SKU by its code, locked for update (after its product: products are always locked first).
SELECT s.id, s.product_id, s.sku, p.code AS product, s.barcode, s.axes, s.attributes,
       s.version, s.created_at, s.updated_at
  FROM skus s JOIN products p ON p.id = s.product_id
 WHERE s.sku = $1::text
   FOR UPDATE OF s;

-- name: lock_sku_product :one
-- The product of a SKU (id, code, home category), locked: SKU writes of one product take turns.
SELECT p.id, p.code, p.category_id
  FROM products p
 WHERE p.id = (SELECT s.product_id FROM skus s WHERE s.sku = $1::text)
   FOR NO KEY UPDATE;

-- name: lock_product_for_skus :one
-- A product by code (id, code, home category), locked while one of its SKUs is written.
SELECT id, code, category_id
  FROM products
 WHERE code = $1::text
   FOR NO KEY UPDATE;

-- name: get_product_id :val
-- The id of a product by code.
SELECT id FROM products WHERE code = $1::text;

-- name: get_sku_by_barcode :val
-- The SKU that has a barcode, other than the one named (to name it in a 409).
SELECT sku FROM skus WHERE barcode = $1::text AND sku <> $2::text;

-- name: get_sku_by_axes :val
-- The SKU of a product with exactly these axes, other than the one named (to name it in a 409).
SELECT sku FROM skus WHERE product_id = $1::bigint AND axes = $2::jsonb AND sku <> $3::text;

-- name: insert_sku :one
-- Create a SKU; no row back means the sku code is taken.
INSERT INTO skus (sku, product_id, barcode, axes, attributes)
VALUES ($1::text, $2::bigint, $3::text, $4::jsonb, $5::jsonb)
ON CONFLICT (sku) DO NOTHING
RETURNING id;

-- name: update_sku :exec
-- Replace a SKU's barcode, axes and attribute overrides and bump its version.
UPDATE skus
   SET barcode = $2::text, axes = $3::jsonb, attributes = $4::jsonb, version = version + 1, updated_at = now()
 WHERE id = $1::bigint;

-- name: delete_sku :exec
-- Delete one SKU (references from stock or prices refuse).
DELETE FROM skus WHERE id = $1::bigint;
