"""JSON Lines product rows are checked a block at a time, the attribute sets of the categories a block names read
in one query first: each row still gets the answer the product API gives its body — inherited attributes, a
category with no attribute set, an attribute out of the set, an option not defined, an unknown category, a body
that does not convert and a line that is no JSON, in blocks that split them anywhere."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from domain.imports import rows, service, staging
from tests.api.test_imports import catalog, imported, jsonl, report, row


def bodies() -> list[dict[str, Any] | str]:
    return [
        row("bl-1"),  # scarves: its own attributes and those inherited from accessories
        row("bl-2", category="accessories", attributes={"material": "cotton", "width": 90}),  # width: scarves' only
        "{not json",
        row("bl-4", category="fragrance", attributes={}),  # a category with no attribute set
        row("bl-5", category="fragrance", attributes={"material": "silk"}),
        row("bl-6", attributes={"colour": ["pink"]}),
        row("bl-7", category="no-such-category"),
        row("bl-8", role=5),  # does not convert: every error named, its category's set read all the same
        row("bl-9", category="accessories", attributes={"weight": "1.25"}),
    ]


async def answers_of_the_product_api(api: httpx.AsyncClient) -> dict[int, set[tuple[str, str]]]:
    """(pointer, code) of each error the product API answers each body with (after the import: its products exist,
    and a good body is answered as an identical update)."""
    found: dict[int, set[tuple[str, str]]] = {}
    for line, body in enumerate(bodies(), start=1):
        if isinstance(body, str):
            continue
        answer = await api.put(f"/v1/products/{body['code']}", json={k: v for k, v in body.items() if k != "code"})
        if answer.status_code == 404:
            answer = await api.post("/v1/products", json=body)
        errors = answer.json().get("errors", []) if answer.status_code >= 400 else []
        found[line] = {(e["pointer"], e["code"]) for e in errors}
    return found


def in_blocks(monkeypatch: pytest.MonkeyPatch, block_rows: int, batch: int) -> None:
    """Blocks of `block_rows` rows, batches of `batch`; no attribute set read one category at a time."""
    monkeypatch.setattr(service, "BLOCK_ROWS", block_rows)
    monkeypatch.setattr(staging, "BATCH", batch)

    async def one_at_a_time(*_: Any) -> None:
        raise AssertionError("a block's attribute sets are read in one query, before its rows are checked")

    monkeypatch.setattr(rows, "effective_definitions", one_at_a_time)


@pytest.mark.parametrize(("block_rows", "batch"), [(1, 2000), (2, 2), (3, 1), (500, 2000), (500, 3)])
async def test_rows_checked_in_blocks_are_answered_as_the_product_api_answers_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch, block_rows: int, batch: int
) -> None:
    # (batches staged behind the reading while the next rows are checked, and a block's attribute sets read once
    # the batch before is staged)
    await catalog(conn)
    in_blocks(monkeypatch, block_rows, batch)
    job = await imported(api, conn, jsonl(*bodies()), mode="valid_rows")
    assert job["state"] == "done", job
    found: dict[int, set[tuple[str, str]]] = {}
    for e in await report(api, job["id"]):
        found.setdefault(e["line"], set()).add((e["pointer"], e["code"]))
    assert found.pop(3) == {("", "malformed_json")}
    assert job["rows"] == {"read": 9, "applied": 3, "unchanged": 0, "rejected": 6}
    assert sorted(found) == [2, 5, 6, 7, 8]
    assert {line: found.get(line, set()) for line in (1, 2, 4, 5, 6, 7, 8, 9)} == await answers_of_the_product_api(api)
    stored = await conn.fetch("SELECT code, attributes FROM products WHERE code LIKE 'bl-%' ORDER BY code")
    assert [(r["code"], sorted(r["attributes"])) for r in stored] == [
        ("bl-1", sorted(row("bl-1")["attributes"])),
        ("bl-4", []),
        ("bl-9", ["weight"]),
    ]


async def test_an_upload_cut_off_while_a_batch_is_staged_behind_it_is_a_failed_job_with_nothing_staged(
    conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import guard
    from domain.keys.model import Principal

    await catalog(conn)
    monkeypatch.setattr(staging, "BATCH", 2)
    monkeypatch.setattr(service, "BLOCK_ROWS", 3)
    staged: list[int] = []
    write = staging.Upload._write

    async def counted(self: staging.Upload, batch: list[Any], *args: Any) -> None:
        await write(self, batch, *args)
        staged.append(len(batch))

    monkeypatch.setattr(staging.Upload, "_write", counted)

    async def cut_off() -> Any:
        yield jsonl(*(row(f"bl-{i}") for i in range(7)))
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await service.start_import(
            conn,
            Principal(name="feed", roles=frozenset({"admin"})),
            kind="products",
            mode="all_or_nothing",
            media_type="application/x-ndjson",
            idempotency_key=None,
            body=cut_off(),
            line_flaw=guard.body_flaw,
        )
    assert staged == [2, 2, 2]  # (the third batch was being written when the body broke off)
    job = await conn.fetchrow("SELECT state, phase, error FROM jobs WHERE kind = 'import-products'")
    assert tuple(job) == ("failed", "interrupted", "The upload stopped before its end (ConnectionResetError).")
    assert await conn.fetchval("SELECT count(*) FROM import_rows") == 0


@pytest.mark.parametrize(("block_rows", "batch"), [(2, 2), (500, 2000)])
async def test_csv_records_checked_in_blocks_are_named_by_line_and_column(
    api: httpx.AsyncClient, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch, block_rows: int, batch: int
) -> None:
    await catalog(conn)
    in_blocks(monkeypatch, block_rows, batch)
    body = (
        "code,category,role,attr:material,attr:width\n"
        "c-1,scarves,routine,silk,90\n"
        "c-2,accessories,routine,cotton,90\n"
        "c-3,fragrance,routine,,\n"
        "c-4,fragrance,routine,silk\n"
        "c-5,fragrance,routine,silk,\n"
        "c-6,scarves,routine,wool,500\n"
    )
    job = await imported(api, conn, body.encode(), headers={"content-type": "text/csv"}, mode="valid_rows")
    assert job["rows"] == {"read": 6, "applied": 2, "unchanged": 0, "rejected": 4}
    found = [(e["line"], e["column"], e["pointer"], e["code"]) for e in await report(api, job["id"], "csv")]
    assert found[:3] == [
        ("3", "attr:width", "/attributes/width", "not_in_attribute_set"),
        ("5", "", "", "ragged_row"),
        ("6", "attr:material", "/attributes/material", "not_in_attribute_set"),
    ]
    assert sorted((line, column, pointer) for line, column, pointer, _ in found[3:]) == [
        ("7", "attr:material", "/attributes/material"),
        ("7", "attr:width", "/attributes/width"),
    ]
    stored = await conn.fetch("SELECT code FROM products WHERE code LIKE 'c-%' ORDER BY code")
    assert [r["code"] for r in stored] == ["c-1", "c-3"]
