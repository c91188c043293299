"""The console in a browser, against `merch serve --demo`: every page loads with no console error, the figures it
shows (read from the page) are the API's, a key without the roles sees no money, the locale switch uses the
catalog's labels, the pages work from the keyboard and at a tablet's width, and the admin's edits round-trip.
Screenshots of each page go to .merchflow/console/ (the README's come from there: docs/console/)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tests.conftest import KEYS
from tests.console.conftest import TABLET, sign_in

PAGES = ["structure", "attributes", "assortment", "warehouse"]


def flatten(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for node in nodes for n in [node, *flatten(node["children"])]]


async def test_each_page_loads_for_an_admin_with_no_console_error(as_role: Any) -> None:
    console = await as_role("admin")
    for name in PAGES:
        page = await console.open(name)
        assert await page.locator("#page .problem").count() == 0, await page.locator("#page .problem").all_inner_texts()
        await console.shot(name)
    assert console.errors == []


async def test_the_tree_shows_the_apis_product_counts_and_a_nodes_products(as_role: Any, api: Any) -> None:
    console = await as_role("admin")
    page = await console.open("structure")
    nested = (await api().get("/v1/category-trees/merch/tree")).json()
    expected = {n["code"]: n["subtree_products"] for n in flatten(nested["categories"])}
    shown = {
        await node.get_attribute("data-code"): int(await node.locator(".count").inner_text())
        for node in await page.locator("#tree .node").all()
    }
    assert shown == expected and expected["accessories"] == 4

    products = (await api().get("/v1/products", params={"category": "scarves", "limit": 500})).json()["items"]
    await page.click('.node[data-code="scarves"]')
    rows = page.locator("#node-products tbody tr")
    await rows.first.wait_for()
    assert sorted([await r.get_attribute("data-product") for r in await rows.all()]) == sorted(
        p["code"] for p in products
    )
    festival = page.locator('#node-products tr[data-product="silk-long-festival"]')
    completeness = (await api().get("/v1/products/silk-long-festival/completeness")).json()["stages"]
    assert await festival.locator(".lifecycle").inner_text() == "draft"
    assert await festival.locator('[data-stage="purchasing"]').get_attribute("data-ratio") == str(
        completeness["purchasing"]["ratio"]
    )
    # the role mix of a node: one segment per role, as many products as the API has of that role there
    bar = await page.locator('.node[data-code="scarves"] svg.rolebar').get_attribute("aria-label")
    roles = {p["role"] for p in products}
    assert bar is not None and all(f" {sum(p['role'] == r for p in products)}" in bar for r in roles)
    await console.shot("structure")  # (with a node's products: the README's)
    assert console.errors == []


async def test_a_heat_map_cell_shows_the_apis_share_and_opens_its_worklist(as_role: Any, api: Any) -> None:
    console = await as_role("admin")
    page = await console.open("attributes")
    nested = (await api().get("/v1/category-trees/merch/tree")).json()
    total = next(n for n in flatten(nested["categories"]) if n["code"] == "accessories")["subtree_products"]
    counts = (await api().get("/v1/completeness", params={"category": "accessories", "limit": 1})).json()
    incomplete = counts["incomplete_by_stage"]["service"]
    assert (total, incomplete) == (4, 2)  # (the demo: two scarves lack care instructions)
    cell = page.locator('.heat-cell[data-category="accessories"][data-stage="service"]')
    assert await cell.get_attribute("data-share") == f"{(total - incomplete) / total:.4f}"
    assert await cell.inner_text() == "50%"

    await cell.click()
    rows = page.locator("#worklist tbody tr")
    await rows.first.wait_for()
    worklist = (await api().get("/v1/completeness", params={"category": "accessories", "stage": "service"})).json()
    assert [await r.get_attribute("data-product") for r in await rows.all()] == [
        i["product"] for i in worklist["items"]
    ]
    await console.shot("attributes")  # (with a cell's worklist: the README's)
    assert console.errors == []


async def test_the_abc_classes_and_curve_are_the_apis_for_the_chosen_period(as_role: Any, api: Any) -> None:
    console = await as_role("admin")
    page = await console.open("assortment")
    since, until = await page.input_value("#period-from"), await page.input_value("#period-to")
    report = (await api().get("/v1/reports/abc", params={"from": since, "to": until})).json()
    expected = {row["sku"]: row["class"] for row in report["items"]}
    shown = {
        await row.get_attribute("data-sku"): await row.locator("td.class").inner_text()
        for row in await page.locator("#abc tbody tr").all()
    }
    assert shown == expected and expected["SLH-IVORY"] == "A"  # (the heritage scarf: half the revenue)
    assert await page.locator("#abc svg.pareto circle").count() == len(report["items"])
    assert [await b.get_attribute("data-boundary") for b in await page.locator("#abc .boundary").all()] == [
        "70",
        "90",
        "95",
    ]

    # a shorter period: the page asks the API again, and shows its answer
    since = (date.fromisoformat(until) - timedelta(days=29)).isoformat()
    await page.fill("#period-from", since)
    await page.click("#period button[type=submit]")
    await page.wait_for_selector('#page[data-ready="true"] #abc')
    narrow = (await api().get("/v1/reports/abc", params={"from": since, "to": until})).json()
    rows = page.locator("#abc tbody tr")
    assert [await r.get_attribute("data-sku") for r in await rows.all()] == [i["sku"] for i in narrow["items"]]

    target = await page.input_value("#period-target")
    assortment = (
        await api().get("/v1/reports/assortment", params={"from": since, "to": until, "target": target})
    ).json()
    by_role = {
        r["group"]: (r["revenue_share"], r["target_share"]) for r in assortment["items"] if r["dimension"] == "role"
    }
    shown_roles = {
        await r.get_attribute("data-role"): (
            (await r.locator("td").nth(2).inner_text()).rstrip("%"),
            (await r.locator("td").nth(3).inner_text()).rstrip("%"),
        )
        for r in await page.locator("#role-mix tbody tr").all()
    }
    assert shown_roles == by_role
    assert console.errors == []


async def test_stock_by_bin_and_the_service_lookup_are_the_apis(as_role: Any, api: Any) -> None:
    console = await as_role("admin")
    page = await console.open("warehouse")
    await page.fill("#stock-sku", "SSP-RED")
    await page.click("#stock button[type=submit]")
    await page.wait_for_selector('#stock-levels tr[data-sku="SSP-RED"]')
    stock = (await api().get("/v1/stock", params={"sku": "SSP-RED"})).json()
    rows = page.locator("#stock-levels tbody tr")
    shown = [
        (await r.get_attribute("data-location"), int(await r.locator("[data-available]").inner_text()))
        for r in await rows.all()
    ]
    assert shown == [(i["location"], i["available"]) for i in stock["items"]]
    assert (
        int(await page.locator('#stock-levels [data-total="available"]').inner_text()) == stock["totals"]["available"]
    )

    low = (await api().get("/v1/stock", params={"below": 100, "limit": 500})).json()["items"]
    assert await page.locator("#low-levels tbody tr").count() == len(low) > 0

    await page.fill("#lookup-q", "SSP-RED")
    await page.click("#lookup button[type=submit]")
    await page.wait_for_selector("#lookup-results .hit")
    found = (await api().get("/v1/service/lookup", params={"q": "SSP-RED", "locale": "zh-CN"})).json()["items"]
    assert [await h.get_attribute("data-product") for h in await page.locator(".hit").all()] == [
        i["code"] for i in found
    ]
    assert found[0]["label"] in await page.locator(".hit h3").first.inner_text()
    promotions = found[0]["promotions"]
    assert promotions  # (the demo's running promotion of SSP-RED): its price as the lookup writes it
    hit = await page.locator(".hit").first.inner_text()
    assert all(f"{p['sku']} {p['price']['amount']} {p['price']['currency']}" in hit for p in promotions), hit
    await console.shot("warehouse")
    assert console.errors == []


async def money_of_the_reports(api: Any) -> set[str]:
    """Every amount of money the admin sees in the reports (revenue, cost, margin, prices)."""
    amounts: set[str] = set()
    for path, params in (
        ("/v1/reports/abc", {}),
        ("/v1/reports/assortment", {}),
        ("/v1/reports/margins", {"by": "category"}),
    ):
        for row in (await api().get(path, params=params)).json()["items"]:
            for name, value in row.items():
                if name in {"revenue", "cost", "margin", "sale", "sale_cost", "distribution", "distribution_cost"}:
                    amounts.add(value)
    assert "589053.00" in amounts or len(amounts) > 20
    return {a for a in amounts if a is not None and Decimal(a) >= 100}  # (small ones could be anything)


async def test_a_warehouse_or_storefront_key_sees_no_money(as_role: Any, api: Any) -> None:
    money = await money_of_the_reports(api)
    for role in ("warehouse", "storefront"):
        console = await as_role(role)
        texts = []
        for name in PAGES:
            page = await console.open(name)
            texts.append(await page.locator("#page").inner_text())
            if name == "assortment":
                refused = page.locator("#abc .problem")
                assert await refused.get_attribute("data-status") == "403"
                assert role in await refused.inner_text()
                await console.shot(f"{role}-assortment")
        text = "\n".join(texts)
        assert [amount for amount in money if amount in text] == []
        assert not re.search(r"\d+\.\d\d (CNY|USD|EUR)", text)
        assert console.refusals_only() == [], role
    # the warehouse key still sees its stock
    page = await (await as_role("warehouse")).open("warehouse")
    assert await page.locator("#stock-levels tbody tr").count() > 0


async def test_the_locale_switch_uses_the_catalogs_labels(as_role: Any, api: Any) -> None:
    console = await as_role("admin")
    page = await console.open("structure")
    tree = (await api().get("/v1/category-trees/merch/tree")).json()["categories"][0]
    label = page.locator(f'.node[data-code="{tree["code"]}"] .node-label')
    assert await label.inner_text() == tree["labels"]["zh-CN"]
    await page.select_option("#locale", "en")
    await page.wait_for_selector('#page[data-ready="true"] #tree .node')
    assert await label.inner_text() == tree["labels"]["en"]
    assert await page.locator('#nav a[data-page="structure"]').inner_text() == "Structure"
    assert await page.get_attribute("html", "lang") == "en"
    await page.select_option("#locale", "zh-CN")
    assert console.errors == []


async def test_the_pages_fit_a_tablet_and_a_node_opens_from_the_keyboard(as_role: Any) -> None:
    console = await as_role("admin", TABLET)
    for name in PAGES:
        page = await console.open(name)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, name
        if name == "structure":
            await console.shot("tablet-structure")
    page = await console.open("structure")
    for _ in range(40):  # Tab through the header and the tree's controls to the first category
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.classList.contains('node')"):
            break
    focused = await page.evaluate("document.activeElement.dataset.code")
    assert focused == "accessories"
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#node-products tbody tr")
    assert console.errors == []


async def test_a_move_into_its_own_subtree_shows_the_409_and_a_good_move_is_made(as_role: Any, api: Any) -> None:
    console = await as_role("admin")
    page = await console.open("structure")
    await page.select_option("#move-category", "accessories")
    await page.select_option("#move-parent", "silk-square-scarves")
    await page.click("#move button[type=submit]")
    message = page.locator("#move-result .problem")
    await message.wait_for()
    assert await message.get_attribute("data-status") == "409"
    assert await message.get_attribute("data-code") == "category-cycle"
    refused = await api().post("/v1/categories/accessories/move", json={"parent": "silk-square-scarves"})
    assert refused.status_code == 409 and await message.inner_text() == refused.json()["detail"]
    assert (await api().get("/v1/categories/accessories")).json()["parent"] is None  # (nothing moved)

    await page.select_option("#move-category", "silk-long-scarves")
    await page.select_option("#move-parent", "scarves")
    await page.fill("#move-position", "0")
    await page.click("#move button[type=submit]")
    await page.wait_for_selector("#move-result:has-text('silk-long-scarves')")
    scarves = next(
        n
        for n in flatten((await api().get("/v1/category-trees/merch/tree")).json()["categories"])
        if n["code"] == "scarves"
    )
    assert [c["code"] for c in scarves["children"]] == ["silk-long-scarves", "silk-square-scarves"]
    shown = page.locator('.node[data-code="scarves"] + ul .node')
    assert [await n.get_attribute("data-code") for n in await shown.all()] == [
        "silk-long-scarves",
        "silk-square-scarves",
    ]
    # the browser noted the refused request; nothing else went wrong
    assert [e for e in console.errors if "status of 409" not in e] == []


async def test_a_category_dragged_onto_another_moves_under_it_and_a_cycle_is_refused(as_role: Any, api: Any) -> None:
    console = await as_role("admin")
    page = await console.open("structure")
    await page.drag_and_drop('.node[data-code="home-fragrance"]', '.node[data-code="lavender"]')
    message = page.locator("#move-result .problem")
    await message.wait_for()
    assert await message.get_attribute("data-code") == "category-cycle"
    assert (await api().get("/v1/categories/home-fragrance")).json()["parent"] is None

    await page.drag_and_drop('.node[data-code="sachets"]', '.node[data-code="scarves"]')
    try:
        await page.wait_for_selector("#move-result:has-text('sachets')")
        assert (await api().get("/v1/categories/sachets")).json()["parent"] == "scarves"
        under = page.locator('.node[data-code="scarves"] + ul .node')
        assert [await n.get_attribute("data-code") for n in await under.all()][-1] == "sachets"
        assert await page.locator('.node[data-code="scarves"] .count').inner_text() == "6"
        assert [e for e in console.errors if "status of 409" not in e] == []
    finally:
        back = await api().post("/v1/categories/sachets/move", json={"parent": "lavender", "position": 1})
        assert back.status_code == 200, back.text


async def test_an_admin_edit_of_the_application_table_round_trips_and_a_listing_key_may_not_save(
    as_role: Any, api: Any
) -> None:
    before = (await api().get("/v1/stages/marketing/needs")).json()
    assert "care-instructions" not in [n["item"] for n in before["needs"]]

    listing = await as_role("listing")
    page = await listing.open("attributes")
    await page.click("#needs-edit")
    await page.click('.need[data-stage="marketing"][data-item="care-instructions"]')
    await page.click("#needs-save")
    refused = page.locator("#needs-result .problem")
    await refused.wait_for()
    assert await refused.get_attribute("data-status") == "403"
    assert (await api().get("/v1/stages/marketing/needs")).json() == before

    console = await as_role("admin")
    page = await console.open("attributes")
    await page.click("#needs-edit")
    cell = '.need[data-stage="marketing"][data-item="care-instructions"]'
    await page.click(cell)  # empty → reads
    await page.click(cell)  # reads → requires
    assert await page.get_attribute(cell, "data-mode") == "requires"
    await page.click("#needs-save")
    await page.wait_for_selector("#needs-result:has-text('/v1/jobs/')")
    after = (await api().get("/v1/stages/marketing/needs")).json()
    assert {n["item"]: n["required"] for n in after["needs"]}["care-instructions"] is True
    assert [n["item"] for n in after["needs"]] == [n["item"] for n in before["needs"]] + ["care-instructions"]
    page = await console.open("structure")
    page = await console.open("attributes")  # drawn afresh from the API
    assert await page.get_attribute(cell, "data-mode") == "requires"
    await console.shot("attributes-edited")
    assert console.errors == []


async def test_a_heat_map_of_a_large_tree_shows_its_top_two_levels_and_says_so(as_role: Any, api: Any) -> None:
    # (one request per row: over 60 categories, the map keeps the major and middle ones)
    made = [f"scarf-shelf-{i:02d}" for i in range(60)]
    for code in made:
        body = {"code": code, "tree": "merch", "parent": "scarves", "labels": {"en": code, "zh-CN": code}}
        assert (await api().post("/v1/categories", json=body)).status_code == 201
    try:
        console = await as_role("admin")
        page = await console.open("attributes")
        rows = [await r.get_attribute("data-category") for r in await page.locator("#heatmap tbody tr").all()]
        assert rows == ["accessories", "scarves", "home-fragrance", "lavender"]
        assert await page.locator("#heat-note").inner_text() == "显示 68 个中的前 4 个。"
        assert console.errors == []
    finally:
        for code in made:
            assert (await api().delete(f"/v1/categories/{code}")).status_code == 204


async def test_a_category_of_many_products_shows_its_first_hundred_and_says_so(as_role: Any, api: Any) -> None:
    # (one completeness request per product shown)
    made = [f"sachet-trial-{i:03d}" for i in range(101)]
    for code in made:
        body = {"code": code, "category": "sachets", "role": "routine", "labels": {"en": code, "zh-CN": code}}
        assert (await api().post("/v1/products", json=body)).status_code == 201
    try:
        console = await as_role("admin")
        page = await console.open("structure")
        assert await page.locator('.node[data-code="sachets"] .count').inner_text() == "103"
        await page.click('.node[data-code="sachets"]')
        rows = page.locator("#node-products tbody tr")
        await rows.first.wait_for()
        assert await rows.count() == 100
        assert await page.locator("#node-products .hint").inner_text() == "显示 103 个中的前 100 个。"
        assert console.errors == []
    finally:
        for code in made:
            assert (await api().delete(f"/v1/products/{code}")).status_code == 204


async def test_the_key_is_kept_for_the_tab_only_and_an_unknown_key_is_refused(browser: Any, served: Any) -> None:
    console = await sign_in(browser, served.url, "admin")
    page = console.page
    try:
        stored = await page.evaluate("[sessionStorage.getItem('merchflow.key'), localStorage.length, document.cookie]")
        assert stored == [KEYS["admin"], 0, ""]
        await page.click("#signout")
        assert await page.evaluate("sessionStorage.getItem('merchflow.key')") is None
        assert await page.is_visible("#signin") and await page.is_hidden("#nav")

        await page.fill("#key", "mf_not_a_key_of_this_server")
        await page.click("#signin button[type=submit]")
        await page.wait_for_selector("#signin-problem:not(:empty)")
        assert await page.inner_text("#signin-problem") == "密钥无效或已吊销。"
        assert await page.evaluate("sessionStorage.getItem('merchflow.key')") is None
        assert [e for e in console.errors if "status of 401" not in e] == []
    finally:
        await page.context.close()
