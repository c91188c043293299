-- The refresh point: the one way derived data is kept current.
--
-- Read models derived from a product — its completeness, its SKUs' prices in force, its storefront row and
-- pages (sql/functions/storefront.sql), which write the change feed — are never refreshed by the code that
-- writes. Triggers on the
-- source tables (below: the map of what feeds what) record the products a statement changed, per model, in
-- `refresh_pending`; the first record of a transaction queues a deferred constraint trigger, which runs
-- merch_refresh_pending() once, just before the transaction commits: every model of the recorded products
-- is recomputed there, set-based, however many statements touched them. Sales facts are additive, so their
-- triggers record deltas instead (`sales_pending`), merged into the monthly rollup and the per-SKU totals
-- by the same refresh. Time enters through the same door: merch_touch_due() records the products whose
-- prices started or stopped being in force with no write. Changes of configuration that reach many products
-- (stage needs, attribute sets, category moves) queue a job, which walks the products in chunks through
-- the same model refreshers.
--
-- Concurrency: a model's refresher locks the rows it will rewrite (in key order) before it computes them,
-- from the latest committed data: two transactions that touch one product refresh it one after the other
-- and the second sees the first; a job's chunk and a write of one of its products likewise; chunks of a
-- job (disjoint products) run side by side. (A row that does not exist yet belongs to a product only the
-- transaction that created it can see.) Locks are taken on the read models' rows, never on the products:
-- a writer holding a product's row while it waits for this transaction is never waited for in turn.

-- Make sure the refresh runs before this transaction commits: the first call of a transaction inserts its
-- row in refresh_queued, whose deferred trigger fires at commit.
CREATE FUNCTION merch_queue_refresh() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('merch.refresh_queued', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('merch.refresh_queued', 'on', true);
        INSERT INTO refresh_queued (txid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
END
$$;

-- Record that the read model p_model of these products must be refreshed before this transaction commits.
CREATE FUNCTION merch_touch(p_model text, p_products bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_products IS NULL OR cardinality(p_products) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO refresh_pending (txid, model, product_id)
    SELECT pg_current_xact_id(), p_model, x.id
      FROM (SELECT DISTINCT id FROM unnest(p_products) AS u(id) WHERE id IS NOT NULL) x
     ORDER BY x.id
    ON CONFLICT DO NOTHING;
    PERFORM merch_queue_refresh();
END
$$;

-- Recompute one read model of some products. `completeness` may be limited to some stages (for products it
-- was computed for before). Each model's refresher first locks the rows it will rewrite, in key order.
CREATE FUNCTION merch_refresh_model(p_model text, p_products bigint[], p_stages text[] DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CASE p_model
        WHEN 'prices' THEN
            PERFORM merch_refresh_product_prices(p_products);
        WHEN 'storefront' THEN
            FOR i IN 0 .. (cardinality(p_products) - 1) / 1000 LOOP
                PERFORM merch_refresh_storefront(p_products[i * 1000 + 1 : (i + 1) * 1000]);
            END LOOP;
            PERFORM merch_merge_shelf_counts();
            PERFORM merch_merge_shelf_combos();
        WHEN 'completeness' THEN
            -- in slices, as the jobs do: a bulk write of a million products is never one giant computation
            FOR i IN 0 .. (cardinality(p_products) - 1) / 10000 LOOP
                PERFORM merch_refresh_completeness(p_products[i * 10000 + 1 : (i + 1) * 10000], p_stages);
            END LOOP;
        WHEN 'keys' THEN
            PERFORM merch_refresh_product_keys(p_products);
    END CASE;
END
$$;

-- The keys these products' texts and values carry (locales, attribute codes: the view product_keys), under
-- their home category (category_product_keys: what an export's header names). Only added, never taken away;
-- in key order, so that two transactions adding the same new keys wait for each other in one order.
CREATE FUNCTION merch_refresh_product_keys(p_products bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO category_product_keys (category_id, kind, key)
    SELECT DISTINCT k.category_id, k.kind, k.key
      FROM product_keys k  -- (a view: the bound reaches the products' primary key)
     WHERE k.product_id = ANY (p_products)
     ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING;
$$;

-- Bring up to date what this transaction's writes recorded: the sales rollup by its deltas (the products
-- whose units sold they moved are queued for the clock: merch_queue_storefront_sold), then every read model
-- of the recorded products (prices before completeness, which reads them; the storefront last: whole, or
-- only the units sold of the products the clock recorded as `sold`, both sets' rows locked first in one
-- pass, in product id order).
-- Runs at commit, or earlier when called; what is recorded after it runs is refreshed at commit, and the
-- change feed's events of the transaction are flushed at commit only (merch_refresh_at_commit).
CREATE FUNCTION merch_refresh_pending() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_tx xid8 := pg_current_xact_id_if_assigned();
    v_all bigint[];
    v_prices bigint[];
    v_completeness bigint[];
    v_storefront bigint[];
    v_sold bigint[];
    v_keys bigint[];
BEGIN
    IF v_tx IS NULL THEN
        RETURN;  -- this transaction wrote nothing
    END IF;
    PERFORM set_config('merch.refresh_queued', 'off', true);
    DELETE FROM refresh_queued WHERE txid = v_tx;
    v_sold := merch_merge_sales_pending(v_tx);
    IF v_sold IS NOT NULL THEN
        PERFORM merch_queue_storefront_sold(v_sold);
    END IF;
    WITH gone AS (
        DELETE FROM refresh_pending WHERE txid = v_tx RETURNING model, product_id
    )
    SELECT array_agg(DISTINCT product_id ORDER BY product_id),
           array_agg(product_id ORDER BY product_id) FILTER (WHERE model = 'prices'),
           array_agg(product_id ORDER BY product_id) FILTER (WHERE model = 'completeness'),
           array_agg(product_id ORDER BY product_id) FILTER (WHERE model = 'storefront'),
           array_agg(product_id ORDER BY product_id) FILTER (WHERE model = 'sold'),
           array_agg(product_id ORDER BY product_id) FILTER (WHERE model = 'keys')
      INTO v_all, v_prices, v_completeness, v_storefront, v_sold, v_keys
      FROM gone;
    IF v_all IS NULL THEN
        RETURN;
    END IF;
    IF v_prices IS NOT NULL THEN
        PERFORM merch_refresh_model('prices', v_prices);
    END IF;
    IF v_completeness IS NOT NULL THEN
        PERFORM merch_refresh_model('completeness', v_completeness);
    END IF;
    IF v_keys IS NOT NULL THEN
        PERFORM merch_refresh_model('keys', v_keys);
    END IF;
    IF v_storefront IS NOT NULL AND v_sold IS NOT NULL THEN
        -- (the refresh locks its rows a chunk at a time: take both sets' rows first, in one key-ordered pass)
        PERFORM 1 FROM storefront_products s WHERE s.product_id = ANY (v_storefront || v_sold)
         ORDER BY s.product_id FOR UPDATE;
    END IF;
    IF v_storefront IS NOT NULL THEN
        PERFORM merch_refresh_model('storefront', v_storefront);
    END IF;
    IF v_sold IS NOT NULL THEN
        -- (a product refreshed whole just now has its units sold current)
        PERFORM merch_refresh_storefront_sold(ARRAY(
            SELECT d.x FROM (SELECT unnest(v_sold) EXCEPT SELECT unnest(v_storefront)) d(x) ORDER BY d.x));
    END IF;
END
$$;

CREATE FUNCTION merch_refresh_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- (the events the refresh writes are flushed just below: it need not queue another run for them)
    PERFORM set_config('merch.flushing_after', 'on', true);
    PERFORM merch_refresh_pending();
    PERFORM set_config('merch.flushing_after', 'off', true);
    -- the storefront's filter contexts changed: their stamp moves on (sql/functions/storefront_context.sql)
    PERFORM merch_context_committed();
    -- last: the feed's lock is held from here to the commit only (ids in commit order)
    PERFORM merch_flush_events();
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER refresh_at_commit AFTER INSERT ON refresh_queued
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION merch_refresh_at_commit();

-- Products whose prices started or stopped being in force since their prices_in_force rows were computed,
-- with no write (a row's stale_at has passed), products whose storefront went stale (a promotion that
-- started or ended; a label or visibility that changed under them) and products whose units sold sales
-- writes queued (storefront_sold_due; at most p_limit of each of these two kinds per call, the oldest
-- first, skipping those a sales write still holds): recorded like a write, for the refresh at commit.
-- Answers how many.
CREATE FUNCTION merch_touch_due(p_limit integer DEFAULT 2000) RETURNS integer LANGUAGE plpgsql
-- (planned at each call: a session's plan made while the queue was nearly empty — the runner's connection
-- lives long — scanned the whole queue for each row it took once the queue had grown)
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    v_products bigint[];
    v_storefront bigint[];
    v_sold bigint[];
BEGIN
    SELECT array_agg(DISTINCT f.product_id ORDER BY f.product_id) INTO v_products
      FROM prices_in_force f WHERE f.stale_at <= clock_timestamp();
    -- (the oldest first, in the stale_at index's order: no sort of every due row at each tick)
    v_storefront := ARRAY(SELECT s.product_id FROM storefront_products s WHERE s.stale_at <= clock_timestamp()
                           ORDER BY s.stale_at LIMIT p_limit);
    -- (picked once, then deleted by row address: `IN (… LIMIT … FOR UPDATE SKIP LOCKED)` let the planner put the
    -- pick on the inner side of a nested loop when the statistics say the table is nearly empty, running it
    -- again for every row: 71 s for 20,000 rows; a row locked here is not updated before this transaction
    -- ends, so its address holds)
    WITH gone AS (
        DELETE FROM storefront_sold_due d
         WHERE d.ctid = ANY (ARRAY(SELECT q.ctid FROM storefront_sold_due q ORDER BY q.since, q.product_id
                                    LIMIT p_limit FOR UPDATE SKIP LOCKED))
        RETURNING d.product_id
    )
    SELECT coalesce(array_agg(g.product_id ORDER BY g.product_id), '{}') INTO v_sold FROM gone g;
    IF v_products IS NOT NULL THEN
        PERFORM merch_touch('prices', v_products);
        PERFORM merch_touch('completeness', v_products);
        PERFORM merch_touch('storefront', v_products);
    END IF;
    PERFORM merch_touch('storefront', v_storefront);
    PERFORM merch_touch('sold', v_sold);
    RETURN coalesce(cardinality(v_products), 0) + cardinality(v_storefront) + cardinality(v_sold);
END
$$;

-- The map: what each source table's writes record, for which read model. ---------------------------------

-- Record the products of the rows a statement wrote (TG_ARGV[0]: the column that holds the product id) for
-- the read models named in the other arguments.
CREATE FUNCTION merch_touch_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_products bigint[];
BEGIN
    EXECUTE format(CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT array_agg(DISTINCT %1$I) FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT array_agg(DISTINCT %1$I) FROM old_rows'
        ELSE 'SELECT array_agg(DISTINCT x) FROM (SELECT %1$I AS x FROM new_rows UNION SELECT %1$I FROM old_rows) u'
    END, TG_ARGV[0]) INTO v_products;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        PERFORM merch_touch(TG_ARGV[i], v_products);
    END LOOP;
    RETURN NULL;
END
$$;

-- The same for rows that name a SKU (TG_ARGV[0]: the column that holds the SKU id): its product.
CREATE FUNCTION merch_touch_written_skus() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_products bigint[];
BEGIN
    EXECUTE format(CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT array_agg(DISTINCT s.product_id) FROM new_rows r JOIN skus s ON s.id = r.%1$I'
        WHEN 'DELETE' THEN 'SELECT array_agg(DISTINCT s.product_id) FROM old_rows r JOIN skus s ON s.id = r.%1$I'
        ELSE 'SELECT array_agg(DISTINCT s.product_id) FROM (SELECT %1$I AS x FROM new_rows UNION SELECT %1$I FROM old_rows) r'
             ' JOIN skus s ON s.id = r.x'
    END, TG_ARGV[0]) INTO v_products;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        PERFORM merch_touch(TG_ARGV[i], v_products);
    END LOOP;
    RETURN NULL;
END
$$;

-- Of the rows an UPDATE changed (matched on `id`), record the products (TG_ARGV[0]: the column that holds the
-- product id, old and new) of those where one of some columns changed, per read model: the other arguments
-- come in pairs, a model and its columns separated by spaces. (A trigger with transition tables cannot
-- name the columns it fires for; this is where they are named.)
CREATE FUNCTION merch_touch_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_products bigint[];
BEGIN
    FOR i IN 1 .. TG_NARGS - 1 BY 2 LOOP
        EXECUTE format(
            'SELECT array_agg(DISTINCT u.product_id) FROM (SELECT n.%1$I AS x, o.%1$I AS y'
            ' FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE (%2$s) IS DISTINCT FROM (%3$s)) c'
            ' CROSS JOIN LATERAL unnest(ARRAY[c.x, c.y]) AS u(product_id)',
            TG_ARGV[0],
            (SELECT string_agg(format('n.%I', c), ', ') FROM unnest(string_to_array(TG_ARGV[i + 1], ' ')) AS c),
            (SELECT string_agg(format('o.%I', c), ', ') FROM unnest(string_to_array(TG_ARGV[i + 1], ' ')) AS c))
        INTO v_products;
        PERFORM merch_touch(TG_ARGV[i], v_products);
    END LOOP;
    RETURN NULL;
END
$$;

-- Products: what completeness reads of them; their home category and role (prices_in_force carries both);
-- the keys of their texts and values under their home category (`keys`: read from columns completeness reads).
CREATE TRIGGER products_inserted_touch AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('id', 'completeness', 'storefront', 'keys');
-- (Written out, not merch_touch_changed: a product write is the hottest path that records.)
CREATE FUNCTION merch_touch_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_read bigint[] := ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE (n.category_id, n.labels, n.description, n.selling_points, n.images, n.quality_tags, n.attributes)
               IS DISTINCT FROM
               (o.category_id, o.labels, o.description, o.selling_points, o.images, o.quality_tags, o.attributes));
BEGIN
    PERFORM merch_touch('completeness', v_read);
    PERFORM merch_touch('keys', v_read);
    PERFORM merch_touch('prices', ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE (n.category_id, n.role_id) IS DISTINCT FROM (o.category_id, o.role_id)));
    PERFORM merch_touch('storefront', ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE (n.code, n.category_id, n.role_id, n.labels, n.description, n.selling_points, n.images, n.attributes,
                n.lifecycle)
               IS DISTINCT FROM
               (o.code, o.category_id, o.role_id, o.labels, o.description, o.selling_points, o.images, o.attributes,
                o.lifecycle)));
    RETURN NULL;
END
$$;
-- A deleted product leaves the storefront through its refresh (its `product.delisted` event, its series'
-- pages, its shelves' counts).
CREATE TRIGGER products_deleted_touch AFTER DELETE ON products
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('id', 'storefront');
CREATE TRIGGER products_updated_touch AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_products_updated();

-- SKUs: the SKU items of completeness (barcodes, per-SKU prices, attributes every SKU carries).
CREATE TRIGGER skus_inserted_touch AFTER INSERT ON skus
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'completeness', 'storefront');
CREATE TRIGGER skus_updated_touch AFTER UPDATE ON skus
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_changed('product_id', 'completeness', 'product_id barcode axes attributes',
                                         'storefront', 'product_id sku barcode axes attributes');
CREATE TRIGGER skus_deleted_touch AFTER DELETE ON skus
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'completeness', 'storefront');

-- Series memberships: the `series` item.
CREATE TRIGGER product_series_inserted_touch AFTER INSERT ON product_series
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'completeness', 'storefront');
CREATE TRIGGER product_series_deleted_touch AFTER DELETE ON product_series
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'completeness', 'storefront');

-- Placements in other trees: the storefront's category ids.
CREATE TRIGGER product_placements_inserted_touch AFTER INSERT ON product_placements
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'storefront');
CREATE TRIGGER product_placements_updated_touch AFTER UPDATE ON product_placements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'storefront');
CREATE TRIGGER product_placements_deleted_touch AFTER DELETE ON product_placements
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'storefront');

-- Promotion items: the price a page shows (a promotion's own dates and labels: storefront.sql).
CREATE TRIGGER promotion_items_inserted_touch AFTER INSERT ON promotion_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written_skus('sku_id', 'storefront');
CREATE TRIGGER promotion_items_updated_touch AFTER UPDATE ON promotion_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written_skus('sku_id', 'storefront');
CREATE TRIGGER promotion_items_deleted_touch AFTER DELETE ON promotion_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written_skus('sku_id', 'storefront');

-- Prices: prices in force, and the price items of completeness.
CREATE TRIGGER prices_inserted_touch AFTER INSERT ON prices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written_skus('sku_id', 'prices', 'completeness', 'storefront');
CREATE TRIGGER prices_updated_touch AFTER UPDATE ON prices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written_skus('sku_id', 'prices', 'completeness', 'storefront');
CREATE TRIGGER prices_deleted_touch AFTER DELETE ON prices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written_skus('sku_id', 'prices', 'completeness', 'storefront');

-- Supplier terms, and suppliers turned active or inactive: the `supplier` item.
CREATE TRIGGER product_suppliers_inserted_touch AFTER INSERT ON product_suppliers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'completeness');
CREATE TRIGGER product_suppliers_updated_touch AFTER UPDATE ON product_suppliers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'completeness');
CREATE TRIGGER product_suppliers_deleted_touch AFTER DELETE ON product_suppliers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_written('product_id', 'completeness');

CREATE FUNCTION merch_touch_supplier_products() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merch_touch('completeness', ARRAY(
        SELECT DISTINCT ps.product_id
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          JOIN product_suppliers ps ON ps.supplier_id = n.id
         WHERE n.active IS DISTINCT FROM o.active));
    RETURN NULL;
END
$$;
CREATE TRIGGER suppliers_updated_touch AFTER UPDATE ON suppliers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_touch_supplier_products();

-- Receipts record the `stock` item (sql/functions/stock.sql) and sales facts their deltas to the rollup
-- (sql/functions/sales.sql), beside the functions their triggers call.
