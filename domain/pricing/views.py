"""SHIM (issue 9): re-exports for modules not yet moved; removed when every area has landed."""

from domain.prices.views import (
    list_product_prices,
    list_product_promotions,
    margins,
    price_history,
    prices_in_force,
    running_promotions,
)

__all__ = [
    "list_product_prices",
    "list_product_promotions",
    "margins",
    "price_history",
    "prices_in_force",
    "running_promotions",
]
