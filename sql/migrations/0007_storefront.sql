-- The storefront and customer-service read path: one more read model of the refresh point
-- (sql/functions/refresh.sql, model `storefront`), and the change feed it writes.
--
-- 1. storefront_config: the locales documents are made in (the first is the default a request without a
--    usable Accept-Language gets) and the currency the shop shows.
-- 2. storefront_products: one row per product (any lifecycle state: customer service searches them all),
--    with what the category page filters and sorts on (category ids of every path it hangs on, facet
--    tokens, numeric values in base units, the price to show, in stock, units sold), the card, the search
--    text and its bigrams, and when it goes stale with time (a price period or a promotion starting or
--    ending).
-- 3. storefront_documents: per listed product and locale, the product page as the bytes sent (its series
--    parts, storefront_series, spliced in when read), with its ETag: a product page is one primary-key
--    fetch.
-- 4. events: the change feed (product listed / delisted / changed / in stock / out of stock, category
--    changed), ids in commit order; events_pending holds a transaction's events until it commits.
-- 5. units: the unit factors of domain/attributes/units.py (a test keeps the two equal), for measurement
--    values compared across units.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE storefront_config (
    singleton boolean NOT NULL DEFAULT true,
    locales text[] NOT NULL,
    currency text NOT NULL,
    CONSTRAINT storefront_config_pkey PRIMARY KEY (singleton),
    CONSTRAINT storefront_config_singleton_check CHECK (singleton),
    CONSTRAINT storefront_config_locales_check CHECK (cardinality(locales) BETWEEN 1 AND 20),
    CONSTRAINT storefront_config_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
INSERT INTO storefront_config (locales, currency) VALUES ('{zh-CN,en}', 'CNY');

CREATE TABLE units (
    unit text NOT NULL,
    family text NOT NULL,
    factor numeric NOT NULL,
    CONSTRAINT units_pkey PRIMARY KEY (unit),
    CONSTRAINT units_factor_check CHECK (factor > 0)
);
INSERT INTO units (unit, family, factor) VALUES
    ('mg', 'mass', 0.001), ('g', 'mass', 1), ('kg', 'mass', 1000), ('t', 'mass', 1000000), ('jin', 'mass', 500),
    ('oz', 'mass', 28.349523125), ('lb', 'mass', 453.59237),
    ('mm', 'length', 1), ('cm', 'length', 10), ('m', 'length', 1000), ('km', 'length', 1000000),
    ('in', 'length', 25.4), ('ft', 'length', 304.8),
    ('ml', 'volume', 1), ('cl', 'volume', 10), ('l', 'volume', 1000), ('fl_oz', 'volume', 29.5735295625),
    ('mm2', 'area', 1), ('cm2', 'area', 100), ('m2', 'area', 1000000);

CREATE TABLE storefront_products (
    product_id bigint NOT NULL,
    code text NOT NULL,
    listed boolean NOT NULL,
    categories bigint[] NOT NULL,          -- every category on the paths of its home category and placements
    tokens text[] NOT NULL,                -- `attr=option`, `role:x`, `series:x`, `in-stock`, `c:<category id>`
    numbers jsonb NOT NULL,                -- {attribute: number in the family's base unit}
    currency text NOT NULL,
    price numeric(18, 4),                  -- the lowest price to show of its SKUs (promotion price when one runs)
    regular numeric(18, 4),                -- the lowest sale price of its SKUs
    in_stock boolean NOT NULL,
    sold bigint NOT NULL,                  -- units sold (the sales rollup), for "best-selling"
    created_at timestamptz NOT NULL,
    card jsonb NOT NULL,                   -- code, labels (a locale map), image, series, role
    words tsvector NOT NULL,               -- the words (lower-cased, not stemmed) of labels, selling points,
                                           -- SKU codes, barcodes, category and series labels
    grams text[] NOT NULL,                 -- the CJK characters of the same texts, and every pair of adjacent ones
    stale_at timestamptz,                  -- the next moment the price to show changes with no write
    computed_at timestamptz NOT NULL,
    CONSTRAINT storefront_products_pkey PRIMARY KEY (product_id),
    CONSTRAINT storefront_products_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
);
CREATE INDEX storefront_products_categories_idx ON storefront_products USING gin (categories) WHERE listed;
CREATE INDEX storefront_products_tokens_idx ON storefront_products USING gin (tokens) WHERE listed;
CREATE INDEX storefront_products_words_idx ON storefront_products USING gin (words);
CREATE INDEX storefront_products_grams_idx ON storefront_products USING gin (grams);
CREATE INDEX storefront_products_stale_at_idx ON storefront_products (stale_at) WHERE stale_at IS NOT NULL;

-- Every word the search has seen, for correcting a shopper's typo: words with the same letters in another
-- order (`slik` → `silk`: the signature is the sorted letters) or similar trigrams (`scraf`, `scarff`).
-- Only ever added to: a word no product uses any more matches no product.
CREATE TABLE storefront_words (
    word text NOT NULL,
    signature text NOT NULL,
    CONSTRAINT storefront_words_pkey PRIMARY KEY (word)
);
CREATE INDEX storefront_words_signature_idx ON storefront_words (signature);
CREATE INDEX storefront_words_word_trgm_idx ON storefront_words USING gin (word gin_trgm_ops);

CREATE TABLE storefront_documents (
    code text NOT NULL,
    locale text NOT NULL,
    product_id bigint NOT NULL,
    body bytea NOT NULL,
    etag text NOT NULL,
    stale_at timestamptz,
    CONSTRAINT storefront_documents_pkey PRIMARY KEY (code, locale),
    CONSTRAINT storefront_documents_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES storefront_products (product_id) ON DELETE CASCADE
);
CREATE INDEX storefront_documents_product_id_idx ON storefront_documents (product_id);

-- The series part of product pages, per series and locale: its label and up to 12 of its listed products;
-- spliced into each member's page when it is read (a product's change reaches its series' other pages
-- without rewriting them).
CREATE TABLE storefront_series (
    series_id bigint NOT NULL,
    locale text NOT NULL,
    code text NOT NULL,
    body bytea NOT NULL,
    etag text NOT NULL,
    CONSTRAINT storefront_series_pkey PRIMARY KEY (series_id, locale),
    CONSTRAINT storefront_series_series_id_fkey FOREIGN KEY (series_id) REFERENCES series (id) ON DELETE CASCADE
);

CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    at timestamptz NOT NULL DEFAULT now(),
    type text NOT NULL,
    code text NOT NULL,
    fields text[] NOT NULL DEFAULT '{}',
    CONSTRAINT events_pkey PRIMARY KEY (id),
    CONSTRAINT events_type_check CHECK (type IN (
        'product.listed', 'product.delisted', 'product.changed', 'product.in_stock', 'product.out_of_stock',
        'category.changed', 'category.removed'
    ))
);
CREATE INDEX events_at_idx ON events (at);

-- The highest event id the retention has removed: a feed cursor below it has missed events (410).
CREATE TABLE events_retention (
    singleton boolean NOT NULL DEFAULT true,
    deleted_through bigint NOT NULL DEFAULT 0,
    CONSTRAINT events_retention_pkey PRIMARY KEY (singleton),
    CONSTRAINT events_retention_singleton_check CHECK (singleton)
);
INSERT INTO events_retention DEFAULT VALUES;

CREATE UNLOGGED TABLE events_pending (
    txid xid8 NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    type text NOT NULL,
    code text NOT NULL,
    fields text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX events_pending_txid_idx ON events_pending (txid, n);

-- Products that exist already get a row that is due at once: the job runner's refresh of due rows
-- computes them (in chunks) within its first minutes; until then they are not on the storefront.
INSERT INTO storefront_products (product_id, code, listed, categories, tokens, numbers, currency, in_stock, sold,
                                 created_at, card, words, grams, stale_at, computed_at)
SELECT p.id, p.code, false, '{}', '{}', '{}', 'CNY', false, 0, p.created_at, '{}', '', '{}', '-infinity', now()
  FROM products p;
