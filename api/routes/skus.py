"""SKUs: /v1/products/{code}/skus and /v1/skus."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody

from api.auth import allow
from api.http import Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upsert, upserted
from domain.skus import service as skus
from domain.skus.model import Sku, SkuCreate, SkuFields, SkuPage, SkuPatch
from domain.types import SkuCode

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow("purchasing", "warehouse", "listing")


class ProductSkuController(Controller):
    path = "/v1/products/{code:str}/skus"
    tags = ["SKUs"]

    @get("", operation_id="listProductSkus", summary="List a product's SKUs", opt=READERS)
    async def list_skus(self, conn: Conn, code: FromPath[str], limit: LimitQ = 50, cursor: CursorQ = None) -> SkuPage:
        """The SKUs of one product, in sku order, one keyset page at a time."""
        return await skus.list_skus(conn, code, limit=limit, cursor=cursor)

    @post("", operation_id="createProductSku", summary="Create a SKU of a product", opt=WRITERS)
    async def create_sku(
        self, conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[SkuCreate]
    ) -> Response[Sku]:
        """Create a SKU: its barcode must be a GTIN with a valid check digit, its axes and attribute
        overrides must be in the product's attribute set. A taken barcode, or axes another SKU of the
        product has, is a 409 naming that SKU."""
        sku = await skus.create_sku(conn, principal, code, data)
        return entity(sku, version=sku.version, created_at=f"/v1/skus/{sku.sku}")


class SkuController(Controller):
    path = "/v1/skus"
    tags = ["SKUs"]

    @get("/{sku:str}", operation_id="getSku", summary="Get a SKU", opt=READERS)
    async def get_sku(self, conn: Conn, sku: FromPath[str], if_none_match: IfNoneMatch = None) -> Response[Sku]:
        """One SKU; `If-None-Match` with its ETag answers 304."""
        found = await skus.get_sku(conn, sku)
        return entity(found, version=found.version, if_none_match=if_none_match)

    @put("/{sku:str}", operation_id="putSku", summary="Create or replace a SKU", opt=WRITERS | upsert(SkuCode))
    async def put_sku(
        self,
        conn: Conn,
        principal: Actor,
        sku: FromPath[str],
        data: JSONBody[SkuFields],
        if_match: IfMatch = None,
    ) -> Response[Sku]:
        """Idempotent upsert for imports: creates the SKU (201; `product` required) or replaces its fields
        (200). Moving a SKU to another product is a 409."""
        found, created = await skus.put_sku(conn, principal, sku, data, expected(if_match))
        return upserted(found, version=found.version, created=created, location=f"{self.path}/{found.sku}")

    @patch("/{sku:str}", operation_id="patchSku", summary="Change a SKU", opt=WRITERS)
    async def patch_sku(
        self,
        conn: Conn,
        principal: Actor,
        sku: FromPath[str],
        data: JSONBody[SkuPatch],
        if_match: IfMatch = None,
    ) -> Response[Sku]:
        """A JSON merge patch (RFC 7396): `{"barcode": null}` removes the barcode, `{"axes": {"size": null}}`
        one axis."""
        found = await skus.patch_sku(conn, principal, sku, data, expected(if_match))
        return entity(found, version=found.version)

    @delete("/{sku:str}", operation_id="deleteSku", summary="Delete a SKU", opt=WRITERS)
    async def delete_sku(self, conn: Conn, principal: Actor, sku: FromPath[str], if_match: IfMatch = None) -> None:
        """Delete a SKU; one still referenced (stock, prices) is a 409."""
        await skus.delete_sku(conn, principal, sku, expected(if_match))
