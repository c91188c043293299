"""The apply-time re-check of staged attribute values (`merch_import_first_misfit`): the first value, by line
then attribute code, that the API would refuse now — each way a value stops fitting, one at a time."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests import factories as f


async def setting(conn: asyncpg.Connection) -> dict[str, int]:
    await f.tree(conn)
    ids = {"root": await f.category(conn, "root")}
    ids["leaf"] = await f.category(conn, "leaf", parent="root")
    ids["other"] = await f.category(conn, "other")
    await f.attribute(conn, "material", "select", options=("silk", "cotton"))
    await f.attribute(conn, "colours", "multiselect", options=("red", "navy"))
    await f.attribute(conn, "width", "integer")
    await f.attribute(conn, "note", "text")
    await f.attribute(conn, "size", "measurement")
    for code in ("material", "colours", "width", "note", "size"):
        await f.bind(conn, "root", code)  # bound at the root: the leaf inherits them
    return ids


async def first_misfit(conn: asyncpg.Connection, values: list[tuple[int, int, str, Any]]) -> tuple[int, str] | None:
    row = await conn.fetchrow(
        """SELECT line, key FROM merch_import_first_misfit(
               $1::integer[], $2::bigint[], $3::text[],
               ARRAY(SELECT e FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n))""",
        [v[0] for v in values],
        [v[1] for v in values],
        [v[2] for v in values],
        [v[3] for v in values],  # (one JSON array: the values, in order)
    )
    return None if row is None or row["line"] is None else (row["line"], row["key"])


FITTING: list[tuple[str, Any]] = [
    ("material", "silk"),
    ("colours", ["red", "navy"]),
    ("colours", []),
    ("width", 90),
    ("note", "hand wash"),
    ("size", {"value": "90", "unit": "cm"}),
]


async def test_values_that_still_fit_give_no_line(conn: asyncpg.Connection) -> None:
    ids = await setting(conn)
    values = [(line, ids["leaf"], key, value) for line, (key, value) in enumerate(FITTING, start=1)]
    assert await first_misfit(conn, values) is None
    assert await first_misfit(conn, []) is None


@pytest.mark.parametrize(
    ("key", "value", "category"),
    [
        ("material", "wool", "leaf"),  # an option that is not (or no longer) defined
        ("colours", ["red", "gold"], "leaf"),  # one option of a multiselect's
        ("material", ["silk"], "leaf"),  # not the JSON type of its kind
        ("width", "90", "leaf"),
        ("colours", "red", "leaf"),
        ("size", "90 cm", "leaf"),
        ("note", 5, "leaf"),
        ("nope", "x", "leaf"),  # an attribute gone
        ("width", 90, "other"),  # out of the row's category's set
    ],
)
async def test_the_first_value_that_no_longer_fits_is_named_by_line_and_attribute(
    conn: asyncpg.Connection, key: str, value: Any, category: str
) -> None:
    ids = await setting(conn)
    fitting = [(1, ids["leaf"], k, v) for k, v in FITTING]
    later = [(3, ids["leaf"], "material", "wool")]  # a later line's misfit is not the first
    assert await first_misfit(conn, [*fitting, (2, ids[category], key, value), *later, *fitting]) == (2, key)


async def test_a_misfit_is_named_at_the_first_line_it_is_on_whatever_the_order_the_values_come_in(
    conn: asyncpg.Connection,
) -> None:
    # (each kind of value — category, attribute, JSON type; an option — is checked once: at its first line)
    ids = await setting(conn)
    values = [
        (9, ids["leaf"], "width", "90"),  # the same misfit as line 6's, later
        (4, ids["leaf"], "material", "silk"),
        (6, ids["leaf"], "width", "91"),
        (7, ids["leaf"], "material", "wool"),
        (5, ids["leaf"], "colours", ["red"]),
        (8, ids["leaf"], "colours", ["navy", "gold"]),
    ]
    assert await first_misfit(conn, values) == (6, "width")
    assert await first_misfit(conn, [v for v in values if v[2] != "width"]) == (7, "material")
    assert await first_misfit(conn, [*values, (6, ids["leaf"], "colours", ["gold"])]) == (6, "colours")
    assert await first_misfit(conn, [v for v in values if v[2] == "colours"]) == (8, "colours")
