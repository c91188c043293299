"""Categories: /v1/categories, their moves, and the nested view /v1/category-trees/{code}/tree."""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upserted
from domain.categories import service as categories
from domain.categories.model import (
    Category,
    CategoryCreate,
    CategoryFields,
    CategoryMove,
    CategoryPage,
    CategoryPatch,
    NestedTree,
)

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow()

TreeQ = Annotated[
    str | None,
    QueryParameter(name="tree", required=False, max_length=64, description="Only this tree's categories (a code)."),
]
ParentQ = Annotated[
    str | None,
    QueryParameter(
        name="parent",
        required=False,
        max_length=64,
        description="Only the children of this category (a code).",
    ),
]
RootQ = Annotated[bool, QueryParameter(name="root", required=False, description="`true`: only root categories.")]


def content_tagged(body: NestedTree, if_none_match: str | None) -> Response[NestedTree]:
    """A computed view with an ETag hashed from its body; 304 when the client's copy is current."""
    tag = '"' + hashlib.sha256(msgspec.json.encode(body)).hexdigest()[:32] + '"'
    headers = {"ETag": tag}
    sent = {t.strip().removeprefix("W/") for t in (if_none_match or "").split(",")}
    if tag in sent or "*" in sent:
        return Response(None, status_code=HTTP_304_NOT_MODIFIED, headers=headers)  # type: ignore[arg-type]
    return Response(body, status_code=HTTP_200_OK, headers=headers)


class CategoryController(Controller):
    path = "/v1/categories"
    tags = ["Categories"]

    @get("", operation_id="listCategories", summary="List categories", opt={**READERS, "problems": {404}})
    async def list_categories(
        self,
        conn: Conn,
        tree: TreeQ = None,
        parent: ParentQ = None,
        root: RootQ = False,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> CategoryPage:
        """Categories in tree code, then code order, one keyset page at a time; `tree`, `parent` and
        `root` narrow the list. An unknown tree or parent is a 404."""
        return await categories.list_categories(conn, tree=tree, parent=parent, root=root, limit=limit, cursor=cursor)

    @post("", operation_id="createCategory", summary="Create a category", opt=WRITERS)
    async def create_category(self, conn: Conn, principal: Actor, data: JSONBody[CategoryCreate]) -> Response[Category]:
        """Create a category in a tree, under `parent` (null: a root) at `position` among its siblings
        (omitted or past the end: appended; later siblings shift). Deeper than the tree's levels is a
        409 `too-deep`; an unknown tree or parent a 422 naming `/tree` or `/parent`."""
        category = await categories.create_category(conn, principal, data)
        return entity(category, version=category.version, created_at=f"{self.path}/{category.code}")

    @get("/{code:str}", operation_id="getCategory", summary="Get a category", opt=READERS)
    async def get_category(
        self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Category]:
        """One category with its level name, depth and the codes from its root down; `If-None-Match`
        with its ETag answers 304. Positions renumbered by siblings' changes do not step the version."""
        category = await categories.get_category(conn, code)
        return entity(category, version=category.version, if_none_match=if_none_match)

    @put("/{code:str}", operation_id="putCategory", summary="Create or replace a category", opt=WRITERS | UPSERT)
    async def put_category(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[CategoryFields],
        if_match: IfMatch = None,
    ) -> Response[Category]:
        """Idempotent upsert for imports: creates the category (201) or replaces its fields (200). A new
        parent or position moves it with its subtree; an omitted position keeps its place under the same
        parent. Another tree is a 409."""
        category, created = await categories.put_category(conn, principal, code, data, expected(if_match))
        return upserted(category, version=category.version, created=created, location=f"{self.path}/{category.code}")

    @patch("/{code:str}", operation_id="patchCategory", summary="Change a category", opt=WRITERS)
    async def patch_category(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[CategoryPatch],
        if_match: IfMatch = None,
    ) -> Response[Category]:
        """A JSON merge patch (RFC 7396) of labels, parent and position; `"parent": null` makes it a root.
        A move goes through the same rules as POST …/move."""
        category = await categories.patch_category(conn, principal, code, data, expected(if_match))
        return entity(category, version=category.version)

    @delete("/{code:str}", operation_id="deleteCategory", summary="Delete a category", opt=WRITERS)
    async def delete_category(
        self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None
    ) -> None:
        """Delete a category; one that still has children or products (homed or placed) is a 409
        naming them in `context.references`. Later siblings close the gap."""
        await categories.delete_category(conn, principal, code, expected(if_match))

    @post(
        "/{code:str}/move",
        operation_id="moveCategory",
        summary="Move a category",
        opt=WRITERS,
        status_code=200,
    )
    async def move_category(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[CategoryMove],
        if_match: IfMatch = None,
    ) -> Response[Category]:
        """Move a category with its whole subtree under another parent of the same tree (null: a root),
        at `position` (omitted: appended, or kept when the parent is the same). Under itself or a
        descendant is a 409 `category-cycle`; deeper than the tree's levels a 409 `too-deep`."""
        category = await categories.move_category(conn, principal, code, data, expected(if_match))
        return entity(category, version=category.version)


@get(
    "/v1/category-trees/{code:str}/tree",
    operation_id="getCategoryTreeNested",
    summary="Get a category tree with its categories nested",
    tags=["Category trees"],
    opt=READERS,
)
async def get_tree_nested(conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None) -> Response[NestedTree]:
    """The tree and its categories nested in position order, each with its level, its own products
    (homed or placed in it) and its subtree's. The ETag is a hash of the body; `If-None-Match` answers 304."""
    return content_tagged(await categories.get_nested_tree(conn, code), if_none_match)
