-- After-sales returns (售后, issue 14): a `return` stock movement brings units back into a bin, with a reason
-- from a vocabulary the business extends, a condition, and the sale it reverses when known.
--
-- 1. return_reasons: the vocabulary of reasons (defective, wrong size, …), shaped like roles and series.
-- 2. locations.quarantine: a bin whose units never count as available (not resellable returns go there);
--    nothing can be reserved, picked or shipped from it.
-- 3. stock_movements: the type `return`.
-- 4. sales_facts.returned_qty / refunded: what came back of a day's sale of a SKU on a channel, and what was
--    refunded for it. The sales rollups and every sales report read the facts net of them (qty − returned,
--    revenue − refunded, cost and distribution value of the units kept); the columns start at 0, so the
--    rollups of today are already net.
-- 5. sales_returns: one row per return movement — reason, condition, the sale it names, the refund — read by
--    GET /v1/reports/returns.

CREATE TABLE return_reasons (
    id bigint GENERATED ALWAYS AS IDENTITY,
    code code NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    description jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT return_reasons_pkey PRIMARY KEY (id),
    CONSTRAINT return_reasons_code_key UNIQUE (code),
    CONSTRAINT return_reasons_labels_check CHECK (is_label_map(labels)),
    CONSTRAINT return_reasons_description_check CHECK (is_label_map(description))
);

INSERT INTO return_reasons (code, labels, description) VALUES
    ('defective', '{"zh-CN": "质量问题", "en": "Defective"}', '{"en": "The item does not work or is flawed."}'),
    ('wrong_size', '{"zh-CN": "尺码不合适", "en": "Wrong size"}', '{"en": "The size or fit is not right."}'),
    ('not_as_described', '{"zh-CN": "与描述不符", "en": "Not as described"}',
     '{"en": "The item differs from its listing."}'),
    ('changed_mind', '{"zh-CN": "七天无理由", "en": "Changed mind"}', '{"en": "No-reason return."}'),
    ('damaged_in_transit', '{"zh-CN": "运输损坏", "en": "Damaged in transit"}',
     '{"en": "The parcel arrived damaged."}');

ALTER TABLE locations ADD COLUMN quarantine boolean NOT NULL DEFAULT false;

ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_type_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_type_check CHECK (type IN (
    'receive', 'pick', 'ship', 'transfer', 'transfer-in', 'adjust', 'count', 'reserve', 'release', 'return'
));

ALTER TABLE sales_facts ADD COLUMN returned_qty integer NOT NULL DEFAULT 0,
                        ADD COLUMN refunded numeric(18, 4) NOT NULL DEFAULT 0;
ALTER TABLE sales_facts ADD CONSTRAINT sales_facts_returned_qty_check CHECK (returned_qty BETWEEN 0 AND qty),
                        ADD CONSTRAINT sales_facts_refunded_check CHECK (refunded BETWEEN 0 AND revenue);

CREATE TABLE sales_returns (
    id bigint GENERATED ALWAYS AS IDENTITY,
    movement_id bigint NOT NULL,
    sku_id bigint NOT NULL,
    location_id bigint NOT NULL,
    qty integer NOT NULL,
    reason_id bigint NOT NULL,
    resellable boolean NOT NULL,
    channel text,
    sale_day date,
    refund numeric(18, 4),
    currency text,
    returned_on date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sales_returns_pkey PRIMARY KEY (id),
    CONSTRAINT sales_returns_movement_id_key UNIQUE (movement_id),
    CONSTRAINT sales_returns_movement_id_fkey FOREIGN KEY (movement_id) REFERENCES stock_movements (id),
    CONSTRAINT sales_returns_sku_id_fkey FOREIGN KEY (sku_id) REFERENCES skus (id) ON DELETE RESTRICT,
    CONSTRAINT sales_returns_location_id_fkey FOREIGN KEY (location_id) REFERENCES locations (id),
    CONSTRAINT sales_returns_reason_id_fkey FOREIGN KEY (reason_id) REFERENCES return_reasons (id) ON DELETE RESTRICT,
    CONSTRAINT sales_returns_qty_check CHECK (qty > 0),
    CONSTRAINT sales_returns_sale_check CHECK ((channel IS NULL) = (sale_day IS NULL)),
    CONSTRAINT sales_returns_refund_check CHECK (refund >= 0 AND (refund IS NULL) = (currency IS NULL)),
    CONSTRAINT sales_returns_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX sales_returns_returned_on_idx ON sales_returns (returned_on);
CREATE INDEX sales_returns_sku_id_returned_on_idx ON sales_returns (sku_id, returned_on);
CREATE INDEX sales_returns_reason_id_idx ON sales_returns (reason_id);
