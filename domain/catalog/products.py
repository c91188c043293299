"""SHIM (issue 9): re-exports for modules not yet moved; removed when every area has landed."""

from domain.products.model import Product, ProductPatch
from domain.products.service import get_product, patch_product

__all__ = ["Product", "ProductPatch", "get_product", "patch_product"]
