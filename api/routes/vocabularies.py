"""Series, roles, attribute groups and return reasons: /v1/series, /v1/roles, /v1/attribute-groups,
/v1/return-reasons."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upserted
from domain.vocabularies import service as vocab
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

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow()


def vocabulary_controller(v: Vocabulary, path: str, singular: str, plural: str, tag: str) -> type[Controller]:
    """One controller per vocabulary; the three share their rules."""
    one, many = singular.replace(" ", ""), plural.replace(" ", "")

    class VocabularyController(Controller):
        tags = [tag]

        @get("", operation_id=f"list{many}", summary=f"List {plural.lower()}", opt=READERS)
        async def list_terms(self, conn: Conn, limit: LimitQ = 50, cursor: CursorQ = None) -> TermPage:
            """Every term, in code order, one keyset page at a time."""
            return await vocab.list_terms(conn, v, limit=limit, cursor=cursor)

        @post("", operation_id=f"create{one}", summary=f"Create a {singular.lower()}", opt=WRITERS)
        async def create_term(self, conn: Conn, principal: Actor, data: JSONBody[TermCreate]) -> Response[Term]:
            """Create a term with its labels and description. A taken code is a 409."""
            term = await vocab.create_term(conn, principal, v, data)
            return entity(term, version=term.version, created_at=f"{path}/{term.code}")

        @get("/{code:str}", operation_id=f"get{one}", summary=f"Get a {singular.lower()}", opt=READERS)
        async def get_term(self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None) -> Response[Term]:
            """One term; `If-None-Match` with its ETag answers 304."""
            term = await vocab.get_term(conn, v, code)
            return entity(term, version=term.version, if_none_match=if_none_match)

        @put(
            "/{code:str}",
            operation_id=f"put{one}",
            summary=f"Create or replace a {singular.lower()}",
            opt=WRITERS | UPSERT,
        )
        async def put_term(
            self,
            conn: Conn,
            principal: Actor,
            code: FromPath[str],
            data: JSONBody[TermFields],
            if_match: IfMatch = None,
        ) -> Response[Term]:
            """Idempotent upsert for imports: creates the term (201) or replaces its fields (200)."""
            term, created = await vocab.put_term(conn, principal, v, code, data, expected(if_match))
            return upserted(term, version=term.version, created=created, location=f"{path}/{term.code}")

        @patch("/{code:str}", operation_id=f"patch{one}", summary=f"Change a {singular.lower()}", opt=WRITERS)
        async def patch_term(
            self, conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[TermPatch], if_match: IfMatch = None
        ) -> Response[Term]:
            """A JSON merge patch (RFC 7396) of the labels and description."""
            term = await vocab.patch_term(conn, principal, v, code, data, expected(if_match))
            return entity(term, version=term.version)

        @delete("/{code:str}", operation_id=f"delete{one}", summary=f"Delete a {singular.lower()}", opt=WRITERS)
        async def delete_term(
            self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None
        ) -> None:
            """Delete a term nothing uses; one still in use is a 409 naming what uses it."""
            await vocab.delete_term(conn, principal, v, code, expected(if_match))

    VocabularyController.path = path
    VocabularyController.__name__ = f"{many}Controller"
    return VocabularyController


SeriesController = vocabulary_controller(SERIES, "/v1/series", "Series", "Series", "Series")
RoleController = vocabulary_controller(ROLES, "/v1/roles", "Role", "Roles", "Product roles")
AttributeGroupController = vocabulary_controller(
    ATTRIBUTE_GROUPS, "/v1/attribute-groups", "Attribute group", "Attribute groups", "Attribute groups"
)
ReturnReasonController = vocabulary_controller(
    RETURN_REASONS, "/v1/return-reasons", "Return reason", "Return reasons", "Return reasons"
)
