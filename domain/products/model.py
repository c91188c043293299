"""Products (SPUs): shapes, rules and errors.

A product has a home category (it decides the attribute set), placements in other trees (at most one per
tree), a role, series, texts and attribute values; `lifecycle` changes only by transitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from domain.attributes.values import AttributeDef, validate_values
from domain.errors import Conflict, FieldError, NotFound, StillReferenced, ValidationFailed, field_error, pointer_join
from domain.types import SPACE, Code, Labels, Locale

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
        pattern=rf"^https?://[^{SPACE}/?#@]+(/[^{SPACE}]*)?$",
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


class ProductPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of products."""

    items: list[Product]
    next_cursor: str | None


class LockedProduct(msgspec.Struct, frozen=True, kw_only=True):
    """A product locked for a write, with the ids the write needs."""

    id: int
    category_id: int
    product: Product


class CategoryRef(msgspec.Struct, frozen=True, kw_only=True):
    """A category a body names: its id, its tree (id and code)."""

    code: str
    id: int
    tree_id: int
    tree: str


class SkuUse(msgspec.Struct, frozen=True, kw_only=True):
    """A SKU of a product, with the attribute codes it uses as axes and as overrides."""

    sku: str
    axes: dict[str, Any]
    attributes: dict[str, Any]


class ProductPlan(msgspec.Struct, frozen=True, kw_only=True):
    """A checked body: the ids to write and the normalised writable fields."""

    category_id: int
    role_id: int
    tree_ids: list[int]
    placement_ids: list[int]
    series_ids: list[int]
    values: dict[str, Any]


# ------------------------------------------------------------------------------------------------ rules


def plan_product(
    fields: ProductFields,
    categories: Mapping[str, CategoryRef],
    role_id: int | None,
    known_series: Mapping[str, int],
    defs: Mapping[str, AttributeDef] | None,
) -> ProductPlan:
    """Check a body against the codes it names (as found) and the home category's attribute set (`defs`,
    None when the home category is unknown); every failure together in one 422."""
    errors: list[FieldError] = []
    home = categories.get(fields.category)
    if home is None:
        errors.append(field_error("/category", "unknown_category", f"No category has the code {fields.category!r}."))
    taken: dict[int, str] = {}
    tree_ids: list[int] = []
    placement_ids: list[int] = []
    for i, code in enumerate(fields.categories):
        where = pointer_join("/categories", i)
        ref = categories.get(code)
        if ref is None:
            errors.append(field_error(where, "unknown_category", f"No category has the code {code!r}."))
        elif home is not None and ref.tree_id == home.tree_id:
            errors.append(
                field_error(
                    where,
                    "home_tree",
                    f"{code!r} is in tree {ref.tree!r}, the tree of the home category "
                    f"{fields.category!r}; placements are in other trees.",
                )
            )
        elif ref.tree_id in taken:
            errors.append(
                field_error(
                    where,
                    "tree_taken",
                    f"{code!r} is a second placement in tree {ref.tree!r} "
                    f"(after {taken[ref.tree_id]!r}); "
                    "a product has at most one category per tree.",
                )
            )
        else:
            taken[ref.tree_id] = code
            tree_ids.append(ref.tree_id)
            placement_ids.append(ref.id)
    if role_id is None:
        errors.append(field_error("/role", "unknown_role", f"No product role has the code {fields.role!r}."))
    errors += list_errors("/series", fields.series, known_series, "unknown_series", "No series has the code {!r}.")
    errors += list_errors("/quality_tags", list(fields.quality_tags), None, "", "")
    attributes: dict[str, Any] = {}
    if defs is not None:
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
    return ProductPlan(
        category_id=home.id,
        role_id=role_id,
        tree_ids=tree_ids,
        placement_ids=placement_ids,
        series_ids=[known_series[c] for c in fields.series],
        values=values,
    )


def list_errors(
    base: str, codes: list[str], known: Mapping[str, int] | None, unknown_code: str, unknown_text: str
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


def skus_outside(skus: list[SkuUse], defs: Mapping[str, AttributeDef]) -> dict[str, list[str]]:
    """The attribute codes each SKU uses (as axes or overrides) that are not in `defs`, by SKU."""
    outside: dict[str, list[str]] = {}
    for sku in skus:
        codes = sorted((set(sku.axes) | set(sku.attributes)) - set(defs))
        if codes:
            outside[sku.sku] = codes
    return outside


def still_referenced(what: str, table: str | None, constraint: str | None) -> StillReferenced:
    """A delete a foreign key refused, naming the referencing table (asyncpg names it when it can)."""
    table = table or "another table"
    return StillReferenced(
        f"{what} is still referenced from {table}; remove those references first.",
        references={table: constraint or "a foreign key"},
    )


# ----------------------------------------------------------------------------------------------- errors


class ProductNotFound(NotFound):
    """No product has the code the request names."""

    code = "product-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No product has the code {code!r}.")


class ProductExists(Conflict):
    """A product with the code exists already."""

    code = "product-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"A product with the code {code!r} exists already.")


class SkusOutsideAttributeSet(Conflict):
    """A product's new home category lacks attributes its SKUs use as axes or overrides: `skus` names them."""

    code = "skus-outside-attribute-set"

    def __init__(self, code: str, outside: dict[str, list[str]]) -> None:
        super().__init__(
            f"The SKUs of product {code!r} use attributes the new home category does not have "
            f"({', '.join(sorted({c for cs in outside.values() for c in cs}))}); change the SKUs first.",
            skus=outside,
        )
