"""The stock ledger over HTTP: every movement type, all-or-nothing batches, never below zero,
idempotent retries, moving-average cost, and every kind of bad input."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests import stockbed
from tests.stockbed import move


async def post(api: httpx.AsyncClient, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await api.post("/v1/stock/movements", json=body, headers=headers)


async def level(api: httpx.AsyncClient, location: str = "A-01-01-01", sku: str = "S-RED") -> dict[str, Any]:
    body = (await api.get("/v1/stock", params={"sku": sku, "warehouse": "hz", "location": location})).json()
    return body["items"][0] if body["items"] else {}


async def test_a_receipt_raises_on_hand_and_answers_the_level_after(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    r = await post(api, move("receive", 10, reference="PO-1", unit_cost={"amount": "20.00", "currency": "CNY"}))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["replayed"] is False
    assert body["movements"] == [
        {
            "line": 0,
            "type": "receive",
            "sku": "S-RED",
            "warehouse": "hz",
            "location": "A-01-01-01",
            "qty": 10,
            "on_hand": 10,
            "reserved": 0,
            "available": 10,
        }
    ]
    assert await level(api) == {
        "sku": "S-RED",
        "warehouse": "hz",
        "location": "A-01-01-01",
        "zone": "A",
        "quarantine": False,
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
        "reorder_point": None,
    }


async def test_reserve_pick_release_and_count_keep_reserved_within_on_hand(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    assert (await post(api, move("receive", 10))).status_code == 201
    assert (await post(api, move("reserve", 4))).json()["movements"][0]["available"] == 6
    picked = (await post(api, move("pick", 3))).json()["movements"][0]
    assert (picked["on_hand"], picked["reserved"], picked["available"]) == (7, 1, 6)  # picking fulfils reservations
    released = (await post(api, move("release", 1))).json()["movements"][0]
    assert (released["on_hand"], released["reserved"]) == (7, 0)
    counted = (await post(api, move("count", 5, reason="stocktake"))).json()["movements"][0]
    assert counted["on_hand"] == 5
    ledger = (await api.get("/v1/stock/movements", params={"sku": "S-RED", "type": "count"})).json()["items"]
    assert [(e["qty"], e["on_hand_delta"]) for e in ledger] == [(5, -2)]


async def test_a_transfer_moves_stock_across_warehouses_and_writes_both_sides(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await post(api, move("receive", 8))
    r = await post(api, move("transfer", 3, to_warehouse="sh", to_location="B-02-01-01", reference="T-9"))
    assert r.status_code == 201, r.text
    assert [(m["type"], m["warehouse"], m["location"], m["on_hand"]) for m in r.json()["movements"]] == [
        ("transfer", "hz", "A-01-01-01", 5),
        ("transfer-in", "sh", "B-02-01-01", 3),
    ]
    totals = (await api.get("/v1/stock", params={"sku": "S-RED"})).json()["totals"]
    assert totals == {"on_hand": 8, "reserved": 0, "available": 8}


async def test_a_movement_that_would_go_below_zero_is_a_409_saying_what_is_where(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await post(api, move("receive", 5))
    await post(api, move("reserve", 3))
    r = await post(api, move("transfer", 3, to_location="A-01-01-02"))
    assert r.status_code == 409
    assert r.json()["code"] == "insufficient-stock"
    assert r.json()["detail"] == (
        "Line 0 (transfer 3 of S-RED) needs 3 available at hz/A-01-01-01; on hand 5, reserved 3, available 2."
    )
    assert r.json()["context"] == {
        "line": 0,
        "type": "transfer",
        "sku": "S-RED",
        "warehouse": "hz",
        "location": "A-01-01-01",
        "requested": 3,
        "on_hand": 5,
        "reserved": 3,
        "available": 2,
    }
    assert (await post(api, move("adjust", -3, reason="damaged"))).status_code == 409
    assert (await post(api, move("release", 4))).json()["code"] == "insufficient-reservation"
    assert (await level(api))["on_hand"] == 5


async def test_a_batch_is_all_or_nothing(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    r = await post(api, {"movements": [move("receive", 5), move("pick", 2), move("pick", 9)]})
    assert r.status_code == 409
    assert r.json()["context"]["line"] == 2
    assert await level(api) == {}
    assert await conn.fetchval("SELECT count(*) FROM stock_movements") == 0
    ok = await post(api, {"movements": [move("receive", 5), move("pick", 2), move("pick", 3)]})
    assert [m["on_hand"] for m in ok.json()["movements"]] == [5, 3, 0]


async def test_a_retry_with_the_same_key_and_body_replays_the_first_answer_with_no_second_effect(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    first = await post(api, move("receive", 7), key="scan-0001")
    again = await post(api, move("receive", 7), key="scan-0001")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == {**first.json(), "replayed": True}
    assert (await level(api))["on_hand"] == 7
    other = await post(api, move("receive", 8), key="scan-0001")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"
    assert (await level(api))["on_hand"] == 7


async def test_moving_average_cost_follows_receipts(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    await post(api, move("receive", 10, unit_cost={"amount": "20.00", "currency": "CNY"}))
    await post(api, move("receive", 30, location="A-01-01-02", unit_cost={"amount": "24.0000", "currency": "CNY"}))
    cost = await conn.fetchrow("SELECT currency, avg_unit_cost FROM sku_costs c JOIN skus s ON s.id = c.sku_id")
    assert (cost["currency"], str(cost["avg_unit_cost"])) == ("CNY", "23.000000")
    wrong = await post(api, move("receive", 1, unit_cost={"amount": "3.00", "currency": "USD"}))
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {
            "pointer": "/movements/0/unit_cost/currency",
            "code": "currency_mismatch",
            "message": "SKU S-RED is costed in CNY.",
        }
    ]


async def test_a_unit_cost_takes_four_decimals_more_than_its_currency_and_no_more(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    r = await post(api, move("receive", 2, unit_cost={"amount": "1.123456", "currency": "CNY"}))
    assert r.status_code == 201, r.text
    cost = await conn.fetchrow("SELECT currency, avg_unit_cost FROM sku_costs c JOIN skus s ON s.id = c.sku_id")
    assert (cost["currency"], str(cost["avg_unit_cost"])) == ("CNY", "1.123456")
    yen = await post(api, move("receive", 1, unit_cost={"amount": "1.12345", "currency": "JPY"}))
    assert yen.status_code == 422
    assert yen.json()["errors"] == [
        {
            "pointer": "/unit_cost/amount",
            "code": "too_many_decimals",
            "message": "JPY takes at most 4 decimal places here.",
        }
    ]
    assert await conn.fetchval("SELECT sum(on_hand) FROM stock_levels") == 2


async def test_unknown_inactive_or_same_bins_are_422s_naming_each_line_and_field(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    r = await post(
        api,
        {
            "movements": [
                move("receive", 1, sku="NOPE"),
                {**move("receive", 1), "warehouse": "nowhere"},
                move("count", 1, location="Z-99"),
                move("transfer", 1, to_location="A-01-01-01"),
                move("receive", 1, location="X-00"),
            ]
        },
    )
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/movements/0/sku", "unknown_sku"),
        ("/movements/1/warehouse", "unknown_warehouse"),
        ("/movements/2/location", "inactive_location"),
        ("/movements/3/to_location", "same_location"),
        ("/movements/4/location", "unknown_location"),
    ]
    assert await conn.fetchval("SELECT count(*) FROM stock_levels") == 0


async def test_quantities_and_type_rules_are_checked_before_anything_is_applied(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    r = await post(
        api,
        {
            "movements": [
                move("receive", 0),
                move("pick", -2),
                move("adjust", 0),
                move("transfer", 1),
                move("pick", 1, unit_cost={"amount": "1.00", "currency": "CNY"}),
                move("receive", 1, unit_cost={"amount": "1.12345", "currency": "XXX"}),
            ]
        },
    )
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/movements/0/qty", "out_of_range"),
        ("/movements/1/qty", "out_of_range"),
        ("/movements/2/qty", "zero_quantity"),
        ("/movements/2/reason", "required"),
        ("/movements/3/to_location", "required"),
        ("/movements/4/unit_cost", "not_applicable"),
        ("/movements/5/unit_cost/currency", "unknown_currency"),
    ]
    # A malformed amount is caught with the body's shape, before these rules.
    shape = await post(api, move("receive", 1, unit_cost={"amount": 1.5, "currency": "CNY"}))
    assert shape.status_code == 422
    assert shape.json()["errors"] == [
        {"pointer": "/unit_cost/amount", "code": "wrong_type", "message": "Expected `str`, got `float`."}
    ]


async def test_a_batch_over_1000_lines_is_refused(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    r = await post(api, {"movements": [move("receive", 1)] * 1001})
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "pointer": "/movements",
        "code": "too_long",
        "message": "At most 1000 movements per request; split the batch.",
    }


async def test_the_ledger_is_append_only(conn: asyncpg.Connection, api: httpx.AsyncClient) -> None:
    await stockbed.build(conn)
    await post(api, move("receive", 1))
    try:
        async with conn.transaction():
            await conn.execute("UPDATE stock_movements SET qty = 2")
        raise AssertionError("the update went through")
    except asyncpg.RaiseError as exc:
        assert "append-only" in str(exc)


async def test_unit_costs_in_the_ledger_are_for_finance_purchasing_and_admin(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await stockbed.build(conn)
    await post(api, move("receive", 2, unit_cost={"amount": "9.50", "currency": "CNY"}))
    async with as_role("warehouse") as warehouse:
        entry = (await warehouse.get("/v1/stock/movements")).json()["items"][0]
    assert "unit_cost" not in entry
    async with as_role("finance") as finance:
        entry = (await finance.get("/v1/stock/movements")).json()["items"][0]
    assert entry["unit_cost"] == {"amount": "9.50", "currency": "CNY"}


async def test_a_number_or_boolean_sent_as_a_string_is_a_422_and_moves_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A JSON client sends numbers as numbers: the framework would read "10" as 10 (and the fast lane hands
    what it cannot decode to the framework); the body is checked strictly first."""
    await stockbed.build(conn)
    r = await post(api, {"movements": [move("receive", 5), {**move("receive", 1), "qty": "10"}]}, key="as-text")
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"pointer": "/movements/1/qty", "code": "wrong_type", "message": "Expected `int`, got `str`."}
    ]
    assert await level(api) == {}
    assert await conn.fetchval("SELECT count(*) FROM stock_movements") == 0
    location = await api.post(
        "/v1/warehouses/hz/locations", json={"code": "C-1", "zone": "C", "pick_sequence": 1, "active": "true"}
    )
    assert location.status_code == 422, location.text
    assert [(e["pointer"], e["code"]) for e in location.json()["errors"]] == [("/active", "wrong_type")]
    assert not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM locations WHERE code = 'C-1')")


# Each movement type at its boundary (10 on hand, 4 reserved, 6 available): the most the bin can take goes
# through, one unit more is refused by the rule itself (`insufficient-stock` / `insufficient-reservation`
# with what is where), never by a table constraint's backstop, and moves nothing.
BOUNDARIES = [
    ("pick", 10, 11, {}),  # picking reserved goods fulfils their reservation: up to what is on hand
    ("ship", 10, 11, {}),
    ("transfer", 6, 7, {"to_location": "A-01-01-02"}),  # only what is available moves away
    ("reserve", 6, 7, {}),
    ("adjust", -6, -7, {"reason": "damaged"}),  # never below what is reserved
    ("count", 4, 3, {"reason": "stocktake"}),
    ("release", 4, 5, {}),
]


@pytest.mark.parametrize(("type_", "most", "beyond", "extra"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
async def test_each_movement_type_takes_its_limit_and_refuses_one_unit_more(
    api: httpx.AsyncClient, conn: asyncpg.Connection, type_: str, most: int, beyond: int, extra: dict[str, Any]
) -> None:
    await stockbed.build(conn)
    assert (await post(api, move("receive", 10))).status_code == 201
    assert (await post(api, move("reserve", 4))).status_code == 201
    refused = await post(api, move(type_, beyond, **extra))
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == ("insufficient-reservation" if type_ == "release" else "insufficient-stock")
    assert {k: body["context"][k] for k in ("type", "requested", "on_hand", "reserved", "available")} == {
        "type": type_,
        "requested": beyond,
        "on_hand": 10,
        "reserved": 4,
        "available": 6,
    }
    assert (await level(api))["on_hand"] == 10 and (await level(api))["reserved"] == 4
    taken = await post(api, move(type_, most, **extra))
    assert taken.status_code == 201, taken.text
    after = taken.json()["movements"][0]
    expected = {
        "pick": (0, 0),
        "ship": (0, 0),
        "transfer": (4, 4),
        "reserve": (10, 10),
        "adjust": (4, 4),
        "count": (4, 4),
        "release": (10, 0),
    }[type_]
    assert (after["on_hand"], after["reserved"]) == expected


async def test_stock_levels_page_through_every_row_once_in_order(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    for sku in ("S-RED", "S-NAVY"):
        for location in ("A-01-01-01", "A-01-01-02", "B-02-01-01"):
            assert (await post(api, move("receive", 3, location=location, sku=sku))).status_code == 201
    whole = (await api.get("/v1/stock", params={"limit": 100})).json()
    assert len(whole["items"]) == 6 and whole["next_cursor"] is None
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4} if cursor is None else {"limit": 4, "cursor": cursor}
        body = (await api.get("/v1/stock", params=params)).json()
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert [(i["sku"], i["location"]) for i in seen] == [(i["sku"], i["location"]) for i in whole["items"]]
    assert len({(i["sku"], i["warehouse"], i["location"]) for i in seen}) == 6


async def test_the_ledger_filtered_by_an_unknown_movement_type_is_a_400_not_an_empty_page(
    api: httpx.AsyncClient,
) -> None:
    r = await api.get("/v1/stock/movements", params={"type": "teleport"})
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {
            "code": "invalid_choice",
            "message": "`type` is one of receive, pick, ship, transfer, adjust, count, reserve, release, return.",
            "parameter": "type",
        }
    ]
    assert (await api.get("/v1/stock/movements", params={"type": "receive"})).status_code == 200


async def test_a_movement_that_would_overfill_a_bin_is_a_409_and_moves_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """A bin counts a SKU's units in an integer: past 2,147,483,647 a receipt, a positive adjust or a transfer in
    is refused by the rule (not by the database's overflow, which was a 500)."""
    await stockbed.build(conn)
    for location in ("A-01-01-01", "A-01-01-02"):
        for _ in range(2):
            assert (await post(api, move("receive", 1_000_000_000, location=location))).status_code == 201
    assert (await post(api, move("receive", 147_483_647))).status_code == 201  # exactly full: 2,147,483,647
    for body in (
        move("receive", 1),
        move("adjust", 1, reason="found"),
        move("transfer", 1, location="A-01-01-02", to_location="A-01-01-01"),
    ):
        r = await post(api, body)
        assert r.status_code == 409, r.text
        problem = r.json()
        assert problem["code"] == "bin-overfull"
        assert problem["context"]["location"] == "A-01-01-01" and problem["context"]["on_hand"] == 2_147_483_647
        assert "a bin holds at most 2147483647" in problem["detail"]
    assert (await level(api))["on_hand"] == 2_147_483_647
    assert (await level(api, "A-01-01-02"))["on_hand"] == 2_000_000_000


async def test_a_body_must_be_one_movement_or_a_batch_with_every_field_of_one_named_when_missing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    both = await post(api, {"movements": [move("receive", 1)], "type": "receive", "sku": "S-RED"})
    assert both.status_code == 422
    assert both.json()["errors"] == [
        {"pointer": "/sku", "code": "not_applicable", "message": "Send either one movement or `movements`, not both."}
    ]
    partial = await post(api, {"type": "receive", "qty": 1})
    assert partial.status_code == 422
    assert partial.json()["errors"] == [
        {"pointer": f"/{f}", "code": "required", "message": f"`{f}` is required."}
        for f in ("sku", "warehouse", "location")
    ]
    stray = await post(api, move("receive", 1, to_warehouse="sh"))
    assert stray.status_code == 422
    assert stray.json()["errors"] == [
        {
            "pointer": "/to_warehouse",
            "code": "not_applicable",
            "message": "Only a transfer has a destination; this is a receive.",
        }
    ]
    assert await conn.fetchval("SELECT count(*) FROM stock_movements") == 0
