-- The storefront read model (migration 0007): what a shop and customer service read, kept current by the
-- refresh point (sql/functions/refresh.sql, model `storefront`) and written as the change feed.
--
-- merch_refresh_storefront(products) recomputes, for each product: its storefront_products row (filters,
-- sorts, card, search words; of a product that is not listed, only what customer service's lookup reads: see
-- merch_storefront_rows), and — when it is listed — its product page per configured locale as the bytes the
-- API sends (storefront_documents), with an ETag. What changed for a cache (listed, delisted,
-- changed and which parts, in stock, out of stock) goes to events_pending, flushed into `events` in commit
-- order at the end of the refresh (merch_flush_events). Only public attribute values, sale and promotion
-- prices and an in-stock flag ever enter this model: no cost, distribution price, supplier or bin.

-- The text of a locale map in its first locale (by code).
CREATE FUNCTION merch_localized_first(p_map jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT e.value FROM jsonb_each_text(p_map) e ORDER BY e.key LIMIT 1
$$;

-- The text of a locale map in a locale, else in the default locale, else in its first locale. (No subquery of
-- its own: the planner inlines it — a page calls it some thirty times — and the first locale is looked for
-- only when neither is there, and never in no map: an attribute of no group, ~5 µs a call saved.)
CREATE FUNCTION merch_localized(p_map jsonb, p_locale text, p_default text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_map IS NOT NULL
                THEN coalesce(p_map ->> p_locale, p_map ->> p_default, merch_localized_first(p_map)) END
$$;

-- The decimal places of a currency (ISO 4217 minor units): those of domain/money.py's CURRENCIES, which
-- tests/db/test_money_format.py holds this to (2 for every currency not named here).
CREATE FUNCTION merch_currency_decimals(p_currency text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_currency IN ('CLP', 'ISK', 'JPY', 'KRW', 'VND') THEN 0
                WHEN p_currency IN ('BHD', 'JOD', 'KWD', 'OMR', 'TND') THEN 3
                ELSE 2 END
$$;

-- An amount as the API writes money (domain/money.py `money`): {"amount": "199.00", "currency": "CNY"}, the
-- amount a string in the currency's own decimals ("1990" for JPY), more only when the amount has more; null
-- for none. (STABLE, as jsonb_build_object is: the planner inlines it — an IMMUTABLE function whose body is
-- not is called instead, ~6 µs a call, four a page's SKU.)
CREATE FUNCTION merch_money(p_amount numeric, p_currency text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_amount IS NULL THEN 'null'::jsonb
                ELSE jsonb_build_object(
                    'amount', CASE WHEN p_amount = round(p_amount, merch_currency_decimals(p_currency))
                                   THEN round(p_amount, merch_currency_decimals(p_currency))::text
                                   ELSE trim_scale(p_amount)::text END,
                    'currency', p_currency) END
$$;

-- The price a shopper pays for a SKU: the promotion's while one runs and it is lower (or there is no sale
-- price), else the sale price.
CREATE FUNCTION merch_shown_price(p_promotion numeric, p_sale numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(least(p_promotion, p_sale), p_promotion)
$$;

-- Whether that price is the promotion's: a running promotion at a price not below the sale price is not
-- the shopper's (the sale price wins a tie, as in list_shopper_prices), and a page does not name it.
CREATE FUNCTION merch_promotion_applies(p_promotion numeric, p_sale numeric) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_promotion IS NOT NULL AND (p_sale IS NULL OR p_promotion < p_sale)
$$;

-- Per SKU of a product, at p_at in currency p_currency: the sale price in force, the lowest price of a
-- running promotion (and which), whether any bin holds available stock, and the next moment one of these
-- prices starts or stops (stale_at).
CREATE FUNCTION merch_storefront_skus(p_product bigint, p_currency text, p_at timestamptz)
RETURNS TABLE (sku_id bigint, sku text, barcode text, axes jsonb, sale numeric, promotion_price numeric,
               promotion_code text, promotion_labels jsonb, promotion_ends_at timestamptz, in_stock boolean,
               stale_at timestamptz)
LANGUAGE sql STABLE AS $$
    -- (a SKU of no axes reads no attribute: ~40 µs a write of a product of such SKUs)
    SELECT s.id, s.sku, s.barcode, CASE WHEN s.axes = '{}' THEN s.axes ELSE merch_public_attributes(s.axes) END,
           (SELECT max(pr.amount) FROM prices pr
             WHERE pr.sku_id = s.id AND pr.kind = 'sale' AND pr.currency = p_currency
               AND pr.valid_from <= p_at AND (pr.valid_to IS NULL OR pr.valid_to > p_at)),
           promo.price, promo.code, promo.labels, promo.ends_at,
           -- (LIMIT 1: one index probe per SKU in any plan, never a hashed scan of every bin; a quarantine bin
           -- never counts)
           coalesce((SELECT true FROM stock_levels l JOIN locations q ON q.id = l.location_id
                      WHERE l.sku_id = s.id AND l.on_hand > l.reserved AND NOT q.quarantine LIMIT 1), false),
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

-- A product's card as a category page or a search shows it, in a locale (p_default: the catalog's default),
-- at p_at: the stored card, its price computed now when it went stale with time. (An SQL function the
-- planner inlines: the price of a current card costs nothing.)
CREATE FUNCTION merch_storefront_card(s storefront_products, p_locale text, p_default text, p_at timestamptz)
RETURNS TABLE (label text, image text, role text, series text[], currency text, price numeric, regular numeric,
               in_stock boolean)
LANGUAGE sql STABLE AS $$
    SELECT merch_localized(s.card -> 'labels', p_locale, p_default), s.card ->> 'image', s.card ->> 'role',
           ARRAY(SELECT jsonb_array_elements_text(s.card -> 'series')), s.currency,
           coalesce(n.price, s.price), coalesce(n.regular, s.regular), s.in_stock
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
          SELECT min(merch_shown_price(x.promotion_price, x.sale)) AS price, min(x.sale) AS regular
            FROM merch_storefront_skus(s.product_id, s.currency, p_at) x
           WHERE s.stale_at <= p_at) n ON true
$$;

-- The SKUs of some products as merch_storefront_skus sees them, with their product: computed once per
-- refresh for the row and the pages alike.
CREATE TYPE merch_storefront_sku AS (
    product_id bigint, sku_id bigint, sku text, barcode text, axes jsonb, sale numeric, promotion_price numeric,
    promotion_code text, promotion_labels jsonb, promotion_ends_at timestamptz, in_stock boolean,
    stale_at timestamptz
);
CREATE FUNCTION merch_storefront_sku_rows(p_products bigint[], p_at timestamptz)
RETURNS SETOF merch_storefront_sku LANGUAGE sql STABLE AS $$
    SELECT p.id, s.* FROM unnest(p_products) AS p(id) CROSS JOIN storefront_config c
     CROSS JOIN LATERAL merch_storefront_skus(p.id, c.currency, p_at) s
$$;

-- Some products' public attribute values with what the pages show of them, each product's in shopper-
-- attention order (`n`): the nearest binding's display priority in its home category's attribute set, else
-- the attribute's own; then the binding's position and the code. Two ways, one of which runs by the number of
-- products (the other under a one-time filter): for more than 20, set-based — the bindings of each home
-- category resolved once, the public attributes hashed; for a write's few (a generic plan), by index — each
-- value's attribute by its code, its nearest binding among its product's home category's ancestors, which
-- are the ids of that category's path (no look-up of the ancestors; ~0.2 ms less a product than hashing
-- every public attribute and finding each value's ancestors anew).
CREATE TYPE merch_storefront_value AS (
    product_id bigint, n bigint, code text, type text, labels jsonb, group_code text, group_labels jsonb,
    value jsonb, options jsonb, base numeric
);
CREATE FUNCTION merch_storefront_values(p_products bigint[])
RETURNS SETOF merch_storefront_value
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT p.id, p.category_id, p.attributes FROM products p WHERE p.id = ANY (p_products)
    ), bindings AS (
        SELECT DISTINCT ON (c.category_id, ca.attribute_id) c.category_id, ca.attribute_id, ca.display_priority,
               ca.position
          FROM (SELECT DISTINCT p.category_id FROM p) c
          JOIN categories leaf ON leaf.id = c.category_id
          JOIN categories anc ON anc.path @> leaf.path
          JOIN category_attributes ca ON ca.category_id = anc.id
         ORDER BY c.category_id, ca.attribute_id, nlevel(anc.path) DESC
    ), vals AS (
        SELECT p.id AS product_id, a.id AS attribute_id, a.code::text AS code, a.type, a.labels,
               g.code::text AS group_code, g.labels AS group_labels,
               coalesce(b.display_priority, a.display_priority) AS priority, b.position, v.value
          FROM p CROSS JOIN LATERAL jsonb_each(p.attributes) v
          JOIN attributes a ON a.code = v.key AND a.visibility = 'public'
          LEFT JOIN attribute_groups g ON g.id = a.group_id
          LEFT JOIN bindings b ON b.category_id = p.category_id AND b.attribute_id = a.id
         WHERE cardinality(p_products) > 20
        UNION ALL
        SELECT p.id, a.id, a.code, a.type, a.labels, a.group_code, a.group_labels,
               coalesce(n.display_priority, a.display_priority), n.position, v.value
          FROM p JOIN (SELECT c.id, string_to_array(c.path::text, '.')::bigint[] AS ancestors FROM categories c) leaf
            ON leaf.id = p.category_id
         CROSS JOIN LATERAL jsonb_each(p.attributes) v
         -- (LIMIT 1 — a code names one attribute — keeps it a probe of the code's index in a generic plan)
         CROSS JOIN LATERAL (
              SELECT a.id, a.code::text AS code, a.type, a.labels, a.display_priority, g.code::text AS group_code,
                     g.labels AS group_labels
                FROM attributes a LEFT JOIN attribute_groups g ON g.id = a.group_id
               WHERE a.code = v.key AND a.visibility = 'public'
               LIMIT 1) a
          LEFT JOIN LATERAL (
              SELECT ca.display_priority, ca.position
                FROM category_attributes ca
               WHERE ca.category_id = ANY (leaf.ancestors) AND ca.attribute_id = a.id
               ORDER BY array_position(leaf.ancestors, ca.category_id) DESC LIMIT 1) n ON true
         WHERE cardinality(p_products) <= 20
    )
    SELECT v.product_id,
           row_number() OVER (PARTITION BY v.product_id ORDER BY v.priority DESC, v.position NULLS LAST, v.code),
           v.code, v.type, v.labels, v.group_code, v.group_labels, v.value,
           -- (the labels of the options a value names: a page shows them for selects alone — not looked up
           -- for the other values, most of a product's)
           CASE WHEN v.type IN ('select', 'multiselect') THEN
               (SELECT jsonb_object_agg(o.code, o.labels) FROM attribute_options o
                 WHERE o.attribute_id = v.attribute_id
                   AND o.code::text IN (SELECT jsonb_array_elements_text(
                                          CASE jsonb_typeof(v.value) WHEN 'array' THEN v.value
                                               ELSE jsonb_build_array(v.value) END))) END,
           CASE WHEN v.type IN ('integer', 'decimal') AND jsonb_typeof(v.value) IN ('number', 'string')
                     AND (v.value #>> '{}') ~ '^-?[0-9]+(\.[0-9]+)?$' THEN (v.value #>> '{}')::numeric
                WHEN v.type = 'measurement' THEN
                     (SELECT (v.value ->> 'value')::numeric * u.factor FROM units u WHERE u.unit = v.value ->> 'unit'
                       AND (v.value ->> 'value') ~ '^-?[0-9]+(\.[0-9]+)?$') END
      FROM vals v;
END
$$;

-- What the page shows of a select's or a multiselect's value in a locale: its options' labels.
CREATE FUNCTION merch_storefront_options_display(p_value jsonb, p_options jsonb, p_locale text, p_default text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(coalesce(merch_localized(p_options -> x.v, p_locale, p_default), x.v), ', ' ORDER BY x.n)
      FROM jsonb_array_elements_text(CASE jsonb_typeof(p_value) WHEN 'array' THEN p_value
                                          ELSE jsonb_build_array(p_value) END) WITH ORDINALITY x(v, n)
$$;

-- What the page shows of one value in a locale: option labels, a measurement with its unit, yes / no. (No
-- subquery of its own, STABLE as concat_ws is: the planner inlines it — a page calls it for every value in
-- every locale, ~8 µs a call when it is not — and only the selects' call the options' function.)
CREATE FUNCTION merch_storefront_display(p_type text, p_value jsonb, p_options jsonb, p_locale text, p_default text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_type IN ('select', 'multiselect') THEN
            merch_storefront_options_display(p_value, p_options, p_locale, p_default)
        WHEN p_type = 'measurement' THEN concat_ws(' ', p_value ->> 'value', p_value ->> 'unit')
        WHEN p_type = 'boolean' THEN CASE WHEN p_value = 'true' THEN
            CASE WHEN p_locale LIKE 'zh%' THEN '是' ELSE 'yes' END
            ELSE CASE WHEN p_locale LIKE 'zh%' THEN '否' ELSE 'no' END END
        ELSE p_value #>> '{}'
    END
$$;

-- The product pages of some listed products in every configured locale, at p_at, set-based: what GET
-- /v1/storefront/products/{code} sends, but for its series (kept per series: storefront_series, spliced in
-- by merch_storefront_page). Each product's SKUs and attributes are computed once, then written out per
-- locale. Public attribute values only; the sale price or the running promotion's; in stock; never a
-- cost, a distribution price, a supplier or a bin.
CREATE FUNCTION merch_storefront_pages(p_products bigint[], p_at timestamptz, p_values merch_storefront_value[],
                                       p_skus merch_storefront_sku[])
RETURNS TABLE (product_id bigint, code text, locale text, doc jsonb)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH cfg AS (
        SELECT c.locales, c.locales[1] AS def, c.currency FROM storefront_config c
    ), p AS (
        SELECT p.id, p.code::text AS code, p.labels, p.description, p.selling_points, p.images,
               r.code::text AS role_code, r.labels AS role_labels, c.code::text AS cat_code, c.labels AS cat_labels
          FROM products p JOIN roles r ON r.id = p.role_id JOIN categories c ON c.id = p.category_id
         WHERE p.id = ANY (p_products) AND p.lifecycle = 'listed'
    ), loc AS (
        SELECT l.locale, cfg.def FROM cfg CROSS JOIN LATERAL unnest(cfg.locales) l(locale)
    ), sk AS (
        SELECT * FROM unnest(p_skus)
    ), at AS (
        SELECT * FROM unnest(p_values)
    ), sk_page AS (
        SELECT sk.product_id, loc.locale,
               merch_money(min(merch_shown_price(sk.promotion_price, sk.sale)), cfg.currency) AS price,
               merch_money(min(sk.sale), cfg.currency) AS regular, bool_or(sk.in_stock) AS in_stock,
               jsonb_agg(jsonb_build_object(
                   'sku', sk.sku, 'barcode', sk.barcode, 'axes', sk.axes,
                   'price', merch_money(merch_shown_price(sk.promotion_price, sk.sale), cfg.currency),
                   'regular_price', merch_money(sk.sale, cfg.currency),
                   'promotion', CASE WHEN merch_promotion_applies(sk.promotion_price, sk.sale) THEN jsonb_build_object(
                       'code', sk.promotion_code, 'label', merch_localized(sk.promotion_labels, loc.locale, loc.def),
                       'ends_at', sk.promotion_ends_at) END,
                   'in_stock', sk.in_stock) ORDER BY sk.sku) AS skus
          FROM sk CROSS JOIN loc CROSS JOIN cfg GROUP BY sk.product_id, loc.locale, cfg.currency
    ), groups AS (
        SELECT at.product_id, loc.locale, at.group_code, min(at.n) AS first,
               max(merch_localized(at.group_labels, loc.locale, loc.def)) AS label,
               jsonb_agg(jsonb_build_object(
                   'code', at.code, 'label', merch_localized(at.labels, loc.locale, loc.def), 'type', at.type,
                   'value', at.value,
                   'display', merch_storefront_display(at.type, at.value, at.options, loc.locale, loc.def))
                   ORDER BY at.n) AS attributes
          FROM at CROSS JOIN loc GROUP BY at.product_id, loc.locale, at.group_code
    ), at_page AS (
        SELECT g.product_id, g.locale,
               jsonb_agg(jsonb_build_object('code', g.group_code, 'label', g.label, 'attributes', g.attributes)
                         ORDER BY g.first) AS groups
          FROM groups g GROUP BY g.product_id, g.locale
    )
    SELECT p.id, p.code, loc.locale, jsonb_build_object(
        'code', p.code,
        'locale', loc.locale,
        'label', merch_localized(p.labels, loc.locale, loc.def),
        'description', merch_localized(p.description, loc.locale, loc.def),
        'selling_points', coalesce((SELECT jsonb_agg(merch_localized(sp.value, loc.locale, loc.def) ORDER BY sp.n)
                                      FROM jsonb_array_elements(p.selling_points) WITH ORDINALITY sp(value, n)), '[]'),
        'images', to_jsonb(p.images),
        'role', jsonb_build_object('code', p.role_code, 'label', merch_localized(p.role_labels, loc.locale, loc.def)),
        'category', jsonb_build_object('code', p.cat_code, 'label', merch_localized(p.cat_labels, loc.locale, loc.def)),
        'attribute_groups', coalesce(ap.groups, '[]'),
        'price', coalesce(kp.price, 'null'),
        'regular_price', coalesce(kp.regular, 'null'),
        'in_stock', coalesce(kp.in_stock, false),
        'skus', coalesce(kp.skus, '[]'))
      FROM p CROSS JOIN cfg CROSS JOIN loc
      LEFT JOIN sk_page kp ON kp.product_id = p.id AND kp.locale = loc.locale
      LEFT JOIN at_page ap ON ap.product_id = p.id AND ap.locale = loc.locale;
END
$$;

-- A series as a product page shows it, per configured locale: code, label and up to 12 of its listed
-- products (by code).
CREATE FUNCTION merch_storefront_series_docs(p_series bigint[])
RETURNS TABLE (series_id bigint, locale text, code text, doc jsonb)
LANGUAGE sql STABLE AS $$
    SELECT se.id, l.locale, se.code::text, jsonb_build_object(
        'code', se.code, 'label', merch_localized(se.labels, l.locale, c.locales[1]),
        'products', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                  'code', o.code, 'label', merch_localized(o.card -> 'labels', l.locale, c.locales[1]),
                                  'image', o.card -> 'image') ORDER BY o.code)
                                FROM (SELECT sp.code, sp.card FROM product_series ps
                                        JOIN storefront_products sp ON sp.product_id = ps.product_id AND sp.listed
                                       WHERE ps.series_id = se.id
                                       ORDER BY sp.code LIMIT 12) o), '[]'))
      FROM series se CROSS JOIN storefront_config c CROSS JOIN LATERAL unnest(c.locales) l(locale)
     WHERE se.id = ANY (p_series)
$$;

-- Recompute the series parts of product pages (lock, then compute from the latest committed data); the
-- listed products of a series whose part changed have changed pages: a `product.changed` each (but those
-- of p_skip, which have their own events).
CREATE FUNCTION merch_refresh_storefront_series(p_series bigint[], p_skip bigint[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_changed bigint[];
BEGIN
    IF cardinality(p_series) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO storefront_series (series_id, locale, code, body, etag)
    SELECT se.id, l.locale, se.code, '\x', '' FROM series se CROSS JOIN storefront_config c
     CROSS JOIN LATERAL unnest(c.locales) l(locale)
     WHERE se.id = ANY (p_series) ORDER BY se.id, l.locale
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM storefront_series s WHERE s.series_id = ANY (p_series) ORDER BY s.series_id, s.locale FOR UPDATE;
    WITH fresh AS (
        SELECT d.series_id, d.locale, d.code, convert_to(d.doc::text, 'UTF8') AS body,
               left(md5(d.doc::text), 24) AS etag
          FROM merch_storefront_series_docs(p_series) d
    ), written AS (
        UPDATE storefront_series s SET body = f.body, etag = f.etag, code = f.code
          FROM fresh f WHERE s.series_id = f.series_id AND s.locale = f.locale AND s.etag <> f.etag
        RETURNING s.series_id
    )
    SELECT array_agg(DISTINCT series_id) INTO v_changed FROM written;
    IF v_changed IS NOT NULL THEN
        INSERT INTO events_pending (txid, type, code, fields)
        SELECT pg_current_xact_id(), 'product.changed', sp.code, '{series}'
          FROM (SELECT DISTINCT ps.product_id FROM product_series ps WHERE ps.series_id = ANY (v_changed)) m
          JOIN storefront_products sp ON sp.product_id = m.product_id AND sp.listed
         WHERE m.product_id <> ALL (p_skip)
         ORDER BY sp.code;
        PERFORM merch_queue_flush_events();
    END IF;
END
$$;

-- A product page as sent: its stored document with its series parts spliced in (`"series": [...]` last),
-- and an ETag of both.
CREATE FUNCTION merch_storefront_page(p_product bigint, p_locale text, p_body bytea, p_etag text)
RETURNS TABLE (body bytea, etag text) LANGUAGE sql STABLE AS $$
    SELECT substring(p_body FROM 1 FOR length(p_body) - 1) || '\x2c2022736572696573223a205b'::bytea
               || coalesce(s.bodies, ''::bytea) || '\x5d7d'::bytea,
           '"' || left(md5(p_etag || coalesce(s.tags, '')), 24) || '"'
      FROM (SELECT string_agg(x.body, '\x2c20'::bytea ORDER BY x.code) AS bodies,
                   string_agg(x.etag, '' ORDER BY x.code) AS tags
              FROM product_series ps JOIN storefront_series x ON x.series_id = ps.series_id AND x.locale = p_locale
             WHERE ps.product_id = p_product) s
$$;

-- One product's page in one locale computed now (without its series: see merch_storefront_page), and when
-- its price next changes (its SKUs computed once for both).
CREATE FUNCTION merch_storefront_document(p_product bigint, p_locale text, p_at timestamptz)
RETURNS TABLE (doc jsonb, stale_at timestamptz) LANGUAGE sql STABLE AS $$
    WITH k AS (SELECT ARRAY(SELECT k FROM merch_storefront_sku_rows(ARRAY[p_product], p_at) k) AS skus)
    SELECT (SELECT x.doc
              FROM merch_storefront_pages(ARRAY[p_product], p_at,
                                          ARRAY(SELECT v FROM merch_storefront_values(ARRAY[p_product]) v), k.skus) x
             WHERE x.locale = p_locale),
           (SELECT min(u.stale_at) FROM unnest(k.skus) u)
      FROM k
$$;

-- The CJK characters of a text, and every pair of adjacent ones within a run (Chinese has no spaces: a
-- two-character query is found by its one pair). Its plan is generic, made once a session: it runs once a
-- product inside merch_refresh_storefront, which forces custom plans for a bulk refresh, and a SQL function
-- (not inlined: it has a FROM) planned anew at each call cost ~70 µs a product — two thirds of the storefront
-- row's cost, 40 % of a 10,000-product import's storefront refresh.
CREATE FUNCTION merch_grams(p_text text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET plan_cache_mode = 'force_generic_plan' AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{}')
      FROM regexp_matches(p_text, '[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+', 'g') AS m(run)
     CROSS JOIN LATERAL (
        SELECT substr(m.run[1], i, 1) FROM generate_series(1, length(m.run[1])) i
        UNION ALL
        SELECT substr(m.run[1], i, 2) FROM generate_series(1, length(m.run[1]) - 1) i) AS x(g)
$$;

-- The storefront rows of some products, as they are now (every lifecycle state: the row says `listed`),
-- set-based: each product's attributes and SKUs computed once. A product that is not listed is on no shelf, no
-- card list, no page and in no shop search: its row holds what customer service's lookup reads of it (its code,
-- its search words and grams, its units sold, its card) and the categories it hangs on (a renamed category
-- changes its search words: merch_categories_changed finds it by them); no facet tokens, numbers, price or
-- in-stock flag (p_values and p_skus need not have its attributes and SKUs: merch_refresh_storefront computes
-- them for listed products alone). (PL/pgSQL: its plan is kept per connection; merch_refresh_storefront says
-- which kind, see there.)
CREATE FUNCTION merch_storefront_rows(p_products bigint[], p_at timestamptz, p_values merch_storefront_value[],
                                      p_skus merch_storefront_sku[])
RETURNS SETOF storefront_products LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    WITH cfg AS (
        SELECT c.currency FROM storefront_config c
    ), p AS (
        SELECT p.*, r.code::text AS role_code FROM products p JOIN roles r ON r.id = p.role_id
         WHERE p.id = ANY (p_products)
    ), at AS (
        SELECT * FROM unnest(p_values)
    ), at_agg AS (
        SELECT at.product_id,
               array_agg(DISTINCT at.code || '=' || o.v) FILTER (WHERE at.type IN ('select', 'multiselect', 'boolean'))
                   AS tokens,
               jsonb_object_agg(at.code, at.base) FILTER (WHERE at.base IS NOT NULL AND o.n = 1) AS numbers
          FROM at CROSS JOIN LATERAL jsonb_array_elements_text(
                   CASE jsonb_typeof(at.value) WHEN 'array' THEN at.value ELSE jsonb_build_array(at.value) END)
                   WITH ORDINALITY o(v, n)
         GROUP BY at.product_id
    ), sk AS (
        SELECT * FROM unnest(p_skus)
    ), sk_agg AS (
        SELECT sk.product_id, min(merch_shown_price(sk.promotion_price, sk.sale)) AS price,
               min(sk.sale) AS regular, bool_or(sk.in_stock) AS in_stock, min(sk.stale_at) AS stale_at
          FROM sk GROUP BY sk.product_id
    ), axes AS (
        SELECT s.product_id, array_agg(DISTINCT a.code || '=' || (v.value #>> '{}')) AS tokens
          FROM p JOIN skus s ON s.product_id = p.id CROSS JOIN LATERAL jsonb_each(s.axes || s.attributes) v
          LEFT JOIN attributes a ON a.code = v.key AND a.visibility = 'public' AND a.type IN ('select', 'boolean')
         WHERE p.lifecycle = 'listed'
         GROUP BY s.product_id
    ), codes AS (
        SELECT s.product_id, string_agg(concat_ws(' ', s.sku, s.barcode), ' ') AS words
          FROM skus s WHERE s.product_id = ANY (p_products) GROUP BY s.product_id
    ), series AS (
        SELECT ps.product_id, array_agg(DISTINCT se.code::text ORDER BY se.code::text) AS codes,  -- (a row per label)
               string_agg(e.v, ' ') AS texts
          FROM product_series ps JOIN series se ON se.id = ps.series_id
          LEFT JOIN LATERAL jsonb_each_text(se.labels) e(k, v) ON true
         WHERE ps.product_id = ANY (p_products)
         GROUP BY ps.product_id
    ), cats AS (
        SELECT x.product_id, array_agg(DISTINCT a::bigint ORDER BY a::bigint) AS ids,
               string_agg(DISTINCT e.v, ' ') AS texts
          FROM (SELECT p.id AS product_id, p.category_id FROM p
                UNION SELECT pl.product_id, pl.category_id FROM product_placements pl
                       WHERE pl.product_id = ANY (p_products)) x
          JOIN categories c ON c.id = x.category_id
         CROSS JOIN LATERAL unnest(string_to_array(c.path::text, '.')) a
          LEFT JOIN LATERAL jsonb_each_text(c.labels) e(k, v) ON true
         GROUP BY x.product_id
    )
    SELECT p.id, p.code::text, p.lifecycle = 'listed',
           coalesce(cats.ids, '{}'),
           ARRAY(SELECT DISTINCT t FROM unnest(
                     coalesce(at_agg.tokens, '{}')
                     || coalesce(ARRAY(SELECT x FROM unnest(axes.tokens) x WHERE x IS NOT NULL), '{}')
                     || ARRAY['role:' || p.role_code]
                     || coalesce(ARRAY(SELECT 'series:' || c FROM unnest(series.codes) c), '{}')
                     || CASE WHEN coalesce(sk_agg.in_stock, false) THEN ARRAY['in-stock'] ELSE '{}' END
                     || coalesce(ARRAY(SELECT 'c:' || c FROM unnest(cats.ids) c), '{}')) t
                  WHERE p.lifecycle = 'listed'
                  ORDER BY 1),
           coalesce(at_agg.numbers, '{}'),
           cfg.currency, sk_agg.price::numeric(18, 4), sk_agg.regular::numeric(18, 4), coalesce(sk_agg.in_stock, false),
           coalesce((SELECT sum(t.qty) FROM sales_sku_totals t
                      WHERE t.sku_id IN (SELECT s.id FROM skus s WHERE s.product_id = p.id)), 0)::bigint,
           p.created_at,
           jsonb_build_object('code', p.code, 'labels', p.labels, 'image', p.images[1], 'role', p.role_code,
                              'series', coalesce(series.codes, '{}')),
           to_tsvector('simple', lower(concat_ws(' ', p.code, texts.all_text, codes.words))),
           merch_grams(texts.all_text),
           sk_agg.stale_at,
           p_at
      FROM p CROSS JOIN cfg
      LEFT JOIN at_agg ON at_agg.product_id = p.id
      LEFT JOIN sk_agg ON sk_agg.product_id = p.id
      LEFT JOIN axes ON axes.product_id = p.id
      LEFT JOIN codes ON codes.product_id = p.id
      LEFT JOIN series ON series.product_id = p.id
      LEFT JOIN cats ON cats.product_id = p.id
      -- (the text searched, of the rows already joined: not a second join of the categories and the series)
     CROSS JOIN LATERAL (
          SELECT concat_ws(' ',
                     (SELECT string_agg(v, ' ') FROM jsonb_each_text(p.labels) e(k, v)),
                     (SELECT string_agg(e.v, ' ') FROM jsonb_array_elements(p.selling_points) sp(x)
                       CROSS JOIN LATERAL jsonb_each_text(sp.x) e(k, v)),
                     cats.texts, series.texts) AS all_text) texts;
END
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
-- record the events; refresh the series parts of pages when a product's card or listing changed.
CREATE FUNCTION merch_refresh_storefront(p_products bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz := clock_timestamp();
    v_plans text := current_setting('plan_cache_mode');
    v_listed bigint[];
    v_values merch_storefront_value[];
    v_skus merch_storefront_sku[];
    v_old storefront_products[];
    v_new storefront_products[];
    v_docs storefront_documents[];
    v_changed jsonb;
    v_series bigint[];
    v_gone boolean;      -- a stored row whose product is no more
    v_shelved boolean;   -- a row changed in what its shelf rows hold
    v_counted boolean;   -- a row listed or delisted, or moved between categories
    v_worded boolean;    -- a row's search words changed
    v_listing boolean;   -- a row listed or delisted
BEGIN
    PERFORM 1 FROM storefront_products s WHERE s.product_id = ANY (p_products) ORDER BY s.product_id FOR UPDATE;
    -- A write refreshes a product or a few: one generic plan per connection (planning the page builders costs
    -- more than running them, ~5 ms); a bulk load or a job's chunk: plans made for the size at hand.
    PERFORM set_config('plan_cache_mode',
                       CASE WHEN cardinality(p_products) <= 20 THEN 'force_generic_plan' ELSE 'force_custom_plan' END,
                       true);
    v_old := ARRAY(SELECT s FROM storefront_products s WHERE s.product_id = ANY (p_products));
    -- (once, for the rows and the pages; of the listed products alone: see merch_storefront_rows)
    v_listed := ARRAY(SELECT p.id FROM products p WHERE p.id = ANY (p_products) AND p.lifecycle = 'listed'
                       ORDER BY p.id);
    v_values := '{}';
    v_skus := '{}';
    IF cardinality(v_listed) > 0 THEN  -- (an import's drafts: not even a plan for none, ~4 ms a chunk)
        v_values := ARRAY(SELECT v FROM merch_storefront_values(v_listed) v);
        v_skus := ARRAY(SELECT k FROM merch_storefront_sku_rows(v_listed, v_at) k);
    END IF;
    v_new := ARRAY(SELECT r FROM merch_storefront_rows(p_products, v_at, v_values, v_skus) r);
    -- what came out different, in one pass over the old and new rows: each step below that has nothing to do
    -- then (a write's refresh that changes no shelf, no listing, no word) is not run at all
    SELECT coalesce(bool_or(n.product_id IS NULL), false),
           coalesce(bool_or((n.listed, n.categories, n.tokens, n.numbers, n.price, n.created_at, n.sold)
                            IS DISTINCT FROM (o.listed, o.categories, o.tokens, o.numbers, o.price, o.created_at, o.sold)),
                    false),
           coalesce(bool_or((n.listed, n.categories) IS DISTINCT FROM (o.listed, o.categories)), false),
           coalesce(bool_or(n.words IS DISTINCT FROM o.words), false),
           coalesce(bool_or(n.listed IS DISTINCT FROM o.listed), false)
      INTO v_gone, v_shelved, v_counted, v_worded, v_listing
      FROM unnest(v_new) n FULL JOIN unnest(v_old) o ON o.product_id = n.product_id;

    IF v_gone THEN
        DELETE FROM storefront_products s WHERE s.product_id = ANY (p_products)
           AND s.product_id NOT IN (SELECT n.product_id FROM unnest(v_new) n);
    END IF;
    INSERT INTO storefront_products SELECT * FROM unnest(v_new) n ORDER BY n.product_id
    ON CONFLICT (product_id) DO UPDATE
       SET code = EXCLUDED.code, listed = EXCLUDED.listed, categories = EXCLUDED.categories,
           tokens = EXCLUDED.tokens, numbers = EXCLUDED.numbers, currency = EXCLUDED.currency,
           price = EXCLUDED.price, regular = EXCLUDED.regular, in_stock = EXCLUDED.in_stock, sold = EXCLUDED.sold,
           created_at = EXCLUDED.created_at, card = EXCLUDED.card, words = EXCLUDED.words, grams = EXCLUDED.grams,
           stale_at = EXCLUDED.stale_at, computed_at = EXCLUDED.computed_at
     -- (a row that comes out the same is left as it is — its heap tuple and its GIN entries — and keeps the
     -- moment it was last computed different: computed_at)
     WHERE (storefront_products.code, storefront_products.listed, storefront_products.categories,
            storefront_products.tokens, storefront_products.numbers, storefront_products.currency,
            storefront_products.price, storefront_products.regular, storefront_products.in_stock,
            storefront_products.sold, storefront_products.created_at, storefront_products.card,
            storefront_products.words, storefront_products.grams, storefront_products.stale_at)
           IS DISTINCT FROM
           (EXCLUDED.code, EXCLUDED.listed, EXCLUDED.categories, EXCLUDED.tokens, EXCLUDED.numbers, EXCLUDED.currency,
            EXCLUDED.price, EXCLUDED.regular, EXCLUDED.in_stock, EXCLUDED.sold, EXCLUDED.created_at, EXCLUDED.card,
            EXCLUDED.words, EXCLUDED.grams, EXCLUDED.stale_at);
    -- the shelves: a row per listed product and category it is shown under, made of the storefront row alone;
    -- only what changed is written (nothing to look at when no product's row changed in what the shelf holds)
    IF v_shelved THEN
        DELETE FROM storefront_shelf h
         WHERE h.product_id = ANY (p_products)
           AND NOT EXISTS (SELECT 1 FROM unnest(v_new) n
                            WHERE n.product_id = h.product_id AND n.listed AND h.category_id = ANY (n.categories));
        INSERT INTO storefront_shelf (category_id, product_id, tokens, numbers, price, newest, sold)
        SELECT x.* FROM (
            SELECT c.id, n.product_id, ARRAY(SELECT t FROM unnest(n.tokens) t WHERE t NOT LIKE 'c:%' OR t = 'c:' || c.id ORDER BY t) AS tokens,
                   n.numbers, n.price, -extract(epoch FROM n.created_at) AS newest, n.sold
              FROM unnest(v_new) n CROSS JOIN LATERAL unnest(n.categories) c(id)
             WHERE n.listed) x
         WHERE NOT EXISTS (SELECT 1 FROM storefront_shelf h
                            WHERE h.category_id = x.id AND h.product_id = x.product_id
                              AND (h.tokens, h.numbers, h.price, h.newest, h.sold)
                                  IS NOT DISTINCT FROM (x.tokens, x.numbers, x.price, x.newest, x.sold))
         ORDER BY x.id, x.product_id
        ON CONFLICT (category_id, product_id) DO UPDATE
           SET tokens = EXCLUDED.tokens, numbers = EXCLUDED.numbers, price = EXCLUDED.price, newest = EXCLUDED.newest,
               sold = EXCLUDED.sold;
    END IF;
    -- what each category's count of listed products gains or loses (merged once per model refresh:
    -- merch_merge_shelf_counts; nothing when no row was listed, delisted or moved)
    IF v_counted THEN
        INSERT INTO storefront_shelf_pending (txid, category_id, delta)
        SELECT pg_current_xact_id(), x.c, sum(x.d)
          FROM (SELECT c, -1 AS d FROM unnest(v_old) o CROSS JOIN LATERAL unnest(o.categories) c WHERE o.listed
                UNION ALL
                SELECT c, 1 FROM unnest(v_new) n CROSS JOIN LATERAL unnest(n.categories) c WHERE n.listed) x
         GROUP BY x.c HAVING sum(x.d) <> 0;
    END IF;
    -- (the words a row did not hold before: none when no row's words changed)
    IF v_worded THEN
        INSERT INTO storefront_words (word, signature)
        SELECT w.lexeme, array_to_string(ARRAY(SELECT ch FROM regexp_split_to_table(w.lexeme, '') ch ORDER BY ch), '')
          FROM (SELECT DISTINCT u.lexeme FROM unnest(v_new) n CROSS JOIN LATERAL unnest(n.words) u
                 WHERE length(u.lexeme) BETWEEN 3 AND 40 AND u.lexeme ~ '^[a-z]+$'
                   AND NOT EXISTS (SELECT 1 FROM unnest(v_old) o CROSS JOIN LATERAL unnest(o.words) ou
                                    WHERE o.product_id = n.product_id AND ou.lexeme = u.lexeme)) w
         WHERE NOT EXISTS (SELECT 1 FROM storefront_words x WHERE x.word = w.lexeme)
         ORDER BY w.lexeme
        ON CONFLICT DO NOTHING;
    END IF;

    -- the pages: one per listed product and configured locale (their series parts: storefront_series), each
    -- page's text made once for its bytes and its ETag; and which top-level parts of a page changed, per product
    -- (for the feed), from the pages as built and the stored pages whose ETag differs (each parsed once);
    -- `besides_stock`: the same when in-stock flags are left out (a product going in or out of stock has its own
    -- event: the flag itself, and the SKUs' list when only their flags changed). None when none is listed: their
    -- stored pages, if any, are deleted below.
    v_docs := '{}';
    IF EXISTS (SELECT 1 FROM unnest(v_new) n WHERE n.listed) THEN
        WITH fresh AS MATERIALIZED (
            SELECT f.product_id, f.code, f.locale, f.doc, convert_to(x.t, 'UTF8') AS body, left(md5(x.t), 24) AS etag,
                   n.stale_at
              FROM merch_storefront_pages(ARRAY(SELECT n.product_id FROM unnest(v_new) n WHERE n.listed), v_at,
                                          v_values, v_skus) f
              JOIN unnest(v_new) n ON n.product_id = f.product_id
             CROSS JOIN LATERAL (SELECT f.doc::text AS t OFFSET 0) x  -- (OFFSET 0: the text made once, not per use)
        )
        SELECT ARRAY(SELECT ROW(f.code, f.locale, f.product_id, f.body, f.etag, f.stale_at)::storefront_documents
                       FROM fresh f),
               (SELECT jsonb_object_agg(c.product_id::text, jsonb_build_object('all', c.changed, 'besides_stock', c.besides))
                  FROM (SELECT j.product_id, jsonb_agg(DISTINCT k.key) AS changed,
                               coalesce(jsonb_agg(DISTINCT k.key) FILTER (
                                   WHERE k.key <> 'in_stock'
                                     AND (k.key <> 'skus' OR merch_page_part('skus', j.old -> 'skus')
                                                             IS DISTINCT FROM merch_page_part('skus', k.value))),
                                   '[]') AS besides
                          FROM (SELECT f.product_id, convert_from(d.body, 'UTF8')::jsonb AS old, f.doc AS new
                                  FROM fresh f
                                  JOIN storefront_documents d ON d.code = f.code AND d.locale = f.locale AND d.etag <> f.etag) j
                         CROSS JOIN LATERAL jsonb_each(j.new) k
                         WHERE k.key <> 'locale' AND j.old -> k.key IS DISTINCT FROM k.value
                         GROUP BY j.product_id) c)
          INTO v_docs, v_changed;
    END IF;
    DELETE FROM storefront_documents d
     WHERE d.product_id = ANY (p_products)
       AND NOT EXISTS (SELECT 1 FROM unnest(v_docs) f WHERE f.code = d.code AND f.locale = d.locale);
    INSERT INTO storefront_documents SELECT * FROM unnest(v_docs) f ORDER BY f.code, f.locale
    ON CONFLICT (code, locale) DO UPDATE
       SET product_id = EXCLUDED.product_id, body = EXCLUDED.body, etag = EXCLUDED.etag, stale_at = EXCLUDED.stale_at
     WHERE storefront_documents.etag IS DISTINCT FROM EXCLUDED.etag
        OR storefront_documents.stale_at IS DISTINCT FROM EXCLUDED.stale_at;

    -- (nothing to look for when no product was listed or delisted and no stored page changed: a listed
    -- product that goes in or out of stock changes its pages' in-stock flags)
    IF v_changed IS NOT NULL OR v_listing THEN
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
    END IF;

    -- a series part of pages lists products by card: refresh the series of products whose card or
    -- listing changed (before and after)
    v_series := ARRAY(
        SELECT DISTINCT se.id
          FROM unnest(v_new) n FULL JOIN unnest(v_old) o ON o.product_id = n.product_id
         CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(n.card -> 'series', '[]') || coalesce(o.card -> 'series', '[]')) c(code)
          JOIN series se ON se.code = c.code
         WHERE n.product_id IS NULL OR o.product_id IS NULL OR n.listed <> o.listed OR n.card <> o.card
         ORDER BY se.id);
    PERFORM set_config('plan_cache_mode', v_plans, true);
    PERFORM merch_refresh_storefront_series(v_series, p_products);
    PERFORM merch_queue_flush_events();
END
$$;

-- Units sold of some products (p_products: in id order) as merch_storefront_rows computes them — the per-SKU
-- totals of every currency, net of returns — written to their storefront row and shelf rows, only where
-- the number changed and nothing else, without the cost of a full refresh: what the refresh point's clock
-- does for the products sales writes queued (merch_queue_storefront_sold). The rows are locked first, in
-- product id order, then computed from the latest committed totals. Not an event: the number is on no
-- page or card, and it moves with every sale; a category page's or a search's order it changes changes
-- that answer's bytes and so its ETag.
CREATE FUNCTION merch_refresh_storefront_sold(p_products bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(p_products) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM storefront_products s WHERE s.product_id = ANY (p_products) ORDER BY s.product_id FOR UPDATE;
    WITH fresh AS (
        SELECT p.id AS product_id, coalesce(sum(t.qty), 0)::bigint AS sold
          FROM unnest(p_products) AS p(id)
          LEFT JOIN skus k ON k.product_id = p.id
          LEFT JOIN sales_sku_totals t ON t.sku_id = k.id
         GROUP BY p.id
    ), written AS (
        UPDATE storefront_products s SET sold = f.sold
          FROM fresh f
         WHERE s.product_id = f.product_id AND s.sold <> f.sold
        RETURNING s.product_id, s.sold
    )
    UPDATE storefront_shelf h SET sold = w.sold
      FROM written w
     WHERE h.product_id = w.product_id AND h.sold <> w.sold;
END
$$;

-- Queue the products whose units sold a sales write moved (p_products: in id order), for the clock to
-- write to the storefront (migration 0020): a product already queued keeps its first moment, and its row
-- is locked until this transaction ends (the clock skips it meanwhile: it never takes a product away
-- before it can see every total this transaction moved).
CREATE FUNCTION merch_queue_storefront_sold(p_products bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO storefront_sold_due AS d (product_id, since)
    SELECT x.id, clock_timestamp() FROM unnest(p_products) AS x(id) ORDER BY x.id
    ON CONFLICT (product_id) DO UPDATE SET since = d.since;
$$;

-- The counts of listed products per category (navigation), brought up to date with what this
-- transaction's storefront refreshes recorded: one statement, in key order (two writers that list products
-- of the same categories wait for one another in one order, never in a cycle).
CREATE FUNCTION merch_merge_shelf_counts() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_tx xid8 := pg_current_xact_id_if_assigned();
BEGIN
    IF v_tx IS NULL THEN
        RETURN;
    END IF;
    WITH gone AS (
        DELETE FROM storefront_shelf_pending WHERE txid = v_tx RETURNING category_id, delta
    )
    INSERT INTO storefront_shelf_counts AS c (category_id, listed)
    SELECT g.category_id, sum(g.delta) FROM gone g
     WHERE EXISTS (SELECT 1 FROM categories k WHERE k.id = g.category_id)
     GROUP BY g.category_id HAVING sum(g.delta) <> 0
     ORDER BY g.category_id
    ON CONFLICT (category_id) DO UPDATE SET listed = c.listed + EXCLUDED.listed;
END
$$;

-- Events of this transaction go to the feed at its commit, with ids in commit order: the flush takes an
-- exclusive lock that is held until the commit, so a reader that sees an event sees every smaller id.
CREATE FUNCTION merch_queue_flush_events() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('merch.flushing_after', true) IS DISTINCT FROM 'on'  -- (not within the refresh at commit)
       AND EXISTS (SELECT 1 FROM events_pending WHERE txid = pg_current_xact_id()) THEN
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

-- What the pages show of attributes, options, groups, roles and promotions changed: the products
-- that show them are due (stale at once); the runner refreshes them in chunks, and a page read meanwhile is
-- computed on the spot (never a stale copy: an attribute made internal leaves every page at once).
CREATE FUNCTION merch_storefront_due(p_products bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE storefront_products s SET stale_at = '-infinity'
     WHERE s.product_id = ANY (p_products) AND (s.stale_at IS NULL OR s.stale_at > '-infinity');
    UPDATE storefront_documents d SET stale_at = '-infinity'
     WHERE d.product_id = ANY (p_products) AND (d.stale_at IS NULL OR d.stale_at > '-infinity');
$$;

-- The products that show some attributes: by their own values, or their SKUs' axes and values.
CREATE FUNCTION merch_storefront_showing(p_attributes text[]) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT p.id FROM products p WHERE p.attributes ?| p_attributes
                 UNION
                 SELECT s.product_id FROM skus s WHERE s.axes ?| p_attributes OR s.attributes ?| p_attributes)
$$;

-- What a page shows of an attribute, its options or its group changed (an update that changes none of it —
-- a PUT of the same options — marks nothing).
CREATE FUNCTION merch_storefront_attributes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_attributes text[];
BEGIN
    -- (one statement per table: a transition table has that table's columns)
    IF TG_TABLE_NAME = 'attributes' THEN
        v_attributes := ARRAY(
            SELECT n.code::text FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.labels, n.visibility, n.display_priority, n.group_id, n.type)
                   IS DISTINCT FROM (o.labels, o.visibility, o.display_priority, o.group_id, o.type));
    ELSIF TG_TABLE_NAME = 'attribute_options' THEN
        v_attributes := ARRAY(
            SELECT a.code::text FROM attributes a
             WHERE a.id IN (SELECT n.attribute_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                             WHERE (n.code, n.labels, n.position) IS DISTINCT FROM (o.code, o.labels, o.position)));
    ELSE
        v_attributes := ARRAY(
            SELECT a.code::text FROM attributes a
             WHERE a.group_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                   WHERE (n.code, n.labels) IS DISTINCT FROM (o.code, o.labels)));
    END IF;
    PERFORM merch_storefront_due(merch_storefront_showing(v_attributes));
    RETURN NULL;
END
$$;
CREATE TRIGGER attributes_updated_storefront AFTER UPDATE ON attributes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_attributes_changed();
CREATE TRIGGER attribute_options_updated_storefront AFTER UPDATE ON attribute_options
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_attributes_changed();
CREATE TRIGGER attribute_groups_updated_storefront AFTER UPDATE ON attribute_groups
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_attributes_changed();

-- Labels of roles and promotions, a promotion's dates or state: the pages of the products they reach.
CREATE FUNCTION merch_storefront_labels_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'roles' THEN
        PERFORM merch_storefront_due(ARRAY(
            SELECT p.id FROM products p
             WHERE p.role_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                  WHERE (n.code, n.labels) IS DISTINCT FROM (o.code, o.labels))));
    ELSE
        PERFORM merch_storefront_due(ARRAY(
            SELECT DISTINCT s.product_id FROM promotion_items i JOIN skus s ON s.id = i.sku_id
             WHERE i.promotion_id IN (
                   SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                    WHERE (n.code, n.labels, n.starts_at, n.ends_at, n.active)
                          IS DISTINCT FROM (o.code, o.labels, o.starts_at, o.ends_at, o.active))));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER roles_updated_storefront AFTER UPDATE ON roles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_labels_changed();
CREATE TRIGGER promotions_updated_storefront AFTER UPDATE ON promotions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_labels_changed();

-- A series' labels are in its part of pages (refreshed now) and in its products' search words (due).
CREATE FUNCTION merch_storefront_series_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_refresh_storefront_series(ARRAY(SELECT n.id FROM new_rows n ORDER BY n.id));
    PERFORM merch_storefront_due(ARRAY(
        SELECT ps.product_id FROM product_series ps
         WHERE ps.series_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                 WHERE n.labels IS DISTINCT FROM o.labels)));
    RETURN NULL;
END
$$;
CREATE TRIGGER series_updated_storefront AFTER UPDATE ON series
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_storefront_series_changed();

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

-- A bin put into or out of quarantine: its available units stop or start counting, so the products of the
-- SKUs it holds any of may change their in-stock flag (the units did not move: no crossing says so).
CREATE FUNCTION merch_touch_location_quarantine() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_touch('storefront', ARRAY(SELECT DISTINCT s.product_id FROM stock_levels l JOIN skus s ON s.id = l.sku_id
                                             WHERE l.location_id = NEW.id AND l.on_hand > l.reserved));
    RETURN NULL;
END
$$;
CREATE TRIGGER locations_quarantine_changed AFTER UPDATE OF quarantine ON locations FOR EACH ROW
    WHEN (OLD.quarantine <> NEW.quarantine) EXECUTE FUNCTION merch_touch_location_quarantine();
