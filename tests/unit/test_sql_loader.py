"""The named-query loader and the query files themselves."""

from __future__ import annotations

import re

import pytest

from domain.sql import SQL_DIR, load, parse

NAME_RULE = re.compile(r"^(get|list|count|is|insert|update|upsert|delete|lock)_[a-z0-9_]+$")
# The schema runner alone creates its ledgers and releases its lock.
RUNNER_RULE = re.compile(r"^(create|unlock)_[a-z0-9_]+$")


def test_a_file_splits_into_named_statements_with_their_descriptions() -> None:
    statements = parse("-- name: get_thing :one\n-- One thing.\nSELECT 1;\n\n-- name: list_things :many\nSELECT 2\n")
    assert statements["get_thing"].kind == ":one"
    assert statements["get_thing"].doc == "One thing."
    assert statements["get_thing"].sql == "SELECT 1"
    assert statements["list_things"].sql == "SELECT 2"


def test_a_duplicate_name_is_refused() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        parse("-- name: get_a :one\nSELECT 1;\n-- name: get_a :one\nSELECT 2;")


@pytest.mark.parametrize("path", sorted((SQL_DIR / "queries").glob("*.sql")), ids=lambda p: p.name)
def test_every_statement_is_named_by_the_house_verbs_and_described(path: object) -> None:
    queries = load(path.stem)  # type: ignore[attr-defined]
    assert queries.names()
    for name in queries.names():
        allowed = NAME_RULE.match(name) or (path.stem == "schema" and RUNNER_RULE.match(name))  # type: ignore[attr-defined]
        assert allowed, f"{path}: {name} does not start with a house verb"
        assert getattr(queries, name).doc, f"{path}: {name} has no one-line description"
