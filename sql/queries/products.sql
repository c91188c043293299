-- name: list_products :many
-- Products in code order after a keyset cursor, filtered by subtree, role, series, lifecycle and attributes;
-- confidential attribute values only with $10.
SELECT p.code, c.code AS category,
       ARRAY(SELECT pc.code FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
              WHERE pp.product_id = p.id ORDER BY pc.code) AS categories,
       r.code AS role,
       ARRAY(SELECT s.code FROM product_series ps JOIN series s ON s.id = ps.series_id
              WHERE ps.product_id = p.id ORDER BY s.code) AS series,
       p.labels, p.description, p.selling_points, p.images, p.quality_tags,
       merch_visible_attributes(p.attributes, $10::boolean) AS attributes,
       p.lifecycle, p.version, p.created_at, p.updated_at
  FROM products p
  JOIN categories c ON c.id = p.category_id
  JOIN roles r ON r.id = p.role_id
 WHERE ($1::ltree IS NULL
        OR c.path <@ $1
        OR EXISTS (SELECT 1 FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
                    WHERE pp.product_id = p.id AND pc.path <@ $1))
   AND ($2::bigint IS NULL OR p.role_id = $2)
   AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM product_series ps
                                       WHERE ps.product_id = p.id AND ps.series_id = $3))
   AND ($4::text IS NULL OR p.lifecycle = $4)
   -- containment uses products_attributes_idx (jsonb_path_ops)
   AND ($5::jsonb IS NULL OR p.attributes @> $5)
   -- decimals compare as numbers ("12.5" equals "12.50"); a stored non-number never matches
   AND NOT EXISTS (SELECT 1 FROM unnest($6::text[], $7::numeric[]) AS d(code, value)
                    WHERE CASE WHEN p.attributes ->> d.code ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$'
                               THEN (p.attributes ->> d.code)::numeric <> d.value
                               ELSE true END)
   AND p.code > coalesce($8::text, '')
 ORDER BY p.code
 LIMIT $9::integer;

-- name: get_product :one
-- One product by code, with its home category, placements, role and series by code; confidential attribute
-- values only with $2.
SELECT p.id, p.category_id, p.code, c.code AS category,
       ARRAY(SELECT pc.code FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
              WHERE pp.product_id = p.id ORDER BY pc.code) AS categories,
       r.code AS role,
       ARRAY(SELECT s.code FROM product_series ps JOIN series s ON s.id = ps.series_id
              WHERE ps.product_id = p.id ORDER BY s.code) AS series,
       p.labels, p.description, p.selling_points, p.images, p.quality_tags,
       merch_visible_attributes(p.attributes, $2::boolean) AS attributes,
       p.lifecycle, p.version, p.created_at, p.updated_at
  FROM products p
  JOIN categories c ON c.id = p.category_id
  JOIN roles r ON r.id = p.role_id
 WHERE p.code = $1::text;

-- name: lock_product :one
-- One product by code, locked for update, in the same shape as get_product.
SELECT p.id, p.category_id, p.code, c.code AS category,
       ARRAY(SELECT pc.code FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
              WHERE pp.product_id = p.id ORDER BY pc.code) AS categories,
       r.code AS role,
       ARRAY(SELECT s.code FROM product_series ps JOIN series s ON s.id = ps.series_id
              WHERE ps.product_id = p.id ORDER BY s.code) AS series,
       p.labels, p.description, p.selling_points, p.images, p.quality_tags, p.attributes,
       p.lifecycle, p.version, p.created_at, p.updated_at
  FROM products p
  JOIN categories c ON c.id = p.category_id
  JOIN roles r ON r.id = p.role_id
 WHERE p.code = $1::text
   FOR UPDATE OF p;

-- name: list_categories_by_code :many
-- The categories among some codes, with their tree and path (to resolve a product's home and placements).
SELECT c.code, c.id, c.tree_id, t.code AS tree, c.path
  FROM categories c JOIN category_trees t ON t.id = c.tree_id
 WHERE c.code = ANY($1::text[])
 ORDER BY c.code;

-- name: get_category_path :val
-- The ltree path of one category (to filter by its subtree).
SELECT path FROM categories WHERE code = $1::text;

-- name: get_role_id :val
-- The id of one product role by code.
SELECT id FROM roles WHERE code = $1::text;

-- name: list_series_by_code :many
-- The series among some codes, with their ids.
SELECT code, id
  FROM series
 WHERE code = ANY($1::text[])
 ORDER BY code;

-- name: list_attributes_by_code :many
-- Attribute definitions among some codes, with option codes (to convert `?attr=` filter values).
SELECT a.code, a.type, a.visibility, a.validation,
       ARRAY(SELECT o.code FROM attribute_options o WHERE o.attribute_id = a.id ORDER BY o.code) AS options
  FROM attributes a
 WHERE a.code = ANY($1::text[])
 ORDER BY a.code;

-- name: insert_product :one
-- Create a product (lifecycle draft); no row back means the code is taken.
INSERT INTO products (code, category_id, role_id, labels, description, selling_points, images, quality_tags,
                      attributes)
VALUES ($1::text, $2::bigint, $3::bigint, $4::jsonb, $5::jsonb, $6::jsonb, $7::text[], $8::text[], $9::jsonb)
ON CONFLICT (code) DO NOTHING
RETURNING id;

-- name: update_product :exec
-- Replace a product's writable columns and bump its version.
UPDATE products
   SET category_id = $2::bigint, role_id = $3::bigint, labels = $4::jsonb, description = $5::jsonb,
       selling_points = $6::jsonb, images = $7::text[], quality_tags = $8::text[], attributes = $9::jsonb,
       version = version + 1, updated_at = now()
 WHERE id = $1::bigint;

-- name: delete_product_placements :exec
-- Remove every placement of a product (before writing the new ones).
DELETE FROM product_placements WHERE product_id = $1::bigint;

-- name: insert_product_placements :exec
-- Place a product in other trees: parallel arrays of tree ids and category ids.
INSERT INTO product_placements (product_id, tree_id, category_id)
SELECT $1::bigint, u.tree_id, u.category_id
  FROM unnest($2::bigint[], $3::bigint[]) AS u(tree_id, category_id);

-- name: delete_product_series :exec
-- Remove a product from every series (before writing the new ones).
DELETE FROM product_series WHERE product_id = $1::bigint;

-- name: insert_product_series :exec
-- Put a product in some series.
INSERT INTO product_series (product_id, series_id)
SELECT $1::bigint, u.series_id
  FROM unnest($2::bigint[]) AS u(series_id);

-- name: lock_product_skus :many
-- The SKUs of a product, locked in sku order (before the product is deleted with them).
SELECT sku, axes, attributes
  FROM skus
 WHERE product_id = $1::bigint
 ORDER BY sku
   FOR UPDATE;

-- name: delete_product :exec
-- Delete a product; its SKUs, placements and series memberships go with it, other references refuse.
DELETE FROM products WHERE id = $1::bigint;

-- name: get_visible_attributes :val
-- What a caller may see of these attribute values (all of them with $2: confidential ones too).
SELECT merch_visible_attributes($1::jsonb, $2::boolean);
