"""Supplier terms imports and exports over HTTP: rows upserted as PUT /v1/products/{code}/suppliers/{supplier}
does (the terms API's checks and codes on their lines, one preferred supplier per product, its audit records),
both modes, identical rows unchanged (no version step, no audit record), completeness current when the job is
done, the export that imports back exactly (JSON Lines, CSV, XLSX), and the confidentiality of terms: imported by
purchasing and admin, exported to purchasing, finance and admin only."""

from __future__ import annotations

from functools import partial
from typing import Any

import asyncpg
import httpx
import msgspec

from tests import factories as f
from tests.api import test_imports as imports_tests
from tests.api.test_imports import CSV, csv_file, csv_records, jsonl, readme_example, report
from tests.api.test_imports_xlsx import XLSX

upload = partial(imports_tests.upload, type="supplier_terms")
imported = partial(imports_tests.imported, type="supplier_terms")
HEADER = ["product", "supplier", "purchase_price", "currency", "moq", "lead_time_days", "preferred"]


async def shop(conn: asyncpg.Connection) -> None:
    """Products sq-1 and sq-2 in merch › scarves; suppliers hz-silk (a manufacturer) and sz-agent (an agent)."""
    await f.tree(conn, "merch")
    await f.category(conn, "scarves", "merch")
    await f.product(conn, "sq-1", "scarves")
    await f.product(conn, "sq-2", "scarves")
    for code, kind in (("hz-silk", "manufacturer"), ("sz-agent", "agent")):
        await conn.execute(
            "INSERT INTO suppliers (code, type, labels, active) VALUES ($1, $2, $3, true)", code, kind, {"en": code}
        )


def row(product: str, supplier: str, amount: str = "38.50", **fields: Any) -> dict[str, Any]:
    return {
        "product": product,
        "supplier": supplier,
        "purchase_price": {"amount": amount, "currency": "CNY"},
        "moq": 100,
        "lead_time_days": 14,
        "preferred": False,
        **fields,
    }


async def terms(api: httpx.AsyncClient, product: str) -> list[tuple[str, str, int, bool, int]]:
    """A product's terms: (supplier, amount, moq, preferred, version) in supplier order."""
    answer = await api.get(f"/v1/products/{product}/suppliers")
    assert answer.status_code == 200, answer.text
    return [
        (t["supplier"], t["purchase_price"]["amount"], t["moq"], t["preferred"], t["version"])
        for t in answer.json()["items"]
    ]


async def test_a_jsonl_file_writes_terms_as_the_api_does_one_preferred_supplier_a_product(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            row("sq-1", "hz-silk", preferred=True),
            row("sq-1", "sz-agent", "41", moq=50, preferred=True),  # takes the flag from hz-silk
            row("sq-2", "hz-silk", "12.345"),  # a purchase price may carry a decimal more than its currency
        ),
    )
    assert (job["kind"], job["state"], job["rows"]) == (
        "import-supplier_terms",
        "done",
        {"read": 3, "applied": 3, "unchanged": 0, "rejected": 0},
    )
    assert await terms(api, "sq-1") == [("hz-silk", "38.50", 100, False, 2), ("sz-agent", "41.00", 50, True, 1)]
    assert await terms(api, "sq-2") == [("hz-silk", "12.345", 100, False, 1)]
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert sorted((a["action"], a["entity"], a["code"], a["import_id"]) for a in audit) == [
        ("create", "product-supplier", "sq-1/hz-silk", job["id"]),
        ("create", "product-supplier", "sq-1/sz-agent", job["id"]),
        ("create", "product-supplier", "sq-2/hz-silk", job["id"]),
        ("update", "product-supplier", "sq-1/hz-silk", job["id"]),
    ]
    unpreferred = next(a for a in audit if a["action"] == "update")
    assert unpreferred["changes"]["preferred"] == {"before": True, "after": False}


async def test_a_csv_file_upserts_terms_and_an_identical_one_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await imported(api, conn, jsonl(row("sq-1", "hz-silk")))
    table = (
        "\ufeffproduct,supplier,purchase_price,currency,moq,lead_time_days,preferred\r\n"
        "sq-1,hz-silk,38.5,CNY,100,14,false\r\n"  # as stored (38.5 is 38.50)
        "sq-1,sz-agent,40,CNY,20,7,TRUE\r\n"
    ).encode()
    job = await imported(api, conn, table, headers=CSV)
    assert job["rows"] == {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0}, await report(api, job["id"])
    assert await terms(api, "sq-1") == [("hz-silk", "38.50", 100, False, 1), ("sz-agent", "40.00", 20, True, 1)]
    again = await imported(api, conn, table, headers=CSV)
    assert again["rows"] == {"read": 2, "applied": 0, "unchanged": 2, "rejected": 0}
    assert (await api.get("/v1/audit", params={"import": again["id"]})).json()["items"] == []


async def test_every_bad_row_is_named_with_the_terms_apis_code_and_all_or_nothing_applies_none(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            row("sq-1", "hz-silk"),
            row("nowhere", "hz-silk"),
            row("sq-2", "nobody"),
            row("sq-2", "hz-silk", "1.23456"),
            row("sq-2", "sz-agent", moq=0),
            row("sq-1", "hz-silk", "40"),  # the pair twice in the file
        ),
    )
    assert (job["state"], job["phase"], job["rows"]["rejected"]) == ("failed", "rejected", 5)
    found = await report(api, job["id"])
    assert [(e["line"], e["pointer"], e["code"]) for e in found] == [
        (2, "/product", "product-not-found"),
        (3, "/supplier", "supplier-not-found"),
        (4, "/purchase_price/amount", "too_many_decimals"),
        (5, "/moq", "out_of_range"),
        (6, "/supplier", "duplicate_code"),
    ]
    assert found[0]["message"] == "No product has the code 'nowhere'."
    assert found[4]["message"] == (
        "sq-1/hz-silk is on line 1 already: a file names each product's terms with a supplier once."
    )
    assert await terms(api, "sq-1") == []


async def test_valid_rows_applies_the_good_rows_of_a_csv_names_the_bad_ones_by_column_and_completes_purchasing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)

    async def missing() -> list[Any]:
        body = (await api.get("/v1/products/sq-1/completeness")).json()
        return [m for m in body["stages"]["purchasing"]["missing"] if m.get("item") == "supplier"]

    assert await missing() == [{"item": "supplier"}]
    table = b"product,supplier,purchase_price,currency\nsq-1,hz-silk,38.5,CNY\nsq-2,hz-silk,12,XXX\n"
    job = await imported(api, conn, table, headers=CSV, mode="valid_rows")
    assert job["rows"] == {"read": 2, "applied": 1, "unchanged": 0, "rejected": 1}
    [bad] = await report(api, job["id"])
    assert (bad["line"], bad["column"], bad["pointer"], bad["code"]) == (
        3,
        "currency",
        "/purchase_price/currency",
        "unknown_currency",
    )
    assert await missing() == []


async def test_an_export_imports_back_exactly_as_jsonl_csv_and_xlsx(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await imported(
        api, conn, jsonl(row("sq-1", "hz-silk", preferred=True), row("sq-1", "sz-agent", "41"), row("sq-2", "hz-silk"))
    )
    exported = await api.get("/v1/exports", params={"type": "supplier_terms"})
    assert exported.status_code == 200, exported.text
    assert [msgspec.json.decode(x) for x in exported.content.splitlines()] == [
        row("sq-1", "hz-silk", preferred=True),
        row("sq-1", "sz-agent", "41.00"),
        row("sq-2", "hz-silk"),
    ]
    same = await imported(api, conn, exported.content)
    assert same["rows"] == {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0}

    table = (await api.get("/v1/exports", params={"type": "supplier_terms", "format": "csv"})).content
    records = csv_records(table)
    assert records == [
        HEADER,
        ["sq-1", "hz-silk", "38.50", "CNY", "100", "14", "true"],
        ["sq-1", "sz-agent", "41.00", "CNY", "100", "14", "false"],
        ["sq-2", "hz-silk", "38.50", "CNY", "100", "14", "false"],
    ]
    records[3][2] = "36.00"  # a new price agreed, typed into the sheet
    job = await imported(api, conn, csv_file(records), headers=CSV)
    assert job["rows"] == {"read": 3, "applied": 1, "unchanged": 2, "rejected": 0}
    after = (await api.get("/v1/exports", params={"type": "supplier_terms", "format": "csv"})).content
    assert csv_records(after) == records

    book = (await api.get("/v1/exports", params={"type": "supplier_terms", "format": "xlsx"})).content
    await conn.execute("DELETE FROM product_suppliers")
    fresh = await imported(api, conn, book, headers=XLSX)
    assert fresh["rows"] == {"read": 3, "applied": 3, "unchanged": 0, "rejected": 0}, await report(api, fresh["id"])
    again = (await api.get("/v1/exports", params={"type": "supplier_terms", "format": "csv"})).content
    assert csv_records(again) == records


async def test_terms_are_imported_by_purchasing_and_admin_and_exported_to_the_roles_that_read_them(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    async with as_role("purchasing") as purchasing:
        job = await imported(purchasing, conn, jsonl(row("sq-1", "hz-silk")))
        assert job["rows"]["applied"] == 1
    for role in ("listing", "warehouse", "finance"):
        async with as_role(role) as client:
            refused = await upload(client, jsonl(row("sq-1", "sz-agent")))
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), role
            direct = await client.put("/v1/products/sq-1/suppliers/sz-agent", json=row("x", "y"))
            assert direct.status_code == 403, role
    async with as_role("finance") as finance:
        exported = await finance.get("/v1/exports", params={"type": "supplier_terms"})
        assert [msgspec.json.decode(x)["supplier"] for x in exported.content.splitlines()] == ["hz-silk"]
    for role in ("marketing", "listing", "warehouse", "service"):
        async with as_role(role) as client:
            hidden = await client.get("/v1/exports", params={"type": "supplier_terms", "format": "csv"})
            assert (hidden.status_code, hidden.json()["code"]) == (403, "forbidden"), role
            assert (await client.get("/v1/products/sq-1/suppliers")).status_code == 403, role


async def test_the_readme_supplier_terms_csv_imports_into_the_demo_catalog_as_it_stands(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    from api import demo

    await demo.seed(conn)
    job = await imported(api, conn, readme_example("### Supplier terms (`type=supplier_terms`)"), headers=CSV)
    assert (job["state"], job["rows"]) == ("done", {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0}), (
        await report(api, job["id"])
    )
