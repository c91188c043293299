-- Bulk imports of more types (issue 13): an import's job kind is `import-<type>`, one per type a file holds.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('recompute-completeness', 'refresh-models', 'import-products', 'import-skus', 'import-prices',
                    'import-stock'));
