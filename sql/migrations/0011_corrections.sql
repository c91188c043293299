-- Corrections of reported data (issue 11): sales facts removed, and price periods of the past changed,
-- each only through an explicit operation that names a reason and leaves an audit record.
--
-- 1. audit_log.reason: why a correction or a removal was made (null for ordinary writes); the action
--    `correct` for a price correction.
-- 2. price_corrections: one row per correction of a SKU's price periods of one kind and currency — the range
--    it set (to an amount, or to no price), the reason, who and when, and the periods before and after.
-- 3. prices.correction_id: the correction that last set a period's bounds or amount (null: as recorded), so
--    the price history shows which periods were corrected and why.

ALTER TABLE audit_log ADD COLUMN reason text;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action IN ('create', 'update', 'delete', 'move', 'transition', 'bind', 'needs', 'correct'));

CREATE TABLE price_corrections (
    id bigint GENERATED ALWAYS AS IDENTITY,
    sku_id bigint NOT NULL,
    kind text NOT NULL,
    currency text NOT NULL,
    amount numeric(18, 4),
    valid_from timestamptz NOT NULL,
    valid_to timestamptz,
    reason text NOT NULL,
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    before jsonb NOT NULL,
    after jsonb NOT NULL,
    CONSTRAINT price_corrections_pkey PRIMARY KEY (id),
    CONSTRAINT price_corrections_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE RESTRICT,
    CONSTRAINT price_corrections_kind_check CHECK (kind IN ('sale', 'distribution', 'cost')),
    CONSTRAINT price_corrections_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT price_corrections_amount_check CHECK (amount IS NULL OR amount >= 0),
    CONSTRAINT price_corrections_valid_to_check CHECK (valid_to IS NULL OR valid_to > valid_from),
    CONSTRAINT price_corrections_reason_check CHECK (length(btrim(reason)) BETWEEN 1 AND 500)
);
CREATE INDEX price_corrections_sku_id_id_idx ON price_corrections (sku_id, id);

ALTER TABLE prices ADD COLUMN correction_id bigint;
ALTER TABLE prices ADD CONSTRAINT prices_correction_id_fkey
    FOREIGN KEY (correction_id) REFERENCES price_corrections (id) ON DELETE RESTRICT;
CREATE INDEX prices_correction_id_idx ON prices (correction_id) WHERE correction_id IS NOT NULL;
