"""Products: /v1/products."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upserted
from domain.products import service as products
from domain.products.model import Lifecycle, Product, ProductCreate, ProductFields, ProductPage, ProductPatch

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow("purchasing", "listing")


class ProductController(Controller):
    path = "/v1/products"
    tags = ["Products"]

    @get("", operation_id="listProducts", summary="List products", opt=READERS)
    async def list_products(
        self,
        conn: Conn,
        principal: Actor,
        category: Annotated[
            str | None,
            QueryParameter(
                name="category",
                required=False,
                description="A category code: products whose home category or a placement is in its subtree.",
            ),
        ] = None,
        role: Annotated[
            str | None, QueryParameter(name="role", required=False, description="A product role code.")
        ] = None,
        series: Annotated[
            str | None, QueryParameter(name="series", required=False, description="A series code.")
        ] = None,
        lifecycle: Annotated[
            Lifecycle | None,
            QueryParameter(name="lifecycle", required=False, description="A lifecycle state."),
        ] = None,
        attr: Annotated[
            list[str] | None,
            QueryParameter(
                name="attr",
                required=False,
                description=(
                    "`code:value`, repeatable (all must hold): equality converted by the attribute's type; "
                    "for a multiselect, the product's list contains the option."
                ),
                schema_extra={"items": {"type": "string", "pattern": "^[^:]+:"}},
            ),
        ] = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> ProductPage:
        """Products in code order, one keyset page at a time, filtered by category subtree, role, series,
        lifecycle and attribute values. An unknown code in a filter is a 400 naming the parameter. The values
        of confidential attributes only for finance, purchasing and admin."""
        return await products.list_products(
            conn,
            principal,
            category=category,
            role=role,
            series=series,
            lifecycle=lifecycle,
            attrs=attr or [],
            limit=limit,
            cursor=cursor,
        )

    @post("", operation_id="createProduct", summary="Create a product", opt=WRITERS)
    async def create_product(self, conn: Conn, principal: Actor, data: JSONBody[ProductCreate]) -> Response[Product]:
        """Create a product in lifecycle `draft`. Its attribute values are checked against the effective
        attribute set of its home category; every invalid field is listed in one 422.
        A taken code is a 409."""
        product = await products.create_product(conn, principal, data)
        return entity(product, version=product.version, created_at=f"{self.path}/{product.code}")

    @get("/{code:str}", operation_id="getProduct", summary="Get a product", opt=READERS)
    async def get_product(
        self, conn: Conn, principal: Actor, code: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Product]:
        """One product; `If-None-Match` with its ETag answers 304. The values of confidential attributes only
        for finance, purchasing and admin."""
        product = await products.get_product(conn, code, principal)
        return entity(product, version=product.version, if_none_match=if_none_match)

    @put("/{code:str}", operation_id="putProduct", summary="Create or replace a product", opt=WRITERS | UPSERT)
    async def put_product(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[ProductFields],
        if_match: IfMatch = None,
    ) -> Response[Product]:
        """Idempotent upsert for imports: creates the product (201) or replaces its writable fields (200).
        `lifecycle` is not writable here. The values of confidential attributes are answered only to finance,
        purchasing and admin; a replacement by another role keeps those values (it cannot send them back)."""
        product, created = await products.put_product(conn, principal, code, data, expected(if_match))
        return upserted(product, version=product.version, created=created, location=f"{self.path}/{product.code}")

    @patch("/{code:str}", operation_id="patchProduct", summary="Change a product", opt=WRITERS)
    async def patch_product(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[ProductPatch],
        if_match: IfMatch = None,
    ) -> Response[Product]:
        """A JSON merge patch (RFC 7396): `{"attributes": {"width": null}}` removes one value,
        `{"labels": {"en": "…"}}` changes one locale.
        A new home category re-checks every attribute value."""
        product = await products.patch_product(conn, principal, code, data, expected(if_match))
        return entity(product, version=product.version)

    @delete("/{code:str}", operation_id="deleteProduct", summary="Delete a product", opt=WRITERS)
    async def delete_product(self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None) -> None:
        """Delete a product and its SKUs; a product (or SKU) still referenced elsewhere is a 409."""
        await products.delete_product(conn, principal, code, expected(if_match))
