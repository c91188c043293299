-- Promotion outcomes kept (issue 14): the read model behind GET /v1/reports/promotion-roi. The report read
-- every promoted SKU's and every neighbour's daily facts over the promotion's days and its baseline at each
-- request (79.8 s for the whole tree of the 1M bench database); these tables hold those sums
-- (sql/functions/promotions.sql): writes of facts and products' moves append their deltas to a log the
-- `promotion-outcomes` job folds into the sums (the report adds the log's rows not folded yet); a promotion's
-- edit (dates, baseline rule, spend channel or currency, items), a series change of its scopes or an earlier
-- first day of sales data mark it to be recomputed whole by that job (the report says `recomputing`).

-- Per promotion: the days it covers (UTC), its baseline's (from `baseline_from` to the day before
-- `first_day`: the asked number of days right before it, never before the first day of any sales data) and the
-- facts that count (its currency; its spend channel's only when it names one).
CREATE TABLE promotion_outcomes (
    promotion_id bigint NOT NULL,
    currency text,
    channel text,
    first_day date NOT NULL,
    last_day date NOT NULL,
    baseline_days integer NOT NULL,
    baseline_from date NOT NULL,
    -- which build of its lines and neighbours this is (a log row counts only with the build it was written
    -- against), and whether its sums are computed (false between a recompute's two steps: figures withheld)
    generation bigint NOT NULL DEFAULT 1,
    computed boolean NOT NULL DEFAULT true,
    CONSTRAINT promotion_outcomes_pkey PRIMARY KEY (promotion_id),
    CONSTRAINT promotion_outcomes_promotion_id_fkey FOREIGN KEY (promotion_id) REFERENCES promotions (id)
        ON DELETE CASCADE
);

-- What makes a product a promotion's neighbour: the home categories and series of its items' products
-- (`category`, `series`), and those products themselves, which never are (`product`).
CREATE TABLE promotion_outcome_scopes (
    promotion_id bigint NOT NULL,
    kind text NOT NULL,
    key_id bigint NOT NULL,
    CONSTRAINT promotion_outcome_scopes_pkey PRIMARY KEY (promotion_id, kind, key_id),
    CONSTRAINT promotion_outcome_scopes_promotion_id_fkey FOREIGN KEY (promotion_id)
        REFERENCES promotion_outcomes (promotion_id) ON DELETE CASCADE,
    CONSTRAINT promotion_outcome_scopes_kind_check CHECK (kind IN ('category', 'series', 'product'))
);
CREATE INDEX promotion_outcome_scopes_key_idx ON promotion_outcome_scopes (kind, key_id);

-- Per promotion and item (`sku_id`), and one line for its neighbours (`sku_id` 0: the other listed products of
-- its scopes' categories and series, `neighbours` of them; no line when there is none): the sums of their
-- facts, net of returns, over its days (`units` … `uncosted`: how many facts had no cost) and over its
-- baseline (`baseline_*`). An item's line carries its promotion price and its regular price (the sale price
-- in force when the promotion starts, in its currency).
CREATE TABLE promotion_outcome_lines (
    promotion_id bigint NOT NULL,
    sku_id bigint NOT NULL,
    neighbours integer NOT NULL DEFAULT 0,
    price numeric(18, 4),
    regular numeric(18, 4),
    units bigint NOT NULL DEFAULT 0,
    revenue numeric NOT NULL DEFAULT 0,
    cost numeric NOT NULL DEFAULT 0,
    uncosted integer NOT NULL DEFAULT 0,
    baseline_units bigint NOT NULL DEFAULT 0,
    baseline_revenue numeric NOT NULL DEFAULT 0,
    baseline_cost numeric NOT NULL DEFAULT 0,
    baseline_uncosted integer NOT NULL DEFAULT 0,
    CONSTRAINT promotion_outcome_lines_pkey PRIMARY KEY (promotion_id, sku_id),
    CONSTRAINT promotion_outcome_lines_promotion_id_fkey FOREIGN KEY (promotion_id)
        REFERENCES promotion_outcomes (promotion_id) ON DELETE CASCADE
);
-- (a written fact finds the item lines of its SKU)
CREATE INDEX promotion_outcome_lines_sku_id_idx ON promotion_outcome_lines (sku_id) WHERE sku_id <> 0;

-- The SKUs of each promotion's neighbours (what a written fact looks up to find the neighbours' lines it feeds,
-- by its SKU alone): kept with the scopes (a recompute), the products' category and lifecycle, and their SKUs.
CREATE TABLE promotion_outcome_neighbours (
    sku_id bigint NOT NULL,
    promotion_id bigint NOT NULL,
    CONSTRAINT promotion_outcome_neighbours_pkey PRIMARY KEY (sku_id, promotion_id),
    CONSTRAINT promotion_outcome_neighbours_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE CASCADE,
    CONSTRAINT promotion_outcome_neighbours_promotion_id_fkey FOREIGN KEY (promotion_id)
        REFERENCES promotion_outcomes (promotion_id) ON DELETE CASCADE
);
CREATE INDEX promotion_outcome_neighbours_promotion_id_idx ON promotion_outcome_neighbours (promotion_id);

-- Deltas not folded into promotion_outcome_lines yet (the `promotion-outcomes` job folds them): + new − old facts
-- written, ± a neighbour and its sums, or an item to reprice (`reprice`: its regular price read again), each
-- against the build (`generation`) of its promotion's lines it found. Appended by writers (no key, no foreign
-- key, no index the writers' statements read: an INSERT and nothing else); the report adds the rows of each
-- promotion's current build.
CREATE TABLE promotion_outcome_log (
    promotion_id bigint NOT NULL,
    sku_id bigint NOT NULL,
    generation bigint NOT NULL,
    reprice boolean NOT NULL DEFAULT false,
    neighbours integer NOT NULL DEFAULT 0,
    units bigint NOT NULL DEFAULT 0,
    revenue numeric NOT NULL DEFAULT 0,
    cost numeric NOT NULL DEFAULT 0,
    uncosted integer NOT NULL DEFAULT 0,
    baseline_units bigint NOT NULL DEFAULT 0,
    baseline_revenue numeric NOT NULL DEFAULT 0,
    baseline_cost numeric NOT NULL DEFAULT 0,
    baseline_uncosted integer NOT NULL DEFAULT 0
);
CREATE INDEX promotion_outcome_log_promotion_id_idx ON promotion_outcome_log (promotion_id);

-- Promotions to recompute whole (one row per mark; the job takes the marks it saw).
CREATE TABLE promotion_outcome_stale (
    id bigint GENERATED ALWAYS AS IDENTITY,
    promotion_id bigint NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT promotion_outcome_stale_pkey PRIMARY KEY (id)
);
CREATE INDEX promotion_outcome_stale_promotion_id_idx ON promotion_outcome_stale (promotion_id);

-- The job that folds the log and recomputes the marked promotions (queued, coalesced, by the writers).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('recompute-completeness', 'refresh-models', 'import-products', 'import-skus', 'import-prices',
                    'import-stock', 'import-categories', 'import-attributes', 'import-attribute_sets',
                    'import-supplier_terms', 'promotion-outcomes'));

-- The backfill, set-based: the same computation as merch_refresh_promotion_outcomes (merch_net written out:
-- routines are created after the migrations).
INSERT INTO promotion_outcomes (promotion_id, currency, channel, first_day, last_day, baseline_days, baseline_from)
SELECT pr.id,
       coalesce(pr.spend_currency, (SELECT min(pi.currency) FROM promotion_items pi WHERE pi.promotion_id = pr.id)),
       pr.spend_channel, w.first_day, w.last_day, w.asked,
       greatest(w.first_day - w.asked, coalesce((SELECT min(f.day) FROM sales_facts f), w.first_day))
  FROM promotions pr
 CROSS JOIN LATERAL (SELECT (pr.starts_at AT TIME ZONE 'UTC')::date AS first_day,
                            ((pr.ends_at - interval '1 microsecond') AT TIME ZONE 'UTC')::date AS last_day) d
 CROSS JOIN LATERAL (SELECT d.first_day, d.last_day,
                            coalesce(pr.baseline_days, d.last_day - d.first_day + 1) AS asked) w;

INSERT INTO promotion_outcome_scopes (promotion_id, kind, key_id)
SELECT DISTINCT i.promotion_id, k.kind, k.key_id
  FROM promotion_items i
  JOIN skus s ON s.id = i.sku_id
  JOIN products p ON p.id = s.product_id
 CROSS JOIN LATERAL (SELECT 'product' AS kind, p.id AS key_id
                     UNION ALL SELECT 'category', p.category_id
                     UNION ALL SELECT 'series', ps.series_id FROM product_series ps WHERE ps.product_id = p.id) k;

INSERT INTO promotion_outcome_lines (promotion_id, sku_id, price, regular, units, revenue, cost, uncosted,
                                     baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
SELECT o.promotion_id, i.sku_id, i.price,
       (SELECT pz.amount FROM prices pz
         WHERE pz.sku_id = i.sku_id AND pz.kind = 'sale' AND pz.currency = o.currency
           AND pz.valid_from <= pr.starts_at AND (pz.valid_to IS NULL OR pz.valid_to > pr.starts_at)),
       x.units, x.revenue, x.cost, x.uncosted, x.baseline_units, x.baseline_revenue, x.baseline_cost,
       x.baseline_uncosted
  FROM promotion_outcomes o
  JOIN promotions pr ON pr.id = o.promotion_id
  JOIN promotion_items i ON i.promotion_id = o.promotion_id
 CROSS JOIN LATERAL (
       SELECT coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day >= o.first_day), 0) AS units,
              coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day >= o.first_day), 0) AS revenue,
              coalesce(sum(CASE WHEN f.returned_qty = 0 THEN f.cost ELSE round(f.cost * (f.qty - f.returned_qty) / f.qty, 4) END) FILTER (WHERE f.day >= o.first_day), 0) AS cost,
              count(*) FILTER (WHERE f.day >= o.first_day AND f.cost IS NULL) AS uncosted,
              coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day < o.first_day), 0) AS baseline_units,
              coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day < o.first_day), 0) AS baseline_revenue,
              coalesce(sum(CASE WHEN f.returned_qty = 0 THEN f.cost ELSE round(f.cost * (f.qty - f.returned_qty) / f.qty, 4) END) FILTER (WHERE f.day < o.first_day), 0)
                  AS baseline_cost,
              count(*) FILTER (WHERE f.day < o.first_day AND f.cost IS NULL) AS baseline_uncosted
         FROM sales_facts f
        WHERE f.sku_id = i.sku_id AND f.currency = o.currency AND f.day >= o.baseline_from
          AND f.day <= o.last_day AND (o.channel IS NULL OR f.channel = o.channel)) x;

INSERT INTO promotion_outcome_lines (promotion_id, sku_id, neighbours, units, revenue, cost, uncosted,
                                     baseline_units, baseline_revenue, baseline_cost, baseline_uncosted)
SELECT o.promotion_id, 0, count(*), sum(x.units), sum(x.revenue), sum(x.cost), sum(x.uncosted),
       sum(x.baseline_units), sum(x.baseline_revenue), sum(x.baseline_cost), sum(x.baseline_uncosted)
  FROM (SELECT sc.promotion_id, p.id AS product_id
          FROM promotion_outcome_scopes sc JOIN products p ON p.category_id = sc.key_id
         WHERE sc.kind = 'category'
        UNION
        SELECT sc.promotion_id, ps.product_id
          FROM promotion_outcome_scopes sc JOIN product_series ps ON ps.series_id = sc.key_id
         WHERE sc.kind = 'series') n
  JOIN products p ON p.id = n.product_id AND p.lifecycle = 'listed'
  JOIN promotion_outcomes o ON o.promotion_id = n.promotion_id
 CROSS JOIN LATERAL (
       SELECT coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day >= o.first_day), 0) AS units,
              coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day >= o.first_day), 0) AS revenue,
              coalesce(sum(CASE WHEN f.returned_qty = 0 THEN f.cost ELSE round(f.cost * (f.qty - f.returned_qty) / f.qty, 4) END) FILTER (WHERE f.day >= o.first_day), 0) AS cost,
              count(*) FILTER (WHERE f.day >= o.first_day AND f.cost IS NULL) AS uncosted,
              coalesce(sum(f.qty - f.returned_qty) FILTER (WHERE f.day < o.first_day), 0) AS baseline_units,
              coalesce(sum(f.revenue - f.refunded) FILTER (WHERE f.day < o.first_day), 0) AS baseline_revenue,
              coalesce(sum(CASE WHEN f.returned_qty = 0 THEN f.cost ELSE round(f.cost * (f.qty - f.returned_qty) / f.qty, 4) END) FILTER (WHERE f.day < o.first_day), 0)
                  AS baseline_cost,
              count(*) FILTER (WHERE f.day < o.first_day AND f.cost IS NULL) AS baseline_uncosted
         FROM skus s JOIN sales_facts f ON f.sku_id = s.id
        WHERE s.product_id = n.product_id AND f.currency = o.currency AND f.day >= o.baseline_from
          AND f.day <= o.last_day AND (o.channel IS NULL OR f.channel = o.channel)) x
 WHERE NOT EXISTS (SELECT 1 FROM promotion_outcome_scopes i
                    WHERE i.promotion_id = n.promotion_id AND i.kind = 'product' AND i.key_id = n.product_id)
 GROUP BY o.promotion_id;

INSERT INTO promotion_outcome_neighbours (sku_id, promotion_id)
SELECT s.id, n.promotion_id
  FROM (SELECT sc.promotion_id, p.id AS product_id
          FROM promotion_outcome_scopes sc JOIN products p ON p.category_id = sc.key_id
         WHERE sc.kind = 'category'
        UNION
        SELECT sc.promotion_id, ps.product_id
          FROM promotion_outcome_scopes sc JOIN product_series ps ON ps.series_id = sc.key_id
         WHERE sc.kind = 'series') n
  JOIN products p ON p.id = n.product_id AND p.lifecycle = 'listed'
  JOIN skus s ON s.product_id = n.product_id
 WHERE NOT EXISTS (SELECT 1 FROM promotion_outcome_scopes i
                    WHERE i.promotion_id = n.promotion_id AND i.kind = 'product' AND i.key_id = n.product_id);
