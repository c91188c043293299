-- Reads of the storefront that more than one statement shares. Not a builder of the storefront read model
-- (api/migrate.py MODEL_BUILDERS): nothing here writes a storefront row, so a change is no reason to rebuild.

-- What a category page's query needs checked, in one read: the category's id by code (null when none), the
-- attributes its filters name, each with what decides whether it may filter (type, visibility, filterable), its
-- unit family and default unit, and its option codes; whether the role and the series it names exist (true when
-- it names none); and a fingerprint of all that. get_filter_context reads it before a page; list_cards reads it
-- again with the cards, in their snapshot, so that a page made against a context known before stands only when
-- the fingerprint is the same (sql/queries/storefront.sql). A single SELECT: the planner inlines it.
CREATE FUNCTION merch_filter_context(p_category text, p_attributes text[], p_role text, p_series text)
RETURNS TABLE (category_id bigint, role_known boolean, series_known boolean, attributes jsonb, fingerprint text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT x.category_id, x.role_known, x.series_known, x.attributes, md5(x::text) FROM (
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
