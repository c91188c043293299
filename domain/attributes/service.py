"""Attributes, their options and the attribute sets of categories: use cases, each in its own transaction."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from domain.attributes import store
from domain.attributes.model import (
    OPTION_TYPES,
    STAGES,
    Attribute,
    AttributeCreate,
    AttributeFields,
    AttributePatch,
    AttributeSet,
    AttributeSetEntry,
    BindingList,
    Option,
    OptionCreate,
    OptionFields,
    OptionList,
    Options,
    canonical_rules,
    rule_errors,
)
from domain.attributes.values import AttributeDef
from domain.audit import service as audit
from domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
    pointer_join,
)
from domain.jobs import service as jobs
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.types import Code, Page
from domain.validation import convert_or_raise
from domain.versioning import check_version, created_by_put, patched, unchanged

NAMED = 10  # how many blocking references a 409 names


def _not_found(code: str) -> NotFound:
    return NotFound(f"No attribute has the code {code!r}.", code="attribute-not-found")


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


async def _reload(conn: asyncpg.Connection, code: str) -> Attribute:
    attribute = await store.get_attribute(conn, code)
    assert attribute is not None, "read back in the transaction that wrote it"
    return attribute


async def _locked(conn: asyncpg.Connection, code: str) -> store.Locked:
    locked = await store.lock_attribute(conn, code)
    if locked is None:
        raise _not_found(code)
    return locked


async def list_attributes(
    conn: asyncpg.Connection,
    *,
    group: str | None,
    type_: str | None,
    visibility: str | None,
    filterable: bool | None,
    limit: int,
    cursor: str | None,
) -> Page[Attribute]:
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
    return Page(items=items, next_cursor=next_cursor)


async def get_attribute(conn: asyncpg.Connection, code: str) -> Attribute:
    """One attribute, with its options when it is a select or multiselect."""
    attribute = await store.get_attribute(conn, code)
    if attribute is None:
        raise _not_found(code)
    return attribute


async def create_attribute(conn: asyncpg.Connection, actor: Principal, body: AttributeCreate) -> Attribute:
    """Create an attribute; rules that do not fit its type are 422, a taken code is 409."""
    async with conn.transaction():
        if await store.is_information_field(conn, body.code):
            message = f"`{body.code}` names a built-in information item; choose another code."
            raise ValidationFailed([FieldError(pointer="/code", code="reserved_code", message=message)])
        fields, group_id = await _checked(conn, body)
        if await store.insert_attribute(conn, body.code, fields, group_id) is None:
            raise Conflict(f"An attribute with the code {body.code!r} exists already.", code="attribute-exists")
        attribute = await _reload(conn, body.code)
        await audit.record(
            conn, actor, "create", "attribute", attribute.code, version=attribute.version, after=attribute
        )
        return attribute


async def _update(
    conn: asyncpg.Connection,
    actor: Principal,
    locked: store.Locked,
    fields: AttributeFields,
    expected: int | None,
) -> Attribute:
    current = locked.attribute
    check_version(expected, current.version, f"Attribute {current.code!r}")
    fields, group_id = await _checked(conn, fields)
    if unchanged(current, fields):
        return current
    if fields.type != current.type:
        products, skus = await store.count_attribute_values(conn, current.code)
        if products or skus:
            raise Conflict(
                f"Attribute {current.code!r} has values on {products} products and {skus} SKUs; "
                f"its type cannot change from {current.type} to {fields.type}.",
                code="attribute-in-use",
                products=products,
                skus=skus,
            )
        if fields.type not in OPTION_TYPES:
            await store.replace_options(conn, locked.id, [])
    await store.update_attribute(conn, locked.id, fields, group_id)
    attribute = await _reload(conn, current.code)
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


async def put_attribute(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: AttributeFields, expected: int | None
) -> tuple[Attribute, bool]:
    """Idempotent upsert: create the attribute, or replace its fields; answers (attribute, created)."""
    async with conn.transaction():
        locked = await store.lock_attribute(conn, code)
        if locked is None:
            body = created_by_put(AttributeCreate, f"Attribute {code!r}", code, fields, expected)
            return await create_attribute(conn, actor, body), True
        return await _update(conn, actor, locked, fields, expected), False


async def patch_attribute(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: AttributePatch, expected: int | None
) -> Attribute:
    """Apply a JSON merge patch to an attribute; `null` resets a field or removes a validation rule."""
    async with conn.transaction():
        locked = await _locked(conn, code)
        return await _update(conn, actor, locked, patched(locked.attribute, patch, AttributeFields), expected)


async def delete_attribute(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete an attribute nothing uses; one bound to categories or carried by products or SKUs is a 409."""
    async with conn.transaction():
        locked = await _locked(conn, code)
        current = locked.attribute
        check_version(expected, current.version, f"Attribute {code!r}")
        categories = await store.list_attribute_category_codes(conn, locked.id, NAMED)
        bound = await store.count_attribute_categories(conn, locked.id) if categories else 0
        products, skus = await store.count_attribute_values(conn, code)
        if categories or products or skus:
            named = ", ".join(categories) + (", …" if bound > len(categories) else "")
            reasons = ([f"bound to {bound} categories ({named})"] if bound else []) + (
                [f"carried by {products} products and {skus} SKUs"] if products or skus else []
            )
            raise Conflict(
                f"Attribute {code!r} is still {' and '.join(reasons)}; unbind it and remove its values first.",
                code="still-referenced",
                references={
                    "categories": categories,
                    "category_count": bound,
                    "products": products,
                    "skus": skus,
                },
            )
        try:
            await store.delete_attribute(conn, locked.id)
        except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError):
            raise Conflict(
                f"Attribute {code!r} is read by a stage (see /v1/stages); remove it from the stage's needs first.",
                code="still-referenced",
                references={"stage_needs": True},
            ) from None
        await audit.record(conn, actor, "delete", "attribute", code, version=current.version, before=current)


# Options ------------------------------------------------------------------------------------------


def _options_of(attribute: Attribute) -> list[Option]:
    if attribute.type not in OPTION_TYPES or isinstance(attribute.options, msgspec.UnsetType):
        raise Conflict(
            f"Attribute {attribute.code!r} is of type {attribute.type}; "
            "only select and multiselect attributes have options.",
            code="options-not-applicable",
            type=attribute.type,
        )
    return attribute.options


def _option_not_found(code: str, option: str) -> NotFound:
    return NotFound(f"Attribute {code!r} has no option {option!r}.", code="option-not-found")


async def _refuse_used(conn: asyncpg.Connection, code: str, options: list[str]) -> None:
    usage = await store.list_option_usage(conn, code, options)
    if usage:
        named = ", ".join(f"{o} ({n} products)" for o, n in usage.items())
        raise Conflict(
            f"Options of {code!r} still in use by product or SKU values: {named}.",
            code="option-in-use",
            in_use=[{"option": o, "products": n} for o, n in usage.items()],
        )


async def _options_changed(conn: asyncpg.Connection, actor: Principal, locked: store.Locked) -> Attribute:
    await store.update_attribute_version(conn, locked.id)
    attribute = await _reload(conn, locked.attribute.code)
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


def _find(options: list[Option], code: str) -> Option | None:
    return next((o for o in options if o.code == code), None)


async def list_options(conn: asyncpg.Connection, code: str) -> tuple[Options, int]:
    """The options of a select or multiselect attribute in position order, and the attribute's version."""
    attribute = await get_attribute(conn, code)
    return Options(options=_options_of(attribute)), attribute.version


async def get_option(conn: asyncpg.Connection, code: str, option: str) -> tuple[Option, int]:
    """One option, and the attribute's version."""
    attribute = await get_attribute(conn, code)
    found = _find(_options_of(attribute), option)
    if found is None:
        raise _option_not_found(code, option)
    return found, attribute.version


async def add_option(
    conn: asyncpg.Connection, actor: Principal, code: str, body: OptionCreate, expected: int | None
) -> tuple[Option, int]:
    """Add one option (at `position`, moving later ones down, or last); a taken option code is 409."""
    async with conn.transaction():
        locked = await _locked(conn, code)
        check_version(expected, locked.attribute.version, f"Attribute {code!r}")
        if _find(_options_of(locked.attribute), body.code) is not None:
            raise Conflict(f"Attribute {code!r} has an option {body.code!r} already.", code="option-exists")
        position = body.position if body.position is not None else await store.get_next_option_position(conn, locked.id)
        await store.upsert_option(conn, locked.id, Option(code=body.code, labels=body.labels, position=position))
        attribute = await _options_changed(conn, actor, locked)
        return _find(_options_of(attribute), body.code) or _never(), attribute.version


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
        locked = await _locked(conn, code)
        check_version(expected, locked.attribute.version, f"Attribute {code!r}")
        current = _find(_options_of(locked.attribute), option)
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
        return _find(_options_of(attribute), option) or _never(), attribute.version, current is None


async def replace_options(
    conn: asyncpg.Connection, actor: Principal, code: str, body: OptionList, expected: int | None
) -> tuple[Options, int]:
    """Replace the whole list of options; dropping one that product or SKU values still use is a 409."""
    async with conn.transaction():
        locked = await _locked(conn, code)
        check_version(expected, locked.attribute.version, f"Attribute {code!r}")
        current = _options_of(locked.attribute)
        seen: set[str] = set()
        errors = []
        for i, item in enumerate(body.options):
            if item.code in seen:
                errors.append(
                    FieldError(
                        pointer=f"/options/{i}/code",
                        code="duplicate",
                        message=f"{item.code!r} is listed twice.",
                    )
                )
            seen.add(item.code)
        if errors:
            raise ValidationFailed(errors)
        wanted = sorted(
            (
                Option(code=o.code, labels=o.labels, position=i if o.position is None else o.position)
                for i, o in enumerate(body.options)
            ),
            key=lambda o: (o.position, o.code),
        )
        if wanted == current:
            return Options(options=current), locked.attribute.version
        await _refuse_used(conn, code, sorted({o.code for o in current} - seen))
        await store.replace_options(conn, locked.id, wanted)
        attribute = await _options_changed(conn, actor, locked)
        return Options(options=_options_of(attribute)), attribute.version


async def delete_option(
    conn: asyncpg.Connection, actor: Principal, code: str, option: str, expected: int | None
) -> None:
    """Delete one option; one that product or SKU values still use is a 409."""
    async with conn.transaction():
        locked = await _locked(conn, code)
        check_version(expected, locked.attribute.version, f"Attribute {code!r}")
        if _find(_options_of(locked.attribute), option) is None:
            raise _option_not_found(code, option)
        await _refuse_used(conn, code, [option])
        await store.delete_option(conn, locked.id, option)
        await _options_changed(conn, actor, locked)


def _never() -> Option:
    raise AssertionError("an option written in this transaction is there")


# Attribute sets -----------------------------------------------------------------------------------


def _category_not_found(code: str) -> NotFound:
    return NotFound(f"No category has the code {code!r}.", code="category-not-found")


async def get_attribute_set(conn: asyncpg.Connection, code: str, *, effective: bool) -> AttributeSet:
    """A category's own binding; with `effective` also what it inherits, the nearest binding winning."""
    category_id = await store.get_category_id(conn, code)
    if category_id is None:
        raise _category_not_found(code)
    entries = await store.list_attribute_set(conn, category_id, effective)
    return AttributeSet(category=code, effective=effective, attributes=entries)


async def put_attribute_set(conn: asyncpg.Connection, actor: Principal, code: str, body: BindingList) -> AttributeSet:
    """Replace a category's own binding; unknown or repeated attributes or stages are 422; audited."""
    async with conn.transaction():
        category_id = await store.lock_category(conn, code)
        if category_id is None:
            raise _category_not_found(code)
        known = await store.list_attribute_codes(conn, sorted({b.attribute for b in body.attributes}))
        errors: list[FieldError] = []
        seen: set[str] = set()
        for i, binding in enumerate(body.attributes):
            where = pointer_join("/attributes", i)
            if binding.attribute in seen:
                errors.append(
                    FieldError(
                        pointer=f"{where}/attribute",
                        code="duplicate",
                        message=f"{binding.attribute!r} is listed twice.",
                    )
                )
            elif binding.attribute not in known:
                errors.append(
                    FieldError(
                        pointer=f"{where}/attribute",
                        code="unknown_attribute",
                        message=f"No attribute has the code {binding.attribute!r}.",
                    )
                )
            seen.add(binding.attribute)
            for j, stage in enumerate(binding.required_for):
                if stage in binding.required_for[:j]:
                    errors.append(
                        FieldError(
                            pointer=f"{where}/required_for/{j}",
                            code="duplicate",
                            message=f"{stage!r} is listed twice.",
                        )
                    )
        if errors:
            raise ValidationFailed(errors)
        wanted = [
            msgspec.structs.replace(b, required_for=[s for s in STAGES if s in b.required_for]) for b in body.attributes
        ]
        current = await store.list_own_bindings(conn, category_id)
        recompute = None
        if wanted != current:
            await store.replace_bindings(conn, category_id, wanted)
            changed = _requirements(wanted) ^ _requirements(current)
            if changed:
                reason = f"attribute set of {code} changed"
                stages: list[str] = [s for s in STAGES if s in {stage for _, stage in changed}]
                recompute = await jobs.enqueue_for_category(conn, actor, reason, category_id, stages)
            await audit.record(
                conn,
                actor,
                "bind",
                "category",
                code,
                version=None,
                before={"attributes": current},
                after={"attributes": wanted},
            )
        entries = await store.list_attribute_set(conn, category_id, False)
        return AttributeSet(category=code, effective=False, attributes=entries, recompute=recompute)


def _requirements(bindings: list[Any]) -> set[tuple[str, str]]:
    # Only what a binding requires, and for which stage, changes completeness.
    return {(b.attribute, stage) for b in bindings for stage in b.required_for}


async def effective_attribute_set(conn: asyncpg.Connection, category_id: int) -> list[AttributeSetEntry]:
    """A category's effective set (own and inherited, nearest binding wins) in shopper-attention order."""
    return await store.list_attribute_set(conn, category_id, True)


async def effective_definitions(conn: asyncpg.Connection, category_id: int) -> dict[str, AttributeDef]:
    """The attributes a product of this category may carry, as the value checker needs them (one query)."""
    return {d.code: d for d in await store.list_effective_definitions(conn, category_id)}
