-- Reads of the storefront that more than one statement shares. Not a builder of the storefront read model
-- (api/migrate.py MODEL_BUILDERS): nothing here writes a storefront row, so a change is no reason to rebuild.

-- What a category page's query needs checked, in one read: the category's id by code (null when none), the
-- attributes its filters name, each with what decides whether it may filter (type, visibility, filterable), its
-- unit family and default unit, and its option codes; whether the role and the series it names exist (true when
-- it names none); and the stamp it stands for (merch_context_stamp, sql/functions/storefront_context.sql: read in
-- the same snapshot). get_filter_context reads it before a page; list_cards reads the stamp alone with the cards,
-- in their snapshot, so that a page made against a context known before stands only when the stamp is the same
-- (sql/queries/storefront.sql). A single SELECT: the planner inlines it.
CREATE FUNCTION merch_filter_context(p_category text, p_attributes text[], p_role text, p_series text)
RETURNS TABLE (category_id bigint, role_known boolean, series_known boolean, attributes jsonb, fingerprint text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT x.category_id, x.role_known, x.series_known, x.attributes, merch_context_stamp() FROM (
    SELECT (SELECT c.id FROM categories c WHERE c.code = p_category) AS category_id,
           (p_role IS NULL OR EXISTS (SELECT 1 FROM roles r WHERE r.code = p_role)) AS role_known,
           (p_series IS NULL OR EXISTS (SELECT 1 FROM series s WHERE s.code = p_series)) AS series_known,
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'code', a.code, 'type', a.type, 'visibility', a.visibility, 'filterable', a.filterable,
                                'unit_family', a.validation ->> 'unit_family',
                                'default_unit', a.validation ->> 'default_unit',
                                'options', ARRAY(SELECT o.code::text FROM attribute_options o
                                                  WHERE o.attribute_id = a.id ORDER BY o.code)) ORDER BY a.code)
                       FROM attributes a WHERE a.code = ANY (p_attributes)), '[]') AS attributes
) x
$$;

-- A category's shelf walked in the sort's order after the keyset (p_after_k, p_after_id), p_probe rows at most,
-- through the sort's index alone (migration 0027): each row's product, sort key k and token signature.
CREATE FUNCTION merch_shelf_walk(p_category bigint, p_sort text, p_after_k numeric, p_after_id bigint,
                                 p_probe integer)
RETURNS TABLE (product_id bigint, k numeric, bits bit(256)) LANGUAGE sql STABLE AS $$
    (SELECT s.product_id, s.product_id::numeric, s.bits FROM storefront_shelf s
      WHERE p_sort = 'position' AND s.category_id = p_category AND s.product_id > coalesce(p_after_id, -1)
      ORDER BY s.product_id LIMIT p_probe)
    UNION ALL
    (SELECT s.product_id, coalesce(s.price, 1e18), s.bits FROM storefront_shelf s
      WHERE p_sort = 'price_asc' AND s.category_id = p_category
        AND (coalesce(s.price, 1e18), s.product_id) > (coalesce(p_after_k, '-Infinity'), coalesce(p_after_id, -1))
      ORDER BY coalesce(s.price, 1e18), s.product_id LIMIT p_probe)
    UNION ALL
    (SELECT s.product_id, coalesce(-s.price, 1e18), s.bits FROM storefront_shelf s
      WHERE p_sort = 'price_desc' AND s.category_id = p_category
        AND (coalesce(-s.price, 1e18), s.product_id) > (coalesce(p_after_k, '-Infinity'), coalesce(p_after_id, -1))
      ORDER BY coalesce(-s.price, 1e18), s.product_id LIMIT p_probe)
    UNION ALL
    (SELECT s.product_id, s.newest, s.bits FROM storefront_shelf s
      WHERE p_sort = 'newest' AND s.category_id = p_category
        AND (s.newest, s.product_id) > (coalesce(p_after_k, '-Infinity'), coalesce(p_after_id, -1))
      ORDER BY s.newest, s.product_id LIMIT p_probe)
    UNION ALL
    (SELECT s.product_id, (-s.sold)::numeric, s.bits FROM storefront_shelf s
      WHERE p_sort = 'best_selling' AND s.category_id = p_category
        AND ((-s.sold)::numeric, s.product_id) > (coalesce(p_after_k, '-Infinity'), coalesce(p_after_id, -1))
      ORDER BY (-s.sold)::numeric, s.product_id LIMIT p_probe)
$$;

-- The listed products of a category a page's filters let through, with the page's sort key k, in two ways with
-- one definition of the filters (p_all tokens all present, the category's `c:<id>` among them; one of p_any
-- present; per attribute of p_groups one of its tokens; p_ranges {attribute: [min, max]} in base units; the
-- price bounds):
-- * p_probe > 0: the shelf walked (merch_shelf_walk); a row whose token signature has every bit of p_all_bits,
--   one of p_any_bits and one of each of p_group_bits (shelf_token_bits of p_all but the category's own token,
--   which every row of the walk carries; of p_any unless it holds that token; of the first two attributes of
--   p_groups; null: nothing to check) is read from the table and checked; the rows come in (k, product id)
--   order, so a LIMIT stops at the page's last match. Cheap while matches are common among the shelf's
--   rows; the signature keeps the rows read to about the matches whatever the number of filters.
-- * p_probe = 0: every match, through the shelf's tokens' GIN index, in no order: for filters that few
--   products pass.
CREATE FUNCTION merch_storefront_hits(p_category bigint, p_all text[], p_any text[], p_groups jsonb,
                                      p_ranges jsonb, p_price_min numeric, p_price_max numeric, p_sort text,
                                      p_after_k numeric, p_after_id bigint, p_probe integer,
                                      p_all_bits bit(256), p_any_bits bit(256), p_g1_bits bit(256),
                                      p_g2_bits bit(256))
RETURNS TABLE (product_id bigint, k numeric) LANGUAGE sql STABLE AS $$
    SELECT x.product_id, x.k FROM (
        SELECT w.product_id, w.k, r.tokens, r.numbers, r.price
          FROM merch_shelf_walk(p_category, p_sort, p_after_k, p_after_id, p_probe) w
         -- (a lateral subquery the planner keeps as it is: each candidate read in walk order, never a join
         -- that would read every candidate before returning the first)
         CROSS JOIN LATERAL (SELECT h.tokens, h.numbers, h.price FROM storefront_shelf h
                              WHERE h.category_id = p_category AND h.product_id = w.product_id OFFSET 0) r
         WHERE p_probe > 0 AND (p_all_bits IS NULL OR (w.bits & p_all_bits) = p_all_bits)
           AND (p_any_bits IS NULL OR (w.bits & p_any_bits) <> B'0'::bit(256))
           AND (p_g1_bits IS NULL OR (w.bits & p_g1_bits) <> B'0'::bit(256))
           AND (p_g2_bits IS NULL OR (w.bits & p_g2_bits) <> B'0'::bit(256))
        UNION ALL
        SELECT s.product_id,
               CASE p_sort
                   WHEN 'position' THEN s.product_id::numeric
                   WHEN 'price_asc' THEN coalesce(s.price, 1e18)
                   WHEN 'price_desc' THEN coalesce(-s.price, 1e18)
                   WHEN 'newest' THEN s.newest
                   WHEN 'best_selling' THEN (-s.sold)::numeric
               END,
               s.tokens, s.numbers, s.price
          FROM storefront_shelf s
         WHERE p_probe = 0 AND s.tokens @> p_all AND s.tokens && p_any
    ) x
     WHERE x.tokens @> p_all AND x.tokens && p_any
       -- (an empty object decides at once: no subquery set up for each row)
       AND (p_groups = '{}' OR NOT EXISTS (SELECT 1 FROM jsonb_each(p_groups) g
                                          WHERE NOT x.tokens && ARRAY(SELECT jsonb_array_elements_text(g.value))))
       AND (p_ranges = '{}' OR NOT EXISTS (SELECT 1 FROM jsonb_each(p_ranges) r
                        WHERE NOT coalesce((x.numbers ->> r.key)::numeric
                                           BETWEEN coalesce((r.value ->> 0)::numeric, '-Infinity')
                                               AND coalesce((r.value ->> 1)::numeric, 'Infinity'), false)))
       AND (p_price_min IS NULL OR x.price >= p_price_min) AND (p_price_max IS NULL OR x.price <= p_price_max)
       AND (x.k, x.product_id) > (coalesce(p_after_k, '-Infinity'), coalesce(p_after_id, -1))
$$;

-- One page of a category: the first p_limit matches after the keyset, in (k, product id) order. The shelf is
-- walked first (p_probe rows at most); when that does not fill the page and the walk did not reach the end
-- of the category, every match is taken from the GIN index and sorted.
CREATE FUNCTION merch_storefront_listing(p_category bigint, p_all text[], p_any text[], p_groups jsonb,
                                         p_ranges jsonb, p_price_min numeric, p_price_max numeric, p_sort text,
                                         p_after_k numeric, p_after_id bigint, p_limit integer, p_probe integer)
RETURNS TABLE (product_id bigint, k numeric) LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_ids bigint[];
    v_ks numeric[];
    v_all_bits bit(256) := nullif(shelf_token_bits(array_remove(p_all, 'c:' || p_category)), B'0'::bit(256));
    v_any_bits bit(256) := CASE WHEN 'c:' || p_category = ANY (p_any) THEN NULL  -- (every row carries one)
                                ELSE shelf_token_bits(p_any) END;
    v_group_bits bit(256)[] := ARRAY(SELECT shelf_token_bits(ARRAY(SELECT jsonb_array_elements_text(g.value)))
                                       FROM jsonb_each(p_groups) g LIMIT 2);
BEGIN
    IF p_probe > 0 THEN
        SELECT array_agg(h.product_id ORDER BY h.k, h.product_id), array_agg(h.k ORDER BY h.k, h.product_id)
          INTO v_ids, v_ks
          FROM (SELECT * FROM merch_storefront_hits(p_category, p_all, p_any, p_groups, p_ranges, p_price_min,
                                                    p_price_max, p_sort, p_after_k, p_after_id, p_probe,
                                                    v_all_bits, v_any_bits, v_group_bits[1], v_group_bits[2])
                 LIMIT p_limit) h;
        IF coalesce(cardinality(v_ids), 0) >= p_limit OR (
               SELECT count(*) < p_probe  -- the walk reached the end of the category
                 FROM merch_shelf_walk(p_category, p_sort, p_after_k, p_after_id, p_probe)) THEN
            RETURN QUERY SELECT * FROM unnest(v_ids, v_ks);
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    SELECT h.product_id, h.k
      FROM merch_storefront_hits(p_category, p_all, p_any, p_groups, p_ranges, p_price_min, p_price_max, p_sort,
                                 p_after_k, p_after_id, 0, v_all_bits, v_any_bits, NULL, NULL) h
     ORDER BY h.k, h.product_id
     LIMIT p_limit;
END
$$;
