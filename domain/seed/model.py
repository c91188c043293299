"""The synthetic scale catalog: its errors (`merch seed scale` raises them; no route does)."""

from __future__ import annotations

from domain.errors import Conflict


class InvalidCount(Conflict):
    """The scale seed is asked for fewer than one product."""

    code = "invalid-count"

    def __init__(self) -> None:
        super().__init__("--products must be at least 1.")


class ScaleSeeded(Conflict):
    """The scale catalog is loaded already (its tree `scale` exists): it loads once per database."""

    code = "scale-seeded"

    def __init__(self) -> None:
        super().__init__("The scale catalog is loaded already (tree `scale`).")
