-- name: list_warehouses :many
-- Warehouses in code order, optionally only active (or inactive) ones, after a keyset cursor.
SELECT code, labels, active, version, created_at, updated_at
  FROM warehouses
 WHERE ($1::boolean IS NULL OR active = $1)
   AND code > coalesce($2::text, '')
 ORDER BY code
 LIMIT $3::integer;

-- name: get_warehouse :one
-- One warehouse by code.
SELECT code, labels, active, version, created_at, updated_at
  FROM warehouses
 WHERE code = $1::text;

-- name: get_warehouse_id :val
-- A warehouse's id by code.
SELECT id FROM warehouses WHERE code = $1::text;

-- name: lock_warehouse :one
-- One warehouse by code, locked for a change of its fields (movements and new bins, which only key-share
-- it through their foreign keys, are not held up).
SELECT id, code, labels, active, version, created_at, updated_at
  FROM warehouses
 WHERE code = $1::text
   FOR NO KEY UPDATE;

-- name: lock_warehouse_for_delete :one
-- One warehouse by code, locked against everything that could still come to reference it.
SELECT id, code, labels, active, version, created_at, updated_at
  FROM warehouses
 WHERE code = $1::text
   FOR UPDATE;

-- name: lock_warehouse_key :val
-- A warehouse's id, key-share locked so that it cannot be deleted before this transaction ends.
SELECT id FROM warehouses WHERE code = $1::text FOR KEY SHARE;

-- name: insert_warehouse :one
-- Create a warehouse; no row back means the code is taken.
INSERT INTO warehouses (code, labels, active)
VALUES ($1::text, $2::jsonb, $3::boolean)
ON CONFLICT (code) DO NOTHING
RETURNING code, labels, active, version, created_at, updated_at;

-- name: update_warehouse :one
-- Replace a warehouse's fields and bump its version.
UPDATE warehouses
   SET labels = $2::jsonb, active = $3::boolean, version = version + 1, updated_at = now()
 WHERE id = $1::bigint
RETURNING code, labels, active, version, created_at, updated_at;

-- name: delete_warehouse :exec
-- Delete a warehouse (its locations are refused by the foreign key).
DELETE FROM warehouses WHERE id = $1::bigint;

-- name: list_warehouse_location_codes :many
-- A few location codes of a warehouse, to name what blocks its deletion.
SELECT code
  FROM locations
 WHERE warehouse_id = $1::bigint
 ORDER BY code
 LIMIT $2::integer;

-- name: list_locations :many
-- A warehouse's locations in walk order (pick sequence, then code), filtered, after a keyset cursor.
SELECT w.code AS warehouse, l.code, l.zone, l.pick_sequence, l.active, l.quarantine, l.version, l.created_at, l.updated_at
  FROM locations l
  JOIN warehouses w ON w.id = l.warehouse_id
 WHERE l.warehouse_id = $1::bigint
   AND ($2::text IS NULL OR l.zone = $2)
   AND ($3::boolean IS NULL OR l.active = $3)
   AND (l.pick_sequence, l.code) > (coalesce($4::bigint, -9223372036854775808), coalesce($5::text, ''))
 ORDER BY l.pick_sequence, l.code
 LIMIT $6::integer;

-- name: get_location :one
-- One location by warehouse code and location code.
SELECT w.code AS warehouse, l.code, l.zone, l.pick_sequence, l.active, l.quarantine, l.version, l.created_at, l.updated_at
  FROM locations l
  JOIN warehouses w ON w.id = l.warehouse_id
 WHERE w.code = $1::text AND l.code = $2::text;

-- name: lock_location :one
-- One location by warehouse and location code, locked for a change of its fields (movements through it,
-- which only key-share it, are not held up; the warehouse is not locked).
SELECT l.id, w.code AS warehouse, l.code, l.zone, l.pick_sequence, l.active, l.quarantine, l.version, l.created_at, l.updated_at
  FROM locations l
  JOIN warehouses w ON w.id = l.warehouse_id
 WHERE w.code = $1::text AND l.code = $2::text
   FOR NO KEY UPDATE OF l;

-- name: lock_location_for_delete :one
-- One location by warehouse and location code, locked so that no movement can start to reference it.
SELECT l.id, w.code AS warehouse, l.code, l.zone, l.pick_sequence, l.active, l.quarantine, l.version, l.created_at, l.updated_at
  FROM locations l
  JOIN warehouses w ON w.id = l.warehouse_id
 WHERE w.code = $1::text AND l.code = $2::text
   FOR UPDATE OF l;

-- name: insert_location :one
-- Create a location in a warehouse; no row back means the code is taken in that warehouse.
WITH created AS (
    INSERT INTO locations (warehouse_id, code, zone, pick_sequence, active, quarantine)
    VALUES ($1::bigint, $2::text, $3::text, $4::integer, $5::boolean, $6::boolean)
    ON CONFLICT (warehouse_id, code) DO NOTHING
    RETURNING warehouse_id, code, zone, pick_sequence, active, quarantine, version, created_at, updated_at
)
SELECT w.code AS warehouse, c.code, c.zone, c.pick_sequence, c.active, c.quarantine, c.version, c.created_at, c.updated_at
  FROM created c
  JOIN warehouses w ON w.id = c.warehouse_id;

-- name: update_location :one
-- Replace a location's fields and bump its version.
UPDATE locations l
   SET zone = $2::text, pick_sequence = $3::integer, active = $4::boolean, quarantine = $5::boolean,
       version = l.version + 1,
       updated_at = now()
  FROM warehouses w
 WHERE l.id = $1::bigint AND w.id = l.warehouse_id
RETURNING w.code AS warehouse, l.code, l.zone, l.pick_sequence, l.active, l.quarantine, l.version, l.created_at, l.updated_at;

-- name: get_location_references :one
-- What blocks a location's deletion: a few SKUs it holds stock of, and a few SKUs of ledger rows naming it.
SELECT ARRAY(SELECT s.sku
               FROM stock_levels sl
               JOIN skus s ON s.id = sl.sku_id
              WHERE sl.location_id = $1::bigint AND (sl.on_hand > 0 OR sl.reserved > 0)
              ORDER BY s.sku
              LIMIT $2::integer) AS stock,
       -- a transfer writes a `transfer-in` row for its destination, so location_id (indexed) sees every bin used
       ARRAY(SELECT s.sku
               FROM skus s
              WHERE s.id IN (SELECT m.sku_id FROM stock_movements m WHERE m.location_id = $1::bigint)
              ORDER BY s.sku
              LIMIT $2::integer) AS ledger;

-- name: delete_location :exec
-- Delete a location (stock rows and ledger rows naming it are refused by the foreign keys).
DELETE FROM locations WHERE id = $1::bigint;
