-- Listed products by units sold: the order of search results (a common word stops at the first matches in
-- this order instead of ranking every product that has it) and of the best-selling sort.
CREATE INDEX storefront_products_sold_idx ON storefront_products (sold DESC, product_id) WHERE listed;
