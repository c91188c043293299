-- The keys the products of each home category have carried: the locales of their labels, descriptions and
-- selling points, and the codes of their attribute values (issue 13). A CSV or XLSX export's header names
-- them (sql/queries/imports.sql, list_export_columns), read for the categories in scope instead of a pass over
-- every product in scope before the first byte (10 s at 1,000,000 products). Kept by the refresh point
-- (read model `keys`, sql/functions/refresh.sql), whoever writes a product. It never shrinks: a key no
-- product of the category carries any more stays (an empty column in an export); an attribute that no longer
-- exists is left out by the header's query.
CREATE TABLE category_product_keys (
    category_id bigint NOT NULL,
    kind text NOT NULL,
    key text NOT NULL,
    CONSTRAINT category_product_keys_pkey PRIMARY KEY (category_id, kind, key),
    CONSTRAINT category_product_keys_category_id_fkey FOREIGN KEY (category_id) REFERENCES categories (id)
        ON DELETE CASCADE,
    CONSTRAINT category_product_keys_kind_check
        CHECK (kind IN ('labels', 'description', 'selling_points', 'attributes'))
);

-- A product's keys, a row each (its id, its home category, the kind and the key): read by the refresh point's
-- refresher (merch_refresh_product_keys, for the products a transaction wrote) and by the backfill below, for
-- every product stored before this migration — one definition of what a product's keys are.
CREATE VIEW product_keys AS
SELECT p.id AS product_id, p.category_id, k.kind, k.key
  FROM products p
 CROSS JOIN LATERAL (SELECT 'labels', jsonb_object_keys(p.labels)
                     UNION ALL SELECT 'description', jsonb_object_keys(p.description)
                     UNION ALL SELECT 'selling_points', jsonb_object_keys(sp)
                                 FROM jsonb_array_elements(p.selling_points) sp
                     UNION ALL SELECT 'attributes', jsonb_object_keys(p.attributes)) k(kind, key);

INSERT INTO category_product_keys (category_id, kind, key)
SELECT DISTINCT k.category_id, k.kind, k.key FROM product_keys k;
