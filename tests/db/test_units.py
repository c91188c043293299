"""The unit factors live twice — domain/attributes/units.py (validation, filters) and the `units` table
(measurement values compared across units in SQL, migration 0007) — and must agree, unit for unit."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from domain.attributes.units import FAMILIES


async def test_the_units_table_equals_the_python_unit_families(conn: asyncpg.Connection) -> None:
    stored = {(r["unit"], r["family"], r["factor"]) for r in await conn.fetch("SELECT unit, family, factor FROM units")}
    expected = {(unit, family, Decimal(factor)) for family, units in FAMILIES.items() for unit, factor in units.items()}
    assert stored == expected
