-- Prices (effective-dated, never overlapping), suppliers and their terms per product, promotions, daily
-- sales facts — what finance, purchasing and marketing decide from.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- A price of one kind for one SKU in one currency, in force over [valid_from, valid_to) — valid_to null is
-- open-ended. History is kept for ever; periods of the same SKU, kind and currency never overlap.
CREATE TABLE prices (
    id bigint GENERATED ALWAYS AS IDENTITY,
    sku_id bigint NOT NULL,
    kind text NOT NULL,
    currency text NOT NULL,
    amount numeric(18, 4) NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_to timestamptz,
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT prices_pkey PRIMARY KEY (id),
    CONSTRAINT prices_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE RESTRICT,
    CONSTRAINT prices_kind_check CHECK (kind IN ('sale', 'distribution', 'cost')),
    CONSTRAINT prices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT prices_amount_check CHECK (amount >= 0),
    CONSTRAINT prices_valid_to_check CHECK (valid_to IS NULL OR valid_to > valid_from),
    CONSTRAINT prices_sku_id_kind_currency_excl EXCLUDE USING gist (
        sku_id WITH =, kind WITH =, currency WITH =, tstzrange(valid_from, valid_to) WITH &&
    )
);
CREATE INDEX prices_sku_id_kind_valid_from_idx ON prices (sku_id, kind, valid_from);
-- Prices that start or stop being in force: completeness of their products is refreshed then.
CREATE INDEX prices_valid_from_idx ON prices (valid_from);
CREATE INDEX prices_valid_to_idx ON prices (valid_to) WHERE valid_to IS NOT NULL;

-- Suppliers, ranked by type: manufacturer (制造商) > agent (代理商) > wholesaler (批发商) > trading company (商贸公司).
CREATE TABLE suppliers (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    type text NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    contacts jsonb NOT NULL DEFAULT '[]',
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT suppliers_pkey PRIMARY KEY (id),
    CONSTRAINT suppliers_code_key UNIQUE (code),
    CONSTRAINT suppliers_type_check CHECK (type IN ('manufacturer', 'agent', 'wholesaler', 'trading_company')),
    CONSTRAINT suppliers_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT suppliers_contacts_check CHECK (jsonb_typeof(contacts) = 'array')
);

-- A supplier's terms for a product: purchase price, minimum order quantity, lead time, preferred flag.
CREATE TABLE product_suppliers (
    product_id bigint NOT NULL,
    supplier_id bigint NOT NULL,
    purchase_price numeric(18, 4) NOT NULL,
    currency text NOT NULL,
    moq integer NOT NULL DEFAULT 1,
    lead_time_days integer NOT NULL DEFAULT 0,
    preferred boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT product_suppliers_pkey PRIMARY KEY (product_id, supplier_id),
    CONSTRAINT product_suppliers_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT product_suppliers_supplier_id_fkey FOREIGN KEY (supplier_id) REFERENCES suppliers (id) ON DELETE RESTRICT,
    CONSTRAINT product_suppliers_purchase_price_check CHECK (purchase_price >= 0),
    CONSTRAINT product_suppliers_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT product_suppliers_moq_check CHECK (moq >= 1),
    CONSTRAINT product_suppliers_lead_time_days_check CHECK (lead_time_days BETWEEN 0 AND 3650)
);
CREATE INDEX product_suppliers_supplier_id_idx ON product_suppliers (supplier_id);
-- At most one preferred supplier per product.
CREATE UNIQUE INDEX product_suppliers_product_id_preferred_key ON product_suppliers (product_id) WHERE preferred;

-- Promotions (活动): a date range and items with a promotion price.
CREATE TABLE promotions (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT promotions_pkey PRIMARY KEY (id),
    CONSTRAINT promotions_code_key UNIQUE (code),
    CONSTRAINT promotions_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT promotions_ends_at_check CHECK (ends_at > starts_at)
);
CREATE INDEX promotions_period_idx ON promotions USING gist (tstzrange(starts_at, ends_at));

CREATE TABLE promotion_items (
    promotion_id bigint NOT NULL,
    sku_id bigint NOT NULL,
    price numeric(18, 4) NOT NULL,
    currency text NOT NULL,
    CONSTRAINT promotion_items_pkey PRIMARY KEY (promotion_id, sku_id),
    CONSTRAINT promotion_items_promotion_id_fkey FOREIGN KEY (promotion_id) REFERENCES promotions (id) ON DELETE CASCADE,
    CONSTRAINT promotion_items_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE RESTRICT,
    CONSTRAINT promotion_items_price_check CHECK (price >= 0),
    CONSTRAINT promotion_items_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX promotion_items_sku_id_idx ON promotion_items (sku_id);

-- Daily sales facts per SKU and channel; a re-sent day replaces rather than doubles.
CREATE TABLE sales_facts (
    day date NOT NULL,
    sku_id bigint NOT NULL,
    channel text NOT NULL,
    qty integer NOT NULL,
    revenue numeric(18, 4) NOT NULL,
    currency text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sales_facts_pkey PRIMARY KEY (day, sku_id, channel),
    CONSTRAINT sales_facts_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE RESTRICT,
    CONSTRAINT sales_facts_channel_check CHECK (channel ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    CONSTRAINT sales_facts_qty_check CHECK (qty >= 0),
    CONSTRAINT sales_facts_revenue_check CHECK (revenue >= 0),
    CONSTRAINT sales_facts_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX sales_facts_sku_id_day_idx ON sales_facts (sku_id, day);

-- Idempotency records of sales uploads (the first answer is replayed for a retry).
CREATE TABLE sales_requests (
    actor text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash bytea NOT NULL,
    response jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sales_requests_pkey PRIMARY KEY (actor, idempotency_key)
);

-- Completeness items that have data now: a supplier with a purchase price, and prices in force.
CREATE OR REPLACE FUNCTION merch_product_has_supplier(product_id bigint) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM product_suppliers ps JOIN suppliers s ON s.id = ps.supplier_id
                    WHERE ps.product_id = merch_product_has_supplier.product_id AND s.active)
$$;
CREATE OR REPLACE FUNCTION merch_sku_has_price(sku_id bigint, kind text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM prices p
                    WHERE p.sku_id = merch_sku_has_price.sku_id AND p.kind = merch_sku_has_price.kind
                      AND p.valid_from <= now() AND (p.valid_to IS NULL OR p.valid_to > now()))
$$;

-- Each fact's cost and distribution value: qty × the price of that kind in force on its day (at the last
-- moment of the day, UTC) in its currency; NULL where there is none. Set at upload (re-costed only by
-- merch_rebuild_sales_monthly: a price changed later for past days does not re-cost loaded facts by itself).
ALTER TABLE sales_facts ADD COLUMN cost numeric(20, 4), ADD COLUMN distribution_value numeric(20, 4);

-- The facts summed per month (first day), SKU, channel and currency, moved by every sales upload in its
-- transaction. The *_facts counts tell a sum of no costed/priced facts (NULL in a report) from a zero.
CREATE TABLE sales_monthly (
    month date NOT NULL,
    sku_id bigint NOT NULL,
    channel text NOT NULL,
    currency text NOT NULL,
    facts integer NOT NULL,
    qty bigint NOT NULL,
    revenue numeric(20, 4) NOT NULL,
    cost numeric(20, 4) NOT NULL,
    costed_qty bigint NOT NULL,
    costed_facts integer NOT NULL,
    costed_revenue numeric(20, 4) NOT NULL,
    distribution_value numeric(20, 4) NOT NULL,
    distributed_qty bigint NOT NULL,
    distributed_facts integer NOT NULL,
    CONSTRAINT sales_monthly_pkey PRIMARY KEY (month, sku_id, channel, currency),
    CONSTRAINT sales_monthly_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE RESTRICT,
    -- no sign checks: an upload proposes its deltas (negative for replaced facts) as rows to insert, and
    -- CHECK constraints apply to a proposed row before ON CONFLICT adds it to the existing one
    CONSTRAINT sales_monthly_month_check CHECK (month = date_trunc('month', month)::date)
);
CREATE INDEX sales_monthly_sku_id_month_idx ON sales_monthly (sku_id, month);

-- The amount of a price of one kind for a SKU in a currency in force on a day: at its last moment (UTC).
CREATE OR REPLACE FUNCTION merch_price_on_day(sku_id bigint, kind text, currency text, day date) RETURNS numeric
    LANGUAGE sql STABLE AS $$
    SELECT p.amount FROM prices p
     WHERE p.sku_id = merch_price_on_day.sku_id AND p.kind = merch_price_on_day.kind
       AND p.currency = merch_price_on_day.currency
       AND p.valid_from <= (merch_price_on_day.day + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond'
       AND (p.valid_to IS NULL
            OR p.valid_to > (merch_price_on_day.day + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond')
$$;

-- Re-cost the facts of months from_month..to_month (first days) at the prices in force on their days and
-- recompute their rollup rows from them: after a retroactive price change, and to check the rollup.
CREATE OR REPLACE FUNCTION merch_rebuild_sales_monthly(from_month date, to_month date) RETURNS void
    LANGUAGE sql VOLATILE AS $$
    UPDATE sales_facts f
       SET cost = f.qty * merch_price_on_day(f.sku_id, 'cost', f.currency, f.day),
           distribution_value = f.qty * merch_price_on_day(f.sku_id, 'distribution', f.currency, f.day)
     WHERE f.day >= from_month AND f.day < to_month + interval '1 month';
    DELETE FROM sales_monthly m WHERE m.month >= from_month AND m.month <= to_month;
    INSERT INTO sales_monthly (month, sku_id, channel, currency, facts, qty, revenue, cost, costed_qty, costed_facts,
                               costed_revenue, distribution_value, distributed_qty, distributed_facts)
    SELECT date_trunc('month', f.day)::date, f.sku_id, f.channel, f.currency, count(*), sum(f.qty), sum(f.revenue),
           coalesce(sum(f.cost), 0), coalesce(sum(f.qty) FILTER (WHERE f.cost IS NOT NULL), 0),
           count(f.cost), coalesce(sum(f.revenue) FILTER (WHERE f.cost IS NOT NULL), 0),
           coalesce(sum(f.distribution_value), 0),
           coalesce(sum(f.qty) FILTER (WHERE f.distribution_value IS NOT NULL), 0), count(f.distribution_value)
      FROM sales_facts f
     WHERE f.day >= from_month AND f.day < to_month + interval '1 month'
     GROUP BY 1, f.sku_id, f.channel, f.currency;
$$;

-- What the reports share, once: the products a report covers — under a category path (by home category or
-- a placement in another tree; read from the categories so that the planner sees a small scope for one
-- category), of a role, in a series — and their sales over [p_from, p_to].
CREATE FUNCTION merch_report_products(p_path ltree, p_role bigint, p_series bigint)
RETURNS TABLE (id bigint, code text, category_id bigint, role_id bigint, quality_tags text[])
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.code::text, p.category_id, p.role_id, p.quality_tags
      FROM products p
     WHERE p.id IN (SELECT a.id FROM products a WHERE p_path IS NULL
                    UNION ALL
                    SELECT h.id FROM categories c JOIN products h ON h.category_id = c.id WHERE c.path <@ p_path
                    UNION ALL
                    SELECT pp.product_id FROM categories c JOIN product_placements pp ON pp.category_id = c.id
                     WHERE c.path <@ p_path)
       AND (p_role IS NULL OR p.role_id = p_role)
       AND (p_series IS NULL OR EXISTS (SELECT 1 FROM product_series ps
                                           WHERE ps.product_id = p.id AND ps.series_id = p_series))
$$;

-- Sales of the products of merch_report_products: whole months from the rollup `sales_monthly`, the days of
-- the partial edge months from the facts (with p_rollup false every day from the facts, to check the rollup);
-- one channel or all. Cost and distribution value are NULL where no fact had the price.
CREATE FUNCTION merch_report_sales(p_path ltree, p_role bigint, p_series bigint, p_from date, p_to date,
                                   p_rollup boolean, p_channel text DEFAULT NULL)
RETURNS TABLE (product_id bigint, sku_id bigint, month date, currency text, facts bigint, qty bigint,
               revenue numeric, cost numeric, costed_revenue numeric, distribution_value numeric,
               unpriced_qty bigint)
LANGUAGE sql STABLE AS $$
WITH scope AS (
    SELECT * FROM merch_report_products(p_path, p_role, p_series)
), period AS (
    -- the period's whole months are read from the rollup, the days of its partial edge months — [p_from, lo) and
    -- [hi, p_to] — from the facts (every day from the facts when p_rollup is false)
    SELECT b.lo, greatest(b.lo, b.hi) AS hi
      FROM (SELECT CASE WHEN p_rollup
                        THEN coalesce((date_trunc('month', (p_from - 1)::timestamp) + interval '1 month')::date,
                                      '-infinity'::date)
                        ELSE 'infinity'::date END AS lo,
                   coalesce(date_trunc('month', (p_to + 1)::timestamp)::date, 'infinity'::date) AS hi) b
)
    SELECT s.product_id, m.sku_id, m.month, m.currency, m.facts::bigint, m.qty, m.revenue::numeric AS revenue,
           CASE WHEN m.costed_facts > 0 THEN m.cost::numeric END AS cost,
           CASE WHEN m.costed_facts > 0 THEN m.costed_revenue::numeric END AS costed_revenue,
           CASE WHEN m.distributed_facts > 0 THEN m.distribution_value::numeric END AS distribution_value,
           m.qty - m.distributed_qty AS unpriced_qty
      FROM scope sp
      JOIN skus s ON s.product_id = sp.id
      JOIN sales_monthly m ON m.sku_id = s.id
     WHERE m.month >= (SELECT lo FROM period) AND m.month < (SELECT hi FROM period)
       AND (p_channel IS NULL OR m.channel = p_channel)
    UNION ALL
    SELECT s.product_id, f.sku_id, date_trunc('month', f.day::timestamp)::date, f.currency, 1::bigint, f.qty::bigint,
           f.revenue::numeric, f.cost::numeric, CASE WHEN f.cost IS NOT NULL THEN f.revenue::numeric END,
           f.distribution_value::numeric, (CASE WHEN f.distribution_value IS NULL THEN f.qty ELSE 0 END)::bigint
      FROM scope sp
      JOIN skus s ON s.product_id = sp.id
      JOIN sales_facts f ON f.sku_id = s.id
     WHERE ((f.day >= coalesce(p_from, '-infinity'::date) AND f.day <= coalesce(p_to, 'infinity'::date)
             AND f.day < (SELECT lo FROM period))
            OR (f.day >= coalesce(p_from, '-infinity'::date) AND f.day <= coalesce(p_to, 'infinity'::date)
                AND f.day >= (SELECT hi FROM period)))
       -- a one-time gate: no facts are scanned when both ranges are empty (a period of whole months)
       AND ((SELECT lo FROM period) > coalesce(p_from, '-infinity'::date)
            OR ((SELECT hi FROM period) <= coalesce(p_to, 'infinity'::date)
                AND (SELECT hi FROM period) <> 'infinity'::date))
       AND (p_channel IS NULL OR f.channel = p_channel)
$$;
