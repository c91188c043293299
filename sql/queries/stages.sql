-- name: list_stages :many
-- The six stages in flow order.
SELECT code, position, labels FROM stages ORDER BY position;

-- name: list_information_fields :many
-- The built-in information items.
SELECT code, labels, per_sku, requirable FROM information_fields ORDER BY code;

-- name: list_needs :many
-- What stages read and require, in each stage's order, with the item's kind and labels.
SELECT n.stage, coalesce(n.field, a.code) AS item, CASE WHEN n.field IS NULL THEN 'attribute' ELSE 'field' END AS kind,
       coalesce(f.labels, a.labels) AS labels, n.required, coalesce(f.per_sku, false) AS per_sku, n.position
  FROM stage_needs n
  LEFT JOIN information_fields f ON f.code = n.field
  LEFT JOIN attributes a ON a.id = n.attribute_id
 WHERE ($1::text IS NULL OR n.stage = $1)
 ORDER BY n.stage, n.position;

-- name: lock_stage :one
-- Serialise changes to one stage's needs.
SELECT code FROM stages WHERE code = $1::text FOR UPDATE;

-- name: list_attribute_ids :many
-- Attribute ids by code, for resolving need items.
SELECT id, code FROM attributes WHERE code = ANY($1::text[]);

-- name: delete_needs :exec
-- Remove every need of a stage (before writing its new list).
DELETE FROM stage_needs WHERE stage = $1::text;

-- name: insert_needs :exec
-- Write a stage's needs in order: fields and attributes side by side, one of each pair null.
INSERT INTO stage_needs (stage, field, attribute_id, required, position)
SELECT $1::text, n.field, n.attribute_id, n.required, n.position
  FROM unnest($2::text[], $3::bigint[], $4::boolean[], $5::integer[]) AS n(field, attribute_id, required, position);
