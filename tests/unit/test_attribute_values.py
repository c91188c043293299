"""Attribute values checked against their attribute's type and rules: exact error codes and pointers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.attributes import units
from domain.attributes.values import (
    AttributeDef,
    AttributeType,
    Validation,
    validate_value,
    validate_values,
)
from domain.errors import FieldError

P = "/attributes/x"


def define(type_: AttributeType, options: tuple[str, ...] = (), **rules: Any) -> AttributeDef:
    return AttributeDef(code="x", type=type_, validation=Validation(**rules), options=frozenset(options))


def errors(defn: AttributeDef, value: Any) -> list[tuple[str | None, str]]:
    return [(e.pointer, e.code) for e in validate_value(defn, value, P)[1]]


def ok(defn: AttributeDef, value: Any) -> Any:
    normalised, problems = validate_value(defn, value, P)
    assert problems == []
    return normalised


# text, textarea, url ------------------------------------------------------------------------------


def test_text_takes_a_string_up_to_its_max_length() -> None:
    defn = define("text", max_length=4)
    assert ok(defn, "丝巾真丝") == "丝巾真丝"
    assert validate_value(defn, "12345", P) == (
        None,
        [FieldError(pointer=P, code="too_long", message="At most 4 characters.")],
    )
    assert errors(defn, 12) == [(P, "wrong_type")]


def test_text_without_a_max_length_allows_1000_characters_and_textarea_20000() -> None:
    assert errors(define("text"), "x" * 1000) == []
    assert errors(define("text"), "x" * 1001) == [(P, "too_long")]
    assert errors(define("textarea"), "x" * 20000) == []
    assert errors(define("textarea"), "x" * 20001) == [(P, "too_long")]


def test_blank_text_is_refused_as_empty() -> None:
    assert errors(define("textarea"), "  \n") == [(P, "empty")]


def test_text_must_match_the_whole_regex() -> None:
    defn = define("text", regex="[A-Z]{2}-[0-9]+")
    assert ok(defn, "SK-12") == "SK-12"
    assert validate_value(defn, "SK-12x", P)[1] == [
        FieldError(pointer=P, code="invalid_format", message="Must match [A-Z]{2}-[0-9]+.")
    ]


@pytest.mark.parametrize("value", ["https://example.com/丝巾.jpg", "http://cdn.example.com/a?b=1"])
def test_a_url_is_an_absolute_http_or_https_url(value: str) -> None:
    assert ok(define("url"), value) == value


@pytest.mark.parametrize(
    "value", ["ftp://example.com/x", "/images/x.jpg", "https://exa mple.com", "https://", "http://[::1"]
)
def test_anything_else_is_an_invalid_url(value: str) -> None:
    assert errors(define("url"), value) == [(P, "invalid_url")]


# integer, decimal ---------------------------------------------------------------------------------


def test_an_integer_is_checked_against_min_and_max() -> None:
    defn = define("integer", min=Decimal(1), max=Decimal(12))
    assert ok(defn, 12) == 12
    assert validate_value(defn, 0, P)[1] == [FieldError(pointer=P, code="out_of_range", message="Must be at least 1.")]
    assert validate_value(defn, 13, P)[1] == [FieldError(pointer=P, code="out_of_range", message="Must be at most 12.")]


@pytest.mark.parametrize("value", [True, False, 1.5, "3", None])
def test_a_boolean_a_float_or_a_string_is_not_an_integer(value: Any) -> None:
    expected = "null_value" if value is None else "wrong_type"
    assert errors(define("integer"), value) == [(P, expected)]


@pytest.mark.parametrize(
    ("value", "normalised"), [("12.50", "12.50"), (12.5, "12.5"), (3, "3"), ("-0.5", "-0.5"), (" 7 ", "7")]
)
def test_a_decimal_takes_strings_and_numbers_and_answers_a_string(value: Any, normalised: str) -> None:
    assert ok(define("decimal"), value) == normalised


@pytest.mark.parametrize("value", ["12,5", "1e3", "NaN", "", True, [1], float("inf")])
def test_anything_else_is_not_a_decimal(value: Any) -> None:
    assert errors(define("decimal"), value) == [(P, "wrong_type")]


def test_a_decimal_is_checked_for_decimal_places_then_range() -> None:
    defn = define("decimal", decimals=2, min=Decimal("0.5"), max=Decimal("99.95"))
    assert ok(defn, "99.95") == "99.95"
    assert validate_value(defn, "1.005", P)[1] == [
        FieldError(pointer=P, code="too_many_decimals", message="At most 2 decimal places.")
    ]
    assert validate_value(defn, "100", P)[1] == [
        FieldError(pointer=P, code="out_of_range", message="Must be at most 99.95.")
    ]
    assert errors(defn, 0.49) == [(P, "out_of_range")]


# boolean, date ------------------------------------------------------------------------------------


def test_a_boolean_is_true_or_false_only() -> None:
    assert ok(define("boolean"), False) is False
    assert errors(define("boolean"), "true") == [(P, "wrong_type")]
    assert errors(define("boolean"), 1) == [(P, "wrong_type")]


def test_a_date_is_a_calendar_date_as_yyyy_mm_dd() -> None:
    assert ok(define("date"), "2028-02-29") == "2028-02-29"
    assert validate_value(define("date"), "2026-02-30", P)[1] == [
        FieldError(pointer=P, code="invalid_date", message="2026-02-30 is not a calendar date.")
    ]
    assert errors(define("date"), "2026-2-3") == [(P, "wrong_type")]
    assert errors(define("date"), "2026-02-03T00:00:00Z") == [(P, "wrong_type")]
    assert errors(define("date"), 20260203) == [(P, "wrong_type")]


# select, multiselect ------------------------------------------------------------------------------


def test_a_select_takes_one_of_its_option_codes() -> None:
    defn = define("select", ("red", "blue"))
    assert ok(defn, "red") == "red"
    assert validate_value(defn, "green", P)[1] == [
        FieldError(pointer=P, code="unknown_option", message="'green' is not an option of `x`.")
    ]
    assert errors(defn, ["red"]) == [(P, "wrong_type")]


def test_a_multiselect_names_each_duplicate_and_unknown_option_at_its_index() -> None:
    defn = define("multiselect", ("floral", "plain", "striped"))
    assert ok(defn, ["plain", "floral"]) == ["plain", "floral"]
    assert validate_value(defn, ["plain", "dots", "plain"], P)[1] == [
        FieldError(pointer=f"{P}/1", code="unknown_option", message="'dots' is not an option of `x`."),
        FieldError(pointer=f"{P}/2", code="duplicate_option", message="'plain' is listed twice."),
    ]


def test_an_empty_or_mistyped_multiselect_is_refused() -> None:
    defn = define("multiselect", ("plain",))
    assert validate_value(defn, [], P)[1] == [
        FieldError(pointer=P, code="empty", message="Must list at least one option; leave the attribute out instead.")
    ]
    assert errors(defn, "plain") == [(P, "wrong_type")]
    assert errors(defn, ["plain", 3]) == [(P, "wrong_type")]


# measurement --------------------------------------------------------------------------------------


def test_a_measurement_range_is_checked_in_the_default_unit_after_conversion() -> None:
    defn = define("measurement", max=Decimal(500), unit_family="mass", default_unit="g")
    assert ok(defn, {"value": "0.4", "unit": "kg"}) == {"value": "0.4", "unit": "kg"}
    assert ok(defn, {"value": 1, "unit": "jin"}) == {"value": "1", "unit": "jin"}
    assert validate_value(defn, {"value": "0.6", "unit": "kg"}, P)[1] == [
        FieldError(pointer=f"{P}/value", code="out_of_range", message="Must be at most 500 g.")
    ]
    assert errors(defn, {"value": "1.2", "unit": "lb"}) == [(f"{P}/value", "out_of_range")]


def test_a_measurement_minimum_and_decimals_apply_too() -> None:
    defn = define("measurement", min=Decimal(10), decimals=1, unit_family="length", default_unit="cm")
    assert ok(defn, {"value": "100", "unit": "mm"}) == {"value": "100", "unit": "mm"}
    assert validate_value(defn, {"value": "99", "unit": "mm"}, P)[1] == [
        FieldError(pointer=f"{P}/value", code="out_of_range", message="Must be at least 10 cm.")
    ]
    assert errors(defn, {"value": "12.25", "unit": "cm"}) == [(f"{P}/value", "too_many_decimals")]


def test_a_unit_outside_the_family_is_unknown() -> None:
    defn = define("measurement", unit_family="mass", default_unit="g")
    assert validate_value(defn, {"value": "1", "unit": "cm"}, P)[1] == [
        FieldError(pointer=f"{P}/unit", code="unknown_unit", message="Unit must be one of mg, g, kg, t, jin, oz, lb.")
    ]
    assert errors(defn, {"value": "1", "unit": "parsec"}) == [(f"{P}/unit", "unknown_unit")]


@pytest.mark.parametrize(
    ("value", "pointer"),
    [
        ("1 kg", P),
        ({"value": "1"}, P),
        ({"value": "1", "unit": "g", "x": 1}, P),
        ({"value": "heavy", "unit": "g"}, f"{P}/value"),
    ],
)
def test_a_measurement_is_a_value_and_a_unit(value: Any, pointer: str) -> None:
    assert errors(define("measurement", unit_family="mass", default_unit="g"), value) == [(pointer, "wrong_type")]


def test_units_convert_exactly_within_a_family_and_not_across() -> None:
    assert units.convert(Decimal("0.4"), "kg", "g") == Decimal("400")
    assert units.convert(Decimal("1"), "lb", "oz") == Decimal(16)
    assert units.convert(Decimal("2.54"), "cm", "in") == Decimal(1)
    assert units.family_of("fl_oz") == "volume"
    assert units.family_of("parsec") is None
    with pytest.raises(ValueError, match="cannot convert kg to cm"):
        units.convert(Decimal(1), "kg", "cm")


# null values and maps of values -------------------------------------------------------------------


def test_null_is_never_a_value() -> None:
    assert validate_value(define("text"), None, P) == (
        None,
        [FieldError(pointer=P, code="null_value", message="Leave the attribute out instead of sending null.")],
    )


def test_a_map_of_values_normalises_the_valid_ones_and_names_each_problem() -> None:
    allowed = {
        "colour": AttributeDef(code="colour", type="select", options=frozenset({"red"})),
        "weight": AttributeDef(
            code="weight", type="measurement", validation=Validation(unit_family="mass", default_unit="g")
        ),
        "width": AttributeDef(code="width", type="decimal"),
    }
    values = {
        "width": 12.5,
        "colour": "blue",
        "weight": {"value": 300, "unit": "g"},
        "origin": "Hangzhou",
        "a/b": 1,
    }
    normalised, problems = validate_values(values, allowed, "/attributes")
    assert normalised == {"weight": {"value": "300", "unit": "g"}, "width": "12.5"}
    assert problems == [
        FieldError(
            pointer="/attributes/a~1b",
            code="not_in_attribute_set",
            message="`a/b` is not in this category's attribute set.",
        ),
        FieldError(
            pointer="/attributes/colour",
            code="unknown_option",
            message="'blue' is not an option of `colour`.",
        ),
        FieldError(
            pointer="/attributes/origin",
            code="not_in_attribute_set",
            message="`origin` is not in this category's attribute set.",
        ),
    ]
