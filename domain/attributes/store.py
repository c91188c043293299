"""The only place that runs the attribute area's queries (sql/queries/attributes.sql)."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from domain.attributes.model import OPTION_TYPES, Attribute, AttributeFields, AttributeSetEntry, Binding, Option
from domain.attributes.rules import ValidationRules
from domain.attributes.values import AttributeDef
from domain.sql import load
from domain.types import STAGES

Q = load("attributes")

# Bound at import, so that a missing statement fails at start-up.
LIST_ATTRIBUTES = Q.list_attributes.sql
GET_ATTRIBUTE = Q.get_attribute.sql
LOCK_ATTRIBUTE = Q.lock_attribute.sql
GET_GROUP_ID = Q.get_group_id.sql
IS_INFORMATION_FIELD = Q.is_information_field.sql
INSERT_ATTRIBUTE = Q.insert_attribute.sql
UPDATE_ATTRIBUTE = Q.update_attribute.sql
UPDATE_ATTRIBUTE_VERSION = Q.update_attribute_version.sql
DELETE_ATTRIBUTE = Q.delete_attribute.sql
COUNT_ATTRIBUTE_VALUES = Q.count_attribute_values.sql
LIST_ATTRIBUTE_CATEGORY_CODES = Q.list_attribute_category_codes.sql
COUNT_ATTRIBUTE_CATEGORIES = Q.count_attribute_categories.sql
LIST_OPTION_USAGE = Q.list_option_usage.sql
GET_NEXT_OPTION_POSITION = Q.get_next_option_position.sql
UPDATE_OPTION_POSITIONS = Q.update_option_positions.sql
UPSERT_OPTION = Q.upsert_option.sql
UPSERT_OPTIONS = Q.upsert_options.sql
DELETE_OPTIONS_EXCEPT = Q.delete_options_except.sql
DELETE_OPTION = Q.delete_option.sql
LOCK_CATEGORY = Q.lock_category.sql
GET_CATEGORY_ID = Q.get_category_id.sql
LIST_ATTRIBUTE_CODES = Q.list_attribute_codes.sql
LIST_OWN_BINDINGS = Q.list_own_bindings.sql
DELETE_CATEGORY_ATTRIBUTES = Q.delete_category_attributes.sql
INSERT_CATEGORY_ATTRIBUTES = Q.insert_category_attributes.sql
LIST_ATTRIBUTE_SET = Q.list_attribute_set.sql
LIST_EFFECTIVE_DEFINITIONS_OF = Q.list_effective_definitions_of.sql


class Locked(msgspec.Struct, frozen=True, kw_only=True):
    """An attribute read under its row lock, with the id the writes need."""

    id: int
    attribute: Attribute


def _attribute(row: asyncpg.Record) -> Attribute:
    data = dict(row)
    if data["type"] not in OPTION_TYPES:
        data.pop("options")
    return msgspec.convert(data, Attribute, strict=False)


async def list_attributes(
    conn: asyncpg.Connection,
    *,
    after: str | None,
    group: str | None,
    type_: str | None,
    visibility: str | None,
    filterable: bool | None,
    limit: int,
) -> list[Attribute]:
    rows = await conn.fetch(LIST_ATTRIBUTES, after, group, type_, visibility, filterable, limit)
    return [_attribute(r) for r in rows]


async def get_attribute(conn: asyncpg.Connection, code: str) -> Attribute | None:
    row = await conn.fetchrow(GET_ATTRIBUTE, code)
    return _attribute(row) if row is not None else None


async def lock_attribute(conn: asyncpg.Connection, code: str) -> Locked | None:
    row = await conn.fetchrow(LOCK_ATTRIBUTE, code)
    return Locked(id=row["id"], attribute=_attribute(row)) if row is not None else None


async def is_information_field(conn: asyncpg.Connection, code: str) -> bool:
    return bool(await conn.fetchval(IS_INFORMATION_FIELD, code))


async def get_group_id(conn: asyncpg.Connection, code: str) -> int | None:
    value = await conn.fetchval(GET_GROUP_ID, code)
    return int(value) if value is not None else None


def _rules(rules: ValidationRules) -> dict[str, Any]:
    builtins = msgspec.to_builtins(rules)
    assert isinstance(builtins, dict)
    return builtins


async def insert_attribute(
    conn: asyncpg.Connection, code: str, fields: AttributeFields, group_id: int | None
) -> int | None:
    value = await conn.fetchval(
        INSERT_ATTRIBUTE,
        code,
        fields.type,
        group_id,
        fields.labels,
        fields.visibility,
        fields.display_priority,
        fields.filterable,
        _rules(fields.validation),
    )
    return int(value) if value is not None else None


async def update_attribute(
    conn: asyncpg.Connection, attribute_id: int, fields: AttributeFields, group_id: int | None
) -> None:
    await conn.execute(
        UPDATE_ATTRIBUTE,
        attribute_id,
        fields.type,
        group_id,
        fields.labels,
        fields.visibility,
        fields.display_priority,
        fields.filterable,
        _rules(fields.validation),
    )


async def update_attribute_version(conn: asyncpg.Connection, attribute_id: int) -> None:
    await conn.execute(UPDATE_ATTRIBUTE_VERSION, attribute_id)


async def delete_attribute(conn: asyncpg.Connection, attribute_id: int) -> bool:
    """False when a foreign key refuses it (a stage's needs read the attribute)."""
    try:
        await conn.execute(DELETE_ATTRIBUTE, attribute_id)
    except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError):
        return False
    return True


async def count_attribute_values(conn: asyncpg.Connection, code: str) -> tuple[int, int]:
    """(products, SKUs) that carry a value of the attribute."""
    row = await conn.fetchrow(COUNT_ATTRIBUTE_VALUES, code)
    return int(row["products"]), int(row["skus"])


async def list_attribute_category_codes(conn: asyncpg.Connection, attribute_id: int, limit: int) -> list[str]:
    return [r["code"] for r in await conn.fetch(LIST_ATTRIBUTE_CATEGORY_CODES, attribute_id, limit)]


async def count_attribute_categories(conn: asyncpg.Connection, attribute_id: int) -> int:
    return int(await conn.fetchval(COUNT_ATTRIBUTE_CATEGORIES, attribute_id))


async def list_option_usage(conn: asyncpg.Connection, code: str, options: list[str]) -> dict[str, int]:
    """Of these options, those some product or SKU value uses: {option: products}."""
    if not options:
        return {}
    return {r["option"]: int(r["products"]) for r in await conn.fetch(LIST_OPTION_USAGE, code, options)}


async def get_next_option_position(conn: asyncpg.Connection, attribute_id: int) -> int:
    return int(await conn.fetchval(GET_NEXT_OPTION_POSITION, attribute_id))


async def upsert_option(conn: asyncpg.Connection, attribute_id: int, option: Option) -> None:
    await conn.execute(UPDATE_OPTION_POSITIONS, attribute_id, option.position, option.code)
    await conn.execute(UPSERT_OPTION, attribute_id, option.code, option.labels, option.position)


async def replace_options(conn: asyncpg.Connection, attribute_id: int, options: list[Option]) -> None:
    await conn.execute(DELETE_OPTIONS_EXCEPT, attribute_id, [o.code for o in options])
    await conn.execute(UPSERT_OPTIONS, attribute_id, msgspec.to_builtins(options))


async def delete_option(conn: asyncpg.Connection, attribute_id: int, option: str) -> None:
    await conn.execute(DELETE_OPTION, attribute_id, option)


async def lock_category(conn: asyncpg.Connection, code: str) -> int | None:
    value = await conn.fetchval(LOCK_CATEGORY, code)
    return int(value) if value is not None else None


async def get_category_id(conn: asyncpg.Connection, code: str) -> int | None:
    value = await conn.fetchval(GET_CATEGORY_ID, code)
    return int(value) if value is not None else None


async def list_attribute_codes(conn: asyncpg.Connection, codes: list[str]) -> set[str]:
    return {r["code"] for r in await conn.fetch(LIST_ATTRIBUTE_CODES, codes)}


def _in_stage_order(row: asyncpg.Record) -> dict[str, Any]:
    # stages read back in the order a product flows through them, however they were written
    return {**dict(row), "required_for": [s for s in STAGES if s in row["required_for"]]}


async def list_own_bindings(conn: asyncpg.Connection, category_id: int) -> list[Binding]:
    rows = await conn.fetch(LIST_OWN_BINDINGS, category_id)
    return [msgspec.convert(_in_stage_order(r), Binding) for r in rows]


async def replace_bindings(conn: asyncpg.Connection, category_id: int, bindings: list[Binding]) -> None:
    await conn.execute(DELETE_CATEGORY_ATTRIBUTES, category_id)
    if bindings:
        await conn.execute(
            INSERT_CATEGORY_ATTRIBUTES,
            category_id,
            [b.attribute for b in bindings],
            [",".join(b.required_for) for b in bindings],
            [b.display_priority for b in bindings],
            list(range(len(bindings))),
        )


async def list_attribute_set(conn: asyncpg.Connection, category_id: int, effective: bool) -> list[AttributeSetEntry]:
    rows = await conn.fetch(LIST_ATTRIBUTE_SET, category_id, effective)
    return [msgspec.convert(_in_stage_order(r), AttributeSetEntry) for r in rows]


async def list_effective_definitions_of(
    conn: asyncpg.Connection, category_ids: list[int]
) -> list[tuple[int, AttributeDef]]:
    """(category id, definition) for every attribute of these categories' effective sets."""
    rows = await conn.fetch(LIST_EFFECTIVE_DEFINITIONS_OF, category_ids)
    return [
        (
            r["category_id"],
            msgspec.convert({k: r[k] for k in r.keys() if k != "category_id"}, AttributeDef, strict=False),
        )
        for r in rows
    ]
