"""Pick lists over HTTP: earliest bins in the walk first, lines split across bins, reserved stock left
alone, shortages reported (never silently shortened), inactive bins skipped, nothing moved, bad input."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import stockbed

URL = "/v1/warehouses/hz/pick-lists"
# The stockbed's walk in warehouse hz: A-01-01-02 (10), B-02-01-01 (20), A-01-01-01 (30); Z-99 (99) is inactive.


async def put_stock(
    conn: asyncpg.Connection, location: str, sku: str, on_hand: int, reserved: int = 0, warehouse: str = "hz"
) -> None:
    await conn.execute(
        """
        INSERT INTO stock_levels (sku_id, location_id, warehouse_id, on_hand, reserved)
        SELECT s.id, l.id, l.warehouse_id, $4, $5
          FROM skus s, locations l JOIN warehouses w ON w.id = l.warehouse_id
         WHERE s.sku = $3 AND w.code = $1 AND l.code = $2
        """,
        warehouse,
        location,
        sku,
        on_hand,
        reserved,
    )


async def plan(api: httpx.AsyncClient, *lines: tuple[str, int], **extra: Any) -> httpx.Response:
    return await api.post(URL, json={"lines": [{"sku": s, "qty": q} for s, q in lines], **extra})


async def test_a_line_one_bin_can_fill_is_taken_from_the_earliest_bin_in_the_walk(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-01", "S-RED", 5)
    await put_stock(conn, "A-01-01-02", "S-RED", 5)
    r = await plan(api, ("S-RED", 3))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "warehouse": "hz",
        "lines": [
            {
                "sku": "S-RED",
                "qty": 3,
                "picks": [{"location": "A-01-01-02", "zone": "A", "pick_sequence": 10, "qty": 3}],
                "short": 0,
            }
        ],
        "route": [{"location": "A-01-01-02", "zone": "A", "pick_sequence": 10, "sku": "S-RED", "qty": 3}],
        "complete": True,
    }


async def test_a_line_is_split_across_bins_in_walk_order_when_one_bin_is_not_enough(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-01", "S-RED", 10)
    await put_stock(conn, "A-01-01-02", "S-RED", 5)
    await put_stock(conn, "B-02-01-01", "S-RED", 4)
    body = (await plan(api, ("S-RED", 12))).json()
    assert body["lines"] == [
        {
            "sku": "S-RED",
            "qty": 12,
            "picks": [
                {"location": "A-01-01-02", "zone": "A", "pick_sequence": 10, "qty": 5},
                {"location": "B-02-01-01", "zone": "B", "pick_sequence": 20, "qty": 4},
                {"location": "A-01-01-01", "zone": "A", "pick_sequence": 30, "qty": 3},
            ],
            "short": 0,
        }
    ]
    assert body["complete"] is True


async def test_reserved_stock_is_left_alone_unless_include_reserved(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-02", "S-RED", 5, reserved=3)
    await put_stock(conn, "B-02-01-01", "S-RED", 2, reserved=2)
    await put_stock(conn, "A-01-01-01", "S-RED", 6)
    available = (await plan(api, ("S-RED", 4))).json()["lines"][0]["picks"]
    assert [(p["location"], p["qty"]) for p in available] == [("A-01-01-02", 2), ("A-01-01-01", 2)]
    everything = (await plan(api, ("S-RED", 8), include_reserved=True)).json()["lines"][0]["picks"]
    assert [(p["location"], p["qty"]) for p in everything] == [("A-01-01-02", 5), ("B-02-01-01", 2), ("A-01-01-01", 1)]


async def test_a_line_that_cannot_be_filled_says_what_is_missing_and_the_list_is_not_complete(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-01", "S-RED", 3, reserved=1)
    r = await plan(api, ("S-RED", 5), ("S-NAVY", 2))
    assert r.status_code == 200
    assert r.json() == {
        "warehouse": "hz",
        "lines": [
            {
                "sku": "S-RED",
                "qty": 5,
                "picks": [{"location": "A-01-01-01", "zone": "A", "pick_sequence": 30, "qty": 2}],
                "short": 3,
            },
            {"sku": "S-NAVY", "qty": 2, "picks": [], "short": 2},
        ],
        "route": [{"location": "A-01-01-01", "zone": "A", "pick_sequence": 30, "sku": "S-RED", "qty": 2}],
        "complete": False,
    }


async def test_inactive_bins_and_other_warehouses_are_never_proposed(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "Z-99", "S-RED", 50)
    await put_stock(conn, "A-01-01-02", "S-RED", 50, warehouse="sh")
    await put_stock(conn, "B-02-01-01", "S-RED", 1)
    await conn.execute(
        "UPDATE locations SET active = false WHERE code = 'B-02-01-01' AND warehouse_id = "
        "(SELECT id FROM warehouses WHERE code = 'hz')"
    )
    body = (await plan(api, ("S-RED", 1))).json()
    assert body["lines"] == [{"sku": "S-RED", "qty": 1, "picks": [], "short": 1}]
    assert body["route"] == []
    assert body["complete"] is False


async def test_the_route_walks_every_pick_of_every_line_in_pick_sequence_order(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-01", "S-RED", 4)
    await put_stock(conn, "B-02-01-01", "S-RED", 1)
    await put_stock(conn, "A-01-01-01", "S-NAVY", 9)
    await put_stock(conn, "A-01-01-02", "S-NAVY", 1)
    body = (await plan(api, ("S-RED", 3), ("S-NAVY", 2))).json()
    assert body["route"] == [
        {"location": "A-01-01-02", "zone": "A", "pick_sequence": 10, "sku": "S-NAVY", "qty": 1},
        {"location": "B-02-01-01", "zone": "B", "pick_sequence": 20, "sku": "S-RED", "qty": 1},
        {"location": "A-01-01-01", "zone": "A", "pick_sequence": 30, "sku": "S-RED", "qty": 2},
        {"location": "A-01-01-01", "zone": "A", "pick_sequence": 30, "sku": "S-NAVY", "qty": 1},
    ]
    assert [len(line["picks"]) for line in body["lines"]] == [2, 2]
    assert body["complete"] is True


async def test_planning_reserves_and_moves_nothing(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-01", "S-RED", 4, reserved=1)
    snapshot = "SELECT sku_id, location_id, on_hand, reserved FROM stock_levels ORDER BY 1, 2"
    before = await conn.fetch(snapshot)
    assert (await plan(api, ("S-RED", 3))).status_code == 200
    assert await conn.fetch(snapshot) == before
    assert await conn.fetchval("SELECT count(*) FROM stock_movements") == 0
    assert await conn.fetchval("SELECT count(*) FROM stock_requests") == 0


async def test_an_unknown_warehouse_is_a_404_and_an_inactive_one_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    r = await api.post("/v1/warehouses/nowhere/pick-lists", json={"lines": [{"sku": "S-RED", "qty": 1}]})
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/warehouse-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No warehouse has the code 'nowhere'.",
        "code": "warehouse-not-found",
        "instance": "/v1/warehouses/nowhere/pick-lists",
    }
    await conn.execute("UPDATE warehouses SET active = false WHERE code = 'hz'")
    r = await plan(api, ("S-RED", 1))
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/warehouse-inactive",
        "title": "Conflict",
        "status": 409,
        "detail": "Warehouse 'hz' is inactive; nothing can be picked from it.",
        "code": "warehouse-inactive",
        "instance": URL,
    }


async def test_unknown_and_repeated_skus_are_a_422_naming_each_line(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    r = await plan(api, ("S-RED", 1), ("NOPE-1", 2), ("S-RED", 3), ("NOPE-2", 1))
    assert r.status_code == 422
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "3 fields are invalid.",
        "code": "validation-failed",
        "instance": URL,
        "errors": [
            {"pointer": "/lines/1/sku", "code": "unknown_sku", "message": "No SKU is 'NOPE-1'."},
            {"pointer": "/lines/2/sku", "code": "duplicate_sku", "message": "SKU 'S-RED' is on line 0 already."},
            {"pointer": "/lines/3/sku", "code": "unknown_sku", "message": "No SKU is 'NOPE-2'."},
        ],
    }


async def test_an_empty_list_a_zero_quantity_and_unknown_fields_are_422s(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    r = await api.post(URL, json={"lines": []})
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/lines", "too_short")]
    r = await api.post(URL, json={"lines": [{"sku": "S-RED", "qty": 0, "bin": "A"}, {"sku": "bad sku", "qty": "2"}]})
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/lines/0/qty", "out_of_range"),
        ("/lines/0/bin", "unknown_field"),
        ("/lines/1/sku", "invalid_format"),
        ("/lines/1/qty", "wrong_type"),  # a number sent as a string
    }
    r = await api.post(URL, json={"lines": [{"sku": "S-RED", "qty": 1}], "include_reserved": "no", "rush": True})
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/include_reserved", "wrong_type"),
        ("/rush", "unknown_field"),
    }


async def test_more_than_500_lines_is_a_422(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    r = await api.post(URL, json={"lines": [{"sku": f"S-{i}", "qty": 1} for i in range(501)]})
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/lines", "too_long")]


async def test_only_the_warehouse_role_plans_pick_lists(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await stockbed.build(conn)
    body = {"lines": [{"sku": "S-RED", "qty": 1}]}
    async with as_role("warehouse") as staff:
        assert (await staff.post(URL, json=body)).status_code == 200
    for role in ("service", "storefront", "purchasing"):
        async with as_role(role) as other:
            r = await other.post(URL, json=body)
            assert r.status_code == 403
            assert r.json()["detail"] == f"This route needs one of the roles admin, warehouse; the key has {role}."
