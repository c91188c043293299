"""The synthetic scale catalog: its errors (`merch seed scale` raises them; no route does)."""

from __future__ import annotations

from domain.errors import Conflict
from domain.imports.model import RowError


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


class CatalogNotEmpty(Conflict):
    """`merch seed scale` is run on a database that holds a catalog already (and without `--force`)."""

    code = "catalog-not-empty"

    def __init__(self) -> None:
        super().__init__(
            "The database holds a catalog already: the scale seed loads into an empty one. --force loads it anyway, "
            "upserting by code (rows identical to the stored ones change nothing; other rows with the seed's codes "
            "are replaced)."
        )


class SeedRejected(Conflict):
    """A file of the scale seed was rejected by the import (a row breaking a rule): the seed stops there, and
    nothing of that file is applied."""

    code = "seed-rejected"

    def __init__(self, kind: str, file: str, error: str, rejects: list[RowError]) -> None:
        lines = [f"{file}: {error or 'the import of ' + kind + ' failed'}"]
        lines += [f"  line {r.line} {r.pointer or r.column or ''} {r.code}: {r.message}" for r in rejects]
        super().__init__("\n".join(lines), type=kind, file=file)
        self.rejects = rejects
