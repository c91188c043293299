-- Completeness: which required items a product has, per stage, computed set-based from the needs, the
-- category attribute sets and the product's data; stored in `product_completeness` by the refresh point
-- (model `completeness`) and by the recompute jobs.

-- Completeness items that have data now: a supplier with a purchase price, and prices in force.
CREATE FUNCTION merch_product_has_supplier(product_id bigint) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM product_suppliers ps JOIN suppliers s ON s.id = ps.supplier_id
                    WHERE ps.product_id = merch_product_has_supplier.product_id AND s.active)
$$;

-- Stock received: a product some SKU of which was ever received (the extra condition for `stocked`).
CREATE FUNCTION merch_product_has_stock(product_id bigint) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM stock_movements m JOIN skus s ON s.id = m.sku_id
                    WHERE s.product_id = merch_product_has_stock.product_id AND m.type = 'receive')
$$;

CREATE FUNCTION merch_sku_has_price(sku_id bigint, kind text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM prices p
                    WHERE p.sku_id = merch_sku_has_price.sku_id AND p.kind = merch_sku_has_price.kind
                      AND p.valid_from <= now() AND (p.valid_to IS NULL OR p.valid_to > now()))
$$;

-- The completeness of some products, computed set-based from the needs, the category attribute sets
-- (nearest binding wins) and the products' and SKUs' data: for every stage (or only `only_stages`, when a
-- change concerns those alone) required and present counts and what is missing, as "item" or "item SKU"
-- strings (codes hold no spaces). The six stages are fixed, so each gets its own aggregate: one pass.
-- PL/pgSQL with a generic plan: the plan is made once per session, not on every single-product write.
-- Stock and suppliers are read through the merch_*_has_* functions above; prices in force from the read
-- model prices_in_force (one row per SKU and currency, which the refresh point refreshes before completeness),
-- and from the history for a row that went stale with time.
CREATE FUNCTION merch_completeness(ids bigint[], only_stages text[] DEFAULT NULL)
RETURNS TABLE (product_id bigint, stages jsonb, incomplete text[])
LANGUAGE plpgsql STABLE
SET work_mem = '256MB'
SET plan_cache_mode = 'force_generic_plan'
AS $$
BEGIN
RETURN QUERY
WITH p AS (
    SELECT id, category_id, labels, description, images, selling_points, quality_tags, attributes
      FROM products WHERE id = ANY (ids)
), sk AS (
    SELECT s.id, s.product_id, s.sku, s.barcode, s.axes || s.attributes AS attrs
      FROM skus s WHERE s.product_id = ANY (ids)
), sk_count AS (
    SELECT sk.product_id, count(*) AS n FROM sk GROUP BY sk.product_id
), sk_full AS (
    -- attributes that every SKU of a product carries (as an axis or an override)
    SELECT a.product_id, a.key
      FROM (SELECT sk.product_id, k.key, count(*) AS n
              FROM sk CROSS JOIN LATERAL jsonb_object_keys(sk.attrs) AS k(key)
             GROUP BY sk.product_id, k.key) a
      JOIN sk_count c ON c.product_id = a.product_id AND c.n = a.n
), sk_price AS (
    SELECT f.sku_id, bool_or(f.sale IS NOT NULL) AS sale, bool_or(f.distribution IS NOT NULL) AS distribution,
           bool_or(f.cost IS NOT NULL) AS cost, bool_or(f.stale_at <= now()) AS stale
      FROM prices_in_force f
     WHERE f.sku_id IN (SELECT sk.id FROM sk)
     GROUP BY f.sku_id
), cats AS (
    SELECT DISTINCT p.category_id FROM p
), cat_items AS (
    -- what a product of each category must have, per stage: the needs plus its attribute set's requirements
    SELECT c.category_id, n.stage, coalesce(n.field, a.code) AS item, n.field IS NOT NULL AS is_field,
           coalesce(f.per_sku, false) AS per_sku
      FROM cats c CROSS JOIN stage_needs n
      LEFT JOIN information_fields f ON f.code = n.field
      LEFT JOIN attributes a ON a.id = n.attribute_id
     WHERE n.required AND (only_stages IS NULL OR n.stage = ANY (only_stages))
    UNION
    SELECT e.category_id, st.stage, e.code, false, false
      FROM (SELECT DISTINCT ON (c.category_id, ca.attribute_id) c.category_id, a.code, ca.required_for
              FROM cats c
              JOIN categories leaf ON leaf.id = c.category_id
              JOIN categories anc ON anc.path @> leaf.path
              JOIN category_attributes ca ON ca.category_id = anc.id
              JOIN attributes a ON a.id = ca.attribute_id
             ORDER BY c.category_id, ca.attribute_id, nlevel(anc.path) DESC) e
      CROSS JOIN LATERAL unnest(e.required_for) AS st(stage)
     WHERE only_stages IS NULL OR st.stage = ANY (only_stages)
), units AS (
    SELECT p.id AS product_id, ci.stage, ci.item, NULL::text AS sku,
           CASE WHEN NOT ci.is_field THEN
                p.attributes ? ci.item OR (p.id, ci.item) IN (SELECT f.product_id, f.key FROM sk_full f)
           ELSE CASE ci.item
                WHEN 'category' THEN true
                WHEN 'role' THEN true
                WHEN 'series' THEN EXISTS (SELECT 1 FROM product_series ps WHERE ps.product_id = p.id)
                WHEN 'quality_tags' THEN cardinality(p.quality_tags) > 0
                WHEN 'labels' THEN p.labels <> '{}'::jsonb
                WHEN 'description' THEN p.description <> '{}'::jsonb
                WHEN 'images' THEN cardinality(p.images) > 0
                WHEN 'selling_points' THEN jsonb_array_length(p.selling_points) > 0
                WHEN 'skus' THEN coalesce(sc.n, 0) > 0
                WHEN 'supplier' THEN merch_product_has_supplier(p.id)
                WHEN 'stock' THEN merch_product_has_stock(p.id)
                ELSE false
           END END AS present
      FROM p
      JOIN cat_items ci ON ci.category_id = p.category_id AND NOT ci.per_sku
      LEFT JOIN sk_count sc ON sc.product_id = p.id
    UNION ALL
    SELECT p.id, ci.stage, ci.item, sk.sku,
           CASE WHEN sk.id IS NULL THEN false  -- no SKU yet: the item is missing once
                WHEN ci.item = 'barcode' THEN sk.barcode IS NOT NULL
                WHEN sp.stale AND ci.item IN ('cost_price', 'sale_price', 'distribution_price')
                    THEN merch_sku_has_price(sk.id, substring(ci.item FROM '^[a-z]+'))
                WHEN ci.item = 'cost_price' THEN coalesce(sp.cost, false)
                WHEN ci.item = 'sale_price' THEN coalesce(sp.sale, false)
                WHEN ci.item = 'distribution_price' THEN coalesce(sp.distribution, false)
                ELSE false
           END
      FROM p
      JOIN cat_items ci ON ci.category_id = p.category_id AND ci.per_sku
      LEFT JOIN sk ON sk.product_id = p.id
      LEFT JOIN sk_price sp ON sp.sku_id = sk.id
), per_product AS (
    SELECT u.product_id,
           count(*) FILTER (WHERE u.stage = 'purchasing') AS purchasing_required,
           count(*) FILTER (WHERE u.stage = 'purchasing' AND u.present) AS purchasing_present,
           coalesce(array_agg(CASE WHEN u.sku IS NULL THEN u.item ELSE u.item || ' ' || u.sku END)
                    FILTER (WHERE u.stage = 'purchasing' AND NOT u.present), '{}') AS purchasing_missing,
           count(*) FILTER (WHERE u.stage = 'warehousing') AS warehousing_required,
           count(*) FILTER (WHERE u.stage = 'warehousing' AND u.present) AS warehousing_present,
           coalesce(array_agg(CASE WHEN u.sku IS NULL THEN u.item ELSE u.item || ' ' || u.sku END)
                    FILTER (WHERE u.stage = 'warehousing' AND NOT u.present), '{}') AS warehousing_missing,
           count(*) FILTER (WHERE u.stage = 'listing') AS listing_required,
           count(*) FILTER (WHERE u.stage = 'listing' AND u.present) AS listing_present,
           coalesce(array_agg(CASE WHEN u.sku IS NULL THEN u.item ELSE u.item || ' ' || u.sku END)
                    FILTER (WHERE u.stage = 'listing' AND NOT u.present), '{}') AS listing_missing,
           count(*) FILTER (WHERE u.stage = 'marketing') AS marketing_required,
           count(*) FILTER (WHERE u.stage = 'marketing' AND u.present) AS marketing_present,
           coalesce(array_agg(CASE WHEN u.sku IS NULL THEN u.item ELSE u.item || ' ' || u.sku END)
                    FILTER (WHERE u.stage = 'marketing' AND NOT u.present), '{}') AS marketing_missing,
           count(*) FILTER (WHERE u.stage = 'service') AS service_required,
           count(*) FILTER (WHERE u.stage = 'service' AND u.present) AS service_present,
           coalesce(array_agg(CASE WHEN u.sku IS NULL THEN u.item ELSE u.item || ' ' || u.sku END)
                    FILTER (WHERE u.stage = 'service' AND NOT u.present), '{}') AS service_missing,
           count(*) FILTER (WHERE u.stage = 'finance') AS finance_required,
           count(*) FILTER (WHERE u.stage = 'finance' AND u.present) AS finance_present,
           coalesce(array_agg(CASE WHEN u.sku IS NULL THEN u.item ELSE u.item || ' ' || u.sku END)
                    FILTER (WHERE u.stage = 'finance' AND NOT u.present), '{}') AS finance_missing
      FROM units u
     GROUP BY u.product_id
)
SELECT p.id,
       -- every stage's object in one jsonb (six objects concatenated in turn cost ~15 µs a product), less the
       -- stages a change does not concern
       jsonb_build_object(
           'purchasing', jsonb_build_object('required', coalesce(pp.purchasing_required, 0), 'present', coalesce(pp.purchasing_present, 0),
                            'missing', to_jsonb(coalesce(pp.purchasing_missing, '{}'))),
           'warehousing', jsonb_build_object('required', coalesce(pp.warehousing_required, 0), 'present', coalesce(pp.warehousing_present, 0),
                             'missing', to_jsonb(coalesce(pp.warehousing_missing, '{}'))),
           'listing', jsonb_build_object('required', coalesce(pp.listing_required, 0), 'present', coalesce(pp.listing_present, 0),
                         'missing', to_jsonb(coalesce(pp.listing_missing, '{}'))),
           'marketing', jsonb_build_object('required', coalesce(pp.marketing_required, 0), 'present', coalesce(pp.marketing_present, 0),
                           'missing', to_jsonb(coalesce(pp.marketing_missing, '{}'))),
           'service', jsonb_build_object('required', coalesce(pp.service_required, 0), 'present', coalesce(pp.service_present, 0),
                         'missing', to_jsonb(coalesce(pp.service_missing, '{}'))),
           'finance', jsonb_build_object('required', coalesce(pp.finance_required, 0), 'present', coalesce(pp.finance_present, 0),
                         'missing', to_jsonb(coalesce(pp.finance_missing, '{}'))))
       - CASE WHEN only_stages IS NULL THEN '{}'::text[]
              ELSE ARRAY(SELECT s FROM unnest(ARRAY['purchasing', 'warehousing', 'listing', 'marketing', 'service',
                                                    'finance']) s WHERE s <> ALL (only_stages)) END,
       CASE WHEN pp.purchasing_present < pp.purchasing_required THEN ARRAY['purchasing'] ELSE '{}'::text[] END || CASE WHEN pp.warehousing_present < pp.warehousing_required THEN ARRAY['warehousing'] ELSE '{}'::text[] END || CASE WHEN pp.listing_present < pp.listing_required THEN ARRAY['listing'] ELSE '{}'::text[] END || CASE WHEN pp.marketing_present < pp.marketing_required THEN ARRAY['marketing'] ELSE '{}'::text[] END || CASE WHEN pp.service_present < pp.service_required THEN ARRAY['service'] ELSE '{}'::text[] END || CASE WHEN pp.finance_present < pp.finance_required THEN ARRAY['finance'] ELSE '{}'::text[] END
  FROM p
  LEFT JOIN per_product pp ON pp.product_id = p.id;
END
$$;

-- Store the completeness of some products: every stage, or with p_stages only those stages of products
-- computed before (a product never computed gets every stage). The `completeness` model of the refresh point
-- and the recompute jobs' chunks: their rows are locked first, then computed from the latest data.
CREATE FUNCTION merch_refresh_completeness(p_products bigint[], p_stages text[] DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_all bigint[] := p_products;
BEGIN
    PERFORM 1 FROM product_completeness pc WHERE pc.product_id = ANY (p_products) ORDER BY pc.product_id
        FOR UPDATE;
    IF p_stages IS NOT NULL THEN
        v_all := ARRAY(SELECT x.id FROM unnest(p_products) AS x(id)
                        WHERE NOT EXISTS (SELECT 1 FROM product_completeness pc WHERE pc.product_id = x.id));
        UPDATE product_completeness pc
           SET stages = pc.stages || c.stages,
               incomplete = ARRAY(SELECT st.code FROM stages st
                                   WHERE st.code = ANY (c.incomplete)
                                      OR (st.code = ANY (pc.incomplete) AND st.code <> ALL (p_stages))
                                   ORDER BY st.position),
               computed_at = clock_timestamp()
          FROM merch_completeness(p_products, p_stages) c
         WHERE pc.product_id = c.product_id;
    END IF;
    IF cardinality(v_all) > 0 THEN
        INSERT INTO product_completeness (product_id, stages, incomplete, computed_at)
        SELECT c.product_id, c.stages, c.incomplete, clock_timestamp()
          FROM merch_completeness(v_all) c
         ORDER BY c.product_id
        ON CONFLICT (product_id) DO UPDATE
           SET stages = EXCLUDED.stages, incomplete = EXCLUDED.incomplete, computed_at = EXCLUDED.computed_at;
    END IF;
END
$$;
