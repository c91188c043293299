-- name: list_computed_completeness :many
-- The completeness of some products computed now, without storing it (what a full recomputation says).
SELECT c.product_id, c.stages, c.incomplete FROM merch_completeness($1::bigint[]) c ORDER BY c.product_id;

-- name: list_products_completeness :many
-- Some products' (by code, $1) stored completeness and whether an active recompute job still covers each.
SELECT p.id, p.code, p.lifecycle, pc.stages, pc.computed_at,
       (SELECT j.id FROM jobs j
         WHERE j.state IN ('queued', 'running')
           AND (j.scope_path IS NULL OR c.path <@ j.scope_path)
           AND (pc.computed_at IS NULL OR pc.computed_at < j.created_at)
         ORDER BY j.id LIMIT 1) AS stale_job
  FROM products p
  JOIN categories c ON c.id = p.category_id
  LEFT JOIN product_completeness pc ON pc.product_id = p.id
 WHERE p.code = ANY ($1::text[]);

-- name: list_worklist :many
-- Incomplete products (in one stage, or any), optionally under a category and of a role, below a ratio.
SELECT p.code, p.labels, c.code AS category, r.code AS role, p.lifecycle, pc.stages, pc.incomplete
  FROM product_completeness pc
  JOIN products p ON p.id = pc.product_id
  JOIN categories c ON c.id = p.category_id
  JOIN roles r ON r.id = p.role_id
 WHERE ($1::text IS NULL AND pc.incomplete <> '{}'
        OR $1::text IS NOT NULL AND $2::numeric >= 1 AND pc.incomplete @> ARRAY[$1::text]
        OR $1::text IS NOT NULL AND $2::numeric < 1
           AND (pc.stages -> $1 ->> 'present')::numeric
               < $2::numeric * (pc.stages -> $1 ->> 'required')::numeric)
   AND ($3::ltree IS NULL OR c.path <@ $3::ltree)
   AND ($4::bigint IS NULL OR p.role_id = $4)
   AND p.code > coalesce($5::text, '')
 ORDER BY p.code
 LIMIT $6::integer;

-- name: count_incomplete_by_stage :many
-- How many products are incomplete in each stage, under a category and of a role.
SELECT s.stage, count(*) AS n
  FROM product_completeness pc
  JOIN products p ON p.id = pc.product_id
  JOIN categories c ON c.id = p.category_id
  CROSS JOIN LATERAL unnest(pc.incomplete) AS s(stage)
 WHERE ($1::ltree IS NULL OR c.path <@ $1::ltree)
   AND ($2::bigint IS NULL OR p.role_id = $2)
 GROUP BY s.stage;

-- name: count_incomplete_by_category :many
-- Per child of a category (or per root category), how many products below it are incomplete per stage.
SELECT top.code AS category, top.labels, s.stage, count(*) AS n
  FROM product_completeness pc
  JOIN products p ON p.id = pc.product_id
  JOIN categories c ON c.id = p.category_id
  JOIN categories top ON top.path = subpath(c.path, 0, $3::integer + 1)
  CROSS JOIN LATERAL unnest(pc.incomplete) AS s(stage)
 WHERE nlevel(c.path) > $3::integer
   AND ($1::ltree IS NULL OR c.path <@ $1::ltree)
   AND ($2::bigint IS NULL OR p.role_id = $2)
 GROUP BY top.code, top.labels, s.stage
 ORDER BY top.code, s.stage;

-- name: list_active_jobs :many
-- Recompute jobs not finished yet.
SELECT id, state, done, total, scope_path::text AS scope FROM jobs WHERE state IN ('queued', 'running') ORDER BY id;

-- name: get_category_scope :one
-- A category's id and path (to scope worklists and jobs).
SELECT id, path::text AS path, nlevel(path) AS depth FROM categories WHERE code = $1::text;

-- name: get_role_id :val
-- A role's id by code.
SELECT id FROM roles WHERE code = $1::text;

-- name: update_own_derived_data :exec
-- Bring what this transaction has written so far through the refresh point now (before derived data such as
-- prices in force is read in it; what it writes later is refreshed at commit).
SELECT merch_refresh_pending();
