"""Warehouses and their locations (bins): shapes, rules and errors."""

from __future__ import annotations

from domain.errors import NotFound


class WarehouseNotFound(NotFound):
    """No warehouse has the code the request names."""

    code = "warehouse-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No warehouse has the code {code!r}.")
