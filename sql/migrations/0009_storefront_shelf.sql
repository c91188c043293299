-- The shelves of the category pages: one narrow row per listed product and category it is shown under (its
-- home category, its placements and their ancestors), with what a page filters on and sorts by. An index
-- per sort, category first, lets a page walk a category in the order asked and stop at its 50th match:
-- a page of a 100,000-product subtree under common filters reads a few hundred rows, not every match; the
-- tokens' GIN index (the category's own token among them) answers filters that few products pass, and the
-- facets (merch_storefront_listing, list_facet_counts). Kept by the storefront refresh
-- (merch_refresh_storefront) from the product's storefront_products row, whose tokens' index it replaces:
-- a product write that changes no filter, price or sort key writes no shelf row and no token index entry.

CREATE TABLE storefront_shelf (
    category_id bigint NOT NULL,
    product_id bigint NOT NULL,
    tokens text[] NOT NULL,     -- the product's tokens (`attr=option`, `role:x`, `series:x`, `in-stock`), of
                                -- its categories' only this one's (`c:<category id>`)
    numbers jsonb NOT NULL,     -- {attribute: number in the family's base unit}
    price numeric(18, 4),       -- the price to show, as storefront_products
    newest numeric NOT NULL,    -- minus the seconds since the epoch of the product's creation: the newest first
    sold bigint NOT NULL,       -- units sold
    CONSTRAINT storefront_shelf_pkey PRIMARY KEY (category_id, product_id),
    CONSTRAINT storefront_shelf_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES storefront_products (product_id) ON DELETE CASCADE
);
CREATE INDEX storefront_shelf_product_id_idx ON storefront_shelf (product_id);
CREATE INDEX storefront_shelf_price_asc_idx ON storefront_shelf (category_id, (coalesce(price, 1e18)), product_id);
CREATE INDEX storefront_shelf_price_desc_idx ON storefront_shelf (category_id, (coalesce(-price, 1e18)), product_id);
CREATE INDEX storefront_shelf_newest_idx ON storefront_shelf (category_id, newest, product_id);
CREATE INDEX storefront_shelf_sold_idx ON storefront_shelf (category_id, ((-sold)::numeric), product_id);
CREATE INDEX storefront_shelf_tokens_idx ON storefront_shelf USING gin (tokens);
DROP INDEX storefront_products_tokens_idx;

INSERT INTO storefront_shelf (category_id, product_id, tokens, numbers, price, newest, sold)
SELECT c.id, s.product_id, ARRAY(SELECT t FROM unnest(s.tokens) t WHERE t NOT LIKE 'c:%' OR t = 'c:' || c.id ORDER BY t), s.numbers,
       s.price, -extract(epoch FROM s.created_at), s.sold
  FROM storefront_products s CROSS JOIN LATERAL unnest(s.categories) c(id)
 WHERE s.listed
 ORDER BY c.id, s.product_id;
