-- The stock ledger: append-only movements, and one request of movements applied atomically in one round trip.

-- The ledger is append-only: a movement is never changed or deleted (a correction is another movement).
CREATE FUNCTION merch_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the stock ledger is append-only' USING ERRCODE = 'P0001';
END
$$;

CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION merch_refuse_change();

-- One resolved line of a movements request.
CREATE TYPE merch_movement_line AS (
    line integer, type text, sku text, warehouse text, location text, to_warehouse text, to_location text,
    qty integer, unit_cost numeric, currency text, supplier text, reference text, reason text,
    sku_id bigint, warehouse_id bigint, location_id bigint, to_warehouse_id bigint, to_location_id bigint,
    warehouse_active boolean, location_active boolean, to_warehouse_active boolean, to_location_active boolean
);

-- Refuse a movement that would take on-hand or available stock below zero, saying what is where.
CREATE FUNCTION merch_refuse_movement(l merch_movement_line, on_hand integer, reserved integer, needed integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'MF409', MESSAGE = jsonb_build_object(
        'code', 'insufficient-stock',
        'detail', format('Line %s (%s %s of %s) needs %s available at %s/%s; on hand %s, reserved %s, available %s.',
                         l.line, l.type, l.qty, l.sku, needed, l.warehouse, l.location, on_hand, reserved,
                         on_hand - reserved),
        'line', l.line, 'type', l.type, 'sku', l.sku, 'warehouse', l.warehouse, 'location', l.location,
        'requested', l.qty, 'on_hand', on_hand, 'reserved', reserved, 'available', on_hand - reserved)::text;
END
$$;

-- Apply one request of movements atomically, in one round trip: record the request (an Idempotency-Key
-- seen before with the same body answers the first answer; with another body it is refused), resolve
-- codes (every unknown or inactive one reported at once), create and lock the touched stock rows in key
-- order, apply the lines in order (none may take on-hand or available below zero), write the ledger and
-- the moving-average cost. Errors are raised as SQLSTATE MF409 / MF422 with a JSON message.
CREATE FUNCTION merch_apply_movements(p_actor text, p_key text, p_hash bytea, p_lines jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_request bigint;
    v_prior record;
    v_lines merch_movement_line[];
    v_errors jsonb;
    l merch_movement_line;
    v_on_hand integer;
    v_reserved integer;
    v_taken integer;
    v_delta integer;
    v_total bigint;
    v_cost record;
    v_results jsonb := '[]'::jsonb;
    v_response jsonb;
BEGIN
    IF p_key IS NOT NULL THEN
        -- Requests with the same key take turns; the first one's answer is stored with it.
        PERFORM pg_advisory_xact_lock(hashtextextended(p_actor || '/' || p_key, 0));
        SELECT request_hash, response INTO v_prior
          FROM stock_requests WHERE actor = p_actor AND idempotency_key = p_key;
        IF FOUND THEN
            IF v_prior.request_hash <> p_hash THEN
                RAISE EXCEPTION USING ERRCODE = 'MF422', MESSAGE = jsonb_build_object(
                    'code', 'idempotency-key-reused',
                    'detail', 'This Idempotency-Key was used with another body; use a new key for a new request.')::text;
            END IF;
            RETURN v_prior.response || '{"replayed": true}'::jsonb;
        END IF;
    END IF;
    v_request := nextval(pg_get_serial_sequence('stock_requests', 'id'));

    SELECT array_agg(ROW(
               (x.ord - 1)::integer, x.type, x.sku, x.warehouse, x.location, coalesce(x.to_warehouse, x.warehouse),
               x.to_location, x.qty, x.unit_cost, x.currency, x.supplier, x.reference, x.reason,
               s.id, w.id, loc.id, tw.id, tloc.id, w.active, loc.active, tw.active, tloc.active
           )::merch_movement_line ORDER BY x.ord)
      INTO v_lines
      FROM (SELECT e.ord, e.doc->>'type' AS type, e.doc->>'sku' AS sku, e.doc->>'warehouse' AS warehouse,
                   e.doc->>'location' AS location, e.doc->>'to_warehouse' AS to_warehouse,
                   e.doc->>'to_location' AS to_location, (e.doc->>'qty')::integer AS qty,
                   (e.doc->>'unit_cost')::numeric AS unit_cost, e.doc->>'currency' AS currency,
                   e.doc->>'supplier' AS supplier, e.doc->>'reference' AS reference, e.doc->>'reason' AS reason
              FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS e(doc, ord)) x
      LEFT JOIN skus s ON s.sku = x.sku
      LEFT JOIN warehouses w ON w.code = x.warehouse
      LEFT JOIN locations loc ON loc.warehouse_id = w.id AND loc.code = x.location
      LEFT JOIN warehouses tw ON tw.code = coalesce(x.to_warehouse, x.warehouse) AND x.to_location IS NOT NULL
      LEFT JOIN locations tloc ON tloc.warehouse_id = tw.id AND tloc.code = x.to_location;

    IF EXISTS (SELECT 1 FROM unnest(v_lines) u
                WHERE u.sku_id IS NULL OR u.location_id IS NULL OR NOT (u.location_active AND u.warehouse_active)
                   OR (u.to_location IS NOT NULL AND (u.to_location_id IS NULL
                       OR NOT (u.to_location_active AND u.to_warehouse_active) OR u.to_location_id = u.location_id)))
    THEN
    SELECT jsonb_agg(e.err ORDER BY e.line, e.err->>'pointer') INTO v_errors FROM (
        SELECT u.line, jsonb_build_object('line', u.line, 'pointer', '/movements/' || u.line || '/' || c.field,
                                          'code', c.code, 'message', c.message) AS err
          FROM unnest(v_lines) u
          CROSS JOIN LATERAL (VALUES
              ('sku', 'unknown_sku', format('No SKU is %s.', u.sku), u.sku_id IS NULL),
              ('warehouse', 'unknown_warehouse', format('No warehouse has the code %s.', u.warehouse),
               u.warehouse_id IS NULL),
              ('location', 'unknown_location', format('Warehouse %s has no location %s.', u.warehouse, u.location),
               u.warehouse_id IS NOT NULL AND u.location_id IS NULL),
              ('location', 'inactive_location', format('Location %s of warehouse %s is inactive.', u.location, u.warehouse),
               u.location_id IS NOT NULL AND NOT (u.location_active AND u.warehouse_active)),
              ('to_warehouse', 'unknown_warehouse', format('No warehouse has the code %s.', u.to_warehouse),
               u.to_location IS NOT NULL AND u.to_warehouse_id IS NULL),
              ('to_location', 'unknown_location', format('Warehouse %s has no location %s.', u.to_warehouse, u.to_location),
               u.to_warehouse_id IS NOT NULL AND u.to_location_id IS NULL),
              ('to_location', 'inactive_location',
               format('Location %s of warehouse %s is inactive.', u.to_location, u.to_warehouse),
               u.to_location_id IS NOT NULL AND NOT (u.to_location_active AND u.to_warehouse_active)),
              ('to_location', 'same_location', 'A transfer needs another location than the one it takes from.',
               u.to_location_id = u.location_id)
          ) AS c(field, code, message, failed)
         WHERE c.failed
    ) e;
    IF v_errors IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'MF422', MESSAGE = jsonb_build_object(
            'code', 'invalid-movements', 'detail', 'Some movements name things that do not exist or cannot be used.',
            'errors', v_errors)::text;
    END IF;
    END IF;

    -- Every stock row the request touches exists, then is locked, in key order (no deadlocks between
    -- requests). A request that touches one row only locks it as it goes.
    IF cardinality(v_lines) > 1 OR v_lines[1].to_location_id IS NOT NULL THEN
        INSERT INTO stock_levels (sku_id, location_id, warehouse_id)
        SELECT DISTINCT t.sku_id, t.lid, t.wid FROM (
            SELECT u.sku_id, u.location_id AS lid, u.warehouse_id AS wid FROM unnest(v_lines) u
            UNION ALL
            SELECT u.sku_id, u.to_location_id, u.to_warehouse_id FROM unnest(v_lines) u WHERE u.to_location_id IS NOT NULL
        ) t ORDER BY 1, 2
        ON CONFLICT (sku_id, location_id) DO NOTHING;
        PERFORM 1 FROM stock_levels sl
          JOIN (SELECT u.sku_id, u.location_id AS lid FROM unnest(v_lines) u
                UNION SELECT u.sku_id, u.to_location_id FROM unnest(v_lines) u WHERE u.to_location_id IS NOT NULL) t
            ON sl.sku_id = t.sku_id AND sl.location_id = t.lid
         ORDER BY sl.sku_id, sl.location_id
           FOR UPDATE OF sl;
    END IF;

    FOREACH l IN ARRAY v_lines LOOP
        SELECT sl.on_hand, sl.reserved INTO v_on_hand, v_reserved FROM stock_levels sl
         WHERE sl.sku_id = l.sku_id AND sl.location_id = l.location_id
           FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO stock_levels (sku_id, location_id, warehouse_id) VALUES (l.sku_id, l.location_id, l.warehouse_id)
            ON CONFLICT (sku_id, location_id) DO NOTHING;
            SELECT sl.on_hand, sl.reserved INTO v_on_hand, v_reserved FROM stock_levels sl
             WHERE sl.sku_id = l.sku_id AND sl.location_id = l.location_id
               FOR UPDATE;
        END IF;
        v_taken := 0;
        v_delta := 0;
        CASE l.type
            WHEN 'receive' THEN
                IF l.unit_cost IS NOT NULL THEN
                    SELECT c.currency, c.avg_unit_cost INTO v_cost FROM sku_costs c WHERE c.sku_id = l.sku_id FOR UPDATE;
                    IF FOUND AND v_cost.currency <> l.currency THEN
                        RAISE EXCEPTION USING ERRCODE = 'MF422', MESSAGE = jsonb_build_object(
                            'code', 'currency-mismatch',
                            'detail', format('SKU %s is costed in %s, not %s.', l.sku, v_cost.currency, l.currency),
                            'errors', jsonb_build_array(jsonb_build_object('line', l.line,
                                'pointer', '/movements/' || l.line || '/unit_cost/currency', 'code', 'currency_mismatch',
                                'message', format('SKU %s is costed in %s.', l.sku, v_cost.currency))))::text;
                    END IF;
                    SELECT coalesce(sum(sl.on_hand), 0) INTO v_total FROM stock_levels sl WHERE sl.sku_id = l.sku_id;
                    INSERT INTO sku_costs (sku_id, currency, avg_unit_cost) VALUES (l.sku_id, l.currency, l.unit_cost)
                    ON CONFLICT (sku_id) DO UPDATE
                       SET avg_unit_cost = round((sku_costs.avg_unit_cost * v_total + l.unit_cost * l.qty)
                                                 / nullif(v_total + l.qty, 0), 6),
                           updated_at = now();
                END IF;
                v_delta := l.qty;
            WHEN 'pick', 'ship' THEN
                v_taken := least(v_reserved, l.qty);  -- picking reserved goods fulfils their reservation
                IF v_on_hand - v_reserved < l.qty - v_taken THEN
                    PERFORM merch_refuse_movement(l, v_on_hand, v_reserved, l.qty - v_taken);
                END IF;
                v_delta := -l.qty;
            WHEN 'transfer' THEN
                IF v_on_hand - v_reserved < l.qty THEN
                    PERFORM merch_refuse_movement(l, v_on_hand, v_reserved, l.qty);
                END IF;
                v_delta := -l.qty;
            WHEN 'adjust' THEN
                IF v_on_hand + l.qty < v_reserved THEN
                    PERFORM merch_refuse_movement(l, v_on_hand, v_reserved, -l.qty);
                END IF;
                v_delta := l.qty;
            WHEN 'count' THEN
                IF l.qty < v_reserved THEN
                    PERFORM merch_refuse_movement(l, v_on_hand, v_reserved, v_on_hand - l.qty);
                END IF;
                v_delta := l.qty - v_on_hand;
            WHEN 'reserve' THEN
                IF v_on_hand - v_reserved < l.qty THEN
                    PERFORM merch_refuse_movement(l, v_on_hand, v_reserved, l.qty);
                END IF;
                v_taken := -l.qty;
            WHEN 'release' THEN
                IF v_reserved < l.qty THEN
                    RAISE EXCEPTION USING ERRCODE = 'MF409', MESSAGE = jsonb_build_object(
                        'code', 'insufficient-reservation',
                        'detail', format('Line %s releases %s of %s at %s/%s, but only %s is reserved there.',
                                         l.line, l.qty, l.sku, l.warehouse, l.location, v_reserved),
                        'line', l.line, 'type', l.type, 'sku', l.sku, 'warehouse', l.warehouse, 'location', l.location,
                        'requested', l.qty, 'on_hand', v_on_hand, 'reserved', v_reserved,
                        'available', v_on_hand - v_reserved)::text;
                END IF;
                v_taken := l.qty;
        END CASE;
        UPDATE stock_levels sl SET on_hand = sl.on_hand + v_delta, reserved = sl.reserved - v_taken, updated_at = now()
         WHERE sl.sku_id = l.sku_id AND sl.location_id = l.location_id
        RETURNING sl.on_hand, sl.reserved INTO v_on_hand, v_reserved;
        INSERT INTO stock_movements (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta,
                                     reserved_delta, counterpart_location_id, unit_cost, currency, supplier, reference,
                                     reason, actor)
        VALUES (v_request, l.line, l.type, l.sku_id, l.warehouse_id, l.location_id, l.qty, v_delta, -v_taken,
                l.to_location_id, l.unit_cost, l.currency, l.supplier, l.reference, l.reason, p_actor);
        v_results := v_results || jsonb_build_object(
            'line', l.line, 'type', l.type, 'sku', l.sku, 'warehouse', l.warehouse, 'location', l.location,
            'qty', l.qty, 'on_hand', v_on_hand, 'reserved', v_reserved, 'available', v_on_hand - v_reserved);
        IF l.type = 'transfer' THEN
            UPDATE stock_levels sl SET on_hand = sl.on_hand + l.qty, updated_at = now()
             WHERE sl.sku_id = l.sku_id AND sl.location_id = l.to_location_id
            RETURNING sl.on_hand, sl.reserved INTO v_on_hand, v_reserved;
            INSERT INTO stock_movements (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta,
                                         reserved_delta, counterpart_location_id, reference, reason, actor)
            VALUES (v_request, l.line, 'transfer-in', l.sku_id, l.to_warehouse_id, l.to_location_id, l.qty, l.qty, 0,
                    l.location_id, l.reference, l.reason, p_actor);
            v_results := v_results || jsonb_build_object(
                'line', l.line, 'type', 'transfer-in', 'sku', l.sku, 'warehouse', l.to_warehouse,
                'location', l.to_location, 'qty', l.qty, 'on_hand', v_on_hand, 'reserved', v_reserved,
                'available', v_on_hand - v_reserved);
        END IF;
    END LOOP;

    v_response := jsonb_build_object('request', v_request, 'replayed', false, 'movements', v_results);
    INSERT INTO stock_requests (id, actor, idempotency_key, request_hash, response)
    OVERRIDING SYSTEM VALUE VALUES (v_request, p_actor, p_key, p_hash, v_response);
    RETURN v_response;
END
$$;

-- Receipts: the `stock` item of completeness (stock received), recorded for the refresh point. A row trigger
-- with a condition: the picks, reservations and transfers of the warehouse's hot path never call it.
CREATE FUNCTION merch_touch_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_touch('completeness', ARRAY(SELECT s.product_id FROM skus s WHERE s.id = NEW.sku_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER stock_movements_received_touch AFTER INSERT ON stock_movements
    FOR EACH ROW WHEN (NEW.type = 'receive') EXECUTE FUNCTION merch_touch_received();
