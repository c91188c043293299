"""The `?attr=code:value` filters of the product list: parsed, then converted by each attribute's type into
one containment object (GIN-indexed) plus numeric decimal comparisons. Pure rules; a bad filter is a 400."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from domain.attributes.values import AttributeDef
from domain.errors import param_error

_INTEGER = re.compile(r"[+-]?\d{1,18}")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class AttributeFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What the list statement filters on: `impossible` when two filters ask one single-valued attribute
    for different values (nothing can match)."""

    contains: dict[str, Any]
    decimal_codes: list[str]
    decimal_values: list[Decimal]
    impossible: bool


def parse_pairs(attrs: list[str]) -> list[tuple[str, str]]:
    """Each `code:value` as (code, value)."""
    pairs: list[tuple[str, str]] = []
    for raw in attrs:
        code, sep, value = raw.partition(":")
        if not sep or not code:
            raise param_error("attr", "invalid_format", f"{raw!r} is not code:value, e.g. colour:red.")
        pairs.append((code, value))
    return pairs


def convert(pairs: list[tuple[str, str]], defs: Mapping[str, AttributeDef]) -> AttributeFilters:
    """The filters, each value converted by the type of its attribute (`defs`: those the pairs name)."""
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
            decimal_values.append(_decimal(code, value))
            continue
        if defn.type == "multiselect":
            contains.setdefault(code, []).append(_option(defn, value))
            continue
        converted = _scalar(defn, value)
        if code in contains and contains[code] != converted:
            impossible = True
        contains[code] = converted
    return AttributeFilters(
        contains=contains, decimal_codes=decimal_codes, decimal_values=decimal_values, impossible=impossible
    )


def _decimal(code: str, value: str) -> Decimal:
    try:
        if _DECIMAL.fullmatch(value):
            return Decimal(value)
    except InvalidOperation:
        pass
    raise param_error("attr", "wrong_type", f"`{code}` takes a decimal such as 12.5, not {value!r}.")


def _option(defn: AttributeDef, value: str) -> str:
    if value not in defn.options:
        raise param_error("attr", "unknown_option", f"{value!r} is not an option of `{defn.code}`.")
    return value


def _scalar(defn: AttributeDef, value: str) -> Any:
    if defn.type == "integer":
        if not _INTEGER.fullmatch(value):
            raise param_error("attr", "wrong_type", f"`{defn.code}` takes an integer, not {value!r}.")
        return int(value)
    if defn.type == "boolean":
        if value not in ("true", "false"):
            raise param_error("attr", "wrong_type", f"`{defn.code}` takes true or false, not {value!r}.")
        return value == "true"
    if defn.type == "select":
        return _option(defn, value)
    if defn.type == "measurement":
        raise param_error(
            "attr", "not_filterable", f"`{defn.code}` is a measurement; it cannot be filtered by equality."
        )
    return value
