"""A small named-query loader: `sql/queries/<area>.sql` holds `-- name: verb_noun :kind` blocks."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*(:one|:many|:val|:exec)\s*$")
_KINDS = {":one", ":many", ":val", ":exec"}


@dataclass(frozen=True, slots=True)
class Statement:
    name: str
    kind: str
    doc: str
    sql: str


class Queries:
    """The statements of one area, as attributes. Stores bind each one to a module constant when they are
    imported, so that a missing statement fails at start-up; who bound what is recorded, so that a test can
    list the statements no module uses."""

    def __init__(self, area: str, statements: dict[str, Statement]) -> None:
        self.area = area
        self._statements = statements
        self.bound_by: dict[str, set[str]] = {}

    def __getattr__(self, name: str) -> Statement:
        try:
            statement = self._statements[name]
        except KeyError:
            raise AttributeError(f"no statement {name!r} in sql/queries/{self.area}.sql") from None
        module = sys._getframe(1).f_globals.get("__name__", "?")
        self.bound_by.setdefault(name, set()).add(module)
        return statement

    def names(self) -> list[str]:
        return sorted(self._statements)


def parse(text: str, source: str = "<sql>") -> dict[str, Statement]:
    """Split a queries file into named statements."""
    statements: dict[str, Statement] = {}
    name = kind = ""
    doc: list[str] = []
    body: list[str] = []

    def flush() -> None:
        if name:
            sql = "\n".join(body).strip().rstrip(";").strip()
            if not sql:
                raise ValueError(f"{source}: statement {name} is empty")
            if name in statements:
                raise ValueError(f"{source}: statement {name} is defined twice")
            statements[name] = Statement(name, kind, " ".join(doc).strip(), sql)

    for line in text.splitlines():
        header = _HEADER.match(line.strip())
        if header:
            flush()
            name, kind = header.group(1), header.group(2)
            doc, body = [], []
        elif name and not body and line.strip().startswith("--"):
            doc.append(line.strip()[2:].strip())
        elif name:
            body.append(line)
    flush()
    return statements


_LOADED: dict[str, Queries] = {}


def load(area: str) -> Queries:
    """The statements of `sql/queries/<area>.sql` (read once)."""
    if area not in _LOADED:
        path = SQL_DIR / "queries" / f"{area}.sql"
        _LOADED[area] = Queries(area, parse(path.read_text(encoding="utf-8"), str(path)))
    return _LOADED[area]


def loaded() -> dict[str, Queries]:
    """The query files read so far, by area."""
    return dict(_LOADED)
