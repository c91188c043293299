-- The facets of a category page counted from kept tallies instead of the shelf's rows (issue 12): per
-- category, how many listed products carry each distinct combination of shelf tokens and numbers. Whether a
-- product passes a page's filters but its price bounds, and what it adds to each facet, depends on its
-- tokens and numbers only, so the counts are those of the combinations, weighted: the 100,000-product bench
-- subtree has 3,108 combinations (156 with a token of either of its two filters), where counting read every
-- product passing all filters but one (13,000 shelf rows, ~70 ms, for the two filters; ~90,000 rows, 0.3–0.5
-- s, for none). Never more rows than the shelf: at worst one combination per product.
--
-- Kept by delta, as the navigation counts (migration 0010): triggers on storefront_shelf record what each
-- statement adds and removes (storefront_shelf_combos_pending, by transaction), merged once per model
-- refresh in key order (merch_merge_shelf_combos, called by merch_refresh_model). A combination no product
-- carries any more is removed.

CREATE TABLE storefront_shelf_combos (
    category_id bigint NOT NULL,
    tokens text[] NOT NULL,     -- as storefront_shelf.tokens (the category's own `c:<id>` among them)
    numbers jsonb NOT NULL,     -- as storefront_shelf.numbers
    products bigint NOT NULL,   -- listed products of the category with exactly these
    CONSTRAINT storefront_shelf_combos_pkey PRIMARY KEY (category_id, tokens, numbers),
    CONSTRAINT storefront_shelf_combos_category_id_fkey FOREIGN KEY (category_id)
        REFERENCES categories (id) ON DELETE CASCADE
);
CREATE INDEX storefront_shelf_combos_tokens_idx ON storefront_shelf_combos USING gin (tokens);

CREATE UNLOGGED TABLE storefront_shelf_combos_pending (
    txid xid8 NOT NULL,
    category_id bigint NOT NULL,
    tokens text[] NOT NULL,
    numbers jsonb NOT NULL,
    delta integer NOT NULL
);
CREATE INDEX storefront_shelf_combos_pending_txid_idx ON storefront_shelf_combos_pending (txid);

INSERT INTO storefront_shelf_combos (category_id, tokens, numbers, products)
SELECT h.category_id, h.tokens, h.numbers, count(*)
  FROM storefront_shelf h
 WHERE EXISTS (SELECT 1 FROM categories c WHERE c.id = h.category_id)
 GROUP BY h.category_id, h.tokens, h.numbers
 ORDER BY h.category_id, h.tokens, h.numbers;
