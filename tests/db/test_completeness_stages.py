"""Completeness computed for some stages only (`merch_completeness(ids, only_stages)`, what a change that concerns
those stages alone recomputes) answers those stages as the whole computation does (what is missing in no particular
order), and no other."""

from __future__ import annotations

import asyncpg
import pytest

pytestmark = pytest.mark.usefixtures("demo_catalog")

STAGES = ["purchasing", "warehousing", "listing", "marketing", "service", "finance"]


@pytest.mark.parametrize("only", [["listing"], ["purchasing", "finance"], ["warehousing", "marketing", "service"]])
async def test_some_stages_are_those_of_the_whole(conn: asyncpg.Connection, only: list[str]) -> None:
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM products ORDER BY id")]
    assert ids
    whole = {r["product_id"]: r for r in await conn.fetch("SELECT * FROM merch_completeness($1::bigint[])", ids)}
    some = await conn.fetch("SELECT * FROM merch_completeness($1::bigint[], $2::text[])", ids, only)
    assert sorted(r["product_id"] for r in some) == ids
    for r in some:
        full = whole[r["product_id"]]
        assert sorted(full["stages"]) == sorted(STAGES)
        assert r["stages"].keys() == set(only)
        for s in only:  # (what is missing in no particular order)
            assert {**r["stages"][s], "missing": sorted(r["stages"][s]["missing"])} == {
                **full["stages"][s],
                "missing": sorted(full["stages"][s]["missing"]),
            }
        assert r["incomplete"] == [s for s in full["incomplete"] if s in only]
