-- Prices: the price of a kind on a day, and the read model prices_in_force — per SKU and currency, the sale,
-- distribution and cost price in force, with the SKU's code, product, home category and role, and when the
-- row goes stale (the next moment a period of the SKU in that currency starts or ends). The refresh point
-- keeps it (model `prices`: written prices, products that change category or role, and rows gone stale);
-- readers go through merch_prices_in_force_now(), which recomputes a stale row from the history itself.

-- The amount of a price of one kind for a SKU in a currency in force on a day: at its last moment (UTC).
CREATE FUNCTION merch_price_on_day(sku_id bigint, kind text, currency text, day date) RETURNS numeric
    LANGUAGE sql STABLE AS $$
    SELECT p.amount FROM prices p
     WHERE p.sku_id = merch_price_on_day.sku_id AND p.kind = merch_price_on_day.kind
       AND p.currency = merch_price_on_day.currency
       AND p.valid_from <= (merch_price_on_day.day + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond'
       AND (p.valid_to IS NULL
            OR p.valid_to > (merch_price_on_day.day + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond')
$$;

-- Recompute the rows of the given SKUs as of p_at, one per currency the SKU has ever been priced in (all
-- amounts NULL when none is in force). Set-based; the `prices` model of the refresh point.
CREATE FUNCTION merch_refresh_prices_in_force(p_skus bigint[], p_at timestamptz) RETURNS void
LANGUAGE sql AS $$
    WITH fresh AS (
        SELECT pr.sku_id, pr.currency,
               max(pr.amount) FILTER (WHERE pr.kind = 'sale' AND pr.in_force) AS sale,
               max(pr.amount) FILTER (WHERE pr.kind = 'distribution' AND pr.in_force) AS distribution,
               max(pr.amount) FILTER (WHERE pr.kind = 'cost' AND pr.in_force) AS cost,
               least(min(pr.valid_from) FILTER (WHERE pr.valid_from > p_at),
                     min(pr.valid_to) FILTER (WHERE pr.valid_to > p_at)) AS stale_at
          FROM (SELECT p.*, p.valid_from <= p_at AND (p.valid_to IS NULL OR p.valid_to > p_at) AS in_force
                  FROM prices p WHERE p.sku_id = ANY (p_skus)) pr
         GROUP BY pr.sku_id, pr.currency
    ), placed AS (
        SELECT x.*, s.sku, s.product_id, p.category_id, p.role_id
          FROM fresh x JOIN skus s ON s.id = x.sku_id JOIN products p ON p.id = s.product_id
    ), gone AS (
        DELETE FROM prices_in_force f
         WHERE f.sku_id = ANY (p_skus)
           AND NOT EXISTS (SELECT 1 FROM fresh x WHERE x.sku_id = f.sku_id AND x.currency = f.currency)
    )
    INSERT INTO prices_in_force (sku_id, currency, sku, product_id, category_id, role_id, sale, distribution, cost,
                                 computed_at, stale_at)
    SELECT sku_id, currency, sku, product_id, category_id, role_id, sale, distribution, cost, p_at, stale_at
      FROM placed
     ORDER BY sku_id, currency  -- key order: concurrent refreshes never deadlock on each other's rows
    ON CONFLICT (sku_id, currency) DO UPDATE
       SET sale = EXCLUDED.sale, distribution = EXCLUDED.distribution, cost = EXCLUDED.cost,
           product_id = EXCLUDED.product_id, category_id = EXCLUDED.category_id, role_id = EXCLUDED.role_id,
           computed_at = EXCLUDED.computed_at, stale_at = EXCLUDED.stale_at;
$$;

-- Recompute the prices_in_force rows of every SKU of some products, now, after locking their rows.
CREATE FUNCTION merch_refresh_product_prices(p_products bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_skus bigint[] := ARRAY(SELECT s.id FROM skus s WHERE s.product_id = ANY (p_products) ORDER BY s.id);
BEGIN
    PERFORM 1 FROM prices_in_force f WHERE f.sku_id = ANY (v_skus) ORDER BY f.sku_id, f.currency FOR UPDATE;
    PERFORM merch_refresh_prices_in_force(v_skus, clock_timestamp());
END
$$;

-- The prices in force now per SKU and currency (SKUs with at least one) of the products p_products (NULL:
-- all), with the SKU's product, home category and role: the rows of prices_in_force, a stale one recomputed
-- from the history for its SKU and currency (one index probe). Given products are read by index.
CREATE FUNCTION merch_prices_in_force_now(p_products bigint[])
RETURNS TABLE (sku_id bigint, currency text, sku text, product_id bigint, category_id bigint, role_id bigint,
               sale numeric, distribution numeric, cost numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH rows AS NOT MATERIALIZED (
        SELECT f.* FROM prices_in_force f WHERE p_products IS NULL
        UNION ALL
        SELECT f.* FROM prices_in_force f WHERE f.product_id = ANY (p_products)
    )
    SELECT f.sku_id, f.currency, f.sku, f.product_id, f.category_id, f.role_id, f.sale::numeric,
           f.distribution::numeric, f.cost::numeric
      FROM rows f
     WHERE (f.stale_at IS NULL OR f.stale_at > statement_timestamp())
       AND (f.sale IS NOT NULL OR f.distribution IS NOT NULL OR f.cost IS NOT NULL)
    UNION ALL
    SELECT f.sku_id, f.currency, f.sku, f.product_id, f.category_id, f.role_id, x.sale, x.distribution, x.cost
      FROM rows f
     CROSS JOIN LATERAL (
        SELECT max(pr.amount) FILTER (WHERE pr.kind = 'sale') AS sale,
               max(pr.amount) FILTER (WHERE pr.kind = 'distribution') AS distribution,
               max(pr.amount) FILTER (WHERE pr.kind = 'cost') AS cost
          FROM prices pr
         WHERE pr.sku_id = f.sku_id AND pr.currency = f.currency AND pr.valid_from <= statement_timestamp()
           AND (pr.valid_to IS NULL OR pr.valid_to > statement_timestamp())) x
     WHERE f.stale_at <= statement_timestamp()
       AND (x.sale IS NOT NULL OR x.distribution IS NOT NULL OR x.cost IS NOT NULL)
$$;

-- The same at another moment, from the price history.
CREATE FUNCTION merch_prices_in_force_at(p_at timestamptz)
RETURNS TABLE (sku_id bigint, currency text, sku text, product_id bigint, category_id bigint, role_id bigint,
               sale numeric, distribution numeric, cost numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT h.sku_id, h.currency, s.sku::text, s.product_id, p.category_id, p.role_id, h.sale, h.distribution, h.cost
      FROM (SELECT pr.sku_id, pr.currency,
                   max(pr.amount) FILTER (WHERE pr.kind = 'sale') AS sale,
                   max(pr.amount) FILTER (WHERE pr.kind = 'distribution') AS distribution,
                   max(pr.amount) FILTER (WHERE pr.kind = 'cost') AS cost
              FROM prices pr
             WHERE pr.valid_from <= p_at AND (pr.valid_to IS NULL OR pr.valid_to > p_at)
             GROUP BY pr.sku_id, pr.currency) h
      JOIN skus s ON s.id = h.sku_id
      JOIN products p ON p.id = s.product_id
$$;
