"""Units of measurement by family, with exact decimal factors to each family's base unit."""

from __future__ import annotations

from decimal import Decimal

FAMILIES: dict[str, dict[str, Decimal]] = {
    # base unit: gram
    "mass": {
        "mg": Decimal("0.001"),
        "g": Decimal("1"),
        "kg": Decimal("1000"),
        "t": Decimal("1000000"),
        "jin": Decimal("500"),  # 斤
        "oz": Decimal("28.349523125"),
        "lb": Decimal("453.59237"),
    },
    # base unit: millimetre
    "length": {
        "mm": Decimal("1"),
        "cm": Decimal("10"),
        "m": Decimal("1000"),
        "km": Decimal("1000000"),
        "in": Decimal("25.4"),
        "ft": Decimal("304.8"),
    },
    # base unit: millilitre
    "volume": {
        "ml": Decimal("1"),
        "cl": Decimal("10"),
        "l": Decimal("1000"),
        "fl_oz": Decimal("29.5735295625"),
    },
    # base unit: square millimetre
    "area": {
        "mm2": Decimal("1"),
        "cm2": Decimal("100"),
        "m2": Decimal("1000000"),
    },
}


def family_of(unit: str) -> str | None:
    for family, units in FAMILIES.items():
        if unit in units:
            return family
    return None


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert between two units of the same family, exactly."""
    family = family_of(from_unit)
    if family is None or to_unit not in FAMILIES[family]:
        raise ValueError(f"cannot convert {from_unit} to {to_unit}")
    units = FAMILIES[family]
    return value * units[from_unit] / units[to_unit]
