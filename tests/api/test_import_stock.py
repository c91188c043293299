"""Stock count imports and exports over HTTP: each row a `count` movement applied through the ledger itself
(its rules and codes: an unknown SKU or bin, an inactive bin, a count below what is reserved), idempotent
per import (a run that starts again counts nothing twice), both modes — all_or_nothing undoing what the
ledger had applied when it refuses one row — the round trip, and who may do what."""

from __future__ import annotations

from functools import partial
from typing import Any

import asyncpg
import httpx
import msgspec

from domain.imports.service import run_import
from tests import stockbed
from tests.api import test_imports as imports_tests
from tests.api.test_imports import CSV, JSONL, csv_records, jsonl, report, run
from tests.conftest import OneConnectionPool
from tests.stockbed import move


def row(qty: int, location: str = "A-01-01-01", sku: str = "S-RED", **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "warehouse": "hz", "location": location, "qty": qty, **extra}


upload = partial(imports_tests.upload, type="stock")
imported = partial(imports_tests.imported, type="stock")


async def levels(conn: asyncpg.Connection) -> list[tuple[str, str, str, int, int]]:
    found = await conn.fetch(
        "SELECT s.sku, w.code, l.code, sl.on_hand, sl.reserved FROM stock_levels sl JOIN skus s ON s.id = sl.sku_id"
        " JOIN locations l ON l.id = sl.location_id JOIN warehouses w ON w.id = l.warehouse_id ORDER BY 1, 2, 3"
    )
    return [tuple(r) for r in found]


async def test_each_row_is_a_count_movement_in_the_ledger(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    received = await api.post("/v1/stock/movements", json=move("receive", 10))
    assert received.status_code == 201, received.text
    job = await imported(api, conn, jsonl(row(7, reference="cycle count 12"), row(4, "B-02-01-01", "S-NAVY")))
    assert (job["kind"], job["state"], job["rows"]) == (
        "import-stock",
        "done",
        {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0},
    )
    assert await levels(conn) == [("S-NAVY", "hz", "B-02-01-01", 4, 0), ("S-RED", "hz", "A-01-01-01", 7, 0)]
    ledger = (await api.get("/v1/stock/movements", params={"sku": "S-RED"})).json()["items"]
    assert [(m["type"], m["qty"], m["on_hand_delta"], m.get("reference"), m["actor"]) for m in ledger] == [
        ("count", 7, -3, "cycle count 12", "test-admin"),
        ("receive", 10, 10, None, "test-admin"),
    ]


async def test_a_run_started_again_counts_no_row_twice(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    answer = await upload(api, jsonl(row(5), row(3, "A-01-01-02")))
    assert answer.status_code == 202
    await run(conn)
    movements = await conn.fetchval("SELECT count(*) FROM stock_movements")
    # the runner died after applying, before it said so: another runner takes the job again
    await conn.execute("UPDATE jobs SET state = 'running' WHERE id = $1", answer.json()["id"])
    await conn.execute(
        "INSERT INTO import_rows (job_id, line, code, ok, doc) SELECT $1, line, code, true, doc"
        " FROM (VALUES (1, 'S-RED@hz/A-01-01-01', $2), (2, 'S-RED@hz/A-01-01-02', $3)) v(line, code, doc)",
        answer.json()["id"],
        msgspec.json.encode({"type": "count", **row(5)}).decode(),
        msgspec.json.encode({"type": "count", **row(3, "A-01-01-02")}).decode(),
    )
    await run_import(OneConnectionPool(conn), answer.json()["id"])
    assert await conn.fetchval("SELECT count(*) FROM stock_movements") == movements
    job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
    assert (job["state"], job["rows"]) == ("done", {"read": 2, "applied": 0, "unchanged": 2, "rejected": 0})


async def test_what_the_ledger_refuses_is_named_on_its_row_and_all_or_nothing_undoes_the_rest(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await api.post("/v1/stock/movements", json={"movements": [move("receive", 10), move("reserve", 6)]})
    # rows the ledger refuses only when it applies them: the good one before them is undone with them
    ledger_refuses = [row(8, "A-01-01-02"), row(5), row(1, "Z-99"), row(1, "NOPE", "S-GONE")]
    job = await imported(api, conn, jsonl(*ledger_refuses))
    assert (job["state"], job["phase"]) == ("failed", "rejected")
    assert job["error"] == "3 row(s) rejected: nothing was applied (mode all_or_nothing); see the report."
    assert job["rows"] == {"read": 4, "applied": 0, "unchanged": 0, "rejected": 3}
    got = await report(api, job["id"])
    assert [(e["line"], e["pointer"], e["code"]) for e in got] == [
        (2, "", "insufficient-stock"),
        (3, "/location", "inactive_location"),
        (4, "/location", "unknown_location"),
        (4, "/sku", "unknown_sku"),
    ]
    assert got[0]["message"] == (
        "Line 0 (count 5 of S-RED) needs 5 available at hz/A-01-01-01; on hand 10, reserved 6, available 4."
    )
    assert await levels(conn) == [("S-RED", "hz", "A-01-01-01", 10, 6)]
    assert await conn.fetchval("SELECT count(*) FROM stock_movements WHERE type = 'count'") == 0

    rows = jsonl(*ledger_refuses, row(-1), row(2, "A-01-01-02"))
    valid = await imported(api, conn, rows, mode="valid_rows")
    assert (valid["state"], valid["rows"]) == ("done", {"read": 6, "applied": 1, "unchanged": 0, "rejected": 5})
    assert await levels(conn) == [("S-RED", "hz", "A-01-01-01", 10, 6), ("S-RED", "hz", "A-01-01-02", 8, 0)]
    assert [(e["line"], e["pointer"], e["code"]) for e in await report(api, valid["id"])] == [
        (2, "", "insufficient-stock"),
        (3, "/location", "inactive_location"),
        (4, "/location", "unknown_location"),
        (4, "/sku", "unknown_sku"),
        (5, "/qty", "out_of_range"),
        (5, "/sku", "duplicate_code"),
        (6, "/sku", "duplicate_code"),
    ]


async def test_an_export_of_levels_imports_back_as_counts_that_change_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await imported(api, conn, jsonl(row(7), row(2, "B-02-01-01", "S-NAVY")))
    exported = (await api.get("/v1/exports", params={"type": "stock"})).content
    assert [msgspec.json.decode(x) for x in exported.splitlines()] == [
        row(2, "B-02-01-01", "S-NAVY"),
        row(7),
    ]
    table = (await api.get("/v1/exports", params={"type": "stock", "format": "csv"})).content
    assert csv_records(table) == [
        ["sku", "warehouse", "location", "qty"],
        ["S-NAVY", "hz", "B-02-01-01", "2"],
        ["S-RED", "hz", "A-01-01-01", "7"],
    ]
    before = await levels(conn)
    for body, headers in ((exported, JSONL), (table, CSV)):
        job = await imported(api, conn, body, headers=headers)
        assert job["rows"] == {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0}
        assert await levels(conn) == before
    # every count is in the ledger, its difference zero
    deltas = await conn.fetch("SELECT type, on_hand_delta FROM stock_movements ORDER BY id")
    assert [tuple(d) for d in deltas][2:] == [("count", 0)] * 4


async def test_stock_counts_are_imported_by_the_roles_that_post_movements(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    async with as_role("warehouse") as warehouse:
        job = await imported(warehouse, conn, jsonl(row(3)))
        assert job["rows"]["applied"] == 1
        for role in ("listing", "finance"):
            refused = await upload(as_role(role), jsonl(row(4)))
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), role
        assert (await as_role("listing").get(f"/v1/imports/{job['id']}/errors")).status_code == 403
        assert (await as_role("marketing").get("/v1/exports", params={"type": "stock"})).status_code == 200
    assert await levels(conn) == [("S-RED", "hz", "A-01-01-01", 3, 0)]


async def test_a_csv_count_too_large_for_a_quantity_is_named_out_of_range_as_in_json_lines(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A CSV cell of 13 digits or more was read as text and named `wrong_type` ("Expected `int`, got `str`"),
    where the same number in JSON Lines is `out_of_range`."""
    await stockbed.build(conn)
    body = b"sku,warehouse,location,qty\nS-RED,hz,A-01-01-01,99999999999999999999\nS-RED,hz,A-01-01-02,x\n"
    job = await imported(api, conn, body, headers=CSV, mode="valid_rows")
    assert job["rows"] == {"read": 2, "applied": 0, "unchanged": 0, "rejected": 2}
    assert [(e["line"], e["column"], e["code"]) for e in await report(api, job["id"])] == [
        (2, "qty", "out_of_range"),
        (3, "qty", "wrong_type"),
    ]
