-- The stamp of the storefront's filter contexts (migration 0029): what a category page's filters are checked
-- against (merch_filter_context, sql/functions/storefront_reads.sql) is read from categories, attributes,
-- attribute_options, roles and series. A statement changing any of them leaves a mark of its own in the
-- transaction (a local setting, from a sequence: never the same twice), so that the transaction's own reads see
-- a new stamp at once, and queues the refresh point (sql/functions/refresh.sql), whose commit-time run moves the
-- stamp's version on once (merch_refresh_at_commit: the stamp's row is locked from there to the commit alone, in
-- the same place of every transaction's commit — structure writers never wait for one another on it nor
-- deadlock on it). A stamp is never the same for two different contexts as a transaction sees them.

CREATE FUNCTION merch_context_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('merch.context_changed', nextval('storefront_context_changes')::text, true);
    PERFORM merch_queue_refresh();
    RETURN NULL;
END
$$;

-- The trigger on each table a context is read from.
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['categories', 'attributes', 'attribute_options', 'roles', 'series'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION merch_context_changed()', v_table || '_context_changed',
                       v_table);
    END LOOP;
END
$$;

-- At the commit of a transaction that changed them (merch_refresh_at_commit): the stamp moves on.
CREATE FUNCTION merch_context_committed() RETURNS void LANGUAGE sql AS $$
    UPDATE storefront_context_stamp SET version = version + 1
     WHERE coalesce(current_setting('merch.context_changed', true), '') <> ''
$$;

-- The stamp as this transaction sees the contexts: the committed version and the mark of its own last change.
CREATE FUNCTION merch_context_stamp() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT s.version || '/' || coalesce(current_setting('merch.context_changed', true), '')
      FROM storefront_context_stamp s
$$;
