-- The shelf's combinations (storefront_shelf_combos, migration 0024): per category, how many listed products
-- carry each combination of tokens and numbers — what the facets count from.
--
-- Kept from the shelf itself, whoever writes it (the storefront refresh's inserts, updates and deletes, and
-- the deletes cascading from storefront_products): statement triggers record each statement's delta per
-- combination and transaction, and the model refresh merges them (merch_merge_shelf_combos), as the
-- navigation counts are kept. Not a builder of the storefront read model (api/migrate.py MODEL_BUILDERS):
-- a rebuild walks products and writes only the shelf rows that change, which these triggers follow; a change
-- here is no reason to walk every product. (A migration that writes the shelf runs before these triggers
-- exist or with them: it keeps the combinations itself, or merges what they recorded.)

-- What a statement on the shelf added to and removed from each combination (zero sums left out).
CREATE FUNCTION merch_shelf_combos_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO storefront_shelf_combos_pending (txid, category_id, tokens, numbers, delta)
        SELECT pg_current_xact_id(), n.category_id, n.tokens, n.numbers, count(*)
          FROM new_rows n GROUP BY n.category_id, n.tokens, n.numbers;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO storefront_shelf_combos_pending (txid, category_id, tokens, numbers, delta)
        SELECT pg_current_xact_id(), o.category_id, o.tokens, o.numbers, -count(*)
          FROM old_rows o GROUP BY o.category_id, o.tokens, o.numbers;
    ELSE  -- only rows whose tokens or numbers changed (not those of a price or units sold change)
        INSERT INTO storefront_shelf_combos_pending (txid, category_id, tokens, numbers, delta)
        SELECT pg_current_xact_id(), x.category_id, x.tokens, x.numbers, sum(x.delta)
          FROM (SELECT o.category_id AS old_category, o.tokens AS old_tokens, o.numbers AS old_numbers,
                       n.category_id AS new_category, n.tokens AS new_tokens, n.numbers AS new_numbers
                  FROM old_rows o
                  FULL JOIN new_rows n ON n.category_id = o.category_id AND n.product_id = o.product_id
                 WHERE o.category_id IS NULL OR n.category_id IS NULL
                    OR (o.tokens, o.numbers) IS DISTINCT FROM (n.tokens, n.numbers)) c
         CROSS JOIN LATERAL (VALUES (c.old_category, c.old_tokens, c.old_numbers, -1),
                                    (c.new_category, c.new_tokens, c.new_numbers, 1))
                            AS x(category_id, tokens, numbers, delta)
         WHERE x.category_id IS NOT NULL
         GROUP BY x.category_id, x.tokens, x.numbers
        HAVING sum(x.delta) <> 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER storefront_shelf_inserted_combos AFTER INSERT ON storefront_shelf
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_shelf_combos_changed();
CREATE TRIGGER storefront_shelf_updated_combos AFTER UPDATE ON storefront_shelf
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION merch_shelf_combos_changed();
CREATE TRIGGER storefront_shelf_deleted_combos AFTER DELETE ON storefront_shelf
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION merch_shelf_combos_changed();

-- The combinations brought up to date with what this transaction recorded: one upsert in key order (two
-- writers of products of one combination wait for one another in one order, never in a cycle), then the
-- combinations no product carries any more are removed.
CREATE FUNCTION merch_merge_shelf_combos() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_tx xid8 := pg_current_xact_id_if_assigned();
    v_emptied storefront_shelf_combos[];
BEGIN
    IF v_tx IS NULL THEN
        RETURN;
    END IF;
    WITH gone AS (
        DELETE FROM storefront_shelf_combos_pending WHERE txid = v_tx
        RETURNING category_id, tokens, numbers, delta
    ), merged AS (
        INSERT INTO storefront_shelf_combos AS c (category_id, tokens, numbers, products)
        SELECT g.category_id, g.tokens, g.numbers, sum(g.delta) FROM gone g
         WHERE EXISTS (SELECT 1 FROM categories k WHERE k.id = g.category_id)
         GROUP BY g.category_id, g.tokens, g.numbers HAVING sum(g.delta) <> 0
         ORDER BY g.category_id, g.tokens, g.numbers
        ON CONFLICT (category_id, tokens, numbers) DO UPDATE SET products = c.products + EXCLUDED.products
        RETURNING c.*
    )
    SELECT array_agg(m) INTO v_emptied FROM merged m WHERE m.products = 0;
    IF v_emptied IS NOT NULL THEN
        DELETE FROM storefront_shelf_combos c
         USING unnest(v_emptied) e
         WHERE c.category_id = e.category_id AND c.tokens = e.tokens AND c.numbers = e.numbers
           AND c.products = 0;
    END IF;
END
$$;
