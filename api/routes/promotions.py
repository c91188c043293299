"""Promotions (活动): /v1/promotions."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upserted
from domain.promotions import service as promotions
from domain.promotions.model import Promotion, PromotionCreate, PromotionFields, PromotionPage, PromotionPatch

READERS = allow("purchasing", "listing", "marketing", "service", "finance")
WRITERS = allow("marketing")

ActiveAtQ = Annotated[
    str | None,
    QueryParameter(
        name="active_at",
        required=False,
        description="An RFC 3339 moment: only active promotions running then.",
        schema_extra={"format": "date-time"},
    ),
]


class PromotionController(Controller):
    path = "/v1/promotions"
    tags = ["Promotions"]

    @get("", operation_id="listPromotions", summary="List promotions", opt=READERS)
    async def list_promotions(
        self, conn: Conn, active_at: ActiveAtQ = None, limit: LimitQ = 50, cursor: CursorQ = None
    ) -> PromotionPage:
        """Promotions in code order, one keyset page at a time; `active_at` keeps the active ones running then."""
        return await promotions.list_promotions(conn, active_at=active_at, limit=limit, cursor=cursor)

    @post("", operation_id="createPromotion", summary="Create a promotion", opt=WRITERS)
    async def create_promotion(
        self, conn: Conn, principal: Actor, data: JSONBody[PromotionCreate]
    ) -> Response[Promotion]:
        """Create a promotion over [starts_at, ends_at) with its SKUs and promotion prices. A taken code is a
        409; reversed dates, unknown or repeated SKUs and bad prices are a 422 naming each field."""
        promotion = await promotions.create_promotion(conn, principal, data)
        return entity(promotion, version=promotion.version, created_at=f"{self.path}/{promotion.code}")

    @get("/{code:str}", operation_id="getPromotion", summary="Get a promotion", opt=READERS)
    async def get_promotion(
        self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Promotion]:
        """One promotion with its items; `If-None-Match` with its ETag answers 304."""
        promotion = await promotions.get_promotion(conn, code)
        return entity(promotion, version=promotion.version, if_none_match=if_none_match)

    @put("/{code:str}", operation_id="putPromotion", summary="Create or replace a promotion", opt=WRITERS | UPSERT)
    async def put_promotion(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[PromotionFields],
        if_match: IfMatch = None,
    ) -> Response[Promotion]:
        """Idempotent upsert for imports: creates the promotion (201) or replaces its fields and items (200)."""
        promotion, created = await promotions.put_promotion(conn, principal, code, data, expected(if_match))
        return upserted(promotion, version=promotion.version, created=created, location=f"{self.path}/{promotion.code}")

    @patch("/{code:str}", operation_id="patchPromotion", summary="Change a promotion", opt=WRITERS)
    async def patch_promotion(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[PromotionPatch],
        if_match: IfMatch = None,
    ) -> Response[Promotion]:
        """A JSON merge patch (RFC 7396); `items`, when sent, replaces the whole list."""
        promotion = await promotions.patch_promotion(conn, principal, code, data, expected(if_match))
        return entity(promotion, version=promotion.version)

    @delete("/{code:str}", operation_id="deletePromotion", summary="Delete a promotion", opt=WRITERS)
    async def delete_promotion(
        self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None
    ) -> None:
        """Delete a promotion and its items."""
        await promotions.delete_promotion(conn, principal, code, expected(if_match))
