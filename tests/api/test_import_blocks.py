"""JSON Lines product rows are checked a block at a time, the attribute sets of the categories a block names read
in one query first: each row still gets the answer the product API gives its body — inherited attributes, a
category with no attribute set, an attribute out of the set, an option not defined, an unknown category, a body
that does not convert and a line that is no JSON, in blocks that split them anywhere."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from domain.imports import rows, service
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


@pytest.mark.parametrize("block_rows", [1, 2, 3, 500])
async def test_rows_checked_in_blocks_are_answered_as_the_product_api_answers_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch, block_rows: int
) -> None:
    await catalog(conn)
    monkeypatch.setattr(service, "BLOCK_ROWS", block_rows)

    async def one_at_a_time(*_: Any) -> None:
        raise AssertionError("a block's attribute sets are read in one query, before its rows are checked")

    monkeypatch.setattr(rows, "effective_definitions", one_at_a_time)
    job = await imported(api, conn, jsonl(*bodies()), mode="valid_rows")
    assert job["state"] == "done", job
    found: dict[int, set[tuple[str, str]]] = {}
    for e in await report(api, job["id"]):
        found.setdefault(e["line"], set()).add((e["pointer"], e["code"]))
    assert found.pop(3) == {("", "malformed_json")}
    assert job["rows"]["applied"] == 3 and sorted(found) == [2, 5, 6, 7, 8]
    assert {line: found.get(line, set()) for line in (1, 2, 4, 5, 6, 7, 8, 9)} == await answers_of_the_product_api(api)
    stored = await conn.fetch("SELECT code, attributes FROM products WHERE code LIKE 'bl-%' ORDER BY code")
    assert [(r["code"], sorted(r["attributes"])) for r in stored] == [
        ("bl-1", sorted(row("bl-1")["attributes"])),
        ("bl-4", []),
        ("bl-9", ["weight"]),
    ]
