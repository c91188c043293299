-- name: lock_sales_request :exec
-- Serialise uploads that carry the same actor and Idempotency-Key (until the transaction ends).
SELECT pg_advisory_xact_lock(hashtextextended('sales/' || $1::text || '/' || $2::text, 0));

-- name: get_sales_request :one
-- The stored first answer of an upload with this actor and Idempotency-Key, with its body's hash.
SELECT request_hash, response
  FROM sales_requests
 WHERE actor = $1::text AND idempotency_key = $2::text;

-- name: insert_sales_request :exec
-- Remember an upload's answer under its actor and Idempotency-Key, for retries.
INSERT INTO sales_requests (actor, idempotency_key, request_hash, response)
VALUES ($1::text, $2::text, $3::bytea, $4::jsonb);

-- name: list_sku_ids :many
-- The ids of the SKUs among these codes (the unknown ones are simply absent).
SELECT s.sku, s.id
  FROM skus s
 WHERE s.sku = ANY ($1::text[])
 ORDER BY s.sku;

-- name: list_returned_facts :many
-- Of some facts (day, SKU id, channel), those that returns reversed: units back and refunded.
SELECT f.day, f.sku_id, f.channel, f.returned_qty, f.refunded
  FROM sales_facts f
  JOIN unnest($1::date[], $2::bigint[], $3::text[]) AS t(day, sku_id, channel)
    ON f.day = t.day AND f.sku_id = t.sku_id AND f.channel = t.channel
 WHERE f.returned_qty > 0 OR f.refunded > 0
 ORDER BY f.day, f.sku_id, f.channel;

-- name: upsert_sales_facts :one
-- Insert or replace facts costed at the prices of their day (their triggers move the monthly rollup and the
-- per-SKU totals); answers how many were inserted and how many replaced.
WITH input AS (
    SELECT t.day, t.sku_id, t.channel, t.qty, t.revenue, t.currency
      FROM unnest($1::date[], $2::bigint[], $3::text[], $4::integer[], $5::numeric[], $6::text[])
           AS t(day, sku_id, channel, qty, revenue, currency)
), upserted AS (
    INSERT INTO sales_facts AS f (day, sku_id, channel, qty, revenue, currency, cost, distribution_value)
    SELECT i.day, i.sku_id, i.channel, i.qty, i.revenue, i.currency,
           i.qty * merch_price_on_day(i.sku_id, 'cost', i.currency, i.day),
           i.qty * merch_price_on_day(i.sku_id, 'distribution', i.currency, i.day)
      FROM input i
     ORDER BY i.day, i.sku_id, i.channel  -- key order: two uploads never deadlock on each other's rows
    ON CONFLICT (day, sku_id, channel) DO UPDATE
       SET qty = EXCLUDED.qty, revenue = EXCLUDED.revenue, currency = EXCLUDED.currency, cost = EXCLUDED.cost,
           distribution_value = EXCLUDED.distribution_value, updated_at = now()
    RETURNING old.day IS NULL AS inserted
)
SELECT count(*)::integer AS accepted,
       (count(*) FILTER (WHERE inserted))::integer AS inserted,
       (count(*) FILTER (WHERE NOT inserted))::integer AS replaced
  FROM upserted;

-- name: delete_sales_facts :many
-- Remove the facts of days $1..$2, optionally of one SKU and one channel, locked first in key order (the
-- order uploads take them in: a removal and an upload never deadlock); their trigger moves the monthly
-- rollup and the per-SKU totals back. Answers the removed facts.
WITH doomed AS (
    SELECT f.day, f.sku_id, f.channel
      FROM sales_facts f
     WHERE f.day >= $1::date AND f.day <= $2::date
       AND ($3::bigint IS NULL OR f.sku_id = $3::bigint)
       AND ($4::text IS NULL OR f.channel = $4::text)
     ORDER BY f.day, f.sku_id, f.channel
       FOR UPDATE
)
DELETE FROM sales_facts f
 USING doomed d, skus s
 WHERE f.day = d.day AND f.sku_id = d.sku_id AND f.channel = d.channel AND s.id = f.sku_id
RETURNING s.sku, f.day, f.channel, f.qty, f.revenue, f.currency;

-- name: update_sales_costs :exec
-- Re-cost a SKU's facts in a currency whose days end (UTC) within [$3, $4) ($4 null: open) at the cost and
-- distribution prices of their days, after those prices changed there; only facts whose figures change are
-- written, locked in key order as uploads lock them. Their trigger moves the rollup and the totals.
WITH fresh AS (
    SELECT f.day, f.sku_id, f.channel,
           f.qty * merch_price_on_day(f.sku_id, 'cost', f.currency, f.day) AS cost,
           f.qty * merch_price_on_day(f.sku_id, 'distribution', f.currency, f.day) AS distribution_value
      FROM sales_facts f
     WHERE f.sku_id = $1::bigint AND f.currency = $2::text
       AND f.day >= ($3::timestamptz AT TIME ZONE 'UTC')::date
       AND f.day < coalesce(($4::timestamptz AT TIME ZONE 'UTC')::date, 'infinity')
     ORDER BY f.day, f.sku_id, f.channel
       FOR UPDATE
)
UPDATE sales_facts f
   SET cost = x.cost, distribution_value = x.distribution_value
  FROM fresh x
 WHERE f.day = x.day AND f.sku_id = x.sku_id AND f.channel = x.channel
   AND (f.cost, f.distribution_value) IS DISTINCT FROM (x.cost, x.distribution_value);

-- name: list_sales_facts :many
-- Sales facts by optional SKU, channel and day range, keyset-paged by (day, SKU, channel).
SELECT f.day, s.sku, f.channel, f.qty, f.revenue, f.currency, f.updated_at
  FROM sales_facts f
  JOIN skus s ON s.id = f.sku_id
 WHERE ($1::text IS NULL OR s.sku = $1::text)
   AND ($2::text IS NULL OR f.channel = $2::text)
   AND f.day >= coalesce($3::date, '-infinity')
   AND f.day <= coalesce($4::date, 'infinity')
   AND (f.day, s.sku, f.channel) > (coalesce($5::date, '-infinity'), coalesce($6::text, ''), coalesce($7::text, ''))
 ORDER BY f.day, s.sku, f.channel
 LIMIT $8::integer;

-- name: delete_expired_sales_requests :exec
-- Forget sales upload idempotency keys older than the retention.
DELETE FROM sales_requests WHERE created_at < now() - make_interval(hours => $1::integer);
