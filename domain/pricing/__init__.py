"""SHIM (issue 9): re-exports for modules not yet moved; removed when every area has landed.

Prices live in `domain.prices`, promotions in `domain.promotions`; `views` is kept for the stage views."""
