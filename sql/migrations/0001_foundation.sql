-- The foundation: API keys, the audit trail, and the product structure
-- (category trees, categories, series, roles, attribute groups, attributes, options,
-- attribute sets, products, placements, SKUs).

CREATE EXTENSION IF NOT EXISTS ltree;

-- Codes are the stable identifiers the API addresses by.
CREATE DOMAIN code AS text CHECK (VALUE ~ '^[a-z0-9][a-z0-9_-]{0,63}$');
-- A locale map of display names: a JSON object of non-empty strings.
CREATE FUNCTION is_label_map(j jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(j) = 'object'
       AND NOT EXISTS (SELECT 1 FROM jsonb_each(j) e WHERE jsonb_typeof(e.value) <> 'string' OR e.value #>> '{}' = '')
$$;

CREATE TABLE api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    prefix text NOT NULL,
    secret_hash bytea NOT NULL,
    roles text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_name_key UNIQUE (name),
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_keys_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
    CONSTRAINT api_keys_roles_check CHECK (
        cardinality(roles) >= 1
        AND roles <@ ARRAY['admin', 'purchasing', 'warehouse', 'listing', 'marketing', 'service', 'finance', 'storefront']
    )
);

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    entity text NOT NULL,
    code text NOT NULL,
    version integer,
    changes jsonb NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id),
    CONSTRAINT audit_log_action_check CHECK (action IN ('create', 'update', 'delete', 'move', 'transition', 'bind'))
);
CREATE INDEX audit_log_entity_code_idx ON audit_log (entity, code, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);

CREATE TABLE category_trees (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    level_names text[] NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT category_trees_pkey PRIMARY KEY (id),
    CONSTRAINT category_trees_code_key UNIQUE (code),
    CONSTRAINT category_trees_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT category_trees_level_names_check CHECK (cardinality(level_names) BETWEEN 1 AND 10)
);

-- A category's path is the ltree of ids from its root to itself: subtree queries are `path <@ x.path`.
CREATE TABLE categories (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    tree_id bigint NOT NULL,
    parent_id bigint,
    position integer NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    path ltree NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_pkey PRIMARY KEY (id),
    CONSTRAINT categories_code_key UNIQUE (code),
    CONSTRAINT categories_tree_id_id_key UNIQUE (tree_id, id),
    CONSTRAINT categories_tree_id_fkey FOREIGN KEY (tree_id) REFERENCES category_trees (id) ON DELETE RESTRICT,
    -- the parent is in the same tree
    CONSTRAINT categories_tree_id_parent_id_fkey FOREIGN KEY (tree_id, parent_id)
        REFERENCES categories (tree_id, id) ON DELETE RESTRICT,
    CONSTRAINT categories_tree_id_parent_id_position_key UNIQUE NULLS NOT DISTINCT (tree_id, parent_id, position)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT categories_position_check CHECK (position >= 0),
    CONSTRAINT categories_parent_id_check CHECK (parent_id <> id),
    CONSTRAINT categories_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT categories_path_check CHECK (subpath(path, -1)::text = id::text)
);
CREATE INDEX categories_path_idx ON categories USING gist (path);
CREATE INDEX categories_parent_id_idx ON categories (parent_id);

CREATE TABLE series (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    description jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT series_pkey PRIMARY KEY (id),
    CONSTRAINT series_code_key UNIQUE (code),
    CONSTRAINT series_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT series_description_check CHECK (is_label_map(description))
);

CREATE TABLE roles (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    description jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_pkey PRIMARY KEY (id),
    CONSTRAINT roles_code_key UNIQUE (code),
    CONSTRAINT roles_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT roles_description_check CHECK (is_label_map(description))
);

INSERT INTO roles (code, labels, description) VALUES
    ('destination', '{"zh-CN": "目标性产品", "en": "Destination"}', '{"en": "The traffic and sales focus."}'),
    ('routine', '{"zh-CN": "常规性产品", "en": "Routine"}', '{"en": "The everyday range."}'),
    ('image', '{"zh-CN": "形象产品", "en": "Image"}', '{"en": "Flagship, premium, brand image."}'),
    ('promotion', '{"zh-CN": "活动产品", "en": "Promotion"}', '{"en": "Made for campaigns."}');

CREATE TABLE attribute_groups (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    description jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attribute_groups_pkey PRIMARY KEY (id),
    CONSTRAINT attribute_groups_code_key UNIQUE (code),
    CONSTRAINT attribute_groups_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT attribute_groups_description_check CHECK (is_label_map(description))
);

CREATE TABLE attributes (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    type text NOT NULL,
    group_id bigint,
    labels jsonb NOT NULL DEFAULT '{}',
    visibility text NOT NULL DEFAULT 'internal',
    display_priority integer NOT NULL DEFAULT 0,
    filterable boolean NOT NULL DEFAULT false,
    validation jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attributes_pkey PRIMARY KEY (id),
    CONSTRAINT attributes_code_key UNIQUE (code),
    CONSTRAINT attributes_group_id_fkey FOREIGN KEY (group_id) REFERENCES attribute_groups (id) ON DELETE RESTRICT,
    CONSTRAINT attributes_type_check CHECK (type IN (
        'text', 'textarea', 'integer', 'decimal', 'boolean', 'date', 'select', 'multiselect', 'measurement', 'url'
    )),
    CONSTRAINT attributes_visibility_check CHECK (visibility IN ('public', 'internal', 'confidential')),
    CONSTRAINT attributes_display_priority_check CHECK (display_priority BETWEEN 0 AND 1000000),
    CONSTRAINT attributes_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT attributes_validation_check CHECK (jsonb_typeof(validation) = 'object')
);
CREATE INDEX attributes_group_id_idx ON attributes (group_id);

CREATE TABLE attribute_options (
    id bigint GENERATED ALWAYS AS IDENTITY,
    attribute_id bigint NOT NULL,
    code code NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    position integer NOT NULL DEFAULT 0,
    CONSTRAINT attribute_options_pkey PRIMARY KEY (id),
    CONSTRAINT attribute_options_attribute_id_code_key UNIQUE (attribute_id, code),
    CONSTRAINT attribute_options_attribute_id_fkey FOREIGN KEY (attribute_id) REFERENCES attributes (id) ON DELETE CASCADE,
    CONSTRAINT attribute_options_position_check CHECK (position >= 0),
    CONSTRAINT attribute_options_labels_check CHECK (is_label_map(labels))
);

-- The attribute set bound to a category; categories below it inherit it.
CREATE TABLE category_attributes (
    category_id bigint NOT NULL,
    attribute_id bigint NOT NULL,
    required_for text[] NOT NULL DEFAULT '{}',
    display_priority integer,
    position integer NOT NULL DEFAULT 0,
    CONSTRAINT category_attributes_pkey PRIMARY KEY (category_id, attribute_id),
    CONSTRAINT category_attributes_category_id_fkey FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE CASCADE,
    CONSTRAINT category_attributes_attribute_id_fkey FOREIGN KEY (attribute_id) REFERENCES attributes (id) ON DELETE RESTRICT,
    CONSTRAINT category_attributes_required_for_check CHECK (
        required_for <@ ARRAY['purchasing', 'warehousing', 'listing', 'marketing', 'service', 'finance']
    ),
    CONSTRAINT category_attributes_display_priority_check CHECK (display_priority BETWEEN 0 AND 1000000)
);
CREATE INDEX category_attributes_attribute_id_idx ON category_attributes (attribute_id);

CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    category_id bigint NOT NULL,
    role_id bigint NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    description jsonb NOT NULL DEFAULT '{}',
    selling_points jsonb NOT NULL DEFAULT '[]',
    images text[] NOT NULL DEFAULT '{}',
    quality_tags text[] NOT NULL DEFAULT '{}',
    attributes jsonb NOT NULL DEFAULT '{}',
    lifecycle text NOT NULL DEFAULT 'draft',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_pkey PRIMARY KEY (id),
    CONSTRAINT products_code_key UNIQUE (code),
    CONSTRAINT products_category_id_fkey FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE RESTRICT,
    CONSTRAINT products_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE RESTRICT,
    CONSTRAINT products_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT products_description_check CHECK (is_label_map(description)),
    CONSTRAINT products_selling_points_check CHECK (jsonb_typeof(selling_points) = 'array'),
    CONSTRAINT products_quality_tags_check CHECK (quality_tags <@ ARRAY['famous', 'specialty', 'quality', 'new']),
    CONSTRAINT products_attributes_check CHECK (jsonb_typeof(attributes) = 'object'),
    CONSTRAINT products_lifecycle_check CHECK (lifecycle IN ('draft', 'sourced', 'stocked', 'listed', 'delisted', 'retired'))
);
CREATE INDEX products_category_id_idx ON products (category_id);
CREATE INDEX products_role_id_idx ON products (role_id);
CREATE INDEX products_lifecycle_idx ON products (lifecycle);
CREATE INDEX products_attributes_idx ON products USING gin (attributes jsonb_path_ops);

-- Placements of a product in trees other than its home category's: at most one per tree.
CREATE TABLE product_placements (
    product_id bigint NOT NULL,
    tree_id bigint NOT NULL,
    category_id bigint NOT NULL,
    CONSTRAINT product_placements_pkey PRIMARY KEY (product_id, tree_id),
    CONSTRAINT product_placements_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT product_placements_tree_id_category_id_fkey FOREIGN KEY (tree_id, category_id)
        REFERENCES categories (tree_id, id) ON DELETE RESTRICT
);
CREATE INDEX product_placements_category_id_idx ON product_placements (category_id);

CREATE TABLE product_series (
    product_id bigint NOT NULL,
    series_id bigint NOT NULL,
    CONSTRAINT product_series_pkey PRIMARY KEY (product_id, series_id),
    CONSTRAINT product_series_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT product_series_series_id_fkey FOREIGN KEY (series_id) REFERENCES series (id) ON DELETE RESTRICT
);
CREATE INDEX product_series_series_id_idx ON product_series (series_id);

CREATE TABLE skus (
    id bigint GENERATED ALWAYS AS IDENTITY,
    sku text NOT NULL,
    product_id bigint NOT NULL,
    barcode text,
    axes jsonb NOT NULL DEFAULT '{}',
    attributes jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT skus_pkey PRIMARY KEY (id),
    CONSTRAINT skus_sku_key UNIQUE (sku),
    CONSTRAINT skus_barcode_key UNIQUE (barcode),
    CONSTRAINT skus_product_id_axes_key UNIQUE (product_id, axes),
    CONSTRAINT skus_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT skus_sku_check CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    CONSTRAINT skus_barcode_check CHECK (barcode ~ '^([0-9]{8}|[0-9]{12,14})$'),
    CONSTRAINT skus_axes_check CHECK (jsonb_typeof(axes) = 'object'),
    CONSTRAINT skus_attributes_check CHECK (jsonb_typeof(attributes) = 'object')
);
CREATE INDEX skus_product_id_idx ON skus (product_id);
