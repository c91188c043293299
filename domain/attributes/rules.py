"""The validation rules of an attribute definition: which rules each type takes, and what makes a set of
rules invalid (pure rules; the values themselves are checked in values.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

from domain.attributes import units
from domain.attributes.regex import RegexError, compile_rule
from domain.errors import FieldError, pointer_join

MaxLength = Annotated[
    int, msgspec.Meta(ge=1, le=20_000, description="Longest value, in characters (text, textarea, url).")
]
Regex = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=500, description="A Python regular expression the whole value must match."),
]
Decimals = Annotated[
    int, msgspec.Meta(ge=0, le=10, description="Most digits after the decimal point (decimal, measurement).")
]

# Which validation rules each type takes.
APPLICABLE: dict[str, frozenset[str]] = {
    "text": frozenset({"max_length", "regex"}),
    "textarea": frozenset({"max_length", "regex"}),
    "url": frozenset({"max_length", "regex"}),
    "integer": frozenset({"min", "max"}),
    "decimal": frozenset({"min", "max", "decimals"}),
    "measurement": frozenset({"min", "max", "decimals", "unit_family", "default_unit"}),
    "boolean": frozenset(),
    "date": frozenset(),
    "select": frozenset(),
    "multiselect": frozenset(),
}


class ValidationRules(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """Validation rules; which apply depends on the type (`min`/`max` of a measurement: in `default_unit`)."""

    max_length: MaxLength | None = None
    regex: Regex | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    decimals: Decimals | None = None
    unit_family: str | None = None
    default_unit: str | None = None


def rule_errors(type_: str, rules: ValidationRules, base: str = "/validation") -> list[FieldError]:
    """Every validation rule that does not fit the type, or does not make sense, with its pointer."""
    errors: list[FieldError] = []
    given = {k for k, v in msgspec.structs.asdict(rules).items() if v is not None}
    for rule in sorted(given - APPLICABLE[type_], key=list(msgspec.structs.asdict(rules)).index):
        errors.append(
            FieldError(
                pointer=pointer_join(base, rule),
                code="not_applicable",
                message=f"`{rule}` does not apply to {type_} attributes.",
            )
        )
    if rules.regex is not None and "regex" in APPLICABLE[type_]:
        try:
            compile_rule(rules.regex)
        except RegexError as exc:
            errors.append(
                FieldError(
                    pointer=pointer_join(base, "regex"),
                    code="invalid_regex",
                    message=(
                        "Not a regular expression RE2 matches in linear time "
                        f"(no backreferences or lookarounds): {exc}."
                    ),
                )
            )
    for rule in ("min", "max"):
        value = getattr(rules, rule)
        if value is not None and not value.is_finite():
            errors.append(
                FieldError(pointer=pointer_join(base, rule), code="invalid", message="Must be a finite number.")
            )
        elif value is not None and type_ == "integer" and value != value.to_integral_value():
            errors.append(
                FieldError(pointer=pointer_join(base, rule), code="wrong_type", message="Must be an integer.")
            )
    if (
        rules.min is not None
        and rules.max is not None
        and rules.min.is_finite()
        and rules.max.is_finite()
        and rules.min > rules.max
    ):
        errors.append(
            FieldError(
                pointer=pointer_join(base, "min"),
                code="min_above_max",
                message=f"`min` ({rules.min}) is above `max` ({rules.max}).",
            )
        )
    if type_ == "measurement":
        errors += _unit_errors(rules, base)
    return errors


def _unit_errors(rules: ValidationRules, base: str) -> list[FieldError]:
    family = rules.unit_family
    if family is None:
        return [
            FieldError(
                pointer=pointer_join(base, "unit_family"),
                code="required",
                message="A measurement needs a `unit_family`.",
            )
        ]
    if family not in units.FAMILIES:
        families = ", ".join(units.FAMILIES)
        return [
            FieldError(
                pointer=pointer_join(base, "unit_family"),
                code="unknown_unit_family",
                message=f"Must be one of {families}.",
            )
        ]
    if rules.default_unit is None:
        return [
            FieldError(
                pointer=pointer_join(base, "default_unit"),
                code="required",
                message="A measurement needs a `default_unit`.",
            )
        ]
    if rules.default_unit not in units.FAMILIES[family]:
        allowed = ", ".join(units.FAMILIES[family])
        return [
            FieldError(
                pointer=pointer_join(base, "default_unit"),
                code="unknown_unit",
                message=f"A {family} unit: one of {allowed}.",
            )
        ]
    return []


def canonical_rules(rules: ValidationRules) -> ValidationRules:
    """The rules as stored: decimals in plain notation (`1E+3` becomes `1000`)."""

    def plain(d: Decimal | None) -> Decimal | None:
        return Decimal(format(d, "f")) if d is not None and d.is_finite() else d

    return msgspec.structs.replace(rules, min=plain(rules.min), max=plain(rules.max))
