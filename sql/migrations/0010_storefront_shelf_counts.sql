-- Navigation counts the listed products of every category of a tree: counting shelf rows took 0.3–0.8 s a
-- request for the 1M-product tree. The counts are kept instead, per category, by the storefront refresh:
-- each refresh records how many listed products a category gained or lost (storefront_shelf_pending, by
-- transaction), merged once per model refresh in key order (merch_refresh_model), as the sales rollup's
-- deltas are.
--
-- And storefront_products no longer follows products by a cascading foreign key: a deleted product's row
-- went with it before the refresh saw it (no `product.delisted` event, its series' pages not refreshed, its
-- shelves' counts not told); the refresh removes the row of a product that is gone, as of one that left the
-- listing.

ALTER TABLE storefront_products DROP CONSTRAINT storefront_products_product_id_fkey;

CREATE TABLE storefront_shelf_counts (
    category_id bigint NOT NULL,
    listed bigint NOT NULL,
    CONSTRAINT storefront_shelf_counts_pkey PRIMARY KEY (category_id),
    CONSTRAINT storefront_shelf_counts_category_id_fkey FOREIGN KEY (category_id)
        REFERENCES categories (id) ON DELETE CASCADE
    -- (no CHECK (listed >= 0): a delta upsert proposes the delta itself as a new row, checked before the
    -- conflict is found; the tests compare the counts with the shelf)
);

CREATE UNLOGGED TABLE storefront_shelf_pending (
    txid xid8 NOT NULL,
    category_id bigint NOT NULL,
    delta integer NOT NULL
);
CREATE INDEX storefront_shelf_pending_txid_idx ON storefront_shelf_pending (txid);

INSERT INTO storefront_shelf_counts (category_id, listed)
SELECT h.category_id, count(*) FROM storefront_shelf h
 WHERE EXISTS (SELECT 1 FROM categories c WHERE c.id = h.category_id)
 GROUP BY h.category_id ORDER BY h.category_id;
