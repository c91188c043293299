"""A locale map of display names (`is_label_map`, the CHECK of every `labels` and `description` column): a JSON
object whose every value is a non-empty string — no other value passes, whatever its shape."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest

MAPS = {
    "{}": True,
    '{"en": "Tea"}': True,
    '{"en": "Tea", "zh": "茶"}': True,
    '{"en": " "}': True,
    '{"en": ""}': False,
    '{"en": "Tea", "zh": ""}': False,
    '{"en": 1}': False,
    '{"en": true}': False,
    '{"en": null}': False,
    '{"en": ["Tea"]}': False,
    '{"en": [""]}': False,
    '{"en": []}': False,
    '{"en": {"x": "Tea"}}': False,
    '{"en": "Tea", "zh": ["茶"]}': False,
    "[]": False,
    '["Tea"]': False,
    '[{"en": "Tea"}]': False,
    '"Tea"': False,
    "1": False,
    "null": False,
}

INSERT_TREE = (
    "INSERT INTO category_trees (code, labels, level_names) VALUES ('t-label-map', $1::text::jsonb, '{Level}')"
)


async def test_a_label_map_is_an_object_of_non_empty_strings(conn: asyncpg.Connection) -> None:
    found = await conn.fetch("SELECT m, is_label_map(m::jsonb) AS ok FROM unnest($1::text[]) m", list(MAPS))
    assert {r["m"]: r["ok"] for r in found} == MAPS
    assert await conn.fetchval("SELECT is_label_map(NULL)") is None  # (a CHECK lets NULL through: NOT NULL refuses it)


@pytest.mark.parametrize("labels", [m for m, ok in MAPS.items() if not ok])
async def test_a_table_refuses_labels_that_are_no_label_map(conn: asyncpg.Connection, labels: str) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():
            await conn.execute(INSERT_TREE, labels)


async def test_a_table_takes_a_label_map(conn: asyncpg.Connection) -> None:
    labels = {"en": "Tea", "zh": "茶"}
    await conn.execute(INSERT_TREE, msgspec.json.encode(labels).decode())
    assert await conn.fetchval("SELECT labels FROM category_trees WHERE code = 't-label-map'") == labels
