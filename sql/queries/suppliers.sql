-- name: list_suppliers :many
-- Suppliers in code order, optionally of one type and only active (or inactive) ones, after a keyset cursor.
SELECT code, type, labels, contacts, active, version, created_at, updated_at
  FROM suppliers
 WHERE ($1::text IS NULL OR type = $1)
   AND ($2::boolean IS NULL OR active = $2)
   AND code > coalesce($3::text, '')
 ORDER BY code
 LIMIT $4::integer;

-- name: get_supplier :one
-- One supplier by code.
SELECT code, type, labels, contacts, active, version, created_at, updated_at
  FROM suppliers
 WHERE code = $1::text;

-- name: lock_supplier :one
-- One supplier by code, locked for a change of its fields (terms that only key-share it are not held up).
SELECT id, code, type, labels, contacts, active, version, created_at, updated_at
  FROM suppliers
 WHERE code = $1::text
   FOR NO KEY UPDATE;

-- name: lock_supplier_for_delete :one
-- One supplier by code, locked against new terms that would come to reference it.
SELECT id, code, type, labels, contacts, active, version, created_at, updated_at
  FROM suppliers
 WHERE code = $1::text
   FOR UPDATE;

-- name: lock_supplier_key :one
-- A supplier's id, type and activity, key-share locked so that it cannot be deleted before this transaction ends.
SELECT id, code, type, active
  FROM suppliers
 WHERE code = $1::text
   FOR KEY SHARE;

-- name: insert_supplier :one
-- Create a supplier; no row back means the code is taken.
INSERT INTO suppliers (code, type, labels, contacts, active)
VALUES ($1::text, $2::text, $3::jsonb, $4::jsonb, $5::boolean)
ON CONFLICT (code) DO NOTHING
RETURNING code, type, labels, contacts, active, version, created_at, updated_at;

-- name: update_supplier :one
-- Replace a supplier's fields and bump its version.
UPDATE suppliers
   SET type = $2::text, labels = $3::jsonb, contacts = $4::jsonb, active = $5::boolean,
       version = version + 1, updated_at = now()
 WHERE id = $1::bigint
RETURNING code, type, labels, contacts, active, version, created_at, updated_at;

-- name: delete_supplier :exec
-- Delete a supplier (terms naming it are refused by the foreign key).
DELETE FROM suppliers WHERE id = $1::bigint;

-- name: list_supplier_product_codes :many
-- A few codes of products a supplier has terms for, to name what blocks its deletion.
SELECT p.code
  FROM product_suppliers ps
  JOIN products p ON p.id = ps.product_id
 WHERE ps.supplier_id = $1::bigint
 ORDER BY p.code
 LIMIT $2::integer;

-- name: get_product_id :val
-- A product's id by code.
SELECT id FROM products WHERE code = $1::text;

-- name: lock_product_for_terms :val
-- A product's id by code, locked: supplier-terms writes of one product take turns (one preferred supplier).
SELECT id
  FROM products
 WHERE code = $1::text
   FOR NO KEY UPDATE;

-- name: list_terms :many
-- A product's supplier terms in supplier code order, after a keyset cursor.
SELECT p.code AS product, s.code AS supplier, s.type AS supplier_type, s.active AS supplier_active,
       ps.purchase_price, ps.currency, ps.moq, ps.lead_time_days, ps.preferred, ps.version,
       ps.created_at, ps.updated_at
  FROM product_suppliers ps
  JOIN products p ON p.id = ps.product_id
  JOIN suppliers s ON s.id = ps.supplier_id
 WHERE ps.product_id = $1::bigint
   AND s.code > coalesce($2::text, '')
 ORDER BY s.code
 LIMIT $3::integer;

-- name: list_ranked_terms :many
-- A product's supplier terms in sourcing order, after a keyset cursor: active suppliers by tier, currency,
-- purchase price, lead time and code, then the inactive ones by code (their other sort keys are constants).
WITH ranked AS (
    SELECT p.code AS product, s.code AS supplier, s.type AS supplier_type, s.active AS supplier_active,
           ps.purchase_price, ps.currency, ps.moq, ps.lead_time_days, ps.preferred, ps.version,
           ps.created_at, ps.updated_at,
           NOT s.active AS k_inactive,
           CASE WHEN s.active
                THEN array_position(ARRAY['manufacturer', 'agent', 'wholesaler', 'trading_company'], s.type)
                ELSE 0 END AS k_tier,
           CASE WHEN s.active THEN ps.currency ELSE '' END AS k_currency,
           CASE WHEN s.active THEN ps.purchase_price ELSE 0 END AS k_price,
           CASE WHEN s.active THEN ps.lead_time_days ELSE 0 END AS k_lead_time
      FROM product_suppliers ps
      JOIN products p ON p.id = ps.product_id
      JOIN suppliers s ON s.id = ps.supplier_id
     WHERE ps.product_id = $1::bigint
)
SELECT product, supplier, supplier_type, supplier_active, purchase_price, currency, moq, lead_time_days,
       preferred, version, created_at, updated_at, k_inactive, k_tier, k_currency, k_price, k_lead_time
  FROM ranked
 WHERE $2::boolean IS NULL
    OR (k_inactive, k_tier, k_currency, k_price, k_lead_time, supplier)
       > ($2, $3::integer, $4::text, $5::numeric, $6::integer, $7::text)
 ORDER BY k_inactive, k_tier, k_currency, k_price, k_lead_time, supplier
 LIMIT $8::integer;

-- name: get_terms :one
-- One product's terms with one supplier.
SELECT p.code AS product, s.code AS supplier, s.type AS supplier_type, s.active AS supplier_active,
       ps.purchase_price, ps.currency, ps.moq, ps.lead_time_days, ps.preferred, ps.version,
       ps.created_at, ps.updated_at
  FROM product_suppliers ps
  JOIN products p ON p.id = ps.product_id
  JOIN suppliers s ON s.id = ps.supplier_id
 WHERE p.code = $1::text AND s.code = $2::text;

-- name: lock_terms :one
-- One product's terms with one supplier, locked for update (after the product: products are locked first).
SELECT ps.product_id, ps.supplier_id, p.code AS product, s.code AS supplier, s.type AS supplier_type,
       s.active AS supplier_active, ps.purchase_price, ps.currency, ps.moq, ps.lead_time_days, ps.preferred,
       ps.version, ps.created_at, ps.updated_at
  FROM product_suppliers ps
  JOIN products p ON p.id = ps.product_id
  JOIN suppliers s ON s.id = ps.supplier_id
 WHERE ps.product_id = $1::bigint AND s.code = $2::text
   FOR UPDATE OF ps;

-- name: insert_terms :one
-- Create a product's terms with a supplier; no row back means the pair has terms already.
WITH created AS (
    INSERT INTO product_suppliers (product_id, supplier_id, purchase_price, currency, moq, lead_time_days, preferred)
    VALUES ($1::bigint, $2::bigint, $3::numeric, $4::text, $5::integer, $6::integer, $7::boolean)
    ON CONFLICT (product_id, supplier_id) DO NOTHING
    RETURNING product_id, supplier_id, purchase_price, currency, moq, lead_time_days, preferred, version,
              created_at, updated_at
)
SELECT p.code AS product, s.code AS supplier, s.type AS supplier_type, s.active AS supplier_active,
       c.purchase_price, c.currency, c.moq, c.lead_time_days, c.preferred, c.version, c.created_at, c.updated_at
  FROM created c
  JOIN products p ON p.id = c.product_id
  JOIN suppliers s ON s.id = c.supplier_id;

-- name: update_terms :one
-- Replace a product's terms with a supplier and bump their version.
UPDATE product_suppliers ps
   SET purchase_price = $3::numeric, currency = $4::text, moq = $5::integer, lead_time_days = $6::integer,
       preferred = $7::boolean, version = ps.version + 1, updated_at = now()
  FROM products p, suppliers s
 WHERE ps.product_id = $1::bigint AND ps.supplier_id = $2::bigint AND p.id = ps.product_id AND s.id = ps.supplier_id
RETURNING p.code AS product, s.code AS supplier, s.type AS supplier_type, s.active AS supplier_active,
          ps.purchase_price, ps.currency, ps.moq, ps.lead_time_days, ps.preferred, ps.version,
          ps.created_at, ps.updated_at;

-- name: update_terms_unprefer :many
-- Un-prefer a product's preferred supplier other than the one named (at most one, by the partial unique
-- index), bumping its version; answers it as it was before and after.
WITH previous AS (
    SELECT ps.product_id, ps.supplier_id, ps.purchase_price, ps.currency, ps.moq, ps.lead_time_days,
           ps.preferred, ps.version, ps.created_at, ps.updated_at
      FROM product_suppliers ps
     WHERE ps.product_id = $1::bigint AND ps.preferred AND ps.supplier_id <> $2::bigint
       FOR UPDATE
), changed AS (
    UPDATE product_suppliers ps
       SET preferred = false, version = ps.version + 1, updated_at = now()
      FROM previous
     WHERE ps.product_id = previous.product_id AND ps.supplier_id = previous.supplier_id
    RETURNING ps.supplier_id, ps.version, ps.updated_at
)
SELECT p.code AS product, s.code AS supplier, s.type AS supplier_type, s.active AS supplier_active,
       pr.purchase_price, pr.currency, pr.moq, pr.lead_time_days, pr.version, pr.created_at, pr.updated_at,
       c.version AS new_version, c.updated_at AS new_updated_at
  FROM previous pr
  JOIN changed c ON c.supplier_id = pr.supplier_id
  JOIN products p ON p.id = pr.product_id
  JOIN suppliers s ON s.id = pr.supplier_id
 ORDER BY s.code;

-- name: delete_terms :exec
-- Delete a product's terms with a supplier.
DELETE FROM product_suppliers WHERE product_id = $1::bigint AND supplier_id = $2::bigint;
