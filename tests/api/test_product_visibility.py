"""The values of confidential attributes reach only finance, purchasing and admin on every product route —
detail, list, and the answers to writes — and a writer who cannot see them cannot lose them either."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests import factories as f

SEES = ["admin", "finance", "purchasing"]
DOES_NOT = ["warehouse", "listing", "marketing", "service"]
ALL = {"colour": "red", "care": "dry clean", "supplier-notes": "ask for 3% off"}


async def catalog(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.attribute(conn, "colour", "text", visibility="public")
    await f.attribute(conn, "care", "text", visibility="internal")
    await f.attribute(conn, "supplier-notes", "text", visibility="confidential")
    for code in ALL:
        await f.bind(conn, "scarves", code)
    await f.product(conn, "sq-1", "scarves", attributes=ALL)


def seen(role: str) -> dict[str, Any]:
    return ALL if role in SEES else {k: v for k, v in ALL.items() if k != "supplier-notes"}


@pytest.mark.parametrize("role", SEES + DOES_NOT)
async def test_detail_and_list_show_confidential_values_only_to_the_roles_that_see_them(
    as_role: Any, conn: asyncpg.Connection, role: str
) -> None:
    await catalog(conn)
    async with as_role(role) as http:
        detail = await http.get("/v1/products/sq-1")
        listing = await http.get("/v1/products", params={"category": "scarves"})
    assert detail.status_code == 200, detail.text
    assert detail.json()["attributes"] == seen(role)
    assert [p["attributes"] for p in listing.json()["items"]] == [seen(role)]


async def test_a_writer_who_cannot_see_confidential_values_gets_answers_without_them_and_keeps_them(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    async with as_role("listing") as http:
        body = (await http.get("/v1/products/sq-1")).json()
        assert "supplier-notes" not in body["attributes"]
        # A replacement made from what the writer sees: the value it could not see stays.
        fields = {k: body[k] for k in ("category", "categories", "role", "series", "labels", "description")}
        put = await http.put(
            "/v1/products/sq-1", json={**fields, "attributes": {**body["attributes"], "colour": "blue"}}
        )
        patch = await http.patch("/v1/products/sq-1", json={"attributes": {"care": "hand wash"}})
        created = await http.post(
            "/v1/products",
            json={
                "code": "sq-2",
                "category": "scarves",
                "role": "routine",
                "labels": {"en": "sq-2"},
                "attributes": {"colour": "green", "supplier-notes": "new supplier"},
            },
        )
    assert put.status_code == 200, put.text
    assert put.json()["attributes"] == {"colour": "blue", "care": "dry clean"}
    assert patch.json()["attributes"] == {"colour": "blue", "care": "hand wash"}
    assert created.status_code == 201, created.text
    assert created.json()["attributes"] == {"colour": "green"}
    async with as_role("finance") as http:
        kept = (await http.get("/v1/products/sq-1")).json()["attributes"]
        written = (await http.get("/v1/products/sq-2")).json()["attributes"]
    assert kept == {"colour": "blue", "care": "hand wash", "supplier-notes": "ask for 3% off"}
    assert written == {"colour": "green", "supplier-notes": "new supplier"}
