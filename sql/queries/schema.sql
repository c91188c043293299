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
