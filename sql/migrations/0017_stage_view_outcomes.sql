-- What marketing and service read of a product's outcomes (issue 14), as built-in items of the attribute
-- application table, derived (readable, never requirable):
--
-- category_share      (marketing) the product's share of its home category's units and revenue over a window
-- promotion_outcomes  (marketing) its running and past promotions with their ROI and margin percent
-- returns             (service)   its return rate over a window and the reasons its units came back for
--
-- Each is appended to the end of its stage's reads.

INSERT INTO information_fields (code, labels, per_sku, requirable) VALUES
    ('category_share', '{"zh-CN": "类目占比", "en": "Share of its category"}', false, false),
    ('promotion_outcomes', '{"zh-CN": "活动效果", "en": "Promotion outcomes"}', false, false),
    ('returns', '{"zh-CN": "退货率与原因", "en": "Returns and their reasons"}', false, false);

INSERT INTO stage_needs (stage, field, required, position)
SELECT d.stage, d.field, false,
       coalesce((SELECT max(n.position) FROM stage_needs n WHERE n.stage = d.stage), 0) + d.ord
  FROM (VALUES ('marketing', 'category_share', 1), ('marketing', 'promotion_outcomes', 2),
               ('service', 'returns', 1)) AS d(stage, field, ord);
