-- Promotion outcomes (issue 14): the read model behind GET /v1/reports/promotion-roi (migration 0027), kept
-- current by the refresh point (sql/functions/refresh.sql) like the sales rollup:
--   * facts written (an upload, a re-sent day, a return, a re-costing) record their deltas (+ new − old) for
--     the lines they fall in — an item's line when the fact is of its SKU, the neighbours' line when of a
--     listed neighbour's — when their day is in the promotion's days or its baseline, in its currency and on its
--     spend channel;
--   * a product that enters or leaves a promotion's neighbours (its home category or its lifecycle changed;
--     created, deleted) records ± its sums over that promotion's windows and ± 1 neighbour;
--   * a promotion's edit (dates, baseline rule, spend currency or channel), its items, the category of one of
--     its items' products, a series membership of its scopes, or an earlier first day of any sales data (the
--     baseline reaches no earlier) record the promotion, recomputed whole;
--   * a sale price of an item's SKU records its line, whose regular price is recomputed.
-- merch_merge_promotion_pending applies them before the transaction commits. Nothing depends on "today": a
-- promotion's windows are fixed by its dates, its baseline rule and the first day of sales data; a running
-- promotion's figures move with the facts written only (the report says when its days are not all in).
--
-- Concurrency: a recompute takes its promotions' transaction-level advisory locks (7340655, promotion id)
-- exclusively before it reads the facts (each statement reads the latest committed data), a merge of deltas takes
-- them shared (merges of concurrent uploads do not wait for one another, and write no lock into any row; their
-- line rows are upserted in key order): a merge waits for a recompute that read without its facts and applies
-- its deltas after it, a recompute waits for the merges whose facts it must see.

-- The sums over a promotion's days and its baseline window of the facts of some SKUs (its currency, its
-- channel when it names one), net of returns; `uncosted`: facts with no cost.
CREATE FUNCTION merch_promotion_sums(p_skus bigint[], p_currency text, p_channel text, p_baseline_from date,
                                     p_first_day date, p_last_day date)
RETURNS TABLE (units bigint, revenue numeric, cost numeric, uncosted bigint, baseline_units bigint,
               baseline_revenue numeric, baseline_cost numeric, baseline_uncosted bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day >= p_first_day), 0),
           coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day >= p_first_day), 0),
           coalesce(sum(merch_net(f.cost, f.qty, f.returned_qty)) FILTER (WHERE f.day >= p_first_day), 0),
           count(*) FILTER (WHERE f.day >= p_first_day AND f.cost IS NULL),
           coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day < p_first_day), 0),
           coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day < p_first_day), 0),
           coalesce(sum(merch_net(f.cost, f.qty, f.returned_qty)) FILTER (WHERE f.day < p_first_day), 0),
           count(*) FILTER (WHERE f.day < p_first_day AND f.cost IS NULL)
      FROM sales_facts f
     WHERE f.sku_id = ANY (p_skus) AND f.currency = p_currency AND f.day >= p_baseline_from AND f.day <= p_last_day
       AND (p_channel IS NULL OR f.channel = p_channel)
$$;

-- The promotions whose neighbours a product is (as it is, or as it was: its category and lifecycle given).
CREATE FUNCTION merch_promotions_near(p_product bigint, p_category bigint, p_lifecycle text)
RETURNS TABLE (promotion_id bigint) LANGUAGE sql STABLE AS $$
    SELECT n.promotion_id
      FROM (SELECT sc.promotion_id FROM promotion_outcome_scopes sc
             WHERE sc.kind = 'category' AND sc.key_id = p_category
            UNION
            SELECT sc.promotion_id FROM product_series ps
              JOIN promotion_outcome_scopes sc ON sc.kind = 'series' AND sc.key_id = ps.series_id
             WHERE ps.product_id = p_product) n
     WHERE p_lifecycle = 'listed'
       AND NOT EXISTS (SELECT 1 FROM promotion_outcome_scopes i
                        WHERE i.promotion_id = n.promotion_id AND i.kind = 'product' AND i.key_id = p_product)
$$;

-- Recompute promotions' outcomes whole, set-based (the backfill of migration 0027 is the same computation):
-- their windows, their scopes, their items' lines and their neighbours' line; a promotion gone leaves none.
CREATE FUNCTION merch_refresh_promotion_outcomes(p_promotions bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_data_from date;
BEGIN
    IF p_promotions IS NULL OR cardinality(p_promotions) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(7340655, x.id::integer)
       FROM (SELECT DISTINCT u.id FROM unnest(p_promotions) AS u(id)) x ORDER BY x.id;
    DELETE FROM promotion_outcome_lines WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcome_neighbours WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcome_scopes WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcomes o
     WHERE o.promotion_id = ANY (p_promotions) AND NOT EXISTS (SELECT 1 FROM promotions pr WHERE pr.id = o.promotion_id);
    SELECT min(f.day) INTO v_data_from FROM sales_facts f;
    INSERT INTO promotion_outcomes AS o (promotion_id, currency, channel, first_day, last_day, baseline_days,
                                         baseline_from)
    SELECT pr.id,
           coalesce(pr.spend_currency,
                    (SELECT min(pi.currency) FROM promotion_items pi WHERE pi.promotion_id = pr.id)),
           pr.spend_channel, w.first_day, w.last_day, w.asked,
           greatest(w.first_day - w.asked, coalesce(v_data_from, w.first_day))
      FROM promotions pr
     CROSS JOIN LATERAL (SELECT (pr.starts_at AT TIME ZONE 'UTC')::date AS first_day,
                                ((pr.ends_at - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day) d
     CROSS JOIN LATERAL (SELECT d.first_day, d.last_day,
                                coalesce(pr.baseline_days, d.last_day - d.first_day + 1) AS asked) w
     WHERE pr.id = ANY (p_promotions)
     ORDER BY pr.id
    ON CONFLICT ON CONSTRAINT promotion_outcomes_pkey DO UPDATE
       SET currency = EXCLUDED.currency, channel = EXCLUDED.channel, first_day = EXCLUDED.first_day,
           last_day = EXCLUDED.last_day, baseline_days = EXCLUDED.baseline_days,
           baseline_from = EXCLUDED.baseline_from;
    INSERT INTO promotion_outcome_scopes (promotion_id, kind, key_id)
    SELECT DISTINCT i.promotion_id, k.kind, k.key_id
      FROM promotion_items i
      JOIN skus s ON s.id = i.sku_id
      JOIN products p ON p.id = s.product_id
     CROSS JOIN LATERAL (SELECT 'product' AS kind, p.id AS key_id
                         UNION ALL SELECT 'category', p.category_id
                         UNION ALL SELECT 'series', ps.series_id FROM product_series ps WHERE ps.product_id = p.id) k
     WHERE i.promotion_id = ANY (p_promotions);
    INSERT INTO promotion_outcome_lines (promotion_id, sku_id, price, regular, units, revenue, cost, uncosted,
                                         baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
    SELECT o.promotion_id, i.sku_id, i.price, merch_promotion_regular(i.sku_id, o.currency, pr.starts_at),
           x.units, x.revenue, x.cost, x.uncosted, x.baseline_units, x.baseline_revenue, x.baseline_cost,
           x.baseline_uncosted
      FROM promotion_outcomes o
      JOIN promotions pr ON pr.id = o.promotion_id
      JOIN promotion_items i ON i.promotion_id = o.promotion_id
     CROSS JOIN LATERAL merch_promotion_sums(ARRAY[i.sku_id], o.currency, o.channel, o.baseline_from, o.first_day,
                                             o.last_day) x
     WHERE o.promotion_id = ANY (p_promotions);
    INSERT INTO promotion_outcome_lines (promotion_id, sku_id, neighbours, units, revenue, cost, uncosted,
                                         baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
    SELECT o.promotion_id, 0, count(*), sum(x.units), sum(x.revenue), sum(x.cost), sum(x.uncosted),
           sum(x.baseline_units), sum(x.baseline_revenue), sum(x.baseline_cost), sum(x.baseline_uncosted)
      FROM (SELECT sc.promotion_id, p.id AS product_id
              FROM promotion_outcome_scopes sc JOIN products p ON p.category_id = sc.key_id
             WHERE sc.kind = 'category' AND sc.promotion_id = ANY (p_promotions)
            UNION
            SELECT sc.promotion_id, ps.product_id
              FROM promotion_outcome_scopes sc JOIN product_series ps ON ps.series_id = sc.key_id
             WHERE sc.kind = 'series' AND sc.promotion_id = ANY (p_promotions)) n
      JOIN products p ON p.id = n.product_id AND p.lifecycle = 'listed'
      JOIN promotion_outcomes o ON o.promotion_id = n.promotion_id
     CROSS JOIN LATERAL merch_promotion_sums(ARRAY(SELECT s.id FROM skus s WHERE s.product_id = n.product_id),
                                             o.currency, o.channel, o.baseline_from, o.first_day, o.last_day) x
     WHERE NOT EXISTS (SELECT 1 FROM promotion_outcome_scopes i
                        WHERE i.promotion_id = n.promotion_id AND i.kind = 'product' AND i.key_id = n.product_id)
     GROUP BY o.promotion_id;
    INSERT INTO promotion_outcome_neighbours (sku_id, promotion_id)
    SELECT s.id, n.promotion_id
      FROM (SELECT sc.promotion_id, p.id AS product_id
              FROM promotion_outcome_scopes sc JOIN products p ON p.category_id = sc.key_id
             WHERE sc.kind = 'category' AND sc.promotion_id = ANY (p_promotions)
            UNION
            SELECT sc.promotion_id, ps.product_id
              FROM promotion_outcome_scopes sc JOIN product_series ps ON ps.series_id = sc.key_id
             WHERE sc.kind = 'series' AND sc.promotion_id = ANY (p_promotions)) n
      JOIN products p ON p.id = n.product_id AND p.lifecycle = 'listed'
      JOIN skus s ON s.product_id = n.product_id
     WHERE NOT EXISTS (SELECT 1 FROM promotion_outcome_scopes i
                        WHERE i.promotion_id = n.promotion_id AND i.kind = 'product' AND i.key_id = n.product_id);
END
$$;

-- An item's regular price: its sale price in force when the promotion starts, in the promotion's currency.
CREATE FUNCTION merch_promotion_regular(p_sku bigint, p_currency text, p_at timestamptz) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT pz.amount FROM prices pz
     WHERE pz.sku_id = p_sku AND pz.kind = 'sale' AND pz.currency = p_currency
       AND pz.valid_from <= p_at AND (pz.valid_to IS NULL OR pz.valid_to > p_at)
$$;

-- Record promotions to recompute whole before this transaction commits.
CREATE FUNCTION merch_touch_promotions(p_promotions bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_promotions IS NULL OR cardinality(p_promotions) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO promotion_stale (txid, promotion_id)
    SELECT DISTINCT pg_current_xact_id(), x.id FROM unnest(p_promotions) AS x(id) WHERE x.id IS NOT NULL
    ON CONFLICT DO NOTHING;
    PERFORM merch_queue_refresh();
END
$$;

-- Apply what this transaction recorded (called by merch_refresh_pending, after the sales rollup's merge):
-- promotions whose baseline start moved with the first day of sales data join those to recompute whole; the
-- deltas of the others are added to their lines (in key order, their promotions' locks held shared), a
-- neighbours' line left with no neighbour is dropped, repriced items get their regular price; then the
-- promotions to recompute are.
CREATE FUNCTION merch_merge_promotion_pending(p_tx xid8) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_stale bigint[];
BEGIN
    IF current_setting('merch.promotion_facts', true) = 'on' THEN
        PERFORM set_config('merch.promotion_facts', 'off', true);
        PERFORM merch_touch_promotions(ARRAY(
            SELECT o.promotion_id FROM promotion_outcomes o
             WHERE o.baseline_from IS DISTINCT FROM
                   greatest(o.first_day - o.baseline_days,
                            coalesce((SELECT min(f.day) FROM sales_facts f), o.first_day))));
    END IF;
    WITH gone AS (
        DELETE FROM promotion_stale WHERE txid = p_tx RETURNING promotion_id
    )
    SELECT coalesce(array_agg(g.promotion_id ORDER BY g.promotion_id), '{}') INTO v_stale FROM gone g;
    IF EXISTS (SELECT 1 FROM promotion_pending WHERE txid = p_tx) THEN
        PERFORM pg_advisory_xact_lock_shared(7340655, x.promotion_id::integer)
           FROM (SELECT DISTINCT d.promotion_id FROM promotion_pending d
                  WHERE d.txid = p_tx AND d.promotion_id <> ALL (v_stale)) x
          ORDER BY x.promotion_id;
        INSERT INTO promotion_outcome_lines AS l (promotion_id, sku_id, neighbours, units, revenue, cost, uncosted,
                                                  baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
        SELECT d.promotion_id, d.sku_id, sum(d.neighbours), sum(d.units), sum(d.revenue), sum(d.cost),
               sum(d.uncosted), sum(d.baseline_units), sum(d.baseline_revenue), sum(d.baseline_cost),
               sum(d.baseline_uncosted)
          FROM promotion_pending d
         WHERE d.txid = p_tx AND d.promotion_id <> ALL (v_stale) AND NOT d.reprice
           -- (an item's line exists while it is an item; a promotion gone has no row left)
           AND EXISTS (SELECT 1 FROM promotion_outcomes o WHERE o.promotion_id = d.promotion_id)
           AND (d.sku_id = 0 OR EXISTS (SELECT 1 FROM promotion_outcome_lines x
                                         WHERE x.promotion_id = d.promotion_id AND x.sku_id = d.sku_id))
         GROUP BY d.promotion_id, d.sku_id
         ORDER BY d.promotion_id, d.sku_id
        ON CONFLICT ON CONSTRAINT promotion_outcome_lines_pkey DO UPDATE
           SET neighbours = l.neighbours + EXCLUDED.neighbours, units = l.units + EXCLUDED.units,
               revenue = l.revenue + EXCLUDED.revenue, cost = l.cost + EXCLUDED.cost,
               uncosted = l.uncosted + EXCLUDED.uncosted, baseline_units = l.baseline_units + EXCLUDED.baseline_units,
               baseline_revenue = l.baseline_revenue + EXCLUDED.baseline_revenue,
               baseline_cost = l.baseline_cost + EXCLUDED.baseline_cost,
               baseline_uncosted = l.baseline_uncosted + EXCLUDED.baseline_uncosted;
        DELETE FROM promotion_outcome_lines l
         WHERE l.sku_id = 0 AND l.neighbours = 0
           AND l.promotion_id IN (SELECT d.promotion_id FROM promotion_pending d WHERE d.txid = p_tx AND d.sku_id = 0);
        UPDATE promotion_outcome_lines l
           SET regular = merch_promotion_regular(l.sku_id, o.currency, pr.starts_at)
          FROM promotion_outcomes o, promotions pr
         WHERE o.promotion_id = l.promotion_id AND pr.id = l.promotion_id AND l.promotion_id <> ALL (v_stale)
           AND (l.promotion_id, l.sku_id) IN (SELECT d.promotion_id, d.sku_id FROM promotion_pending d
                                               WHERE d.txid = p_tx AND d.reprice);
        DELETE FROM promotion_pending WHERE txid = p_tx;
    END IF;
    PERFORM merch_refresh_promotion_outcomes(v_stale);
END
$$;

-- The map: what records what. ---------------------------------------------------------------------------------

-- Facts: their deltas to the item lines of their SKU and to the neighbours' lines of their product, within the
-- windows (a statement that writes facts outside every window records nothing).
CREATE FUNCTION merch_record_promotion_delta() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_cols text := 'day, sku_id, channel, currency, qty - returned_qty AS qty, revenue - refunded AS revenue, '
                   'merch_net(cost, qty, returned_qty) AS cost';
    v_rows text := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT 1 AS sign, %s FROM new_rows', v_cols)
        WHEN 'DELETE' THEN format('SELECT -1 AS sign, %s FROM old_rows', v_cols)
        ELSE format('SELECT 1 AS sign, %1$s FROM new_rows UNION ALL SELECT -1, %1$s FROM old_rows', v_cols) END;
    v_any boolean;
BEGIN
    -- (an upload's INSERT … ON CONFLICT fires the UPDATE trigger too, with no rows when it replaced none)
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END)
       INTO v_any;
    IF NOT v_any THEN
        RETURN NULL;
    END IF;
    EXECUTE format($sql$
        -- (the lines each fact feeds first, by its SKU, then their promotions' windows: never every fact
        -- against every promotion)
        WITH m AS MATERIALIZED (
            SELECT r.*, x.promotion_id, x.line
              FROM (%s) r
             CROSS JOIN LATERAL (SELECT l.promotion_id, l.sku_id AS line FROM promotion_outcome_lines l
                                  WHERE l.sku_id = r.sku_id AND l.sku_id <> 0
                                 UNION ALL
                                 SELECT n.promotion_id, 0 FROM promotion_outcome_neighbours n
                                  WHERE n.sku_id = r.sku_id) x
        )
        INSERT INTO promotion_pending (txid, promotion_id, sku_id, units, revenue, cost, uncosted, baseline_units,
                                       baseline_revenue, baseline_cost, baseline_uncosted)
        SELECT pg_current_xact_id(), o.promotion_id, m.line,
               coalesce(sum(m.sign * m.qty) FILTER (WHERE m.day >= o.first_day), 0),
               coalesce(sum(m.sign * m.revenue) FILTER (WHERE m.day >= o.first_day), 0),
               coalesce(sum(m.sign * m.cost) FILTER (WHERE m.day >= o.first_day), 0),
               coalesce(sum(m.sign) FILTER (WHERE m.day >= o.first_day AND m.cost IS NULL), 0),
               coalesce(sum(m.sign * m.qty) FILTER (WHERE m.day < o.first_day), 0),
               coalesce(sum(m.sign * m.revenue) FILTER (WHERE m.day < o.first_day), 0),
               coalesce(sum(m.sign * m.cost) FILTER (WHERE m.day < o.first_day), 0),
               coalesce(sum(m.sign) FILTER (WHERE m.day < o.first_day AND m.cost IS NULL), 0)
          FROM m
          JOIN promotion_outcomes o ON o.promotion_id = m.promotion_id AND m.day >= o.baseline_from
           AND m.day <= o.last_day AND m.currency = o.currency AND (o.channel IS NULL OR m.channel = o.channel)
         GROUP BY o.promotion_id, m.line
    $sql$, v_rows);
    -- (after the deltas: they are of the windows as they were, which a recompute for an earlier first day of
    -- sales data — checked at the merge — replaces)
    PERFORM set_config('merch.promotion_facts', 'on', true);
    PERFORM merch_queue_refresh();
    RETURN NULL;
END
$$;
CREATE TRIGGER sales_facts_inserted_promotions AFTER INSERT ON sales_facts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_record_promotion_delta();
CREATE TRIGGER sales_facts_updated_promotions AFTER UPDATE ON sales_facts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_record_promotion_delta();
CREATE TRIGGER sales_facts_deleted_promotions AFTER DELETE ON sales_facts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_record_promotion_delta();

-- Products entering or leaving promotions' neighbours: ± their sums and ± 1 neighbour (as they were, with
-- their old category and lifecycle: −; as they are: +). A product of an item that moved to another category
-- changes its promotions' scopes: they are recomputed whole.
CREATE FUNCTION merch_promotion_neighbours_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_rows text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, id, category_id, lifecycle FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, id, category_id, lifecycle FROM old_rows'
        ELSE 'SELECT 1 AS sign, n.id, n.category_id, n.lifecycle FROM new_rows n JOIN old_rows o ON o.id = n.id'
             ' WHERE (n.category_id, n.lifecycle) IS DISTINCT FROM (o.category_id, o.lifecycle)'
             ' UNION ALL SELECT -1, o.id, o.category_id, o.lifecycle FROM new_rows n JOIN old_rows o ON o.id = n.id'
             ' WHERE (n.category_id, n.lifecycle) IS DISTINCT FROM (o.category_id, o.lifecycle)' END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM promotion_outcomes) THEN
        RETURN NULL;
    END IF;
    EXECUTE format($sql$
        INSERT INTO promotion_pending (txid, promotion_id, sku_id, neighbours, units, revenue, cost, uncosted,
                                       baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
        SELECT pg_current_xact_id(), o.promotion_id, 0, sum(c.sign), sum(c.sign * x.units), sum(c.sign * x.revenue),
               sum(c.sign * x.cost), sum(c.sign * x.uncosted), sum(c.sign * x.baseline_units),
               sum(c.sign * x.baseline_revenue), sum(c.sign * x.baseline_cost), sum(c.sign * x.baseline_uncosted)
          FROM (%s) c
         CROSS JOIN LATERAL merch_promotions_near(c.id, c.category_id, c.lifecycle) n
          JOIN promotion_outcomes o ON o.promotion_id = n.promotion_id
         CROSS JOIN LATERAL merch_promotion_sums(ARRAY(SELECT s.id FROM skus s WHERE s.product_id = c.id),
                                                 o.currency, o.channel, o.baseline_from, o.first_day, o.last_day) x
         GROUP BY o.promotion_id
    $sql$, v_rows);
    -- (their SKUs' rows: as they are now)
    IF TG_OP <> 'INSERT' THEN
        EXECUTE format('DELETE FROM promotion_outcome_neighbours n USING skus s'
                       ' WHERE n.sku_id = s.id AND s.product_id IN (SELECT c.id FROM (%s) c)', v_rows);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        EXECUTE format('INSERT INTO promotion_outcome_neighbours (sku_id, promotion_id)'
                       ' SELECT s.id, n.promotion_id FROM (%s) c'
                       ' CROSS JOIN LATERAL merch_promotions_near(c.id, c.category_id, c.lifecycle) n'
                       ' JOIN skus s ON s.product_id = c.id WHERE c.sign = 1 ON CONFLICT DO NOTHING', v_rows);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM merch_touch_promotions(ARRAY(
            SELECT sc.promotion_id FROM new_rows n JOIN old_rows o ON o.id = n.id
              JOIN promotion_outcome_scopes sc ON sc.kind = 'product' AND sc.key_id = n.id
             WHERE n.category_id IS DISTINCT FROM o.category_id));
    END IF;
    PERFORM merch_queue_refresh();
    RETURN NULL;
END
$$;
CREATE TRIGGER products_inserted_promotions AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_neighbours_moved();
CREATE TRIGGER products_updated_promotions AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_promotion_neighbours_moved();
CREATE TRIGGER products_deleted_promotions AFTER DELETE ON products
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_neighbours_moved();

-- Series memberships: the promotions with that series in their scopes, or with an item of that product.
CREATE FUNCTION merch_promotion_series_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'SELECT merch_touch_promotions(ARRAY(SELECT sc.promotion_id FROM %I r JOIN promotion_outcome_scopes sc'
        ' ON (sc.kind = ''series'' AND sc.key_id = r.series_id) OR (sc.kind = ''product'' AND sc.key_id = r.product_id)))',
        CASE TG_OP WHEN 'INSERT' THEN 'new_rows' ELSE 'old_rows' END);
    RETURN NULL;
END
$$;
CREATE TRIGGER product_series_inserted_promotions AFTER INSERT ON product_series
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_series_changed();
CREATE TRIGGER product_series_deleted_promotions AFTER DELETE ON product_series
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_series_changed();

-- A promotion created, or edited where its outcome reads it; its items.
CREATE FUNCTION merch_promotion_edited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'promotions' AND TG_OP = 'INSERT' THEN
        PERFORM merch_touch_promotions(ARRAY(SELECT n.id FROM new_rows n));
    ELSIF TG_TABLE_NAME = 'promotions' THEN
        PERFORM merch_touch_promotions(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.starts_at, n.ends_at, n.baseline_days, n.spend_currency, n.spend_channel)
                   IS DISTINCT FROM (o.starts_at, o.ends_at, o.baseline_days, o.spend_currency, o.spend_channel)));
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM merch_touch_promotions(ARRAY(SELECT n.promotion_id FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM merch_touch_promotions(ARRAY(SELECT o.promotion_id FROM old_rows o));
    ELSE
        PERFORM merch_touch_promotions(ARRAY(SELECT n.promotion_id FROM new_rows n UNION SELECT o.promotion_id FROM old_rows o));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER promotions_inserted_outcomes AFTER INSERT ON promotions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_edited();
CREATE TRIGGER promotions_updated_outcomes AFTER UPDATE ON promotions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_promotion_edited();
CREATE TRIGGER promotion_items_inserted_outcomes AFTER INSERT ON promotion_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_edited();
CREATE TRIGGER promotion_items_updated_outcomes AFTER UPDATE ON promotion_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_promotion_edited();
CREATE TRIGGER promotion_items_deleted_outcomes AFTER DELETE ON promotion_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_edited();

-- Sale prices of items' SKUs: their lines' regular price.
CREATE FUNCTION merch_promotion_repriced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO promotion_pending (txid, promotion_id, sku_id, reprice)'
        ' SELECT DISTINCT pg_current_xact_id(), l.promotion_id, l.sku_id, true FROM (%s) r'
        ' JOIN promotion_outcome_lines l ON l.sku_id = r.sku_id AND l.sku_id <> 0',
        CASE TG_OP WHEN 'INSERT' THEN 'SELECT sku_id FROM new_rows WHERE kind = ''sale'''
                   WHEN 'DELETE' THEN 'SELECT sku_id FROM old_rows WHERE kind = ''sale'''
                   ELSE 'SELECT sku_id FROM new_rows WHERE kind = ''sale'' UNION SELECT sku_id FROM old_rows'
                        ' WHERE kind = ''sale''' END);
    PERFORM merch_queue_refresh();
    RETURN NULL;
END
$$;
CREATE TRIGGER prices_inserted_promotions AFTER INSERT ON prices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_repriced();
CREATE TRIGGER prices_updated_promotions AFTER UPDATE ON prices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_promotion_repriced();
CREATE TRIGGER prices_deleted_promotions AFTER DELETE ON prices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_repriced();

-- SKUs: a new SKU of a neighbour (or one moved to another product) is a neighbour's SKU.
CREATE FUNCTION merch_promotion_skus_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM promotion_outcome_scopes) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM promotion_outcome_neighbours n
         WHERE n.sku_id IN (SELECT o.id FROM old_rows o JOIN new_rows w ON w.id = o.id
                             WHERE w.product_id IS DISTINCT FROM o.product_id);
    END IF;
    INSERT INTO promotion_outcome_neighbours (sku_id, promotion_id)
    SELECT w.id, n.promotion_id
      FROM new_rows w
      JOIN products p ON p.id = w.product_id
     CROSS JOIN LATERAL merch_promotions_near(p.id, p.category_id, p.lifecycle) n
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER skus_inserted_promotions AFTER INSERT ON skus
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_promotion_skus_written();
CREATE TRIGGER skus_updated_promotions AFTER UPDATE ON skus
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_promotion_skus_written();
