"""Attributes: use cases, each in its own transaction (their options: options.py; the attribute sets of
categories: sets.py)."""

from __future__ import annotations

import asyncpg
import msgspec

from domain.attributes import store
from domain.attributes.model import (
    OPTION_TYPES,
    Attribute,
    AttributeCreate,
    AttributeExists,
    AttributeFields,
    AttributeInUse,
    AttributeNotFound,
    AttributePage,
    AttributePatch,
)
from domain.attributes.rules import canonical_rules, rule_errors
from domain.audit import service as audit
from domain.errors import REFERENCES_SHOWN, FieldError, StillReferenced, ValidationFailed
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.versioning import Versioned, unchanged


async def _checked(conn: asyncpg.Connection, fields: AttributeFields) -> tuple[AttributeFields, int | None]:
    """The fields with canonical rules, and the group's id; misfit rules and an unknown group are 422."""
    errors = rule_errors(fields.type, fields.validation)
    group_id = None
    if fields.group is not None:
        group_id = await store.get_group_id(conn, fields.group)
        if group_id is None:
            errors.insert(
                0,
                FieldError(
                    pointer="/group",
                    code="unknown_group",
                    message=f"No attribute group has the code {fields.group!r}.",
                ),
            )
    if errors:
        raise ValidationFailed(errors)
    return msgspec.structs.replace(fields, validation=canonical_rules(fields.validation)), group_id


async def reload(conn: asyncpg.Connection, code: str) -> Attribute:
    """An attribute read back in the transaction that wrote it."""
    attribute = await store.get_attribute(conn, code)
    assert attribute is not None, "read back in the transaction that wrote it"
    return attribute


async def list_attributes(
    conn: asyncpg.Connection,
    *,
    group: str | None,
    type_: str | None,
    visibility: str | None,
    filterable: bool | None,
    limit: int,
    cursor: str | None,
) -> AttributePage:
    """Attributes in code order, optionally of one group, type, visibility or filterability."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_attributes(
        conn,
        after=after[0] if after else None,
        group=group,
        type_=type_,
        visibility=visibility,
        filterable=filterable,
        limit=limit + 1,
    )
    items, next_cursor = split_page(rows, limit, lambda a: [a.code])
    return AttributePage(items=items, next_cursor=next_cursor)


async def get_attribute(conn: asyncpg.Connection, code: str) -> Attribute:
    """One attribute, with its options when it is a select or multiselect."""
    attribute = await store.get_attribute(conn, code)
    if attribute is None:
        raise AttributeNotFound(code)
    return attribute


async def create_attribute(conn: asyncpg.Connection, actor: Principal, body: AttributeCreate) -> Attribute:
    """Create an attribute; rules that do not fit its type are 422, a taken code is 409."""
    async with conn.transaction():
        if await store.is_information_field(conn, body.code):
            message = f"`{body.code}` names a built-in information item; choose another code."
            raise ValidationFailed([FieldError(pointer="/code", code="reserved_code", message=message)])
        fields, group_id = await _checked(conn, body)
        if await store.insert_attribute(conn, body.code, fields, group_id) is None:
            raise AttributeExists(body.code)
        attribute = await reload(conn, body.code)
        await audit.record(
            conn, actor, "create", "attribute", attribute.code, version=attribute.version, after=attribute
        )
        return attribute


async def _update(
    conn: asyncpg.Connection, actor: Principal, locked: store.Locked, fields: AttributeFields
) -> Attribute:
    current = locked.attribute
    fields, group_id = await _checked(conn, fields)
    if unchanged(current, fields):  # once its rules are canonical
        return current
    if fields.type != current.type:
        products, skus = await store.count_attribute_values(conn, current.code)
        if products or skus:
            raise AttributeInUse(current.code, products, skus, current.type, fields.type)
        if fields.type not in OPTION_TYPES:
            await store.replace_options(conn, locked.id, [])
    await store.update_attribute(conn, locked.id, fields, group_id)
    attribute = await reload(conn, current.code)
    await audit.record(
        conn,
        actor,
        "update",
        "attribute",
        attribute.code,
        version=attribute.version,
        before=current,
        after=attribute,
    )
    return attribute


async def _delete(conn: asyncpg.Connection, actor: Principal, locked: store.Locked) -> None:
    code = locked.attribute.code
    categories = await store.list_attribute_category_codes(conn, locked.id, REFERENCES_SHOWN)
    bound = await store.count_attribute_categories(conn, locked.id) if categories else 0
    products, skus = await store.count_attribute_values(conn, code)
    if categories or products or skus:
        named = ", ".join(categories) + (", …" if bound > len(categories) else "")
        reasons = ([f"bound to {bound} categories ({named})"] if bound else []) + (
            [f"carried by {products} products and {skus} SKUs"] if products or skus else []
        )
        raise StillReferenced(
            f"Attribute {code!r} is still {' and '.join(reasons)}; unbind it and remove its values first.",
            references={
                "categories": categories,
                "category_count": bound,
                "products": products,
                "skus": skus,
            },
        )
    if not await store.delete_attribute(conn, locked.id):
        raise StillReferenced(
            f"Attribute {code!r} is read by a stage (see /v1/stages); remove it from the stage's needs first.",
            references={"stage_needs": True},
        )
    await audit.record(
        conn, actor, "delete", "attribute", code, version=locked.attribute.version, before=locked.attribute
    )


ATTRIBUTES: Versioned[store.Locked, AttributeFields] = Versioned(
    what="Attribute",
    fields=AttributeFields,
    create_body=AttributeCreate,
    lock=store.lock_attribute,
    not_found=AttributeNotFound,
    create=create_attribute,
    update=_update,
    delete=_delete,
    resource=lambda locked: locked.attribute,
)


async def put_attribute(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: AttributeFields, expected: int | None
) -> tuple[Attribute, bool]:
    """Idempotent upsert: create the attribute, or replace its fields; answers (attribute, created)."""
    return await ATTRIBUTES.put(conn, actor, code, fields, expected)


async def patch_attribute(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: AttributePatch, expected: int | None
) -> Attribute:
    """Apply a JSON merge patch to an attribute; `null` resets a field or removes a validation rule."""
    attribute: Attribute = await ATTRIBUTES.patch(conn, actor, code, patch, expected)
    return attribute


async def delete_attribute(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete an attribute nothing uses; one bound to categories or carried by products or SKUs is a 409."""
    await ATTRIBUTES.remove(conn, actor, code, expected)
