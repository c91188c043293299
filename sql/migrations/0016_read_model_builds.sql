-- Read models rebuilt when the routines that build them change (issue 12). A deployment that changes how a
-- read model is computed (the storefront document, completeness, the prices in force) must not leave the
-- rows computed by the old routines in place until each product happens to be written again: the runner
-- keeps, per model, a checksum of the definitions of the routines that build it, and when it differs after
-- the routines are (re)created it queues a `refresh-models` job, which walks every product through the
-- refresh point for those models (the same refreshers a write goes through; only rows whose content changes
-- are written, so the change feed carries only real changes).

CREATE TABLE read_model_builds (
    model text NOT NULL,
    checksum text NOT NULL,
    job_id bigint,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT read_model_builds_pkey PRIMARY KEY (model),
    CONSTRAINT read_model_builds_model_check CHECK (model IN ('prices', 'completeness', 'storefront')),
    CONSTRAINT read_model_builds_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL
);

-- the read models a refresh-models job rebuilds (null for other kinds)
ALTER TABLE jobs ADD COLUMN models text[];
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('recompute-completeness', 'import-products', 'refresh-models'));
ALTER TABLE jobs ADD CONSTRAINT jobs_models_check
    CHECK ((kind = 'refresh-models') = (models IS NOT NULL)
           AND models <@ ARRAY['prices', 'completeness', 'storefront']::text[]);
