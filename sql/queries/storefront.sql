-- The storefront, customer service's lookup and the change feed (read models: sql/functions/storefront.sql).

-- name: get_storefront_config :one
-- The locales pages are made in (the first is the default) and the shop's currency.
SELECT locales, currency FROM storefront_config;

-- name: get_document :one
-- A listed product's page in a locale as stored, with its series parts, when it is current ($3: now). (The
-- whole hot path: one primary-key read. A page not stored or gone stale: get_document_now.)
SELECT pg.body, pg.etag, d.stale_at
  FROM storefront_documents d CROSS JOIN LATERAL merch_storefront_page(d.product_id, d.locale, d.body, d.etag) pg
 WHERE d.code = $1::text AND d.locale = $2::text AND (d.stale_at IS NULL OR d.stale_at > $3::timestamptz);

-- name: get_document_now :one
-- A listed product's page in a locale computed now (its stored copy went stale with time or a change of
-- labels): the same bytes and ETag the refresh will store, and when its price next changes. None for a code
-- of no listed product (found by the products' code index: a bot's 404s read no more than that).
SELECT pg.body, pg.etag, x.stale_at
  FROM products p JOIN storefront_products s ON s.product_id = p.id AND s.listed
 CROSS JOIN LATERAL (SELECT d.doc::text AS doc, d.stale_at
                       FROM merch_storefront_document(p.id, $2::text, $3::timestamptz) d) x
 CROSS JOIN LATERAL merch_storefront_page(p.id, $2::text, convert_to(x.doc, 'UTF8'), left(md5(x.doc), 24)) pg
 WHERE p.code = $1::text AND x.doc IS NOT NULL;

-- name: list_tree_categories :many
-- Every category of a tree in position order under its parent, with the count of listed products in its
-- subtree (a product counts once per subtree, wherever it hangs in it).
WITH t AS (SELECT id FROM category_trees WHERE code = $1::text),
     cats AS (SELECT c.id, c.code::text AS code, c.parent_id, c.position, c.labels, nlevel(c.path) AS depth
                FROM categories c WHERE c.tree_id = (SELECT id FROM t)),
     counts AS (SELECT k.category_id AS id, k.listed AS n
                  FROM storefront_shelf_counts k WHERE k.category_id IN (SELECT id FROM cats))
SELECT c.id, c.code, c.parent_id, c.position, c.labels, c.depth, coalesce(n.n, 0) AS listed_products
  FROM cats c LEFT JOIN counts n ON n.id = c.id
 ORDER BY c.depth, c.parent_id NULLS FIRST, c.position, c.code;

-- name: get_tree_exists :val
-- Whether a category tree exists.
SELECT EXISTS (SELECT 1 FROM category_trees WHERE code = $1::text);

-- name: get_category_id :val
-- A category's id by code.
SELECT id FROM categories WHERE code = $1::text;

-- name: get_filter_context :one
-- What a category page's query needs checked ($1 category, $2 attributes its filters name, $3 role, $4 series),
-- and its fingerprint: merch_filter_context (sql/functions/storefront_reads.sql).
SELECT * FROM merch_filter_context($1::text, $2::text[], $3::text, $4::text);

-- name: list_cards :many
-- One page of listed products under a category page's filters (merch_storefront_listing: $1 category id, $2
-- tokens all present, the category's first; $3 tokens of which one, an attribute's OR'ed values or the
-- category's again; $4 further attributes with several values; $5 ranges; $6, $7 price bounds; $8 sort;
-- after the keyset $9 sort value, $10 product id; $11 rows; $12 shelf rows walked before the GIN index is
-- used), as cards in $13 locale ($14 the default) at $15 now; on every row (one with no card when none
-- matches) the stamp of the filter contexts (merch_context_stamp), read in the cards' snapshot as
-- get_filter_context reads it with a context: the cards stand for the filters checked against a context read
-- with that stamp (one statement for a query whose context the process has read before).
WITH x AS MATERIALIZED (SELECT merch_context_stamp() AS fingerprint)
SELECT x.fingerprint, p.*
  FROM x LEFT JOIN LATERAL (
      SELECT s.product_id, s.code, h.k, c.*
        FROM merch_storefront_listing($1::bigint, $2::text[], $3::text[], $4::jsonb, $5::jsonb, $6::numeric,
                                      $7::numeric, $8::text, $9::numeric, $10::bigint, $11::integer,
                                      $12::integer) h
        JOIN storefront_products s ON s.product_id = h.product_id
       CROSS JOIN LATERAL merch_storefront_card(s, $13::text, $14::text, $15::timestamptz) c) p ON true
 ORDER BY p.k, p.product_id;

-- name: list_facet_counts :many
-- For the category page's filters, per token of a filterable attribute: how many products carry it when
-- every filter but that attribute's own holds (disjunctive facets); per numeric attribute, its bounds the
-- same way; the total under every filter with the price bounds without the price filter. Read from the
-- category's shelf through the tokens' index: $1 tokens all present (the category's first), $2 groups,
-- $3 ranges, $4, $5 price bounds as list_cards; $6 the facet attributes; $7 tokens of which every row counted
-- has one (the union of the groups when there are two or more: a row failing at most one filter passes
-- another; else the category's token); $8 the numeric facet attributes. Each row's failed filters are worked
-- out once, and the tokens of every row are counted in one pass (unnested in the select list, which costs far
-- less than a lateral call per row), the row itself as the empty token: its count is the total, its prices
-- the price bounds.
WITH g AS MATERIALIZED (
    SELECT g.key, ARRAY(SELECT jsonb_array_elements_text(g.value)) AS tokens FROM jsonb_each($2::jsonb) g
), r AS MATERIALIZED (
    SELECT r.key, coalesce((r.value ->> 0)::numeric, '-Infinity') AS low,
           coalesce((r.value ->> 1)::numeric, 'Infinity') AS high
      FROM jsonb_each($3::jsonb) r
), near AS MATERIALIZED (
    SELECT x.tokens, x.numbers, x.price, x.fails[1] AS failed, cardinality(x.fails) = 0 AS passes
      FROM (SELECT s.tokens, s.numbers, s.price,
                   ARRAY(SELECT g.key FROM g WHERE NOT s.tokens && g.tokens)
                   || ARRAY(SELECT r.key FROM r
                             WHERE NOT coalesce((s.numbers ->> r.key)::numeric BETWEEN r.low AND r.high, false))
                   || CASE WHEN ($4::numeric IS NOT NULL AND (s.price IS NULL OR s.price < $4))
                             OR ($5::numeric IS NOT NULL AND (s.price IS NULL OR s.price > $5))
                           THEN ARRAY['price'] ELSE '{}' END AS fails
              FROM storefront_shelf s
             WHERE s.tokens @> $1::text[] AND s.tokens && $7::text[]
            OFFSET 0) x
     WHERE cardinality(x.fails) <= 1
), counted AS MATERIALIZED (
    SELECT u.t, count(*) FILTER (WHERE u.passes OR starts_with(u.t, u.failed || '=')) AS n,
           min(u.price) FILTER (WHERE u.passes OR u.failed = 'price') AS low,
           max(u.price) FILTER (WHERE u.passes OR u.failed = 'price') AS high,
           count(*) FILTER (WHERE u.passes) AS total
      FROM (SELECT unnest(near.tokens || ''::text) AS t, near.passes, near.failed, near.price FROM near) u
     GROUP BY u.t
)
SELECT 'value' AS kind, split_part(t, '=', 1) AS attribute, substr(t, strpos(t, '=') + 1) AS value,
       n, NULL::numeric AS low, NULL::numeric AS high
  FROM counted
 WHERE n > 0 AND strpos(t, '=') > 0 AND split_part(t, '=', 1) = ANY ($6::text[])
UNION ALL
SELECT 'total', NULL, NULL, total, low, high FROM counted WHERE t = ''
UNION ALL
SELECT 'range', x.key, NULL, count(*), min(x.value::numeric), max(x.value::numeric)
  FROM near CROSS JOIN LATERAL jsonb_each_text(near.numbers) x
 WHERE cardinality($8::text[]) > 0 AND near.numbers ?| $8::text[] AND x.key = ANY ($8::text[])
   AND (near.passes OR near.failed = x.key)
 GROUP BY x.key;

-- name: list_facet_combos :many
-- list_facet_counts for filters without a price range (what passes then depends on a product's tokens and
-- numbers alone), counted from the category's combinations of tokens and numbers (storefront_shelf_combos,
-- each with its number of products) instead of its shelf rows, through their tokens' index: $1 tokens all
-- present (the category's first), $2 groups, $3 ranges, $4 tokens of which every combination counted has
-- one, $5 the facet attributes, $6 the numeric facet attributes, as there. The price bounds: the first match
-- in the category's price order each way (merch_storefront_listing: $7 category id, $8 tokens all present,
-- $9 tokens of which one, $10 further groups, as list_cards; $11 shelf rows walked before the tokens' index
-- is used).
WITH g AS MATERIALIZED (
    SELECT g.key, ARRAY(SELECT jsonb_array_elements_text(g.value)) AS tokens FROM jsonb_each($2::jsonb) g
), r AS MATERIALIZED (
    SELECT r.key, coalesce((r.value ->> 0)::numeric, '-Infinity') AS low,
           coalesce((r.value ->> 1)::numeric, 'Infinity') AS high
      FROM jsonb_each($3::jsonb) r
), near AS MATERIALIZED (
    SELECT x.tokens, x.numbers, x.products, x.fails[1] AS failed, cardinality(x.fails) = 0 AS passes
      FROM (SELECT c.tokens, c.numbers, c.products,
                   ARRAY(SELECT g.key FROM g WHERE NOT c.tokens && g.tokens)
                   || ARRAY(SELECT r.key FROM r
                             WHERE NOT coalesce((c.numbers ->> r.key)::numeric BETWEEN r.low AND r.high, false))
                       AS fails
              FROM storefront_shelf_combos c
             WHERE c.tokens @> $1::text[] AND c.tokens && $4::text[]
            OFFSET 0) x
     WHERE cardinality(x.fails) <= 1
), counted AS MATERIALIZED (
    SELECT u.t, sum(u.products) FILTER (WHERE u.passes OR starts_with(u.t, u.failed || '='))::bigint AS n,
           coalesce(sum(u.products) FILTER (WHERE u.passes), 0)::bigint AS total
      FROM (SELECT unnest(k.tokens || ''::text) AS t, k.passes, k.failed, k.products
              FROM (SELECT near.tokens, near.passes, near.failed, sum(near.products) AS products
                      FROM near  -- (combinations that differ in their numbers only: their tokens once)
                     GROUP BY near.tokens, near.passes, near.failed) k) u
     GROUP BY u.t
)
SELECT 'value' AS kind, split_part(t, '=', 1) AS attribute, substr(t, strpos(t, '=') + 1) AS value,
       n, NULL::numeric AS low, NULL::numeric AS high
  FROM counted
 WHERE n > 0 AND strpos(t, '=') > 0 AND split_part(t, '=', 1) = ANY ($5::text[])
UNION ALL
SELECT 'total', NULL, NULL, total,
       CASE WHEN total > 0 THEN (
           SELECT nullif(h.k, 1e18)  -- (a product without a price sorts last, as 1e18)
             FROM merch_storefront_listing($7::bigint, $8::text[], $9::text[], $10::jsonb, $3::jsonb, NULL, NULL,
                                           'price_asc', NULL, NULL, 1, $11::integer) h) END,
       CASE WHEN total > 0 THEN (
           SELECT -nullif(h.k, 1e18)
             FROM merch_storefront_listing($7::bigint, $8::text[], $9::text[], $10::jsonb, $3::jsonb, NULL, NULL,
                                           'price_desc', NULL, NULL, 1, $11::integer) h) END
  FROM counted WHERE t = ''
UNION ALL
SELECT 'range', x.key, NULL, sum(near.products)::bigint, min(x.value::numeric), max(x.value::numeric)
  FROM near CROSS JOIN LATERAL jsonb_each_text(near.numbers) x
 WHERE cardinality($6::text[]) > 0 AND near.numbers ?| $6::text[] AND x.key = ANY ($6::text[])
   AND (near.passes OR near.failed = x.key)
 GROUP BY x.key;

-- name: list_option_labels :many
-- The labels of some options of some attributes, in position order.
SELECT a.code::text AS attribute, o.code::text AS option, o.labels, o.position
  FROM attribute_options o JOIN attributes a ON a.id = o.attribute_id
 WHERE a.code = ANY ($1::text[])
 ORDER BY a.code, o.position, o.code;

-- name: list_category_priorities :many
-- The display priority of attributes in a category's effective set (the nearest binding wins), for the
-- order of its facets.
SELECT DISTINCT ON (a.code) a.code::text AS code, coalesce(ca.display_priority, a.display_priority) AS priority
  FROM categories leaf
  JOIN categories anc ON anc.path @> leaf.path
  JOIN category_attributes ca ON ca.category_id = anc.id
  JOIN attributes a ON a.id = ca.attribute_id
 WHERE leaf.id = $1::bigint
 ORDER BY a.code, nlevel(anc.path) DESC;

-- name: list_similar_words :many
-- Per word of a query ($1, in order), the words of the catalog a shopper may have meant: itself, its letters
-- in another order ($2: each word's sorted letters), or similar trigrams — at most 8 each, best first.
SELECT q.n, s.word
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(word, signature, n)
 CROSS JOIN LATERAL (
     SELECT w.word FROM storefront_words w
      WHERE w.word = q.word OR w.signature = q.signature OR w.word % q.word
      ORDER BY w.word = q.word DESC, w.signature = q.signature DESC, similarity(w.word, q.word) DESC, w.word
      LIMIT 8) s
 ORDER BY q.n;

-- name: list_exact_hits :many
-- Products whose SKU (as typed, or in capitals), barcode or code is exactly the query $1 (any lifecycle
-- state; the caller filters), with their cards in $2 locale ($3 the default) at $4 now.
SELECT sp.product_id, sp.code, sp.listed, sp.categories, c.*
  FROM storefront_products sp CROSS JOIN LATERAL merch_storefront_card(sp, $2::text, $3::text, $4::timestamptz) c
 WHERE sp.product_id IN (SELECT s.product_id FROM skus s
                          WHERE s.sku IN ($1::text, upper($1::text)) OR s.barcode = $1::text  -- by index
                         UNION
                         SELECT p.id FROM products p WHERE p.code = lower($1::text))
 ORDER BY sp.product_id;

-- name: list_search_hits :many
-- Listed products matching a search, best-selling first: the words query $1 (tsquery text, may be null) and
-- the CJK grams $2 (all present); $3 a category id or null; $4 rows; their cards in $5 locale ($6 the
-- default) at $7 now. Ordered by the partial index on units sold, so that a common word stops at the first
-- $4 matches.
SELECT sp.product_id, sp.code, sp.listed, c.*
  FROM storefront_products sp CROSS JOIN LATERAL merch_storefront_card(sp, $5::text, $6::text, $7::timestamptz) c
 WHERE sp.listed AND ($1::text IS NULL OR sp.words @@ to_tsquery('simple', $1::text)) AND sp.grams @> $2::text[]
   AND ($3::bigint IS NULL OR sp.categories @> ARRAY[$3::bigint])
 ORDER BY sp.sold DESC, sp.product_id
 LIMIT $4::integer;

-- name: list_lookup_hits :many
-- Products in any lifecycle state matching a search (customer service): as list_search_hits, but for
-- listing state and category, and without cards.
SELECT sp.product_id, sp.code, sp.listed
  FROM storefront_products sp
 WHERE ($1::text IS NULL OR sp.words @@ to_tsquery('simple', $1::text)) AND sp.grams @> $2::text[]
 ORDER BY sp.listed DESC, sp.sold DESC, sp.product_id
 LIMIT $3::integer;

-- name: list_service_details :many
-- What a service agent tells a shopper of some products: lifecycle, role and what it means, the running
-- promotions of its SKUs, and per SKU the price to quote and the available quantity per warehouse.
SELECT p.id, p.code::text AS code, p.lifecycle, p.labels, p.selling_points, r.code::text AS role, r.labels AS role_labels,
       r.description AS role_description,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'sku', x.sku, 'barcode', x.barcode, 'axes', x.axes,
                    'price', merch_money(merch_shown_price(x.promotion_price, x.sale), $2::text),
                    'regular_price', merch_money(x.sale, $2::text),
                    'promotion', CASE WHEN merch_promotion_applies(x.promotion_price, x.sale) THEN x.promotion_code END,
                    'available', coalesce((SELECT jsonb_agg(jsonb_build_object('warehouse', w.code, 'available', a.n)
                                                             ORDER BY w.code)
                                             FROM (SELECT l.warehouse_id, sum(l.on_hand - l.reserved) AS n
                                                     FROM stock_levels l JOIN locations q ON q.id = l.location_id
                                                    WHERE l.sku_id = x.sku_id AND NOT q.quarantine
                                                    GROUP BY l.warehouse_id) a
                                             JOIN warehouses w ON w.id = a.warehouse_id), '[]'))
                    ORDER BY x.sku)
                  FROM merch_storefront_skus(p.id, $2::text, $3::timestamptz) x), '[]') AS skus,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'code', m.code, 'labels', m.labels, 'starts_at', m.starts_at, 'ends_at', m.ends_at,
                    'sku', s.sku, 'price', merch_money(i.price, i.currency)) ORDER BY m.starts_at, m.code, s.sku)
                  FROM promotion_items i JOIN promotions m ON m.id = i.promotion_id JOIN skus s ON s.id = i.sku_id
                 WHERE s.product_id = p.id AND m.active AND m.starts_at <= $3::timestamptz
                   AND m.ends_at > $3::timestamptz), '[]') AS promotions
  FROM products p JOIN roles r ON r.id = p.role_id
 WHERE p.id = ANY ($1::bigint[]);

-- name: list_events :many
-- The change feed after an id, in id (commit) order.
SELECT id, at, type, code, fields FROM events WHERE id > $1::bigint ORDER BY id LIMIT $2::integer;

-- name: get_events_horizon :val
-- The highest id the retention has removed (0: none): a cursor below it has missed events.
SELECT coalesce((SELECT deleted_through FROM events_retention), 0);

-- name: delete_old_events :val
-- Remove events older than the retention ($1 hours) and remember the highest id removed; answers how many.
WITH gone AS (DELETE FROM events WHERE at < now() - make_interval(hours => $1::integer) RETURNING id),
     top AS (SELECT max(id) AS id, count(*) AS n FROM gone),
     kept AS (UPDATE events_retention SET deleted_through = greatest(deleted_through, (SELECT id FROM top))
               WHERE (SELECT id FROM top) IS NOT NULL)
SELECT n FROM top;

-- name: get_latest_event_id :val
-- The newest event's id (0: none yet).
SELECT coalesce(max(id), 0) FROM events;

-- name: list_facet_attributes :many
-- The attributes that may be facets: public, filterable, of a type a filter takes ($1).
SELECT code::text, type, labels, display_priority, validation ->> 'unit_family' AS unit_family,
       validation ->> 'default_unit' AS default_unit
  FROM attributes WHERE visibility = 'public' AND filterable AND type = ANY ($1::text[]);
