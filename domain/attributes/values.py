"""Attribute definitions as the value checker sees them, and the checking of attribute values.

Values arrive as JSON builtins; each is checked against its attribute's type and validation rules and
normalised (decimals become canonical strings, measurements `{"value": "12.5", "unit": "cm"}`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from domain.attributes import units
from domain.attributes.regex import RegexError, compile_rule
from domain.errors import FieldError, pointer_join

AttributeType = Literal[
    "text", "textarea", "integer", "decimal", "boolean", "date", "select", "multiselect", "measurement", "url"
]
Visibility = Literal["public", "internal", "confidential"]

DEFAULT_MAX_LENGTH = {"text": 1000, "textarea": 20000, "url": 2048}


class Validation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """Validation rules; which apply depends on the attribute's type."""

    max_length: int | None = None
    regex: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    decimals: int | None = None
    unit_family: str | None = None
    default_unit: str | None = None


class AttributeDef(msgspec.Struct, frozen=True, kw_only=True):
    """What the value checker needs to know of an attribute."""

    code: str
    type: AttributeType
    visibility: Visibility = "internal"
    validation: Validation = Validation()
    options: frozenset[str] = frozenset()


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str) and re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _canonical(d: Decimal) -> str:
    text = format(d, "f")
    return text


def _fraction_digits(d: Decimal) -> int:
    exponent = d.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _err(pointer: str, code: str, message: str) -> list[FieldError]:
    return [FieldError(pointer=pointer, code=code, message=message)]


def _check_range(d: Decimal, v: Validation, pointer: str, unit: str = "") -> list[FieldError]:
    suffix = f" {unit}" if unit else ""
    if v.min is not None and d < v.min:
        return _err(pointer, "out_of_range", f"Must be at least {v.min}{suffix}.")
    if v.max is not None and d > v.max:
        return _err(pointer, "out_of_range", f"Must be at most {v.max}{suffix}.")
    return []


def _check_decimals(d: Decimal, v: Validation, pointer: str) -> list[FieldError]:
    if v.decimals is not None and _fraction_digits(d) > v.decimals:
        return _err(pointer, "too_many_decimals", f"At most {v.decimals} decimal places.")
    return []


def _text(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, str):
        return None, _err(pointer, "wrong_type", f"`{defn.code}` takes a string.")
    limit = defn.validation.max_length or DEFAULT_MAX_LENGTH[defn.type]
    if len(value) > limit:
        return None, _err(pointer, "too_long", f"At most {limit} characters.")
    if not value.strip():
        return None, _err(pointer, "empty", "Must not be empty; leave the attribute out instead.")
    if defn.type == "url":
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. an unclosed IPv6 bracket: not a URL, never a server error
            return None, _err(pointer, "invalid_url", "Must be an absolute http(s) URL.")
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
            return None, _err(pointer, "invalid_url", "Must be an absolute http(s) URL.")
    if defn.validation.regex is not None:
        try:
            matched = compile_rule(defn.validation.regex).fullmatch(value)
        except RegexError:  # a rule written before rules were checked for RE2: nothing can match it
            return None, _err(
                pointer, "invalid_format", f"The rule {defn.validation.regex} cannot be checked; fix the attribute."
            )
        if not matched:
            return None, _err(pointer, "invalid_format", f"Must match {defn.validation.regex}.")
    return value, []


def _integer(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, int) or isinstance(value, bool):
        return None, _err(pointer, "wrong_type", f"`{defn.code}` takes an integer.")
    return value, _check_range(Decimal(value), defn.validation, pointer)


def _decimal_value(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    d = _decimal(value)
    if d is None or not d.is_finite():
        return None, _err(pointer, "wrong_type", f'`{defn.code}` takes a decimal string such as "12.50".')
    errors = _check_decimals(d, defn.validation, pointer) or _check_range(d, defn.validation, pointer)
    return _canonical(d), errors


def _boolean(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, bool):
        return None, _err(pointer, "wrong_type", f"`{defn.code}` takes true or false.")
    return value, []


def _date(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None, _err(pointer, "wrong_type", f"`{defn.code}` takes a date as YYYY-MM-DD.")
    try:
        date.fromisoformat(value)
    except ValueError:
        return None, _err(pointer, "invalid_date", f"{value} is not a calendar date.")
    return value, []


def _select(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, str):
        return None, _err(pointer, "wrong_type", f"`{defn.code}` takes an option code.")
    if value not in defn.options:
        return None, _err(pointer, "unknown_option", f"{value!r} is not an option of `{defn.code}`.")
    return value, []


def _multiselect(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, _err(pointer, "wrong_type", f"`{defn.code}` takes a list of option codes.")
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, v in enumerate(value):
        if v in seen:
            errors += _err(pointer_join(pointer, i), "duplicate_option", f"{v!r} is listed twice.")
        elif v not in defn.options:
            errors += _err(pointer_join(pointer, i), "unknown_option", f"{v!r} is not an option of `{defn.code}`.")
        seen.add(v)
    if not value:
        errors += _err(pointer, "empty", "Must list at least one option; leave the attribute out instead.")
    return list(value), errors


def _measurement(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, dict) or set(value) != {"value", "unit"}:
        return None, _err(pointer, "wrong_type", f'`{defn.code}` takes {{"value": decimal, "unit": unit}}.')
    v = defn.validation
    d = _decimal(value["value"])
    if d is None or not d.is_finite():
        return None, _err(pointer_join(pointer, "value"), "wrong_type", 'Takes a decimal string such as "12.5".')
    unit = value["unit"]
    family = v.unit_family or "length"
    if not isinstance(unit, str) or unit not in units.FAMILIES.get(family, {}):
        allowed = ", ".join(units.FAMILIES.get(family, {}))
        return None, _err(pointer_join(pointer, "unit"), "unknown_unit", f"Unit must be one of {allowed}.")
    errors = _check_decimals(d, v, pointer_join(pointer, "value"))
    if not errors and (v.min is not None or v.max is not None):
        base = v.default_unit or unit
        errors = _check_range(units.convert(d, unit, base), v, pointer_join(pointer, "value"), base)
    return {"value": _canonical(d), "unit": unit}, errors


_CHECKERS = {
    "text": _text,
    "textarea": _text,
    "url": _text,
    "integer": _integer,
    "decimal": _decimal_value,
    "boolean": _boolean,
    "date": _date,
    "select": _select,
    "multiselect": _multiselect,
    "measurement": _measurement,
}


def validate_value(defn: AttributeDef, value: Any, pointer: str) -> tuple[Any, list[FieldError]]:
    """Check one value; answers the normalised value and the errors (empty when valid)."""
    if value is None:
        return None, _err(pointer, "null_value", "Leave the attribute out instead of sending null.")
    return _CHECKERS[defn.type](defn, value, pointer)


def validate_values(
    values: Mapping[str, Any], allowed: Mapping[str, AttributeDef], pointer: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check a map of attribute values against the attributes allowed here (e.g. a category's effective set)."""
    normalised: dict[str, Any] = {}
    errors: list[FieldError] = []
    for code in sorted(values):
        where = pointer_join(pointer, code)
        defn = allowed.get(code)
        if defn is None:
            errors += _err(where, "not_in_attribute_set", f"`{code}` is not in this category's attribute set.")
            continue
        value, problems = validate_value(defn, values[code], where)
        errors += problems
        if not problems:
            normalised[code] = value
    return normalised, errors
