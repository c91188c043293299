"""Price imports and exports over HTTP: rows recorded as POST /v1/skus/{sku}/prices records them (a start in
the past refused, the open-ended current period closed by a new one, any other overlap refused, the amount in
the currency's decimals), cost and distribution rows for the roles that see them only, rows identical to a
stored period unchanged — so that an export imports back unchanged — the API's audit records, re-costed
sales facts, both modes, and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
import httpx
import msgspec

from tests import factories as f
from tests.api import test_imports as imports_tests
from tests.api.test_imports import CSV, csv_records, error, jsonl, report
from tests.prices import history

PAST = "2025-01-01T00:00:00Z"


def moment(days: int) -> str:
    """Midnight UTC `days` from today, as the API writes moments."""
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
    return day.isoformat().replace("+00:00", "Z")


async def shop(conn: asyncpg.Connection, api: httpx.AsyncClient) -> None:
    """Two SKUs: B-1 with a sale price of 50.00 and a cost of 30.00 since PAST (open-ended); B-2 none."""
    await f.tree(conn, "merch")
    await f.category(conn, "bags", "merch")
    await f.product(conn, "bag", "bags")
    await f.sku(conn, "B-1", "bag", axes={"size": "s"})
    await f.sku(conn, "B-2", "bag", axes={"size": "m"})
    await history(api, "B-1", "sale", "50.00", PAST)
    await history(api, "B-1", "cost", "30.00", PAST)


def row(sku: str, kind: str = "sale", amount: str = "60.00", **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "kind": kind, "amount": amount, "currency": "CNY", **fields}


upload = partial(imports_tests.upload, type="prices")
imported = partial(imports_tests.imported, type="prices")


async def periods(api: httpx.AsyncClient, sku: str) -> list[tuple[str, str, str | None, str | None]]:
    """The SKU's periods, oldest first: (kind, amount, valid_from, valid_to)."""
    items = (await api.get(f"/v1/skus/{sku}/prices")).json()["items"]
    return sorted((p["kind"], p["amount"], p["valid_from"], p["valid_to"]) for p in items)


async def test_rows_are_recorded_as_the_api_records_them_closing_the_current_period(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn, api)
    later, latest = moment(10), moment(20)
    job = await imported(
        api,
        conn,
        jsonl(
            row("B-1", valid_from=later),  # closes the sale price in force since PAST
            row("B-2", "cost", "12.5", valid_from=later),
            row("B-2", "cost", "13.00", valid_from=latest),  # and this one ends the line before where it starts
        ),
    )
    assert (job["state"], job["rows"]) == ("done", {"read": 3, "applied": 3, "unchanged": 0, "rejected": 0})
    assert await periods(api, "B-1") == [
        ("cost", "30.00", PAST, None),
        ("sale", "50.00", PAST, later),
        ("sale", "60.00", later, None),
    ]
    assert await periods(api, "B-2") == [("cost", "12.50", later, latest), ("cost", "13.00", latest, None)]
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert sorted((a["action"], a["entity"], a["code"], a["version"]) for a in audit) == [
        ("create", "price", "B-1", None),
        ("create", "price", "B-2", None),
        ("create", "price", "B-2", None),
        ("update", "price", "B-1", None),
    ]
    closed = next(a["changes"] for a in audit if a["action"] == "update")
    assert closed == {"valid_to": {"before": None, "after": later}}
    # the same price recorded through the API leaves the same record (but for the SKU)
    body = {k: v for k, v in row("x", valid_from=moment(30)).items() if k != "sku"}
    by_api = await api.post("/v1/skus/B-2/prices", json=body)
    assert by_api.status_code == 201, by_api.text
    api_record = (await api.get("/v1/audit", params={"entity": "price", "code": "B-2"})).json()["items"][0]
    imported_record = next(a for a in audit if a["action"] == "create" and a["code"] == "B-1")
    expected = api_record["changes"] | {"sku": {"before": None, "after": "B-1"}}
    expected["valid_from"] = {"before": None, "after": later}
    assert imported_record["changes"] == expected


async def test_an_export_imports_back_unchanged_in_jsonl_and_csv(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn, api)
    await imported(api, conn, jsonl(row("B-1", valid_from=moment(10)), row("B-2", "distribution", "40")))
    exported = await api.get("/v1/exports", params={"type": "prices"})
    lines = [msgspec.json.decode(x) for x in exported.content.splitlines()]
    assert [(x["sku"], x["kind"], x["amount"], x["valid_from"] == PAST) for x in lines] == [
        ("B-1", "cost", "30.00", True),
        ("B-1", "sale", "50.00", True),
        ("B-1", "sale", "60.00", False),
        ("B-2", "distribution", "40.00", False),
    ]
    before = await conn.fetchval("SELECT count(*) FROM prices")
    again = await imported(api, conn, exported.content)
    assert again["rows"] == {"read": 4, "applied": 0, "unchanged": 4, "rejected": 0}
    table = (await api.get("/v1/exports", params={"type": "prices", "format": "csv"})).content
    records = csv_records(table)
    assert records[0] == ["sku", "kind", "amount", "currency", "valid_from", "valid_to"]
    assert records[1] == ["B-1", "cost", "30.00", "CNY", PAST, ""]
    same = await imported(api, conn, table, headers=CSV)
    assert same["rows"] == {"read": 4, "applied": 0, "unchanged": 4, "rejected": 0}
    assert await conn.fetchval("SELECT count(*) FROM prices") == before
    assert (await api.get("/v1/audit", params={"import": same["id"]})).json()["items"] == []


async def test_bad_rows_are_named_with_the_apis_codes_and_all_or_nothing_applies_none(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn, api)
    soon, later = moment(5), moment(10)
    await history(api, "B-2", "sale", "20.00", moment(30), moment(40))  # a scheduled, bounded period
    rows = jsonl(
        row("B-2", valid_from=soon, valid_to=later),
        row("B-1", valid_from="2025-06-01T00:00:00Z"),
        row("nope"),
        row("B-2", amount="1.001", currency="XXX"),
        row("B-2", "cost", valid_from=later, valid_to=soon),
        row("B-2", valid_from=moment(35)),
        row("B-2", valid_from=moment(7), valid_to=moment(8)),
        row("B-2", colour="red"),
    )
    job = await imported(api, conn, rows)
    assert (job["state"], job["phase"], job["rows"]["rejected"]) == ("failed", "rejected", 7)
    got = await report(api, job["id"])
    assert [(e["line"], e["pointer"], e["code"]) for e in got] == [
        (2, "/valid_from", "price-starts-in-the-past"),
        (3, "/sku", "sku-not-found"),
        (4, "/currency", "unknown_currency"),
        (5, "/valid_to", "before_valid_from"),
        (6, "/valid_from", "price-period-overlap"),
        (7, "/valid_from", "price-period-overlap"),
        (8, "/colour", "unknown_field"),
    ]
    assert got[1] == error(3, "/sku", "sku-not-found", "No SKU has the code 'nope'.")
    assert got[4]["message"] == (
        f"The new sale price of SKU 'B-2' in CNY overlaps the period [{moment(30)[:-1]}+00:00, "
        f"{moment(40)[:-1]}+00:00); only a price that starts inside the open-ended current period may close it."
    )
    assert got[5]["message"].startswith("The new sale price of SKU 'B-2' in CNY overlaps the period of line 6;")
    assert await periods(api, "B-2") == [("sale", "20.00", moment(30), moment(40))]

    valid = await imported(api, conn, rows, mode="valid_rows")
    assert (valid["state"], valid["rows"]) == ("done", {"read": 8, "applied": 1, "unchanged": 0, "rejected": 7})
    assert await periods(api, "B-2") == [("sale", "20.00", moment(30), moment(40)), ("sale", "60.00", soon, later)]


async def test_cost_rows_are_for_the_roles_that_see_cost_and_recost_todays_sales(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    async with as_role("admin") as admin, as_role("listing") as listing, as_role("finance") as finance:
        await shop(conn, admin)
        job = await imported(listing, conn, jsonl(row("B-2", valid_from=moment(3)), row("B-2", "cost", "9.00")))
        assert await report(listing, job["id"]) == [
            error(
                2,
                "/kind",
                "forbidden",
                "Cost prices are written by the finance or purchasing role; the key has listing.",
            )
        ]
        assert [
            x["kind"]
            for x in map(
                msgspec.json.decode, (await listing.get("/v1/exports", params={"type": "prices"})).content.splitlines()
            )
        ] == ["sale"]
        assert (await upload(as_role("warehouse"), jsonl(row("B-2")))).status_code == 403

        today = (await conn.fetchval("SELECT (now() AT TIME ZONE 'UTC')::date")).isoformat()
        fact = {
            "day": today,
            "sku": "B-1",
            "channel": "web",
            "qty": 3,
            "revenue": {"amount": "150.00", "currency": "CNY"},
        }
        assert (await admin.post("/v1/sales", json={"facts": [fact]})).status_code == 200
        cost = "SELECT cost FROM sales_facts f JOIN skus s ON s.id = f.sku_id WHERE s.sku = 'B-1'"
        assert str(await conn.fetchval(cost)) == "90.0000"  # 3 × 30
        done = await imported(finance, conn, jsonl(row("B-1", "cost", "32.00")))
        assert done["rows"]["applied"] == 1
        assert str(await conn.fetchval(cost)) == "96.0000"  # 3 × 32: the price in force at the day's end
