-- Promotion outcomes (issue 14): the read model behind GET /v1/reports/promotion-roi (migration 0028).
--   * Writes append deltas to promotion_outcome_log, in their own statement and nothing more (no upsert into
--     the outcome lines, no lock on them): facts written (an upload, a re-sent day, a return, a re-costing) +
--     new − old for the lines they fall in — an item's line when the fact is of its SKU, the neighbours' line
--     when of a listed neighbour's — when their day is in the promotion's days or its baseline, in its currency
--     and on its spend channel; a product that enters or leaves a promotion's neighbours (its home category
--     or its lifecycle changed; created, deleted) ± its sums and ± 1 neighbour; a sale price of an item's SKU
--     its line to reprice. Each row names the build (`generation`) of its promotion's lines it was written
--     against.
--   * A promotion's edit (dates, baseline rule, spend currency or channel), its items, the category of one of
--     its items' products, a series membership of its scopes, or another first day of any sales data mark it
--     (promotion_outcome_stale), to be recomputed whole by the job: never in the writer's transaction.
--   * Every such write queues the `promotion-outcomes` job unless one is queued (domain/reports/outcomes.py):
--     it folds the log into the lines set-based (merch_fold_promotion_log) and recomputes the marked
--     promotions in two steps with a barrier between (merch_rebuild_promotion_outcomes, then
--     merch_sum_promotion_outcomes).
--   * The report reads the lines plus the log rows of each promotion's current build not folded yet
--     (merch_promotion_lines): exact at every moment. A promotion marked, or between the two steps of its
--     recompute, is `recomputing`: the report withholds its figures until the job is done.
-- Nothing depends on "today": a promotion's windows are fixed by its dates, its baseline rule and the first
-- day of sales data.
--
-- Concurrency. Writers take the shared advisory lock (7340655, 0) once per transaction before they read a
-- build (merch_promotion_writer). A recompute's first step installs the new build (windows, scopes, items'
-- lines with no sums, neighbours' SKUs; generation + 1) and commits; the barrier then takes that lock
-- exclusively for a moment, which waits for every writer that may have read the previous build; the second
-- step, in one repeatable-read snapshot taken after it, sums the facts, drops every log row of the promotion
-- its snapshot sees (their facts are in its sums) and keeps the later ones (written against the new build);
-- log rows of an older build are never counted (the report and the fold match the generation). The job's
-- transactions run one job at a time (a session lock), and only the job writes the lines.

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

-- An item's regular price: its sale price in force when the promotion starts, in the promotion's currency.
CREATE FUNCTION merch_promotion_regular(p_sku bigint, p_currency text, p_at timestamptz) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT pz.amount FROM prices pz
     WHERE pz.sku_id = p_sku AND pz.kind = 'sale' AND pz.currency = p_currency
       AND pz.valid_from <= p_at AND (pz.valid_to IS NULL OR pz.valid_to > p_at)
$$;

-- The listed products a promotion's scopes make its neighbours (the other listed products of its items' home
-- categories and series).
CREATE FUNCTION merch_promotion_neighbour_products(p_promotions bigint[])
RETURNS TABLE (promotion_id bigint, product_id bigint) LANGUAGE sql STABLE AS $$
    SELECT n.promotion_id, n.product_id
      FROM (SELECT sc.promotion_id, p.id AS product_id
              FROM promotion_outcome_scopes sc JOIN products p ON p.category_id = sc.key_id
             WHERE sc.kind = 'category' AND sc.promotion_id = ANY (p_promotions)
            UNION
            SELECT sc.promotion_id, ps.product_id
              FROM promotion_outcome_scopes sc JOIN product_series ps ON ps.series_id = sc.key_id
             WHERE sc.kind = 'series' AND sc.promotion_id = ANY (p_promotions)) n
      JOIN products p ON p.id = n.product_id AND p.lifecycle = 'listed'
     WHERE NOT EXISTS (SELECT 1 FROM promotion_outcome_scopes i
                        WHERE i.promotion_id = n.promotion_id AND i.kind = 'product' AND i.key_id = n.product_id)
$$;

-- Promotions' windows as their rows give them: currency (the spend's, else their items'), channel, days (UTC)
-- and baseline (the asked days right before the first, never before the first day of any sales data).
CREATE FUNCTION merch_promotion_windows(p_promotions bigint[])
RETURNS TABLE (promotion_id bigint, currency text, channel text, first_day date, last_day date,
               baseline_days integer, baseline_from date) LANGUAGE sql STABLE AS $$
    SELECT pr.id,
           coalesce(pr.spend_currency,
                    (SELECT min(pi.currency) FROM promotion_items pi WHERE pi.promotion_id = pr.id)),
           pr.spend_channel, w.first_day, w.last_day, w.asked,
           greatest(w.first_day - w.asked, coalesce((SELECT min(f.day) FROM sales_facts f), w.first_day))
      FROM promotions pr
     CROSS JOIN LATERAL (SELECT (pr.starts_at AT TIME ZONE 'UTC')::date AS first_day,
                                ((pr.ends_at - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day) d
     CROSS JOIN LATERAL (SELECT d.first_day, d.last_day,
                                coalesce(pr.baseline_days, d.last_day - d.first_day + 1) AS asked) w
     WHERE pr.id = ANY (p_promotions)
$$;

-- A writer of the log or of the neighbours' SKUs, before it reads a build (see Concurrency above).
CREATE FUNCTION merch_promotion_writer() RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock_shared(7340655, 0)
$$;

-- Queue the promotion-outcomes job unless one is queued already (a running one may have missed this write).
-- The writers' lock first, then the look (a statement of its own: a snapshot taken once the lock is held): a
-- writer that sees a job queued, and so queues none, holds the lock until it commits, and the job passes its
-- barrier (the lock taken exclusively) before its last list of marks — so that list sees this writer's marks;
-- a writer that takes the lock after the barrier sees the job running and queues another. (A writer in a
-- repeatable-read transaction whose snapshot predates the lock could still see a claimed job as queued: none
-- writes promotions, items, sales or prices that way.)
CREATE FUNCTION merch_queue_promotion_outcomes(p_reason text) RETURNS void LANGUAGE sql AS $$
    SELECT merch_promotion_writer();
    INSERT INTO jobs (kind, reason, requested_by)
    SELECT 'promotion-outcomes', p_reason, 'merchflow'
     WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND kind = 'promotion-outcomes')
$$;

-- Mark promotions to be recomputed whole by the job (and queue it). A promotion never built yet gets its
-- windows and no line (`computed` false), so that the report lists it as recomputing.
CREATE FUNCTION merch_touch_promotions(p_promotions bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_promotions IS NULL OR cardinality(p_promotions) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO promotion_outcomes (promotion_id, currency, channel, first_day, last_day, baseline_days,
                                    baseline_from, generation, computed)
    SELECT w.promotion_id, w.currency, w.channel, w.first_day, w.last_day, w.baseline_days, w.baseline_from, 0,
           false
      FROM merch_promotion_windows(p_promotions) w
     WHERE NOT EXISTS (SELECT 1 FROM promotion_outcomes o WHERE o.promotion_id = w.promotion_id)
     ORDER BY w.promotion_id
    ON CONFLICT DO NOTHING;
    INSERT INTO promotion_outcome_stale (promotion_id)
    SELECT DISTINCT x.id FROM unnest(p_promotions) AS x(id) WHERE x.id IS NOT NULL ORDER BY x.id;
    PERFORM merch_queue_promotion_outcomes('promotions changed');
END
$$;

-- The job, step one of a recompute (its own transaction, committed before the barrier): the promotions' new
-- build — windows, scopes, their items' lines with their prices and no sums, their neighbours' SKUs, the
-- next generation, `computed` false — and none of their log rows (all of older builds); a promotion gone
-- leaves nothing.
CREATE FUNCTION merch_rebuild_promotion_outcomes(p_promotions bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM promotion_outcome_lines WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcome_neighbours WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcome_scopes WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcome_log WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcomes o
     WHERE o.promotion_id = ANY (p_promotions) AND NOT EXISTS (SELECT 1 FROM promotions pr WHERE pr.id = o.promotion_id);
    INSERT INTO promotion_outcomes AS o (promotion_id, currency, channel, first_day, last_day, baseline_days,
                                         baseline_from, generation, computed)
    SELECT w.promotion_id, w.currency, w.channel, w.first_day, w.last_day, w.baseline_days, w.baseline_from, 1,
           false
      FROM merch_promotion_windows(p_promotions) w
     ORDER BY w.promotion_id
    ON CONFLICT ON CONSTRAINT promotion_outcomes_pkey DO UPDATE
       SET currency = EXCLUDED.currency, channel = EXCLUDED.channel, first_day = EXCLUDED.first_day,
           last_day = EXCLUDED.last_day, baseline_days = EXCLUDED.baseline_days,
           baseline_from = EXCLUDED.baseline_from, generation = o.generation + 1, computed = false;
    INSERT INTO promotion_outcome_scopes (promotion_id, kind, key_id)
    SELECT DISTINCT i.promotion_id, k.kind, k.key_id
      FROM promotion_items i
      JOIN skus s ON s.id = i.sku_id
      JOIN products p ON p.id = s.product_id
     CROSS JOIN LATERAL (SELECT 'product' AS kind, p.id AS key_id
                         UNION ALL SELECT 'category', p.category_id
                         UNION ALL SELECT 'series', ps.series_id FROM product_series ps WHERE ps.product_id = p.id) k
     WHERE i.promotion_id = ANY (p_promotions);
    INSERT INTO promotion_outcome_lines (promotion_id, sku_id, price, regular)
    SELECT o.promotion_id, i.sku_id, i.price, merch_promotion_regular(i.sku_id, o.currency, pr.starts_at)
      FROM promotion_outcomes o
      JOIN promotions pr ON pr.id = o.promotion_id
      JOIN promotion_items i ON i.promotion_id = o.promotion_id
     WHERE o.promotion_id = ANY (p_promotions);
    -- (a writer that read the previous scopes may be adding the same SKU: kept, and set right at step two)
    INSERT INTO promotion_outcome_neighbours (sku_id, promotion_id)
    SELECT s.id, n.promotion_id
      FROM merch_promotion_neighbour_products(p_promotions) n JOIN skus s ON s.product_id = n.product_id
    ON CONFLICT DO NOTHING;
END
$$;

-- The job, step two of a recompute (one repeatable-read snapshot taken after the barrier: every writer that
-- read the previous build has committed, and every later one wrote against this build): the neighbours' SKUs
-- set right, the items' regular prices and every line's sums from the facts, the promotions' log rows this
-- snapshot sees dropped (their facts are in the sums), the marks `p_marks` taken — those the job listed before step
-- one, by id: a mark with a smaller id that committed later was not seen by step one and stays, for the next
-- round — `computed` true.
CREATE FUNCTION merch_sum_promotion_outcomes(p_promotions bigint[], p_marks bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM promotion_outcome_neighbours n
     WHERE n.promotion_id = ANY (p_promotions)
       AND NOT EXISTS (SELECT 1 FROM merch_promotion_neighbour_products(p_promotions) x
                         JOIN skus s ON s.product_id = x.product_id
                        WHERE x.promotion_id = n.promotion_id AND s.id = n.sku_id);
    INSERT INTO promotion_outcome_neighbours (sku_id, promotion_id)
    SELECT s.id, n.promotion_id
      FROM merch_promotion_neighbour_products(p_promotions) n JOIN skus s ON s.product_id = n.product_id
    ON CONFLICT DO NOTHING;
    WITH x AS (
        SELECT l.promotion_id, l.sku_id, merch_promotion_regular(l.sku_id, o.currency, pr.starts_at) AS regular, m.*
          FROM promotion_outcome_lines l
          JOIN promotion_outcomes o ON o.promotion_id = l.promotion_id
          JOIN promotions pr ON pr.id = l.promotion_id
         CROSS JOIN LATERAL merch_promotion_sums(ARRAY[l.sku_id], o.currency, o.channel, o.baseline_from,
                                                 o.first_day, o.last_day) m
         WHERE l.promotion_id = ANY (p_promotions) AND l.sku_id <> 0
    )
    UPDATE promotion_outcome_lines l
       SET regular = x.regular, units = x.units, revenue = x.revenue, cost = x.cost, uncosted = x.uncosted,
           baseline_units = x.baseline_units, baseline_revenue = x.baseline_revenue, baseline_cost = x.baseline_cost,
           baseline_uncosted = x.baseline_uncosted
      FROM x
     WHERE l.promotion_id = x.promotion_id AND l.sku_id = x.sku_id;
    DELETE FROM promotion_outcome_lines WHERE promotion_id = ANY (p_promotions) AND sku_id = 0;
    INSERT INTO promotion_outcome_lines (promotion_id, sku_id, neighbours, units, revenue, cost, uncosted,
                                         baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
    SELECT o.promotion_id, 0, count(*), sum(x.units), sum(x.revenue), sum(x.cost), sum(x.uncosted),
           sum(x.baseline_units), sum(x.baseline_revenue), sum(x.baseline_cost), sum(x.baseline_uncosted)
      FROM merch_promotion_neighbour_products(p_promotions) n
      JOIN promotion_outcomes o ON o.promotion_id = n.promotion_id
     CROSS JOIN LATERAL merch_promotion_sums(ARRAY(SELECT s.id FROM skus s WHERE s.product_id = n.product_id),
                                             o.currency, o.channel, o.baseline_from, o.first_day, o.last_day) x
     GROUP BY o.promotion_id;
    DELETE FROM promotion_outcome_log WHERE promotion_id = ANY (p_promotions);
    DELETE FROM promotion_outcome_stale WHERE id = ANY (p_marks);
    UPDATE promotion_outcomes SET computed = true WHERE promotion_id = ANY (p_promotions);
END
$$;

-- The job's fold (one repeatable-read snapshot; writers only append to the log, only the job writes the
-- lines): the log rows of each built promotion's current build added to its lines (in key order), a
-- neighbours' line left with no neighbour dropped, repriced items' regular price read again; then every
-- log row it saw dropped but those of a promotion between the two steps of its recompute (step two takes
-- them). Answers how many rows it took.
CREATE FUNCTION merch_fold_promotion_log() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_rows integer;
BEGIN
    INSERT INTO promotion_outcome_lines AS l (promotion_id, sku_id, neighbours, units, revenue, cost, uncosted,
                                              baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
    SELECT g.promotion_id, g.sku_id, sum(g.neighbours), sum(g.units), sum(g.revenue), sum(g.cost),
           sum(g.uncosted), sum(g.baseline_units), sum(g.baseline_revenue), sum(g.baseline_cost),
           sum(g.baseline_uncosted)
      FROM promotion_outcome_log g
      JOIN promotion_outcomes o ON o.promotion_id = g.promotion_id AND o.generation = g.generation AND o.computed
     WHERE NOT g.reprice
       -- (an item's line exists while its build does)
       AND (g.sku_id = 0 OR EXISTS (SELECT 1 FROM promotion_outcome_lines x
                                     WHERE x.promotion_id = g.promotion_id AND x.sku_id = g.sku_id))
     GROUP BY g.promotion_id, g.sku_id
     ORDER BY g.promotion_id, g.sku_id
    ON CONFLICT ON CONSTRAINT promotion_outcome_lines_pkey DO UPDATE
       SET neighbours = l.neighbours + EXCLUDED.neighbours, units = l.units + EXCLUDED.units,
           revenue = l.revenue + EXCLUDED.revenue, cost = l.cost + EXCLUDED.cost,
           uncosted = l.uncosted + EXCLUDED.uncosted, baseline_units = l.baseline_units + EXCLUDED.baseline_units,
           baseline_revenue = l.baseline_revenue + EXCLUDED.baseline_revenue,
           baseline_cost = l.baseline_cost + EXCLUDED.baseline_cost,
           baseline_uncosted = l.baseline_uncosted + EXCLUDED.baseline_uncosted;
    DELETE FROM promotion_outcome_lines l
     WHERE l.sku_id = 0 AND l.neighbours = 0
       AND l.promotion_id IN (SELECT g.promotion_id FROM promotion_outcome_log g WHERE g.sku_id = 0);
    UPDATE promotion_outcome_lines l
       SET regular = merch_promotion_regular(l.sku_id, o.currency, pr.starts_at)
      FROM promotion_outcomes o, promotions pr
     WHERE o.promotion_id = l.promotion_id AND pr.id = l.promotion_id AND o.computed
       AND (l.promotion_id, l.sku_id) IN (SELECT g.promotion_id, g.sku_id FROM promotion_outcome_log g
                                           WHERE g.reprice AND g.generation = o.generation);
    DELETE FROM promotion_outcome_log g
     WHERE NOT EXISTS (SELECT 1 FROM promotion_outcomes o
                        WHERE o.promotion_id = g.promotion_id AND o.generation = g.generation AND NOT o.computed);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

-- Promotions' lines as the report reads them: the kept sums plus the log rows of their current build not
-- folded yet (a repriced item's regular price read now); a neighbours' line with no neighbour left out.
-- With p_items false, the neighbours' lines alone; with p_skus, the lines of those SKUs alone.
CREATE FUNCTION merch_promotion_lines(p_promotions bigint[], p_items boolean DEFAULT true, p_skus bigint[] DEFAULT NULL)
RETURNS TABLE (promotion_id bigint, sku_id bigint, neighbours bigint, price numeric, regular numeric, units bigint,
               revenue numeric, cost numeric, uncosted bigint, baseline_units bigint, baseline_revenue numeric,
               baseline_cost numeric, baseline_uncosted bigint) LANGUAGE sql STABLE AS $$
    WITH d AS MATERIALIZED (
        SELECT g.promotion_id, g.sku_id, sum(g.neighbours) AS neighbours, bool_or(g.reprice) AS reprice,
               sum(g.units) AS units, sum(g.revenue) AS revenue, sum(g.cost) AS cost, sum(g.uncosted) AS uncosted,
               sum(g.baseline_units) AS baseline_units, sum(g.baseline_revenue) AS baseline_revenue,
               sum(g.baseline_cost) AS baseline_cost, sum(g.baseline_uncosted) AS baseline_uncosted
          FROM promotion_outcome_log g
          JOIN promotion_outcomes o ON o.promotion_id = g.promotion_id AND o.generation = g.generation
         WHERE g.promotion_id = ANY (p_promotions) AND (p_items OR g.sku_id = 0)
           AND (p_skus IS NULL OR g.sku_id = ANY (p_skus))
         GROUP BY g.promotion_id, g.sku_id
    )
    SELECT l.promotion_id, l.sku_id, l.neighbours + coalesce(d.neighbours, 0), l.price,
           CASE WHEN d.reprice THEN (SELECT merch_promotion_regular(l.sku_id, o.currency, pr.starts_at)
                                       FROM promotion_outcomes o JOIN promotions pr ON pr.id = o.promotion_id
                                      WHERE o.promotion_id = l.promotion_id)
                ELSE l.regular END,
           (l.units + coalesce(d.units, 0))::bigint, l.revenue + coalesce(d.revenue, 0),
           l.cost + coalesce(d.cost, 0), (l.uncosted + coalesce(d.uncosted, 0))::bigint,
           (l.baseline_units + coalesce(d.baseline_units, 0))::bigint,
           l.baseline_revenue + coalesce(d.baseline_revenue, 0), l.baseline_cost + coalesce(d.baseline_cost, 0),
           (l.baseline_uncosted + coalesce(d.baseline_uncosted, 0))::bigint
      FROM promotion_outcome_lines l
      LEFT JOIN d ON d.promotion_id = l.promotion_id AND d.sku_id = l.sku_id
     WHERE l.promotion_id = ANY (p_promotions) AND (p_items OR l.sku_id = 0)
       AND (p_skus IS NULL OR l.sku_id = ANY (p_skus))
       AND (l.sku_id <> 0 OR l.neighbours + coalesce(d.neighbours, 0) <> 0)
    UNION ALL
    SELECT d.promotion_id, 0, d.neighbours, NULL, NULL, d.units::bigint, d.revenue, d.cost, d.uncosted::bigint,
           d.baseline_units::bigint, d.baseline_revenue, d.baseline_cost, d.baseline_uncosted::bigint
      FROM d
     WHERE d.sku_id = 0 AND d.neighbours <> 0
       AND NOT EXISTS (SELECT 1 FROM promotion_outcome_lines l WHERE l.promotion_id = d.promotion_id AND l.sku_id = 0)
$$;

-- Promotions' items summed as the report reads them (merch_promotion_lines' item lines, summed): per promotion its
-- items, their units, revenue and cost, facts with no cost, and the same over the baseline window; the discount
-- Σ (regular − promotion price) × units and whether every item has both prices. One pass over the kept lines;
-- the few lines the log touches (not folded yet) are read as merch_promotion_lines reads them.
CREATE FUNCTION merch_promotion_totals(p_promotions bigint[])
RETURNS TABLE (promotion_id bigint, items bigint, units numeric, revenue numeric, cost numeric, uncosted numeric,
               baseline_units numeric, baseline_revenue numeric, baseline_cost numeric, baseline_uncosted numeric,
               discount numeric, priced boolean) LANGUAGE sql STABLE AS $$
    WITH touched AS MATERIALIZED (
        SELECT DISTINCT g.promotion_id, g.sku_id
          FROM promotion_outcome_log g
          JOIN promotion_outcomes o ON o.promotion_id = g.promotion_id AND o.generation = g.generation
         WHERE g.promotion_id = ANY (p_promotions) AND g.sku_id <> 0
    )
    SELECT x.promotion_id, count(*), sum(x.units), sum(x.revenue), sum(x.cost), sum(x.uncosted), sum(x.baseline_units),
           sum(x.baseline_revenue), sum(x.baseline_cost), sum(x.baseline_uncosted),
           sum((x.regular - x.price) * x.units), bool_and(x.regular IS NOT NULL AND x.price IS NOT NULL)
      FROM (SELECT l.promotion_id, l.units, l.revenue, l.cost, l.uncosted, l.baseline_units, l.baseline_revenue,
                   l.baseline_cost, l.baseline_uncosted, l.regular, l.price
              FROM promotion_outcome_lines l
             WHERE l.promotion_id = ANY (p_promotions) AND l.sku_id <> 0
               AND NOT EXISTS (SELECT 1 FROM touched t WHERE t.promotion_id = l.promotion_id AND t.sku_id = l.sku_id)
            UNION ALL
            SELECT l.promotion_id, l.units, l.revenue, l.cost, l.uncosted, l.baseline_units, l.baseline_revenue,
                   l.baseline_cost, l.baseline_uncosted, l.regular, l.price
              FROM merch_promotion_lines(ARRAY(SELECT DISTINCT t.promotion_id FROM touched t), true,
                                         ARRAY(SELECT DISTINCT t.sku_id FROM touched t)) l
             WHERE EXISTS (SELECT 1 FROM touched t WHERE t.promotion_id = l.promotion_id AND t.sku_id = l.sku_id)) x
     GROUP BY x.promotion_id
$$;

-- The map: what records what. ---------------------------------------------------------------------------------

-- Facts: their deltas to the item lines of their SKU and to the neighbours' lines of their product, within the
-- windows (a statement that writes facts outside every window appends nothing); another first day of sales
-- data marks the promotions whose baseline it moves.
CREATE FUNCTION merch_record_promotion_delta() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_cols text := 'day, sku_id, channel, currency, qty - returned_qty AS qty, revenue - refunded AS revenue, '
                   'merch_net(cost, qty, returned_qty) AS cost';
    v_rows text := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT 1 AS sign, %s FROM new_rows', v_cols)
        WHEN 'DELETE' THEN format('SELECT -1 AS sign, %s FROM old_rows', v_cols)
        ELSE format('SELECT 1 AS sign, %1$s FROM new_rows UNION ALL SELECT -1, %1$s FROM old_rows', v_cols) END;
    v_any boolean;
    v_logged integer;
BEGIN
    -- (an upload's INSERT … ON CONFLICT fires the UPDATE trigger too, with no rows when it replaced none)
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END)
       INTO v_any;
    IF NOT v_any THEN
        RETURN NULL;
    END IF;
    PERFORM merch_promotion_writer();
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
        INSERT INTO promotion_outcome_log (promotion_id, sku_id, generation, units, revenue, cost, uncosted,
                                           baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
        SELECT o.promotion_id, m.line, o.generation,
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
         GROUP BY o.promotion_id, o.generation, m.line
    $sql$, v_rows);
    GET DIAGNOSTICS v_logged = ROW_COUNT;
    IF v_logged > 0 THEN
        PERFORM merch_queue_promotion_outcomes('sales written');
    END IF;
    -- (the windows' baselines start no earlier than the first day of any sales data)
    PERFORM merch_touch_promotions(ARRAY(
        SELECT o.promotion_id FROM promotion_outcomes o
         WHERE o.baseline_from IS DISTINCT FROM
               greatest(o.first_day - o.baseline_days, coalesce((SELECT min(f.day) FROM sales_facts f), o.first_day))));
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
-- their old category and lifecycle: −; as they are: +), and their SKUs among the neighbours' as they are. A
-- product of an item that moved to another category changes its promotions' scopes: they are marked.
CREATE FUNCTION merch_promotion_neighbours_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_rows text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, id, category_id, lifecycle FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, id, category_id, lifecycle FROM old_rows'
        ELSE 'SELECT 1 AS sign, n.id, n.category_id, n.lifecycle FROM new_rows n JOIN old_rows o ON o.id = n.id'
             ' WHERE (n.category_id, n.lifecycle) IS DISTINCT FROM (o.category_id, o.lifecycle)'
             ' UNION ALL SELECT -1, o.id, o.category_id, o.lifecycle FROM new_rows n JOIN old_rows o ON o.id = n.id'
             ' WHERE (n.category_id, n.lifecycle) IS DISTINCT FROM (o.category_id, o.lifecycle)' END;
    v_logged integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM promotion_outcomes) THEN
        RETURN NULL;
    END IF;
    PERFORM merch_promotion_writer();
    EXECUTE format($sql$
        INSERT INTO promotion_outcome_log (promotion_id, sku_id, generation, neighbours, units, revenue, cost,
                                           uncosted, baseline_units, baseline_revenue, baseline_cost,
                                           baseline_uncosted)
        SELECT o.promotion_id, 0, o.generation, sum(c.sign), sum(c.sign * x.units), sum(c.sign * x.revenue),
               sum(c.sign * x.cost), sum(c.sign * x.uncosted), sum(c.sign * x.baseline_units),
               sum(c.sign * x.baseline_revenue), sum(c.sign * x.baseline_cost), sum(c.sign * x.baseline_uncosted)
          FROM (%s) c
         CROSS JOIN LATERAL merch_promotions_near(c.id, c.category_id, c.lifecycle) n
          JOIN promotion_outcomes o ON o.promotion_id = n.promotion_id
         CROSS JOIN LATERAL merch_promotion_sums(ARRAY(SELECT s.id FROM skus s WHERE s.product_id = c.id),
                                                 o.currency, o.channel, o.baseline_from, o.first_day, o.last_day) x
         GROUP BY o.promotion_id, o.generation
    $sql$, v_rows);
    GET DIAGNOSTICS v_logged = ROW_COUNT;
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
    IF v_logged > 0 THEN
        PERFORM merch_queue_promotion_outcomes('products moved');
    END IF;
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

-- Sale prices of items' SKUs: their lines to reprice.
CREATE FUNCTION merch_promotion_repriced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_logged integer;
BEGIN
    PERFORM merch_promotion_writer();
    EXECUTE format(
        'INSERT INTO promotion_outcome_log (promotion_id, sku_id, generation, reprice)'
        ' SELECT DISTINCT l.promotion_id, l.sku_id, o.generation, true FROM (%s) r'
        ' JOIN promotion_outcome_lines l ON l.sku_id = r.sku_id AND l.sku_id <> 0'
        ' JOIN promotion_outcomes o ON o.promotion_id = l.promotion_id',
        CASE TG_OP WHEN 'INSERT' THEN 'SELECT sku_id FROM new_rows WHERE kind = ''sale'''
                   WHEN 'DELETE' THEN 'SELECT sku_id FROM old_rows WHERE kind = ''sale'''
                   ELSE 'SELECT sku_id FROM new_rows WHERE kind = ''sale'' UNION SELECT sku_id FROM old_rows'
                        ' WHERE kind = ''sale''' END);
    GET DIAGNOSTICS v_logged = ROW_COUNT;
    IF v_logged > 0 THEN
        PERFORM merch_queue_promotion_outcomes('prices changed');
    END IF;
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
    PERFORM merch_promotion_writer();
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
