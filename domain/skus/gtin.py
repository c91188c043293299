"""GTIN barcodes (GTIN-8 / EAN-8, GTIN-12 / UPC-A, GTIN-13 / EAN-13, GTIN-14): the mod-10 check digit."""

from __future__ import annotations

LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The check digit for the digits before it: weights 3, 1, 3, … from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def problem(code: str) -> tuple[str, str] | None:
    """Why `code` is not a valid GTIN, as (error code, sentence), or None when it is one."""
    if not code.isascii() or not code.isdigit() or len(code) not in LENGTHS:
        return "invalid_gtin", "A barcode is a GTIN of 8, 12, 13 or 14 digits."
    expected = check_digit(code[:-1])
    if int(code[-1]) != expected:
        return "invalid_check_digit", f"The check digit of {code} should be {expected}."
    return None


def is_valid(code: str) -> bool:
    """True for a GTIN-8/12/13/14 whose last digit is the right check digit."""
    return problem(code) is None
