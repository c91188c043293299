"""Product imports and exports over HTTP: JSON Lines and CSV uploads checked by the product API's own rules,
both modes, upserts that skip identical rows, the job and its per-row report, idempotent retries, the export
that round-trips, and who may do what."""

from __future__ import annotations

import csv
import io
from typing import Any

import asyncpg
import httpx
import msgspec

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
    return await api.post("/v1/imports", params={"type": "products", **params}, content=body, headers=headers)


async def imported(api: httpx.AsyncClient, conn: asyncpg.Connection, body: bytes, **kw: Any) -> dict[str, Any]:
    """Upload, run, and answer the finished job."""
    answer = await upload(api, body, **kw)
    assert answer.status_code == 202, answer.text
    await run(conn)
    job = (await api.get(f"/v1/jobs/{answer.json()['id']}")).json()
    assert isinstance(job, dict)
    return job


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
