-- The storefront read model (migration 0007): what a shop and customer service read, kept current by the
-- refresh point (sql/functions/refresh.sql, model `storefront`) and written as the change feed.
--
-- merch_refresh_storefront(products) recomputes, for each product: its storefront_products row (filters,
-- sorts, card, search words), and — when it is listed — its product page per configured locale as the
-- bytes the API sends (storefront_documents), with an ETag. What changed for a cache (listed, delisted,
-- changed and which parts, in stock, out of stock) goes to events_pending, flushed into `events` in commit
-- order at the end of the refresh (merch_flush_events). Only public attribute values, sale and promotion
-- prices and an in-stock flag ever enter this model: no cost, distribution price, supplier or bin.

-- The text of a locale map in a locale, else in the default locale, else in its first locale.
CREATE FUNCTION merch_localized(p_map jsonb, p_locale text, p_default text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_map ->> p_locale, p_map ->> p_default,
                    (SELECT e.value FROM jsonb_each_text(p_map) e ORDER BY e.key LIMIT 1))
$$;

-- An amount as the API writes money: a string with four decimals ("199.0000"), null for none.
CREATE FUNCTION merch_money(p_amount numeric) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_amount IS NULL THEN 'null'::jsonb ELSE to_jsonb(p_amount::numeric(18, 4)::text) END
$$;

-- Per SKU of a product, at p_at in currency p_currency: the sale price in force, the lowest price of a
-- running promotion (and which), whether any bin holds available stock, and the next moment one of these
-- prices starts or stops (stale_at).
CREATE FUNCTION merch_storefront_skus(p_product bigint, p_currency text, p_at timestamptz)
RETURNS TABLE (sku_id bigint, sku text, barcode text, axes jsonb, sale numeric, promotion_price numeric,
               promotion_code text, promotion_labels jsonb, promotion_ends_at timestamptz, in_stock boolean,
               stale_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.sku, s.barcode, s.axes,
           (SELECT max(pr.amount) FROM prices pr
             WHERE pr.sku_id = s.id AND pr.kind = 'sale' AND pr.currency = p_currency
               AND pr.valid_from <= p_at AND (pr.valid_to IS NULL OR pr.valid_to > p_at)),
           promo.price, promo.code, promo.labels, promo.ends_at,
           EXISTS (SELECT 1 FROM stock_levels l WHERE l.sku_id = s.id AND l.on_hand > l.reserved),
           least((SELECT min(pr.valid_from) FROM prices pr
                   WHERE pr.sku_id = s.id AND pr.kind = 'sale' AND pr.currency = p_currency AND pr.valid_from > p_at),
                 (SELECT min(pr.valid_to) FROM prices pr
                   WHERE pr.sku_id = s.id AND pr.kind = 'sale' AND pr.currency = p_currency AND pr.valid_to > p_at),
                 (SELECT min(CASE WHEN m.starts_at > p_at THEN m.starts_at ELSE m.ends_at END)
                    FROM promotion_items i JOIN promotions m ON m.id = i.promotion_id
                   WHERE i.sku_id = s.id AND i.currency = p_currency AND m.active AND m.ends_at > p_at))
      FROM skus s
      LEFT JOIN LATERAL (
          SELECT i.price, m.code::text AS code, m.labels, m.ends_at
            FROM promotion_items i JOIN promotions m ON m.id = i.promotion_id
           WHERE i.sku_id = s.id AND i.currency = p_currency AND m.active AND m.starts_at <= p_at AND m.ends_at > p_at
           ORDER BY i.price, m.ends_at, m.code
           LIMIT 1) promo ON true
     WHERE s.product_id = p_product
$$;

-- A product's public attribute values with what the page shows of them, in shopper-attention order: the
-- nearest binding's display priority in its home category's attribute set, else the attribute's own; then
-- the binding's position and the code.
CREATE FUNCTION merch_storefront_attributes(p_product bigint)
RETURNS TABLE (code text, type text, labels jsonb, group_code text, group_labels jsonb, priority integer,
               value jsonb, options jsonb, base numeric)
LANGUAGE sql STABLE AS $$
    SELECT a.code::text, a.type, a.labels, g.code::text, g.labels,
           coalesce(b.display_priority, a.display_priority), v.value,
           (SELECT jsonb_object_agg(o.code, o.labels) FROM attribute_options o
             WHERE o.attribute_id = a.id
               AND o.code::text IN (SELECT jsonb_array_elements_text(
                                      CASE jsonb_typeof(v.value) WHEN 'array' THEN v.value
                                           ELSE jsonb_build_array(v.value) END))),
           CASE WHEN a.type IN ('integer', 'decimal') AND jsonb_typeof(v.value) IN ('number', 'string')
                     AND (v.value #>> '{}') ~ '^-?[0-9]+(\.[0-9]+)?$' THEN (v.value #>> '{}')::numeric
                WHEN a.type = 'measurement' THEN
                     (SELECT (v.value ->> 'value')::numeric * u.factor FROM units u WHERE u.unit = v.value ->> 'unit'
                       AND (v.value ->> 'value') ~ '^-?[0-9]+(\.[0-9]+)?$') END
      FROM products p
     CROSS JOIN LATERAL jsonb_each(p.attributes) v
      JOIN attributes a ON a.code = v.key AND a.visibility = 'public'
      LEFT JOIN attribute_groups g ON g.id = a.group_id
      LEFT JOIN LATERAL (
          SELECT ca.display_priority, ca.position
            FROM categories leaf JOIN categories anc ON anc.path @> leaf.path
            JOIN category_attributes ca ON ca.category_id = anc.id AND ca.attribute_id = a.id
           WHERE leaf.id = p.category_id
           ORDER BY nlevel(anc.path) DESC LIMIT 1) b ON true
     WHERE p.id = p_product
     ORDER BY coalesce(b.display_priority, a.display_priority) DESC, b.position NULLS LAST, a.code
$$;

-- What the page shows of one value in a locale: option labels, a measurement with its unit, yes / no.
CREATE FUNCTION merch_storefront_display(p_type text, p_value jsonb, p_options jsonb, p_locale text, p_default text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_type IN ('select', 'multiselect') THEN
            (SELECT string_agg(coalesce(merch_localized(p_options -> x.v, p_locale, p_default), x.v), ', ' ORDER BY x.n)
               FROM jsonb_array_elements_text(CASE jsonb_typeof(p_value) WHEN 'array' THEN p_value
                                                    ELSE jsonb_build_array(p_value) END) WITH ORDINALITY x(v, n))
        WHEN p_type = 'measurement' THEN concat_ws(' ', p_value ->> 'value', p_value ->> 'unit')
        WHEN p_type = 'boolean' THEN CASE WHEN p_value = 'true' THEN
            CASE WHEN p_locale LIKE 'zh%' THEN '是' ELSE 'yes' END
            ELSE CASE WHEN p_locale LIKE 'zh%' THEN '否' ELSE 'no' END END
        ELSE p_value #>> '{}'
    END
$$;

-- The product page of a listed product in one locale, at p_at: what GET /v1/storefront/products/{code}
-- sends. Public attribute values only; the sale price or the running promotion's; in stock; never a cost,
-- a distribution price, a supplier or a bin.
CREATE FUNCTION merch_storefront_document(p_product bigint, p_locale text, p_at timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_default text;
    v_currency text;
    v_doc jsonb;
BEGIN
    SELECT c.locales[1], c.currency INTO v_default, v_currency FROM storefront_config c;
    WITH skus AS (
        SELECT * FROM merch_storefront_skus(p_product, v_currency, p_at)
    ), attrs AS (
        SELECT a.*, row_number() OVER () AS n FROM merch_storefront_attributes(p_product) a
    ), groups AS (
        SELECT a.group_code, min(a.n) AS first,
               jsonb_agg(jsonb_build_object(
                   'code', a.code, 'label', merch_localized(a.labels, p_locale, v_default), 'type', a.type,
                   'value', a.value, 'display', merch_storefront_display(a.type, a.value, a.options, p_locale, v_default))
                   ORDER BY a.n) AS attributes,
               max(merch_localized(a.group_labels, p_locale, v_default)) AS label
          FROM attrs a GROUP BY a.group_code
    )
    SELECT jsonb_build_object(
        'code', p.code,
        'locale', p_locale,
        'label', merch_localized(p.labels, p_locale, v_default),
        'description', merch_localized(p.description, p_locale, v_default),
        'selling_points', coalesce((SELECT jsonb_agg(merch_localized(sp.value, p_locale, v_default) ORDER BY sp.n)
                                      FROM jsonb_array_elements(p.selling_points) WITH ORDINALITY sp(value, n)), '[]'),
        'images', to_jsonb(p.images),
        'role', jsonb_build_object('code', r.code, 'label', merch_localized(r.labels, p_locale, v_default)),
        'category', jsonb_build_object('code', c.code, 'label', merch_localized(c.labels, p_locale, v_default)),
        'attribute_groups', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                          'code', g.group_code, 'label', g.label, 'attributes', g.attributes)
                                          ORDER BY g.first) FROM groups g), '[]'),
        'currency', v_currency,
        'price', merch_money((SELECT min(coalesce(least(s.promotion_price, s.sale), s.promotion_price)) FROM skus s)),
        'regular_price', merch_money((SELECT min(s.sale) FROM skus s)),
        'in_stock', coalesce((SELECT bool_or(s.in_stock) FROM skus s), false),
        'skus', coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'sku', s.sku, 'barcode', s.barcode, 'axes', s.axes,
                    'price', merch_money(coalesce(least(s.promotion_price, s.sale), s.promotion_price)),
                    'regular_price', merch_money(s.sale),
                    'promotion', CASE WHEN s.promotion_price IS NOT NULL THEN jsonb_build_object(
                        'code', s.promotion_code, 'label', merch_localized(s.promotion_labels, p_locale, v_default),
                        'ends_at', s.promotion_ends_at) END,
                    'in_stock', s.in_stock) ORDER BY s.sku) FROM skus s), '[]'),
        'series', coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'code', se.code, 'label', merch_localized(se.labels, p_locale, v_default),
                    'products', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                    'code', o.code, 'label', merch_localized(o.card -> 'labels', p_locale, v_default),
                                    'image', o.card -> 'image') ORDER BY o.code)
                                FROM (SELECT sp.code, sp.card FROM product_series ps2
                                        JOIN storefront_products sp ON sp.product_id = ps2.product_id AND sp.listed
                                       WHERE ps2.series_id = se.id AND ps2.product_id <> p_product
                                       ORDER BY sp.code LIMIT 12) o), '[]'))
                    ORDER BY se.code)
                    FROM product_series ps JOIN series se ON se.id = ps.series_id
                   WHERE ps.product_id = p_product), '[]'))
      INTO v_doc
      FROM products p
      JOIN roles r ON r.id = p.role_id
      JOIN categories c ON c.id = p.category_id
     WHERE p.id = p_product;
    RETURN v_doc;
END
$$;

-- The CJK characters of a text, and every pair of adjacent ones within a run (Chinese has no spaces: a
-- two-character query is found by its one pair).
CREATE FUNCTION merch_grams(p_text text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{}')
      FROM regexp_matches(p_text, '[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+', 'g') AS m(run)
     CROSS JOIN LATERAL (
        SELECT substr(m.run[1], i, 1) FROM generate_series(1, length(m.run[1])) i
        UNION ALL
        SELECT substr(m.run[1], i, 2) FROM generate_series(1, length(m.run[1]) - 1) i) AS x(g)
$$;

-- The storefront rows of some products, as they are now (every lifecycle state: the row says `listed`).
CREATE FUNCTION merch_storefront_rows(p_products bigint[], p_at timestamptz)
RETURNS SETOF storefront_products LANGUAGE sql STABLE AS $$
    WITH cfg AS (SELECT c.currency FROM storefront_config c)
    SELECT p.id, p.code::text, p.lifecycle = 'listed',
           ARRAY(SELECT DISTINCT x::bigint
                   FROM categories c CROSS JOIN LATERAL unnest(string_to_array(c.path::text, '.')) x
                  WHERE c.id = p.category_id
                     OR c.id IN (SELECT pl.category_id FROM product_placements pl WHERE pl.product_id = p.id)
                  ORDER BY 1),
           ARRAY(SELECT DISTINCT t FROM (
                     SELECT a.code || '=' || o.v AS t
                       FROM merch_storefront_attributes(p.id) a
                      CROSS JOIN LATERAL jsonb_array_elements_text(
                            CASE jsonb_typeof(a.value) WHEN 'array' THEN a.value ELSE jsonb_build_array(a.value) END) o(v)
                      WHERE a.type IN ('select', 'multiselect', 'boolean')
                     UNION ALL
                     SELECT a.code || '=' || (v.value #>> '{}')
                       FROM skus s CROSS JOIN LATERAL jsonb_each(s.axes || s.attributes) v
                       JOIN attributes a ON a.code = v.key AND a.visibility = 'public' AND a.type IN ('select', 'boolean')
                      WHERE s.product_id = p.id
                     UNION ALL
                     SELECT 'role:' || r.code
                     UNION ALL
                     SELECT 'series:' || se.code FROM product_series ps JOIN series se ON se.id = ps.series_id
                      WHERE ps.product_id = p.id
                     UNION ALL
                     SELECT 'in-stock' WHERE sk.in_stock) x ORDER BY 1),
           coalesce((SELECT jsonb_object_agg(a.code, a.base) FROM merch_storefront_attributes(p.id) a
                      WHERE a.base IS NOT NULL), '{}'),
           cfg.currency, sk.price, sk.regular, sk.in_stock,
           coalesce((SELECT sum(t.qty) FROM sales_sku_totals t JOIN skus s ON s.id = t.sku_id
                      WHERE s.product_id = p.id), 0)::bigint,
           p.created_at,
           jsonb_build_object('code', p.code, 'labels', p.labels, 'image', p.images[1], 'role', r.code,
                              'series', ARRAY(SELECT se.code FROM product_series ps JOIN series se ON se.id = ps.series_id
                                               WHERE ps.product_id = p.id ORDER BY se.code)),
           to_tsvector('simple', lower(txt.latin)),
           merch_grams(txt.all_text),
           sk.stale_at,
           p_at
      FROM products p
      JOIN roles r ON r.id = p.role_id
     CROSS JOIN cfg
     CROSS JOIN LATERAL (
        SELECT min(coalesce(least(s.promotion_price, s.sale), s.promotion_price)) AS price, min(s.sale) AS regular,
               coalesce(bool_or(s.in_stock), false) AS in_stock, min(s.stale_at) AS stale_at
          FROM merch_storefront_skus(p.id, cfg.currency, p_at) s) sk
     CROSS JOIN LATERAL (
        SELECT concat_ws(' ', p.code, t.texts, (SELECT string_agg(concat_ws(' ', s.sku, s.barcode), ' ')
                                                  FROM skus s WHERE s.product_id = p.id)) AS latin,
               t.texts AS all_text
          FROM (SELECT concat_ws(' ',
                    (SELECT string_agg(v, ' ') FROM jsonb_each_text(p.labels) e(k, v)),
                    (SELECT string_agg(e.v, ' ') FROM jsonb_array_elements(p.selling_points) sp(x)
                      CROSS JOIN LATERAL jsonb_each_text(sp.x) e(k, v)),
                    (SELECT string_agg(e.v, ' ') FROM categories c CROSS JOIN LATERAL jsonb_each_text(c.labels) e(k, v)
                      WHERE c.id = p.category_id
                         OR c.id IN (SELECT pl.category_id FROM product_placements pl WHERE pl.product_id = p.id)),
                    (SELECT string_agg(e.v, ' ') FROM product_series ps JOIN series se ON se.id = ps.series_id
                      CROSS JOIN LATERAL jsonb_each_text(se.labels) e(k, v) WHERE ps.product_id = p.id)) AS texts) t) txt
     WHERE p.id = ANY (p_products)
$$;

-- A part of a page as it counts for `product.changed` when the product went in or out of stock (which has
-- its own event): without the in-stock flags.
CREATE FUNCTION merch_page_part(p_key text, p_value jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_key
        WHEN 'in_stock' THEN NULL
        WHEN 'skus' THEN (SELECT jsonb_agg(x.s - 'in_stock' ORDER BY x.n)
                            FROM jsonb_array_elements(p_value) WITH ORDINALITY x(s, n))
        ELSE p_value
    END
$$;

-- Recompute the storefront of some products now: lock their rows (key order), compute, write what changed,
-- record the events, and touch the other products of their series when a card or a listing changed (their
-- pages list it).
CREATE FUNCTION merch_refresh_storefront(p_products bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz := clock_timestamp();
    v_old storefront_products[];
    v_new storefront_products[];
    v_docs storefront_documents[];
    v_changed jsonb;
    v_moved bigint[];
BEGIN
    PERFORM 1 FROM storefront_products s WHERE s.product_id = ANY (p_products) ORDER BY s.product_id FOR UPDATE;
    v_old := ARRAY(SELECT s FROM storefront_products s WHERE s.product_id = ANY (p_products));
    v_new := ARRAY(SELECT r FROM merch_storefront_rows(p_products, v_at) r);

    DELETE FROM storefront_products s WHERE s.product_id = ANY (p_products)
       AND s.product_id NOT IN (SELECT n.product_id FROM unnest(v_new) n);
    INSERT INTO storefront_products SELECT * FROM unnest(v_new) n ORDER BY n.product_id
    ON CONFLICT (product_id) DO UPDATE
       SET code = EXCLUDED.code, listed = EXCLUDED.listed, categories = EXCLUDED.categories,
           tokens = EXCLUDED.tokens, numbers = EXCLUDED.numbers, currency = EXCLUDED.currency,
           price = EXCLUDED.price, regular = EXCLUDED.regular, in_stock = EXCLUDED.in_stock, sold = EXCLUDED.sold,
           created_at = EXCLUDED.created_at, card = EXCLUDED.card, words = EXCLUDED.words, grams = EXCLUDED.grams,
           stale_at = EXCLUDED.stale_at, computed_at = EXCLUDED.computed_at;
    INSERT INTO storefront_words (word, signature)
    SELECT w.lexeme, array_to_string(ARRAY(SELECT ch FROM regexp_split_to_table(w.lexeme, '') ch ORDER BY ch), '')
      FROM (SELECT DISTINCT u.lexeme FROM unnest(v_new) n CROSS JOIN LATERAL unnest(n.words) u
             WHERE length(u.lexeme) BETWEEN 3 AND 40 AND u.lexeme ~ '^[a-z]+$') w
     WHERE NOT EXISTS (SELECT 1 FROM storefront_words x WHERE x.word = w.lexeme)
     ORDER BY w.lexeme
    ON CONFLICT DO NOTHING;

    -- the pages: one per listed product and configured locale
    v_docs := ARRAY(
        SELECT ROW(f.code, f.locale, f.product_id, convert_to(f.doc::text, 'UTF8'),
                   '"' || left(md5(f.doc::text), 24) || '"', f.stale_at)::storefront_documents
          FROM (SELECT n.product_id, n.code, l.locale, merch_storefront_document(n.product_id, l.locale, v_at) AS doc,
                       n.stale_at
                  FROM unnest(v_new) n CROSS JOIN storefront_config c CROSS JOIN LATERAL unnest(c.locales) l(locale)
                 WHERE n.listed) f);
    -- which top-level parts of a page changed, per product (for the feed); `besides_stock`: the same when
    -- in-stock flags are left out (a product going in or out of stock has its own event)
    SELECT jsonb_object_agg(x.product_id::text, jsonb_build_object('all', x.changed, 'besides_stock', x.besides))
      INTO v_changed
      FROM (SELECT f.product_id, jsonb_agg(DISTINCT k.key) AS changed,
                   coalesce(jsonb_agg(DISTINCT k.key) FILTER (
                       WHERE merch_page_part(k.key, convert_from(d.body, 'UTF8')::jsonb -> k.key)
                             IS DISTINCT FROM merch_page_part(k.key, k.value)), '[]') AS besides
              FROM unnest(v_docs) f
              JOIN storefront_documents d ON d.code = f.code AND d.locale = f.locale AND d.etag <> f.etag
             CROSS JOIN LATERAL jsonb_each(convert_from(f.body, 'UTF8')::jsonb) k
             WHERE k.key <> 'locale' AND convert_from(d.body, 'UTF8')::jsonb -> k.key IS DISTINCT FROM k.value
             GROUP BY f.product_id) x;
    DELETE FROM storefront_documents d
     WHERE d.product_id = ANY (p_products)
       AND (d.code, d.locale) NOT IN (SELECT f.code, f.locale FROM unnest(v_docs) f);
    INSERT INTO storefront_documents SELECT * FROM unnest(v_docs) f ORDER BY f.code, f.locale
    ON CONFLICT (code, locale) DO UPDATE
       SET product_id = EXCLUDED.product_id, body = EXCLUDED.body, etag = EXCLUDED.etag, stale_at = EXCLUDED.stale_at
     WHERE storefront_documents.etag IS DISTINCT FROM EXCLUDED.etag
        OR storefront_documents.stale_at IS DISTINCT FROM EXCLUDED.stale_at;

    INSERT INTO events_pending (txid, type, code, fields)
    SELECT pg_current_xact_id(), e.type, e.code, e.fields
      FROM (SELECT n.code, 'product.listed' AS type, '{}'::text[] AS fields, n.product_id, 1 AS k
              FROM unnest(v_new) n LEFT JOIN unnest(v_old) o ON o.product_id = n.product_id
             WHERE n.listed AND NOT coalesce(o.listed, false)
            UNION ALL
            SELECT o.code, 'product.delisted', '{}', o.product_id, 1
              FROM unnest(v_old) o LEFT JOIN unnest(v_new) n ON n.product_id = o.product_id
             WHERE o.listed AND NOT coalesce(n.listed, false)
            UNION ALL
            SELECT n.code, CASE WHEN n.in_stock THEN 'product.in_stock' ELSE 'product.out_of_stock' END, '{}',
                   n.product_id, 2
              FROM unnest(v_new) n JOIN unnest(v_old) o ON o.product_id = n.product_id
             WHERE n.listed AND o.listed AND n.in_stock <> o.in_stock
            UNION ALL
            SELECT n.code, 'product.changed', c.fields, n.product_id, 3
              FROM unnest(v_new) n JOIN unnest(v_old) o ON o.product_id = n.product_id
             CROSS JOIN LATERAL (
                SELECT ARRAY(SELECT jsonb_array_elements_text(
                                 v_changed -> n.product_id::text -> CASE WHEN n.in_stock <> o.in_stock
                                                                         THEN 'besides_stock' ELSE 'all' END)
                              ORDER BY 1) AS fields) c
             WHERE n.listed AND o.listed AND cardinality(c.fields) > 0) e
     ORDER BY e.product_id, e.k;

    -- the other products of a series list this one: refresh them when its card or listing changed
    v_moved := ARRAY(SELECT n.product_id FROM unnest(v_new) n LEFT JOIN unnest(v_old) o ON o.product_id = n.product_id
                      WHERE (n.listed OR coalesce(o.listed, false))
                        AND (o.product_id IS NULL OR n.listed <> o.listed OR n.card <> o.card));
    IF cardinality(v_moved) > 0 THEN
        PERFORM merch_touch('storefront', ARRAY(
            SELECT DISTINCT b.product_id FROM product_series a JOIN product_series b ON b.series_id = a.series_id
             WHERE a.product_id = ANY (v_moved) AND b.product_id <> ALL (p_products)
               AND EXISTS (SELECT 1 FROM storefront_products s WHERE s.product_id = b.product_id AND s.listed)));
    END IF;
    PERFORM merch_queue_flush_events();
END
$$;

-- Events of this transaction go to the feed at its commit, with ids in commit order: the flush takes an
-- exclusive lock that is held until the commit, so a reader that sees an event sees every smaller id.
CREATE FUNCTION merch_queue_flush_events() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM events_pending WHERE txid = pg_current_xact_id()) THEN
        PERFORM merch_queue_refresh();  -- the refresh at commit flushes them (merch_refresh_pending)
    END IF;
END
$$;

CREATE FUNCTION merch_flush_events() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_tx xid8 := pg_current_xact_id_if_assigned();
BEGIN
    IF v_tx IS NULL OR NOT EXISTS (SELECT 1 FROM events_pending WHERE txid = v_tx) THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7306086913658319983);  -- 'events' in the feed's own key space
    WITH gone AS (DELETE FROM events_pending WHERE txid = v_tx RETURNING n, type, code, fields)
    INSERT INTO events (type, code, fields) SELECT g.type, g.code, g.fields FROM gone g ORDER BY g.n;
END
$$;

-- Categories: a change of labels, place or position is an event; the products below a category that moved
-- or was renamed are due for a refresh (their category ids and search words), which the runner does.
CREATE FUNCTION merch_categories_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO events_pending (txid, type, code)
        SELECT pg_current_xact_id(), 'category.removed', o.code FROM old_rows o ORDER BY o.code;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO events_pending (txid, type, code, fields)
        SELECT pg_current_xact_id(), 'category.changed', n.code, '{labels,parent,position}' FROM new_rows n
         ORDER BY n.code;
    ELSE
        INSERT INTO events_pending (txid, type, code, fields)
        SELECT pg_current_xact_id(), 'category.changed', n.code,
               ARRAY(SELECT f FROM unnest(ARRAY['labels', 'parent', 'position']) f
                      WHERE (f = 'labels' AND n.labels IS DISTINCT FROM o.labels)
                         OR (f = 'parent' AND n.path IS DISTINCT FROM o.path)
                         OR (f = 'position' AND n.position IS DISTINCT FROM o.position))
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE (n.labels, n.path, n.position) IS DISTINCT FROM (o.labels, o.path, o.position)
         ORDER BY n.code;
        PERFORM merch_storefront_due(ARRAY(
            SELECT s.product_id FROM storefront_products s
             WHERE s.categories && ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                          WHERE (n.labels, n.path) IS DISTINCT FROM (o.labels, o.path))));
    END IF;
    PERFORM merch_queue_flush_events();
    RETURN NULL;
END
$$;
CREATE TRIGGER categories_inserted_events AFTER INSERT ON categories
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_categories_changed();
CREATE TRIGGER categories_updated_events AFTER UPDATE ON categories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_categories_changed();
CREATE TRIGGER categories_deleted_events AFTER DELETE ON categories
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_categories_changed();

-- What the pages show of attributes, options, groups, series, roles and promotions changed: the products
-- that show them are due (stale at once); the runner refreshes them in chunks, and a page read meanwhile is
-- computed on the spot (never a stale copy: an attribute made internal leaves every page at once).
CREATE FUNCTION merch_storefront_due(p_products bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE storefront_products s SET stale_at = '-infinity'
     WHERE s.product_id = ANY (p_products) AND (s.stale_at IS NULL OR s.stale_at > '-infinity');
    UPDATE storefront_documents d SET stale_at = '-infinity'
     WHERE d.product_id = ANY (p_products) AND (d.stale_at IS NULL OR d.stale_at > '-infinity');
$$;

CREATE FUNCTION merch_storefront_attributes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_storefront_due(ARRAY(
        SELECT p.id FROM products p
         WHERE p.attributes ?| ARRAY(SELECT n.code::text FROM new_rows n JOIN old_rows o ON o.id = n.id
                                      WHERE (n.labels, n.visibility, n.display_priority, n.group_id, n.type)
                                            IS DISTINCT FROM (o.labels, o.visibility, o.display_priority, o.group_id, o.type))));
    RETURN NULL;
END
$$;
CREATE TRIGGER attributes_updated_storefront AFTER UPDATE ON attributes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_attributes_changed();

CREATE FUNCTION merch_storefront_options_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_storefront_due(ARRAY(
        SELECT p.id FROM products p
         WHERE p.attributes ?| ARRAY(SELECT a.code::text FROM attributes a
                                      WHERE a.id IN (SELECT n.attribute_id FROM new_rows n))));
    RETURN NULL;
END
$$;
CREATE TRIGGER attribute_options_updated_storefront AFTER UPDATE ON attribute_options
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_options_changed();

CREATE FUNCTION merch_storefront_labels_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_storefront_due(CASE TG_TABLE_NAME
        WHEN 'series' THEN ARRAY(SELECT ps.product_id FROM product_series ps
                                  WHERE ps.series_id IN (SELECT n.id FROM new_rows n))
        WHEN 'roles' THEN ARRAY(SELECT p.id FROM products p WHERE p.role_id IN (SELECT n.id FROM new_rows n))
        WHEN 'attribute_groups' THEN ARRAY(
            SELECT p.id FROM products p
             WHERE p.attributes ?| ARRAY(SELECT a.code::text FROM attributes a
                                          WHERE a.group_id IN (SELECT n.id FROM new_rows n)))
        WHEN 'promotions' THEN ARRAY(SELECT DISTINCT s.product_id FROM promotion_items i JOIN skus s ON s.id = i.sku_id
                                      WHERE i.promotion_id IN (SELECT n.id FROM new_rows n))
    END);
    RETURN NULL;
END
$$;
CREATE TRIGGER series_updated_storefront AFTER UPDATE ON series
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_storefront_labels_changed();
CREATE TRIGGER roles_updated_storefront AFTER UPDATE ON roles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_storefront_labels_changed();
CREATE TRIGGER attribute_groups_updated_storefront AFTER UPDATE ON attribute_groups
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_storefront_labels_changed();
CREATE TRIGGER promotions_updated_storefront AFTER UPDATE ON promotions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_storefront_labels_changed();

-- Stock: only a bin whose available quantity crosses zero can change a product's in-stock flag (a row
-- trigger whose WHEN is false queues nothing: the warehouse's hot path pays for a crossing only).
CREATE FUNCTION merch_touch_stock_crossed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_touch('storefront', ARRAY(SELECT s.product_id FROM skus s
                                             WHERE s.id = CASE TG_OP WHEN 'DELETE' THEN OLD.sku_id ELSE NEW.sku_id END));
    RETURN NULL;
END
$$;
CREATE TRIGGER stock_levels_updated_crossed AFTER UPDATE ON stock_levels FOR EACH ROW
    WHEN ((OLD.on_hand > OLD.reserved) <> (NEW.on_hand > NEW.reserved) OR OLD.sku_id <> NEW.sku_id)
    EXECUTE FUNCTION merch_touch_stock_crossed();
CREATE TRIGGER stock_levels_inserted_crossed AFTER INSERT ON stock_levels FOR EACH ROW
    WHEN (NEW.on_hand > NEW.reserved) EXECUTE FUNCTION merch_touch_stock_crossed();
CREATE TRIGGER stock_levels_deleted_crossed AFTER DELETE ON stock_levels FOR EACH ROW
    WHEN (OLD.on_hand > OLD.reserved) EXECUTE FUNCTION merch_touch_stock_crossed();
