"""Series, roles and attribute groups: use cases, each in its own transaction; `v` says which vocabulary."""

from __future__ import annotations

import asyncpg

from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, StillReferenced, listed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.versioning import Versioned
from domain.vocabularies import store
from domain.vocabularies.model import (
    ATTRIBUTE_GROUPS,
    RETURN_REASONS,
    ROLES,
    SERIES,
    Term,
    TermCreate,
    TermFields,
    TermPage,
    TermPatch,
    Vocabulary,
)


async def list_terms(conn: asyncpg.Connection, v: Vocabulary, *, limit: int, cursor: str | None) -> TermPage:
    """Terms in code order."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_terms(conn, v, after[0] if after else None, limit + 1)
    items, next_cursor = split_page(rows, limit, lambda t: [t.code])
    return TermPage(items=items, next_cursor=next_cursor)


async def get_term(conn: asyncpg.Connection, v: Vocabulary, code: str) -> Term:
    """One term."""
    term = await store.get_term(conn, v, code)
    if term is None:
        raise v.not_found(code)
    return term


async def create_term(conn: asyncpg.Connection, actor: Principal, v: Vocabulary, body: TermCreate) -> Term:
    """Create a term; a taken code is a 409."""
    async with conn.transaction():
        term = await store.insert_term(conn, v, body.code, body)
        if term is None:
            raise v.exists(body.code)
        await audit.record(conn, actor, "create", v.entity, term.code, version=term.version, after=term)
        return term


async def _update(conn: asyncpg.Connection, actor: Principal, v: Vocabulary, current: Term, fields: TermFields) -> Term:
    term = await store.update_term(conn, v, current.code, fields)
    await audit.record(conn, actor, "update", v.entity, term.code, version=term.version, before=current, after=term)
    return term


async def _delete(conn: asyncpg.Connection, actor: Principal, v: Vocabulary, current: Term) -> None:
    blocking = await store.list_term_references(conn, v, current.code, REFERENCES_SHOWN)
    if blocking:
        raise StillReferenced(
            f"{v.title} {current.code!r} is still used by {v.referenced_by} {listed(blocking)}.",
            references={v.referenced_by: blocking},
        )
    await store.delete_term(conn, v, current.code)
    await audit.record(conn, actor, "delete", v.entity, current.code, version=current.version, before=current)


def _versioned(v: Vocabulary) -> Versioned[Term, TermFields]:
    async def lock(conn: asyncpg.Connection, code: str) -> Term | None:
        return await store.lock_term(conn, v, code)

    async def create(conn: asyncpg.Connection, actor: Principal, body: TermCreate) -> Term:
        return await create_term(conn, actor, v, body)

    async def update(conn: asyncpg.Connection, actor: Principal, current: Term, fields: TermFields) -> Term:
        return await _update(conn, actor, v, current, fields)

    async def delete(conn: asyncpg.Connection, actor: Principal, current: Term) -> None:
        await _delete(conn, actor, v, current)

    return Versioned(
        what=v.title,
        fields=TermFields,
        create_body=TermCreate,
        lock=lock,
        not_found=v.not_found,
        create=create,
        update=update,
        delete=delete,
    )


TERMS: dict[str, Versioned[Term, TermFields]] = {
    v.entity: _versioned(v) for v in (SERIES, ROLES, ATTRIBUTE_GROUPS, RETURN_REASONS)
}


async def put_term(
    conn: asyncpg.Connection, actor: Principal, v: Vocabulary, code: str, fields: TermFields, expected: int | None
) -> tuple[Term, bool]:
    """Idempotent upsert: create the term, or replace its fields; answers (term, created)."""
    return await TERMS[v.entity].put(conn, actor, code, fields, expected)


async def patch_term(
    conn: asyncpg.Connection, actor: Principal, v: Vocabulary, code: str, patch: TermPatch, expected: int | None
) -> Term:
    """Apply a JSON merge patch to a term."""
    term: Term = await TERMS[v.entity].patch(conn, actor, code, patch, expected)
    return term


async def delete_term(
    conn: asyncpg.Connection, actor: Principal, v: Vocabulary, code: str, expected: int | None
) -> None:
    """Delete a term nothing uses; one still in use is a 409 naming what uses it."""
    await TERMS[v.entity].remove(conn, actor, code, expected)
