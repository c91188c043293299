-- name: insert_key :one
-- Store a new API key: only the hash of its secret is kept.
INSERT INTO api_keys (name, prefix, secret_hash, roles)
VALUES ($1::text, $2::text, $3::bytea, $4::text[])
RETURNING name, prefix, roles, created_at, revoked_at;

-- name: get_key_by_hash :one
-- The active key whose secret hashes to $1.
SELECT name, roles
  FROM api_keys
 WHERE secret_hash = $1::bytea AND revoked_at IS NULL;

-- name: list_keys :many
-- Every key, newest first, without secrets.
SELECT name, prefix, roles, created_at, revoked_at
  FROM api_keys
 ORDER BY created_at DESC, id DESC;

-- name: update_key_revoked :one
-- Revoke a key by name (idempotent: an already revoked key keeps its first revocation time).
UPDATE api_keys
   SET revoked_at = coalesce(revoked_at, now())
 WHERE name = $1::text
RETURNING name, prefix, roles, created_at, revoked_at;

-- name: delete_key :val
-- Forget a key by name (the demo's admin key, replaced when its file is lost); true when one was deleted.
WITH gone AS (DELETE FROM api_keys WHERE name = $1::text RETURNING 1)
SELECT EXISTS (SELECT 1 FROM gone);
