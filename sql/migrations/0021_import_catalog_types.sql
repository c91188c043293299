-- Bulk imports of the catalog's structure (issue 13): categories and attributes (with their options) are import
-- types too, each a job kind `import-<type>`.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('recompute-completeness', 'refresh-models', 'import-products', 'import-skus', 'import-prices',
                    'import-stock', 'import-categories', 'import-attributes'));
