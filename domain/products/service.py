"""Products: use cases, each writing one in its own transaction.

A product's attribute values are checked against the effective attribute set of its home category:
the attributes bound to that category and to every category above it. Those attribute rows stay
share-locked until the write commits, so that a concurrent type change or option removal either waits
for this write (and then sees its values) or finishes first.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from domain.attributes.sets import effective_definitions
from domain.audit import service as audit
from domain.errors import param_error
from domain.keys.model import Principal
from domain.paging import decode_cursor, split_page
from domain.products import filters, store
from domain.products.model import (
    LockedProduct,
    Product,
    ProductCreate,
    ProductExists,
    ProductFields,
    ProductNotFound,
    ProductPage,
    ProductPatch,
    ProductPlan,
    SkusOutsideAttributeSet,
    plan_product,
    skus_outside,
)
from domain.versioning import Versioned, writable


async def list_products(
    conn: asyncpg.Connection,
    viewer: Principal,
    *,
    category: str | None,
    role: str | None,
    series: str | None,
    lifecycle: str | None,
    attrs: list[str],
    limit: int,
    cursor: str | None,
) -> ProductPage:
    """Products in code order, filtered by category subtree, role, series, lifecycle and attribute values; the
    values of confidential attributes only for a viewer who sees confidential data."""
    after = decode_cursor(cursor, (str,))
    path = None
    if category is not None:
        path = await store.get_category_path(conn, category)
        if path is None:
            raise param_error("category", "unknown_code", f"No category has the code {category!r}.")
    role_id = None
    if role is not None:
        role_id = await store.get_role_id(conn, role)
        if role_id is None:
            raise param_error("role", "unknown_code", f"No product role has the code {role!r}.")
    series_id = None
    if series is not None:
        series_id = (await store.list_series_by_code(conn, [series])).get(series)
        if series_id is None:
            raise param_error("series", "unknown_code", f"No series has the code {series!r}.")
    wanted = await _attribute_filters(conn, attrs)
    if wanted.impossible:
        return ProductPage(items=[], next_cursor=None)
    rows = await store.list_products(
        conn,
        path,
        role_id,
        series_id,
        lifecycle,
        wanted.contains or None,
        wanted.decimal_codes,
        wanted.decimal_values,
        after[0] if after else None,
        limit + 1,
        viewer.sees_confidential,
    )
    items, next_cursor = split_page(rows, limit, lambda p: [p.code])
    return ProductPage(items=items, next_cursor=next_cursor)


async def _attribute_filters(conn: asyncpg.Connection, attrs: list[str]) -> filters.AttributeFilters:
    """The `?attr=code:value` filters, converted by the types of the attributes they name."""
    pairs = filters.parse_pairs(attrs)
    defs = await store.list_attributes_by_code(conn, sorted({c for c, _ in pairs}))
    return filters.convert(pairs, defs)


async def get_product(conn: asyncpg.Connection, code: str, viewer: Principal) -> Product:
    """One product as `viewer` may see it (the values of confidential attributes only for a viewer who sees
    confidential data)."""
    product = await store.get_product(conn, code, viewer.sees_confidential)
    if product is None:
        raise ProductNotFound(code)
    return product


async def _whole(conn: asyncpg.Connection, code: str) -> Product:
    product = await store.get_product(conn, code, True)
    if product is None:
        raise ProductNotFound(code)
    return product


async def visible(conn: asyncpg.Connection, product: Product, viewer: Principal) -> Product:
    """A whole product as `viewer` may see it."""
    if viewer.sees_confidential:
        return product
    attributes = await store.get_visible_attributes(conn, product.attributes, False)
    return msgspec.structs.replace(product, attributes=attributes)


async def _hidden(conn: asyncpg.Connection, product: Product, viewer: Principal) -> dict[str, Any]:
    """The attribute values of a whole product that `viewer` cannot see."""
    shown = (await visible(conn, product, viewer)).attributes
    return {code: value for code, value in product.attributes.items() if code not in shown}


async def _plan(conn: asyncpg.Connection, fields: ProductFields) -> ProductPlan:
    """Resolve every code of a body and check every value; all failures together in one 422."""
    categories = await store.list_categories_by_code(conn, [fields.category, *fields.categories])
    role_id = await store.get_role_id(conn, fields.role)
    known_series = await store.list_series_by_code(conn, fields.series)
    home = categories.get(fields.category)
    defs = None if home is None else await effective_definitions(conn, home.id)
    return plan_product(fields, categories, role_id, known_series, defs)


async def _write(
    conn: asyncpg.Connection, product_id: int | None, code: str, plan: ProductPlan, current: Product | None = None
) -> int | None:
    """Insert (product_id None) or update the product row, and write its placements and series (an update
    rewrites only those that changed); None when an insert finds the code taken."""
    placements = series = True
    if product_id is None:
        product_id = await store.insert_product(conn, code, plan)
        if product_id is None:
            return None
    else:
        await store.update_product(conn, product_id, plan)
        placements = current is None or plan.values["categories"] != current.categories
        series = current is None or plan.values["series"] != current.series
        if placements:
            await store.delete_product_placements(conn, product_id)
        if series:
            await store.delete_product_series(conn, product_id)
    if placements and plan.placement_ids:
        await store.insert_product_placements(conn, product_id, plan.tree_ids, plan.placement_ids)
    if series and plan.series_ids:
        await store.insert_product_series(conn, product_id, plan.series_ids)
    return product_id


async def create_product(conn: asyncpg.Connection, actor: Principal, body: ProductCreate) -> Product:
    """Create a product in lifecycle `draft`; a taken code is a 409, every invalid field one 422. Answers it as
    the actor may see it."""
    return await visible(conn, await _create(conn, actor, body), actor)


async def _create(conn: asyncpg.Connection, actor: Principal, body: ProductCreate) -> Product:
    async with conn.transaction():
        plan = await _plan(conn, body)
        if await _write(conn, None, body.code, plan) is None:
            raise ProductExists(body.code)
        product = await _whole(conn, body.code)
        await audit.record(conn, actor, "create", "product", product.code, version=product.version, after=product)
        return product


async def _update(conn: asyncpg.Connection, actor: Principal, locked: LockedProduct, fields: ProductFields) -> Product:
    current = locked.product
    # A caller who cannot see confidential values cannot send them back either: a replacement keeps them.
    hidden = {} if actor.sees_confidential else await _hidden(conn, current, actor)
    if hidden:
        fields = msgspec.structs.replace(fields, attributes={**hidden, **fields.attributes})
    plan = await _plan(conn, fields)
    if plan.values == writable(current, ProductFields):
        return current
    if plan.category_id != locked.category_id:
        await _check_skus_fit(conn, locked, plan.category_id)
    await _write(conn, locked.id, current.code, plan, current)
    product = await _whole(conn, current.code)
    await audit.record(
        conn, actor, "update", "product", product.code, version=product.version, before=current, after=product
    )
    return product


async def _check_skus_fit(conn: asyncpg.Connection, locked: LockedProduct, category_id: int) -> None:
    """A new home category must still hold every attribute the product's SKUs use as axes or overrides."""
    defs = await effective_definitions(conn, category_id)
    outside = skus_outside(await store.lock_product_skus(conn, locked.id), defs)
    if outside:
        raise SkusOutsideAttributeSet(locked.product.code, outside)


async def _delete(conn: asyncpg.Connection, actor: Principal, locked: LockedProduct) -> None:
    code = locked.product.code
    skus = [s.sku for s in await store.lock_product_skus(conn, locked.id)]
    await store.delete_product(conn, locked.id, code)
    before = {**msgspec.to_builtins(locked.product), "skus": skus}
    await audit.record(conn, actor, "delete", "product", code, version=locked.product.version, before=before)


PRODUCTS: Versioned[LockedProduct, ProductFields] = Versioned(
    what="Product",
    fields=ProductFields,
    create_body=ProductCreate,
    lock=store.lock_product,
    not_found=ProductNotFound,
    create=_create,
    update=_update,
    delete=_delete,
    resource=lambda locked: locked.product,
)


async def put_product(
    conn: asyncpg.Connection, actor: Principal, code: str, fields: ProductFields, expected: int | None
) -> tuple[Product, bool]:
    """Idempotent upsert: create the product, or replace its writable fields (but the confidential attribute
    values an actor who cannot see them did not send); answers (product as the actor may see it, created)."""
    product, created = await PRODUCTS.put(conn, actor, code, fields, expected)
    return await visible(conn, product, actor), created


async def patch_product(
    conn: asyncpg.Connection, actor: Principal, code: str, patch: ProductPatch, expected: int | None
) -> Product:
    """Apply a JSON merge patch to a product; the result is checked like a full body."""
    product: Product = await PRODUCTS.patch(conn, actor, code, patch, expected)
    return await visible(conn, product, actor)


async def delete_product(conn: asyncpg.Connection, actor: Principal, code: str, expected: int | None) -> None:
    """Delete a product with its SKUs; anything else still referencing them is a 409 naming it."""
    await PRODUCTS.remove(conn, actor, code, expected)
