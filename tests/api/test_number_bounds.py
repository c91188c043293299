"""Numbers in query strings and paths are bounded where they are declared: beyond a database integer, NaN,
or out of their range, a 400 problem naming the parameter — never a 500 from PostgreSQL's integer types."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v1/stock?below=1099511627776", "below"),
        ("/v1/stock?below=-1", "below"),
        ("/v1/completeness?below=NaN", "below"),
        ("/v1/completeness?below=Infinity", "below"),
        ("/v1/completeness?below=0", "below"),
        ("/v1/completeness?below=1.5", "below"),
        ("/v1/jobs/1180591620717411303424", "job_id"),
        ("/v1/jobs/0", "job_id"),
        ("/v1/events?after=9223372036854775808", "after"),
        ("/v1/products?limit=18446744073709551616", "limit"),
        ("/v1/storefront/search?q=silk&limit=18446744073709551616", "limit"),
    ],
)
async def test_a_number_out_of_range_is_a_400_naming_it(
    as_role: Any, conn: asyncpg.Connection, url: str, parameter: str
) -> None:
    async with as_role("admin") as http:
        r = await http.get(url)
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "invalid-parameter", problem
    assert problem["errors"][0]["parameter"] == parameter, problem


async def test_a_number_in_range_passes(as_role: Any, conn: asyncpg.Connection) -> None:
    async with as_role("admin") as http:
        stock = await http.get("/v1/stock?below=5")
        completeness = await http.get("/v1/completeness?below=1")
        job = await http.get("/v1/jobs/9223372036854775807")
    assert stock.status_code == 200 and completeness.status_code == 200
    assert job.status_code == 404
