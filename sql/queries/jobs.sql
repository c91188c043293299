-- name: insert_job :one
-- Queue a recompute job, unless an identical one is still queued (then that one answers).
WITH existing AS (
    SELECT id FROM jobs
     WHERE state = 'queued' AND kind = $1::text AND scope_path IS NOT DISTINCT FROM $3::ltree
       AND stages IS NOT DISTINCT FROM $5::text[]
     ORDER BY id LIMIT 1
), inserted AS (
    INSERT INTO jobs (kind, reason, scope_path, requested_by, stages)
    SELECT $1::text, $2::text, $3::ltree, $4::text, $5::text[]
     WHERE NOT EXISTS (SELECT 1 FROM existing)
    RETURNING id
)
SELECT id FROM inserted UNION ALL SELECT id FROM existing;

-- name: get_job :one
-- One job.
SELECT id, kind, reason, scope_path::text AS scope, stages, models, state, total, done, error, requested_by,
       created_at, started_at, finished_at, mode, phase, rows_read, rows_applied, rows_unchanged, rows_rejected,
       applying_at
  FROM jobs WHERE id = $1::bigint;

-- name: list_jobs :many
-- Jobs newest first, after a keyset cursor.
SELECT id, kind, reason, scope_path::text AS scope, stages, models, state, total, done, error, requested_by,
       created_at, started_at, finished_at, mode, phase, rows_read, rows_applied, rows_unchanged, rows_rejected,
       applying_at
  FROM jobs
 WHERE id < coalesce($1::bigint, 9223372036854775807) AND ($2::text IS NULL OR state = $2)
 ORDER BY id DESC
 LIMIT $3::integer;

-- name: update_job_claimed :one
-- Claim the oldest queued job (or one whose runner stopped sending heartbeats) of a kind this runner runs ($2: a
-- job queued by a newer version of the code, during a rolling deploy, waits for a process that knows its kind).
UPDATE jobs
   SET state = 'running', started_at = coalesce(started_at, clock_timestamp()), heartbeat_at = clock_timestamp(),
       done = 0
 WHERE id = (SELECT id FROM jobs
              WHERE (state = 'queued'
                     OR (state = 'running' AND heartbeat_at < clock_timestamp() - make_interval(secs => $1::integer)))
                AND kind = ANY ($2::text[])
              ORDER BY id
              LIMIT 1
                FOR UPDATE SKIP LOCKED)
RETURNING id, kind, scope_path::text AS scope, stages, models, created_at;

-- name: update_job_total :exec
-- Record how many products a job covers.
UPDATE jobs SET total = $2::integer, heartbeat_at = clock_timestamp() WHERE id = $1::bigint;

-- name: update_job_progress :exec
-- Count products done and keep the job's heartbeat fresh.
UPDATE jobs SET done = least(done + $2::integer, coalesce(total, done + $2::integer)), heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: update_job_finished :exec
-- Mark a job done or failed.
UPDATE jobs SET state = $2::text, error = $3::text, finished_at = clock_timestamp(), heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: list_job_chunk_bounds :many
-- The last product id of every full chunk of $2 products a job covers (chunk k is (bound k-1, bound k]).
SELECT id
  FROM (SELECT p.id, row_number() OVER (ORDER BY p.id) AS n
          FROM products p
         WHERE $1::ltree IS NULL OR p.category_id IN (SELECT c.id FROM categories c WHERE c.path <@ $1::ltree)) x
 WHERE n % $2::integer = 0
 ORDER BY id;

-- name: list_job_product_ids :many
-- The product ids of one chunk of a job: after $2 and up to $3 (no upper bound when null).
SELECT p.id
  FROM products p
 WHERE p.id > $2::bigint AND p.id <= coalesce($3::bigint, 9223372036854775807)
   AND ($1::ltree IS NULL OR p.category_id IN (SELECT c.id FROM categories c WHERE c.path <@ $1::ltree))
 ORDER BY p.id;

-- name: count_job_products :val
-- How many products a job covers.
SELECT count(*)
  FROM products p
 WHERE $1::ltree IS NULL OR p.category_id IN (SELECT c.id FROM categories c WHERE c.path <@ $1::ltree);

-- name: get_category_path :val
-- A category's path (the scope of a recompute of the products below it).
SELECT path::text FROM categories WHERE id = $1::bigint;

-- name: update_chunk_models :exec
-- Record read models $2 of a chunk's products for the refresh point, which rebuilds them at commit (only
-- rows whose content changes are written).
SELECT merch_touch(m, $1::bigint[]) FROM unnest($2::text[]) WITH ORDINALITY AS u(m, n) ORDER BY n;

-- name: update_chunk_completeness :exec
-- Recompute and store a chunk's completeness (every stage, or only $2 for products computed before).
SELECT merch_refresh_model('completeness', $1::bigint[], $2::text[]);

-- name: update_due_products :val
-- Record the products whose prices started or stopped being in force with no write, for the refresh at
-- commit, with at most $1 storefront rows gone stale; answers how many.
SELECT merch_touch_due($1::integer);

-- name: count_jobs_by_state :many
-- How many jobs are in each state (for /metrics).
SELECT state, count(*)::bigint AS jobs FROM jobs GROUP BY state ORDER BY state;

-- name: list_running_jobs :many
-- The running jobs and how far each is (for /metrics).
SELECT id, kind, total, done FROM jobs WHERE state = 'running' ORDER BY id;

-- name: delete_old_finished_jobs :val
-- Forget the finished jobs of kind $1 older than $2 hours (a kind queued once per burst of writes, such as
-- promotion-outcomes); answers how many.
WITH gone AS (
    DELETE FROM jobs
     WHERE kind = $1::text AND state IN ('done', 'failed')
       AND finished_at < clock_timestamp() - make_interval(hours => $2::integer)
    RETURNING id
)
SELECT count(*) FROM gone;
