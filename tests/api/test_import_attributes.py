"""Attribute imports and exports over HTTP: rows upserted as PUT /v1/attributes/{code} and PUT …/options do it
(the attribute API's checks and error codes on their lines: reserved codes, misfit rules, unknown groups, options
on a type without any, an option twice, a type change of an attribute in use, an option still in use), both
modes, identical rows unchanged (no version step, no audit record), the storefront current when the job is
done, the export that imports back exactly (JSON Lines, CSV with its `options` / `option_labels[<locale>]`
convention, XLSX), and who may do what."""

from __future__ import annotations

from functools import partial
from typing import Any

import asyncpg
import httpx
import msgspec

from api.db import OneConnectionPool
from domain.imports.service import run_import
from tests import factories as f
from tests import storefront_catalog as storefront
from tests.api import test_imports as imports_tests
from tests.api.test_imports import CSV, csv_file, csv_records, error, jsonl, readme_example, report
from tests.api.test_imports_xlsx import XLSX

upload = partial(imports_tests.upload, type="attributes")
imported = partial(imports_tests.imported, type="attributes")


async def shop(conn: asyncpg.Connection) -> None:
    """A `basics` group; material (select: silk, cotton) carried by a product; width (integer, 10..200)."""
    await conn.execute("INSERT INTO attribute_groups (code, labels) VALUES ('basics', '{\"en\": \"Basics\"}')")
    await f.tree(conn, "merch")
    await f.category(conn, "scarves", "merch")
    await f.attribute(conn, "material", "select", options=("silk", "cotton"), group="basics")
    await f.attribute(conn, "width", "integer", validation={"min": 10, "max": 200})
    await f.bind(conn, "scarves", "material")
    await f.product(conn, "sq-1", "scarves", attributes={"material": "silk"})


def colour(**fields: Any) -> dict[str, Any]:
    return {
        "code": "colour",
        "type": "multiselect",
        "group": "basics",
        "labels": {"en": "Colour", "zh-CN": "颜色"},
        "visibility": "public",
        "display_priority": 80,
        "filterable": True,
        "options": [
            {"code": "red", "labels": {"en": "Red", "zh-CN": "红"}},
            {"code": "navy", "labels": {"en": "Navy"}},
        ],
        **fields,
    }


async def attribute(api: httpx.AsyncClient, code: str) -> dict[str, Any]:
    answer = await api.get(f"/v1/attributes/{code}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, dict)
    return body


async def test_a_jsonl_file_creates_and_changes_attributes_with_their_options_as_the_api_would(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            colour(),
            {"code": "width", "type": "integer", "labels": {"en": "width"}, "validation": {"min": 10, "max": 300}},
            {"code": "care", "type": "textarea", "validation": {"max_length": 2000}},
        ),
    )
    assert (job["kind"], job["state"], job["rows"]) == (
        "import-attributes",
        "done",
        {"read": 3, "applied": 3, "unchanged": 0, "rejected": 0},
    )
    created = await attribute(api, "colour")
    assert {k: created[k] for k in ("type", "group", "labels", "visibility", "display_priority", "filterable")} == {
        "type": "multiselect",
        "group": "basics",
        "labels": {"en": "Colour", "zh-CN": "颜色"},
        "visibility": "public",
        "display_priority": 80,
        "filterable": True,
    }
    assert created["options"] == [
        {"code": "red", "labels": {"en": "Red", "zh-CN": "红"}, "position": 0},
        {"code": "navy", "labels": {"en": "Navy"}, "position": 1},
    ]
    assert created["version"] == 2  # created, then its options: two writes of the API, two versions
    width = await attribute(api, "width")
    assert (width["validation"], width["version"]) == ({"min": "10", "max": "300"}, 2)
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert sorted((a["action"], a["entity"], a["code"], a["import_id"]) for a in audit) == [
        ("create", "attribute", "care", job["id"]),
        ("create", "attribute", "colour", job["id"]),
        ("update", "attribute", "colour", job["id"]),
        ("update", "attribute", "width", job["id"]),
    ]
    width_record = next(a for a in audit if a["code"] == "width")
    assert width_record["changes"]["validation"] == {
        "before": {"min": "10", "max": "200"},
        "after": {"min": "10", "max": "300"},
    }


async def test_a_csv_file_lists_options_in_one_cell_and_their_labels_per_locale_and_an_identical_one_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    table = (
        "\ufeffcode,type,group,visibility,display_priority,filterable,labels[en],labels[zh-CN],validation[min],"
        "validation[max],options,option_labels[en],option_labels[zh-CN]\r\n"
        "colour,multiselect,basics,public,80,true,Colour,颜色,,,red|navy,Red|Navy,红|\r\n"
        "width,integer,,public,0,false,width,,10,200,,,\r\n"  # as stored
        "material,select,basics,public,0,false,material,,,,,,\r\n"  # no options listed: they stay as they are
    ).encode()
    job = await imported(api, conn, table, headers=CSV)
    assert job["rows"] == {"read": 3, "applied": 1, "unchanged": 2, "rejected": 0}, await report(api, job["id"])
    assert [o["code"] for o in (await attribute(api, "material"))["options"]] == ["silk", "cotton"]
    assert (await attribute(api, "colour"))["options"] == [
        {"code": "red", "labels": {"en": "Red", "zh-CN": "红"}, "position": 0},
        {"code": "navy", "labels": {"en": "Navy"}, "position": 1},
    ]
    again = await imported(api, conn, table, headers=CSV)
    assert again["rows"] == {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0}
    assert [(await attribute(api, c))["version"] for c in ("colour", "width", "material")] == [2, 1, 1]
    assert (await api.get("/v1/audit", params={"import": again["id"]})).json()["items"] == []


async def test_every_bad_row_is_named_with_the_attribute_apis_code_and_all_or_nothing_applies_none(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            colour(),
            {"code": "category", "type": "text"},  # a built-in information item
            {"code": "weight", "type": "text", "validation": {"min": 1}},  # a rule of another type
            {"code": "fit", "type": "text", "group": "nowhere"},
            {"code": "size", "type": "text", "options": [{"code": "s"}]},  # options on a text attribute
            {"code": "cut", "type": "select", "options": [{"code": "a"}, {"code": "a"}]},
            {"code": "shade", "type": "colour"},
            colour(labels={"en": "Color"}),  # twice in the file
        ),
    )
    assert (job["state"], job["phase"]) == ("failed", "rejected")
    assert job["rows"] == {"read": 8, "applied": 0, "unchanged": 0, "rejected": 7}
    found = await report(api, job["id"])
    assert found == [
        error(2, "/code", "reserved_code", "`category` names a built-in information item; choose another code."),
        error(3, "/validation/min", "not_applicable", "`min` does not apply to text attributes."),
        error(4, "/group", "unknown_group", "No attribute group has the code 'nowhere'."),
        error(
            5,
            "/options",
            "options-not-applicable",
            "Attribute 'size' is of type text; only select and multiselect attributes have options.",
        ),
        error(6, "/options/1/code", "duplicate", "'a' is listed twice."),
        error(7, "/type", "invalid_choice", "Invalid enum value 'colour'."),
        error(8, "/code", "duplicate_code", "colour is on line 1 already: a file names each attribute once."),
    ]
    assert await conn.fetchval("SELECT count(*) FROM attributes WHERE code = 'colour'") == 0


async def test_what_the_api_refuses_when_a_row_is_applied_is_named_and_valid_rows_applies_the_rest(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    rows = jsonl(
        colour(),
        {"code": "material", "type": "text"},  # sq-1 carries a value of it: its type cannot change
        {"code": "width", "type": "integer", "labels": {"en": "Width"}},
    )
    strict = await imported(api, conn, rows)
    assert (strict["state"], strict["phase"], strict["rows"]["rejected"]) == ("failed", "rejected", 1)
    in_use = error(
        2,
        "",
        "attribute-in-use",
        "Attribute 'material' has values on 1 products and 0 SKUs; its type cannot change from select to text.",
    )
    assert await report(api, strict["id"]) == [in_use]
    assert await conn.fetchval("SELECT count(*) FROM attributes WHERE code = 'colour'") == 0

    lenient = await imported(api, conn, rows, mode="valid_rows")
    assert (lenient["state"], lenient["rows"]) == ("done", {"read": 3, "applied": 2, "unchanged": 0, "rejected": 1})
    assert await report(api, lenient["id"]) == [in_use]
    assert (await attribute(api, "width"))["labels"] == {"en": "Width"}

    dropped = await imported(
        api,
        conn,
        jsonl({"code": "material", "type": "select", "group": "basics", "labels": {"en": "Fabric"}, "options": []}),
        mode="valid_rows",
    )
    [refused] = await report(api, dropped["id"])
    assert (refused["line"], refused["code"]) == (1, "option-in-use")
    material = await attribute(api, "material")  # the attribute's change went with its options' (one savepoint)
    assert (material["labels"], [o["code"] for o in material["options"]]) == ({"en": "material"}, ["silk", "cotton"])


async def test_a_csv_row_whose_option_labels_do_not_line_up_with_its_options_is_named_by_column(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    table = (
        b"code,type,options,option_labels[en],display_priority\n"
        b"colour,multiselect,red|navy,Red,1\n"
        b"cut,select,a|b,A|B,high\n"
        b"fit,select,slim|loose,Slim|Loose,0\n"
    )
    job = await imported(api, conn, table, headers=CSV, mode="valid_rows")
    assert job["rows"] == {"read": 3, "applied": 1, "unchanged": 0, "rejected": 2}
    assert [(e["line"], e["column"], e["code"]) for e in await report(api, job["id"])] == [
        (2, "option_labels[en]", "misaligned_option_labels"),
        (3, "display_priority", "wrong_type"),
    ]
    assert [(o["code"], o["labels"]) for o in (await attribute(api, "fit"))["options"]] == [
        ("slim", {"en": "Slim"}),
        ("loose", {"en": "Loose"}),
    ]


async def test_an_import_that_relabels_an_attribute_has_the_storefront_current_when_the_job_is_done(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await storefront.shop(conn)
    color = (await api.get("/v1/attributes/color")).json()
    row = {k: color[k] for k in ("code", "type", "group", "visibility", "display_priority", "filterable")}
    answer = await upload(api, jsonl(row | {"labels": {"en": "Colour"}, "validation": {}}))
    assert answer.status_code == 202, answer.text
    await run_import(OneConnectionPool(conn), answer.json()["id"])  # this job alone
    assert (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()["rows"]["applied"] == 1
    assert await conn.fetchval("SELECT count(*) FROM storefront_products WHERE stale_at IS NOT NULL") == 0
    assert await conn.fetchval("SELECT count(*) FROM storefront_documents WHERE stale_at IS NOT NULL") == 0


async def test_an_export_imports_back_exactly_as_jsonl_csv_and_xlsx(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await imported(api, conn, jsonl(colour()))
    exported = await api.get("/v1/exports", params={"type": "attributes"})
    assert exported.status_code == 200, exported.text
    lines = [msgspec.json.decode(x) for x in exported.content.splitlines()]
    assert [x["code"] for x in lines] == ["colour", "material", "width"]
    assert lines[0] == colour(
        validation={},
        options=[
            {"code": "red", "labels": {"en": "Red", "zh-CN": "红"}, "position": 0},
            {"code": "navy", "labels": {"en": "Navy"}, "position": 1},
        ],
    )
    assert "options" not in lines[2]
    same = await imported(api, conn, exported.content)
    assert same["rows"] == {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0}

    table = (await api.get("/v1/exports", params={"type": "attributes", "format": "csv"})).content
    records = csv_records(table)
    assert records == [
        [
            "code",
            "type",
            "group",
            "visibility",
            "display_priority",
            "filterable",
            "labels[en]",
            "labels[zh-CN]",
            "validation[max]",
            "validation[min]",
            "options",
            "option_labels[en]",
            "option_labels[zh-CN]",
        ],
        [
            "colour",
            "multiselect",
            "basics",
            "public",
            "80",
            "true",
            "Colour",
            "颜色",
            "",
            "",
            "red|navy",
            "Red|Navy",
            "红|",
        ],
        [
            "material",
            "select",
            "basics",
            "public",
            "0",
            "false",
            "material",
            "",
            "",
            "",
            "silk|cotton",
            "silk|cotton",
            "|",
        ],
        ["width", "integer", "", "public", "0", "false", "width", "", "200", "10", "", "", ""],
    ]
    records[1][10:12] = ["red|navy|gold", "Red|Navy|Gold"]  # an option added in a spreadsheet
    records[1][12] = "红||金"
    job = await imported(api, conn, csv_file(records), headers=CSV)
    assert job["rows"] == {"read": 3, "applied": 1, "unchanged": 2, "rejected": 0}
    after = (await api.get("/v1/exports", params={"type": "attributes", "format": "csv"})).content
    assert csv_records(after) == records

    book = (await api.get("/v1/exports", params={"type": "attributes", "format": "xlsx"})).content
    same_book = await imported(api, conn, book, headers=XLSX)
    assert same_book["rows"] == {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0}
    await conn.execute(
        "DELETE FROM attribute_options WHERE attribute_id = (SELECT id FROM attributes WHERE code = 'colour')"
    )
    await conn.execute("DELETE FROM attributes WHERE code = 'colour'")
    fresh = await imported(api, conn, book, headers=XLSX)
    assert fresh["rows"] == {"read": 3, "applied": 1, "unchanged": 2, "rejected": 0}, await report(api, fresh["id"])
    again = (await api.get("/v1/exports", params={"type": "attributes", "format": "csv"})).content
    assert csv_records(again) == records

    scoped = await api.get("/v1/exports", params={"type": "attributes", "category": "scarves"})
    assert (scoped.status_code, scoped.json()["errors"][0]["code"]) == (400, "not_applicable")


async def test_attributes_are_imported_by_admin_only_as_the_attribute_api_is_written(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    for role in ("purchasing", "listing", "warehouse", "finance"):
        async with as_role(role) as client:
            refused = await upload(client, jsonl(colour()))
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), role
            assert (await client.put("/v1/attributes/colour", json=colour(options=None))).status_code == 403, role
    async with as_role("service") as service:
        exported = await service.get("/v1/exports", params={"type": "attributes"})
        assert exported.status_code == 200
        assert [msgspec.json.decode(x)["code"] for x in exported.content.splitlines()] == ["material", "width"]
    assert await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = 'import-attributes'") == 0


async def test_the_readme_attribute_csv_imports_into_the_demo_catalog_as_it_stands(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    from api import demo

    await demo.seed(conn)
    job = await imported(api, conn, readme_example("### Attributes and their options (`type=attributes`)"), headers=CSV)
    assert (job["state"], job["rows"]) == ("done", {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0})
    assert (await attribute(api, "silk-grade"))["options"] == [
        {"code": "6a", "labels": {"en": "Grade 6A", "zh-CN": "6A级"}, "position": 0},
        {"code": "5a", "labels": {"en": "Grade 5A", "zh-CN": "5A级"}, "position": 1},
        {"code": "4a", "labels": {"zh-CN": "4A级"}, "position": 2},
    ]
