-- Units sold on the storefront (storefront_products.sold, storefront_shelf.sold: the best-selling sort and the
-- order of search results) follow the sales facts with a bounded lag: a sales write (an upload, a removal, a
-- return) records here the products whose units it moved, in its own transaction; the refresh point's clock
-- (merch_touch_due, every minute) writes the oldest of them to the storefront, a chunk per transaction. Writing
-- the column in the sales write itself rewrites each product's wide storefront row and shelf rows with every
-- index on them (~0.3 ms a product): an upload of 5,000 lines took three times as long.
CREATE TABLE storefront_sold_due (
    product_id bigint NOT NULL,
    since timestamptz NOT NULL,            -- the first sales write not yet written to the storefront
    CONSTRAINT storefront_sold_due_pkey PRIMARY KEY (product_id)
);
CREATE INDEX storefront_sold_due_since_idx ON storefront_sold_due (since, product_id);
