"""SKU imports and exports over HTTP: rows checked by the SKU API's own rules and codes (the GTIN check digit,
axes and overrides in the product's attribute set, a barcode or axes another SKU has, a SKU moved to another
product), upserts that skip identical rows and audit as the API does, both modes, the round trip in JSON Lines
and CSV, and who may do what."""

from __future__ import annotations

from functools import partial
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from domain.skus.gtin import check_digit
from tests import factories as f
from tests.api import test_imports as imports_tests
from tests.api.test_imports import CSV, JSONL, csv_records, error, jsonl, readme_example, report, run


def gtin(body: str) -> str:
    return body + str(check_digit(body))


RED, NAVY, GOLD, TAKEN = gtin("690123456001"), gtin("690123456002"), gtin("690123456003"), gtin("690123456009")
BAD_GTIN = RED[:-1] + str((int(RED[-1]) + 1) % 10)


async def catalog(conn: asyncpg.Connection) -> None:
    """scarves (colour: select, length: measurement, material: multiselect) with two products; `taken-1`, a
    stored SKU of sq-1 (red, barcode TAKEN)."""
    await f.tree(conn, "merch")
    await f.category(conn, "scarves", "merch")
    await f.category(conn, "candles", "merch")
    await f.attribute(conn, "colour", "select", options=("red", "navy", "gold"))
    await f.attribute(conn, "material", "multiselect", options=("silk", "cotton"))
    await f.attribute(conn, "length", "measurement", validation={"unit_family": "length", "max": 300})
    await f.attribute(conn, "scent", "select", options=("rose",))
    for code in ("colour", "material", "length"):
        await f.bind(conn, "scarves", code)
    await f.bind(conn, "candles", "scent")
    await f.product(conn, "sq-1", "scarves")
    await f.product(conn, "sq-2", "scarves")
    await f.product(conn, "candle", "candles")
    await f.sku(conn, "taken-1", "sq-1", TAKEN, {"colour": "gold", "length": {"value": "90", "unit": "cm"}})


def row(sku: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sku": sku,
        "product": "sq-1",
        "barcode": RED,
        "axes": {"colour": "red", "length": {"value": "90", "unit": "cm"}},
        "attributes": {"material": ["silk"]},
    }
    return {**base, **fields}


upload = partial(imports_tests.upload, type="skus")
imported = partial(imports_tests.imported, type="skus")


async def exported(api: httpx.AsyncClient, fmt: str = "jsonl", **params: str) -> bytes:
    answer = await api.get("/v1/exports", params={"type": "skus", "format": fmt, **params})
    assert answer.status_code == 200, answer.text
    return answer.content


async def test_a_jsonl_upload_creates_skus_as_the_api_would_with_the_same_audit_records(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    by_api = await api.put(
        "/v1/skus/api-1", json={"product": "sq-1", "barcode": GOLD, "axes": {"colour": "navy"}, "attributes": {}}
    )
    assert by_api.status_code == 201, by_api.text
    job = await imported(api, conn, jsonl(row("sq1-red"), row("sq2-red", product="sq-2", barcode=None)))
    assert job["kind"] == "import-skus"
    assert (job["state"], job["phase"], job["rows"]) == (
        "done",
        "done",
        {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0},
    )
    stored = (await api.get("/v1/skus/sq1-red")).json()
    assert {k: stored[k] for k in ("sku", "product", "barcode", "axes", "attributes", "version")} == {
        **row("sq1-red"),
        "version": 1,
    }
    assert (await api.get("/v1/skus/sq2-red")).json()["barcode"] is None
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert sorted((a["action"], a["entity"], a["code"], a["version"]) for a in audit) == [
        ("create", "sku", "sq1-red", 1),
        ("create", "sku", "sq2-red", 1),
    ]
    created = {a["code"]: a["changes"] for a in audit}
    # the API's own record of a creation: every field, before null; no barcode when it has none
    api_record = (await api.get("/v1/audit", params={"entity": "sku", "code": "api-1"})).json()["items"][0]
    assert set(api_record["changes"]) == set(created["sq1-red"]) == {"sku", "product", "barcode", "axes", "attributes"}
    assert created["sq1-red"]["axes"] == {"before": None, "after": row("x")["axes"]}
    assert set(created["sq2-red"]) == {"sku", "product", "axes", "attributes"}


async def test_an_identical_row_changes_nothing_and_a_changed_one_is_one_new_version_with_its_changes(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await imported(api, conn, jsonl(row("sq1-red"), row("sq1-navy", barcode=NAVY, axes={"colour": "navy"})))
    # a row that leaves out `product` keeps the SKU's own, as PUT does
    same = {k: v for k, v in row("sq1-red").items() if k != "product"}
    changed = row("sq1-navy", barcode=None, axes={"colour": "navy"}, attributes={})
    second = await imported(api, conn, jsonl(same, changed))
    assert second["rows"] == {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0}
    assert (await api.get("/v1/skus/sq1-red")).json()["version"] == 1
    navy = (await api.get("/v1/skus/sq1-navy")).json()
    assert (navy["version"], navy["barcode"], navy["attributes"]) == (2, None, {})
    audit = (await api.get("/v1/audit", params={"import": second["id"]})).json()["items"]
    assert [(a["action"], a["code"], a["version"], a["changes"]) for a in audit] == [
        (
            "update",
            "sq1-navy",
            2,
            {
                "barcode": {"before": NAVY, "after": None},
                "attributes": {"before": {"material": ["silk"]}, "after": {}},
            },
        )
    ]
    third = await imported(api, conn, jsonl(same, changed))
    assert third["rows"] == {"read": 2, "applied": 0, "unchanged": 2, "rejected": 0}


BAD_ROWS: list[dict[str, Any] | str] = [
    row("ok-1"),
    "{not json",
    row("bad-gtin", barcode=BAD_GTIN),
    row("bad-product", product="nowhere"),
    {"sku": "no-product", "axes": {"colour": "red"}},
    row("bad-axes", axes={"colour": "green", "scent": "rose"}, colour="red"),
    row("ok-1"),
    row("taken", barcode=TAKEN, axes={"colour": "navy"}),
    row("twin", barcode=NAVY, axes={"colour": "gold", "length": {"value": "90", "unit": "cm"}}),
    row("again"),
    row("taken-1", product="sq-2", barcode=None, axes={"colour": "gold"}),
    row("ok-2", product="sq-2", barcode=GOLD),
]


EXPECTED_REPORT = [
    error(2, "", "malformed_json", "This line is not valid JSON."),
    error(3, "/barcode", "invalid_check_digit", f"The check digit of {BAD_GTIN} should be {RED[-1]}."),
    error(4, "/product", "unknown_product", "No product has the code 'nowhere'."),
    error(5, "/product", "required", "`product` is required to create a SKU."),
    error(6, "/colour", "unknown_field", "`colour` is not a field here."),
    error(7, "/sku", "duplicate_code", "ok-1 is on line 1 already: a file names each SKU once."),
    error(8, "/barcode", "barcode-taken", f"The barcode {TAKEN} belongs to SKU 'taken-1' already."),
    error(
        9,
        "/axes",
        "duplicate-axes",
        "SKU 'taken-1' of product 'sq-1' has the same axes already; SKUs of a product differ on their axes.",
    ),
    error(10, "/barcode", "barcode-taken", f"The barcode {RED} belongs to SKU 'ok-1' already."),
    error(
        10,
        "/axes",
        "duplicate-axes",
        "SKU 'ok-1' of product 'sq-1' has the same axes already; SKUs of a product differ on their axes.",
    ),
    error(11, "/product", "sku-product-fixed", "SKU 'taken-1' belongs to product 'sq-1'; it cannot move to 'sq-2'."),
]


async def test_all_or_nothing_applies_nothing_and_names_every_bad_row_with_the_apis_codes(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    job = await imported(api, conn, jsonl(*BAD_ROWS))
    assert (job["state"], job["phase"]) == ("failed", "rejected")
    assert job["rows"] == {"read": 12, "applied": 0, "unchanged": 0, "rejected": 10}
    assert [s["sku"] for s in (await api.get("/v1/products/sq-1/skus")).json()["items"]] == ["taken-1"]
    assert (await api.get("/v1/products/sq-2/skus")).json()["items"] == []
    assert await report(api, job["id"]) == EXPECTED_REPORT


async def test_the_axes_of_a_row_are_checked_against_its_products_attribute_set(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    bad = row(
        "bad-axes", axes={"colour": "green", "scent": "rose"}, attributes={"length": {"value": "9", "unit": "lb"}}
    )
    job = await imported(
        api, conn, jsonl(bad, row("candle-rose", product="candle", axes={"scent": "rose"}, attributes={}, barcode=None))
    )
    assert await report(api, job["id"]) == [
        error(1, "/axes/colour", "unknown_option", "'green' is not an option of `colour`."),
        error(1, "/axes/scent", "not_in_attribute_set", "`scent` is not in this category's attribute set."),
        error(1, "/attributes/length/unit", "unknown_unit", "Unit must be one of mm, cm, m, km, in, ft."),
    ]
    assert [s["sku"] for s in (await api.get("/v1/products/candle/skus")).json()["items"]] == []


async def test_valid_rows_applies_the_good_rows_and_reports_the_others(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    job = await imported(api, conn, jsonl(*BAD_ROWS), mode="valid_rows")
    assert (job["state"], job["phase"]) == ("done", "done")
    assert job["rows"] == {"read": 12, "applied": 2, "unchanged": 0, "rejected": 10}
    assert [s["sku"] for s in (await api.get("/v1/products/sq-1/skus")).json()["items"]] == ["ok-1", "taken-1"]
    assert [s["sku"] for s in (await api.get("/v1/products/sq-2/skus")).json()["items"]] == ["ok-2"]
    assert await report(api, job["id"]) == EXPECTED_REPORT


async def test_export_then_import_round_trips_in_jsonl_and_csv_and_an_edited_cell_is_one_change(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await imported(
        api,
        conn,
        jsonl(
            row("sq1-red"),
            row("sq1-navy", barcode=None, axes={"colour": "navy"}, attributes={"material": ["silk", "cotton"]}),
            row("sq2-gold", product="sq-2", barcode=GOLD, axes={"colour": "gold"}, attributes={}),
        ),
    )
    lines = (await exported(api)).splitlines()
    assert [msgspec.json.decode(x)["sku"] for x in lines] == ["sq1-navy", "sq1-red", "sq2-gold", "taken-1"]
    assert msgspec.json.decode(lines[1]) == row("sq1-red")
    again = await imported(api, conn, b"\n".join(lines) + b"\n")
    assert again["rows"] == {"read": 4, "applied": 0, "unchanged": 4, "rejected": 0}

    table = await exported(api, "csv")
    assert table.startswith(b"\xef\xbb\xbf")
    records = csv_records(table)
    assert records[0] == ["sku", "product", "barcode", "axis:colour", "axis:length", "attr:material"]
    assert records[2] == ["sq1-red", "sq-1", RED, "red", "90 cm", "silk"]
    assert records[1] == ["sq1-navy", "sq-1", "", "navy", "", "silk|cotton"]
    same = await imported(api, conn, table, headers=CSV)
    assert same["rows"] == {"read": 4, "applied": 0, "unchanged": 4, "rejected": 0}
    edited = table.replace(b"90 cm,silk\r\n", b"120 cm,silk\r\n")
    job = await imported(api, conn, edited, headers=CSV)
    assert job["rows"] == {"read": 4, "applied": 1, "unchanged": 3, "rejected": 0}
    assert (await api.get("/v1/skus/sq1-red")).json()["axes"]["length"] == {"value": "120", "unit": "cm"}

    scoped = await exported(api, category="candles")
    assert scoped == b""


async def test_a_csv_names_the_column_of_each_error_and_refuses_a_header_it_cannot_read(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    body = f"sku,product,barcode,axis:colour,axis:length[cm],attr:material\nc-1,sq-1,{RED},green,900,silk|wool\n"
    job = await imported(api, conn, body.encode(), headers=CSV)
    assert await report(api, job["id"], "csv") == [
        {
            "line": "2",
            "column": "axis:colour",
            "pointer": "/axes/colour",
            "code": "unknown_option",
            "message": "'green' is not an option of `colour`.",
        },
        {
            "line": "2",
            "column": "axis:length[cm]",
            "pointer": "/axes/length/value",
            "code": "out_of_range",
            "message": "Must be at most 300 cm.",
        },
        {
            "line": "2",
            "column": "attr:material",
            "pointer": "/attributes/material/1",
            "code": "unknown_option",
            "message": "'wool' is not an option of `material`.",
        },
    ]
    refused = await upload(api, b"product,axis:nope,attr:colour[cm],barcode,barcode\n", headers=CSV)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid-upload"
    assert [(e["pointer"], e["code"]) for e in refused.json()["errors"]] == [
        ("/lines/1/axis:nope", "unknown_attribute"),
        ("/lines/1/attr:colour[cm]", "unit_not_applicable"),
        ("/lines/1/barcode", "duplicate_column"),
        ("/lines/1/sku", "missing_column"),
    ]


async def test_a_product_deleted_after_the_upload_stops_the_import_and_nothing_is_written(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    answer = await upload(api, jsonl(row("sq2-red", product="sq-2"), row("sq1-red", barcode=NAVY)))
    assert answer.status_code == 202
    assert (await api.delete("/v1/products/sq-2")).status_code == 204
    with pytest.raises(asyncpg.CheckViolationError):
        await run(conn)
    job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
    assert (job["state"], job["phase"]) == ("failed", "failed")
    assert job["error"].startswith("CheckViolationError: line 1: product sq-2 changed since the file was checked")
    assert (await api.get("/v1/skus/sq1-red")).status_code == 404


async def test_skus_are_imported_by_the_roles_that_write_them_and_exported_by_the_back_office(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    async with as_role("warehouse") as warehouse:
        job = await imported(warehouse, conn, jsonl(row("sq1-red")))
        assert job["rows"]["applied"] == 1
        assert (await warehouse.get(f"/v1/imports/{job['id']}/errors")).status_code == 200
        for role in ("marketing", "finance", "service", "storefront"):
            refused = await upload(as_role(role), jsonl(row("sq1-navy")))
            assert refused.status_code == 403, role
        assert (await as_role("finance").get(f"/v1/imports/{job['id']}/errors")).status_code == 403
        # the route lets warehouse in (it writes SKUs); products are not for it
        products = await warehouse.post(
            "/v1/imports", params={"type": "products"}, content=b'{"code": "p"}\n', headers=JSONL
        )
        assert (products.status_code, products.json()["code"], products.json()["detail"]) == (
            403,
            "forbidden",
            "Importing products is for the roles that write them through the API: admin, listing, purchasing.",
        )
        assert (await as_role("storefront").get("/v1/exports", params={"type": "skus"})).status_code == 403
        lines = (await exported(as_role("marketing"))).splitlines()
        assert [msgspec.json.decode(x)["sku"] for x in lines] == ["sq1-red", "taken-1"]
    assert (await conn.fetchval("SELECT count(*) FROM skus WHERE sku = 'sq1-navy'")) == 0


def test_each_type_is_imported_by_exactly_the_roles_its_api_writes_declare() -> None:
    from api.auth import ROLES_KEY
    from api.routes import imports, prices, products, skus, stock
    from domain.imports.model import TYPES

    assert TYPES["products"].importers == products.WRITERS[ROLES_KEY]
    assert TYPES["skus"].importers == skus.WRITERS[ROLES_KEY]
    assert TYPES["prices"].importers == prices.WRITERS[ROLES_KEY]
    assert TYPES["stock"].importers == stock.StockController.post_movements.opt[ROLES_KEY]
    # the import route lets in every role that writes one of the types, and no other
    assert imports.IMPORTERS[ROLES_KEY] == frozenset().union(*(t.importers for t in TYPES.values()))


async def test_the_readme_sku_csv_imports_into_the_demo_catalog_as_it_stands(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    from api import demo

    await demo.seed(conn)
    await run(conn)  # (the seed's recompute jobs)
    job = await imported(api, conn, readme_example("### SKUs (`type=skus`)"), headers=CSV)
    assert (job["state"], job["rows"]) == ("done", {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0})
    navy = (await api.get("/v1/skus/SSP-NAVY")).json()
    assert (navy["version"], navy["axes"], navy["attributes"]) == (
        2,
        {"color": "navy"},
        {"weight": {"value": "36", "unit": "g"}},
    )
