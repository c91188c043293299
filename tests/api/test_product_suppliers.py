"""Product-supplier terms (供应条款) over HTTP: exact money, bounded MOQ and lead time, one preferred supplier
per product, the ranked sourcing order with its reasons, completeness kept current, ETags, audit and the
confidentiality of terms (purchasing, finance and admin only)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories as f

BASE = "/v1/products/sq-90/suppliers"


async def catalog(conn: asyncpg.Connection, *suppliers: tuple[str, str, bool]) -> None:
    """Product `sq-90` in merch › silk-squares, and suppliers given as (code, type, active)."""
    await f.tree(conn)
    await f.category(conn, "silk-squares")
    await f.product(conn, "sq-90", "silk-squares")
    for code, kind, active in suppliers or (("hz-silk", "manufacturer", True),):
        await conn.execute(
            "INSERT INTO suppliers (code, type, labels, active) VALUES ($1, $2, $3, $4)",
            code,
            kind,
            {"en": code},
            active,
        )


def terms(
    supplier: str | None = "hz-silk", amount: Any = "38.50", currency: str = "CNY", **fields: Any
) -> dict[str, Any]:
    """A body of POST (a body of PUT with `supplier=None`)."""
    body = {
        "supplier": supplier,
        "purchase_price": {"amount": amount, "currency": currency},
        "moq": 100,
        "lead_time_days": 14,
        "preferred": False,
        **fields,
    }
    return {k: v for k, v in body.items() if not (k == "supplier" and v is None)}


async def add(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    r = await api.post(BASE, json=terms(**fields))
    assert r.status_code == 201, r.text
    return without_times(r.json())


def without_times(body: dict[str, Any]) -> dict[str, Any]:
    assert body.pop("created_at") and body.pop("updated_at")
    return body


async def counts(conn: asyncpg.Connection) -> tuple[int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM product_suppliers"),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'product-supplier'"),
    )


async def ranked(api: httpx.AsyncClient, **params: Any) -> list[tuple[int, str, str, str | None]]:
    r = await api.get(BASE, params={"ranked": "true", **params})
    assert r.status_code == 200, r.text
    return [(t["rank"], t["supplier"], t["reason"], t["tie_breaker"]) for t in r.json()["items"]]


async def test_adding_terms_answers_201_with_location_etag_and_the_terms(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await api.post(BASE, json=terms(preferred=True))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/products/sq-90/suppliers/hz-silk"
    assert r.headers["etag"] == '"1"'
    expected = {
        "product": "sq-90",
        "supplier": "hz-silk",
        "supplier_type": "manufacturer",
        "supplier_active": True,
        "purchase_price": {"amount": "38.50", "currency": "CNY"},
        "moq": 100,
        "lead_time_days": 14,
        "preferred": True,
        "version": 1,
    }
    assert without_times(r.json()) == expected
    got = await api.get(f"{BASE}/hz-silk")
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert without_times(got.json()) == expected
    listed = (await api.get(BASE)).json()
    assert listed["next_cursor"] is None
    assert [without_times(t) for t in listed["items"]] == [expected]


async def test_purchase_prices_are_exact_decimals_with_up_to_two_more_places_than_the_currency(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn, ("a", "manufacturer", True), ("b", "agent", True), ("c", "wholesaler", True))
    assert (await add(api, supplier="a", amount="38.1234"))["purchase_price"] == {
        "amount": "38.1234",
        "currency": "CNY",
    }
    assert (await add(api, supplier="b", amount="38.5"))["purchase_price"] == {"amount": "38.50", "currency": "CNY"}
    assert (await add(api, supplier="c", amount="1200", currency="JPY"))["purchase_price"] == {
        "amount": "1200",
        "currency": "JPY",
    }
    assert str(await conn.fetchval("SELECT sum(purchase_price) FROM product_suppliers")) == "1276.6234"


async def test_moq_lead_time_and_preferred_have_defaults(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    r = await api.post(BASE, json={"supplier": "hz-silk", "purchase_price": {"amount": "0", "currency": "CNY"}})
    assert r.status_code == 201, r.text
    body = without_times(r.json())
    assert (body["purchase_price"], body["moq"], body["lead_time_days"], body["preferred"]) == (
        {"amount": "0.00", "currency": "CNY"},
        1,
        0,
        False,
    )


BAD_INPUTS = [
    ({"supplier": "nobody"}, "/supplier", "unknown_supplier", "No supplier has the code 'nobody'."),
    ({"amount": 38.5}, "/purchase_price/amount", "wrong_type", "Expected `str`, got `float`."),
    ({"amount": "-1.00"}, "/purchase_price/amount", "negative_amount", "The amount cannot be negative."),
    (
        {"currency": "XYZ"},
        "/purchase_price/currency",
        "unknown_currency",
        "XYZ is not an ISO 4217 currency merchflow knows.",
    ),
    (
        {"amount": "38.12345"},
        "/purchase_price/amount",
        "too_many_decimals",
        "CNY takes at most 4 decimal places here.",
    ),
    ({"currency": "JPY", "amount": "1200.123"}, "/purchase_price/amount", "too_many_decimals", None),
    (
        {"currency": "BHD", "amount": "1.12345"},
        "/purchase_price/amount",
        "too_many_decimals",
        "BHD takes at most 4 decimal places here.",
    ),
    ({"moq": 0}, "/moq", "out_of_range", "Expected `int` >= 1."),
    ({"lead_time_days": -1}, "/lead_time_days", "out_of_range", "Expected `int` >= 0."),
    ({"lead_time_days": 3651}, "/lead_time_days", "out_of_range", "Expected `int` <= 3650."),
    ({"preferred": "yes"}, "/preferred", "wrong_type", "Expected `bool`, got `str`."),
    ({"price": "38.50"}, "/price", "unknown_field", "`price` is not a field here."),
]


@pytest.mark.parametrize(
    ("change", "pointer", "code", "message"), BAD_INPUTS, ids=[f"{b[1]}-{b[2]}" for b in BAD_INPUTS]
)
async def test_each_bad_input_is_a_422_naming_the_field_and_nothing_is_written(
    api: httpx.AsyncClient,
    conn: asyncpg.Connection,
    change: dict[str, Any],
    pointer: str,
    code: str,
    message: str | None,
) -> None:
    await catalog(conn)
    body = terms()
    for key, value in change.items():
        if key in ("amount", "currency"):
            body["purchase_price"][key] = value
        else:
            body[key] = value
    r = await api.post(BASE, json=body)
    assert r.status_code == 422, r.text
    expected_message = message or "JPY takes at most 2 decimal places here."
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": expected_message,
        "code": "validation-failed",
        "instance": BASE,
        "errors": [{"pointer": pointer, "code": code, "message": expected_message}],
    }
    assert await counts(conn) == (0, 0)


async def test_every_bad_field_of_one_body_is_named_at_once(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    r = await api.post(BASE, json=terms(amount=38.5, moq=0, lead_time_days=4000, preferred=None))
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/purchase_price/amount", "wrong_type"),
        ("/moq", "out_of_range"),
        ("/lead_time_days", "out_of_range"),
        ("/preferred", "wrong_type"),
    ]
    # The checks that need the database or the currency table come once the shape is right, all at once too.
    r = await api.post(BASE, json=terms("nobody", amount="-1.12345", currency="CNY"))
    assert r.json()["detail"] == "3 fields are invalid."
    assert r.json()["errors"] == [
        {"pointer": "/supplier", "code": "unknown_supplier", "message": "No supplier has the code 'nobody'."},
        {"pointer": "/purchase_price/amount", "code": "negative_amount", "message": "The amount cannot be negative."},
        {
            "pointer": "/purchase_price/amount",
            "code": "too_many_decimals",
            "message": "CNY takes at most 4 decimal places here.",
        },
    ]
    assert await counts(conn) == (0, 0)


async def test_an_unknown_product_is_a_404_and_unknown_terms_are_a_404_too(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    no_product = {
        "type": "/problems/product-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No product has the code 'nothing'.",
        "code": "product-not-found",
    }
    for r in (
        await api.get("/v1/products/nothing/suppliers"),
        await api.get("/v1/products/nothing/suppliers", params={"ranked": "true"}),
        await api.post("/v1/products/nothing/suppliers", json=terms()),
        await api.get("/v1/products/nothing/suppliers/hz-silk"),
        await api.put("/v1/products/nothing/suppliers/hz-silk", json=terms(None)),
        await api.delete("/v1/products/nothing/suppliers/hz-silk"),
    ):
        assert r.status_code == 404
        body = r.json()
        assert body.pop("instance").startswith("/v1/products/nothing/suppliers")
        assert body == no_product
    no_terms = {
        "type": "/problems/product-supplier-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Product 'sq-90' has no terms with supplier 'hz-silk'.",
        "code": "product-supplier-not-found",
        "instance": f"{BASE}/hz-silk",
    }
    for r in (
        await api.get(f"{BASE}/hz-silk"),
        await api.patch(f"{BASE}/hz-silk", json={"moq": 5}),
        await api.delete(f"{BASE}/hz-silk"),
    ):
        assert r.status_code == 404
        assert r.json() == no_terms
    r = await api.put(f"{BASE}/nobody", json={"purchase_price": {"amount": "1.00", "currency": "CNY"}})
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/supplier-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No supplier has the code 'nobody'.",
        "code": "supplier-not-found",
        "instance": f"{BASE}/nobody",
    }
    assert await counts(conn) == (0, 0)


async def test_terms_a_product_has_already_with_a_supplier_are_a_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await add(api)
    r = await api.post(BASE, json=terms(amount="40.00", preferred=True))
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/product-supplier-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "Product 'sq-90' has terms with supplier 'hz-silk' already; change them with PUT or PATCH.",
        "code": "product-supplier-exists",
        "instance": BASE,
    }
    got = without_times((await api.get(f"{BASE}/hz-silk")).json())
    assert (got["purchase_price"]["amount"], got["preferred"], got["version"]) == ("38.50", False, 1)
    assert await counts(conn) == (1, 1)


async def test_making_a_supplier_preferred_unprefers_the_previous_one_in_the_same_write(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn, ("a", "manufacturer", True), ("b", "agent", True), ("c", "wholesaler", True))
    await add(api, supplier="a", preferred=True)
    created = await add(api, supplier="b", preferred=True)
    assert (created["preferred"], created["version"]) == (True, 1)

    async def preferred() -> dict[str, tuple[bool, int]]:
        items = (await api.get(BASE)).json()["items"]
        return {t["supplier"]: (t["preferred"], t["version"]) for t in items}

    assert await preferred() == {"a": (False, 2), "b": (True, 1)}
    await add(api, supplier="c")
    r = await api.patch(f"{BASE}/c", json={"preferred": True})
    assert r.status_code == 200, r.text
    assert await preferred() == {"a": (False, 2), "b": (False, 2), "c": (True, 2)}
    r = await api.put(f"{BASE}/a", json=terms(None, preferred=True))
    assert r.status_code == 200, r.text
    assert await preferred() == {"a": (True, 3), "b": (False, 2), "c": (False, 3)}
    unpreferred = await api.patch(f"{BASE}/a", json={"preferred": False})
    assert unpreferred.status_code == 200
    assert await preferred() == {"a": (False, 4), "b": (False, 2), "c": (False, 3)}
    audit = (await api.get("/v1/audit", params={"entity": "product-supplier", "code": "sq-90/c"})).json()["items"]
    assert [(e["action"], e["version"], e["changes"].get("preferred")) for e in audit] == [
        ("update", 3, {"before": True, "after": False}),
        ("update", 2, {"before": False, "after": True}),
        ("create", 1, {"before": None, "after": False}),
    ]
    assert [set(e["changes"]) for e in audit[:2]] == [{"preferred"}, {"preferred"}]


async def test_a_merge_patch_changes_only_what_it_names_and_a_no_op_keeps_the_version(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await add(api)
    r = await api.patch(f"{BASE}/hz-silk", json={"purchase_price": {"currency": "USD"}, "lead_time_days": 30})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert without_times(r.json()) == {
        "product": "sq-90",
        "supplier": "hz-silk",
        "supplier_type": "manufacturer",
        "supplier_active": True,
        "purchase_price": {"amount": "38.50", "currency": "USD"},
        "moq": 100,
        "lead_time_days": 30,
        "preferred": False,
        "version": 2,
    }
    same = await api.patch(f"{BASE}/hz-silk", json={"purchase_price": {"amount": "38.5000"}, "moq": 100})
    assert same.status_code == 200
    assert same.json()["version"] == 2
    same = await api.put(f"{BASE}/hz-silk", json=terms(None, currency="USD", amount="38.5", lead_time_days=30))
    assert same.status_code == 200
    assert same.json()["version"] == 2
    bad = await api.patch(f"{BASE}/hz-silk", json={"purchase_price": {"amount": "1.123456"}, "moq": 0})
    assert bad.status_code == 422
    assert [(e["pointer"], e["code"]) for e in bad.json()["errors"]] == [("/moq", "out_of_range")]
    bad = await api.patch(f"{BASE}/hz-silk", json={"purchase_price": {"amount": "1.12345", "currency": "ZZZ"}})
    assert [(e["pointer"], e["code"]) for e in bad.json()["errors"]] == [
        ("/purchase_price/currency", "unknown_currency")
    ]
    assert await counts(conn) == (1, 2)


async def test_put_creates_terms_then_replaces_them(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    body = {"purchase_price": {"amount": "36.00", "currency": "CNY"}, "moq": 50, "lead_time_days": 10}
    r = await api.put(f"{BASE}/hz-silk", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{BASE}/hz-silk"
    assert (r.json()["version"], r.json()["preferred"]) == (1, False)
    r = await api.put(f"{BASE}/hz-silk", json={**body, "moq": 200})
    assert r.status_code == 200
    assert (r.json()["moq"], r.json()["version"]) == (200, 2)
    r = await api.put(f"{BASE}/hz-silk", json={**body, "supplier": "hz-silk"})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"pointer": "/supplier", "code": "unknown_field", "message": "`supplier` is not a field here."}
    ]


async def test_a_stale_if_match_is_412_and_a_current_if_none_match_is_304(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn, ("hz-silk", "manufacturer", True), ("other", "agent", True))
    await add(api)
    r = await api.get(f"{BASE}/hz-silk", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.headers["etag"] == '"1"'
    assert r.content == b""
    ok = await api.patch(f"{BASE}/hz-silk", json={"moq": 200}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    assert (await api.get(f"{BASE}/hz-silk", headers={"If-None-Match": '"1"'})).status_code == 200
    expected = {
        "type": "/problems/version-mismatch",
        "title": "Precondition failed",
        "status": 412,
        "detail": "Terms 'sq-90/hz-silk' is at version 2, not 1: it changed since you read it.",
        "code": "version-mismatch",
        "instance": f"{BASE}/hz-silk",
        "context": {"current_version": 2},
    }
    for stale in (
        await api.patch(f"{BASE}/hz-silk", json={"moq": 300}, headers={"If-Match": '"1"'}),
        await api.put(f"{BASE}/hz-silk", json=terms(supplier=None), headers={"If-Match": '"1"'}),
        await api.delete(f"{BASE}/hz-silk", headers={"If-Match": '"1"'}),
    ):
        assert stale.status_code == 412, stale.text
        assert stale.json() == expected
    absent = await api.put(f"{BASE}/other", json=terms(None), headers={"If-Match": '"1"'})
    assert absent.status_code == 412
    assert absent.json() == {
        "type": "/problems/version-mismatch",
        "title": "Precondition failed",
        "status": 412,
        "detail": "Terms 'sq-90/other' do not exist.",
        "code": "version-mismatch",
        "instance": f"{BASE}/other",
    }
    assert await counts(conn) == (1, 2)


async def test_terms_writes_keep_the_purchasing_completeness_current(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)

    async def purchasing() -> dict[str, Any]:
        r = await api.get("/v1/products/sq-90/completeness")
        assert r.status_code == 200, r.text
        return dict(r.json()["stages"]["purchasing"])

    assert await purchasing() == {
        "required": 4,
        "present": 2,
        "ratio": 0.5,
        "missing": [{"item": "cost_price"}, {"item": "supplier"}],
    }
    await add(api)
    stored = await conn.fetchval(
        "SELECT stages->'purchasing'->'missing' FROM product_completeness pc JOIN products p ON p.id = pc.product_id"
        " WHERE p.code = 'sq-90'"
    )
    assert stored == ["cost_price"]
    assert await purchasing() == {"required": 4, "present": 3, "ratio": 0.75, "missing": [{"item": "cost_price"}]}
    assert (await api.delete(f"{BASE}/hz-silk")).status_code == 204
    assert [m["item"] for m in (await purchasing())["missing"]] == ["cost_price", "supplier"]


async def test_deleting_terms_removes_them_and_is_audited(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    await add(api, preferred=True)
    r = await api.delete(f"{BASE}/hz-silk", headers={"If-Match": '"1"'})
    assert r.status_code == 204
    assert (await api.get(f"{BASE}/hz-silk")).status_code == 404
    assert (await api.get(BASE)).json() == {"items": [], "next_cursor": None}
    audit = (await api.get("/v1/audit", params={"entity": "product-supplier"})).json()["items"]
    assert [{k: e[k] for k in ("actor", "action", "code", "version", "changes")} for e in audit] == [
        {
            "actor": "test-admin",
            "action": "delete",
            "code": "sq-90/hz-silk",
            "version": 1,
            "changes": {
                "lead_time_days": {"before": 14, "after": None},
                "moq": {"before": 100, "after": None},
                "preferred": {"before": True, "after": None},
                "product": {"before": "sq-90", "after": None},
                "purchase_price": {"before": {"amount": "38.50", "currency": "CNY"}, "after": None},
                "supplier": {"before": "hz-silk", "after": None},
                "supplier_active": {"before": True, "after": None},
                "supplier_type": {"before": "manufacturer", "after": None},
            },
        },
        {
            "actor": "test-admin",
            "action": "create",
            "code": "sq-90/hz-silk",
            "version": 1,
            "changes": {
                "lead_time_days": {"before": None, "after": 14},
                "moq": {"before": None, "after": 100},
                "preferred": {"before": None, "after": True},
                "product": {"before": None, "after": "sq-90"},
                "purchase_price": {"before": None, "after": {"amount": "38.50", "currency": "CNY"}},
                "supplier": {"before": None, "after": "hz-silk"},
                "supplier_active": {"before": None, "after": True},
                "supplier_type": {"before": None, "after": "manufacturer"},
            },
        },
    ]


# Ranking


async def test_the_ranked_list_puts_a_better_tier_first_whatever_its_price(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(
        conn,
        ("trade", "trading_company", True),
        ("whole", "wholesaler", True),
        ("agent", "agent", True),
        ("maker", "manufacturer", True),
    )
    await add(api, supplier="trade", amount="20.00", lead_time_days=1)
    await add(api, supplier="whole", amount="30.00", lead_time_days=3)
    await add(api, supplier="agent", amount="35.00", lead_time_days=7)
    await add(api, supplier="maker", amount="38.50", lead_time_days=14)
    assert await ranked(api) == [
        (1, "maker", "manufacturer; 38.50 CNY; 14 days", "tier"),
        (2, "agent", "agent; 35.00 CNY; 7 days", "tier"),
        (3, "whole", "wholesaler; 30.00 CNY; 3 days", "tier"),
        (4, "trade", "trading_company; 20.00 CNY; 1 day", None),
    ]


async def test_within_a_tier_the_lower_price_wins_then_the_shorter_lead_time_then_the_code(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn, *((c, "manufacturer", True) for c in ("m-a", "m-b", "m-c", "m-d", "m-e")))
    await add(api, supplier="m-e", amount="38.50", lead_time_days=14)
    await add(api, supplier="m-d", amount="38.50", lead_time_days=14)
    await add(api, supplier="m-c", amount="38.50", lead_time_days=10)
    await add(api, supplier="m-b", amount="38.4999", lead_time_days=30)
    await add(api, supplier="m-a", amount="39", lead_time_days=0)
    assert await ranked(api) == [
        (1, "m-b", "manufacturer; 38.4999 CNY; 30 days", "price"),
        (2, "m-c", "manufacturer; 38.50 CNY; 10 days", "lead_time"),
        (3, "m-d", "manufacturer; 38.50 CNY; 14 days", "code"),
        (4, "m-e", "manufacturer; 38.50 CNY; 14 days", "price"),
        (5, "m-a", "manufacturer; 39.00 CNY; 0 days", None),
    ]


async def test_prices_in_different_currencies_are_not_compared_they_are_ordered_by_currency_code(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(
        conn, ("usd-maker", "manufacturer", True), ("cny-maker", "manufacturer", True), ("agent", "agent", True)
    )
    await add(api, supplier="usd-maker", amount="5.00", currency="USD", lead_time_days=20)
    await add(api, supplier="cny-maker", amount="38.50", currency="CNY", lead_time_days=14)
    await add(api, supplier="agent", amount="1.00", currency="CNY", lead_time_days=2)
    assert await ranked(api) == [
        (1, "cny-maker", "manufacturer; 38.50 CNY; 14 days", "currency"),
        (2, "usd-maker", "manufacturer; 5.00 USD; 20 days", "tier"),
        (3, "agent", "agent; 1.00 CNY; 2 days", None),
    ]


async def test_inactive_suppliers_come_last_in_code_order_with_reason_inactive(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(
        conn, ("z-trade", "trading_company", True), ("b-maker", "manufacturer", False), ("a-agent", "agent", False)
    )
    await add(api, supplier="z-trade", amount="99.00")
    await add(api, supplier="b-maker", amount="1.00")
    await add(api, supplier="a-agent", amount="2.00")
    assert await ranked(api) == [
        (1, "z-trade", "trading_company; 99.00 CNY; 14 days", "active"),
        (2, "a-agent", "inactive", "code"),
        (3, "b-maker", "inactive", None),
    ]
    items = (await api.get(BASE, params={"ranked": "true"})).json()["items"]
    assert [t["supplier_active"] for t in items] == [True, False, False]


async def test_the_ranked_list_pages_by_keyset_and_keeps_counting_ranks(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(
        conn,
        ("m-1", "manufacturer", True),
        ("m-2", "manufacturer", True),
        ("a-1", "agent", True),
        ("w-1", "wholesaler", True),
        ("x-1", "manufacturer", False),
    )
    await add(api, supplier="m-1", amount="10.00")
    await add(api, supplier="m-2", amount="10.00", lead_time_days=7)
    await add(api, supplier="a-1", amount="9.00")
    await add(api, supplier="w-1", amount="8.00")
    await add(api, supplier="x-1", amount="1.00")
    whole = await ranked(api)
    pages: list[tuple[int, str, str, str | None]] = []
    cursor = None
    while True:
        r = await api.get(BASE, params={"ranked": "true", "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        pages.extend((t["rank"], t["supplier"], t["reason"], t["tie_breaker"]) for t in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == whole
    assert [(rank, supplier, tie) for rank, supplier, _, tie in whole] == [
        (1, "m-2", "lead_time"),
        (2, "m-1", "tier"),
        (3, "a-1", "tier"),
        (4, "w-1", "active"),
        (5, "x-1", None),
    ]
    unranked = (await api.get(BASE)).json()["items"]
    assert [t["supplier"] for t in unranked] == ["a-1", "m-1", "m-2", "w-1", "x-1"]
    assert all("rank" not in t and "reason" not in t and "tie_breaker" not in t for t in unranked)


# Roles


async def test_terms_are_visible_to_purchasing_finance_and_admin_only(as_role: Any, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    async with as_role("purchasing") as purchasing:
        r = await purchasing.post(BASE, json=terms())
        assert r.status_code == 201, r.text
        assert (await purchasing.patch(f"{BASE}/hz-silk", json={"moq": 10})).status_code == 200
    async with as_role("finance") as finance:
        assert (await finance.get(BASE)).status_code == 200
        assert (await finance.get(BASE, params={"ranked": "true"})).status_code == 200
        assert (await finance.get(f"{BASE}/hz-silk")).status_code == 200
        for r in (
            await finance.post(BASE, json=terms()),
            await finance.patch(f"{BASE}/hz-silk", json={"moq": 20}),
            await finance.delete(f"{BASE}/hz-silk"),
        ):
            assert r.status_code == 403
    for role in ("marketing", "listing", "storefront", "warehouse", "service"):
        async with as_role(role) as client:
            for r in (
                await client.get(BASE),
                await client.get(BASE, params={"ranked": "true"}),
                await client.get(f"{BASE}/hz-silk"),
                await client.post(BASE, json=terms()),
                await client.put(f"{BASE}/hz-silk", json=terms(supplier=None)),
                await client.delete(f"{BASE}/hz-silk"),
            ):
                assert r.status_code == 403, (role, r.text)
                body = r.json()
                assert (body["code"], body["status"]) == ("forbidden", 403)
                assert role in body["detail"]
    audit = await conn.fetch("SELECT actor, action FROM audit_log WHERE entity = 'product-supplier' ORDER BY id")
    assert [(a["actor"], a["action"]) for a in audit] == [("test-purchasing", "create"), ("test-purchasing", "update")]
