"""Categories: shapes, rules and errors."""

from __future__ import annotations

from domain.errors import NotFound


class CategoryNotFound(NotFound):
    """No category has the code the request names."""

    code = "category-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No category has the code {code!r}.")
