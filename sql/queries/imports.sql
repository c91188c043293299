-- name: insert_import_job :val
-- Open an import of type $5 while its upload streams in (state receiving: no runner claims it yet).
INSERT INTO jobs (kind, reason, requested_by, state, phase, mode, format, sees_confidential, started_at,
                  heartbeat_at)
VALUES ('import-' || $5::text, 'import of ' || $5::text || ' (' || $3::text || ', ' || $2::text || ')', $1::text,
        'receiving', 'receiving', $2::text, $3::text, $4::boolean, clock_timestamp(), clock_timestamp())
RETURNING id;

-- name: update_import_received :exec
-- Count the rows read so far and keep the upload's heartbeat fresh.
UPDATE jobs SET rows_read = $2::integer, rows_rejected = $3::integer, heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: lock_import_key :exec
-- Serialise uploads that carry the same actor and Idempotency-Key (until the transaction ends).
SELECT pg_advisory_xact_lock(hashtextextended('import:' || $1::text || ':' || $2::text, 0));

-- name: get_import_by_key :one
-- The import an earlier upload with this actor and Idempotency-Key started, with its body's hash.
SELECT id, request_hash FROM jobs
 WHERE requested_by = $1::text AND idempotency_key = $2::text AND kind LIKE 'import-%';

-- name: update_import_queued :exec
-- The upload is complete: queue the import for the runner, remembering its Idempotency-Key and body hash.
UPDATE jobs SET state = 'queued', phase = 'queued', idempotency_key = $2::text, request_hash = $3::bytea,
                rows_read = $4::integer, rows_rejected = $5::integer, heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: update_import_running :exec
-- The upload is complete and its first lines applied during it (domain/imports/overlap.py): the import is run by
-- the process holding that transaction — claimed here, never queued (a heartbeat gone stale hands it to a runner).
UPDATE jobs SET state = 'running', phase = 'queued', idempotency_key = $2::text, request_hash = $3::bytea,
                rows_read = $4::integer, rows_rejected = $5::integer, started_at = clock_timestamp(),
                heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: update_import_interrupted :exec
-- An upload that stopped before its end (the client went away, the body was too large): failed, nothing staged.
WITH gone AS (DELETE FROM import_rows WHERE job_id = $1::bigint)
UPDATE jobs SET state = 'failed', phase = 'interrupted', error = $2::text, finished_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: delete_import_job :exec
-- Forget an import that never was (an upload refused as a whole, a replayed retry): its rows go with it.
DELETE FROM jobs WHERE id = $1::bigint;

-- name: update_import_code_column :exec
-- Keep where an XLSX upload's codes are (the column's letter and name), once its header is read.
UPDATE jobs SET code_column = $2::text WHERE id = $1::bigint;

-- name: get_import :one
-- An import job as its runner needs it.
SELECT id, substr(kind, 8) AS type, requested_by AS actor, mode, format, sees_confidential, code_column FROM jobs
 WHERE id = $1::bigint AND kind LIKE 'import-%';

-- name: get_import_type :val
-- The type of an import (its error report exists); null when the job is not an import.
SELECT substr(kind, 8) FROM jobs WHERE id = $1::bigint AND kind LIKE 'import-%';

-- name: insert_duplicate_errors :exec
-- Reject every row whose code an earlier line of the same upload has (the first stays); $3 names the rows
-- (`product`, `SKU`) and $4 their code's field; $5 an XLSX's column of codes (its letter and name).
WITH dup AS (
    SELECT line, code, min(line) OVER (PARTITION BY code) AS first
      FROM import_rows WHERE job_id = $1::bigint AND code IS NOT NULL
), bad AS (
    SELECT line, code, first FROM dup WHERE line > first
), reported AS (
    INSERT INTO import_errors (job_id, line, seq, pointer, column_name, code, message)
    SELECT $1::bigint, b.line, 1000, '/' || $4::text,
           coalesce($5::text, CASE WHEN $2::text = 'csv' THEN $4::text END), 'duplicate_code',
           format('%s is on line %s already: a file names each %s once.', b.code, b.first, $3::text)
      FROM bad b
    ON CONFLICT DO NOTHING
)
UPDATE import_rows r SET ok = false FROM bad b WHERE r.job_id = $1::bigint AND r.line = b.line;

-- name: count_import_rows :one
-- How many staged rows of an import are good and how many lines were rejected, with the last line.
SELECT count(*) FILTER (WHERE ok)::integer AS good,
       (SELECT count(DISTINCT e.line) FROM import_errors e WHERE e.job_id = $1::bigint)::integer AS rejected,
       coalesce(max(line), 0) AS last_line
  FROM import_rows WHERE job_id = $1::bigint;

-- name: update_import_phase :exec
-- Enter a phase of an import's run (with the number of rows it will apply), resetting its counts.
UPDATE jobs SET phase = $2::text, total = $3::integer, done = 0, rows_applied = 0, rows_unchanged = 0,
                rows_rejected = $4::integer, applying_at = clock_timestamp(), heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: update_products_from_import :one
-- Apply one chunk of an import's staged rows (lines in [$2, $3)) set-based; answers created, updated, unchanged.
SELECT created, updated, unchanged FROM merch_import_products($1::bigint, $2::integer, $3::integer, $4::text, $5::boolean);

-- name: update_products_during_upload :one
-- Apply one chunk of an all_or_nothing import's staged rows while the rest of its file is still being read: new
-- products only, their derived data left to the next chunk's refresh (NULLs: a code of the chunk is stored,
-- nothing done).
SELECT created, updated, unchanged
  FROM merch_import_products_during_upload($1::bigint, $2::integer, $3::integer, $4::text, $5::boolean);

-- name: update_import_progress :exec
-- Count rows applied and left unchanged by a chunk, and keep the heartbeat fresh.
UPDATE jobs SET done = least(done + $2::integer + $3::integer, total), rows_applied = rows_applied + $2::integer,
                rows_unchanged = rows_unchanged + $3::integer, heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: update_import_finished :exec
-- Finish an import: its state, phase and error; its staged rows are no longer needed (the report stays).
WITH gone AS (DELETE FROM import_rows WHERE job_id = $1::bigint)
UPDATE jobs SET state = $2::text, phase = $3::text, error = $4::text, finished_at = clock_timestamp(),
                heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: list_import_errors :many
-- A page of an import's per-row report in line order, after a keyset (line, seq).
SELECT line, seq, pointer, column_name AS "column", code, message
  FROM import_errors
 WHERE job_id = $1::bigint AND (line, seq) > ($2::integer, $3::integer)
 ORDER BY line, seq
 LIMIT $4::integer;

-- name: list_categories :many
-- Every category with its tree (an upload resolves the codes of its rows against them, in memory).
SELECT c.code, c.id, c.tree_id, t.code AS tree
  FROM categories c JOIN category_trees t ON t.id = c.tree_id
 ORDER BY c.code;

-- name: list_roles :many
-- Every product role's id by code.
SELECT code, id FROM roles ORDER BY code;

-- name: list_series :many
-- Every series' id by code.
SELECT code, id FROM series ORDER BY code;

-- name: list_attributes :many
-- Every attribute's type and rules (a CSV's columns are read by the types of the attributes they name).
SELECT a.code, a.type, a.visibility, a.validation,
       ARRAY(SELECT o.code FROM attribute_options o WHERE o.attribute_id = a.id ORDER BY o.code) AS options
  FROM attributes a
 ORDER BY a.code;

-- name: list_export_columns :one
-- What a CSV export's header needs of the products in scope: the locales of their texts and the attribute
-- codes they carry (those the viewer may see: confidential ones only with $2), as the refresh point keeps them
-- per home category (category_product_keys): those of the categories in scope and of the home categories of
-- the products placed in it — not a pass over the products, which took 10 s at 1,000,000 before the first
-- byte. A key no product in scope carries any more (it never shrinks) is an empty column.
WITH homes AS (
    SELECT c.id FROM categories c WHERE $1::ltree IS NULL OR c.path <@ $1
    UNION
    SELECT p.category_id
      FROM categories pc
      JOIN product_placements pp ON pp.category_id = pc.id
      JOIN products p ON p.id = pp.product_id
     WHERE pc.path <@ $1
), keys AS (
    SELECT DISTINCT k.kind, k.key FROM category_product_keys k WHERE k.category_id IN (SELECT h.id FROM homes h)
)
SELECT ARRAY(SELECT key FROM keys WHERE kind = 'labels' ORDER BY key) AS labels,
       ARRAY(SELECT key FROM keys WHERE kind = 'description' ORDER BY key) AS description,
       ARRAY(SELECT key FROM keys WHERE kind = 'selling_points' ORDER BY key) AS selling_points,
       -- (an attribute removed since is left out; those the viewer may not see, once, not per product)
       ARRAY(SELECT k.key FROM keys k JOIN attributes a ON a.code = k.key
              WHERE k.kind = 'attributes' AND ($2::boolean OR a.visibility <> 'confidential')
              ORDER BY k.key) AS attributes;

-- name: update_imports_abandoned :exec
-- Fail the uploads still `receiving` whose request stopped sending heartbeats $1 minutes ago (their process
-- died with them): their staged rows go.
WITH abandoned AS (
    UPDATE jobs SET state = 'failed', phase = 'interrupted', finished_at = clock_timestamp(),
                    error = 'The upload stopped before its end (its server process went away).'
     WHERE kind LIKE 'import-%' AND state = 'receiving'
       AND heartbeat_at < clock_timestamp() - make_interval(mins => $1::integer)
    RETURNING id
)
DELETE FROM import_rows WHERE job_id IN (SELECT id FROM abandoned);

-- name: update_import_keys_expired :exec
-- Forget imports' Idempotency-Keys older than the retention (the jobs and their reports stay).
UPDATE jobs SET idempotency_key = NULL, request_hash = NULL
 WHERE kind LIKE 'import-%' AND idempotency_key IS NOT NULL
   AND created_at < now() - make_interval(hours => $1::integer);

-- name: list_sku_owners :many
-- Products by code (id, code, home category): the owners a file's SKU rows name.
SELECT id, code, category_id FROM products WHERE code = ANY ($1::text[]) ORDER BY code;

-- name: get_sku_owner :one
-- The product of a stored SKU (id, code, home category): the owner of a SKU row that names no product.
SELECT p.id, p.code, p.category_id FROM skus s JOIN products p ON p.id = s.product_id WHERE s.sku = $1::text;

-- name: insert_sku_conflict_errors :exec
-- Reject the good staged SKU rows the SKU API would refuse for what is stored or on an earlier line: no product
-- to create the SKU under, a SKU moved to another product, a barcode another SKU holds, axes another SKU of
-- the product has ($2: the file's format, for the column).
WITH staged AS (
    SELECT r.line, r.code, r.doc::jsonb AS doc, s.id AS sku_id, sp.code AS stored_product,
           coalesce(r.doc::jsonb ->> 'product', sp.code) AS product
      FROM import_rows r
      LEFT JOIN skus s ON s.sku = r.code
      LEFT JOIN products sp ON sp.id = s.product_id
     WHERE r.job_id = $1::bigint AND r.ok
), firsts AS (
    -- the first line of the file that gives each barcode, and each product's axes (window functions: one pass)
    SELECT st.*, np.id AS product_id,
           first_value(st.code) OVER (PARTITION BY st.doc ->> 'barcode' ORDER BY st.line) AS barcode_first,
           first_value(st.code) OVER (PARTITION BY st.product, st.doc -> 'axes' ORDER BY st.line) AS axes_first
      FROM staged st LEFT JOIN products np ON np.code = st.product
), found AS (
    SELECT line, 1001 AS seq, '/product' AS pointer, 'product' AS col,
           CASE WHEN sku_id IS NULL THEN 'required' ELSE 'sku-product-fixed' END AS code,
           CASE WHEN sku_id IS NULL THEN '`product` is required to create a SKU.'
                ELSE format('SKU %L belongs to product %L; it cannot move to %L.', code, stored_product, product) END
               AS message
      FROM firsts
     WHERE product IS NULL OR (sku_id IS NOT NULL AND product <> stored_product)
    UNION ALL
    SELECT f.line, 1002, '/barcode', 'barcode', 'barcode-taken',
           format('The barcode %s belongs to SKU %L already.', f.doc ->> 'barcode', coalesce(h.sku, f.barcode_first))
      FROM firsts f
      LEFT JOIN skus h ON h.barcode = f.doc ->> 'barcode' AND h.sku <> f.code
     WHERE f.doc ->> 'barcode' IS NOT NULL AND (h.sku IS NOT NULL OR f.barcode_first <> f.code)
    UNION ALL
    SELECT f.line, 1003, '/axes', NULL, 'duplicate-axes',
           format('SKU %L of product %L has the same axes already; SKUs of a product differ on their axes.',
                  coalesce(t.sku, f.axes_first), f.product)
      FROM firsts f
      LEFT JOIN skus t ON t.product_id = f.product_id AND t.axes = f.doc -> 'axes' AND t.sku <> f.code
     WHERE f.product IS NOT NULL AND (t.sku IS NOT NULL OR f.axes_first <> f.code)
), reported AS (
    INSERT INTO import_errors (job_id, line, seq, pointer, column_name, code, message)
    SELECT $1::bigint, line, seq, pointer, CASE WHEN $2::text = 'csv' THEN col END, code, message FROM found
    ON CONFLICT DO NOTHING
)
UPDATE import_rows r SET ok = false
  FROM (SELECT DISTINCT line FROM found) b
 WHERE r.job_id = $1::bigint AND r.line = b.line;

-- name: update_skus_from_import :one
-- Apply one chunk of an import's staged SKU rows (lines in [$2, $3)) set-based; answers created, updated, unchanged.
SELECT created, updated, unchanged FROM merch_import_skus($1::bigint, $2::integer, $3::integer, $4::text);

-- name: list_export_skus :many
-- A chunk of SKUs as import rows, in sku order after $2: those of the products whose home category or a
-- placement is in the subtree $1 (every SKU when null), as the product export scopes them.
SELECT s.sku, p.code AS product, s.barcode, s.axes, s.attributes
  FROM skus s JOIN products p ON p.id = s.product_id
 WHERE s.sku > coalesce($2::text, '')
   AND ($1::ltree IS NULL
        OR EXISTS (SELECT 1 FROM categories c WHERE c.id = p.category_id AND c.path <@ $1)
        OR EXISTS (SELECT 1 FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
                    WHERE pp.product_id = p.id AND pc.path <@ $1))
 ORDER BY s.sku
 LIMIT $3::integer;

-- name: list_export_sku_columns :one
-- What a CSV export of SKUs needs for its header: the axis and override attribute codes the SKUs in scope carry.
WITH scoped AS (
    SELECT s.axes, s.attributes
      FROM skus s JOIN products p ON p.id = s.product_id
     WHERE $1::ltree IS NULL
        OR EXISTS (SELECT 1 FROM categories c WHERE c.id = p.category_id AND c.path <@ $1)
        OR EXISTS (SELECT 1 FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
                    WHERE pp.product_id = p.id AND pc.path <@ $1)
)
SELECT ARRAY(SELECT DISTINCT k FROM scoped, jsonb_object_keys(axes) k ORDER BY k) AS axes,
       ARRAY(SELECT DISTINCT k FROM scoped, jsonb_object_keys(attributes) k ORDER BY k) AS attributes;

-- name: update_staged_statistics :val
-- The staging table analysed before the runner reads import $1's rows, when it staged at least $2 (see the function).
SELECT merch_analyze_staged($1::bigint, $2::integer);

-- name: update_price_import_rows :exec
-- Settle the good staged price rows of an import against the clock and the stored periods, set-based: a row
-- identical to a stored period is unchanged; any other starts now or later (`valid_from` null, or within
-- the minute before now: now) — earlier is `price-starts-in-the-past`; the rows of one SKU, kind and
-- currency follow each other in line order, an open-ended one ending where the next starts; the first of them
-- may close the stored open-ended period it starts inside, and no other overlap is allowed
-- (`price-period-overlap`). Each row's doc gets its resolved `starts`, `ends`, whether it is `identical`, and
-- whether it is the `first` of its SKU, kind and currency ($2: the file's format, for the column).
WITH staged AS (
    SELECT r.line, r.code AS sku, s.id AS sku_id, r.doc::jsonb AS doc, d.kind, d.currency, d.amount,
           d.valid_from, d.valid_to,
           CASE WHEN d.valid_from IS NULL OR d.valid_from >= now() - interval '1 minute' AND d.valid_from < now()
                THEN now() ELSE d.valid_from END AS starts,
           EXISTS (SELECT 1 FROM prices p
                    WHERE p.sku_id = s.id AND p.kind = d.kind AND p.currency = d.currency
                      AND p.valid_from = d.valid_from AND p.valid_to IS NOT DISTINCT FROM d.valid_to
                      AND p.amount = d.amount) AS identical
      FROM import_rows r
      LEFT JOIN skus s ON s.sku = r.code
     CROSS JOIN LATERAL (SELECT r.doc::jsonb ->> 'kind' AS kind, r.doc::jsonb ->> 'currency' AS currency,
                                (r.doc::jsonb ->> 'amount')::numeric AS amount,
                                (r.doc::jsonb ->> 'valid_from')::timestamptz AS valid_from,
                                (r.doc::jsonb ->> 'valid_to')::timestamptz AS valid_to) d
     WHERE r.job_id = $1::bigint AND r.ok
), news AS (
    SELECT st.*, lag(st.starts) OVER w AS prev_starts, lag(st.valid_to) OVER w AS prev_to,
           lag(st.line) OVER w AS prev_line, lead(st.starts) OVER w AS next_starts,
           first_value(st.starts) OVER w AS first_starts, row_number() OVER w = 1 AS first
      FROM staged st
     WHERE st.sku_id IS NOT NULL AND NOT st.identical AND st.starts >= now()
    WINDOW w AS (PARTITION BY st.sku_id, st.kind, st.currency ORDER BY st.line)
), found AS (
    SELECT line, 1001 AS seq, '/sku' AS pointer, 'sku' AS col, 'sku-not-found' AS code,
           format('No SKU has the code %L.', sku) AS message
      FROM staged WHERE sku_id IS NULL
    UNION ALL
    SELECT line, 1002, '/valid_from', 'valid_from', 'price-starts-in-the-past',
           format('The %s price of SKU %L would start at %s, before now (%s): a new price starts now or later. '
                  'To change the prices of the past, POST a correction with a reason to /v1/skus/%s/prices/corrections.',
                  kind, sku, to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
                  to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), sku)
      FROM staged WHERE sku_id IS NOT NULL AND NOT identical AND starts < now()
    UNION ALL
    SELECT line, 1003, '/valid_to', 'valid_to', 'before_valid_from', '`valid_to` must be after `valid_from` (now).'
      FROM news WHERE valid_to <= starts
    UNION ALL
    SELECT line, 1004, '/valid_from', 'valid_from', 'price-period-overlap',
           format('The new %s price of SKU %L in %s overlaps the period of line %s; only a price that starts inside '
                  'the open-ended current period may close it.', kind, sku, currency, prev_line)
      FROM news WHERE prev_starts >= starts OR prev_to > starts
    UNION ALL
    SELECT n.line, 1005, '/valid_from', 'valid_from', 'price-period-overlap',
           format('The new %s price of SKU %L in %s overlaps the period [%s, %s); only a price that starts inside '
                  'the open-ended current period may close it.', n.kind, n.sku, n.currency,
                  to_char(o.valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
                  coalesce(to_char(o.valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'open'))
      FROM news n
     CROSS JOIN LATERAL (
        SELECT p.valid_from, p.valid_to FROM prices p
         WHERE p.sku_id = n.sku_id AND p.kind = n.kind AND p.currency = n.currency
           -- (an end at or before the start is an error of its own, or of the next line: checked open-ended)
           AND tstzrange(p.valid_from, p.valid_to)
               && tstzrange(n.starts, CASE WHEN coalesce(n.valid_to, n.next_starts) > n.starts
                                           THEN coalesce(n.valid_to, n.next_starts) END)
           AND NOT (p.valid_to IS NULL AND p.valid_from < n.first_starts)
         ORDER BY p.valid_from LIMIT 1) o
), reported AS (
    INSERT INTO import_errors (job_id, line, seq, pointer, column_name, code, message)
    SELECT $1::bigint, line, seq, pointer, CASE WHEN $2::text = 'csv' THEN col END, code, message FROM found
    ON CONFLICT DO NOTHING
)
UPDATE import_rows r
   SET ok = NOT EXISTS (SELECT 1 FROM found f WHERE f.line = r.line),
       doc = (st.doc || jsonb_build_object('identical', st.identical, 'starts', st.starts,
                                           'ends', coalesce(st.valid_to, n.next_starts), 'first', n.first))::text
  FROM staged st LEFT JOIN news n ON n.line = st.line
 WHERE r.job_id = $1::bigint AND r.line = st.line;

-- name: update_prices_from_import :one
-- Apply one chunk of an import's settled price rows (lines in [$2, $3)) set-based; answers created, updated, unchanged.
SELECT created, updated, unchanged FROM merch_import_prices($1::bigint, $2::integer, $3::integer, $4::text);

-- name: list_export_prices :many
-- A chunk of price periods as import rows, by SKU, kind, currency and start after the keyset ($2..$5): of the
-- SKUs of the products in the subtree $1 (every SKU when null), of the kinds $6 the viewer may read.
SELECT s.sku, p.kind, p.amount, p.currency, p.valid_from, p.valid_to
  FROM prices p
  JOIN skus s ON s.id = p.sku_id
  JOIN products pr ON pr.id = s.product_id
 WHERE p.kind = ANY ($6::text[])
   AND (s.sku, p.kind, p.currency, p.valid_from)
       > (coalesce($2::text, ''), coalesce($3::text, ''), coalesce($4::text, ''),
          coalesce($5::timestamptz, '-infinity'))
   AND ($1::ltree IS NULL
        OR EXISTS (SELECT 1 FROM categories c WHERE c.id = pr.category_id AND c.path <@ $1)
        OR EXISTS (SELECT 1 FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
                    WHERE pp.product_id = pr.id AND pc.path <@ $1))
 ORDER BY s.sku, p.kind, p.currency, p.valid_from
 LIMIT $7::integer;

-- name: list_import_movements :many
-- The good staged rows of an import with lines in [$2, $3), in line order: each a movement of the ledger.
SELECT line, doc FROM import_rows
 WHERE job_id = $1::bigint AND line >= $2::integer AND line < $3::integer AND ok
 ORDER BY line;

-- name: update_import_rows_refused :exec
-- Rows the ledger refused when they were applied: no longer good, counted among the rejected rows (their
-- errors are copied into the report beside this).
WITH refused AS (
    UPDATE import_rows SET ok = false WHERE job_id = $1::bigint AND line = ANY ($2::integer[]) RETURNING line
)
UPDATE jobs SET rows_rejected = rows_rejected + (SELECT count(*) FROM refused), heartbeat_at = clock_timestamp()
 WHERE id = $1::bigint;

-- name: list_export_counts :many
-- A chunk of stock levels as count rows (what is on hand), by SKU, warehouse and bin after the keyset
-- ($2..$4): of the SKUs of the products in the subtree $1 (every SKU when null).
SELECT s.sku, w.code AS warehouse, l.code AS location, sl.on_hand AS qty
  FROM stock_levels sl
  JOIN skus s ON s.id = sl.sku_id
  JOIN products pr ON pr.id = s.product_id
  JOIN locations l ON l.id = sl.location_id
  JOIN warehouses w ON w.id = l.warehouse_id
 WHERE (s.sku, w.code, l.code) > (coalesce($2::text, ''), coalesce($3::text, ''), coalesce($4::text, ''))
   AND ($1::ltree IS NULL
        OR EXISTS (SELECT 1 FROM categories c WHERE c.id = pr.category_id AND c.path <@ $1)
        OR EXISTS (SELECT 1 FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
                    WHERE pp.product_id = pr.id AND pc.path <@ $1))
 ORDER BY s.sku, w.code, l.code
 LIMIT $5::integer;

-- name: list_import_docs :many
-- The good staged rows of an import with lines in [$2, $3), in line order: each a body of its type's API write.
SELECT line, doc FROM import_rows
 WHERE job_id = $1::bigint AND line >= $2::integer AND line < $3::integer AND ok
 ORDER BY line;

-- name: list_trees :many
-- Every category tree's code (an upload of categories checks the trees its rows name against them).
SELECT code FROM category_trees ORDER BY code;

-- name: list_category_states :many
-- The version, parent and labels of the categories with these codes (what an import's chunk changes).
SELECT c.code, c.version, p.code AS parent
  FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
 WHERE c.code = ANY ($1::text[])
 ORDER BY c.code;

-- name: update_category_import_derived :exec
-- Bring the derived data of the products under categories an import moved ($1) or relabelled ($2) up to date
-- now, through the refresh point.
SELECT merch_import_categories_derived($1::text[], $2::text[]);

-- name: list_export_category_locales :many
-- The locales of the labels of the categories in the subtree $1 (every category when null): a CSV's columns.
SELECT DISTINCT k.locale
  FROM categories c, jsonb_object_keys(c.labels) AS k(locale)
 WHERE $1::ltree IS NULL OR c.path <@ $1
 ORDER BY k.locale;

-- name: list_export_categories :many
-- A chunk of categories as import rows, parents before their children (by tree, then the positions from the
-- root down), after the keyset ($2, $3): those of the subtree $1 (every category when null).
SELECT x.code, x.tree, x.parent, x.position, x.labels, x.ord
  FROM (SELECT c.code, t.code AS tree, p.code AS parent, c.position, c.labels,
               ARRAY(SELECT a.position FROM categories a WHERE a.path @> c.path ORDER BY nlevel(a.path)) AS ord
          FROM categories c
          JOIN category_trees t ON t.id = c.tree_id
          LEFT JOIN categories p ON p.id = c.parent_id
         WHERE $1::ltree IS NULL OR c.path <@ $1) x
 WHERE (x.tree, x.ord) > (coalesce($2::text, ''), coalesce($3::integer[], '{}'))
 ORDER BY x.tree, x.ord
 LIMIT $4::integer;

-- name: update_audit_import :exec
-- Name import $1 in the audit records this transaction writes through the API's own use cases (insert_entry
-- reads it); transaction-local.
SELECT set_config('merch.import_id', $1::bigint::text, true);

-- name: list_attribute_groups :many
-- Every attribute group's code (an upload of attributes checks the groups its rows name against them).
SELECT code FROM attribute_groups ORDER BY code;

-- name: list_attribute_versions :many
-- The version of the attributes with these codes (what an import's chunk changes).
SELECT code, version FROM attributes WHERE code = ANY ($1::text[]) ORDER BY code;

-- name: update_attribute_import_derived :exec
-- Bring the storefront of the products showing attributes an import changed ($1) up to date now.
SELECT merch_import_attributes_derived($1::text[]);

-- name: list_export_attribute_columns :one
-- What a CSV export of attributes needs for its header: the locales of their labels, the validation rules in
-- use, the locales of their options' labels.
SELECT ARRAY(SELECT DISTINCT k FROM attributes a, jsonb_object_keys(a.labels) k ORDER BY 1) AS labels,
       ARRAY(SELECT DISTINCT k FROM attributes a, jsonb_object_keys(a.validation) k ORDER BY 1) AS rules,
       ARRAY(SELECT DISTINCT k FROM attribute_options o, jsonb_object_keys(o.labels) k ORDER BY 1) AS option_labels;

-- name: list_attribute_set_owners :many
-- The own bindings of the categories with these codes, each in the order it was given (what an import's chunk
-- changes): {category: [[attribute, required_for, display_priority], …]}.
SELECT c.code AS category,
       coalesce((SELECT jsonb_agg(jsonb_build_array(a.code, ca.required_for, ca.display_priority)
                                  ORDER BY ca.position, a.code)
                   FROM category_attributes ca JOIN attributes a ON a.id = ca.attribute_id
                  WHERE ca.category_id = c.id), '[]') AS attributes
  FROM categories c
 WHERE c.code = ANY ($1::text[])
 ORDER BY c.code;

-- name: list_export_attribute_sets :many
-- A chunk of categories with an own binding, as import rows of attribute sets (each binding in the order it was
-- given), in category code order after $2: those of the subtree $1 (every category when null).
SELECT c.code AS category,
       (SELECT jsonb_agg(jsonb_build_object('attribute', a.code, 'required_for', ca.required_for,
                                            'display_priority', ca.display_priority)
                         ORDER BY ca.position, a.code)
          FROM category_attributes ca JOIN attributes a ON a.id = ca.attribute_id
         WHERE ca.category_id = c.id) AS attributes
  FROM categories c
 WHERE EXISTS (SELECT 1 FROM category_attributes ca WHERE ca.category_id = c.id)
   AND ($1::ltree IS NULL OR c.path <@ $1)
   AND c.code > coalesce($2::text, '')
 ORDER BY c.code
 LIMIT $3::integer;

-- name: list_export_set_stages :many
-- The stages any binding of the categories in the subtree $1 (every category when null) requires: a CSV's columns.
SELECT DISTINCT s.stage
  FROM categories c
  JOIN category_attributes ca ON ca.category_id = c.id, unnest(ca.required_for) AS s(stage)
 WHERE $1::ltree IS NULL OR c.path <@ $1
 ORDER BY s.stage;

-- name: list_supplier_codes :many
-- Every supplier's code (an upload of supplier terms checks the suppliers its rows name against them).
SELECT code FROM suppliers ORDER BY code;

-- name: is_product :val
-- Whether a product has this code.
SELECT EXISTS (SELECT 1 FROM products WHERE code = $1::text);

-- name: list_terms_versions :many
-- The versions of the supplier terms of the products with these codes (what an import's chunk changes).
SELECT p.code || '/' || s.code AS ref, ps.version
  FROM product_suppliers ps
  JOIN products p ON p.id = ps.product_id
  JOIN suppliers s ON s.id = ps.supplier_id
 WHERE p.code = ANY ($1::text[])
 ORDER BY 1;

-- name: update_refresh_pending :exec
-- Bring the derived data of what this transaction wrote so far up to date now (the refresh point).
SELECT merch_refresh_pending();

-- name: list_export_terms :many
-- A chunk of supplier terms as import rows, by product and supplier code after the keyset ($2, $3): of the
-- products whose home category or a placement is in the subtree $1 (every product when null).
SELECT p.code AS product, s.code AS supplier, ps.purchase_price, ps.currency, ps.moq, ps.lead_time_days,
       ps.preferred
  FROM product_suppliers ps
  JOIN products p ON p.id = ps.product_id
  JOIN suppliers s ON s.id = ps.supplier_id
 WHERE (p.code, s.code) > (coalesce($2::text, ''), coalesce($3::text, ''))
   AND ($1::ltree IS NULL
        OR EXISTS (SELECT 1 FROM categories c WHERE c.id = p.category_id AND c.path <@ $1)
        OR EXISTS (SELECT 1 FROM product_placements pp JOIN categories pc ON pc.id = pp.category_id
                    WHERE pp.product_id = p.id AND pc.path <@ $1))
 ORDER BY p.code, s.code
 LIMIT $4::integer;
