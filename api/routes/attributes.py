"""Attributes, their options and category attribute sets: /v1/attributes, /v1/categories/{code}/attributes."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import allow
from api.http import UPSERT, Actor, Conn, CursorQ, IfMatch, IfNoneMatch, LimitQ, entity, expected, upserted
from domain.attributes import options, service, sets
from domain.attributes.model import (
    Attribute,
    AttributeCreate,
    AttributeFields,
    AttributePage,
    AttributePatch,
    AttributeSet,
    BindingList,
    Option,
    OptionCreate,
    OptionFields,
    OptionList,
    Options,
)
from domain.attributes.values import AttributeType, Visibility

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")
WRITERS = allow()
# Options of an attribute that is not a select or multiselect: a 409 options-not-applicable, reads included.
OPTION_READERS = {**READERS, "problems": {409}}

GroupQ = Annotated[
    str | None,
    QueryParameter(name="group", required=False, description="Only attributes of this attribute group."),
]
TypeQ = Annotated[
    AttributeType | None,
    QueryParameter(name="type", required=False, description="Only attributes of this type."),
]
VisibilityQ = Annotated[
    Visibility | None,
    QueryParameter(name="visibility", required=False, description="Only attributes of this visibility."),
]
FilterableQ = Annotated[
    bool | None,
    QueryParameter(
        name="filterable",
        required=False,
        description="Only attributes that are (or are not) storefront filters.",
    ),
]
EffectiveQ = Annotated[
    bool,
    QueryParameter(
        name="effective",
        required=False,
        description="Also the attributes inherited from ancestor categories, with their origin.",
    ),
]


class AttributeController(Controller):
    path = "/v1/attributes"
    tags = ["Attributes"]

    @get("", operation_id="listAttributes", summary="List attributes", opt=READERS)
    async def list_attributes(
        self,
        conn: Conn,
        group: GroupQ = None,
        type: TypeQ = None,  # the query parameter's name, which error reports repeat
        visibility: VisibilityQ = None,
        filterable: FilterableQ = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> AttributePage:
        """Every attribute in code order, one keyset page at a time; `group`, `type`, `visibility` and
        `filterable` narrow the list."""
        return await service.list_attributes(
            conn,
            group=group,
            type_=type,
            visibility=visibility,
            filterable=filterable,
            limit=limit,
            cursor=cursor,
        )

    @post("", operation_id="createAttribute", summary="Create an attribute", opt=WRITERS)
    async def create_attribute(
        self, conn: Conn, principal: Actor, data: JSONBody[AttributeCreate]
    ) -> Response[Attribute]:
        """Create an attribute. `display_priority` is shopper attention: higher is shown first. Validation
        rules must fit the type (e.g. `regex` only for text, textarea and url; a measurement needs
        `unit_family` and `default_unit`); each misfit is a 422 at `/validation/<rule>`. A taken code
        is a 409."""
        attribute = await service.create_attribute(conn, principal, data)
        return entity(attribute, version=attribute.version, created_at=f"{self.path}/{attribute.code}")

    @get("/{code:str}", operation_id="getAttribute", summary="Get an attribute", opt=READERS)
    async def get_attribute(
        self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Attribute]:
        """One attribute, with its `options` when it is a select or multiselect; `If-None-Match` with its
        ETag answers 304."""
        attribute = await service.get_attribute(conn, code)
        return entity(attribute, version=attribute.version, if_none_match=if_none_match)

    @put("/{code:str}", operation_id="putAttribute", summary="Create or replace an attribute", opt=WRITERS | UPSERT)
    async def put_attribute(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[AttributeFields],
        if_match: IfMatch = None,
    ) -> Response[Attribute]:
        """Idempotent upsert for imports: creates the attribute (201) or replaces its fields (200). Changing
        the type of an attribute that products or SKUs carry is a 409."""
        attribute, created = await service.put_attribute(conn, principal, code, data, expected(if_match))
        return upserted(attribute, version=attribute.version, created=created, location=f"{self.path}/{attribute.code}")

    @patch("/{code:str}", operation_id="patchAttribute", summary="Change an attribute", opt=WRITERS)
    async def patch_attribute(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[AttributePatch],
        if_match: IfMatch = None,
    ) -> Response[Attribute]:
        """A JSON merge patch (RFC 7396): `null` resets a field to its default or removes a validation
        rule."""
        attribute = await service.patch_attribute(conn, principal, code, data, expected(if_match))
        return entity(attribute, version=attribute.version)

    @delete("/{code:str}", operation_id="deleteAttribute", summary="Delete an attribute", opt=WRITERS)
    async def delete_attribute(
        self, conn: Conn, principal: Actor, code: FromPath[str], if_match: IfMatch = None
    ) -> None:
        """Delete an unused attribute; one bound to categories or carried by products or SKUs is a 409
        `still-referenced` naming them."""
        await service.delete_attribute(conn, principal, code, expected(if_match))


class OptionController(Controller):
    path = "/v1/attributes/{code:str}/options"
    tags = ["Attributes"]

    @get("", operation_id="listAttributeOptions", summary="List an attribute's options", opt=OPTION_READERS)
    async def list_options(
        self, conn: Conn, code: FromPath[str], if_none_match: IfNoneMatch = None
    ) -> Response[Options]:
        """The options of a select or multiselect attribute, in position order; the ETag is the
        attribute's."""
        listed, version = await options.list_options(conn, code)
        return entity(listed, version=version, if_none_match=if_none_match)

    @post("", operation_id="addAttributeOption", summary="Add an option", opt=WRITERS)
    async def add_option(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[OptionCreate],
        if_match: IfMatch = None,
    ) -> Response[Option]:
        """Add one option at `position` (later options move down by one) or, without one, last. The
        attribute's version goes up; `If-Match` takes the attribute's ETag."""
        option, version = await options.add_option(conn, principal, code, data, expected(if_match))
        return entity(option, version=version, created_at=f"/v1/attributes/{code}/options/{option.code}")

    @put("", operation_id="replaceAttributeOptions", summary="Replace all options", opt=WRITERS)
    async def replace_options(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        data: JSONBody[OptionList],
        if_match: IfMatch = None,
    ) -> Response[Options]:
        """Replace the whole list (an item without `position` takes its index). Dropping an option that a
        product or SKU value still uses is a 409 naming it."""
        replaced, version = await options.replace_options(conn, principal, code, data, expected(if_match))
        return entity(replaced, version=version)

    @get("/{option:str}", operation_id="getAttributeOption", summary="Get an option", opt=OPTION_READERS)
    async def get_option(self, conn: Conn, code: FromPath[str], option: FromPath[str]) -> Response[Option]:
        """One option of a select or multiselect attribute; the ETag is the attribute's."""
        found, version = await options.get_option(conn, code, option)
        return entity(found, version=version)

    @put(
        "/{option:str}", operation_id="putAttributeOption", summary="Create or replace an option", opt=WRITERS | UPSERT
    )
    async def put_option(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        option: FromPath[str],
        data: JSONBody[OptionFields],
        if_match: IfMatch = None,
    ) -> Response[Option]:
        """Upsert one option: creates it (201, last unless `position` is given) or replaces its labels and,
        when given, its position (200)."""
        found, version, created = await options.put_option(conn, principal, code, option, data, expected(if_match))
        return upserted(found, version=version, created=created, location=f"/v1/attributes/{code}/options/{found.code}")

    @delete("/{option:str}", operation_id="deleteAttributeOption", summary="Delete an option", opt=WRITERS)
    async def delete_option(
        self,
        conn: Conn,
        principal: Actor,
        code: FromPath[str],
        option: FromPath[str],
        if_match: IfMatch = None,
    ) -> None:
        """Delete one option; one that a product or SKU value still uses is a 409."""
        await options.delete_option(conn, principal, code, option, expected(if_match))


class AttributeSetController(Controller):
    path = "/v1/categories/{code:str}/attributes"
    tags = ["Attribute sets"]

    @get("", operation_id="getCategoryAttributeSet", summary="Get a category's attribute set", opt=READERS)
    async def get_attribute_set(self, conn: Conn, code: FromPath[str], effective: EffectiveQ = False) -> AttributeSet:
        """The attributes bound to this category, in the order they were given. With `effective=true`, also
        those bound on its ancestors (`inherited`, with the `origin` category); when one attribute is bound at
        several levels the nearest binding wins, and the set is in shopper-attention order (effective
        `display_priority` descending, then code)."""
        return await sets.get_attribute_set(conn, code, effective=effective)

    @put("", operation_id="putCategoryAttributeSet", summary="Replace a category's attribute set", opt=WRITERS)
    async def put_attribute_set(
        self, conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[BindingList]
    ) -> AttributeSet:
        """Replace the category's own binding: each attribute with the stages it is required for and an
        optional `display_priority` override. Categories below inherit it. An unknown or repeated attribute
        or stage is a 422."""
        return await sets.put_attribute_set(conn, principal, code, data)
