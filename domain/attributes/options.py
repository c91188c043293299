"""The options of select and multiselect attributes: use cases, each in its own transaction. An option
change is a change of its attribute: one version step and one audit row of the attribute."""

from __future__ import annotations

import asyncpg

from domain.attributes import store
from domain.attributes.model import (
    Attribute,
    Option,
    OptionCreate,
    OptionExists,
    OptionFields,
    OptionInUse,
    OptionList,
    OptionNotFound,
    Options,
    find_option,
    option_list_errors,
    options_of,
    ordered_options,
)
from domain.attributes.service import ATTRIBUTES, get_attribute, reload
from domain.audit import service as audit
from domain.errors import ValidationFailed
from domain.keys.model import Principal
from domain.types import Code
from domain.validation import convert_or_raise


async def _refuse_used(conn: asyncpg.Connection, code: str, options: list[str]) -> None:
    usage = await store.list_option_usage(conn, code, options)
    if usage:
        raise OptionInUse(code, usage)


async def _options_changed(conn: asyncpg.Connection, actor: Principal, locked: store.Locked) -> Attribute:
    await store.update_attribute_version(conn, locked.id)
    attribute = await reload(conn, locked.attribute.code)
    await audit.record(
        conn,
        actor,
        "update",
        "attribute",
        attribute.code,
        version=attribute.version,
        before=locked.attribute,
        after=attribute,
    )
    return attribute


def _written(attribute: Attribute, option: str) -> Option:
    found = find_option(options_of(attribute), option)
    assert found is not None, "an option written in this transaction is there"
    return found


async def list_options(conn: asyncpg.Connection, code: str) -> tuple[Options, int]:
    """The options of a select or multiselect attribute in position order, and the attribute's version."""
    attribute = await get_attribute(conn, code)
    return Options(options=options_of(attribute)), attribute.version


async def get_option(conn: asyncpg.Connection, code: str, option: str) -> tuple[Option, int]:
    """One option, and the attribute's version."""
    attribute = await get_attribute(conn, code)
    found = find_option(options_of(attribute), option)
    if found is None:
        raise OptionNotFound(code, option)
    return found, attribute.version


async def add_option(
    conn: asyncpg.Connection, actor: Principal, code: str, body: OptionCreate, expected: int | None
) -> tuple[Option, int]:
    """Add one option (at `position`, moving later ones down, or last); a taken option code is 409."""
    async with conn.transaction():
        locked = await ATTRIBUTES.locked(conn, code, expected)
        if find_option(options_of(locked.attribute), body.code) is not None:
            raise OptionExists(code, body.code)
        position = body.position if body.position is not None else await store.get_next_option_position(conn, locked.id)
        await store.upsert_option(conn, locked.id, Option(code=body.code, labels=body.labels, position=position))
        attribute = await _options_changed(conn, actor, locked)
        return _written(attribute, body.code), attribute.version


async def put_option(
    conn: asyncpg.Connection,
    actor: Principal,
    code: str,
    option: str,
    fields: OptionFields,
    expected: int | None,
) -> tuple[Option, int, bool]:
    """Create or replace one option (no position: keep it, or go last); answers (option, version, created)."""
    async with conn.transaction():
        locked = await ATTRIBUTES.locked(conn, code, expected)
        current = find_option(options_of(locked.attribute), option)
        if current is None:
            option = convert_or_raise(option, Code, "/code")
            position = (
                fields.position
                if fields.position is not None
                else await store.get_next_option_position(conn, locked.id)
            )
        else:
            position = fields.position if fields.position is not None else current.position
        wanted = Option(code=option, labels=fields.labels, position=position)
        if wanted == current:
            return current, locked.attribute.version, False
        await store.upsert_option(conn, locked.id, wanted)
        attribute = await _options_changed(conn, actor, locked)
        return _written(attribute, option), attribute.version, current is None


async def replace_options(
    conn: asyncpg.Connection, actor: Principal, code: str, body: OptionList, expected: int | None
) -> tuple[Options, int]:
    """Replace the whole list of options; dropping one that product or SKU values still use is a 409."""
    async with conn.transaction():
        locked = await ATTRIBUTES.locked(conn, code, expected)
        current = options_of(locked.attribute)
        errors = option_list_errors(body.options)
        if errors:
            raise ValidationFailed(errors)
        wanted = ordered_options(body.options)
        if wanted == current:
            return Options(options=current), locked.attribute.version
        await _refuse_used(conn, code, sorted({o.code for o in current} - {o.code for o in body.options}))
        await store.replace_options(conn, locked.id, wanted)
        attribute = await _options_changed(conn, actor, locked)
        return Options(options=options_of(attribute)), attribute.version


async def delete_option(
    conn: asyncpg.Connection, actor: Principal, code: str, option: str, expected: int | None
) -> None:
    """Delete one option; one that product or SKU values still use is a 409."""
    async with conn.transaction():
        locked = await ATTRIBUTES.locked(conn, code, expected)
        if find_option(options_of(locked.attribute), option) is None:
            raise OptionNotFound(code, option)
        await _refuse_used(conn, code, [option])
        await store.delete_option(conn, locked.id, option)
        await _options_changed(conn, actor, locked)
