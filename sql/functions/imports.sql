-- Imports: applying a chunk of checked, staged product rows set-based (one call per chunk, never a statement
-- per row). The rows were checked by the API's own rules when they were uploaded (domain/imports); here they
-- are compared with what is stored, and only rows that change something are written — an identical row
-- keeps the product's version and leaves no audit record. Derived data follows through the refresh point
-- (the products' statement triggers), like any other write, brought up to date chunk by chunk.

-- Statistics that know this transaction's own rows. A large all_or_nothing import is one transaction, and its
-- rows are invisible to every other session until it commits: an ANALYZE of a table the import fills — autovacuum's,
-- of a catalog emptied or empty before it — counts them as nothing, and the planner, reading "no rows" over
-- thousands of pages, plans a join over the import's own rows as a nested loop over a table of one row: quadratic
-- in them (100,000 products: a chunk's lock of its products over 170 s, the derived data's refresh over 250 s).
-- An ANALYZE in this transaction sees its own rows, and holds the table's SHARE UPDATE EXCLUSIVE lock until the
-- commit, so that autovacuum (which skips a locked table) cannot count them as nothing again meanwhile; writes
-- (ROW EXCLUSIVE) never wait on that lock — another ANALYZE does, another large import's among them.
-- So: the tables into which this transaction has put at least p_min rows more than it removed are analysed
-- where those rows outnumber what another session's ANALYZE would count — the table's rows at its last
-- ANALYZE or its committed live rows now (a catalog emptied since: the statistics still say full), whichever
-- is fewer —, or, once analysed here, where the planner's estimate (its density times the pages the table has
-- now) fell below half of them. Not the audit log nor the staged rows: no statement of an import plans over the
-- one, and the other's rows were committed by the upload (another session's ANALYZE counts them); each ANALYZE
-- of theirs cost ~0.1 s a chunk. Each table's row count is what matters, and the statistics of the columns its
-- joins and bounds go through: the columns of its btree indexes are analysed, not its documents (a jsonb
-- column's statistics were most of the cost: products 0.27 s whole against 0.05 s so, product_completeness
-- 0.63 s against a few ms, storefront_products 0.26 s against 0.02 s); autovacuum analyses the whole table
-- once the import has committed. Answers the tables analysed (NULL: none).
CREATE FUNCTION merch_analyze_own_rows(p_min bigint) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    v_tables text[];
    v_targets text[];
BEGIN
    WITH own AS MATERIALIZED (
        SELECT x.relid, x.n_tup_ins - x.n_tup_del AS rows
          FROM pg_stat_xact_user_tables x
         WHERE x.n_tup_ins - x.n_tup_del >= p_min
    )
    SELECT array_agg(format('%I.%I', n.nspname, c.relname) ORDER BY c.oid),
           array_agg(format('%I.%I', n.nspname, c.relname)
                     || coalesce(' (' || (SELECT string_agg(DISTINCT quote_ident(a.attname), ', ')
                                            FROM pg_index i
                                            JOIN pg_class ic ON ic.oid = i.indexrelid
                                            JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
                                            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
                                                               AND a.attnum > 0
                                           WHERE i.indrelid = c.oid) || ')', '')
                     ORDER BY c.oid)
      INTO v_tables, v_targets
      FROM own
      JOIN pg_class c ON c.oid = own.relid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND c.relname NOT IN ('audit_log', 'import_rows')
       AND CASE WHEN EXISTS (SELECT 1 FROM pg_locks l
                              WHERE l.locktype = 'relation' AND l.relation = c.oid AND l.pid = pg_backend_pid()
                                AND l.mode = 'ShareUpdateExclusiveLock' AND l.granted)
                THEN c.relpages > 0 AND c.reltuples >= 0
                     AND c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::bigint)
                         < own.rows / 2
                ELSE least(greatest(c.reltuples, 0), pg_stat_get_live_tuples(c.oid)) < own.rows END;
    IF v_tables IS NOT NULL THEN
        EXECUTE 'ANALYZE ' || array_to_string(v_targets, ', ');
    END IF;
    RETURN v_tables;
END
$$;

-- Statistics of the staging table for import p_job before its runner reads its rows: an upload of thousands of
-- rows under a job id the statistics have never seen is planned as a handful, and the statements that settle
-- staged rows (prices' above all) then nest loops over them — 1.4 s for 1,000 price rows, 22 s for 4,000, past
-- the statement timeout for 23,400; 1.0 s for those after an ANALYZE. A job of at least p_min rows has the
-- table analysed (a sample: well under a second) — autovacuum would, a minute after the upload, too late.
-- Answers whether it did.
CREATE FUNCTION merch_analyze_staged(p_job bigint, p_min integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM (SELECT 1 FROM import_rows WHERE job_id = p_job LIMIT p_min) AS staged) < p_min THEN
        RETURN false;
    END IF;
    ANALYZE import_rows;
    RETURN true;
END
$$;

-- The first staged attribute value (by line, then attribute code) the API would refuse now: its attribute gone
-- or out of the set of the row's category (bound to it or an ancestor), not the JSON type of its kind, or a
-- select's option (any of a multiselect's options) no longer defined. The re-check of products' and SKUs'
-- staged rows at apply time, set-based: the values as four parallel arrays (line, category, attribute code,
-- value). Whether a value fits its set and type depends on its category, attribute and JSON type alone, and an
-- option on its attribute and code alone: each such kind is checked once, at the first line it is on (a
-- chunk's 50,000 values are a few thousand kinds), and the first misfit of all is the first of those kinds'
-- first lines. No row: everything still fits.
CREATE FUNCTION merch_import_first_misfit(
    p_lines integer[], p_categories bigint[], p_keys text[], p_values jsonb[], OUT line integer, OUT key text
) LANGUAGE sql STABLE AS $$
    WITH vals AS MATERIALIZED (
        SELECT * FROM unnest(p_lines, p_categories, p_keys, p_values) AS v(line, category_id, key, value)
    ), kinds AS (
        SELECT min(v.line) AS line, v.category_id, v.key, jsonb_typeof(v.value) AS json_type
          FROM vals v GROUP BY v.category_id, v.key, jsonb_typeof(v.value)
    ), allowed AS (
        SELECT DISTINCT c.id AS category_id, ca.attribute_id
          FROM categories c
          JOIN categories anc ON anc.path @> c.path
          JOIN category_attributes ca ON ca.category_id = anc.id
         WHERE c.id IN (SELECT DISTINCT category_id FROM kinds)
    ), named AS (
        -- each option a select's or multiselect's value of its JSON type names (one of another type is a
        -- misfit of its kind already), at the first line it is on
        SELECT min(v.line) AS line, v.key, a.id, o.code
          FROM vals v
          JOIN attributes a ON a.code = v.key AND a.type IN ('select', 'multiselect')
         CROSS JOIN LATERAL (SELECT v.value #>> '{}' WHERE a.type = 'select' AND jsonb_typeof(v.value) = 'string'
                             UNION ALL
                             SELECT e FROM jsonb_array_elements_text(
                                 CASE WHEN a.type = 'multiselect' AND jsonb_typeof(v.value) = 'array' THEN v.value END) e
                            ) o(code)
         GROUP BY v.key, a.id, o.code
    ), misfits AS (
        SELECT k.line, k.key
          FROM kinds k
          LEFT JOIN attributes a ON a.code = k.key
          LEFT JOIN allowed al ON al.category_id = k.category_id AND al.attribute_id = a.id
         WHERE al.attribute_id IS NULL
            OR k.json_type IS DISTINCT FROM CASE a.type WHEN 'integer' THEN 'number' WHEN 'boolean' THEN 'boolean'
                                                        WHEN 'multiselect' THEN 'array' WHEN 'measurement' THEN 'object'
                                                        ELSE 'string' END
        UNION ALL
        SELECT n.line, n.key
          FROM named n
         WHERE NOT EXISTS (SELECT 1 FROM attribute_options x WHERE x.attribute_id = n.id AND x.code = n.code)
    )
    SELECT m.line, m.key FROM misfits m ORDER BY m.line, m.key LIMIT 1
$$;

-- Apply the staged rows of import p_job with lines in [p_from, p_to): create the new products, replace those
-- that differ, skip identical ones; audit each product written (naming the import). An actor who cannot see
-- confidential values (p_confidential false) keeps the stored ones, as a PUT does. Existing products are
-- locked in id order first. Answers how many were created, updated and left unchanged.
-- p_during_upload: a chunk of an all_or_nothing import applied while the rest of its file is still being read
-- (domain/imports/overlap.py). Then it creates products only — when one of the chunk's codes is stored it does
-- nothing and answers NULLs (a stored product's row lock would be held across the upload, and an API write of it
-- would wait) — and leaves their derived data to the next call's refresh, after the upload (the refresh writes
-- rows other writers share: the storefront's known words).
CREATE FUNCTION merch_import_products(
    p_job bigint, p_from integer, p_to integer, p_actor text, p_confidential boolean,
    p_during_upload boolean DEFAULT false, OUT created integer, OUT updated integer, OUT unchanged integer
) LANGUAGE plpgsql AS $$
DECLARE
    v_line integer;
    v_attribute text;
BEGIN
    -- The chunk's good rows, their documents parsed once (each statement below read them as text and parsed
    -- them again: ~25 µs a row each time).
    CREATE TEMP TABLE IF NOT EXISTS merch_import_staged (
        line integer, code text, category_id bigint, role_id bigint, tree_ids bigint[], placement_ids bigint[],
        series_ids bigint[], doc jsonb
    ) ON COMMIT DROP;
    TRUNCATE merch_import_staged;
    INSERT INTO merch_import_staged (line, code, category_id, role_id, tree_ids, placement_ids, series_ids, doc)
    SELECT r.line, r.code, r.category_id, r.role_id, r.tree_ids, r.placement_ids, r.series_ids, r.doc::jsonb
      FROM import_rows r
     WHERE r.job_id = p_job AND r.line >= p_from AND r.line < p_to AND r.ok;
    IF p_during_upload AND EXISTS (SELECT 1 FROM merch_import_staged r JOIN products p ON p.code = r.code) THEN
        RETURN;  -- (NULLs: nothing done)
    END IF;

    -- The rows were checked by the API's rules when they were uploaded. What may have changed since in a way
    -- that would leave a stored value the API refuses to create — an attribute gone from the home category's
    -- set, an option removed, an attribute's type changed — is checked again here, under the share locks an
    -- API write takes on the attributes it checks (a concurrent change waits for this chunk, or went first).
    PERFORM 1 FROM attributes a
      WHERE a.code IN (SELECT DISTINCT k FROM merch_import_staged r, jsonb_object_keys(r.doc -> 'attributes') k)
      ORDER BY a.id
        FOR SHARE;
    -- (the chunk's 50,000 values passed as a few thousand, each at its first line: what the check reads of a
    -- value is its JSON type, and the options it names when its attribute is a select or multiselect — the
    -- attributes' rows are share-locked above, so the type read here is the type the check reads)
    SELECT m.line, m.key INTO v_line, v_attribute
      FROM (SELECT array_agg(k.line) AS lines, array_agg(k.category_id) AS categories, array_agg(k.key) AS keys,
                   array_agg(k.value) AS vals
              FROM (SELECT min(r.line) AS line, r.category_id, v.key,
                           CASE WHEN a.type IN ('select', 'multiselect') THEN v.value
                                ELSE CASE jsonb_typeof(v.value) WHEN 'string' THEN '""'::jsonb WHEN 'number' THEN '0'
                                                                 WHEN 'boolean' THEN 'false' WHEN 'array' THEN '[]'
                                                                 WHEN 'object' THEN '{}' ELSE 'null' END END AS value
                      FROM merch_import_staged r
                     CROSS JOIN LATERAL jsonb_each(r.doc -> 'attributes') v
                      LEFT JOIN attributes a ON a.code = v.key
                     GROUP BY 2, 3, 4) k) x,
           merch_import_first_misfit(x.lines, x.categories, x.keys, x.vals) m
     WHERE m.line IS NOT NULL;
    IF FOUND THEN
        RAISE EXCEPTION 'line %: attribute % changed since the file was checked (out of the attribute set, an option removed, its type changed); upload the file again',
                        v_line, v_attribute USING ERRCODE = 'check_violation';
    END IF;

    CREATE TEMP TABLE IF NOT EXISTS merch_import_chunk (
        line integer, code text, product_id bigint, is_new boolean, category_id bigint, role_id bigint,
        tree_ids bigint[], placement_ids bigint[], series_ids bigint[], before jsonb, after jsonb
    ) ON COMMIT DROP;
    TRUNCATE merch_import_chunk;

    PERFORM 1 FROM products p
      WHERE p.code IN (SELECT r.code FROM merch_import_staged r)
      ORDER BY p.id
        FOR UPDATE OF p;

    INSERT INTO merch_import_chunk (line, code, product_id, is_new, category_id, role_id, tree_ids, placement_ids,
                                    series_ids, before, after)
    SELECT r.line, r.code, p.id, p.id IS NULL, r.category_id, r.role_id, r.tree_ids, r.placement_ids, r.series_ids,
           d.before,
           CASE WHEN p.id IS NULL OR p_confidential THEN r.doc
                -- what the actor cannot see stays as stored; what it sends wins
                ELSE jsonb_set(r.doc, '{attributes}',
                               (p.attributes - ARRAY(SELECT jsonb_object_keys(merch_visible_attributes(p.attributes, false))))
                               || (r.doc -> 'attributes')) END
      FROM merch_import_staged r
      LEFT JOIN products p ON p.code = r.code
      -- the stored product's writable fields as the API answers them (codes; placements and series sorted
      -- by code): the shape of a staged row's `doc`, so that the two compare as jsonb
      LEFT JOIN LATERAL (
          SELECT jsonb_build_object(
                     'category', c.code,
                     'categories', to_jsonb(ARRAY(SELECT pc.code::text FROM product_placements pp
                                                    JOIN categories pc ON pc.id = pp.category_id
                                                   WHERE pp.product_id = p.id ORDER BY pc.code)),
                     'role', ro.code,
                     'series', to_jsonb(ARRAY(SELECT s.code::text FROM product_series ps
                                                JOIN series s ON s.id = ps.series_id
                                               WHERE ps.product_id = p.id ORDER BY s.code)),
                     'labels', p.labels, 'description', p.description, 'selling_points', p.selling_points,
                     'images', to_jsonb(p.images), 'quality_tags', to_jsonb(p.quality_tags),
                     'attributes', p.attributes) AS before
            FROM categories c, roles ro
           WHERE c.id = p.category_id AND ro.id = p.role_id
      ) d ON true;

    SELECT count(*) FILTER (WHERE NOT is_new AND before = after) INTO unchanged FROM merch_import_chunk;
    DELETE FROM merch_import_chunk WHERE NOT is_new AND before = after;

    WITH ins AS (
        INSERT INTO products (code, category_id, role_id, labels, description, selling_points, images, quality_tags,
                              attributes)
        SELECT c.code, c.category_id, c.role_id, c.after -> 'labels', c.after -> 'description',
               c.after -> 'selling_points', ARRAY(SELECT jsonb_array_elements_text(c.after -> 'images')),
               ARRAY(SELECT jsonb_array_elements_text(c.after -> 'quality_tags')), c.after -> 'attributes'
          FROM merch_import_chunk c
         WHERE c.is_new
         ORDER BY c.line
        RETURNING id, code
    )
    UPDATE merch_import_chunk c SET product_id = ins.id FROM ins WHERE c.code = ins.code AND c.is_new;
    GET DIAGNOSTICS created = ROW_COUNT;

    UPDATE products p
       SET category_id = c.category_id, role_id = c.role_id, labels = c.after -> 'labels',
           description = c.after -> 'description', selling_points = c.after -> 'selling_points',
           images = ARRAY(SELECT jsonb_array_elements_text(c.after -> 'images')),
           quality_tags = ARRAY(SELECT jsonb_array_elements_text(c.after -> 'quality_tags')),
           attributes = c.after -> 'attributes', version = p.version + 1, updated_at = now()
      FROM merch_import_chunk c
     WHERE p.id = c.product_id AND NOT c.is_new;
    GET DIAGNOSTICS updated = ROW_COUNT;

    DELETE FROM product_placements pp
     USING merch_import_chunk c
     WHERE pp.product_id = c.product_id AND NOT c.is_new
       AND c.before -> 'categories' IS DISTINCT FROM c.after -> 'categories';
    INSERT INTO product_placements (product_id, tree_id, category_id)
    SELECT c.product_id, u.tree_id, u.category_id
      FROM merch_import_chunk c, unnest(c.tree_ids, c.placement_ids) AS u(tree_id, category_id)
     WHERE c.is_new OR c.before -> 'categories' IS DISTINCT FROM c.after -> 'categories';

    DELETE FROM product_series ps
     USING merch_import_chunk c
     WHERE ps.product_id = c.product_id AND NOT c.is_new
       AND c.before -> 'series' IS DISTINCT FROM c.after -> 'series';
    INSERT INTO product_series (product_id, series_id)
    SELECT c.product_id, u.series_id
      FROM merch_import_chunk c, unnest(c.series_ids) AS u(series_id)
     WHERE c.is_new OR c.before -> 'series' IS DISTINCT FROM c.after -> 'series';

    -- One audit record per product written, as the API records it: a creation lists every field (with the
    -- code and the lifecycle), an update the fields that changed. (A creation's record is built field by field:
    -- a staged row's `doc` holds every writable field, always — plan_product's `values` —, and an aggregate
    -- over its fields cost twice as much.)
    INSERT INTO audit_log (actor, action, entity, code, version, changes, import_id)
    SELECT p_actor, CASE WHEN c.is_new THEN 'create' ELSE 'update' END, 'product', c.code, p.version,
           CASE WHEN c.is_new THEN jsonb_build_object(
                'code', jsonb_build_object('before', NULL, 'after', c.code),
                'lifecycle', jsonb_build_object('before', NULL, 'after', 'draft'),
                'category', jsonb_build_object('before', NULL, 'after', c.after -> 'category'),
                'categories', jsonb_build_object('before', NULL, 'after', c.after -> 'categories'),
                'role', jsonb_build_object('before', NULL, 'after', c.after -> 'role'),
                'series', jsonb_build_object('before', NULL, 'after', c.after -> 'series'),
                'labels', jsonb_build_object('before', NULL, 'after', c.after -> 'labels'),
                'description', jsonb_build_object('before', NULL, 'after', c.after -> 'description'),
                'selling_points', jsonb_build_object('before', NULL, 'after', c.after -> 'selling_points'),
                'images', jsonb_build_object('before', NULL, 'after', c.after -> 'images'),
                'quality_tags', jsonb_build_object('before', NULL, 'after', c.after -> 'quality_tags'),
                'attributes', jsonb_build_object('before', NULL, 'after', c.after -> 'attributes'))
           ELSE (SELECT coalesce(jsonb_object_agg(k.key, jsonb_build_object('before', c.before -> k.key, 'after', k.value)),
                                 '{}')
                   FROM jsonb_each(c.after) k  -- (each field read once)
                  WHERE c.before -> k.key IS DISTINCT FROM k.value) END,
           p_job
      FROM merch_import_chunk c JOIN products p ON p.id = c.product_id
     ORDER BY c.line;

    -- Derived data of this chunk's products now, through the refresh point (what is recorded after this runs
    -- is refreshed at commit): an all_or_nothing import is one transaction, and a refresh of all its products
    -- at once grows faster than their number (100,000 products: over 15 minutes at commit).
    PERFORM merch_analyze_own_rows(1000);  -- (before the refresh reads the rows this chunk wrote)
    IF NOT p_during_upload THEN
        PERFORM merch_refresh_pending();
    END IF;
END
$$;

-- A chunk applied while the rest of its file is still being read (merch_import_products' p_during_upload): it
-- waits on no other writer for long — a lock it cannot take at once (another upload creating the same codes, an
-- attribute being changed) fails it, and the file is applied after its upload instead.
CREATE FUNCTION merch_import_products_during_upload(
    p_job bigint, p_from integer, p_to integer, p_actor text, p_confidential boolean,
    OUT created integer, OUT updated integer, OUT unchanged integer
) LANGUAGE sql SET lock_timeout = '200ms' AS $$
    SELECT * FROM merch_import_products(p_job, p_from, p_to, p_actor, p_confidential, true)
$$;

-- Apply the staged SKU rows of import p_job with lines in [p_from, p_to): create the new SKUs, replace those
-- that differ, skip identical ones; audit each SKU written (naming the import), as the SKU API does. A row's
-- `doc` is {product, barcode, axes, attributes} as checked against its product's attribute set when it was
-- uploaded (product null: the stored SKU's). Products are locked, then SKUs, each in id order (the API's
-- order: product first). Answers how many were created, updated and left unchanged.
CREATE FUNCTION merch_import_skus(
    p_job bigint, p_from integer, p_to integer, p_actor text,
    OUT created integer, OUT updated integer, OUT unchanged integer
) LANGUAGE plpgsql AS $$
DECLARE
    v_line integer;
    v_what text;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS merch_import_sku_chunk (
        line integer, sku text, sku_id bigint, product_id bigint, category_id bigint, before jsonb, after jsonb
    ) ON COMMIT DROP;
    TRUNCATE merch_import_sku_chunk;

    PERFORM 1 FROM products p
      WHERE p.id IN (SELECT coalesce(np.id, s.product_id)
                       FROM import_rows r
                       LEFT JOIN skus s ON s.sku = r.code
                       LEFT JOIN products np ON np.code = r.doc::jsonb ->> 'product'
                      WHERE r.job_id = p_job AND r.line >= p_from AND r.line < p_to AND r.ok)
      ORDER BY p.id
        FOR NO KEY UPDATE;
    PERFORM 1 FROM skus s
      WHERE s.sku IN (SELECT r.code FROM import_rows r
                       WHERE r.job_id = p_job AND r.line >= p_from AND r.line < p_to AND r.ok)
      ORDER BY s.id
        FOR UPDATE;

    INSERT INTO merch_import_sku_chunk (line, sku, sku_id, product_id, category_id, before, after)
    SELECT r.line, r.code, s.id, p.id, p.category_id,
           CASE WHEN s.id IS NOT NULL THEN jsonb_build_object('product', sp.code, 'barcode', s.barcode, 'axes', s.axes,
                                                              'attributes', s.attributes) END,
           r.doc::jsonb || jsonb_build_object('product', coalesce(p.code, r.doc::jsonb ->> 'product'))
      FROM import_rows r
      LEFT JOIN skus s ON s.sku = r.code
      LEFT JOIN products sp ON sp.id = s.product_id
      LEFT JOIN products p ON p.code = coalesce(r.doc::jsonb ->> 'product', sp.code)
     WHERE r.job_id = p_job AND r.line >= p_from AND r.line < p_to AND r.ok;

    -- What may have changed since the rows were checked in a way the API would refuse now: a product gone, a
    -- SKU moved under the row's product by hand, an axis or override out of the product's attribute set, an
    -- option removed, a type changed (the attribute rows are share-locked, as an API write locks them).
    PERFORM 1 FROM attributes a
      WHERE a.code IN (SELECT DISTINCT k FROM merch_import_sku_chunk c,
                              LATERAL (SELECT jsonb_object_keys(c.after -> 'axes')
                                       UNION SELECT jsonb_object_keys(c.after -> 'attributes')) x(k))
      ORDER BY a.id
        FOR SHARE;
    SELECT c.line, 'product ' || coalesce(c.after ->> 'product', '?') INTO v_line, v_what
      FROM merch_import_sku_chunk c
     WHERE c.product_id IS NULL OR c.before ->> 'product' <> c.after ->> 'product'
     ORDER BY c.line LIMIT 1;
    IF NOT FOUND THEN
        SELECT m.line, 'attribute ' || m.key INTO v_line, v_what
          FROM (SELECT array_agg(c.line) AS lines, array_agg(c.category_id) AS categories, array_agg(v.key) AS keys,
                       array_agg(v.value) AS vals
                  FROM merch_import_sku_chunk c,
                       LATERAL (SELECT * FROM jsonb_each(c.after -> 'axes')
                                UNION ALL SELECT * FROM jsonb_each(c.after -> 'attributes')) v) x,
               merch_import_first_misfit(x.lines, x.categories, x.keys, x.vals) m
         WHERE m.line IS NOT NULL;
    END IF;
    IF v_line IS NOT NULL THEN
        RAISE EXCEPTION 'line %: % changed since the file was checked; upload the file again', v_line, v_what
              USING ERRCODE = 'check_violation';
    END IF;

    SELECT count(*) FILTER (WHERE before = after) INTO unchanged FROM merch_import_sku_chunk;
    DELETE FROM merch_import_sku_chunk WHERE before = after;

    WITH ins AS (
        INSERT INTO skus (sku, product_id, barcode, axes, attributes)
        SELECT c.sku, c.product_id, c.after ->> 'barcode', c.after -> 'axes', c.after -> 'attributes'
          FROM merch_import_sku_chunk c
         WHERE c.sku_id IS NULL
         ORDER BY c.line
        RETURNING id, sku
    )
    UPDATE merch_import_sku_chunk c SET sku_id = ins.id FROM ins WHERE c.sku = ins.sku AND c.before IS NULL;
    GET DIAGNOSTICS created = ROW_COUNT;

    UPDATE skus s
       SET barcode = c.after ->> 'barcode', axes = c.after -> 'axes', attributes = c.after -> 'attributes',
           version = s.version + 1, updated_at = now()
      FROM merch_import_sku_chunk c
     WHERE s.id = c.sku_id AND c.before IS NOT NULL;
    GET DIAGNOSTICS updated = ROW_COUNT;

    -- One audit record per SKU written, as the API records it: a creation lists every field (with the SKU's
    -- code), an update the fields that changed.
    INSERT INTO audit_log (actor, action, entity, code, version, changes, import_id)
    SELECT p_actor, CASE WHEN c.before IS NULL THEN 'create' ELSE 'update' END, 'sku', c.sku, s.version,
           (SELECT coalesce(jsonb_object_agg(k.key, jsonb_build_object('before', c.before -> k.key, 'after', k.value)),
                            '{}')
              FROM jsonb_each(CASE WHEN c.before IS NULL THEN c.after || jsonb_build_object('sku', c.sku)
                                   ELSE c.after END) k  -- (each field read once)
             -- (a field absent before is JSON null, as the API's diff reads it: a new SKU's null barcode is no change)
             WHERE coalesce(c.before -> k.key, 'null') IS DISTINCT FROM k.value),
           p_job
      FROM merch_import_sku_chunk c JOIN skus s ON s.id = c.sku_id
     ORDER BY c.line;

    PERFORM merch_analyze_own_rows(1000);  -- (before the refresh reads the rows this chunk wrote)
    PERFORM merch_refresh_pending();
END
$$;

-- A moment as the API's JSON writes it (RFC 3339 in UTC, `Z`, microseconds only when there are some): the
-- audit records an import writes read as the API's.
CREATE FUNCTION merch_json_moment(p_at timestamptz) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_at IS NULL THEN 'null'::jsonb
                ELSE to_jsonb(to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                              || CASE WHEN extract(microseconds FROM p_at)::bigint % 1000000 = 0 THEN ''
                                      ELSE to_char(p_at AT TIME ZONE 'UTC', '.US') END || 'Z') END
$$;

-- Apply the settled price rows of import p_job with lines in [p_from, p_to) (update_price_import_rows gave
-- each its `starts`, `ends`, `identical` and `first`): the first new row of a SKU, kind and currency closes
-- the stored open-ended period it starts inside, as POST /v1/skus/{sku}/prices does; every new row is
-- recorded; identical rows are left. Audit records as the price API writes them (the closed period an
-- update, the new one a creation), naming the import; sales facts of the days whose cost or distribution
-- price changed are re-costed. Products, then SKUs, are locked in id order (the API's order). Answers how many
-- were created, updated (periods closed) and left unchanged.
CREATE FUNCTION merch_import_prices(
    p_job bigint, p_from integer, p_to integer, p_actor text,
    OUT created integer, OUT updated integer, OUT unchanged integer
) LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS merch_import_price_chunk (
        line integer, sku text, sku_id bigint, kind text, currency text, amount text, starts timestamptz,
        ends timestamptz, first boolean
    ) ON COMMIT DROP;
    TRUNCATE merch_import_price_chunk;

    SELECT count(*) INTO unchanged FROM import_rows r
     WHERE r.job_id = p_job AND r.line >= p_from AND r.line < p_to AND r.ok AND (r.doc::jsonb ->> 'identical')::boolean;
    INSERT INTO merch_import_price_chunk (line, sku, sku_id, kind, currency, amount, starts, ends, first)
    SELECT r.line, r.code, s.id, d ->> 'kind', d ->> 'currency', d ->> 'amount', (d ->> 'starts')::timestamptz,
           (d ->> 'ends')::timestamptz, coalesce((d ->> 'first')::boolean, false)
      FROM import_rows r CROSS JOIN LATERAL (SELECT r.doc::jsonb AS d) x
      LEFT JOIN skus s ON s.sku = r.code
     WHERE r.job_id = p_job AND r.line >= p_from AND r.line < p_to AND r.ok AND NOT (d ->> 'identical')::boolean;
    IF EXISTS (SELECT 1 FROM merch_import_price_chunk WHERE sku_id IS NULL) THEN
        RAISE EXCEPTION 'line %: SKU % is gone since the file was checked; upload the file again',
              (SELECT min(line) FROM merch_import_price_chunk WHERE sku_id IS NULL),
              (SELECT sku FROM merch_import_price_chunk WHERE sku_id IS NULL ORDER BY line LIMIT 1)
              USING ERRCODE = 'check_violation';
    END IF;

    PERFORM 1 FROM products p
      WHERE p.id IN (SELECT s.product_id FROM skus s WHERE s.id IN (SELECT sku_id FROM merch_import_price_chunk))
      ORDER BY p.id
        FOR NO KEY UPDATE;
    PERFORM 1 FROM skus s WHERE s.id IN (SELECT sku_id FROM merch_import_price_chunk) ORDER BY s.id FOR NO KEY UPDATE;

    WITH closed AS (
        UPDATE prices p SET valid_to = c.starts
          FROM merch_import_price_chunk c
         WHERE c.first AND p.sku_id = c.sku_id AND p.kind = c.kind AND p.currency = c.currency
           AND p.valid_to IS NULL AND p.valid_from < c.starts
        RETURNING c.line, c.sku, p.valid_to
    )
    INSERT INTO audit_log (actor, action, entity, code, version, changes, import_id)
    SELECT p_actor, 'update', 'price', x.sku, NULL,
           jsonb_build_object('valid_to', jsonb_build_object('before', NULL, 'after', merch_json_moment(x.valid_to))),
           p_job
      FROM closed x ORDER BY x.line;
    GET DIAGNOSTICS updated = ROW_COUNT;

    -- the EXCLUDE constraint refuses an overlap a concurrent write made since the rows were settled
    INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor)
    SELECT c.sku_id, c.kind, c.currency, c.amount::numeric, c.starts, c.ends, p_actor
      FROM merch_import_price_chunk c ORDER BY c.line;
    GET DIAGNOSTICS created = ROW_COUNT;
    INSERT INTO audit_log (actor, action, entity, code, version, changes, import_id)
    SELECT p_actor, 'create', 'price', c.sku, NULL,
           (SELECT jsonb_object_agg(k, jsonb_build_object('before', NULL, 'after', v))
              FROM jsonb_each(jsonb_build_object('sku', c.sku, 'kind', c.kind, 'amount', c.amount,
                                                 'currency', c.currency, 'valid_from', merch_json_moment(c.starts),
                                                 'valid_to', merch_json_moment(c.ends))) e(k, v)
             WHERE v <> 'null'),
           p_job
      FROM merch_import_price_chunk c ORDER BY c.line;

    -- Sales facts are costed at the cost and distribution prices of their days: where those changed, so are
    -- they (from the earliest day a new price of the SKU and currency starts; locked in key order).
    WITH since AS (
        SELECT c.sku_id, c.currency, (min(c.starts) AT TIME ZONE 'UTC')::date AS day
          FROM merch_import_price_chunk c
         WHERE c.kind IN ('cost', 'distribution')
         GROUP BY c.sku_id, c.currency
    ), fresh AS (
        SELECT f.day, f.sku_id, f.channel,
               f.qty * merch_price_on_day(f.sku_id, 'cost', f.currency, f.day) AS cost,
               f.qty * merch_price_on_day(f.sku_id, 'distribution', f.currency, f.day) AS distribution_value
          FROM sales_facts f JOIN since x ON x.sku_id = f.sku_id AND x.currency = f.currency AND f.day >= x.day
         ORDER BY f.day, f.sku_id, f.channel
           FOR UPDATE OF f
    )
    UPDATE sales_facts f
       SET cost = x.cost, distribution_value = x.distribution_value
      FROM fresh x
     WHERE f.day = x.day AND f.sku_id = x.sku_id AND f.channel = x.channel
       AND (f.cost, f.distribution_value) IS DISTINCT FROM (x.cost, x.distribution_value);

    PERFORM merch_analyze_own_rows(1000);  -- (before the refresh reads the rows this chunk wrote)
    PERFORM merch_refresh_pending();
END
$$;

-- The derived data of the products under categories an import of categories moved or an import of attribute
-- sets rebound (p_moved: the attribute sets they inherit changed; completeness and storefront) or relabelled
-- (p_relabelled: the storefront's names and search words), brought up to date now through the refresh point, as
-- the products' import does for its chunk: when the import's job says done, they are current.
CREATE FUNCTION merch_import_categories_derived(p_moved text[], p_relabelled text[]) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    v_homed bigint[];
    v_shown bigint[];
BEGIN
    IF cardinality(p_moved) = 0 AND cardinality(p_relabelled) = 0 THEN
        RETURN;
    END IF;
    WITH below AS (
        SELECT d.id, c.code = ANY (p_moved) AS moved
          FROM categories c JOIN categories d ON d.path <@ c.path
         WHERE c.code = ANY (p_moved || p_relabelled)
    )
    SELECT ARRAY(SELECT DISTINCT p.id FROM products p JOIN below b ON b.id = p.category_id WHERE b.moved ORDER BY 1),
           ARRAY(SELECT p.id FROM products p JOIN below b ON b.id = p.category_id
                 UNION SELECT pp.product_id FROM product_placements pp JOIN below b ON b.id = pp.category_id
                 ORDER BY 1)
      INTO v_homed, v_shown;
    PERFORM merch_touch('completeness', v_homed);
    PERFORM merch_touch('storefront', v_shown);
    PERFORM merch_refresh_pending();
END
$$;

-- The storefront of the products that show attributes an import of attributes changed (labels, visibility,
-- priority, group, type, options), brought up to date now through the refresh point: when the import's job
-- says done, it is current.
CREATE FUNCTION merch_import_attributes_derived(p_changed text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(p_changed) = 0 THEN
        RETURN;
    END IF;
    PERFORM merch_touch('storefront', merch_storefront_showing(p_changed));
    PERFORM merch_refresh_pending();
END
$$;
