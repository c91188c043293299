-- name: insert_movements :val
-- Apply a batch of requests of movements, each all or nothing (see merch_apply_requests): one round trip.
SELECT merch_apply_requests($1::text[], $2::text[], $3::bytea[], $4::jsonb);

-- name: list_levels :many
-- Stock per SKU and bin, filtered, in (sku, warehouse, location) order after a keyset cursor (a quarantine
-- bin's units are never available).
SELECT s.sku, w.code AS warehouse, l.code AS location, l.zone, l.quarantine, sl.on_hand, sl.reserved,
       CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END AS available, s.reorder_point
  FROM stock_levels sl
  JOIN skus s ON s.id = sl.sku_id
  JOIN warehouses w ON w.id = sl.warehouse_id
  JOIN locations l ON l.id = sl.location_id
 WHERE ($1::text IS NULL OR s.sku = $1)
   AND ($2::text IS NULL OR w.code = $2)
   AND ($3::text IS NULL OR l.code = $3)
   AND ($4::integer IS NULL OR CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END < $4)
   AND (NOT $5::boolean OR (s.reorder_point IS NOT NULL
                            AND CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END <= s.reorder_point))
   AND ($6::boolean OR sl.on_hand > 0 OR sl.reserved > 0)
   AND (s.sku, w.code, l.code) > (coalesce($7::text, ''), coalesce($8::text, ''), coalesce($9::text, ''))
 ORDER BY s.sku, w.code, l.code
 LIMIT $10::integer;

-- name: get_level_totals :one
-- The totals over every row the same filters select.
SELECT coalesce(sum(sl.on_hand), 0) AS on_hand, coalesce(sum(sl.reserved), 0) AS reserved,
       coalesce(sum(sl.on_hand - sl.reserved) FILTER (WHERE NOT l.quarantine), 0) AS available
  FROM stock_levels sl
  JOIN skus s ON s.id = sl.sku_id
  JOIN warehouses w ON w.id = sl.warehouse_id
  JOIN locations l ON l.id = sl.location_id
 WHERE ($1::text IS NULL OR s.sku = $1)
   AND ($2::text IS NULL OR w.code = $2)
   AND ($3::text IS NULL OR l.code = $3)
   AND ($4::integer IS NULL OR CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END < $4)
   AND (NOT $5::boolean OR (s.reorder_point IS NOT NULL
                            AND CASE WHEN l.quarantine THEN 0 ELSE sl.on_hand - sl.reserved END <= s.reorder_point));

-- name: list_movements :many
-- The ledger newest first, filtered, after a keyset cursor (id).
SELECT m.id, m.request_id AS request, m.line, m.type, s.sku, w.code AS warehouse, l.code AS location,
       cl.code AS counterpart_location, m.qty, m.on_hand_delta, m.reserved_delta,
       CASE WHEN m.unit_cost IS NULL THEN NULL
            ELSE jsonb_build_object('amount', m.unit_cost::text, 'currency', m.currency) END AS unit_cost,
       m.supplier, m.reference, m.reason, rr.code AS return_reason,
       CASE WHEN r.resellable THEN 'resellable' WHEN NOT r.resellable THEN 'not_resellable' END AS condition,
       CASE WHEN r.sale_day IS NOT NULL THEN jsonb_build_object('channel', r.channel, 'day', r.sale_day) END AS sale,
       CASE WHEN r.refund IS NOT NULL
            THEN jsonb_build_object('amount', r.refund::text, 'currency', r.currency) END AS refund,
       m.actor, m.created_at
  FROM stock_movements m
  JOIN skus s ON s.id = m.sku_id
  JOIN warehouses w ON w.id = m.warehouse_id
  JOIN locations l ON l.id = m.location_id
  LEFT JOIN locations cl ON cl.id = m.counterpart_location_id
  LEFT JOIN sales_returns r ON m.type = 'return' AND r.movement_id = m.id
  LEFT JOIN return_reasons rr ON rr.id = r.reason_id
 WHERE ($1::text IS NULL OR s.sku = $1)
   AND ($2::text IS NULL OR w.code = $2)
   AND ($3::text IS NULL OR l.code = $3)
   AND ($4::text IS NULL OR m.type = $4)
   AND ($5::text IS NULL OR m.reference = $5)
   AND m.created_at >= coalesce($6::timestamptz, '-infinity')
   AND m.id < coalesce($7::bigint, 9223372036854775807)
 ORDER BY m.id DESC
 LIMIT $8::integer;

-- name: list_pick_candidates :many
-- Where a warehouse holds each of some SKUs, in pick-sequence order (active bins, not in quarantine, with
-- something to take).
SELECT s.sku, l.code AS location, l.zone, l.pick_sequence,
       CASE WHEN $3::boolean THEN sl.on_hand ELSE sl.on_hand - sl.reserved END AS takeable
  FROM stock_levels sl
  JOIN skus s ON s.id = sl.sku_id
  JOIN locations l ON l.id = sl.location_id
 WHERE sl.warehouse_id = $1::bigint AND s.sku = ANY($2::text[]) AND l.active AND NOT l.quarantine
   AND CASE WHEN $3::boolean THEN sl.on_hand ELSE sl.on_hand - sl.reserved END > 0
 ORDER BY s.sku, l.pick_sequence, l.code COLLATE "C";

-- name: get_warehouse_for_picking :one
-- A warehouse by code (id, active) for a pick list.
SELECT id, active FROM warehouses WHERE code = $1::text;

-- name: list_known_skus :many
-- Which of some SKU codes exist.
SELECT sku FROM skus WHERE sku = ANY($1::text[]);

-- name: update_expired_request_keys :exec
-- Forget idempotency keys older than the retention (requests that left ledger rows stay, only the key goes).
UPDATE stock_requests SET idempotency_key = NULL, response = NULL
 WHERE idempotency_key IS NOT NULL AND created_at < now() - make_interval(hours => $1::integer);
