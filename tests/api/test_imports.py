"""Product imports and exports over HTTP: JSON Lines and CSV uploads checked by the product API's own rules,
both modes, upserts that skip identical rows, the job and its per-row report, idempotent retries, the export
that round-trips, and who may do what."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from domain.imports import exports, store
from domain.jobs.service import run_pending
from tests import factories as f
from tests.conftest import OneConnectionPool

JSONL = {"content-type": "application/x-ndjson"}
CSV = {"content-type": "text/csv"}


async def catalog(conn: asyncpg.Connection) -> None:
    """merch: accessories (material, weight, cost_note: confidential) › scarves (colour, width, soft, length);
    a `web` tree for placements; a series."""
    await f.tree(conn, "merch")
    await f.tree(conn, "web", levels=("shelf",))
    await f.category(conn, "accessories", "merch")
    await f.category(conn, "scarves", "merch", "accessories")
    await f.category(conn, "fragrance", "merch")
    await f.category(conn, "web-gifts", "web")
    await f.attribute(conn, "material", "select", options=("silk", "cotton"))
    await f.attribute(conn, "weight", "decimal", validation={"decimals": 2, "min": 0})
    await f.attribute(conn, "cost_note", "text", visibility="confidential")
    await f.attribute(conn, "colour", "multiselect", options=("red", "navy", "gold"))
    await f.attribute(conn, "width", "integer", validation={"min": 10, "max": 200})
    await f.attribute(conn, "soft", "boolean")
    await f.attribute(
        conn, "length", "measurement", validation={"unit_family": "length", "max": 300, "default_unit": "cm"}
    )
    for code in ("material", "weight", "cost_note"):
        await f.bind(conn, "accessories", code)
    for code in ("colour", "width", "soft", "length"):
        await f.bind(conn, "scarves", code)
    await f.series(conn, "silk-series")


def row(code: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": code,
        "category": "scarves",
        "categories": ["web-gifts"],
        "role": "destination",
        "series": ["silk-series"],
        "labels": {"zh-CN": "真丝方巾", "en": f"Silk square {code}"},
        "description": {"en": "Pure mulberry silk"},
        "selling_points": [{"zh-CN": "手工卷边", "en": "Hand-rolled hems"}, {"en": "Gift boxed"}],
        "images": ["https://img.example.com/a.jpg"],
        "quality_tags": ["famous", "new"],
        "attributes": {
            "material": "silk",
            "weight": "35.50",
            "colour": ["red", "navy"],
            "width": 90,
            "soft": True,
            "length": {"value": "90", "unit": "cm"},
            "cost_note": "secret",
        },
    }
    return {**base, **fields}


def jsonl(*rows: dict[str, Any] | str) -> bytes:
    return b"".join((r.encode() if isinstance(r, str) else msgspec.json.encode(r)) + b"\n" for r in rows)


async def run(conn: asyncpg.Connection) -> int:
    """Let the job runner take the queued imports (on the test's connection)."""
    return await run_pending(OneConnectionPool(conn), workers=1)


async def upload(
    api: httpx.AsyncClient, body: bytes, *, headers: dict[str, str] = JSONL, **params: str
) -> httpx.Response:
    """Upload an import: of products unless `type=` names another (the other types' tests bind it)."""
    return await api.post("/v1/imports", params={"type": "products", **params}, content=body, headers=headers)


async def imported(api: httpx.AsyncClient, conn: asyncpg.Connection, body: bytes, **kw: Any) -> dict[str, Any]:
    """Upload, run, and answer the finished job."""
    answer = await upload(api, body, **kw)
    assert answer.status_code == 202, answer.text
    await run(conn)
    job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
    assert isinstance(job, dict)
    return job


def error(line: int, pointer: str, code: str, message: str, column: str | None = None) -> dict[str, Any]:
    """One line of an import's error report."""
    return {"line": line, "pointer": pointer, "column": column, "code": code, "message": message}


def csv_records(content: bytes) -> list[list[str]]:
    """A CSV file's records, as an export writes it (UTF-8 with a BOM)."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def csv_file(records: list[list[str]]) -> bytes:
    """Records written back as a CSV file, as a spreadsheet saves an edited one."""
    out = io.StringIO()
    csv.writer(out).writerows(records)
    return out.getvalue().encode()


async def report(api: httpx.AsyncClient, job_id: int, fmt: str = "jsonl") -> list[dict[str, Any]]:
    answer = await api.get(f"/v1/imports/{job_id}/errors", params={"format": fmt})
    assert answer.status_code == 200, answer.text
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    return [msgspec.json.decode(line) for line in answer.content.splitlines()]


async def test_a_jsonl_upload_creates_every_product_as_the_api_would(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    answer = await upload(api, jsonl(row("sq-1"), row("sq-2", role="routine")))
    assert answer.status_code == 202
    job = answer.json()
    assert answer.headers["location"] == f"/v1/jobs/{job['id']}"
    assert (job["kind"], job["state"], job["phase"], job["mode"]) == (
        "import-products",
        "queued",
        "queued",
        "all_or_nothing",
    )
    assert job["rows"] == {"read": 2, "applied": 0, "unchanged": 0, "rejected": 0}
    assert await run(conn) == 1
    job = (await api.get(f"/v1/jobs/{job['id']}")).json()
    assert (job["state"], job["phase"], job["done"], job["total"], job["progress"]) == ("done", "done", 2, 2, 1.0)
    assert job["rows"] == {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0}
    product = (await api.get("/v1/products/sq-2")).json()
    expected = row("sq-2", role="routine")
    for name in ("category", "categories", "role", "series", "labels", "description", "selling_points", "images"):
        assert product[name] == expected[name]
    assert product["quality_tags"] == ["famous", "new"]
    assert product["attributes"] == expected["attributes"]
    assert (product["lifecycle"], product["version"]) == ("draft", 1)
    completeness = (await api.get("/v1/products/sq-2/completeness")).json()
    assert "listing" in completeness["stages"]
    audit = (await api.get("/v1/audit", params={"import": job["id"]})).json()["items"]
    assert sorted((a["action"], a["code"], a["import_id"]) for a in audit) == [
        ("create", "sq-1", job["id"]),
        ("create", "sq-2", job["id"]),
    ]
    assert audit[0]["changes"]["role"]["after"] in ("destination", "routine")


async def test_an_imported_creation_is_audited_as_the_api_audits_the_same_creation(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    """The import builds a creation's audit record field by field (sql/functions/imports.sql): it must list what
    the API's record of the same product lists — a field added to products and not to that list fails here."""
    await catalog(conn)
    labels = {"zh-CN": "真丝方巾", "en": "Silk square"}
    created = await api.post("/v1/products", json=row("sq-api", labels=labels))
    assert created.status_code == 201, created.text
    job = await imported(api, conn, msgspec.json.encode(row("sq-imp", labels=labels)) + b"\n")
    assert job["rows"]["applied"] == 1
    audit = (await api.get("/v1/audit", params={"entity": "product"})).json()["items"]
    changes = {a["code"]: (a["action"], a["version"], a["changes"]) for a in audit}
    by_api, by_import = changes["sq-api"], changes["sq-imp"]
    assert by_import[:2] == by_api[:2] == ("create", 1)
    assert by_import[2].pop("code") == {"before": None, "after": "sq-imp"}
    assert by_api[2].pop("code") == {"before": None, "after": "sq-api"}
    assert by_import[2] == by_api[2]
    assert {"lifecycle", "attributes", "labels", "quality_tags"} <= set(by_import[2])


async def test_an_identical_row_changes_nothing_and_a_changed_one_is_one_new_version_with_its_audit_record(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    first = await imported(api, conn, jsonl(row("sq-1"), row("sq-2")))
    changed = row("sq-2", labels={"zh-CN": "真丝方巾", "en": "Renamed"}, series=[])
    second = await imported(api, conn, jsonl(row("sq-1"), changed))
    assert second["state"] == "done"
    assert second["rows"] == {"read": 2, "applied": 1, "unchanged": 1, "rejected": 0}
    assert (await api.get("/v1/products/sq-1")).json()["version"] == 1
    sq2 = (await api.get("/v1/products/sq-2")).json()
    assert (sq2["version"], sq2["labels"]["en"], sq2["series"]) == (2, "Renamed", [])
    audit = (await api.get("/v1/audit", params={"import": second["id"]})).json()["items"]
    assert [(a["action"], a["code"], a["version"]) for a in audit] == [("update", "sq-2", 2)]
    assert audit[0]["changes"] == {
        "labels": {
            "before": {"zh-CN": "真丝方巾", "en": "Silk square sq-2"},
            "after": {"zh-CN": "真丝方巾", "en": "Renamed"},
        },
        "series": {"before": ["silk-series"], "after": []},
    }
    third = await imported(api, conn, jsonl(row("sq-1"), changed))
    assert third["rows"] == {"read": 2, "applied": 0, "unchanged": 2, "rejected": 0}
    assert (await api.get("/v1/audit", params={"import": third["id"]})).json()["items"] == []
    assert first["id"] < second["id"] < third["id"]


BAD_ROWS = [
    row("ok-1"),
    "{not json",
    "[1, 2]",
    row("bad-cat", category="nowhere"),
    row(
        "bad-vals",
        role="hero",
        attributes={"width": 500, "colour": ["green"], "scent": "x", "length": {"value": "9", "unit": "lb"}},
    ),
    row("bad-field", colour="red"),
    row("ok-1"),
    row("ok-2"),
]

EXPECTED_REPORT = [
    {"line": 2, "pointer": "", "column": None, "code": "malformed_json", "message": "This line is not valid JSON."},
    {"line": 3, "pointer": "", "column": None, "code": "not_an_object", "message": "A row is one JSON object."},
    {
        "line": 4,
        "pointer": "/category",
        "column": None,
        "code": "unknown_category",
        "message": "No category has the code 'nowhere'.",
    },
    {
        "line": 5,
        "pointer": "/role",
        "column": None,
        "code": "unknown_role",
        "message": "No product role has the code 'hero'.",
    },
    {
        "line": 5,
        "pointer": "/attributes/colour/0",
        "column": None,
        "code": "unknown_option",
        "message": "'green' is not an option of `colour`.",
    },
    {
        "line": 5,
        "pointer": "/attributes/length/unit",
        "column": None,
        "code": "unknown_unit",
        "message": "Unit must be one of mm, cm, m, km, in, ft.",
    },
    {
        "line": 5,
        "pointer": "/attributes/scent",
        "column": None,
        "code": "not_in_attribute_set",
        "message": "`scent` is not in this category's attribute set.",
    },
    {
        "line": 5,
        "pointer": "/attributes/width",
        "column": None,
        "code": "out_of_range",
        "message": "Must be at most 200.",
    },
    {
        "line": 6,
        "pointer": "/colour",
        "column": None,
        "code": "unknown_field",
        "message": "`colour` is not a field here.",
    },
    {
        "line": 7,
        "pointer": "/code",
        "column": None,
        "code": "duplicate_code",
        "message": "ok-1 is on line 1 already: a file names each product once.",
    },
]


async def test_all_or_nothing_applies_nothing_when_a_row_is_bad_and_names_every_bad_row(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    job = await imported(api, conn, jsonl(*BAD_ROWS))
    assert (job["state"], job["phase"]) == ("failed", "rejected")
    assert job["error"] == "6 row(s) rejected: nothing was applied (mode all_or_nothing); see the report."
    assert job["rows"] == {"read": 8, "applied": 0, "unchanged": 0, "rejected": 6}
    assert (await api.get("/v1/products")).json()["items"] == []
    assert await report(api, job["id"]) == EXPECTED_REPORT
    as_csv = await report(api, job["id"], "csv")
    assert as_csv[2] == {
        "line": "4",
        "column": "",
        "pointer": "/category",
        "code": "unknown_category",
        "message": "No category has the code 'nowhere'.",
    }
    assert len(as_csv) == len(EXPECTED_REPORT)


async def test_valid_rows_applies_the_good_rows_and_reports_the_others(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    job = await imported(api, conn, jsonl(*BAD_ROWS), mode="valid_rows")
    assert (job["state"], job["phase"], job["mode"]) == ("done", "done", "valid_rows")
    assert job["rows"] == {"read": 8, "applied": 2, "unchanged": 0, "rejected": 6}
    assert [p["code"] for p in (await api.get("/v1/products")).json()["items"]] == ["ok-1", "ok-2"]
    assert await report(api, job["id"]) == EXPECTED_REPORT


async def test_lines_over_the_row_limit_not_utf8_or_holding_a_nul_are_named_rows(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    huge = msgspec.json.encode(row("huge", description={"en": "x" * (1 << 20)}))
    body = (
        jsonl(row("ok-1"))
        + huge
        + b"\n"
        + b'{"code": "\xff"}\n'
        + jsonl(row("nul", labels={"en": "a\u0000b"}), row("ok-2"))
    )
    job = await imported(api, conn, body, mode="valid_rows")
    assert job["rows"] == {"read": 5, "applied": 2, "unchanged": 0, "rejected": 3}
    assert [(e["line"], e["code"]) for e in await report(api, job["id"])] == [
        (2, "row_too_large"),
        (3, "invalid_encoding"),
        (4, "malformed_json"),
    ]


async def test_the_rules_of_the_api_hold_whichever_way_a_row_comes(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    # the same bad body: the API's 422 and the import's report name the same pointers and codes
    await catalog(conn)
    bad = row("twin", quality_tags=["new", "shiny"], images=["ftp://x"], attributes={"weight": "1.234", "soft": "yes"})
    problem = (await api.post("/v1/products", json=bad)).json()
    job = await imported(api, conn, jsonl(bad))
    assert [(e["pointer"], e["code"]) for e in await report(api, job["id"])] == [
        (e["pointer"], e["code"]) for e in problem["errors"]
    ]
    assert len(problem["errors"]) >= 2


async def test_an_unknown_type_mode_or_content_type_is_a_problem_and_starts_no_job(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    answer = await upload(api, jsonl(row("a")), type="widgets")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid-parameter"
    assert answer.json()["errors"][0]["parameter"] == "type"
    answer = await upload(api, jsonl(row("a")), mode="some_rows")
    assert (answer.status_code, answer.json()["errors"][0]["parameter"]) == (400, "mode")
    answer = await upload(api, b"<xml/>", headers={"content-type": "application/xml"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "unsupported-import-format"
    assert (await api.get("/v1/jobs")).json()["items"] == []


CSV_FILE = (
    "\ufeffcode,category,categories,role,series,labels[zh-CN],labels[en],description[en],"
    "selling_points[zh-CN],selling_points[en],images,quality_tags,attr:material,attr:weight,attr:colour,"
    "attr:width,attr:soft,attr:length[cm]\r\n"
    'sq-1,scarves,web-gifts,destination,silk-series,真丝方巾,"Silk, square",Pure silk,"手工卷边\n",'
    '"Hand-rolled hems\nGift boxed",https://img.example.com/a.jpg,new|famous,silk,35.50,red|navy,90,TRUE,90\r\n'
    "sq-2,scarves,,routine,,,Plain,,,,,,,,,,,\r\n"
)


async def test_a_csv_from_excel_imports_by_its_column_convention(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    job = await imported(api, conn, CSV_FILE.encode(), headers=CSV)
    assert (job["state"], job["rows"]) == ("done", {"read": 2, "applied": 2, "unchanged": 0, "rejected": 0})
    sq1 = (await api.get("/v1/products/sq-1")).json()
    assert sq1["labels"] == {"zh-CN": "真丝方巾", "en": "Silk, square"}
    assert sq1["selling_points"] == [{"zh-CN": "手工卷边", "en": "Hand-rolled hems"}, {"en": "Gift boxed"}]
    assert sq1["quality_tags"] == ["famous", "new"]
    assert (sq1["categories"], sq1["series"]) == (["web-gifts"], ["silk-series"])
    assert sq1["attributes"] == {
        "material": "silk",
        "weight": "35.50",
        "colour": ["red", "navy"],
        "width": 90,
        "soft": True,
        "length": {"value": "90", "unit": "cm"},
    }
    sq2 = (await api.get("/v1/products/sq-2")).json()
    assert (sq2["labels"], sq2["attributes"], sq2["categories"], sq2["selling_points"]) == ({"en": "Plain"}, {}, [], [])


async def test_csv_rows_are_named_by_line_and_column(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    body = (
        "code,category,role,attr:width,attr:length,attr:soft\n"
        "a-1,scarves,routine,wide,90 cm,true\n"
        "a-2,scarves,routine,90\n"
        "a-3,scarves,routine,500,9 lb,maybe\n"
        'a-1,scarves,routine,,"90\ncm",\n'
        "a-4,scarves,routine,,,\n"
    )
    job = await imported(api, conn, body.encode(), headers=CSV, mode="valid_rows")
    assert job["rows"] == {"read": 5, "applied": 1, "unchanged": 0, "rejected": 4}
    assert [(e["line"], e["column"], e["pointer"], e["code"]) for e in await report(api, job["id"], "csv")] == [
        ("2", "attr:width", "/attributes/width", "wrong_type"),
        ("3", "", "", "ragged_row"),
        ("4", "attr:length", "/attributes/length/unit", "unknown_unit"),
        ("4", "attr:soft", "/attributes/soft", "wrong_type"),
        ("4", "attr:width", "/attributes/width", "out_of_range"),
        ("5", "attr:length", "/attributes/length/value", "wrong_type"),
        ("5", "code", "/code", "duplicate_code"),
    ]
    assert [p["code"] for p in (await api.get("/v1/products")).json()["items"]] == ["a-4"]


async def test_a_csv_that_cannot_be_read_as_a_whole_is_a_400_and_imports_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    no_header = await upload(api, b"sq-1,scarves,routine\n", headers=CSV)
    assert no_header.status_code == 400
    problem = no_header.json()
    assert problem["code"] == "invalid-upload"
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [
        ("/lines/1/sq-1", "unknown_column"),
        ("/lines/1/scarves", "unknown_column"),
        ("/lines/1/routine", "unknown_column"),
        ("/lines/1/code", "missing_column"),
        ("/lines/1/category", "missing_column"),
        ("/lines/1/role", "missing_column"),
    ]
    for empty in (b"", b"\xef\xbb\xbf"):  # nothing, or only the BOM Excel writes
        nothing = await upload(api, empty, headers=CSV)
        assert (nothing.status_code, nothing.json()["code"]) == (400, "invalid-upload"), nothing.text
        assert [(e["pointer"], e["code"]) for e in nothing.json()["errors"]] == [("/lines/1", "missing_header")]
    unknown = await upload(api, b"code,category,role,attr:nope,attr:width[kg],code\n", headers=CSV)
    assert [(e["pointer"], e["code"]) for e in unknown.json()["errors"]] == [
        ("/lines/1/attr:nope", "unknown_attribute"),
        ("/lines/1/attr:width[kg]", "unit_not_applicable"),
        ("/lines/1/code", "duplicate_column"),
    ]
    latin1 = "code,category,role,labels[en]\nsq-1,scarves,routine,Écharpe\n".encode("latin-1")
    answer = await upload(api, latin1, headers=CSV)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid-upload")
    assert answer.json()["errors"][0]["code"] == "invalid_encoding"
    assert answer.json()["errors"][0]["pointer"] == "/lines/2"  # the line holding the bad byte, not the header
    unclosed = await upload(api, b'code,category,role\nsq-1,scarves,"routine\n', headers=CSV)
    assert [e["code"] for e in unclosed.json()["errors"]] == ["unclosed_quote"]
    assert (await api.get("/v1/jobs")).json()["items"] == []
    assert (await api.get("/v1/products")).json()["items"] == []


async def test_a_retried_upload_with_its_idempotency_key_is_one_import(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    body = jsonl(row("sq-1"), row("sq-2"))
    first = await upload(api, body, headers={**JSONL, "Idempotency-Key": "feed-2026-11-30"})
    again = await upload(api, body, headers={**JSONL, "Idempotency-Key": "feed-2026-11-30"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert (first.headers["idempotency-replayed"], again.headers["idempotency-replayed"]) == ("false", "true")
    other = await upload(api, jsonl(row("sq-3")), headers={**JSONL, "Idempotency-Key": "feed-2026-11-30"})
    assert (other.status_code, other.json()["code"]) == (422, "idempotency-key-reused")
    other_mode = await upload(api, body, headers={**JSONL, "Idempotency-Key": "feed-2026-11-30"}, mode="valid_rows")
    assert other_mode.status_code == 422
    assert await run(conn) == 1
    after_run = await upload(api, body, headers={**JSONL, "Idempotency-Key": "feed-2026-11-30"})
    assert (after_run.json()["id"], after_run.json()["state"]) == (first.json()["id"], "done")
    assert [j["id"] for j in (await api.get("/v1/jobs")).json()["items"]] == [first.json()["id"]]
    audit = (await api.get("/v1/audit", params={"entity": "product"})).json()["items"]
    assert len(audit) == 2
    assert (await upload(api, body, headers={**JSONL, "Idempotency-Key": ""})).json()[
        "code"
    ] == "invalid-idempotency-key"


async def test_export_then_import_round_trips_exactly_and_an_edit_is_one_update(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await imported(api, conn, jsonl(row("sq-1"), row("sq-2", categories=[], series=[], selling_points=[]), row("sq-3")))
    before = (await api.get("/v1/products")).json()["items"]
    for fmt in ("jsonl", "csv"):
        exported = await api.get("/v1/exports", params={"type": "products", "format": fmt})
        assert exported.status_code == 200
        assert exported.headers["content-disposition"] == f'attachment; filename="products.{fmt}"'
        job = await imported(api, conn, exported.content, headers=JSONL if fmt == "jsonl" else CSV)
        assert job["rows"] == {"read": 3, "applied": 0, "unchanged": 3, "rejected": 0}, fmt
    assert (await api.get("/v1/products")).json()["items"] == before
    lines = (await api.get("/v1/exports", params={"type": "products", "format": "jsonl"})).content.splitlines()
    assert [msgspec.json.decode(line)["code"] for line in lines] == ["sq-1", "sq-2", "sq-3"]
    # each line an import row, its fields in the import's order, written compactly (PostgreSQL renders the JSON:
    # no whitespace of its text form is left)
    assert all(line == msgspec.json.encode(msgspec.json.decode(line)) for line in lines)
    assert list(msgspec.json.decode(lines[0])) == list(store.EXPORT_FIELDS)
    assert msgspec.json.decode(lines[1]) == {
        k: v for k, v in row("sq-2", categories=[], series=[], selling_points=[]).items()
    } | {"quality_tags": ["famous", "new"]}
    text = (await api.get("/v1/exports", params={"type": "products", "format": "csv"})).content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == [
        "code", "category", "categories", "role", "series", "labels[en]", "labels[zh-CN]", "description[en]",
        "selling_points[en]", "selling_points[zh-CN]", "images", "quality_tags", "attr:colour", "attr:cost_note",
        "attr:length", "attr:material", "attr:soft", "attr:weight", "attr:width",
    ]  # fmt: skip
    assert table[2][table[0].index("attr:length")] == "90 cm"
    table[2][table[0].index("attr:width")] = "120"
    out = io.StringIO()
    csv.writer(out).writerows(table)
    job = await imported(api, conn, out.getvalue().encode(), headers=CSV)
    assert job["rows"] == {"read": 3, "applied": 1, "unchanged": 2, "rejected": 0}
    sq2 = (await api.get("/v1/products/sq-2")).json()
    assert (sq2["version"], sq2["attributes"]["width"]) == (2, 120)


async def test_an_export_longer_than_a_chunk_goes_on_after_the_last_code_of_each(
    api: httpx.AsyncClient, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await catalog(conn)
    await imported(api, conn, jsonl(*(row(f"sq-{n}") for n in range(1, 6))))
    monkeypatch.setattr(exports, "CHUNK", 2)
    for fmt in ("jsonl", "csv"):
        content = (await api.get("/v1/exports", params={"type": "products", "format": fmt})).content
        if fmt == "jsonl":
            codes = [msgspec.json.decode(x)["code"] for x in content.splitlines()]
        else:
            codes = [r[0] for r in list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:]]
        assert codes == ["sq-1", "sq-2", "sq-3", "sq-4", "sq-5"], fmt


async def test_an_export_of_a_category_holds_its_subtree_and_an_unknown_one_is_a_400(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await imported(api, conn, jsonl(row("sq-1"), row("fr-1", category="fragrance", categories=[], attributes={})))
    scarves = await api.get("/v1/exports", params={"type": "products", "category": "accessories"})
    assert [msgspec.json.decode(x)["code"] for x in scarves.content.splitlines()] == ["sq-1"]
    placed = await api.get("/v1/exports", params={"type": "products", "category": "web-gifts"})
    assert [msgspec.json.decode(x)["code"] for x in placed.content.splitlines()] == ["sq-1"]
    unknown = await api.get("/v1/exports", params={"type": "products", "category": "nowhere"})
    assert (unknown.status_code, unknown.json()["errors"][0]["parameter"]) == (400, "category")
    # a CSV's header names what the products in scope carry (category_product_keys of the categories in scope
    # and of the home categories of the products placed in it): sq-1's attributes, placed or at home; fr-1's none
    fixed = ["code", "category", "categories", "role", "series", "labels[en]", "labels[zh-CN]", "description[en]"]
    points = ["selling_points[en]", "selling_points[zh-CN]", "images", "quality_tags"]
    sq1 = ["attr:colour", "attr:cost_note", "attr:length", "attr:material", "attr:soft", "attr:weight", "attr:width"]
    for category, header in (("accessories", fixed + points + sq1), ("web-gifts", fixed + points + sq1),
                             ("fragrance", fixed + points)):  # fmt: skip
        answer = await api.get("/v1/exports", params={"type": "products", "category": category, "format": "csv"})
        assert csv_records(answer.content)[0] == header, category


async def test_a_csv_export_keeps_a_column_no_product_has_a_value_for_any_more_and_round_trips(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    # (the header's keys are only added: an attribute whose last value went is an empty column, imported as none)
    await catalog(conn)
    attributes = {k: v for k, v in row("sq-1")["attributes"].items() if k != "width"}
    await imported(api, conn, jsonl(row("sq-1"), row("sq-2")))
    await imported(api, conn, jsonl(row("sq-1", attributes=attributes), row("sq-2", attributes=attributes)))
    exported = await api.get("/v1/exports", params={"type": "products", "format": "csv"})
    table = csv_records(exported.content)
    assert [r[table[0].index("attr:width")] for r in table[1:]] == ["", ""]
    job = await imported(api, conn, exported.content, headers=CSV)
    assert job["rows"] == {"read": 2, "applied": 0, "unchanged": 2, "rejected": 0}
    assert "width" not in (await api.get("/v1/products/sq-1")).json()["attributes"]
    # an attribute removed since is no column at all (an import would refuse it as unknown)
    unbound = await api.put("/v1/categories/scarves/attributes", json={"attributes": [
        {"attribute": code, "required_for": []} for code in ("colour", "soft", "length")]})  # fmt: skip
    assert unbound.status_code == 200, unbound.text
    assert (await api.delete("/v1/attributes/width")).status_code == 204
    header = csv_records((await api.get("/v1/exports", params={"type": "products", "format": "csv"})).content)[0]
    assert "attr:width" not in header and "attr:soft" in header


async def test_who_may_import_and_export_and_what_an_export_shows_them(as_role: Any, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    async with as_role("admin") as admin, as_role("listing") as listing, as_role("warehouse") as warehouse:
        await imported(admin, conn, jsonl(row("sq-1")))
        for client in (warehouse, as_role("storefront"), as_role("finance")):
            assert (await upload(client, jsonl(row("sq-2")))).status_code == 403
        assert (await as_role("storefront").get("/v1/exports", params={"type": "products"})).status_code == 403
        seen = msgspec.json.decode((await warehouse.get("/v1/exports", params={"type": "products"})).content)
        assert "cost_note" not in seen["attributes"]
        assert "material" in seen["attributes"]
        header = (await listing.get("/v1/exports", params={"type": "products", "format": "csv"})).text
        assert "cost_note" not in header
        finance = msgspec.json.decode(
            (await as_role("finance").get("/v1/exports", params={"type": "products"})).content
        )
        assert finance["attributes"]["cost_note"] == "secret"
        # listing cannot see the confidential value, so its import keeps it, as its PUT would
        edited = {**seen, "labels": {"en": "By listing"}}
        job = await imported(listing, conn, jsonl(edited))
        assert job["rows"]["applied"] == 1
        stored = (await admin.get("/v1/products/sq-1")).json()
        assert (stored["labels"], stored["attributes"]["cost_note"]) == ({"en": "By listing"}, "secret")
        assert (await warehouse.get(f"/v1/imports/{job['id']}/errors")).status_code == 403
        assert (await listing.get("/v1/imports/999999/errors")).json()["code"] == "import-not-found"


def readme_example(heading: str) -> bytes:
    """The first CSV example under a README heading, as it stands there."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = text.index("```csv\n", text.index(heading)) + len("```csv\n")
    return text[start : text.index("```", start)].encode()


def readme_csv() -> bytes:
    """The CSV example of the README's "Import and export" section, as it stands there."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = text.index("```csv\n", text.index("## Import and export")) + len("```csv\n")
    example = text[start : text.index("```", start)]
    # the walkthrough below it writes the same file with printf, one argument a record
    written = text[text.index("printf '%s\\n' ", start) : text.index(" > products.csv", start)]
    records = re.findall(r"'([^']*)'", written.removeprefix("printf '%s\\n' "))
    assert "".join(r + "\n" for r in records) == example
    return example.encode()


async def test_an_option_removed_or_an_attribute_unbound_after_the_upload_stops_the_import(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    for change in ("option", "binding"):
        second = row("sq-2", attributes={"material": "cotton"}) if change == "option" else row("sq-2")
        answer = await upload(api, jsonl(row("sq-1"), second))
        assert answer.status_code == 202
        # nothing carries the value yet, so the API lets it go: the import must notice before it writes it
        if change == "option":
            assert (await api.delete("/v1/attributes/material/options/cotton")).status_code == 204
        else:
            bound = [{"attribute": a} for a in ("weight", "cost_note")]
            unbound = await api.put("/v1/categories/accessories/attributes", json={"attributes": bound})
            assert unbound.status_code == 200
        with pytest.raises(asyncpg.CheckViolationError):
            await run(conn)
        job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
        assert (job["state"], job["phase"]) == ("failed", "failed")
        line = 2 if change == "option" else 1
        assert job["error"].startswith(f"CheckViolationError: line {line}: attribute material changed since the file")
        assert (await api.get("/v1/products")).json()["items"] == []
