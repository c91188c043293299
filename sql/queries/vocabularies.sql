-- Statements shared by the vocabularies (series, roles, attribute_groups, return_reasons); `{table}` is one of
-- those constant table names, filled in at import time.

-- name: list_terms :many
-- Terms in code order, after a keyset cursor.
SELECT code, labels, description, version, created_at, updated_at
  FROM {table}
 WHERE code > coalesce($1::text, '')
 ORDER BY code
 LIMIT $2::integer;

-- name: get_term :one
-- One term by code.
SELECT code, labels, description, version, created_at, updated_at
  FROM {table}
 WHERE code = $1::text;

-- name: lock_term :one
-- One term by code, locked for update.
SELECT id, code, labels, description, version, created_at, updated_at
  FROM {table}
 WHERE code = $1::text
   FOR UPDATE;

-- name: insert_term :one
-- Create a term; no row back means the code is taken.
INSERT INTO {table} (code, labels, description)
VALUES ($1::text, $2::jsonb, $3::jsonb)
ON CONFLICT (code) DO NOTHING
RETURNING code, labels, description, version, created_at, updated_at;

-- name: update_term :one
-- Replace a term's fields and bump its version.
UPDATE {table}
   SET labels = $2::jsonb, description = $3::jsonb, version = version + 1, updated_at = now()
 WHERE code = $1::text
RETURNING code, labels, description, version, created_at, updated_at;

-- name: delete_term :exec
-- Delete a term.
DELETE FROM {table} WHERE code = $1::text;

-- name: list_series_references :many
-- Products in a series (a few), to name what blocks its deletion.
SELECT p.code
  FROM product_series ps
  JOIN series s ON s.id = ps.series_id
  JOIN products p ON p.id = ps.product_id
 WHERE s.code = $1::text
 ORDER BY p.code
 LIMIT $2::integer;

-- name: list_role_references :many
-- Products with a role (a few), to name what blocks its deletion.
SELECT p.code
  FROM products p JOIN roles r ON r.id = p.role_id
 WHERE r.code = $1::text
 ORDER BY p.code
 LIMIT $2::integer;

-- name: list_attribute_group_references :many
-- Attributes in a group (a few), to name what blocks its deletion.
SELECT a.code
  FROM attributes a JOIN attribute_groups g ON g.id = a.group_id
 WHERE g.code = $1::text
 ORDER BY a.code
 LIMIT $2::integer;

-- name: list_return_reason_references :many
-- SKUs of returns with a reason (a few), to name what blocks its deletion.
SELECT DISTINCT s.sku::text AS code
  FROM sales_returns r
  JOIN return_reasons rr ON rr.id = r.reason_id
  JOIN skus s ON s.id = r.sku_id
 WHERE rr.code = $1::text
 ORDER BY 1
 LIMIT $2::integer;
