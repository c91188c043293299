"""The only place that runs the vocabularies' statements (sql/queries/vocabularies.sql).

The vocabularies share their statements but not their tables: each shared statement is a template
whose `{table}` is filled at import with one of the constant table names (never with request data)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import msgspec

from domain.sql import load
from domain.vocabularies.model import ATTRIBUTE_GROUPS, RETURN_REASONS, ROLES, SERIES, Term, TermFields, Vocabulary

Q = load("vocabularies")
LIST_TERMS = Q.list_terms.sql
GET_TERM = Q.get_term.sql
LOCK_TERM = Q.lock_term.sql
INSERT_TERM = Q.insert_term.sql
UPDATE_TERM = Q.update_term.sql
DELETE_TERM = Q.delete_term.sql
LIST_SERIES_REFERENCES = Q.list_series_references.sql
LIST_ROLE_REFERENCES = Q.list_role_references.sql
LIST_ATTRIBUTE_GROUP_REFERENCES = Q.list_attribute_group_references.sql
LIST_RETURN_REASON_REFERENCES = Q.list_return_reason_references.sql


@dataclass(frozen=True, slots=True)
class _Statements:
    """The statements of one vocabulary, its table filled in."""

    list_terms: str
    get_term: str
    lock_term: str
    insert_term: str
    update_term: str
    delete_term: str
    list_references: str


def _statements(table: str, references: str) -> _Statements:
    return _Statements(
        list_terms=LIST_TERMS.format(table=table),
        get_term=GET_TERM.format(table=table),
        lock_term=LOCK_TERM.format(table=table),
        insert_term=INSERT_TERM.format(table=table),
        update_term=UPDATE_TERM.format(table=table),
        delete_term=DELETE_TERM.format(table=table),
        list_references=references,
    )


_SQL: dict[str, _Statements] = {
    SERIES.entity: _statements("series", LIST_SERIES_REFERENCES),
    ROLES.entity: _statements("roles", LIST_ROLE_REFERENCES),
    ATTRIBUTE_GROUPS.entity: _statements("attribute_groups", LIST_ATTRIBUTE_GROUP_REFERENCES),
    RETURN_REASONS.entity: _statements("return_reasons", LIST_RETURN_REASON_REFERENCES),
}


def _term(row: asyncpg.Record | None) -> Term | None:
    return None if row is None else msgspec.convert(dict(row), Term)


async def list_terms(conn: asyncpg.Connection, v: Vocabulary, after: str | None, limit: int) -> list[Term]:
    return [msgspec.convert(dict(r), Term) for r in await conn.fetch(_SQL[v.entity].list_terms, after, limit)]


async def get_term(conn: asyncpg.Connection, v: Vocabulary, code: str) -> Term | None:
    return _term(await conn.fetchrow(_SQL[v.entity].get_term, code))


async def lock_term(conn: asyncpg.Connection, v: Vocabulary, code: str) -> Term | None:
    return _term(await conn.fetchrow(_SQL[v.entity].lock_term, code))


async def insert_term(conn: asyncpg.Connection, v: Vocabulary, code: str, fields: TermFields) -> Term | None:
    """The new term; None when the code is taken."""
    return _term(await conn.fetchrow(_SQL[v.entity].insert_term, code, fields.labels, fields.description))


async def update_term(conn: asyncpg.Connection, v: Vocabulary, code: str, fields: TermFields) -> Term:
    term = _term(await conn.fetchrow(_SQL[v.entity].update_term, code, fields.labels, fields.description))
    assert term is not None, "the term is locked by this transaction"
    return term


async def delete_term(conn: asyncpg.Connection, v: Vocabulary, code: str) -> None:
    await conn.execute(_SQL[v.entity].delete_term, code)


async def list_term_references(conn: asyncpg.Connection, v: Vocabulary, code: str, limit: int) -> list[str]:
    """A few codes of what uses the term (products, attributes, or the SKUs of returns)."""
    return [r["code"] for r in await conn.fetch(_SQL[v.entity].list_references, code, limit)]
