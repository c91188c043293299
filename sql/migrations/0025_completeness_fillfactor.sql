-- Room on each page of product_completeness for its rows' next versions (HOT updates). Every recompute and rebuild
-- rewrites every product's row (its computed_at at least), and with full pages each new version went to another
-- page with new entries in every index: on the 1M bench database the table had grown to 5,064 MB for 994,064 rows
-- (751 MB compacted), and the purchasing scorecard and the assortment report, which read it, slowed by up to 2×.
-- Measured there (two full recomputes back to back, no vacuum between): at fillfactor 100, 2 % of the updates HOT,
-- the heap +499 MB and +481 MB, the indexes 56 → 142 MB; at 70, 52 % then 79 % HOT, the heap +419 MB then
-- +196 MB, the indexes 56 → 117 MB. Applies to pages written from now on (a VACUUM FULL or CLUSTER applies it
-- to the rest).
ALTER TABLE product_completeness SET (fillfactor = 70);
