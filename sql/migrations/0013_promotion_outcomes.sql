-- Promotion outcomes (issue 14): what a promotion cost, and the rule its baseline is read by.
--
-- spend_amount / spend_currency: the promotion's spend (ads, fees, coupons paid …) in the currency of its
-- prices; spend_channel: the one channel it was spent on (null: all) — the outcome then counts that channel's
-- sales only. baseline_days: how many days right before the promotion make its baseline (null: as many as the
-- promotion has). GET /v1/reports/promotion-roi reads them.

ALTER TABLE promotions ADD COLUMN spend_amount numeric(18, 4),
                       ADD COLUMN spend_currency text,
                       ADD COLUMN spend_channel text,
                       ADD COLUMN baseline_days integer;
ALTER TABLE promotions
    ADD CONSTRAINT promotions_spend_check CHECK (spend_amount >= 0 AND (spend_amount IS NULL) = (spend_currency IS NULL)
                                                 AND (spend_channel IS NULL OR spend_amount IS NOT NULL)),
    ADD CONSTRAINT promotions_spend_currency_check CHECK (spend_currency ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT promotions_spend_channel_check CHECK (spend_channel ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    ADD CONSTRAINT promotions_baseline_days_check CHECK (baseline_days BETWEEN 1 AND 366);
