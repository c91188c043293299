-- The refresh point (sql/functions/refresh.sql): what the writes of a transaction changed, recorded by
-- triggers on the source tables and kept until the read models derived from it are brought up to date,
-- before the transaction commits. Unlogged: a row lives only inside the transaction that wrote it (the
-- refresh deletes it), so there is nothing to keep across a crash.

-- Products whose read model `model` (completeness, prices …) must be refreshed.
CREATE UNLOGGED TABLE refresh_pending (
    txid xid8 NOT NULL,
    model text NOT NULL,
    product_id bigint NOT NULL,
    CONSTRAINT refresh_pending_pkey PRIMARY KEY (txid, model, product_id)
);

-- One row per transaction with something pending: its deferred trigger runs the refresh at commit.
CREATE UNLOGGED TABLE refresh_queued (
    txid xid8 NOT NULL,
    CONSTRAINT refresh_queued_pkey PRIMARY KEY (txid)
);

-- What written sales facts change in the monthly rollup, per month, SKU, channel and currency: +new −old
-- values, several rows per key, summed and merged into `sales_monthly` and `sales_sku_totals` in key order
-- by the refresh (so that concurrent uploads never lock rollup rows in crossing orders).
CREATE UNLOGGED TABLE sales_pending (
    txid xid8 NOT NULL,
    month date NOT NULL,
    sku_id bigint NOT NULL,
    channel text NOT NULL,
    currency text NOT NULL,
    facts integer NOT NULL,
    qty bigint NOT NULL,
    revenue numeric NOT NULL,
    cost numeric NOT NULL,
    costed_qty bigint NOT NULL,
    costed_facts integer NOT NULL,
    costed_revenue numeric NOT NULL,
    distribution_value numeric NOT NULL,
    distributed_qty bigint NOT NULL,
    distributed_facts integer NOT NULL
);
CREATE INDEX sales_pending_txid_idx ON sales_pending (txid);
