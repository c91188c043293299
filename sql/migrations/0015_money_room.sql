-- Room for what money columns derive: a day's cost is its units (up to 2×10^9) times a cost price (below 10^12,
-- domain/money.py), and the rollups sum days and SKUs — numeric(20, 4) overflowed (a price correction that
-- re-costed such a day was a 500). Same scale, more digits: PostgreSQL changes the type without rewriting the
-- tables (numeric's length coercion is a no-op when the scale stays and the precision grows).
ALTER TABLE sales_facts
    ALTER COLUMN cost TYPE numeric(38, 4),
    ALTER COLUMN distribution_value TYPE numeric(38, 4);
ALTER TABLE sales_monthly
    ALTER COLUMN revenue TYPE numeric(38, 4),
    ALTER COLUMN cost TYPE numeric(38, 4),
    ALTER COLUMN costed_revenue TYPE numeric(38, 4),
    ALTER COLUMN distribution_value TYPE numeric(38, 4);
ALTER TABLE sales_sku_totals
    ALTER COLUMN revenue TYPE numeric(38, 4),
    ALTER COLUMN cost TYPE numeric(38, 4),
    ALTER COLUMN costed_revenue TYPE numeric(38, 4),
    ALTER COLUMN distribution_value TYPE numeric(38, 4);
