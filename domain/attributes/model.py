"""Attributes, their options and the attribute sets bound to categories: shapes, pure rules and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from domain.attributes.rules import ValidationRules
from domain.attributes.values import AttributeType, Validation, Visibility
from domain.errors import Conflict, FieldError, NotFound, pointer_join
from domain.jobs.model import JobRef
from domain.types import STAGES, Code, Labels, Position, Stage

OPTION_TYPES = frozenset({"select", "multiselect"})

DisplayPriority = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        le=1_000_000,
        description="Shopper attention: higher means shoppers care more, so it is shown first (0 = least).",
    ),
]


class AttributeFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The writable fields of an attribute (body of PUT)."""

    type: AttributeType
    group: Code | None = None
    labels: Labels = {}
    visibility: Visibility = "internal"
    display_priority: DisplayPriority = 0
    filterable: bool = False
    validation: ValidationRules = ValidationRules()


class AttributeCreate(AttributeFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of POST /v1/attributes."""

    code: Code


class AttributePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A JSON merge patch of an attribute: absent fields stay, `null` resets a field or removes a rule."""

    type: AttributeType | msgspec.UnsetType = msgspec.UNSET
    group: Code | msgspec.UnsetType | None = msgspec.UNSET
    labels: dict[str, str | None] | msgspec.UnsetType = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType | None = msgspec.UNSET
    display_priority: DisplayPriority | msgspec.UnsetType | None = msgspec.UNSET
    filterable: bool | msgspec.UnsetType | None = msgspec.UNSET
    validation: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET


class OptionFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT …/options/{option}; without a position the option keeps its own (or goes last)."""

    labels: Labels = {}
    position: Position | None = None


class OptionCreate(OptionFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One option: body of POST …/options, and an item of PUT …/options (no position: its index)."""

    code: Code


class OptionList(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT …/options: the whole list, replacing the current one."""

    options: Annotated[list[OptionCreate], msgspec.Meta(max_length=5000)]


class Option(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    labels: dict[str, str]
    position: int


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """The options of a select or multiselect attribute, in position order."""

    options: list[Option]


class Attribute(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    type: AttributeType
    group: str | None
    labels: dict[str, str]
    visibility: Visibility
    display_priority: int
    filterable: bool
    validation: Validation
    options: list[Option] | msgspec.UnsetType = msgspec.UNSET
    version: int
    created_at: datetime
    updated_at: datetime


class AttributePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of attributes."""

    items: list[Attribute]
    next_cursor: str | None


class Binding(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One attribute bound to a category; `display_priority` overrides the attribute's own here and below."""

    attribute: Code
    required_for: Annotated[list[Stage], msgspec.Meta(max_length=6)] = []
    display_priority: DisplayPriority | None = None


class BindingList(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Body of PUT /v1/categories/{code}/attributes: the category's own binding, replacing the current one."""

    attributes: Annotated[list[Binding], msgspec.Meta(max_length=2000)]


class AttributeSetEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An attribute in a category's set, with where it is bound (`origin`) and its effective priority."""

    attribute: str
    type: AttributeType
    labels: dict[str, str]
    visibility: Visibility
    group: str | None
    display_priority: int
    display_priority_override: int | None
    required_for: list[Stage]
    origin: str
    inherited: bool


class AttributeSet(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    category: str
    effective: bool
    attributes: list[AttributeSetEntry]
    recompute: JobRef | None = None


def options_of(attribute: Attribute) -> list[Option]:
    """The options of a select or multiselect attribute; any other type has none (409)."""
    if attribute.type not in OPTION_TYPES or isinstance(attribute.options, msgspec.UnsetType):
        raise OptionsNotApplicable(attribute.code, attribute.type)
    return attribute.options


def find_option(options: list[Option], code: str) -> Option | None:
    return next((o for o in options if o.code == code), None)


def option_list_errors(options: list[OptionCreate]) -> list[FieldError]:
    """Every option code listed more than once after its first time, with its pointer."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, item in enumerate(options):
        if item.code in seen:
            errors.append(
                FieldError(pointer=f"/options/{i}/code", code="duplicate", message=f"{item.code!r} is listed twice.")
            )
        seen.add(item.code)
    return errors


def ordered_options(options: list[OptionCreate]) -> list[Option]:
    """The options of a whole list as stored: an item without a position takes its index; position order."""
    return sorted(
        (
            Option(code=o.code, labels=o.labels, position=i if o.position is None else o.position)
            for i, o in enumerate(options)
        ),
        key=lambda o: (o.position, o.code),
    )


def binding_errors(bindings: list[Binding], known: set[str]) -> list[FieldError]:
    """Every repeated or unknown attribute (not among `known`) and every repeated stage, with its pointer."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, binding in enumerate(bindings):
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
    return errors


def canonical_bindings(bindings: list[Binding]) -> list[Binding]:
    """The bindings with their stages in the order a product flows through them."""
    return [msgspec.structs.replace(b, required_for=[s for s in STAGES if s in b.required_for]) for b in bindings]


def requirements(bindings: list[Binding]) -> set[tuple[str, str]]:
    """What the bindings require, and for which stage: only this changes completeness."""
    return {(b.attribute, stage) for b in bindings for stage in b.required_for}


# Errors.


class AttributeNotFound(NotFound):
    """No attribute has the code the request names."""

    code = "attribute-not-found"

    def __init__(self, code: str) -> None:
        super().__init__(f"No attribute has the code {code!r}.")


class AttributeExists(Conflict):
    """An attribute with the code exists already."""

    code = "attribute-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"An attribute with the code {code!r} exists already.")


class AttributeInUse(Conflict):
    """The type of an attribute that products or SKUs carry values of would change."""

    code = "attribute-in-use"

    def __init__(self, code: str, products: int, skus: int, old_type: str, new_type: str) -> None:
        super().__init__(
            f"Attribute {code!r} has values on {products} products and {skus} SKUs; "
            f"its type cannot change from {old_type} to {new_type}.",
            products=products,
            skus=skus,
        )


class OptionsNotApplicable(Conflict):
    """The options of an attribute that is not a select or multiselect are read or written."""

    code = "options-not-applicable"

    def __init__(self, code: str, type_: str) -> None:
        super().__init__(
            f"Attribute {code!r} is of type {type_}; only select and multiselect attributes have options.",
            type=type_,
        )


class OptionNotFound(NotFound):
    """The attribute has no option with the code the request names."""

    code = "option-not-found"

    def __init__(self, code: str, option: str) -> None:
        super().__init__(f"Attribute {code!r} has no option {option!r}.")


class OptionExists(Conflict):
    """The attribute has an option with the code already."""

    code = "option-exists"

    def __init__(self, code: str, option: str) -> None:
        super().__init__(f"Attribute {code!r} has an option {option!r} already.")


class OptionInUse(Conflict):
    """Options that product or SKU values still use would be deleted: `in_use` names them."""

    code = "option-in-use"

    def __init__(self, code: str, usage: dict[str, int]) -> None:
        named = ", ".join(f"{o} ({n} products)" for o, n in usage.items())
        super().__init__(
            f"Options of {code!r} still in use by product or SKU values: {named}.",
            in_use=[{"option": o, "products": n} for o, n in usage.items()],
        )
