-- Bulk imports (issue 13, first slice: products). An import is a job (kind `import-products`): the upload
-- streams its rows into a staging table (`import_rows`, one row per line, already checked by the same rules
-- as the API; rows that break one are kept as `ok = false` with their errors in `import_errors`), then the
-- job runner applies them set-based in chunks. The job row carries the import's mode, its phase and counts,
-- and the Idempotency-Key of the upload (with a hash of its body): a retried upload is one import.
-- Audit records of the rows an import changed name it (`audit_log.import_id`).

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('recompute-completeness', 'import-products'));
-- `receiving`: an upload still streaming in; the runner never claims it (a dead upload is failed by its request,
-- or by housekeeping when its heartbeat stops).
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN ('receiving', 'queued', 'running', 'done', 'failed'));

ALTER TABLE jobs
    ADD COLUMN mode text,
    ADD COLUMN format text,
    ADD COLUMN phase text,
    ADD COLUMN rows_read integer NOT NULL DEFAULT 0,
    ADD COLUMN rows_applied integer NOT NULL DEFAULT 0,
    ADD COLUMN rows_unchanged integer NOT NULL DEFAULT 0,
    ADD COLUMN rows_rejected integer NOT NULL DEFAULT 0,
    ADD COLUMN sees_confidential boolean NOT NULL DEFAULT true,
    ADD COLUMN idempotency_key text,
    ADD COLUMN request_hash bytea,
    ADD COLUMN applying_at timestamptz,
    ADD CONSTRAINT jobs_mode_check CHECK (mode IN ('all_or_nothing', 'valid_rows')),
    ADD CONSTRAINT jobs_format_check CHECK (format IN ('jsonl', 'csv')),
    ADD CONSTRAINT jobs_idempotency_key_check CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    ADD CONSTRAINT jobs_requested_by_idempotency_key_key UNIQUE (requested_by, idempotency_key);

-- One row per line (CSV: per record, numbered by the physical line it starts on) of an upload. `doc` is the
-- row as the API would store it (the writable fields, normalised: codes, sorted placements and series,
-- checked attribute values), the ids beside it resolved when it was checked. Rows that break a rule keep
-- their code (when they have one: a later row with the same code is still a duplicate) and `ok = false`.
CREATE TABLE import_rows (
    job_id bigint NOT NULL,
    line integer NOT NULL,
    code text,
    ok boolean NOT NULL,
    category_id bigint,
    role_id bigint,
    tree_ids bigint[],
    placement_ids bigint[],
    series_ids bigint[],
    doc text,
    CONSTRAINT import_rows_pkey PRIMARY KEY (job_id, line),
    CONSTRAINT import_rows_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
);
CREATE INDEX import_rows_job_id_code_idx ON import_rows (job_id, code, line);

-- The per-row report: every error of every rejected row, with the JSON pointer (JSONL) or the column (CSV).
CREATE TABLE import_errors (
    job_id bigint NOT NULL,
    line integer NOT NULL,
    seq integer NOT NULL,
    pointer text,
    column_name text,
    code text NOT NULL,
    message text NOT NULL,
    CONSTRAINT import_errors_pkey PRIMARY KEY (job_id, line, seq),
    CONSTRAINT import_errors_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
);

ALTER TABLE audit_log ADD COLUMN import_id bigint;
CREATE INDEX audit_log_import_id_idx ON audit_log (import_id, id) WHERE import_id IS NOT NULL;
