-- name: lock_runner :exec
-- Take the runner's session advisory lock: one runner at a time per database.
SELECT pg_advisory_lock($1::bigint);

-- name: unlock_runner :exec
-- Release the runner's session advisory lock.
SELECT pg_advisory_unlock($1::bigint);

-- name: create_migration_ledger :exec
-- The ledger of applied migrations, with the checksum of each file as applied.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: create_routine_ledger :exec
-- The checksum of the routine files the database's routines were created from (one row).
CREATE TABLE IF NOT EXISTS schema_routines (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: is_migration_ledger :val
-- Whether the migration ledger exists (a database never migrated has none).
SELECT to_regclass('schema_migrations') IS NOT NULL;

-- name: is_routine_ledger :val
-- Whether the routine ledger exists.
SELECT to_regclass('schema_routines') IS NOT NULL;

-- name: list_applied_migrations :many
-- The applied migrations with their checksums.
SELECT version, checksum FROM schema_migrations ORDER BY version;

-- name: insert_applied_migration :exec
-- Record an applied migration.
INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::integer, $2::text, $3::text);

-- name: get_routines_checksum :val
-- The checksum of the routine files the routines were last created from.
SELECT checksum FROM schema_routines;

-- name: upsert_routines_checksum :exec
-- Record the checksum of the routine files just applied.
INSERT INTO schema_routines (checksum) VALUES ($1::text)
ON CONFLICT (id) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();

-- name: list_routine_drops :many
-- A DROP statement for every routine of the public schema: triggers whose function is merch_* (first),
-- merch_* functions and procedures, then merch_* composite types (which functions may take or return).
SELECT statement FROM (
    SELECT 1 AS step, format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass) AS statement
      FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'merch\_%'
    UNION ALL
    SELECT 2, format('DROP %s %s', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                     p.oid::regprocedure)
      FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'merch\_%' AND p.prokind IN ('f', 'p')
    UNION ALL
    SELECT 3, format('DROP TYPE %s', t.oid::regtype)
      FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
     WHERE t.typnamespace = 'public'::regnamespace AND t.typname LIKE 'merch\_%'
) d
ORDER BY step, statement;

-- name: list_sql_routine_definitions :many
-- The CREATE OR REPLACE text of every merch_* SQL-language function (to create it again with bodies checked).
SELECT pg_get_functiondef(p.oid) AS definition
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'merch\_%' AND l.lanname = 'sql'
 ORDER BY p.oid::regprocedure::text;

-- name: list_model_builds :many
-- Per read model, the checksum of the definitions of the routines $2 (its builders, by model: $1) now, the one
-- its rows were last built with, and whether there is anything built (a product); none before 0016.
SELECT m.model,
       (SELECT encode(sha256(convert_to(string_agg(pg_get_functiondef(p.oid), E'\n'
                                                   ORDER BY p.oid::regprocedure::text), 'UTF8')), 'hex')
          FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY (string_to_array(m.routines, ',')))
           AS checksum,
       b.checksum AS built,
       EXISTS (SELECT 1 FROM products) AS any_product
  FROM unnest($1::text[], $2::text[]) AS m(model, routines)
  LEFT JOIN read_model_builds b ON b.model = m.model
 ORDER BY m.model;

-- name: is_model_build_ledger :val
-- Whether the ledger of read model builds exists (migration 0016).
SELECT to_regclass('read_model_builds') IS NOT NULL;

-- name: upsert_model_build :exec
-- Record that read model $1 is (being) built with the routines of checksum $2, by job $3 (null: nothing to
-- rebuild).
INSERT INTO read_model_builds (model, checksum, job_id) VALUES ($1::text, $2::text, $3::bigint)
ON CONFLICT (model) DO UPDATE SET checksum = EXCLUDED.checksum, job_id = EXCLUDED.job_id, recorded_at = now();

-- name: insert_refresh_models_job :val
-- Queue a rebuild of read models $1 of every product (an identical queued one answers instead).
WITH existing AS (
    SELECT id FROM jobs WHERE state = 'queued' AND kind = 'refresh-models' AND models = $1::text[]
     ORDER BY id LIMIT 1
), inserted AS (
    INSERT INTO jobs (kind, reason, requested_by, models)
    SELECT 'refresh-models', $2::text, 'merch migrate', $1::text[]
     WHERE NOT EXISTS (SELECT 1 FROM existing)
    RETURNING id
)
SELECT id FROM inserted UNION ALL SELECT id FROM existing;

-- name: update_storefront_documents_due :exec
-- Every stored product page due (stale at once) when a rebuild of the storefront is queued: until the rebuild
-- has written a product's pages again, a read computes them on the spot with the new routines — never the
-- stored bytes of the old ones (which may have another shape than the new routines' answers).
UPDATE storefront_documents SET stale_at = '-infinity' WHERE stale_at IS NULL OR stale_at > '-infinity';
