-- name: is_scale_seeded :val
-- Whether the scale tree exists already.
SELECT EXISTS (SELECT 1 FROM category_trees WHERE code = 'scale');

-- name: insert_scale_tree :val
-- The scale catalog's merchandise tree.
INSERT INTO category_trees (code, labels, level_names)
VALUES ('scale', '{"zh-CN": "规模测试", "en": "Scale catalog"}', ARRAY['major', 'middle', 'minor'])
RETURNING id;

-- name: insert_scale_roots :exec
-- $2 major categories at the root of tree $1.
WITH ids AS (
    SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id, i FROM generate_series(1, $2::integer) i
)
INSERT INTO categories (id, code, tree_id, parent_id, position, labels, path)
OVERRIDING SYSTEM VALUE
SELECT id, 'sc-' || i, $1::bigint, NULL, i - 1,
       jsonb_build_object('zh-CN', '大类 ' || i, 'en', 'Major ' || i), text2ltree(id::text)
  FROM ids;

-- name: insert_scale_children :exec
-- $3 children under every category of tree $1 at depth $2.
WITH parents AS (
    SELECT id, code, path FROM categories WHERE tree_id = $1::bigint AND nlevel(path) = $2::integer
), ids AS (
    SELECT nextval(pg_get_serial_sequence('categories', 'id')) AS id, p.id AS parent_id, p.code AS parent_code,
           p.path AS parent_path, i
      FROM parents p CROSS JOIN generate_series(1, $3::integer) i
)
INSERT INTO categories (id, code, tree_id, parent_id, position, labels, path)
OVERRIDING SYSTEM VALUE
SELECT id, parent_code || '-' || i, $1::bigint, parent_id, i - 1,
       jsonb_build_object('zh-CN', '类目 ' || parent_code || '-' || i, 'en', 'Category ' || parent_code || '-' || i),
       parent_path || id::text
  FROM ids;

-- name: insert_scale_attributes :exec
-- $1 attributes cycling through the ten types; a tenth confidential, a third internal.
INSERT INTO attributes (code, type, labels, visibility, display_priority, filterable, validation)
SELECT 'sa-' || lpad(i::text, 4, '0'),
       (ARRAY['text', 'integer', 'decimal', 'select', 'boolean', 'measurement', 'multiselect', 'date',
              'textarea', 'url'])[1 + i % 10],
       jsonb_build_object('zh-CN', '属性 ' || i, 'en', 'Attribute ' || i),
       CASE WHEN i % 10 = 0 THEN 'confidential' WHEN i % 3 = 0 THEN 'internal' ELSE 'public' END,
       i % 100, i % 4 = 0,
       CASE 1 + i % 10
           WHEN 2 THEN '{"min": "0", "max": "1000"}'::jsonb
           WHEN 3 THEN '{"decimals": 1}'::jsonb
           WHEN 6 THEN '{"unit_family": "length", "default_unit": "cm"}'::jsonb
           WHEN 1 THEN '{"max_length": 200}'::jsonb
           ELSE '{}'::jsonb
       END
  FROM generate_series(1, $1::integer) i;

-- name: insert_scale_options :exec
-- Eight options for every select and multiselect attribute of the scale catalog.
INSERT INTO attribute_options (attribute_id, code, labels, position)
SELECT a.id, 'o' || i, jsonb_build_object('en', 'Option ' || i), i
  FROM attributes a CROSS JOIN generate_series(0, 7) i
 WHERE a.code LIKE 'sa-%' AND a.type IN ('select', 'multiselect');

-- name: insert_scale_bindings :exec
-- Attribute sets: 8 attributes per major, one per middle, one per minor, required for various stages.
WITH cats AS (
    SELECT id, nlevel(path) AS depth, row_number() OVER (PARTITION BY nlevel(path) ORDER BY id) AS n
      FROM categories WHERE tree_id = $1::bigint
), attrs AS (
    SELECT id, row_number() OVER (ORDER BY code) AS n, count(*) OVER () AS total FROM attributes WHERE code LIKE 'sa-%'
), pairs AS (
    SELECT c.id AS category_id, a.id AS attribute_id, a.n
      FROM cats c CROSS JOIN generate_series(0, 7) k
      JOIN attrs a ON a.n = 1 + ((c.n - 1) * 8 + k) % 160
     WHERE c.depth = 1
    UNION ALL
    SELECT c.id, a.id, a.n FROM cats c JOIN attrs a ON a.n = 161 + (c.n - 1) % 200 WHERE c.depth = 2
    UNION ALL
    SELECT c.id, a.id, a.n FROM cats c JOIN attrs a ON a.n = 361 + (c.n - 1) % 40 WHERE c.depth = 3
)
INSERT INTO category_attributes (category_id, attribute_id, required_for, position)
SELECT category_id, attribute_id,
       CASE n % 7
           WHEN 0 THEN ARRAY['listing'] WHEN 1 THEN ARRAY['purchasing'] WHEN 2 THEN ARRAY['warehousing']
           WHEN 3 THEN ARRAY['listing', 'marketing'] WHEN 4 THEN ARRAY[]::text[] WHEN 5 THEN ARRAY['finance']
           ELSE ARRAY['service']
       END,
       n % 8
  FROM pairs
ON CONFLICT DO NOTHING;

-- name: insert_scale_products :exec
-- Products $2..$3 of the scale catalog in tree $1, each with values for its major category's attributes
-- (about one in six left out, so that completeness has work to do).
WITH leaves AS (
    SELECT id, path, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total
      FROM categories WHERE tree_id = $1::bigint AND nlevel(path) = 3
), roles AS (
    SELECT array_agg(id ORDER BY code) AS ids FROM roles
), numbered AS (
    SELECT i, l.id AS category_id, l.path
      FROM generate_series($2::integer, $3::integer) i
      JOIN leaves l ON l.n = i % l.total
), vals AS (
    SELECT nb.i, jsonb_object_agg(a.code,
           CASE a.type
               WHEN 'text' THEN to_jsonb('value ' || nb.i)
               WHEN 'textarea' THEN to_jsonb('A longer text for product ' || nb.i)
               WHEN 'url' THEN to_jsonb('https://example.com/p/' || nb.i)
               WHEN 'integer' THEN to_jsonb(nb.i % 1000)
               WHEN 'decimal' THEN to_jsonb(round((nb.i % 10000) / 10.0, 1)::text)
               WHEN 'select' THEN to_jsonb('o' || nb.i % 8)
               WHEN 'multiselect' THEN jsonb_build_array('o' || nb.i % 8)
               WHEN 'boolean' THEN to_jsonb(nb.i % 2 = 0)
               WHEN 'measurement' THEN jsonb_build_object('value', (1 + nb.i % 300)::text, 'unit', 'cm')
               ELSE to_jsonb('2026-01-01'::text)
           END) AS attributes
      FROM numbered nb
      JOIN categories anc ON anc.path = subpath(nb.path, 0, 1)
      JOIN category_attributes ca ON ca.category_id = anc.id
      JOIN attributes a ON a.id = ca.attribute_id
     WHERE (nb.i + a.id) % 6 <> 0
     GROUP BY nb.i
)
INSERT INTO products (code, category_id, role_id, labels, description, selling_points, images, quality_tags, attributes)
SELECT 'sp-' || lpad(nb.i::text, 7, '0'), nb.category_id, r.ids[1 + nb.i % cardinality(r.ids)],
       jsonb_build_object('zh-CN', '商品 ' || nb.i, 'en', 'Product ' || nb.i),
       CASE WHEN nb.i % 5 <> 0 THEN jsonb_build_object('en', 'Description of product ' || nb.i) ELSE '{}' END,
       CASE WHEN nb.i % 3 <> 0 THEN jsonb_build_array(jsonb_build_object('en', 'Point ' || nb.i)) ELSE '[]' END,
       CASE WHEN nb.i % 10 <> 0 THEN ARRAY['https://images.example.com/p/' || nb.i || '.jpg'] ELSE '{}' END,
       CASE WHEN nb.i % 7 = 0 THEN ARRAY['new'] WHEN nb.i % 11 = 0 THEN ARRAY['famous', 'quality'] ELSE '{}' END,
       coalesce(v.attributes, '{}')
  FROM numbered nb CROSS JOIN roles r LEFT JOIN vals v ON v.i = nb.i;

-- name: insert_scale_skus :exec
-- One SKU per scale product in the number range, with a valid GTIN-13 (in-store prefix 2); every
-- twentieth without a barcode.
WITH p AS (
    SELECT id, substr(code, 4)::integer AS i, '2' || lpad(substr(code, 4), 11, '0') AS body
      FROM products WHERE code LIKE 'sp-%' AND substr(code, 4)::integer BETWEEN $1::integer AND $2::integer
)
INSERT INTO skus (sku, product_id, barcode)
SELECT 'SK-' || lpad(i::text, 7, '0'), id,
       CASE WHEN i % 20 = 0 THEN NULL ELSE body || (
           (10 - (SELECT sum(substr(body, k, 1)::integer * CASE WHEN k % 2 = 0 THEN 3 ELSE 1 END)
                    FROM generate_series(1, 12) k) % 10) % 10)::text END
  FROM p;

-- name: update_planner_statistics :exec
-- Refresh the planner's statistics of what a bulk load wrote (the benchmarks that follow need fresh ones);
-- those tables only: a database-wide ANALYZE waits behind autovacuum on every other table.
ANALYZE category_trees, categories, attribute_groups, attributes, attribute_options, category_attributes, products,
        skus, product_completeness, prices_in_force, storefront_products, storefront_shelf, storefront_shelf_combos,
        storefront_documents, storefront_words

-- name: is_catalog_empty :val
-- Whether the database holds no catalog yet: no category trees, no products.
SELECT NOT EXISTS (SELECT 1 FROM category_trees) AND NOT EXISTS (SELECT 1 FROM products);

-- name: get_scale_epoch :val
-- When the seeded catalog's prices start: the first sale price period of its first SKU ($1), if any.
SELECT p.valid_from
  FROM prices p
  JOIN skus s ON s.id = p.sku_id
 WHERE s.sku = $1::text AND p.kind = 'sale'
 ORDER BY p.valid_from
 LIMIT 1;

-- name: list_lifecycles :many
-- The lifecycle of each of the products $1, in code order.
SELECT code, lifecycle FROM products WHERE code = ANY ($1::text[]) ORDER BY code;
