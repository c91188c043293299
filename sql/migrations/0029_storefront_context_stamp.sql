-- A category page checks its filters against a context: the category by code, the filters' attributes with their
-- options, the role and series named (merch_filter_context). A server process keeps the contexts it has read,
-- and each page read its context again in the page's own statement to know it still held (~0.1–0.2 ms of a
-- page's ~1.3 ms of database time on the 1M bench catalog: six index lookups, a JSON document, an md5). A stamp
-- says the same with one row: every transaction that changes a table a context is read from moves `version` on
-- at its commit (sql/functions/storefront_context.sql), so a stamp read in the same snapshot as a context stands
-- for it until the stamp changes. `storefront_context_changes` numbers the changing statements of a transaction
-- not committed yet, which tell its own reads apart before the stamp moves.
CREATE TABLE storefront_context_stamp (
    one boolean NOT NULL DEFAULT true,
    version bigint NOT NULL,
    CONSTRAINT storefront_context_stamp_pkey PRIMARY KEY (one),
    CONSTRAINT storefront_context_stamp_one CHECK (one)
);
INSERT INTO storefront_context_stamp (version) VALUES (1);

CREATE SEQUENCE storefront_context_changes;
