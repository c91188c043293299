"""SKUs: the sellable variants of a product, told apart by their axes (colour, size …), with a GTIN barcode —
shapes, rules and errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec

from domain.attributes.values import AttributeDef, validate_values
from domain.errors import Conflict, FieldError, NotFound, ValidationFailed, field_error
from domain.products.model import AttributeValues
from domain.skus import gtin
from domain.types import Code, SkuCode

Barcode = Annotated[
    str,
    msgspec.Meta(
        max_length=14,
        description="A GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14 with a valid mod-10 check digit; unique.",
        examples=["4006381333931"],
    ),
]


class SkuFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of a SKU (body of PUT). `product` is required when PUT creates and fixed after."""

    product: Code | None = None
    barcode: Barcode | None = None
    axes: AttributeValues = {}
    attributes: AttributeValues = {}


class SkuCreate(SkuFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/products/{code}/skus (`product`, if sent, must be the product of the path)."""

    sku: SkuCode


class SkuPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of a SKU: `null` removes the barcode, or one axis or override."""

    product: Code | msgspec.UnsetType | None = msgspec.UNSET
    barcode: Barcode | msgspec.UnsetType | None = msgspec.UNSET
    axes: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET
    attributes: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET


class SkuPut(SkuFields, frozen=True, kw_only=True):
    """A PUT that creates: its body with the SKU code of the path, not yet checked (a bad code is listed in
    one 422 with the body's other errors, at `/sku`)."""

    code: str


class Sku(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    product: str
    barcode: str | None
    axes: dict[str, Any]
    attributes: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class SkuPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of SKUs."""

    items: list[Sku]
    next_cursor: str | None


class SkuOwner(msgspec.Struct, frozen=True, kw_only=True):
    """The product a SKU write works under (locked before the SKU): id, code and home category."""

    id: int
    code: str
    category_id: int


class LockedSku(msgspec.Struct, frozen=True, kw_only=True):
    """A SKU locked for a write, with its row id and its (locked) product."""

    id: int
    owner: SkuOwner
    sku: Sku


# ------------------------------------------------------------------------------------------------ rules


def checked(
    owner: SkuOwner, fields: SkuFields, defs: Mapping[str, AttributeDef], errors: list[FieldError]
) -> dict[str, Any]:
    """The normalised writable fields, or one 422 with every invalid field (plus `errors` found before);
    axes and overrides are checked against the product's attribute set (`defs`)."""
    if fields.barcode is not None and (problem := gtin.problem(fields.barcode)) is not None:
        errors.append(field_error("/barcode", *problem))
    axes, axis_errors = validate_values(fields.axes, defs, "/axes")
    attributes, attribute_errors = validate_values(fields.attributes, defs, "/attributes")
    errors += axis_errors + attribute_errors
    if errors:
        raise ValidationFailed(errors)
    return {"product": owner.code, "barcode": fields.barcode, "axes": axes, "attributes": attributes}


def unique_conflict(constraint: str | None, sku: str) -> Conflict:
    """A unique constraint a write broke: the checks before it name the other SKU; this is the net for a
    concurrent writer they could not see."""
    if constraint == "skus_barcode_key":
        return BarcodeTaken()
    if constraint == "skus_product_id_axes_key":
        return DuplicateAxes()
    return SkuExists(sku)


# ----------------------------------------------------------------------------------------------- errors


class SkuNotFound(NotFound):
    """No SKU has the code the request names."""

    code = "sku-not-found"

    def __init__(self, sku: str) -> None:
        super().__init__(f"No SKU has the code {sku!r}.")


class SkuExists(Conflict):
    """A SKU with the code exists already."""

    code = "sku-exists"

    def __init__(self, sku: str) -> None:
        super().__init__(f"A SKU with the code {sku!r} exists already.")


class BarcodeTaken(Conflict):
    """Another SKU has the barcode already: `sku` names it (unless a concurrent write just took it)."""

    code = "barcode-taken"

    def __init__(self, barcode: str | None = None, holder: str | None = None) -> None:
        if holder is None:
            super().__init__("The barcode was just given to another SKU.")
        else:
            super().__init__(f"The barcode {barcode} belongs to SKU {holder!r} already.", sku=holder)


class DuplicateAxes(Conflict):
    """Another SKU of the product has the same axes: `sku` names it (unless a concurrent write just did)."""

    code = "duplicate-axes"

    def __init__(self, product: str | None = None, twin: str | None = None, axes: Any = None) -> None:
        if twin is None:
            super().__init__("Another SKU of the product was just given the same axes.")
        else:
            super().__init__(
                f"SKU {twin!r} of product {product!r} has the same axes already; SKUs of a product "
                "differ on their axes.",
                sku=twin,
                axes=axes,
            )


class SkuProductFixed(Conflict):
    """A write names another product than the SKU's own: a SKU never moves to another product."""

    code = "sku-product-fixed"

    def __init__(self, sku: str, product: str, to: str) -> None:
        super().__init__(
            f"SKU {sku!r} belongs to product {product!r}; it cannot move to {to!r}.",
            product=product,
        )
