"""Products (SPUs): home category, placements in other trees, role, series, texts and attribute values.

A product's attribute values are checked against the effective attribute set of its home category:
the attributes bound to that category and to every category above it.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import asyncpg
import msgspec

from domain.attributes.service import effective_definitions
from domain.attributes.values import AttributeDef, validate_values
from domain.audit import service as audit
from domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
    field_error,
    param_error,
    pointer_join,
)
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.sql import load
from domain.types import Code, Labels, Locale, Page
from domain.versioning import check_version, created_by_put, patched, writable

Q = load("products")

Lifecycle = Literal["draft", "sourced", "stocked", "listed", "delisted", "retired"]
QualityTag = Literal["famous", "specialty", "quality", "new"]
QUALITY_TAGS: tuple[str, ...] = ("famous", "specialty", "quality", "new")

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Texts = Annotated[
    dict[Locale, Text],
    msgspec.Meta(
        description="A locale map of text.",
        examples=[{"zh-CN": "100% 桑蚕丝", "en": "Pure mulberry silk"}],
    ),
]
SellingPoint = Annotated[dict[Locale, Text], msgspec.Meta(min_length=1, description="One selling point, per locale.")]
ImageUrl = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^https?://[^\s/?#@]+(/[^\s]*)?$",
        max_length=2048,
        description="An absolute http(s) URL.",
        examples=["https://img.example.com/scarf-1.jpg"],
    ),
]
AttributeValues = Annotated[
    dict[Code, Any],
    msgspec.Meta(
        description="Attribute values by attribute code, each checked against its type and rules.",
        examples=[{"material": "silk", "width": {"value": "90", "unit": "cm"}}],
    ),
]


class ProductFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a product (body of PUT). `lifecycle` changes only by transitions."""

    category: Annotated[Code, msgspec.Meta(description="The home category: it decides the attribute set.")]
    categories: Annotated[
        list[Code],
        msgspec.Meta(max_length=50, description="Placements in other trees, at most one per tree."),
    ] = []
    role: Annotated[Code, msgspec.Meta(description="The product role, e.g. `destination`, `routine`.")]
    series: Annotated[list[Code], msgspec.Meta(max_length=100)] = []
    labels: Labels = {}
    description: Texts = {}
    selling_points: Annotated[list[SellingPoint], msgspec.Meta(max_length=50)] = []
    images: Annotated[list[ImageUrl], msgspec.Meta(max_length=50)] = []
    quality_tags: list[QualityTag] = []
    attributes: AttributeValues = {}


class ProductCreate(ProductFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/products."""

    code: Code


class ProductPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a product: absent fields stay, `null` removes (a locale, an attribute value)."""

    category: Code | msgspec.UnsetType | None = msgspec.UNSET
    categories: list[Code] | msgspec.UnsetType | None = msgspec.UNSET
    role: Code | msgspec.UnsetType | None = msgspec.UNSET
    series: list[Code] | msgspec.UnsetType | None = msgspec.UNSET
    labels: dict[str, str | None] | msgspec.UnsetType | None = msgspec.UNSET
    description: dict[str, str | None] | msgspec.UnsetType | None = msgspec.UNSET
    selling_points: list[SellingPoint] | msgspec.UnsetType | None = msgspec.UNSET
    images: list[ImageUrl] | msgspec.UnsetType | None = msgspec.UNSET
    quality_tags: list[QualityTag] | msgspec.UnsetType | None = msgspec.UNSET
    attributes: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET


class Product(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    category: str
    categories: list[str]
    role: str
    series: list[str]
    labels: dict[str, str]
    description: dict[str, str]
    selling_points: list[dict[str, str]]
    images: list[str]
    quality_tags: list[str]
    attributes: dict[str, Any]
    lifecycle: Lifecycle
    version: int
    created_at: datetime
    updated_at: datetime


class _Plan(msgspec.Struct, frozen=True, kw_only=True):
    """A checked body: the ids to write and the normalised writable fields."""

    category_id: int
    role_id: int
    tree_ids: list[int]
    placement_ids: list[int]
    series_ids: list[int]
    values: dict[str, Any]


def _product(row: asyncpg.Record) -> Product:
    return msgspec.convert(dict(row), Product)


def _not_found(code: str) -> NotFound:
    return NotFound(f"No product has the code {code!r}.", code="product-not-found")


async def effective_attributes(conn: asyncpg.Connection, category_id: int) -> dict[str, AttributeDef]:
    """The attributes bound to a category or any of its ancestors, as the value checker sees them.

    Their rows stay share-locked until the write commits, so that a concurrent type change or option
    removal either waits for this write (and then sees its values) or finishes first.
    """
    return await effective_definitions(conn, category_id)


async def _plan(conn: asyncpg.Connection, fields: ProductFields) -> _Plan:
    """Resolve every code of a body and check every value; all failures together in one 422."""
    errors: list[FieldError] = []
    rows = await conn.fetch(Q.list_categories_by_code.sql, [fields.category, *fields.categories])
    categories = {r["code"]: r for r in rows}
    home = categories.get(fields.category)
    if home is None:
        errors.append(field_error("/category", "unknown_category", f"No category has the code {fields.category!r}."))
    taken: dict[int, str] = {}
    tree_ids: list[int] = []
    placement_ids: list[int] = []
    for i, code in enumerate(fields.categories):
        where = pointer_join("/categories", i)
        row = categories.get(code)
        if row is None:
            errors.append(field_error(where, "unknown_category", f"No category has the code {code!r}."))
        elif home is not None and row["tree_id"] == home["tree_id"]:
            errors.append(
                field_error(
                    where,
                    "home_tree",
                    f"{code!r} is in tree {row['tree']!r}, the tree of the home category "
                    f"{fields.category!r}; placements are in other trees.",
                )
            )
        elif row["tree_id"] in taken:
            errors.append(
                field_error(
                    where,
                    "tree_taken",
                    f"{code!r} is a second placement in tree {row['tree']!r} "
                    f"(after {taken[row['tree_id']]!r}); "
                    "a product has at most one category per tree.",
                )
            )
        else:
            taken[row["tree_id"]] = code
            tree_ids.append(row["tree_id"])
            placement_ids.append(row["id"])
    role_id = await conn.fetchval(Q.get_role_id.sql, fields.role)
    if role_id is None:
        errors.append(field_error("/role", "unknown_role", f"No product role has the code {fields.role!r}."))
    known_series = {r["code"]: r["id"] for r in await conn.fetch(Q.list_series_by_code.sql, fields.series)}
    errors += _list_errors("/series", fields.series, known_series, "unknown_series", "No series has the code {!r}.")
    errors += _list_errors("/quality_tags", list(fields.quality_tags), None, "", "")
    attributes: dict[str, Any] = {}
    if home is not None:
        defs = await effective_attributes(conn, home["id"])
        attributes, problems = validate_values(fields.attributes, defs, "/attributes")
        errors += problems
    if errors:
        raise ValidationFailed(errors)
    assert home is not None and role_id is not None
    values = {
        "category": fields.category,
        "categories": sorted(fields.categories),
        "role": fields.role,
        "series": sorted(fields.series),
        "labels": dict(fields.labels),
        "description": dict(fields.description),
        "selling_points": [dict(p) for p in fields.selling_points],
        "images": list(fields.images),
        "quality_tags": [t for t in QUALITY_TAGS if t in fields.quality_tags],
        "attributes": attributes,
    }
    return _Plan(
        category_id=home["id"],
        role_id=role_id,
        tree_ids=tree_ids,
        placement_ids=placement_ids,
        series_ids=[known_series[c] for c in fields.series],
        values=values,
    )


def _list_errors(
    base: str, codes: list[str], known: dict[str, int] | None, unknown_code: str, unknown_text: str
) -> list[FieldError]:
    """A list of codes: each one listed twice is an error, and each unknown one when `known` is given."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, code in enumerate(codes):
        where = pointer_join(base, i)
        if code in seen:
            errors.append(field_error(where, "duplicate", f"{code!r} is listed twice."))
        elif known is not None and code not in known:
            errors.append(field_error(where, unknown_code, unknown_text.format(code)))
        seen.add(code)
    return errors


async def _write(conn: asyncpg.Connection, product_id: int | None, code: str, plan: _Plan) -> int | None:
    """Insert (product_id None) or update the product row and rewrite its placements and series."""
    v = plan.values
    columns = (
        plan.category_id,
        plan.role_id,
        v["labels"],
        v["description"],
        v["selling_points"],
        v["images"],
        v["quality_tags"],
        v["attributes"],
    )
    if product_id is None:
        product_id = await conn.fetchval(Q.insert_product.sql, code, *columns)
        if product_id is None:
            return None
    else:
        await conn.execute(Q.update_product.sql, product_id, *columns)
        await conn.execute(Q.delete_product_placements.sql, product_id)
        await conn.execute(Q.delete_product_series.sql, product_id)
    if plan.placement_ids:
        await conn.execute(Q.insert_product_placements.sql, product_id, plan.tree_ids, plan.placement_ids)
    if plan.series_ids:
        await conn.execute(Q.insert_product_series.sql, product_id, plan.series_ids)
    return product_id


async def _read(conn: asyncpg.Connection, code: str) -> Product:
    row = await conn.fetchrow(Q.get_product.sql, code)
    if row is None:
        raise _not_found(code)
    return _product(row)


# ---------------------------------------------------------------------------------------------- reads


async def list_products(
    conn: asyncpg.Connection,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    lifecycle: str | None,
    attrs: list[str],
    limit: int,
    cursor: str | None,
) -> Page[Product]:
    """Products in code order, filtered by category subtree, role, series, lifecycle and attribute values."""
    after = decode_cursor(cursor, (str,))
    path = None
    if category is not None:
        path = await conn.fetchval(Q.get_category_path.sql, category)
        if path is None:
            raise param_error("category", "unknown_code", f"No category has the code {category!r}.")
    role_id = None
    if role is not None:
        role_id = await conn.fetchval(Q.get_role_id.sql, role)
        if role_id is None:
            raise param_error("role", "unknown_code", f"No product role has the code {role!r}.")
    series_id = None
    if series is not None:
        rows = await conn.fetch(Q.list_series_by_code.sql, [series])
        if not rows:
            raise param_error("series", "unknown_code", f"No series has the code {series!r}.")
        series_id = rows[0]["id"]
    contains, decimal_codes, decimal_values, impossible = await _attribute_filters(conn, attrs)
    if impossible:
        return Page(items=[], next_cursor=None)
    rows = await conn.fetch(
        Q.list_products.sql,
        path,
        role_id,
        series_id,
        lifecycle,
        contains or None,
        decimal_codes,
        decimal_values,
        after[0] if after else None,
        limit + 1,
    )
    items, next_cursor = split_page([_product(r) for r in rows], limit, lambda p: [p.code])
    return Page(items=items, next_cursor=next_cursor)


_INTEGER = re.compile(r"[+-]?\d{1,18}")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


async def _attribute_filters(
    conn: asyncpg.Connection, attrs: list[str]
) -> tuple[dict[str, Any], list[str], list[Decimal], bool]:
    """`?attr=code:value` filters as one containment object (GIN-indexed) plus numeric decimal comparisons.

    The last item is True when two filters ask one single-valued attribute for different values.
    """
    pairs: list[tuple[str, str]] = []
    for raw in attrs:
        code, sep, value = raw.partition(":")
        if not sep or not code:
            raise param_error("attr", "invalid_format", f"{raw!r} is not code:value, e.g. colour:red.")
        pairs.append((code, value))
    defs = {
        r["code"]: msgspec.convert(dict(r), AttributeDef, strict=False)
        for r in await conn.fetch(Q.list_attributes_by_code.sql, sorted({c for c, _ in pairs}))
    }
    contains: dict[str, Any] = {}
    decimal_codes: list[str] = []
    decimal_values: list[Decimal] = []
    impossible = False
    for code, value in pairs:
        defn = defs.get(code)
        if defn is None:
            raise param_error("attr", "unknown_attribute", f"No attribute has the code {code!r}.")
        if defn.type == "decimal":
            decimal_codes.append(code)
            decimal_values.append(_filter_decimal(code, value))
            continue
        if defn.type == "multiselect":
            contains.setdefault(code, []).append(_filter_option(defn, value))
            continue
        converted = _filter_scalar(defn, value)
        if code in contains and contains[code] != converted:
            impossible = True
        contains[code] = converted
    return contains, decimal_codes, decimal_values, impossible


def _filter_decimal(code: str, value: str) -> Decimal:
    try:
        if _DECIMAL.fullmatch(value):
            return Decimal(value)
    except InvalidOperation:
        pass
    raise param_error("attr", "wrong_type", f"`{code}` takes a decimal such as 12.5, not {value!r}.")


def _filter_option(defn: AttributeDef, value: str) -> str:
    if value not in defn.options:
        raise param_error("attr", "unknown_option", f"{value!r} is not an option of `{defn.code}`.")
    return value


def _filter_scalar(defn: AttributeDef, value: str) -> Any:
    if defn.type == "integer":
        if not _INTEGER.fullmatch(value):
            raise param_error("attr", "wrong_type", f"`{defn.code}` takes an integer, not {value!r}.")
        return int(value)
    if defn.type == "boolean":
        if value not in ("true", "false"):
            raise param_error("attr", "wrong_type", f"`{defn.code}` takes true or false, not {value!r}.")
        return value == "true"
    if defn.type == "select":
        return _filter_option(defn, value)
    if defn.type == "measurement":
        raise param_error(
            "attr", "not_filterable", f"`{defn.code}` is a measurement; it cannot be filtered by equality."
        )
    return value


async def get_product(conn: asyncpg.Connection, code: str) -> Product:
    """One product."""
    return await _read(conn, code)


# --------------------------------------------------------------------------------------------- writes


async def create_product(conn: asyncpg.Connection, actor: Principal, body: ProductCreate) -> Product:
    """Create a product in lifecycle `draft`; a taken code is a 409, every invalid field one 422."""
    async with conn.transaction():
        plan = await _plan(conn, body)
        if await _write(conn, None, body.code, plan) is None:
            raise Conflict(f"A product with the code {body.code!r} exists already.", code="product-exists")
        product = await _read(conn, body.code)
        await audit.record(conn, actor, "create", "product", product.code, version=product.version, after=product)
        return product


async def _update(
    conn: asyncpg.Connection,
    actor: Principal,
    row: asyncpg.Record,
    fields: ProductFields,
    expected: int | None,
) -> Product:
    current = _product(row)
    check_version(expected, current.version, f"Product {current.code!r}")
    plan = await _plan(conn, fields)
    if plan.values == writable(current, ProductFields):
        return current
    if plan.category_id != row["category_id"]:
        await _check_skus_fit(conn, row["id"], current.code, plan.category_id)
    await _write(conn, row["id"], current.code, plan)
    product = await _read(conn, current.code)
    await audit.record(
        conn, actor, "update", "product", product.code, version=product.version, before=current, after=product
    )
    return product


async def _check_skus_fit(conn: asyncpg.Connection, product_id: int, code: str, category_id: int) -> None:
    """A new home category must still hold every attribute the product's SKUs use as axes or overrides."""
    defs = await effective_attributes(conn, category_id)
    outside: dict[str, list[str]] = {}
    for sku in await conn.fetch(Q.lock_product_skus.sql, product_id):
        codes = sorted((set(sku["axes"]) | set(sku["attributes"])) - set(defs))
        if codes:
            outside[sku["sku"]] = codes
    if outside:
        raise Conflict(
            f"The SKUs of product {code!r} use attributes the new home category does not have "
            f"({', '.join(sorted({c for cs in outside.values() for c in cs}))}); change the SKUs first.",
            code="skus-outside-attribute-set",
            skus=outside,
        )


async def put_product(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: ProductFields, expected: int | None
) -> tuple[Product, bool]:
    """Idempotent upsert: create the product, or replace its writable fields; answers (product, created)."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_product.sql, code)
        if row is None:
            body = created_by_put(ProductCreate, f"Product {code!r}", code, fields, expected)
            return await create_product(conn, actor, body), True
        return await _update(conn, actor, row, fields, expected), False


async def patch_product(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: ProductPatch, expected: int | None
) -> Product:
    """Apply a JSON merge patch to a product; the result is checked like a full body."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_product.sql, code)
        if row is None:
            raise _not_found(code)
        return await _update(conn, actor, row, patched(_product(row), patch, ProductFields), expected)


async def delete_product(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a product with its SKUs; anything else still referencing them is a 409 naming it."""
    async with conn.transaction():
        row = await conn.fetchrow(Q.lock_product.sql, code)
        if row is None:
            raise _not_found(code)
        current = _product(row)
        check_version(expected, current.version, f"Product {code!r}")
        skus = [r["sku"] for r in await conn.fetch(Q.lock_product_skus.sql, row["id"])]
        try:
            await conn.execute(Q.delete_product.sql, row["id"])
        except asyncpg.ForeignKeyViolationError as exc:
            raise still_referenced(f"Product {code!r}", exc) from None
        before = {**msgspec.to_builtins(current), "skus": skus}
        await audit.record(conn, actor, "delete", "product", code, version=current.version, before=before)


def still_referenced(what: str, exc: asyncpg.ForeignKeyViolationError) -> Conflict:
    """A foreign-key violation on delete as a 409 naming the referencing table."""
    table = getattr(exc, "table_name", None) or "another table"
    constraint = getattr(exc, "constraint_name", None) or "a foreign key"
    return Conflict(
        f"{what} is still referenced from {table}; remove those references first.",
        code="still-referenced",
        references={table: constraint},
    )
