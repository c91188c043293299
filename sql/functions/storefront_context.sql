-- The stamp of the storefront's filter contexts (migration 0029): what a category page's filters are checked
-- against (merch_filter_context, sql/functions/storefront_reads.sql) is read from categories, attributes,
-- attribute_options, roles and series. A change to any of them moves the stamp's version on, once a
-- transaction, at its commit (a deferred trigger: the stamp's row is locked from there to the commit alone, so
-- writers of the structure never wait for one another on it, nor deadlock); its changing statements each leave
-- a mark of their own in the transaction (a local setting) until then, so that the transaction's own reads see a
-- new stamp at once. A stamp is never the same for two different contexts as a transaction sees them.

-- A statement changed a table a context is read from: mark the transaction (a TRUNCATE moves the stamp at once:
-- no row trigger sees it).
CREATE FUNCTION merch_context_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('merch.context_changed', nextval('storefront_context_changes')::text, true);
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE storefront_context_stamp SET version = version + 1;
    END IF;
    RETURN NULL;
END
$$;

-- At the commit of a transaction that changed a row of those tables: the stamp moves on, once.
CREATE FUNCTION merch_context_committed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('merch.context_stamped', true), '') <> 'yes' THEN
        PERFORM set_config('merch.context_stamped', 'yes', true);
        UPDATE storefront_context_stamp SET version = version + 1;
    END IF;
    RETURN NULL;
END
$$;

-- The two triggers on each table a context is read from.
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['categories', 'attributes', 'attribute_options', 'roles', 'series'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION merch_context_changed()', v_table || '_context_changed',
                       v_table);
        EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I'
                       ' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION merch_context_committed()',
                       v_table || '_context_committed', v_table);
    END LOOP;
END
$$;

-- The stamp as this transaction sees the contexts: the committed version and the mark of its own last change.
CREATE FUNCTION merch_context_stamp() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT s.version || '/' || coalesce(current_setting('merch.context_changed', true), '')
      FROM storefront_context_stamp s
$$;
