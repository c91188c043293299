"""Suppliers and product-supplier terms: /v1/suppliers and /v1/products/{code}/suppliers.

Supplier terms are confidential: only purchasing, finance (and admin) read them; only purchasing writes.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upserted
from domain.suppliers import service as suppliers
from domain.suppliers import terms
from domain.suppliers.model import (
    ProductSupplier,
    ProductSupplierPage,
    Supplier,
    SupplierCreate,
    SupplierFields,
    SupplierPage,
    SupplierPatch,
    SupplierType,
    TermsCreate,
    TermsFields,
    TermsPatch,
)

READERS = allow("purchasing", "finance")
WRITERS = allow("purchasing")

TypeQ = Annotated[
    SupplierType | None,
    QueryParameter(name="type", required=False, description="Only suppliers of this tier."),
]
ActiveQ = Annotated[
    bool | None,
    QueryParameter(name="active", required=False, description="`true`: only active ones; `false`: only inactive."),
]
RankedQ = Annotated[
    bool,
    QueryParameter(
        name="ranked",
        required=False,
        description="`true`: in sourcing order (tier, then price within one currency, then lead time, then "
        "supplier code; inactive suppliers last), each with `rank`, `reason` and `tie_breaker`.",
    ),
]


class SupplierController(Controller):
    path = "/v1/suppliers"
    tags = ["Suppliers"]

    @get("", operation_id="listSuppliers", summary="List suppliers", opt=READERS)
    async def list_suppliers(
        self,
        conn: Conn,
        type: TypeQ = None,
        active: ActiveQ = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> SupplierPage:
        """Every supplier, in code order, one keyset page at a time; `?type=` and `?active=` filter."""
        return await suppliers.list_suppliers(conn, type=type, active=active, limit=limit, cursor=cursor)

    @post("", operation_id="createSupplier", summary="Create a supplier", opt=WRITERS)
    async def create_supplier(self, conn: Conn, principal: Actor, data: JSONBody[SupplierCreate]) -> Response[Supplier]:
        """Create a supplier of a tier (`manufacturer`, `agent`, `wholesaler`, `trading_company`) with up to
        20 contacts. A taken code is a 409."""
        created = await suppliers.create_supplier(conn, principal, data)
        return entity(created, version=created.version, created_at=f"{self.path}/{created.code}")

    @get("/{code:str}", operation_id="getSupplier", summary="Get a supplier", opt=READERS)
    async def get_supplier(
        self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Supplier]:
        """One supplier; `If-None-Match` with its ETag answers 304."""
        found = await suppliers.get_supplier(conn, code)
        return entity(found, version=found.version, if_none_match=if_none_match)

    @put("/{code:str}", operation_id="putSupplier", summary="Create or replace a supplier", opt=WRITERS | UPSERT)
    async def put_supplier(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[SupplierFields],
        if_match: IfMatch = None,
    ) -> Response[Supplier]:
        """Idempotent upsert for imports: creates the supplier (201) or replaces its fields (200)."""
        found, created = await suppliers.put_supplier(conn, principal, code, data, expected(if_match))
        return upserted(found, version=found.version, created=created, location=f"{self.path}/{found.code}")

    @patch("/{code:str}", operation_id="patchSupplier", summary="Change a supplier", opt=WRITERS)
    async def patch_supplier(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[SupplierPatch],
        if_match: IfMatch = None,
    ) -> Response[Supplier]:
        """A JSON merge patch (RFC 7396); `contacts` is replaced whole; `{"active": false}` retires a supplier
        (its terms then no longer count for the purchasing stage)."""
        changed = await suppliers.patch_supplier(conn, principal, code, data, expected(if_match))
        return entity(changed, version=changed.version)

    @delete("/{code:str}", operation_id="deleteSupplier", summary="Delete a supplier", opt=WRITERS)
    async def delete_supplier(
        self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None
    ) -> None:
        """Delete a supplier without product terms; one that still has terms is a 409 naming the products
        (deactivate it instead)."""
        await suppliers.delete_supplier(conn, principal, code, expected(if_match))


class ProductSupplierController(Controller):
    path = "/v1/products/{code:str}/suppliers"
    tags = ["Suppliers"]

    @get("", operation_id="listProductSuppliers", summary="List a product's supplier terms", opt=READERS)
    async def list_terms(
        self,
        conn: Conn,
        code: FromPath[str],
        ranked: RankedQ = False,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> ProductSupplierPage:
        """The product's supplier terms in supplier code order, one keyset page at a time. With
        `?ranked=true` in sourcing order: tier (manufacturer > agent > wholesaler > trading_company), then
        purchase price, then lead time, then supplier code. Prices are compared only within one currency:
        when terms are in several currencies the order within a tier is currency code, then price. Inactive
        suppliers come last (reason `inactive`). Each entry says its `rank`, its `reason` (e.g.
        `manufacturer; 38.50 CNY; 14 days`) and the `tie_breaker` that put it before the next one."""
        return await terms.list_terms(conn, code, ranked_order=ranked, limit=limit, cursor=cursor)

    @post("", operation_id="createProductSupplier", summary="Add a supplier's terms to a product", opt=WRITERS)
    async def create_terms(
        self, conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[TermsCreate]
    ) -> Response[ProductSupplier]:
        """Add a supplier's terms (purchase price, MOQ, lead time) to a product. `preferred: true` makes it the
        product's one preferred supplier and un-prefers the previous one in the same transaction. An unknown
        supplier is a 422 at `/supplier`; terms the pair has already are a 409."""
        created = await terms.create_terms(conn, principal, code, data)
        return entity(created, version=created.version, created_at=f"/v1/products/{code}/suppliers/{created.supplier}")

    @get(
        "/{supplier:str}",
        operation_id="getProductSupplier",
        summary="Get a product's terms with a supplier",
        opt=READERS,
    )
    async def get_terms(
        self, conn: Conn, code: FromPath[str], supplier: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[ProductSupplier]:
        """One product's terms with one supplier; `If-None-Match` with their ETag answers 304."""
        found = await terms.get_terms(conn, code, supplier)
        return entity(found, version=found.version, if_none_match=if_none_match)

    @put(
        "/{supplier:str}",
        operation_id="putProductSupplier",
        summary="Create or replace a product's terms with a supplier",
        opt=WRITERS | UPSERT,
    )
    async def put_terms(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        supplier: FromPath[str],
        data: JSONBody[TermsFields],
        if_match: IfMatch = None,
    ) -> Response[ProductSupplier]:
        """Idempotent upsert for imports: creates the terms (201) or replaces them (200). `preferred: true`
        un-prefers the product's previous preferred supplier in the same transaction."""
        found, created = await terms.put_terms(conn, principal, code, supplier, data, expected(if_match))
        return upserted(
            found, version=found.version, created=created, location=f"/v1/products/{code}/suppliers/{supplier}"
        )

    @patch(
        "/{supplier:str}",
        operation_id="patchProductSupplier",
        summary="Change a product's terms with a supplier",
        opt=WRITERS,
    )
    async def patch_terms(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        supplier: FromPath[str],
        data: JSONBody[TermsPatch],
        if_match: IfMatch = None,
    ) -> Response[ProductSupplier]:
        """A JSON merge patch (RFC 7396) of the terms; `{"preferred": true}` un-prefers the product's previous
        preferred supplier in the same transaction."""
        changed = await terms.patch_terms(conn, principal, code, supplier, data, expected(if_match))
        return entity(changed, version=changed.version)

    @delete(
        "/{supplier:str}",
        operation_id="deleteProductSupplier",
        summary="Remove a supplier's terms from a product",
        opt=WRITERS,
    )
    async def delete_terms(
        self, conn: Conn, principal: Actor, code: FromPath[str], supplier: FromPath[str], if_match: IfMatch = None
    ) -> None:
        """Remove the supplier's terms from the product (its purchasing completeness is recomputed)."""
        await terms.delete_terms(conn, principal, code, supplier, expected(if_match))
