-- A category page walks its category's shelf in the sort's order and checks each row's filters until the page
-- is full: for the bench's two filters on a 100,000-product subtree (1M catalog) that is ~1,600 rows for one
-- page in position order, each on its own heap page (a product's rows of all its categories are written
-- together). Each shelf row now carries a fixed-size signature of its tokens (`bits`: for each token, one of
-- 256 bits chosen by the first byte of its md5), and every sort's index carries the signature: the walk reads
-- the index alone (an index-only scan), keeps the rows whose signature has every bit of the page's required
-- tokens and one bit of its OR'ed tokens, and checks only those against the row's tokens (the exact filters:
-- merch_shelf_passes). A signature never misses a row that passes; it lets through a few that do not (one in
-- ~20 for a single token, ~6 tokens a row). Fixed size, unlike the tokens, so it can sit in a b-tree entry
-- whatever a product carries (an entry holds at most 2,704 bytes).
-- md5, not hashtext: the bits are stored, and hashtext may change with a major PostgreSQL version. A function
-- of this migration, not of the routine files (a generated column depends on it; those are dropped and made
-- again when they change).
-- (A PL/pgSQL loop: 4 µs a shelf row of ~6 tokens where an SQL aggregate over unnest took 7 µs; a 10,000-product
-- import writes ~30,000 shelf rows.)
CREATE FUNCTION shelf_token_bits(p_tokens text[]) RETURNS bit(256) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    v_bits bit(256) := B'0'::bit(256);
    v_token text;
BEGIN
    FOREACH v_token IN ARRAY coalesce(p_tokens, '{}') LOOP
        CONTINUE WHEN v_token IS NULL;
        v_bits := set_bit(v_bits, get_byte(decode(md5(v_token), 'hex'), 0), 1);
    END LOOP;
    RETURN v_bits;
END
$$;

ALTER TABLE storefront_shelf ADD COLUMN bits bit(256) GENERATED ALWAYS AS (shelf_token_bits(tokens)) STORED;

-- Each sort's index with what its walk reads: the row's key, its sort value (price and sold as the
-- expressions are made of them: an index-only scan needs the column itself) and the signature.
ALTER TABLE storefront_shelf DROP CONSTRAINT storefront_shelf_pkey,
    ADD CONSTRAINT storefront_shelf_pkey PRIMARY KEY (category_id, product_id) INCLUDE (bits);
DROP INDEX storefront_shelf_price_asc_idx, storefront_shelf_price_desc_idx, storefront_shelf_newest_idx,
    storefront_shelf_sold_idx;
CREATE INDEX storefront_shelf_price_asc_idx ON storefront_shelf (category_id, (coalesce(price, 1e18)), product_id)
    INCLUDE (price, bits);
CREATE INDEX storefront_shelf_price_desc_idx ON storefront_shelf (category_id, (coalesce(-price, 1e18)), product_id)
    INCLUDE (price, bits);
CREATE INDEX storefront_shelf_newest_idx ON storefront_shelf (category_id, newest, product_id) INCLUDE (bits);
CREATE INDEX storefront_shelf_sold_idx ON storefront_shelf (category_id, ((-sold)::numeric), product_id)
    INCLUDE (sold, bits);

-- An index-only scan reads the table for rows on pages not marked all-visible: vacuum the shelf sooner than
-- the default (20 % of its rows changed or 20 % inserted).
ALTER TABLE storefront_shelf SET (autovacuum_vacuum_scale_factor = 0.02,
                                  autovacuum_vacuum_insert_scale_factor = 0.02);
