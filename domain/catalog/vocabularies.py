"""Vocabularies: series (系列), product roles (产品角色) and attribute groups.

The three are the same shape — a code, labels and a description — and follow the same rules, so one
service serves them, each with its own table and its own "what still uses it" query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, Conflict, NotFound, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import Statement, load
from domain.types import Code, Labels, LongText, Page
from domain.versioning import check_version, created_by_put, patched, unchanged

Q = load("vocabularies")
Descriptions = dict[str, LongText]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    entity: str  # audit entity and error code stem, e.g. "series"
    title: str  # for messages, e.g. "Series"
    table: str
    references: Statement
    referenced_by: str  # what the references are, e.g. "products"

    def sql(self, statement: Statement) -> str:
        return statement.sql.format(table=self.table)


SERIES = Vocabulary("series", "Series", "series", Q.list_series_references, "products")
ROLES = Vocabulary("role", "Role", "roles", Q.list_role_references, "products")
ATTRIBUTE_GROUPS = Vocabulary(
    "attribute-group", "Attribute group", "attribute_groups", Q.list_attribute_group_references, "attributes"
)


class TermFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a series, role or attribute group (body of PUT)."""

    labels: Labels = {}
    description: Descriptions = {}


class TermCreate(TermFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST."""

    code: Code


class TermPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch: absent fields stay; `null` for a locale removes it."""

    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    description: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET


class Term(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    description: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime


def _term(row: asyncpg.Record) -> Term:
    return msgspec.convert(dict(row), Term)


def _not_found(v: Vocabulary, code: str) -> NotFound:
    return NotFound(f"No {v.title.lower()} has the code {code!r}.", code=f"{v.entity}-not-found")


async def list_terms(conn: asyncpg.Connection, v: Vocabulary, *, limit: int, cursor: str | None) -> Page[Term]:
    """Terms in code order."""
    after = decode_cursor(cursor, (str,))
    rows = await conn.fetch(v.sql(Q.list_terms), after[0] if after else None, limit + 1)
    items, next_cursor = split_page([_term(r) for r in rows], limit, lambda t: [t.code])
    return Page(items=items, next_cursor=next_cursor)


async def get_term(conn: asyncpg.Connection, v: Vocabulary, code: str) -> Term:
    """One term."""
    row = await conn.fetchrow(v.sql(Q.get_term), code)
    if row is None:
        raise _not_found(v, code)
    return _term(row)


async def create_term(conn: asyncpg.Connection, actor: Principal, v: Vocabulary, body: TermCreate) -> Term:
    """Create a term; a taken code is a 409."""
    async with conn.transaction():
        row = await conn.fetchrow(v.sql(Q.insert_term), body.code, body.labels, body.description)
        if row is None:
            raise Conflict(
                f"A {v.title.lower()} with the code {body.code!r} exists already.", code=f"{v.entity}-exists"
            )
        term = _term(row)
        await audit.record(conn, actor, "create", v.entity, term.code, version=term.version, after=term)
        return term


async def _update(
    conn: asyncpg.Connection, actor: Principal, v: Vocabulary, current: Term, fields: TermFields, expected: int | None
) -> Term:
    check_version(expected, current.version, f"{v.title} {current.code!r}")
    if unchanged(current, fields):
        return current
    row = await conn.fetchrow(v.sql(Q.update_term), current.code, fields.labels, fields.description)
    term = _term(row)
    await audit.record(conn, actor, "update", v.entity, term.code, version=term.version, before=current, after=term)
    return term


async def _locked(conn: asyncpg.Connection, v: Vocabulary, code: str) -> Term | None:
    row = await conn.fetchrow(v.sql(Q.lock_term), code)
    return None if row is None else _term(row)


async def put_term(
    conn: asyncpg.Connection, actor: Principal, v: Vocabulary, code: str, fields: TermFields, expected: int | None
) -> tuple[Term, bool]:
    """Idempotent upsert: create the term, or replace its fields; answers (term, created)."""
    async with conn.transaction():
        current = await _locked(conn, v, code)
        if current is None:
            body = created_by_put(TermCreate, f"{v.title} {code!r}", code, fields, expected)
            return await create_term(conn, actor, v, body), True
        return await _update(conn, actor, v, current, fields, expected), False


async def patch_term(
    conn: asyncpg.Connection, actor: Principal, v: Vocabulary, code: str, patch: TermPatch, expected: int | None
) -> Term:
    """Apply a JSON merge patch to a term."""
    async with conn.transaction():
        current = await _locked(conn, v, code)
        if current is None:
            raise _not_found(v, code)
        return await _update(conn, actor, v, current, patched(current, patch, TermFields), expected)


async def delete_term(
    conn: asyncpg.Connection, actor: Principal, v: Vocabulary, code: str, expected: int | None
) -> None:
    """Delete a term nothing uses; one still in use is a 409 naming what uses it."""
    async with conn.transaction():
        current = await _locked(conn, v, code)
        if current is None:
            raise _not_found(v, code)
        check_version(expected, current.version, f"{v.title} {code!r}")
        blocking = [r["code"] for r in await conn.fetch(v.references.sql, code, REFERENCES_SHOWN)]
        if blocking:
            raise Conflict(
                f"{v.title} {code!r} is still used by {v.referenced_by} {listed(blocking)}.",
                code="still-referenced",
                references={v.referenced_by: blocking},
            )
        await conn.execute(v.sql(Q.delete_term), code)
        await audit.record(conn, actor, "delete", v.entity, code, version=current.version, before=current)
