-- name: list_trees :many
-- Category trees in code order, after a keyset cursor.
SELECT code, labels, level_names, version, created_at, updated_at
  FROM category_trees
 WHERE code > coalesce($1::text, '')
 ORDER BY code
 LIMIT $2::integer;

-- name: get_tree :one
-- One category tree by code.
SELECT code, labels, level_names, version, created_at, updated_at
  FROM category_trees
 WHERE code = $1::text;

-- name: lock_tree :one
-- One category tree by code, locked for update.
SELECT id, code, labels, level_names, version, created_at, updated_at
  FROM category_trees
 WHERE code = $1::text
   FOR UPDATE;

-- name: insert_tree :one
-- Create a category tree; no row back means the code is taken.
INSERT INTO category_trees (code, labels, level_names)
VALUES ($1::text, $2::jsonb, $3::text[])
ON CONFLICT (code) DO NOTHING
RETURNING code, labels, level_names, version, created_at, updated_at;

-- name: update_tree :one
-- Replace a tree's fields and bump its version.
UPDATE category_trees
   SET labels = $2::jsonb, level_names = $3::text[], version = version + 1, updated_at = now()
 WHERE code = $1::text
RETURNING code, labels, level_names, version, created_at, updated_at;

-- name: delete_tree :exec
-- Delete a category tree (its categories are refused by the foreign key).
DELETE FROM category_trees WHERE code = $1::text;

-- name: get_tree_depth :val
-- The depth of the deepest category of a tree (0 when it has none).
SELECT coalesce(max(nlevel(c.path)), 0)
  FROM categories c JOIN category_trees t ON t.id = c.tree_id
 WHERE t.code = $1::text;

-- name: list_tree_category_codes :many
-- A few category codes of a tree, to name what blocks its deletion.
SELECT c.code
  FROM categories c JOIN category_trees t ON t.id = c.tree_id
 WHERE t.code = $1::text
 ORDER BY c.code
 LIMIT $2::integer;
