-- Visibility of attribute values: what a caller may see of a product's or a SKU's values. The roles that see
-- confidential data (finance, purchasing, admin: Principal.sees_confidential) see every value; the others
-- every value but those of confidential attributes. Every query that answers attribute values to a caller
-- passes them through this function (an SQL function: inlined, the list of confidential attributes read
-- once per statement and only when it is needed).
CREATE FUNCTION merch_visible_attributes(p_values jsonb, p_confidential boolean) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_confidential THEN p_values
                ELSE p_values - ARRAY(SELECT a.code FROM attributes a WHERE a.visibility = 'confidential') END
$$;

-- The values of public attributes only: what a shop (the storefront read model) and its pages may show.
CREATE FUNCTION merch_public_attributes(p_values jsonb) RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p_values - ARRAY(SELECT a.code::text FROM attributes a WHERE a.visibility <> 'public')
$$;
