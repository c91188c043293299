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

-- name: upsert_sales_facts :one
-- Insert or replace facts costed at the prices of their day, moving the monthly rollup by new minus old values.
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
    -- old.* is the replaced row as locked (all NULL for a new one), so concurrent uploads still add up
    RETURNING old.day IS NULL AS inserted, new.day, new.sku_id, new.channel,
              new.currency, new.qty, new.revenue, new.cost, new.distribution_value,
              old.currency AS old_currency, old.qty AS old_qty, old.revenue AS old_revenue, old.cost AS old_cost,
              old.distribution_value AS old_distribution_value
), delta AS (
    -- each upserted fact counts +1 × its new values and -1 × the values it replaced
    SELECT date_trunc('month', u.day)::date AS month, u.sku_id, u.channel, d.currency,
           sum(d.sign) AS facts, sum(d.sign * d.qty) AS qty, sum(d.sign * d.revenue) AS revenue,
           coalesce(sum(d.sign * d.cost), 0) AS cost,
           coalesce(sum(d.sign * d.qty) FILTER (WHERE d.cost IS NOT NULL), 0) AS costed_qty,
           coalesce(sum(d.sign) FILTER (WHERE d.cost IS NOT NULL), 0) AS costed_facts,
           coalesce(sum(d.sign * d.revenue) FILTER (WHERE d.cost IS NOT NULL), 0) AS costed_revenue,
           coalesce(sum(d.sign * d.distribution_value), 0) AS distribution_value,
           coalesce(sum(d.sign * d.qty) FILTER (WHERE d.distribution_value IS NOT NULL), 0) AS distributed_qty,
           coalesce(sum(d.sign) FILTER (WHERE d.distribution_value IS NOT NULL), 0) AS distributed_facts
      FROM upserted u
     CROSS JOIN LATERAL (VALUES (1, u.currency, u.qty, u.revenue, u.cost, u.distribution_value),
                                (-1, u.old_currency, u.old_qty, u.old_revenue, u.old_cost, u.old_distribution_value))
           AS d(sign, currency, qty, revenue, cost, distribution_value)
     WHERE d.currency IS NOT NULL
     GROUP BY 1, u.sku_id, u.channel, d.currency
), rolled AS (
    INSERT INTO sales_monthly AS m (month, sku_id, channel, currency, facts, qty, revenue, cost, costed_qty,
                                    costed_facts, costed_revenue, distribution_value, distributed_qty,
                                    distributed_facts)
    SELECT d.month, d.sku_id, d.channel, d.currency, d.facts, d.qty, d.revenue, d.cost, d.costed_qty,
           d.costed_facts, d.costed_revenue, d.distribution_value, d.distributed_qty, d.distributed_facts
      FROM delta d
     ORDER BY d.month, d.sku_id, d.channel, d.currency  -- key order, as above
    ON CONFLICT ON CONSTRAINT sales_monthly_pkey DO UPDATE
       SET facts = m.facts + EXCLUDED.facts, qty = m.qty + EXCLUDED.qty, revenue = m.revenue + EXCLUDED.revenue,
           cost = m.cost + EXCLUDED.cost, costed_qty = m.costed_qty + EXCLUDED.costed_qty,
           costed_facts = m.costed_facts + EXCLUDED.costed_facts,
           costed_revenue = m.costed_revenue + EXCLUDED.costed_revenue,
           distribution_value = m.distribution_value + EXCLUDED.distribution_value,
           distributed_qty = m.distributed_qty + EXCLUDED.distributed_qty,
           distributed_facts = m.distributed_facts + EXCLUDED.distributed_facts
    RETURNING m.month
)
SELECT count(*)::integer AS accepted,
       (count(*) FILTER (WHERE inserted))::integer AS inserted,
       (count(*) FILTER (WHERE NOT inserted))::integer AS replaced
  FROM upserted;

-- name: delete_empty_sales_monthly :exec
-- Drop the rollup rows of the uploaded months and SKUs that no fact feeds any more (a currency replaced).
DELETE FROM sales_monthly m
 WHERE m.facts = 0
   AND (m.month, m.sku_id) IN (SELECT DISTINCT date_trunc('month', t.day)::date, t.sku_id
                                 FROM unnest($1::date[], $2::bigint[]) AS t(day, sku_id));

-- name: list_sales_facts :many
-- Sales facts by optional SKU, channel and day range, keyset-paged by (day, SKU, channel).
SELECT f.day, s.sku, f.channel, f.qty, f.revenue, f.currency, f.updated_at
  FROM sales_facts f
  JOIN skus s ON s.id = f.sku_id
 WHERE ($1::text IS NULL OR s.sku = $1::text)
   AND ($2::text IS NULL OR f.channel = $2::text)
   AND ($3::date IS NULL OR f.day >= $3::date)
   AND ($4::date IS NULL OR f.day <= $4::date)
   AND ($5::date IS NULL OR (f.day, s.sku, f.channel) > ($5::date, $6::text, $7::text))
 ORDER BY f.day, s.sku, f.channel
 LIMIT $8::integer;

-- name: delete_expired_sales_requests :exec
-- Forget sales upload idempotency keys older than the retention.
DELETE FROM sales_requests WHERE created_at < now() - make_interval(hours => $1::integer);
