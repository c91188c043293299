"""Category imports and exports over HTTP: rows upserted as PUT /v1/categories/{code} upserts them (parents
stored or earlier in the file, positions among siblings, the tree's depth, no cycles, no tree change), with the
API's error codes on their lines, both modes, identical rows unchanged (no version step, no audit record), the
derived data of moved categories' products current when the job is done, the export that imports back exactly
(JSON Lines, CSV, XLSX), and who may do what."""

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

upload = partial(imports_tests.upload, type="categories")
imported = partial(imports_tests.imported, type="categories")


async def shop(conn: asyncpg.Connection) -> None:
    """merch (major › middle › minor): accessories › scarves; a `web` tree of one level with `web-gifts`."""
    await f.tree(conn, "merch")
    await f.tree(conn, "web", levels=("shelf",))
    await f.category(conn, "accessories", "merch", labels={"en": "Accessories"})
    await f.category(conn, "scarves", "merch", "accessories", labels={"en": "Scarves"})
    await f.category(conn, "web-gifts", "web")


def row(code: str, parent: str | None = None, tree: str = "merch", **fields: Any) -> dict[str, Any]:
    return {"code": code, "tree": tree, "parent": parent, "labels": {"en": code.title()}, **fields}


async def category(api: httpx.AsyncClient, code: str) -> dict[str, Any]:
    answer = await api.get(f"/v1/categories/{code}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, dict)
    return body


async def test_a_jsonl_file_creates_categories_under_parents_stored_or_earlier_in_the_file(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            row("bags", "accessories", position=0),  # before scarves: scarves shifts to 1
            row("totes", "bags", labels={"en": "Totes", "zh-CN": "托特包"}),  # a parent from the line above
            row("home"),  # a root
            row("candles", "home"),
        ),
    )
    assert (job["kind"], job["state"], job["rows"]) == (
        "import-categories",
        "done",
        {"read": 4, "applied": 4, "unchanged": 0, "rejected": 0},
    )
    totes = await category(api, "totes")
    assert (totes["parent"], totes["path"], totes["depth"], totes["level"], totes["labels"], totes["version"]) == (
        "bags",
        ["accessories", "bags", "totes"],
        3,
        "minor",
        {"en": "Totes", "zh-CN": "托特包"},
        1,
    )
    assert [(await category(api, c))["position"] for c in ("bags", "scarves", "home", "candles")] == [0, 1, 1, 0]
    assert (await category(api, "scarves"))["version"] == 1  # renumbered by a sibling: no version step
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert sorted((a["action"], a["entity"], a["code"], a["import_id"]) for a in audit) == [
        ("create", "category", code, job["id"]) for code in ("bags", "candles", "home", "totes")
    ]
    # the audit record the API writes for the same creation
    by_api = await api.post("/v1/categories", json=row("lamps", "home"))
    assert by_api.status_code == 201, by_api.text
    api_record = (await api.get("/v1/audit", params={"entity": "category", "code": "lamps"})).json()["items"][0]
    imported_record = next(a for a in audit if a["code"] == "candles")
    assert imported_record["changes"].keys() == api_record["changes"].keys()
    assert {k: imported_record["changes"][k]["after"] for k in ("code", "parent", "path", "position", "labels")} == {
        "code": "candles",
        "parent": "home",
        "path": ["home", "candles"],
        "position": 0,
        "labels": {"en": "Candles"},
    }


async def test_a_csv_file_moves_relabels_and_creates_and_an_identical_file_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    table = (
        "\ufeffcode,tree,parent,position,labels[en],labels[zh-CN]\r\n"
        "home,merch,,,Home,家居\r\n"
        "scarves,merch,home,,Scarves & wraps,围巾\r\n"  # moved under a parent from the line above, relabelled
        "accessories,merch,,0,Accessories,\r\n"  # as stored
    ).encode()
    job = await imported(api, conn, table, headers=CSV)
    assert job["rows"] == {"read": 3, "applied": 2, "unchanged": 1, "rejected": 0}, await report(api, job["id"])
    scarves = await category(api, "scarves")
    assert (scarves["parent"], scarves["labels"], scarves["version"]) == (
        "home",
        {"en": "Scarves & wraps", "zh-CN": "围巾"},
        2,
    )
    assert (await category(api, "accessories"))["version"] == 1
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert sorted((a["action"], a["code"]) for a in audit) == [("create", "home"), ("move", "scarves")]

    again = await imported(api, conn, table, headers=CSV)
    assert again["rows"] == {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0}
    assert [(await category(api, c))["version"] for c in ("home", "scarves", "accessories")] == [1, 2, 1]
    assert (await api.get("/v1/audit", params={"import": again["id"]})).json()["items"] == []


async def test_every_bad_row_is_named_with_the_apis_code_and_all_or_nothing_applies_none(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            row("ok-1"),
            row("Bad Code"),
            row("lost", tree="nowhere"),
            row("orphan", "later"),  # its parent comes after it
            row("later"),
            row("crossed", "web-gifts"),  # a parent in another tree
            row("web-gifts"),  # stored in the `web` tree
            row("ok-1", "accessories"),  # twice in the file
            {"code": "extra", "tree": "merch", "colour": "red"},
            "{not json",
        ),
    )
    assert (job["state"], job["phase"]) == ("failed", "rejected")
    assert job["rows"] == {"read": 10, "applied": 0, "unchanged": 0, "rejected": 8}
    found = await report(api, job["id"])
    assert found == [
        error(2, "/code", "invalid_format", "Expected `str` matching regex '^[a-z0-9][a-z0-9_-]{0,63}$'."),
        error(3, "/tree", "not_found", "No category tree has the code 'nowhere'."),
        error(4, "/parent", "not_found", "No category has the code 'later', stored or on an earlier line of the file."),
        error(
            6,
            "/parent",
            "parent-in-another-tree",
            "Category 'web-gifts' is in another tree than 'merch'; a parent must be in the same tree.",
        ),
        error(
            7, "/tree", "category-tree-change", "Category 'web-gifts' is in tree 'web'; a category cannot change trees."
        ),
        error(8, "/code", "duplicate_code", "ok-1 is on line 1 already: a file names each category once."),
        error(9, "/colour", "unknown_field", "`colour` is not a field here."),
        error(10, "", "malformed_json", "This line is not valid JSON."),
    ]
    assert await conn.fetchval("SELECT count(*) FROM categories WHERE code IN ('ok-1', 'later', 'extra')") == 0


async def test_a_row_that_does_not_convert_still_holds_its_well_formed_code_against_a_later_line(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    job = await imported(
        api,
        conn,
        jsonl(
            {"code": "dup", "tree": "merch", "colour": "red"},  # rejected, but named `dup`
            row("dup"),  # so a duplicate of line 1
            row("other"),
        ),
        mode="valid_rows",
    )
    assert job["rows"] == {"read": 3, "applied": 1, "unchanged": 0, "rejected": 2}, await report(api, job["id"])
    assert [(e["line"], e["code"], e["message"]) for e in await report(api, job["id"])] == [
        (1, "unknown_field", "`colour` is not a field here."),
        (2, "duplicate_code", "dup is on line 1 already: a file names each category once."),
    ]
    assert await conn.fetchval(
        "SELECT array_agg(code ORDER BY code) FROM categories WHERE code IN ('dup', 'other')"
    ) == ["other"]


async def test_what_the_api_refuses_when_a_row_is_applied_is_named_and_valid_rows_applies_the_rest(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await f.category(conn, "silk", "merch", "scarves")
    rows = jsonl(
        row("home"),
        row("accessories", "scarves"),  # under its own child: a cycle
        row("knots", "silk"),  # a fourth level in a three-level tree
        row("candles", "home"),
    )
    strict = await imported(api, conn, rows)
    assert (strict["state"], strict["phase"], strict["rows"]["rejected"]) == ("failed", "rejected", 2)
    assert await conn.fetchval("SELECT count(*) FROM categories WHERE code IN ('home', 'candles')") == 0
    expected = [
        error(
            2,
            "",
            "category-cycle",
            "Category 'accessories' cannot move under 'scarves': that is itself or one of its descendants.",
        ),
        error(
            3, "", "too-deep", "Category tree 'merch' has 3 levels (major, middle, minor); 'knots' would reach level 4."
        ),
    ]
    assert await report(api, strict["id"]) == expected

    lenient = await imported(api, conn, rows, mode="valid_rows")
    assert (lenient["state"], lenient["rows"]) == ("done", {"read": 4, "applied": 2, "unchanged": 0, "rejected": 2})
    assert await report(api, lenient["id"]) == expected
    assert (await category(api, "candles"))["path"] == ["home", "candles"]
    assert (await category(api, "accessories"))["parent"] is None


async def test_valid_rows_applies_the_good_rows_of_a_csv_and_names_the_bad_ones_by_column(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    table = b"code,tree,parent,position,labels[en]\nhome,merch,,,Home\nmugs,merch,home,-1,Mugs\nlamps,merch,home,,\n"
    job = await imported(api, conn, table, headers=CSV, mode="valid_rows")
    assert job["rows"] == {"read": 3, "applied": 2, "unchanged": 0, "rejected": 1}
    [bad] = await report(api, job["id"])
    assert (bad["line"], bad["column"], bad["pointer"], bad["code"]) == (3, "position", "/position", "out_of_range")
    assert (await category(api, "lamps"))["labels"] == {}


async def test_a_move_by_import_has_the_products_completeness_current_when_the_job_is_done(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await f.category(conn, "home", "merch")
    await f.attribute(conn, "width", "integer")
    await f.bind(conn, "home", "width", required_for=("listing",))
    await f.product(conn, "sq-1", "scarves")

    async def missing() -> list[Any]:
        body = (await api.get("/v1/products/sq-1/completeness")).json()
        return [m for m in body["stages"]["listing"]["missing"] if m.get("item") == "width"]

    assert await missing() == []
    answer = await upload(api, jsonl(row("scarves", "home", labels={"en": "Scarves"})))
    assert answer.status_code == 202, answer.text
    await run_import(OneConnectionPool(conn), answer.json()["id"])  # this job alone: no recompute job after it
    job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
    assert (job["state"], job["rows"]["applied"]) == ("done", 1)
    assert await missing() == [{"item": "width"}]


async def test_an_export_imports_back_exactly_as_jsonl_csv_and_xlsx(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    await imported(
        api, conn, jsonl(row("home", position=0), row("candles", "home"), row("bags", "accessories", position=0))
    )
    exported = await api.get("/v1/exports", params={"type": "categories"})
    assert exported.status_code == 200, exported.text
    lines = [msgspec.json.decode(x) for x in exported.content.splitlines()]
    assert lines == [
        {"code": "home", "tree": "merch", "parent": None, "position": 0, "labels": {"en": "Home"}},
        {"code": "candles", "tree": "merch", "parent": "home", "position": 0, "labels": {"en": "Candles"}},
        {"code": "accessories", "tree": "merch", "parent": None, "position": 1, "labels": {"en": "Accessories"}},
        {"code": "bags", "tree": "merch", "parent": "accessories", "position": 0, "labels": {"en": "Bags"}},
        {"code": "scarves", "tree": "merch", "parent": "accessories", "position": 1, "labels": {"en": "Scarves"}},
        {"code": "web-gifts", "tree": "web", "parent": None, "position": 0, "labels": {"en": "web-gifts"}},
    ]
    same = await imported(api, conn, exported.content)
    assert same["rows"] == {"read": 6, "applied": 0, "unchanged": 6, "rejected": 0}

    table = (await api.get("/v1/exports", params={"type": "categories", "format": "csv"})).content
    records = csv_records(table)
    assert records[:3] == [
        ["code", "tree", "parent", "position", "labels[en]"],
        ["home", "merch", "", "0", "Home"],
        ["candles", "merch", "home", "0", "Candles"],
    ]
    records[2][4] = "Candles & scents"  # edited in a spreadsheet
    job = await imported(api, conn, csv_file(records), headers=CSV)
    assert job["rows"] == {"read": 6, "applied": 1, "unchanged": 5, "rejected": 0}
    after = (await api.get("/v1/exports", params={"type": "categories", "format": "csv"})).content
    assert csv_records(after) == records

    # into an empty catalog (its trees only), the file makes the same categories in the same places
    book = (await api.get("/v1/exports", params={"type": "categories", "format": "xlsx"})).content
    await conn.execute("DELETE FROM categories")
    fresh = await imported(api, conn, book, headers=XLSX)
    assert fresh["rows"] == {"read": 6, "applied": 6, "unchanged": 0, "rejected": 0}, await report(api, fresh["id"])
    again = (await api.get("/v1/exports", params={"type": "categories", "format": "csv"})).content
    assert csv_records(again) == records


async def test_categories_are_imported_by_admin_only_as_the_category_api_is_written(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop(conn)
    for role in ("purchasing", "listing", "warehouse", "finance"):
        async with as_role(role) as client:
            refused = await upload(client, jsonl(row("home")))
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), role
            assert (await client.post("/v1/categories", json=row("home"))).status_code == 403, role
    async with as_role("marketing") as marketing:
        exported = await marketing.get("/v1/exports", params={"type": "categories"})
        assert exported.status_code == 200
        assert [msgspec.json.decode(x)["code"] for x in exported.content.splitlines()] == [
            "accessories",
            "scarves",
            "web-gifts",
        ]
    assert await conn.fetchval("SELECT count(*) FROM jobs WHERE kind = 'import-categories'") == 0


async def test_a_move_by_import_has_the_storefront_shelf_counts_current_when_the_job_is_done(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await storefront.shop(conn)  # peony, check and wave listed in scarves (under accessories)
    counts = (
        "SELECT c.code::text, s.listed FROM storefront_shelf_counts s JOIN categories c ON c.id = s.category_id"
        " WHERE c.tree_id = (SELECT id FROM category_trees WHERE code = 'merch') AND s.listed > 0 ORDER BY 1"
    )
    assert [tuple(r) for r in await conn.fetch(counts)] == [("accessories", 3), ("scarves", 3)]
    answer = await upload(api, jsonl(row("gifts"), row("scarves", "gifts", labels={"en": "Scarves"})))
    assert answer.status_code == 202, answer.text
    await run_import(OneConnectionPool(conn), answer.json()["id"])  # this job alone
    assert [tuple(r) for r in await conn.fetch(counts)] == [("gifts", 3), ("scarves", 3)]
    assert await conn.fetchval("SELECT count(*) FROM storefront_products WHERE stale_at IS NOT NULL") == 0


async def test_the_readme_category_csv_imports_into_the_demo_catalog_as_it_stands(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    from api import demo

    await demo.seed(conn)
    job = await imported(api, conn, readme_example("### Categories (`type=categories`)"), headers=CSV)
    assert (job["state"], job["rows"]) == ("done", {"read": 3, "applied": 2, "unchanged": 1, "rejected": 0})
    scrunchies = await category(api, "silk-scrunchies")
    assert (scrunchies["path"], scrunchies["labels"]) == (
        ["accessories", "silk-accessories", "silk-scrunchies"],
        {"zh-CN": "真丝发圈", "en": "Silk scrunchies"},
    )
