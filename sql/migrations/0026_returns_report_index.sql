-- What the returns report reads of each return (GET /v1/reports/returns, and the units sold back it adds to the
-- rollup's net units), in one narrow index: an index-only scan of 61 MB instead of the 149 MB table on the 1M bench
-- database (1.3M returns), and, for a category, the returns of its SKUs without a visit to the table. Built in
-- 0.7 s there. Measured there (main's statements, load 2, before / with it / with it / dropped again): returns by
-- reason 1,700 → 1,240, 1,259 → 1,656 ms; by product 4,405 → 3,885, 3,833 → 4,223 ms (whole tree, median of 3).
-- Index-only scans need the table's visibility map set; returns are only inserted, so autovacuum's insert threshold
-- keeps it set.
CREATE INDEX sales_returns_report_idx ON sales_returns (sku_id)
    INCLUDE (reason_id, qty, resellable, sale_day, returned_on);
