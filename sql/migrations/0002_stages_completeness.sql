-- The attribute application table: stages, the built-in information items, what each stage reads and
-- requires, completeness per product kept in one row per product, and background jobs.

CREATE TABLE stages (
    code text NOT NULL,
    position integer NOT NULL,
    labels jsonb NOT NULL,
    CONSTRAINT stages_pkey PRIMARY KEY (code),
    CONSTRAINT stages_position_key UNIQUE (position),
    CONSTRAINT stages_code_check CHECK (code IN ('purchasing', 'warehousing', 'listing', 'marketing', 'service', 'finance'))
);

INSERT INTO stages (code, position, labels) VALUES
    ('purchasing', 1, '{"zh-CN": "采购", "en": "Purchasing"}'),
    ('warehousing', 2, '{"zh-CN": "入库/仓库", "en": "Warehousing"}'),
    ('listing', 3, '{"zh-CN": "上架", "en": "Listing"}'),
    ('marketing', 4, '{"zh-CN": "营销推广", "en": "Marketing"}'),
    ('service', 5, '{"zh-CN": "销售/客服/售后", "en": "Sales and service"}'),
    ('finance', 6, '{"zh-CN": "财务核算", "en": "Finance"}');

-- Built-in information items: fields of the product (or of every SKU, `per_sku`) and derived figures.
-- Only `requirable` ones can be required; the others can only be read.
CREATE TABLE information_fields (
    code text NOT NULL,
    labels jsonb NOT NULL,
    per_sku boolean NOT NULL DEFAULT false,
    requirable boolean NOT NULL DEFAULT true,
    CONSTRAINT information_fields_pkey PRIMARY KEY (code),
    CONSTRAINT information_fields_code_check CHECK (code ~ '^[a-z][a-z_]{0,63}$')
);

INSERT INTO information_fields (code, labels, per_sku, requirable) VALUES
    ('category', '{"zh-CN": "类目", "en": "Category"}', false, true),
    ('category_path', '{"zh-CN": "类目路径", "en": "Category path"}', false, false),
    ('role', '{"zh-CN": "产品角色", "en": "Product role"}', false, true),
    ('series', '{"zh-CN": "系列", "en": "Series"}', false, true),
    ('quality_tags', '{"zh-CN": "名特优新", "en": "Quality tags"}', false, true),
    ('labels', '{"zh-CN": "名称", "en": "Names"}', false, true),
    ('description', '{"zh-CN": "描述", "en": "Description"}', false, true),
    ('images', '{"zh-CN": "图片", "en": "Images"}', false, true),
    ('selling_points', '{"zh-CN": "卖点", "en": "Selling points"}', false, true),
    ('public_attributes', '{"zh-CN": "公开属性", "en": "Public attributes"}', false, false),
    ('skus', '{"zh-CN": "单品", "en": "SKUs"}', false, true),
    ('barcode', '{"zh-CN": "条码", "en": "Barcode"}', true, true),
    ('supplier', '{"zh-CN": "供应商", "en": "Supplier"}', false, true),
    ('supplier_terms', '{"zh-CN": "供应条款", "en": "Supplier terms"}', false, false),
    ('cost_price', '{"zh-CN": "成本价", "en": "Cost price"}', true, true),
    ('sale_price', '{"zh-CN": "销售价", "en": "Sale price"}', true, true),
    ('distribution_price', '{"zh-CN": "分销价", "en": "Distribution price"}', true, true),
    ('price_history', '{"zh-CN": "价格历史", "en": "Price history"}', false, false),
    ('margin', '{"zh-CN": "毛利", "en": "Margin"}', false, false),
    ('sales_volume', '{"zh-CN": "销量", "en": "Sales volume"}', false, false),
    ('promotions', '{"zh-CN": "活动", "en": "Promotions"}', false, false),
    ('stock', '{"zh-CN": "库存", "en": "Stock received"}', false, true),
    ('stock_by_location', '{"zh-CN": "库位库存", "en": "Stock by location"}', false, false),
    ('locations', '{"zh-CN": "库位", "en": "Locations"}', false, false),
    ('in_stock', '{"zh-CN": "有货", "en": "In stock"}', false, false),
    ('stock_valuation', '{"zh-CN": "库存估值", "en": "Stock valuation"}', false, false);

-- What each stage reads, and which of those it cannot work without. An item is a built-in field or an
-- attribute, never both.
CREATE TABLE stage_needs (
    id bigint GENERATED ALWAYS AS IDENTITY,
    stage text NOT NULL,
    field text,
    attribute_id bigint,
    required boolean NOT NULL DEFAULT false,
    position integer NOT NULL,
    CONSTRAINT stage_needs_pkey PRIMARY KEY (id),
    CONSTRAINT stage_needs_stage_fkey FOREIGN KEY (stage) REFERENCES stages (code),
    CONSTRAINT stage_needs_field_fkey FOREIGN KEY (field) REFERENCES information_fields (code),
    CONSTRAINT stage_needs_attribute_id_fkey FOREIGN KEY (attribute_id) REFERENCES attributes (id) ON DELETE RESTRICT,
    CONSTRAINT stage_needs_stage_field_key UNIQUE (stage, field),
    CONSTRAINT stage_needs_stage_attribute_id_key UNIQUE (stage, attribute_id),
    CONSTRAINT stage_needs_stage_position_key UNIQUE (stage, position) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT stage_needs_item_check CHECK ((field IS NULL) <> (attribute_id IS NULL))
);
CREATE INDEX stage_needs_attribute_id_idx ON stage_needs (attribute_id);

-- The default attribute application table of DOMAIN.md (built-in items; attribute items such as
-- `weight` are added once those attributes exist).
INSERT INTO stage_needs (stage, field, required, position)
SELECT stage, field, required, ord
  FROM (VALUES
    ('purchasing', ARRAY['category', 'role', 'quality_tags', 'supplier', 'supplier_terms', 'cost_price', 'sale_price',
                         'margin', 'sales_volume'],
                   ARRAY['category', 'role', 'supplier', 'cost_price']),
    ('warehousing', ARRAY['skus', 'barcode', 'stock', 'stock_by_location', 'locations'],
                    ARRAY['barcode']),
    ('listing', ARRAY['labels', 'description', 'images', 'selling_points', 'public_attributes', 'sale_price',
                      'category_path', 'in_stock'],
                ARRAY['labels', 'description', 'images', 'selling_points', 'sale_price']),
    ('marketing', ARRAY['role', 'series', 'selling_points', 'promotions', 'sale_price', 'margin', 'sales_volume'],
                  ARRAY['role', 'selling_points']),
    ('service', ARRAY['role', 'promotions', 'selling_points', 'public_attributes', 'in_stock', 'sale_price'],
                ARRAY['selling_points']),
    ('finance', ARRAY['sale_price', 'distribution_price', 'cost_price', 'price_history', 'margin', 'stock_valuation',
                      'supplier_terms'],
                ARRAY['sale_price', 'cost_price', 'distribution_price'])
  ) AS d(stage, reads, requires)
  CROSS JOIN LATERAL unnest(d.reads) WITH ORDINALITY AS r(field, ord)
  CROSS JOIN LATERAL (SELECT r.field = ANY (d.requires) AS required) q;

-- Completeness of every product for every stage, kept current by the writes that change it (and by
-- recompute jobs when the needs or an attribute set change). `stages` is
-- {stage: {"required": n, "present": n, "missing": ["item", "item SKU", …]}}; `incomplete` lists the
-- stages with something missing, for the worklists.
CREATE TABLE product_completeness (
    product_id bigint NOT NULL,
    stages jsonb NOT NULL,
    incomplete text[] NOT NULL DEFAULT '{}',
    computed_at timestamptz NOT NULL,
    CONSTRAINT product_completeness_pkey PRIMARY KEY (product_id),
    CONSTRAINT product_completeness_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
);
CREATE INDEX product_completeness_incomplete_idx ON product_completeness USING gin (incomplete);

-- Presence of items whose data arrives with later capabilities (suppliers, prices, stock): absent until
-- their migrations replace these functions.
CREATE FUNCTION merch_product_has_supplier(product_id bigint) RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT false $$;
CREATE FUNCTION merch_product_has_stock(product_id bigint) RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT false $$;
CREATE FUNCTION merch_sku_has_price(sku_id bigint, kind text) RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT false $$;

-- The completeness of some products, computed set-based from the needs, the category attribute sets
-- (nearest binding wins) and the products' and SKUs' data: for every stage (or only `only_stages`, when a
-- change concerns those alone) required and present counts and what is missing, as "item" or "item SKU"
-- strings (codes hold no spaces). The six stages are fixed, so each gets its own aggregate: one pass.
-- PL/pgSQL with a generic plan: the plan is made once per session, not on every single-product write.
-- Later migrations replace this function when new items get data (prices, suppliers, stock).
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
                WHEN ci.item = 'cost_price' THEN merch_sku_has_price(sk.id, 'cost')
                WHEN ci.item = 'sale_price' THEN merch_sku_has_price(sk.id, 'sale')
                WHEN ci.item = 'distribution_price' THEN merch_sku_has_price(sk.id, 'distribution')
                ELSE false
           END
      FROM p
      JOIN cat_items ci ON ci.category_id = p.category_id AND ci.per_sku
      LEFT JOIN sk ON sk.product_id = p.id
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
       CASE WHEN only_stages IS NULL OR 'purchasing' = ANY (only_stages) THEN jsonb_build_object('purchasing', jsonb_build_object(
           'required', coalesce(pp.purchasing_required, 0), 'present', coalesce(pp.purchasing_present, 0),
           'missing', to_jsonb(coalesce(pp.purchasing_missing, '{}')))) ELSE '{}'::jsonb END ||
       CASE WHEN only_stages IS NULL OR 'warehousing' = ANY (only_stages) THEN jsonb_build_object('warehousing', jsonb_build_object(
           'required', coalesce(pp.warehousing_required, 0), 'present', coalesce(pp.warehousing_present, 0),
           'missing', to_jsonb(coalesce(pp.warehousing_missing, '{}')))) ELSE '{}'::jsonb END ||
       CASE WHEN only_stages IS NULL OR 'listing' = ANY (only_stages) THEN jsonb_build_object('listing', jsonb_build_object(
           'required', coalesce(pp.listing_required, 0), 'present', coalesce(pp.listing_present, 0),
           'missing', to_jsonb(coalesce(pp.listing_missing, '{}')))) ELSE '{}'::jsonb END ||
       CASE WHEN only_stages IS NULL OR 'marketing' = ANY (only_stages) THEN jsonb_build_object('marketing', jsonb_build_object(
           'required', coalesce(pp.marketing_required, 0), 'present', coalesce(pp.marketing_present, 0),
           'missing', to_jsonb(coalesce(pp.marketing_missing, '{}')))) ELSE '{}'::jsonb END ||
       CASE WHEN only_stages IS NULL OR 'service' = ANY (only_stages) THEN jsonb_build_object('service', jsonb_build_object(
           'required', coalesce(pp.service_required, 0), 'present', coalesce(pp.service_present, 0),
           'missing', to_jsonb(coalesce(pp.service_missing, '{}')))) ELSE '{}'::jsonb END ||
       CASE WHEN only_stages IS NULL OR 'finance' = ANY (only_stages) THEN jsonb_build_object('finance', jsonb_build_object(
           'required', coalesce(pp.finance_required, 0), 'present', coalesce(pp.finance_present, 0),
           'missing', to_jsonb(coalesce(pp.finance_missing, '{}')))) ELSE '{}'::jsonb END,
       CASE WHEN pp.purchasing_present < pp.purchasing_required THEN ARRAY['purchasing'] ELSE '{}'::text[] END || CASE WHEN pp.warehousing_present < pp.warehousing_required THEN ARRAY['warehousing'] ELSE '{}'::text[] END || CASE WHEN pp.listing_present < pp.listing_required THEN ARRAY['listing'] ELSE '{}'::text[] END || CASE WHEN pp.marketing_present < pp.marketing_required THEN ARRAY['marketing'] ELSE '{}'::text[] END || CASE WHEN pp.service_present < pp.service_required THEN ARRAY['service'] ELSE '{}'::text[] END || CASE WHEN pp.finance_present < pp.finance_required THEN ARRAY['finance'] ELSE '{}'::text[] END
  FROM p
  LEFT JOIN per_product pp ON pp.product_id = p.id;
END
$$;

-- Background work (recomputing completeness after the needs or an attribute set change), with progress.
-- A job covers every product (scope_path NULL) or those whose home category is under scope_path, and
-- every stage (stages NULL) or only those listed.
CREATE TABLE jobs (
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL,
    reason text NOT NULL,
    scope_path ltree,
    stages text[],
    state text NOT NULL DEFAULT 'queued',
    total integer,
    done integer NOT NULL DEFAULT 0,
    error text,
    requested_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at timestamptz,
    heartbeat_at timestamptz,
    finished_at timestamptz,
    CONSTRAINT jobs_pkey PRIMARY KEY (id),
    CONSTRAINT jobs_kind_check CHECK (kind IN ('recompute-completeness')),
    CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'done', 'failed')),
    CONSTRAINT jobs_done_check CHECK (done >= 0 AND (total IS NULL OR done <= total))
);
CREATE INDEX jobs_active_idx ON jobs (id) WHERE state IN ('queued', 'running');

-- Audit records of needs changes.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action IN ('create', 'update', 'delete', 'move', 'transition', 'bind', 'needs'));
