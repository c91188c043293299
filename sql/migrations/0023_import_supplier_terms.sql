-- Bulk imports of product-supplier terms (issue 13): a job kind `import-supplier_terms`.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('recompute-completeness', 'refresh-models', 'import-products', 'import-skus', 'import-prices',
                    'import-stock', 'import-categories', 'import-attributes', 'import-attribute_sets',
                    'import-supplier_terms'));
