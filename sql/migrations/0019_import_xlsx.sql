-- XLSX uploads (issue 13): an import's format may be `xlsx`; and the column of an XLSX's codes is kept on its
-- job, for the report of duplicate codes to name (its letter and name, e.g. `A (code)`).
ALTER TABLE jobs DROP CONSTRAINT jobs_format_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_format_check CHECK (format IN ('jsonl', 'csv', 'xlsx'));
ALTER TABLE jobs ADD COLUMN code_column text;
