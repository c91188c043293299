"""SKUs: shapes, rules and errors."""

from __future__ import annotations

from domain.errors import NotFound


class SkuNotFound(NotFound):
    """No SKU has the code the request names."""

    code = "sku-not-found"

    def __init__(self, sku: str) -> None:
        super().__init__(f"No SKU has the code {sku!r}.")
