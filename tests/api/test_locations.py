"""Locations (库位) over HTTP: bin codes unique per warehouse, walk order and its keyset, filters, upsert,
merge patch, deletion refused while a bin holds stock or appears in the ledger, audit and roles."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import stockbed

BASE = "/v1/warehouses/hz/locations"


async def warehouse(api: httpx.AsyncClient, code: str = "hz") -> None:
    assert (await api.post("/v1/warehouses", json={"code": code})).status_code == 201


async def create(api: httpx.AsyncClient, code: str = "A-01-03-02", **fields: Any) -> httpx.Response:
    return await api.post(BASE, json={"code": code, "zone": "A", "pick_sequence": 40, **fields})


def without_times(body: dict[str, Any]) -> dict[str, Any]:
    assert body.pop("created_at") and body.pop("updated_at")
    return body


async def counts(conn: asyncpg.Connection) -> tuple[int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM locations"),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'location'"),
    )


async def put_stock(conn: asyncpg.Connection, location: str, sku: str, on_hand: int, reserved: int = 0) -> None:
    await conn.execute(
        """
        INSERT INTO stock_levels (sku_id, location_id, warehouse_id, on_hand, reserved)
        SELECT s.id, l.id, l.warehouse_id, $3, $4
          FROM skus s, locations l JOIN warehouses w ON w.id = l.warehouse_id
         WHERE s.sku = $2 AND w.code = 'hz' AND l.code = $1
        """,
        location,
        sku,
        on_hand,
        reserved,
    )


async def put_ledger_row(conn: asyncpg.Connection, location: str, sku: str) -> None:
    """A receipt in the ledger naming the bin (its stock since shipped: the level is back to zero)."""
    await conn.execute(
        """
        WITH r AS (INSERT INTO stock_requests (actor, request_hash) VALUES ('test', '\\x00'::bytea) RETURNING id)
        INSERT INTO stock_movements
               (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta, reserved_delta, actor)
        SELECT r.id, 0, 'receive', s.id, l.warehouse_id, l.id, 5, 5, 0, 'test'
          FROM r, skus s, locations l JOIN warehouses w ON w.id = l.warehouse_id
         WHERE s.sku = $2 AND w.code = 'hz' AND l.code = $1
        """,
        location,
        sku,
    )


async def test_creating_a_location_answers_201_with_location_etag_and_the_bin(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    r = await create(api)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/warehouses/hz/locations/A-01-03-02"
    assert r.headers["etag"] == '"1"'
    assert without_times(r.json()) == {
        "warehouse": "hz",
        "code": "A-01-03-02",
        "zone": "A",
        "pick_sequence": 40,
        "active": True,
        "quarantine": False,
        "version": 1,
    }
    got = await api.get(f"{BASE}/A-01-03-02")
    assert got.status_code == 200
    assert without_times(got.json())["pick_sequence"] == 40


async def test_zone_and_pick_sequence_default_to_none_and_zero(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    r = await api.post(BASE, json={"code": "dock.1"})
    assert r.status_code == 201
    assert without_times(r.json()) == {
        "warehouse": "hz",
        "code": "dock.1",
        "zone": None,
        "pick_sequence": 0,
        "active": True,
        "quarantine": False,
        "version": 1,
    }


async def test_a_bin_code_is_unique_within_its_warehouse_only(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    await warehouse(api, "sh")
    assert (await create(api)).status_code == 201
    assert (await api.post("/v1/warehouses/sh/locations", json={"code": "A-01-03-02"})).status_code == 201
    r = await create(api)
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/location-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "Warehouse 'hz' has a location 'A-01-03-02' already.",
        "code": "location-exists",
        "instance": BASE,
    }


async def test_every_invalid_field_is_named_and_nothing_is_written(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await warehouse(api)
    r = await api.post(BASE, json={"code": "-A01", "zone": "zone a", "pick_sequence": -1, "active": "yes", "aisle": 3})
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/aisle", "unknown_field"),
        ("/code", "invalid_format"),
        ("/zone", "invalid_format"),
        ("/pick_sequence", "out_of_range"),
        ("/active", "wrong_type"),
    }
    r = await api.post(BASE, json={"code": "A" * 65, "pick_sequence": 100_000_001})
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/code", "too_long"),
        ("/pick_sequence", "out_of_range"),
    }
    assert await counts(conn) == (0, 0)


async def test_an_unknown_warehouse_or_bin_is_a_404_problem(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/warehouses/nowhere/locations")
    assert r.status_code == 404
    assert r.json()["code"] == "warehouse-not-found"
    for method in ("GET", "PATCH", "DELETE"):
        r = await api.request(method, "/v1/warehouses/nowhere/locations/A-1", json={} if method == "PATCH" else None)
        assert (r.status_code, r.json()["code"]) == (404, "warehouse-not-found")
    assert (await api.post("/v1/warehouses/nowhere/locations", json={"code": "A-1"})).status_code == 404
    assert (await api.put("/v1/warehouses/nowhere/locations/A-1", json={})).status_code == 404
    await warehouse(api)
    r = await api.get(f"{BASE}/A-1")
    assert r.json() == {
        "type": "/problems/location-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Warehouse 'hz' has no location 'A-1'.",
        "code": "location-not-found",
        "instance": f"{BASE}/A-1",
    }
    assert (await api.patch(f"{BASE}/A-1", json={"active": False})).status_code == 404
    assert (await api.delete(f"{BASE}/A-1")).status_code == 404


async def test_the_list_follows_the_walk_and_pages_by_pick_sequence_then_code(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    bins = [("C-1", 30), ("A-2", 10), ("A-1", 10), ("B-9", 20), ("B-1", 20), ("D-1", 0), ("A-3", 10)]
    for code, seq in bins:
        assert (await create(api, code, pick_sequence=seq, zone=code[0])).status_code == 201
    seen: list[tuple[int, str]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(BASE, params=params)).json()
        seen += [(b["pick_sequence"], b["code"]) for b in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [(0, "D-1"), (10, "A-1"), (10, "A-2"), (10, "A-3"), (20, "B-1"), (20, "B-9"), (30, "C-1")]
    assert pages == 4


async def test_the_list_filters_on_zone_and_active_and_keeps_other_warehouses_out(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    await warehouse(api, "sh")
    for code, zone, seq, active in (("A-1", "A", 3, True), ("A-2", "A", 1, False), ("B-1", "B", 2, True)):
        assert (await create(api, code, zone=zone, pick_sequence=seq, active=active)).status_code == 201
    await api.post("/v1/warehouses/sh/locations", json={"code": "A-9", "zone": "A"})
    zone_a = (await api.get(BASE, params={"zone": "A"})).json()
    assert [b["code"] for b in zone_a["items"]] == ["A-2", "A-1"]
    active = (await api.get(BASE, params={"active": "true"})).json()
    assert [b["code"] for b in active["items"]] == ["B-1", "A-1"]
    both = (await api.get(BASE, params={"zone": "A", "active": "false"})).json()
    assert [b["code"] for b in both["items"]] == ["A-2"]


async def test_a_cursor_of_another_shape_is_a_400(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    for code in ("w1", "w2"):
        await api.post("/v1/warehouses", json={"code": code})
    tree_cursor = (await api.get("/v1/warehouses", params={"limit": 1})).json()["next_cursor"]
    r = await api.get(BASE, params={"cursor": tree_cursor})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"parameter": "cursor", "code": "invalid_cursor", "message": "The cursor is not one this list handed out."}
    ]


async def test_put_creates_then_replaces_and_a_no_op_put_keeps_the_version(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    body = {"zone": "A", "pick_sequence": 5, "active": True}
    first = await api.put(f"{BASE}/A-01-01-01", json=body)
    assert first.status_code == 201
    assert first.headers["location"] == f"{BASE}/A-01-01-01"
    again = await api.put(f"{BASE}/A-01-01-01", json=body)
    assert again.status_code == 200
    assert again.json()["version"] == 1
    changed = await api.put(f"{BASE}/A-01-01-01", json={**body, "pick_sequence": 7}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200
    assert without_times(changed.json()) == {
        "warehouse": "hz",
        "code": "A-01-01-01",
        "zone": "A",
        "pick_sequence": 7,
        "active": True,
        "quarantine": False,
        "version": 2,
    }
    audit = (await api.get("/v1/audit", params={"entity": "location", "code": "hz/A-01-01-01"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("update", 2), ("create", 1)]
    assert audit[0]["changes"] == {"pick_sequence": {"before": 5, "after": 7}}


async def test_put_with_an_invalid_bin_code_in_the_path_is_a_422(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await warehouse(api)
    r = await api.put(f"{BASE}/A%2001", json={})
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/code", "invalid_format")]
    assert await counts(conn) == (0, 0)


async def test_merge_patch_clears_the_zone_with_null_and_keeps_the_rest(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    await create(api)
    r = await api.patch(f"{BASE}/A-01-03-02", json={"zone": None})
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    assert without_times(r.json()) == {
        "warehouse": "hz",
        "code": "A-01-03-02",
        "zone": None,
        "pick_sequence": 40,
        "active": True,
        "quarantine": False,
        "version": 2,
    }
    same = await api.patch(f"{BASE}/A-01-03-02", json={"pick_sequence": 40})
    assert same.json()["version"] == 2


async def test_a_stale_if_match_is_412_and_changes_nothing(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    await create(api)
    await api.patch(f"{BASE}/A-01-03-02", json={"pick_sequence": 1})
    r = await api.patch(f"{BASE}/A-01-03-02", json={"pick_sequence": 2}, headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert r.json() == {
        "type": "/problems/version-mismatch",
        "title": "Precondition failed",
        "status": 412,
        "detail": "Location 'hz/A-01-03-02' is at version 2, not 1: it changed since you read it.",
        "code": "version-mismatch",
        "instance": f"{BASE}/A-01-03-02",
        "context": {"current_version": 2},
    }
    assert (await api.get(f"{BASE}/A-01-03-02")).json()["pick_sequence"] == 1
    assert (await api.get(f"{BASE}/A-01-03-02", headers={"If-None-Match": '"2"'})).status_code == 304


async def test_an_invalid_patch_is_a_422_naming_each_field(api: httpx.AsyncClient) -> None:
    await warehouse(api)
    await create(api)
    r = await api.patch(f"{BASE}/A-01-03-02", json={"pick_sequence": None, "zone": "a/b", "code": "B-1"})
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/pick_sequence", "wrong_type"),
        ("/zone", "invalid_format"),
        ("/code", "unknown_field"),
    }


async def test_an_empty_never_used_bin_can_be_deleted_and_it_is_audited(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-02", "S-RED", 0)  # another bin's empty level row is no reference
    r = await api.delete(f"{BASE}/B-02-01-01", headers={"If-Match": '"1"'})
    assert r.status_code == 204
    assert (await api.get(f"{BASE}/B-02-01-01")).status_code == 404
    assert (await api.get("/v1/warehouses/sh/locations/B-02-01-01")).status_code == 200
    audit = (await api.get("/v1/audit", params={"entity": "location", "code": "hz/B-02-01-01"})).json()["items"]
    assert [(e["action"], e["version"]) for e in audit] == [("delete", 1)]


async def test_deleting_a_bin_that_holds_stock_is_a_409_naming_the_skus(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-01", "S-RED", 4)
    await put_stock(conn, "A-01-01-01", "S-NAVY", 2, reserved=2)
    r = await api.delete(f"{BASE}/A-01-01-01")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Location 'hz/A-01-01-01' holds stock of S-NAVY, S-RED; it cannot be deleted: "
        "deactivate it instead (`active: false`).",
        "code": "still-referenced",
        "instance": f"{BASE}/A-01-01-01",
        "context": {"references": {"stock": ["S-NAVY", "S-RED"], "ledger": []}},
    }
    assert (await api.get(f"{BASE}/A-01-01-01")).status_code == 200


async def test_deleting_a_bin_with_ledger_rows_is_a_409_even_when_it_is_empty_now(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-02", "S-RED", 0)
    await put_ledger_row(conn, "A-01-01-02", "S-RED")
    r = await api.delete(f"{BASE}/A-01-01-02")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Location 'hz/A-01-01-02' has stock movements of S-RED in the ledger; it cannot be deleted: "
        "deactivate it instead (`active: false`).",
        "code": "still-referenced",
        "instance": f"{BASE}/A-01-01-02",
        "context": {"references": {"stock": [], "ledger": ["S-RED"]}},
    }


async def test_a_reference_the_checks_do_not_see_is_still_a_409_never_a_500(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    # A transfer's counterpart naming the bin, without the `transfer-in` row the ledger always writes.
    await put_ledger_row(conn, "A-01-01-01", "S-RED")
    await conn.execute(
        """
        INSERT INTO stock_movements (request_id, line, type, sku_id, warehouse_id, location_id, qty, on_hand_delta,
                                     reserved_delta, counterpart_location_id, actor)
        SELECT m.request_id, 1, 'transfer', m.sku_id, m.warehouse_id, m.location_id, 1, -1, 0, l.id, 'test'
          FROM stock_movements m, locations l JOIN warehouses w ON w.id = l.warehouse_id
         WHERE w.code = 'hz' AND l.code = 'B-02-01-01'
        """
    )
    r = await api.delete(f"{BASE}/B-02-01-01")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Location 'hz/B-02-01-01' is still referenced (stock_movements_counterpart_location_id_fkey); "
        "deactivate it instead (`active: false`).",
        "code": "still-referenced",
        "instance": f"{BASE}/B-02-01-01",
        "context": {
            "references": {"stock": [], "ledger": [], "constraint": "stock_movements_counterpart_location_id_fkey"}
        },
    }
    assert (await api.get(f"{BASE}/B-02-01-01")).status_code == 200


async def test_a_bin_that_holds_stock_can_be_deactivated(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await stockbed.build(conn)
    await put_stock(conn, "A-01-01-01", "S-RED", 4)
    r = await api.patch(f"{BASE}/A-01-01-01", json={"active": False})
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert await conn.fetchval("SELECT sum(on_hand) FROM stock_levels") == 4
    listed = (await api.get(BASE, params={"active": "false"})).json()["items"]
    assert [b["code"] for b in listed] == ["A-01-01-01", "Z-99"]


async def test_other_departments_read_bins_but_only_the_warehouse_role_writes(
    api: httpx.AsyncClient, as_role: Any
) -> None:
    await warehouse(api)
    async with as_role("warehouse") as staff:
        r = await staff.post(BASE, json={"code": "A-1"})
        assert r.status_code == 201
    async with as_role("purchasing") as purchasing:
        assert (await purchasing.get(BASE)).status_code == 200
        assert (await purchasing.get(f"{BASE}/A-1")).status_code == 200
        assert (await purchasing.delete(f"{BASE}/A-1")).status_code == 403
    async with as_role("storefront") as storefront:
        assert (await storefront.get(f"{BASE}/A-1")).status_code == 403
    audit = (await api.get("/v1/audit", params={"entity": "location", "code": "hz/A-1"})).json()["items"]
    assert [(e["action"], e["actor"]) for e in audit] == [("create", "test-warehouse")]


async def test_a_delete_with_a_stale_if_match_is_412_and_the_bin_stays(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await stockbed.build(conn)
    await api.patch(f"{BASE}/B-02-01-01", json={"pick_sequence": 21})  # now at version 2
    r = await api.delete(f"{BASE}/B-02-01-01", headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert r.json()["code"] == "version-mismatch"
    assert r.json()["context"] == {"current_version": 2}
    assert (await api.get(f"{BASE}/B-02-01-01")).json()["pick_sequence"] == 21
    assert (await api.delete(f"{BASE}/B-02-01-01", headers={"If-Match": '"2"'})).status_code == 204
