"""GTIN check digits: EAN-13, UPC-A, EAN-8 and GTIN-14, valid and invalid."""

from __future__ import annotations

import pytest

from domain.skus import gtin


@pytest.mark.parametrize(
    "code",
    [
        "4006381333931",  # EAN-13
        "6901234567892",  # EAN-13, a Chinese prefix
        "036000291452",  # UPC-A
        "96385074",  # EAN-8
        "00012345600012",  # GTIN-14
        "10614141000415",  # GTIN-14 with an indicator digit
    ],
)
def test_a_gtin_with_the_right_check_digit_is_valid(code: str) -> None:
    assert gtin.is_valid(code)
    assert gtin.problem(code) is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("4006381333932", 1),  # EAN-13
        ("036000291453", 2),  # UPC-A
        ("96385070", 4),  # EAN-8
        ("10614141000416", 5),  # GTIN-14
    ],
)
def test_a_wrong_check_digit_is_named_with_the_right_one(code: str, expected: int) -> None:
    assert not gtin.is_valid(code)
    assert gtin.problem(code) == ("invalid_check_digit", f"The check digit of {code} should be {expected}.")


@pytest.mark.parametrize(
    "code",
    ["1234567", "12345678901", "123456789012345", "40063813339a1", "", "４００６３８１３３３９３１"],
)
def test_a_code_of_the_wrong_length_or_with_non_digits_is_not_a_gtin(code: str) -> None:
    assert gtin.problem(code) == ("invalid_gtin", "A barcode is a GTIN of 8, 12, 13 or 14 digits.")


def test_the_check_digit_is_computed_from_the_right_with_weights_three_and_one() -> None:
    assert gtin.check_digit("400638133393") == 1
    assert gtin.check_digit("03600029145") == 2
    assert gtin.check_digit("9638507") == 4
    assert gtin.check_digit("1061414100041") == 5
    assert gtin.check_digit("000000000000") == 0
