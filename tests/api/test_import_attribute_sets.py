"""Attribute set imports and exports over HTTP: rows replace a category's own binding as PUT
/v1/categories/{code}/attributes does (the API's checks and codes on their lines: an unknown category or
attribute, an attribute or stage twice), both modes, identical rows unchanged (no audit record), completeness
current when the job is done, the export that imports back exactly (JSON Lines, CSV with its `attributes` /
`display_priority` / `required_for[<stage>]` convention, XLSX), and who may do what."""

from __future__ import annotations

from functools import partial
from typing import Any

import asyncpg
import httpx
import msgspec

from api.db import OneConnectionPool
from domain.imports.service import run_import
from tests import factories as f
from tests.api import test_imports as imports_tests
from tests.api.test_imports import CSV, csv_file, csv_records, error, jsonl, readme_example, report
from tests.api.test_imports_xlsx import XLSX

upload = partial(imports_tests.upload, type="attribute_sets")
imported = partial(imports_tests.imported, type="attribute_sets")


async def shop(conn: asyncpg.Connection) -> None:
    """merch: accessories (binds material, required for listing) › scarves, bags, belts; width and colour unbound;
    a product sq-1 in scarves."""
    await f.tree(conn, "merch")
    await f.category(conn, "accessories", "merch")
    await f.category(conn, "scarves", "merch", "accessories")
    await f.category(conn, "bags", "merch", "accessories")
    await f.category(conn, "belts", "merch", "accessories")
    await f.attribute(conn, "material", "select", options=("silk", "cotton"))
    await f.attribute(conn, "width", "integer")
    await f.attribute(conn, "colour", "text")
    await f.bind(conn, "accessories", "material", required_for=("listing",))
    await f.product(conn, "sq-1", "scarves", attributes={"material": "silk"})


def binding(attribute: str, *stages: str, priority: int | None = None) -> dict[str, Any]:
    return {"attribute": attribute, "required_for": list(stages), "display_priority": priority}


def row(category: str, *bindings: dict[str, Any]) -> dict[str, Any]:
    return {"category": category, "attributes": list(bindings)}


async def own(api: httpx.AsyncClient, category: str) -> list[tuple[str, list[str], int | None]]:
    answer = await api.get(f"/v1/categories/{category}/attributes")
    assert answer.status_code == 200, answer.text
    return [(a["attribute"], a["required_for"], a["display_priority_override"]) for a in answer.json()["attributes"]]


async def test_a_jsonl_file_replaces_each_categorys_binding_as_the_api_does_and_again_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    rows = jsonl(
        row("scarves", binding("width", "listing", "purchasing", priority=70), binding("colour")),
        row("accessories", binding("material", "listing")),  # as stored
    )
    job = await imported(api, conn, rows)
    assert (job["kind"], job["state"], job["rows"]) == (
        "import-attribute_sets",
        "done",
        {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0},
    )
    assert await own(api, "scarves") == [("width", ["purchasing", "listing"], 70), ("colour", [], None)]
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert [(a["action"], a["entity"], a["code"], a["import_id"]) for a in audit] == [
        ("bind", "category", "scarves", job["id"])
    ]
    assert audit[0]["changes"]["attributes"]["before"] == []
    again = await imported(api, conn, rows)
    assert again["rows"] == {"read": 2, "applied": 0, "unchanged": 2, "rejected": 0}
    assert (await api.get("/v1/audit", params={"import": again["id"]})).json()["items"] == []


async def test_every_bad_row_is_named_with_the_apis_code_and_all_or_nothing_applies_none(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            row("scarves", binding("width")),
            row("nowhere", binding("width")),
            row("accessories", binding("depth"), binding("material", "listing", "listing")),
            row("bags", binding("width"), binding("width")),
            {"category": "belts", "attributes": [{"attribute": "width", "required_for": ["shelving"]}]},
            row("scarves"),  # twice in the file
        ),
    )
    assert (job["state"], job["phase"], job["rows"]["rejected"]) == ("failed", "rejected", 5)
    found = await report(api, job["id"])
    assert found == [
        error(2, "/category", "category-not-found", "No category has the code 'nowhere'."),
        error(3, "/attributes/0/attribute", "unknown_attribute", "No attribute has the code 'depth'."),
        error(3, "/attributes/1/required_for/1", "duplicate", "'listing' is listed twice."),
        error(4, "/attributes/1/attribute", "duplicate", "'width' is listed twice."),
        error(5, "/attributes/0/required_for/0", "invalid_choice", found[4]["message"]),
        error(6, "/category", "duplicate_code", "scarves is on line 1 already: a file names each attribute set once."),
    ]
    assert await own(api, "scarves") == []


async def test_valid_rows_applies_the_good_rows_of_a_csv_and_names_the_bad_ones_by_column(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    table = (
        b"category,attributes,display_priority,required_for[purchasing],required_for[listing]\n"
        b"scarves,width|colour,70|,width,width\n"
        b"accessories,material,5|6,,material\n"  # two overrides for one attribute
        b"nowhere,width,,,\n"
        b"bags,width,,colour,\n"  # a stage requires an attribute the row does not bind
    )
    job = await imported(api, conn, table, headers=CSV, mode="valid_rows")
    assert job["rows"] == {"read": 4, "applied": 1, "unchanged": 0, "rejected": 3}
    assert [(e["line"], e["column"], e["code"]) for e in await report(api, job["id"])] == [
        (3, "display_priority", "misaligned_display_priority"),
        (4, "category", "category-not-found"),
        (5, "required_for[purchasing]", "not_in_attributes"),
    ]
    assert await own(api, "scarves") == [("width", ["purchasing", "listing"], 70), ("colour", [], None)]
    header = await upload(api, b"category,attributes,required_for[shelving]\n", headers=CSV)
    assert (header.status_code, header.json()["errors"][0]["code"]) == (400, "unknown_column")


async def test_a_new_requirement_has_the_products_completeness_current_when_the_job_is_done(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)

    async def missing() -> list[Any]:
        body = (await api.get("/v1/products/sq-1/completeness")).json()
        return [m for m in body["stages"]["listing"]["missing"] if m.get("item") == "width"]

    assert await missing() == []
    answer = await upload(api, jsonl(row("scarves", binding("width", "listing"))))
    assert answer.status_code == 202, answer.text
    await run_import(OneConnectionPool(conn), answer.json()["id"])  # this job alone: no recompute job after it
    assert (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()["rows"]["applied"] == 1
    assert await missing() == [{"item": "width"}]


async def test_an_export_imports_back_exactly_as_jsonl_csv_and_xlsx(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await imported(
        api, conn, jsonl(row("scarves", binding("width", "listing", "purchasing", priority=70), binding("colour")))
    )
    exported = await api.get("/v1/exports", params={"type": "attribute_sets"})
    assert exported.status_code == 200, exported.text
    assert [msgspec.json.decode(x) for x in exported.content.splitlines()] == [
        row("accessories", binding("material", "listing")),
        row("scarves", binding("width", "purchasing", "listing", priority=70), binding("colour")),
    ]
    same = await imported(api, conn, exported.content)
    assert same["rows"] == {"read": 2, "applied": 0, "unchanged": 2, "rejected": 0}

    table = (await api.get("/v1/exports", params={"type": "attribute_sets", "format": "csv"})).content
    records = csv_records(table)
    assert records == [
        ["category", "attributes", "display_priority", "required_for[purchasing]", "required_for[listing]"],
        ["accessories", "material", "", "", "material"],
        ["scarves", "width|colour", "70|", "width", "width"],
    ]
    records[2][1:5] = ["width|colour|material", "70||", "width", "width|colour"]  # edited in a spreadsheet
    job = await imported(api, conn, csv_file(records), headers=CSV)
    assert job["rows"] == {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0}
    after = (await api.get("/v1/exports", params={"type": "attribute_sets", "format": "csv"})).content
    assert csv_records(after) == records

    book = (await api.get("/v1/exports", params={"type": "attribute_sets", "format": "xlsx"})).content
    await conn.execute("DELETE FROM category_attributes")
    fresh = await imported(api, conn, book, headers=XLSX)
    assert fresh["rows"] == {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0}, await report(api, fresh["id"])
    again = (await api.get("/v1/exports", params={"type": "attribute_sets", "format": "csv"})).content
    assert csv_records(again) == records
    scoped = await api.get("/v1/exports", params={"type": "attribute_sets", "category": "scarves"})
    assert [msgspec.json.decode(x)["category"] for x in scoped.content.splitlines()] == ["scarves"]


async def test_attribute_sets_are_imported_by_admin_only_as_the_attribute_set_api_is_written(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    for role in ("purchasing", "listing", "warehouse", "finance"):
        async with as_role(role) as client:
            refused = await upload(client, jsonl(row("scarves", binding("width"))))
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), role
            put = await client.put("/v1/categories/scarves/attributes", json={"attributes": []})
            assert put.status_code == 403, role
    async with as_role("marketing") as marketing:
        exported = await marketing.get("/v1/exports", params={"type": "attribute_sets"})
        assert [msgspec.json.decode(x)["category"] for x in exported.content.splitlines()] == ["accessories"]
    assert await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = 'import-attribute_sets'") == 0


async def test_the_readme_attribute_set_csv_imports_into_the_demo_catalog_as_it_stands(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    from api import demo

    await demo.seed(conn)
    job = await imported(api, conn, readme_example("### Attribute sets (`type=attribute_sets`)"), headers=CSV)
    assert (job["state"], job["rows"]) == ("done", {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0})
    assert await own(api, "silk-long-scarves") == [
        ("width", ["listing"], None),
        ("length", ["listing"], None),
        ("momme", ["purchasing"], 95),
    ]
