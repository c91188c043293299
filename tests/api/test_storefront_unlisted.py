"""A product that is not listed is on no shelf, no card list, no page and in no shop search: its storefront row
holds what customer service's lookup reads of it (code, search words and grams, units sold, card, the categories
it hangs on) and nothing a shop reads (no facet tokens, numbers, price or in-stock flag: its attributes and SKUs
are not computed). The transaction that lists it makes its page, cards, facets and search current; delisting
takes them away again."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import storefront_catalog as shop
from tests.api import test_imports as imports
from tests.api.test_storefront_incremental import rebuilt, state

ROW = """
    SELECT s.listed, s.categories, s.tokens, s.numbers, s.price, s.regular, s.in_stock, s.stale_at, s.card ->> 'code'
           AS card, s.words::text AS words, s.grams,
           (SELECT count(*) FROM storefront_shelf h WHERE h.product_id = s.product_id) AS shelved,
           (SELECT count(*) FROM storefront_documents d WHERE d.product_id = s.product_id) AS pages
      FROM storefront_products s WHERE s.code = $1"""


async def lookup_row(conn: asyncpg.Connection, code: str) -> asyncpg.Record:
    """A not-listed product's storefront row: what the lookup reads, nothing a shop reads."""
    r = await conn.fetchrow(ROW, code)
    assert r is not None, code
    assert (r["listed"], r["tokens"], r["numbers"], r["price"], r["regular"], r["in_stock"], r["stale_at"]) == (
        False,
        [],
        {},
        None,
        None,
        False,
        None,
    )
    assert (r["shelved"], r["pages"], r["card"]) == (0, 0, code)
    return r


async def test_an_imported_draft_has_the_lookups_row_alone_and_the_lookup_finds_it(
    api: httpx.AsyncClient, as_role: Any, conn: asyncpg.Connection
) -> None:
    await imports.catalog(conn)
    job = await imports.imported(api, conn, imports.jsonl(imports.row("rose"), imports.row("iris")))
    assert (job["state"], job["rows"]["applied"]) == ("done", 2), job
    row = await lookup_row(conn, "rose")
    assert "'silk'" in row["words"] and "'rose'" in row["words"] and "'hand'" in row["words"]
    assert "真丝" in row["grams"]
    assert len(row["categories"]) == 3  # accessories › scarves, and its placement web-gifts
    async with as_role("service") as http:
        found = (await http.get("/v1/service/lookup", params={"q": "silk square rose"})).json()
        chinese = (await http.get("/v1/service/lookup", params={"q": "真丝"})).json()
    assert [(i["code"], i["lifecycle"], i["listed"]) for i in found["items"]] == [("rose", "draft", False)]
    assert sorted(i["code"] for i in chinese["items"]) == ["iris", "rose"]
    async with as_role("storefront") as http:
        searched = (await http.get("/v1/storefront/search", params={"q": "rose"})).json()
    assert searched["items"] == []
    assert await state(conn) == await rebuilt(conn)


async def test_listing_makes_page_cards_facets_and_search_current_and_delisting_takes_them_away(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await shop.shop(conn)
    await lookup_row(conn, "lotus")  # (a draft: green silk, 60 cm, 129 CNY)
    await shop.list_product(conn, "lotus")  # (one transaction: the refresh at its commit, no job)
    row = await conn.fetchrow(ROW, "lotus")
    assert row["listed"] and "color=green" in row["tokens"] and float(row["price"]) == 129
    assert row["pages"] == 2 and row["shelved"] > 0
    assert await state(conn) == await rebuilt(conn)
    async with as_role("storefront") as http:
        page = await http.get("/v1/storefront/products/lotus", params={"locale": "en"})
        cards = await http.get("/v1/storefront/products", params={"category": "scarves", "filter": "color:green"})
        facets = await http.get("/v1/storefront/facets", params={"category": "scarves"})
        found = await http.get("/v1/storefront/search", params={"q": "lotus"})
    assert page.status_code == 200, page.text
    shown = {a["code"]: a["display"] for g in page.json()["attribute_groups"] for a in g["attributes"]}
    assert (shown["color"], shown["width"], page.json()["price"]) == ("green", "60 cm", shop.cny("129.00"))
    assert [(c["code"], c["price"]) for c in cards.json()["items"]] == [("lotus", shop.cny("129.00"))]
    colors = next(f for f in facets.json()["facets"] if f["attribute"] == "color")
    assert {v["value"]: v["count"] for v in colors["values"]}["green"] == 1
    assert [(c["code"], c["price"]) for c in found.json()["items"]] == [("lotus", shop.cny("129.00"))]

    await shop.list_product(conn, "lotus", "delisted")
    await lookup_row(conn, "lotus")
    assert await state(conn) == await rebuilt(conn)
    async with as_role("storefront") as http:
        page = await http.get("/v1/storefront/products/lotus")
        cards = await http.get("/v1/storefront/products", params={"category": "scarves", "filter": "color:green"})
        found = await http.get("/v1/storefront/search", params={"q": "lotus"})
    assert page.status_code == 404
    assert cards.json()["items"] == [] and found.json()["items"] == []
    async with as_role("service") as http:
        looked = (await http.get("/v1/service/lookup", params={"q": "LOTUS-1"})).json()
    assert [(i["code"], i["lifecycle"], i["listed"]) for i in looked["items"]] == [("lotus", "delisted", False)]
    events = await conn.fetch("SELECT type FROM events WHERE code = 'lotus' ORDER BY id")
    assert [e["type"] for e in events] == ["product.listed", "product.delisted"]
