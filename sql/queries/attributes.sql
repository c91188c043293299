-- name: list_attributes :many
-- Attributes in code order after a keyset cursor, optionally of one group, type, visibility or filterability.
SELECT a.code, a.type, g.code AS "group", a.labels, a.visibility, a.display_priority, a.filterable,
       a.validation,
       (SELECT coalesce(jsonb_agg(
                   jsonb_build_object('code', o.code, 'labels', o.labels, 'position', o.position)
                   ORDER BY o.position, o.code), '[]')
          FROM attribute_options o WHERE o.attribute_id = a.id) AS options,
       a.version, a.created_at, a.updated_at
  FROM attributes a
  LEFT JOIN attribute_groups g ON g.id = a.group_id
 WHERE a.code > coalesce($1::text, '')
   AND ($2::text IS NULL OR g.code = $2)
   AND ($3::text IS NULL OR a.type = $3)
   AND ($4::text IS NULL OR a.visibility = $4)
   AND ($5::boolean IS NULL OR a.filterable = $5)
 ORDER BY a.code
 LIMIT $6::integer;

-- name: get_attribute :one
-- One attribute by code, with its options in position order.
SELECT a.id, a.code, a.type, g.code AS "group", a.labels, a.visibility, a.display_priority, a.filterable,
       a.validation,
       (SELECT coalesce(jsonb_agg(
                   jsonb_build_object('code', o.code, 'labels', o.labels, 'position', o.position)
                   ORDER BY o.position, o.code), '[]')
          FROM attribute_options o WHERE o.attribute_id = a.id) AS options,
       a.version, a.created_at, a.updated_at
  FROM attributes a
  LEFT JOIN attribute_groups g ON g.id = a.group_id
 WHERE a.code = $1::text;

-- name: lock_attribute :one
-- One attribute by code, locked for update (its options are changed only under this lock).
SELECT a.id, a.code, a.type, g.code AS "group", a.labels, a.visibility, a.display_priority, a.filterable,
       a.validation,
       (SELECT coalesce(jsonb_agg(
                   jsonb_build_object('code', o.code, 'labels', o.labels, 'position', o.position)
                   ORDER BY o.position, o.code), '[]')
          FROM attribute_options o WHERE o.attribute_id = a.id) AS options,
       a.version, a.created_at, a.updated_at
  FROM attributes a
  LEFT JOIN attribute_groups g ON g.id = a.group_id
 WHERE a.code = $1::text
   FOR UPDATE OF a;

-- name: get_group_id :val
-- The id of an attribute group by code (none when it does not exist).
SELECT id FROM attribute_groups WHERE code = $1::text;

-- name: insert_attribute :val
-- Create an attribute; no id back means the code is taken.
INSERT INTO attributes (code, type, group_id, labels, visibility, display_priority, filterable, validation)
VALUES ($1::text, $2::text, $3::bigint, $4::jsonb, $5::text, $6::integer, $7::boolean, $8::jsonb)
ON CONFLICT (code) DO NOTHING
RETURNING id;

-- name: update_attribute :exec
-- Replace an attribute's fields and bump its version.
UPDATE attributes
   SET type = $2::text, group_id = $3::bigint, labels = $4::jsonb, visibility = $5::text,
       display_priority = $6::integer, filterable = $7::boolean, validation = $8::jsonb,
       version = version + 1, updated_at = now()
 WHERE id = $1::bigint;

-- name: update_attribute_version :exec
-- Bump an attribute's version after a change to its options.
UPDATE attributes SET version = version + 1, updated_at = now() WHERE id = $1::bigint;

-- name: delete_attribute :exec
-- Delete an attribute (its options go with it; bindings are refused by the foreign key).
DELETE FROM attributes WHERE id = $1::bigint;

-- name: count_attribute_values :one
-- How many products and SKUs carry a value of an attribute (SKUs: as an override or a variant axis).
SELECT (SELECT count(*) FROM products p WHERE p.attributes ? $1::text) AS products,
       (SELECT count(*) FROM skus s WHERE s.attributes ? $1::text OR s.axes ? $1::text) AS skus;

-- name: list_attribute_category_codes :many
-- A few categories an attribute is bound to, to name what blocks its deletion.
SELECT c.code
  FROM category_attributes ca JOIN categories c ON c.id = ca.category_id
 WHERE ca.attribute_id = $1::bigint
 ORDER BY c.code
 LIMIT $2::integer;

-- name: count_attribute_categories :val
-- How many categories an attribute is bound to.
SELECT count(*) FROM category_attributes WHERE attribute_id = $1::bigint;

-- name: list_option_usage :many
-- Of some option codes of an attribute, those a product or SKU value uses, with how many products use each.
WITH vals AS (
    SELECT p.id AS product_id, p.attributes -> $1::text AS v FROM products p WHERE p.attributes ? $1::text
    UNION ALL
    SELECT s.product_id, s.attributes -> $1::text FROM skus s WHERE s.attributes ? $1::text
    UNION ALL
    SELECT s.product_id, s.axes -> $1::text FROM skus s WHERE s.axes ? $1::text
)
SELECT o.code AS option, count(DISTINCT vals.product_id) AS products
  FROM unnest($2::text[]) AS o(code)
  JOIN vals ON (jsonb_typeof(vals.v) = 'string' AND vals.v #>> '{}' = o.code)
            OR (jsonb_typeof(vals.v) = 'array' AND vals.v ? o.code)
 GROUP BY o.code
 ORDER BY o.code;

-- name: get_next_option_position :val
-- The position after an attribute's last option (0 when it has none).
SELECT coalesce(max(position) + 1, 0) FROM attribute_options WHERE attribute_id = $1::bigint;

-- name: update_option_positions :exec
-- Make room at a position: when another option holds it, move it and every later one down by one.
UPDATE attribute_options
   SET position = position + 1
 WHERE attribute_id = $1::bigint AND position >= $2::integer AND code <> $3::text
   AND EXISTS (
       SELECT 1 FROM attribute_options t
        WHERE t.attribute_id = $1::bigint AND t.position = $2::integer AND t.code <> $3::text
   );

-- name: upsert_option :exec
-- Create or replace one option of an attribute.
INSERT INTO attribute_options (attribute_id, code, labels, position)
VALUES ($1::bigint, $2::text, $3::jsonb, $4::integer)
ON CONFLICT (attribute_id, code) DO UPDATE SET labels = EXCLUDED.labels, position = EXCLUDED.position;

-- name: upsert_options :exec
-- Create or replace many options of an attribute at once, from a JSON array of {code, labels, position}.
INSERT INTO attribute_options (attribute_id, code, labels, position)
SELECT $1::bigint, o.code, o.labels, o.position
  FROM jsonb_to_recordset($2::jsonb) AS o(code text, labels jsonb, position integer)
 ORDER BY o.code
ON CONFLICT (attribute_id, code) DO UPDATE SET labels = EXCLUDED.labels, position = EXCLUDED.position;

-- name: delete_options_except :exec
-- Delete an attribute's options except those listed (an empty list deletes them all).
DELETE FROM attribute_options WHERE attribute_id = $1::bigint AND code <> ALL($2::text[]);

-- name: delete_option :exec
-- Delete one option of an attribute.
DELETE FROM attribute_options WHERE attribute_id = $1::bigint AND code = $2::text;

-- name: lock_category :val
-- A category's id by code, locked against concurrent changes of its attribute set (not against new products).
SELECT id FROM categories WHERE code = $1::text FOR NO KEY UPDATE;

-- name: get_category_id :val
-- A category's id by code.
SELECT id FROM categories WHERE code = $1::text;

-- name: list_attribute_codes :many
-- Which of some attribute codes exist.
SELECT code FROM attributes WHERE code = ANY($1::text[]) ORDER BY code;

-- name: list_own_bindings :many
-- A category's own binding, in the order it was given.
SELECT a.code AS attribute, ca.required_for, ca.display_priority
  FROM category_attributes ca JOIN attributes a ON a.id = ca.attribute_id
 WHERE ca.category_id = $1::bigint
 ORDER BY ca.position, a.code;

-- name: delete_category_attributes :exec
-- Remove a category's own binding.
DELETE FROM category_attributes WHERE category_id = $1::bigint;

-- name: insert_category_attributes :exec
-- Bind attributes to a category from parallel arrays (required_for comma-joined), in attribute id order
-- so that the key-share locks on attributes are taken in a stable order.
INSERT INTO category_attributes (category_id, attribute_id, required_for, display_priority, position)
SELECT $1::bigint, a.id, string_to_array(b.required_for, ','), b.display_priority, b.position
  FROM unnest($2::text[], $3::text[], $4::integer[], $5::integer[])
       AS b(code, required_for, display_priority, position)
  JOIN attributes a ON a.code = b.code
 ORDER BY a.id;

-- name: list_attribute_set :many
-- A category's attribute set: its own binding, or with $2 also what it inherits; the nearest binding wins.
SELECT s.attribute, s.type, s.labels, s.visibility, s."group", s.display_priority,
       s.display_priority_override, s.required_for, s.origin, s.inherited
  FROM (
      SELECT DISTINCT ON (a.id)
             a.code AS attribute, a.type, a.labels, a.visibility, g.code AS "group",
             coalesce(ca.display_priority, a.display_priority) AS display_priority,
             ca.display_priority AS display_priority_override, ca.required_for,
             anc.code AS origin, anc.id <> c.id AS inherited, ca.position
        FROM categories c
        JOIN categories anc ON anc.path @> c.path AND (anc.id = c.id OR $2::boolean)
        JOIN category_attributes ca ON ca.category_id = anc.id
        JOIN attributes a ON a.id = ca.attribute_id
        LEFT JOIN attribute_groups g ON g.id = a.group_id
       WHERE c.id = $1::bigint
       ORDER BY a.id, nlevel(anc.path) DESC
  ) s
 -- the own binding keeps the order it was given in; the effective set is in shopper-attention order
 ORDER BY CASE WHEN $2::boolean THEN 0 ELSE s.position END, s.display_priority DESC, s.attribute;

-- name: list_effective_definitions_of :many
-- The effective attribute sets of some categories as the value checker needs them, one query for all (an import
-- checks rows of many categories: a query for each was a round trip each): type, visibility, rules, options, each
-- with its category's id. The attribute rows are share-locked: a writer checking values against them holds them
-- until it commits.
SELECT x.category_id, a.code, a.type, a.visibility, a.validation,
       ARRAY(SELECT o.code FROM attribute_options o WHERE o.attribute_id = a.id ORDER BY o.code) AS options
  FROM (SELECT DISTINCT c.id AS category_id, ca.attribute_id
          FROM categories c
          JOIN categories anc ON anc.path @> c.path
          JOIN category_attributes ca ON ca.category_id = anc.id
         WHERE c.id = ANY ($1::bigint[])) x
  JOIN attributes a ON a.id = x.attribute_id
 ORDER BY x.category_id, a.code
   FOR SHARE OF a;

-- name: is_information_field :val
-- Whether a code names a built-in information item (attribute codes may not take those names).
SELECT EXISTS (SELECT 1 FROM information_fields WHERE code = $1::text);
