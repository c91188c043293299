"""Products (SPUs): shapes, rules and errors."""

from __future__ import annotations

from domain.errors import NotFound


class ProductNotFound(NotFound):
    """No product has the code the request names."""

    code = "product-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No product has the code {code!r}.")
