-- name: get_category :one
-- One category by code, with its tree, parent, level name, depth and the codes from its root down.
SELECT c.code, t.code AS tree, p.code AS parent, c.position, c.labels,
       t.level_names[nlevel(c.path)] AS level, nlevel(c.path) AS depth,
       ARRAY(SELECT a.code FROM categories a WHERE a.path @> c.path ORDER BY nlevel(a.path)) AS path,
       c.version, c.created_at, c.updated_at
  FROM categories c
  JOIN category_trees t ON t.id = c.tree_id
  LEFT JOIN categories p ON p.id = c.parent_id
 WHERE c.code = $1::text;

-- name: list_categories :many
-- Categories in (tree code, code) order, of one tree, one parent or roots only, after a keyset cursor.
SELECT c.code, t.code AS tree, p.code AS parent, c.position, c.labels,
       t.level_names[nlevel(c.path)] AS level, nlevel(c.path) AS depth,
       ARRAY(SELECT a.code FROM categories a WHERE a.path @> c.path ORDER BY nlevel(a.path)) AS path,
       c.version, c.created_at, c.updated_at
  FROM categories c
  JOIN category_trees t ON t.id = c.tree_id
  LEFT JOIN categories p ON p.id = c.parent_id
 WHERE ($1::text IS NULL OR t.code = $1)
   AND ($2::bigint IS NULL OR c.parent_id = $2)
   AND (NOT $3::boolean OR c.parent_id IS NULL)
   AND (t.code, c.code) > (coalesce($4::text, ''), coalesce($5::text, ''))
 ORDER BY t.code, c.code
 LIMIT $6::integer;

-- name: get_tree_id :val
-- The id of a category tree by code.
SELECT id FROM category_trees WHERE code = $1::text;

-- name: get_category_tree_id :val
-- The tree id of a category by code (which never changes), to know which tree lock to take.
SELECT tree_id FROM categories WHERE code = $1::text;

-- name: lock_tree_structure :exec
-- Serialise structure changes (create, move, delete) of one tree; taken before any path is read.
SELECT pg_advisory_xact_lock(hashtextextended('category-tree:' || $1::bigint, 0));

-- name: lock_tree_levels :one
-- A tree's level names, share-locked so that its levels cannot shrink under a structure change.
SELECT id, level_names FROM category_trees WHERE id = $1::bigint FOR SHARE;

-- name: lock_category :one
-- A category's internals by code, locked for update, with its tree's level names share-locked.
SELECT c.id, c.tree_id, c.parent_id, c.path::text AS lpath, nlevel(c.path) AS depth, c.position,
       t.level_names
  FROM categories c
  JOIN category_trees t ON t.id = c.tree_id
 WHERE c.code = $1::text
   FOR UPDATE OF c
   FOR SHARE OF t;

-- name: get_parent :one
-- A would-be parent by code: its id, tree, path and depth.
SELECT id, tree_id, path::text AS lpath, nlevel(path) AS depth
  FROM categories
 WHERE code = $1::text;

-- name: count_children :val
-- How many children a parent has in a tree (roots when the parent is null).
SELECT count(*)::integer
  FROM categories
 WHERE tree_id = $1::bigint
   AND (($2::bigint IS NULL AND parent_id IS NULL) OR parent_id = $2);

-- name: get_subtree_height :val
-- How many levels lie below a category (0 for a leaf).
SELECT max(nlevel(path)) - nlevel($1::ltree)
  FROM categories
 WHERE path <@ $1::ltree;

-- name: update_open_gap :exec
-- Shift the siblings at or after a position one place later (optionally not counting one category).
UPDATE categories
   SET position = position + 1
 WHERE tree_id = $1::bigint
   AND (($2::bigint IS NULL AND parent_id IS NULL) OR parent_id = $2)
   AND position >= $3::integer
   AND ($4::bigint IS NULL OR id <> $4);

-- name: update_close_gap :exec
-- Shift the siblings after a position one place earlier (optionally not counting one category).
UPDATE categories
   SET position = position - 1
 WHERE tree_id = $1::bigint
   AND (($2::bigint IS NULL AND parent_id IS NULL) OR parent_id = $2)
   AND position > $3::integer
   AND ($4::bigint IS NULL OR id <> $4);

-- name: insert_category :one
-- Create a category under a parent path (null: a root); its path ends with its own id. No row: code taken.
WITH new AS (SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id)
INSERT INTO categories (id, code, tree_id, parent_id, position, labels, path)
OVERRIDING SYSTEM VALUE
SELECT new.id, $1::text, $2::bigint, $3::bigint, $4::integer, $5::jsonb,
       CASE WHEN $6::ltree IS NULL THEN text2ltree(new.id::text) ELSE $6::ltree || new.id::text END
  FROM new
ON CONFLICT (code) DO NOTHING
RETURNING id;

-- name: update_subtree_parent :exec
-- Move a category and its whole subtree: re-root every path in one statement, re-parent and re-place the top.
UPDATE categories
   SET path = CASE WHEN $3::ltree IS NULL THEN subpath(path, nlevel($2::ltree) - 1)
                   ELSE $3::ltree || subpath(path, nlevel($2::ltree) - 1) END,
       parent_id = CASE WHEN id = $1::bigint THEN $4::bigint ELSE parent_id END,
       position = CASE WHEN id = $1::bigint THEN $5::integer ELSE position END
 WHERE path <@ $2::ltree;

-- name: update_category :exec
-- Set a category's labels and count the change (one version step per write, moves included).
UPDATE categories
   SET labels = $2::jsonb, version = version + 1, updated_at = now()
 WHERE id = $1::bigint;

-- name: list_category_references :many
-- What keeps a category from being deleted: a few of its children, then a few products homed or placed in it.
(SELECT 'categories' AS kind, c.code
   FROM categories c
  WHERE c.parent_id = $1::bigint
  ORDER BY c.code
  LIMIT $2::integer)
UNION ALL
(SELECT 'products' AS kind, u.code
   FROM (SELECT pr.code FROM products pr WHERE pr.category_id = $1::bigint
         UNION
         SELECT pr.code FROM product_placements pp JOIN products pr ON pr.id = pp.product_id
          WHERE pp.category_id = $1::bigint) u
  ORDER BY u.code
  LIMIT $2::integer);

-- name: delete_category :exec
-- Delete one category (children and products are refused by foreign keys).
DELETE FROM categories WHERE id = $1::bigint;

-- name: get_tree_head :one
-- The tree part of the nested view.
SELECT id, code, labels, level_names, version FROM category_trees WHERE code = $1::text;

-- name: list_tree_nodes :many
-- Every category of a tree with its own product count (homed or placed, each product once), parents first.
SELECT c.code, p.code AS parent, c.labels, c.position, t.level_names[nlevel(c.path)] AS level,
       (SELECT count(*)
          FROM (SELECT pr.id FROM products pr WHERE pr.category_id = c.id
                UNION
                SELECT pp.product_id FROM product_placements pp WHERE pp.category_id = c.id) own)::integer
           AS own_products
  FROM categories c
  JOIN category_trees t ON t.id = c.tree_id
  LEFT JOIN categories p ON p.id = c.parent_id
 WHERE c.tree_id = $1::bigint
 ORDER BY nlevel(c.path), c.position, c.code;
