"""The layout of the code, checked: layers point one way, SQL lives in stores (bound when they are imported,
none unused), and modules stay short enough to read."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import api
import domain
from domain.sql import SQL_DIR, loaded

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "api").rglob("*.py"), *(ROOT / "domain").rglob("*.py")])
# Modules that talk to the database without being a store, and why.
NOT_STORES = {
    "api/migrate.py": "the schema runner applies sql/ itself",
    "api/db.py": "connection set-up: type codecs, and rolling back a transaction an interrupted request left open",
    "api/replicas.py": "replication positions: the WAL a server has replayed or flushed, for the monitor and router",
}
CONNECTION_CALLS = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table", "cursor"}
SQL_TEXT = re.compile(r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I | re.S)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def is_store(path: Path) -> bool:
    return path.name == "store.py"


def import_everything() -> None:
    for package in (api, domain):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)


def test_every_statement_is_bound_by_a_store_when_it_is_imported_and_none_is_unused() -> None:
    import_everything()
    files = {p.stem for p in (SQL_DIR / "queries").glob("*.sql")}
    areas = loaded()
    assert files <= set(areas), f"query files no module loads: {sorted(files - set(areas))}"
    unused = []
    outside = []
    for area, queries in sorted(areas.items()):
        for name in queries.names():
            modules = {m for m in queries.bound_by.get(name, set()) if m.startswith(("api.", "domain."))}
            if not modules:
                unused.append(f"{area}.{name}")
            outside += [f"{area}.{name} in {m}" for m in modules if not m.endswith(".store") and m != "api.migrate"]
    assert unused == [], "statements no store binds (delete them, or bind them at import)"
    assert outside == [], "statements bound outside a store"


def test_sql_runs_only_in_stores() -> None:
    found = []
    for path in SOURCES:
        if is_store(path) or rel(path) in NOT_STORES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CONNECTION_CALLS
            ):
                found.append(f"{rel(path)}:{node.lineno} calls .{node.func.attr}()")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.search(node.value):
                found.append(f"{rel(path)}:{node.lineno} holds SQL text")
    assert found == []


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_domain_never_imports_the_http_layer() -> None:
    found = [
        f"{rel(path)} imports {name}"
        for path in SOURCES
        if rel(path).startswith("domain/")
        for name in imports_of(path)
        if name.split(".")[0] in {"api", "litestar", "uvicorn", "httpx", "pydantic_settings"}
    ]
    assert found == []


def test_a_store_is_imported_by_its_own_area_alone() -> None:
    found = []
    for path in SOURCES:
        parts = rel(path).removesuffix(".py").split("/")
        area = parts[1] if parts[0] == "domain" and len(parts) > 2 else None
        for name in imports_of(path):
            target = name.split(".")
            if len(target) >= 3 and target[0] == "domain" and target[2] == "store" and target[1] != area:
                found.append(f"{rel(path)} imports {name}")
    assert found == []


def test_no_module_is_longer_than_400_lines_without_saying_why_at_its_top() -> None:
    long = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > 400 and "Longer than 400 lines:" not in doc:
            long.append(f"{rel(path)}: {text.count(chr(10))} lines")
    assert long == []
