-- name: insert_entry :exec
-- Append one audit record (naming the import whose rows the transaction applies through the API's own use
-- cases, when it does: merch.import_id, set for the transaction).
INSERT INTO audit_log (actor, action, entity, code, version, changes, reason, import_id)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::integer, $6::jsonb, $7::text,
        nullif(current_setting('merch.import_id', true), '')::bigint);

-- name: insert_entries :exec
-- Append audit records of one action by one actor, one per code with its changes, in the order given.
INSERT INTO audit_log (actor, action, entity, code, changes, reason, import_id)
SELECT $1::text, $2::text, $3::text, e.code, e.changes, $6::text,
       nullif(current_setting('merch.import_id', true), '')::bigint
  FROM unnest($4::text[], $5::jsonb[]) WITH ORDINALITY AS e(code, changes, n)
 ORDER BY e.n;

-- name: list_entries :many
-- Audit records newest first, optionally filtered (by an import: $7), after a keyset cursor (id).
SELECT id, at, actor, action, entity, code, version, changes, reason, import_id
  FROM audit_log
 WHERE ($7::bigint IS NULL OR import_id = $7)
   AND ($1::text IS NULL OR entity = $1)
   AND ($2::text IS NULL OR code = $2)
   AND ($3::text IS NULL OR actor = $3)
   AND at >= coalesce($4::timestamptz, '-infinity')
   AND id < coalesce($5::bigint, 9223372036854775807)
 ORDER BY id DESC
 LIMIT $6::integer;
