"""Category trees: /v1/category-trees."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upserted
from domain.trees import service as trees
from domain.trees.model import Tree, TreeCreate, TreeFields, TreePage, TreePatch

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow()


class TreeController(Controller):
    path = "/v1/category-trees"
    tags = ["Category trees"]

    @get("", operation_id="listCategoryTrees", summary="List category trees", opt=READERS)
    async def list_trees(self, conn: Conn, limit: LimitQ = 50, cursor: CursorQ = None) -> TreePage:
        """Every category tree, in code order, one keyset page at a time."""
        return await trees.list_trees(conn, limit=limit, cursor=cursor)

    @post("", operation_id="createCategoryTree", summary="Create a category tree", opt=WRITERS)
    async def create_tree(self, conn: Conn, principal: Actor, data: JSONBody[TreeCreate]) -> Response[Tree]:
        """Create a tree with its level names (default `major`, `middle`, `minor`). A taken code is a 409."""
        tree = await trees.create_tree(conn, principal, data)
        return entity(tree, version=tree.version, created_at=f"{self.path}/{tree.code}")

    @get("/{code:str}", operation_id="getCategoryTree", summary="Get a category tree", opt=READERS)
    async def get_tree(self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None) -> Response[Tree]:
        """One tree; `If-None-Match` with its ETag answers 304."""
        tree = await trees.get_tree(conn, code)
        return entity(tree, version=tree.version, if_none_match=if_none_match)

    @put(
        "/{code:str}", operation_id="putCategoryTree", summary="Create or replace a category tree", opt=WRITERS | UPSERT
    )
    async def put_tree(
        self, conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[TreeFields], if_match: IfMatch = None
    ) -> Response[Tree]:
        """Idempotent upsert for imports: creates the tree (201) or replaces its fields (200)."""
        tree, created = await trees.put_tree(conn, principal, code, data, expected(if_match))
        return upserted(tree, version=tree.version, created=created, location=f"{self.path}/{tree.code}")

    @patch("/{code:str}", operation_id="patchCategoryTree", summary="Change a category tree", opt=WRITERS)
    async def patch_tree(
        self, conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[TreePatch], if_match: IfMatch = None
    ) -> Response[Tree]:
        """A JSON merge patch (RFC 7396) of the tree's labels and level names."""
        tree = await trees.patch_tree(conn, principal, code, data, expected(if_match))
        return entity(tree, version=tree.version)

    @delete("/{code:str}", operation_id="deleteCategoryTree", summary="Delete a category tree", opt=WRITERS)
    async def delete_tree(self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None) -> None:
        """Delete an empty tree; a tree that still has categories is a 409 naming them."""
        await trees.delete_tree(conn, principal, code, expected(if_match))
