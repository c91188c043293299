"""Sales facts over HTTP: JSON and JSONL uploads, upsert by (day, SKU, channel), idempotent retries,
every bad row named at once with nothing applied, the keyset listing and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests import factories as f


async def catalog(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "silk-square", "scarves")
    await f.sku(conn, "SQ-RED", "silk-square", axes={"colour": "red"})
    await f.sku(conn, "SQ-BLUE", "silk-square", axes={"colour": "blue"})


def fact(day: str, sku: str, channel: str, qty: Any, amount: Any, currency: str = "CNY") -> dict[str, Any]:
    return {"day": day, "sku": sku, "channel": channel, "qty": qty, "revenue": {"amount": amount, "currency": currency}}


async def post(api: httpx.AsyncClient, facts: list[dict[str, Any]], key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await api.post("/v1/sales", json={"facts": facts}, headers=headers)


def jsonl(*lines: str) -> dict[str, Any]:
    return {"content": ("\n".join(lines) + "\n").encode(), "headers": {"Content-Type": "application/x-ndjson"}}


def stored(day: str, sku: str, channel: str, qty: int, amount: str) -> dict[str, Any]:
    return {"day": day, "sku": sku, "channel": channel, "qty": qty, "revenue": {"amount": amount, "currency": "CNY"}}


async def listed(api: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    r = await api.get("/v1/sales", params=params)
    assert r.status_code == 200, r.text
    return [{k: v for k, v in item.items() if k != "updated_at"} for item in r.json()["items"]]


def problem(errors: list[dict[str, str]], detail: str) -> dict[str, Any]:
    return {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": detail,
        "code": "validation-failed",
        "instance": "/v1/sales",
        "errors": errors,
    }


async def test_an_upload_inserts_facts_and_a_re_sent_day_replaces_rather_than_doubles(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await post(
        api,
        [fact("2026-01-05", "SQ-RED", "web", 3, "387.00"), fact("2026-01-05", "SQ-RED", "distribution", 10, "900.00")],
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "inserted": 2, "replaced": 0}
    r = await post(
        api, [fact("2026-01-05", "SQ-RED", "web", 4, "516.00"), fact("2026-01-06", "SQ-BLUE", "web", 1, "129.5")]
    )
    assert r.json() == {"accepted": 2, "inserted": 1, "replaced": 1}
    assert await listed(api) == [
        stored("2026-01-05", "SQ-RED", "distribution", 10, "900.00"),
        stored("2026-01-05", "SQ-RED", "web", 4, "516.00"),
        stored("2026-01-06", "SQ-BLUE", "web", 1, "129.50"),
    ]


async def test_the_same_idempotency_key_and_body_replays_the_first_answer_and_another_body_is_422(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    facts = [fact("2026-01-05", "SQ-RED", "web", 3, "387.00")]
    first = await post(api, facts, key="upload-1")
    assert first.json() == {"accepted": 1, "inserted": 1, "replaced": 0}
    again = await post(api, facts, key="upload-1")
    assert again.status_code == 200
    assert again.json() == {"accepted": 1, "inserted": 1, "replaced": 0}
    assert await conn.fetchval("SELECT count(*) FROM sales_facts") == 1
    other = await post(api, [fact("2026-01-05", "SQ-RED", "web", 5, "645.00")], key="upload-1")
    assert other.status_code == 422
    assert other.json() == {
        "type": "/problems/idempotency-key-reused",
        "title": "Unprocessable content",
        "status": 422,
        "detail": "This Idempotency-Key was used with another body; use a new key for a new request.",
        "code": "idempotency-key-reused",
        "instance": "/v1/sales",
    }
    assert await listed(api) == [stored("2026-01-05", "SQ-RED", "web", 3, "387.00")]
    # without the key, the same body is simply upserted again: it replaces, never doubles
    assert (await post(api, facts)).json() == {"accepted": 1, "inserted": 0, "replaced": 1}


async def test_every_bad_row_of_a_json_upload_is_named_in_one_422_and_nothing_is_applied(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    r = await post(
        api,
        [
            fact("2026-01-05", "SQ-RED", "web", 3, "387.00"),
            fact("2026-01-05", "NO-SUCH", "web", 1, "10.00"),
            fact("2026-01-05", "SQ-BLUE", "web", 1, 129.0),
            fact("2026-01-05", "SQ-BLUE", "store", -2, "10.00"),
            fact("2026-01-05", "SQ-BLUE", "app", 1, "10.00", currency="XYZ"),
            fact("2026-01-05", "SQ-BLUE", "mini", 1, "10.001"),
            fact(future, "SQ-BLUE", "web", 1, "10.00"),
            fact("2026-01-05", "SQ-RED", "web", 1, "10.00"),
        ],
    )
    assert r.status_code == 422, r.text
    assert r.json() == problem(
        [
            {
                "pointer": "/facts/2/revenue/amount",
                "code": "wrong_type",
                "message": "Expected `str`, got `float`.",
            },
            {"pointer": "/facts/3/qty", "code": "out_of_range", "message": "Expected `int` >= 0."},
            {
                "pointer": "/facts/4/revenue/currency",
                "code": "unknown_currency",
                "message": "XYZ is not an ISO 4217 currency merchflow knows.",
            },
            {
                "pointer": "/facts/5/revenue/amount",
                "code": "too_many_decimals",
                "message": "CNY takes at most 2 decimal places here.",
            },
            {"pointer": "/facts/6/day", "code": "future_day", "message": f"{future} has not begun yet."},
            {
                "pointer": "/facts/7/day",
                "code": "duplicate",
                "message": "/facts/7 repeats the day, SKU and channel of /facts/0.",
            },
        ],
        "6 fields are invalid.",
    )
    assert await conn.fetchval("SELECT count(*) FROM sales_facts") == 0


async def test_an_unknown_sku_is_named_once_the_rows_are_well_formed_and_nothing_is_applied(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await post(
        api, [fact("2026-01-05", "SQ-RED", "web", 3, "387.00"), fact("2026-01-05", "NO-SUCH", "web", 1, "10.00")]
    )
    assert r.status_code == 422
    assert r.json() == problem(
        [{"pointer": "/facts/1/sku", "code": "unknown_sku", "message": "No SKU is NO-SUCH."}], "No SKU is NO-SUCH."
    )
    assert await conn.fetchval("SELECT count(*) FROM sales_facts") == 0


async def test_a_jsonl_upload_is_upserted_like_json(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await catalog(conn)
    r = await api.post(
        "/v1/sales",
        **jsonl(
            '{"day": "2026-02-01", "sku": "SQ-RED", "channel": "web", "qty": 2, '
            '"revenue": {"amount": "258.00", "currency": "CNY"}}',
            "",
            '{"day": "2026-02-01", "sku": "SQ-BLUE", "channel": "web", "qty": 0, '
            '"revenue": {"amount": "0", "currency": "CNY"}}',
        ),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "inserted": 2, "replaced": 0}
    assert await listed(api, **{"from": "2026-02-01", "to": "2026-02-01"}) == [
        stored("2026-02-01", "SQ-BLUE", "web", 0, "0.00"),
        stored("2026-02-01", "SQ-RED", "web", 2, "258.00"),
    ]


async def test_jsonl_errors_are_named_by_their_0_based_line_and_nothing_is_applied(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await api.post(
        "/v1/sales",
        **jsonl(
            '{"day": "2026-02-01", "sku": "SQ-RED", "channel": "web", "qty": 2, '
            '"revenue": {"amount": "258.00", "currency": "CNY"}}',
            '{"day": "2026-02-01", "sku": "SQ-RED", "channel"',
            "",
            '{"day": "2026-02-01", "sku": "SQ-BLUE", "channel": "web", "qty": -1, '
            '"revenue": {"amount": 1.5, "currency": "CNY"}}',
            '{"day": "2026-02-01", "sku": "SQ-BLUE", "channel": "Web!", "qty": 1, '
            '"revenue": {"amount": "1.00", "currency": "CNY"}, "colour": "red"}',
        ),
    )
    assert r.status_code == 422, r.text
    assert r.json() == problem(
        [
            {"pointer": "/lines/1", "code": "malformed_json", "message": "Line 1 is not valid JSON."},
            {"pointer": "/lines/3/qty", "code": "out_of_range", "message": "Expected `int` >= 0."},
            {"pointer": "/lines/3/revenue/amount", "code": "wrong_type", "message": "Expected `str`, got `float`."},
            {
                "pointer": "/lines/4/channel",
                "code": "invalid_format",
                "message": "Expected `str` matching regex '^[a-z0-9][a-z0-9_-]{0,63}$'.",
            },
            {"pointer": "/lines/4/colour", "code": "unknown_field", "message": "`colour` is not a field here."},
        ],
        "5 fields are invalid.",
    )
    assert await conn.fetchval("SELECT count(*) FROM sales_facts") == 0


async def test_an_upload_without_facts_is_a_422_and_malformed_json_a_400(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await api.post("/v1/sales", json={})
    assert r.status_code == 422
    assert r.json() == problem(
        [{"pointer": "/facts", "code": "required", "message": "`facts` is required."}], "`facts` is required."
    )
    r = await api.post("/v1/sales", json={"facts": []})
    assert r.json() == problem([{"pointer": "/facts", "code": "too_short", "message": "No facts."}], "No facts.")
    r = await api.post("/v1/sales", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {
        "type": "/problems/malformed-json",
        "title": "Malformed JSON",
        "status": 400,
        "detail": "The request body is not valid JSON.",
        "code": "malformed-json",
        "instance": "/v1/sales",
    }


async def test_the_list_filters_by_sku_channel_and_days_and_pages_by_day_sku_and_channel(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await post(
        api,
        [
            fact("2026-01-01", "SQ-RED", "web", 1, "1.00"),
            fact("2026-01-01", "SQ-BLUE", "web", 2, "2.00"),
            fact("2026-01-02", "SQ-RED", "distribution", 3, "3.00"),
            fact("2026-01-03", "SQ-RED", "web", 4, "4.00"),
        ],
    )
    assert await listed(api, sku="SQ-RED", channel="web") == [
        stored("2026-01-01", "SQ-RED", "web", 1, "1.00"),
        stored("2026-01-03", "SQ-RED", "web", 4, "4.00"),
    ]
    assert await listed(api, **{"from": "2026-01-02", "to": "2026-01-02"}) == [
        stored("2026-01-02", "SQ-RED", "distribution", 3, "3.00")
    ]
    seen = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        body = (await api.get("/v1/sales", params=params)).json()
        seen += [(i["day"], i["sku"], i["channel"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [
        ("2026-01-01", "SQ-BLUE", "web"),
        ("2026-01-01", "SQ-RED", "web"),
        ("2026-01-02", "SQ-RED", "distribution"),
        ("2026-01-03", "SQ-RED", "web"),
    ]


async def test_finance_and_marketing_upload_purchasing_only_reads_and_storefront_neither(
    as_role: Any, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    body = {"facts": [fact("2026-01-05", "SQ-RED", "web", 3, "387.00")]}
    for role, post_status, get_status in (
        ("finance", 200, 200),
        ("marketing", 200, 200),
        ("purchasing", 403, 200),
        ("storefront", 403, 403),
        ("warehouse", 403, 403),
    ):
        async with as_role(role) as client:
            assert (await client.post("/v1/sales", json=body)).status_code == post_status, role
            assert (await client.get("/v1/sales")).status_code == get_status, role


# The measures a sales report reads, and the rollup's checkpoints of them: their sums through day 8, 16 and 24.
CHECKPOINTED = (
    "facts",
    "qty",
    "revenue",
    "cost",
    "costed_facts",
    "costed_revenue",
    "distribution_value",
    "distributed_qty",
    "distributed_facts",
    "returned_qty",
)
CHECKPOINTS = [f"{m}_d{d}" for d in (8, 16, 24) for m in CHECKPOINTED]
ROLLUP = (
    "SELECT month, s.sku, channel, currency, facts, qty, revenue, cost, costed_qty, costed_facts, costed_revenue,"
    f" distribution_value, distributed_qty, distributed_facts, returned_qty, {', '.join(CHECKPOINTS)}"
    " FROM sales_monthly m JOIN skus s ON s.id = m.sku_id ORDER BY month, s.sku, channel, currency"
)
# The same rows summed from the facts themselves, net of their returns: what the rollup must equal (the
# checkpoints: the same sums over the days before the 9th, 17th and 25th).
_NET = {
    "facts": ("count(*)", None),
    "qty": ("sum(f.qty)", None),
    "revenue": ("sum(f.revenue)", None),
    "cost": ("sum(f.cost)", None),
    "costed_qty": ("sum(f.qty)", "f.cost IS NOT NULL"),
    "costed_facts": ("count(f.cost)", None),
    "costed_revenue": ("sum(f.revenue)", "f.cost IS NOT NULL"),
    "distribution_value": ("sum(f.distribution_value)", None),
    "distributed_qty": ("sum(f.qty)", "f.distribution_value IS NOT NULL"),
    "distributed_facts": ("count(f.distribution_value)", None),
    "returned_qty": ("sum(f.returned_qty)", None),
}


def _sum(measure: str, before: int | None = None) -> str:
    expression, condition = _NET[measure]
    conditions = [c for c in (condition, None if before is None else f"f.day < f.month + {before}") if c]
    filtered = f"{expression} FILTER (WHERE {' AND '.join(conditions)})" if conditions else expression
    typed = "integer" if "facts" in measure else "bigint" if "qty" in measure else "numeric"
    return f"coalesce({filtered}, 0)::{typed}"


ROLLUP_OF_FACTS = (
    "SELECT f.month, s.sku, f.channel, f.currency, "
    + ", ".join(f"{_sum(m)} AS {m}" for m in _NET)
    + ", "
    + ", ".join(f"{_sum(m, d)} AS {m}_d{d}" for d in (8, 16, 24) for m in CHECKPOINTED)
    + " FROM (SELECT date_trunc('month', f.day::timestamp)::date AS month, f.day, f.sku_id, f.channel, f.currency,"
    " f.qty - f.returned_qty AS qty, f.revenue - f.refunded AS revenue,"
    " merch_net(f.cost, f.qty, f.returned_qty) AS cost,"
    " merch_net(f.distribution_value, f.qty, f.returned_qty) AS distribution_value, f.returned_qty"
    " FROM sales_facts f) f"
    " JOIN skus s ON s.id = f.sku_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
)


async def test_the_monthly_rollup_moves_with_every_upload_and_equals_a_full_recomputation(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    await conn.execute(
        "INSERT INTO prices (sku_id, kind, currency, amount, valid_from, valid_to, actor)"
        " SELECT s.id, p.kind, p.currency, p.amount, p.valid_from::timestamptz, p.valid_to::timestamptz, 'test'"
        " FROM skus s, (VALUES ('cost', 'CNY', 60.0, '2025-01-01T00:00:00Z', '2026-01-06T00:00:00Z'),"
        "                      ('cost', 'CNY', 70.0, '2026-01-06T00:00:00Z', NULL),"
        "                      ('distribution', 'CNY', 80.0, '2025-01-01T00:00:00Z', NULL),"
        "                      ('cost', 'USD', 9.0, '2025-01-01T00:00:00Z', NULL))"
        " AS p(kind, currency, amount, valid_from, valid_to) WHERE s.sku = 'SQ-RED'"
    )
    await post(
        api,
        [
            fact("2026-01-05", "SQ-RED", "web", 3, "387.00"),  # cost 3 × 60
            fact("2026-01-06", "SQ-RED", "web", 2, "258.00"),  # cost 2 × 70
            fact("2026-01-05", "SQ-RED", "distribution", 10, "900.00"),  # cost 600, distribution 800
            fact("2026-01-05", "SQ-BLUE", "web", 1, "129.00"),  # no prices
            fact("2026-02-01", "SQ-RED", "web", 1, "129.00"),
        ],
    )
    jan = {"facts": 2, "qty": 5, "revenue": "645.0000", "cost": "320.0000", "costed_facts": 2}
    rows = [dict(r) for r in await conn.fetch(ROLLUP)]
    assert [
        {k: str(r[k]) if k in ("revenue", "cost") else r[k] for k in jan} for r in rows if r["channel"] == "web"
    ] == [
        {"facts": 1, "qty": 1, "revenue": "129.0000", "cost": "0.0000", "costed_facts": 0},  # SQ-BLUE
        jan,
        {"facts": 1, "qty": 1, "revenue": "129.0000", "cost": "70.0000", "costed_facts": 1},
    ]
    # a re-sent day: one fact replaced in the same currency, one in another currency, one new
    await post(
        api,
        [
            fact("2026-01-05", "SQ-RED", "web", 4, "516.00"),
            fact("2026-01-05", "SQ-RED", "distribution", 2, "30.00", currency="USD"),  # cost 2 × 9, no distribution
            fact("2026-01-07", "SQ-BLUE", "distribution", 5, "500.00"),
        ],
    )
    maintained = [dict(r) for r in await conn.fetch(ROLLUP)]
    # no row is left for the CNY distribution facts that are gone
    assert [(r["channel"], r["currency"]) for r in maintained if r["sku"] == "SQ-RED" and r["month"].month == 1] == [
        ("distribution", "USD"),
        ("web", "CNY"),
    ]
    assert maintained == [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]
    # re-costing the facts at the prices of their days changes nothing when no price changed
    await conn.execute("SELECT merch_recost_sales('2026-01-01', '2026-02-01')")
    assert [dict(r) for r in await conn.fetch(ROLLUP)] == maintained
    # re-sending the very same facts leaves the rollup as it was
    await post(api, [fact("2026-01-05", "SQ-RED", "web", 4, "516.00")])
    assert [dict(r) for r in await conn.fetch(ROLLUP)] == maintained
    # a retroactive change of a cost price: re-costing the month moves the rollup with its facts
    await conn.execute("UPDATE prices SET amount = 65 WHERE kind = 'cost' AND amount = 60")
    await conn.execute("SELECT merch_recost_sales('2026-01-01', '2026-01-01')")
    recosted = [dict(r) for r in await conn.fetch(ROLLUP)]
    assert recosted == [dict(r) for r in await conn.fetch(ROLLUP_OF_FACTS)]
    jan_web = [r for r in recosted if r["sku"] == "SQ-RED" and r["channel"] == "web" and r["month"].month == 1]
    assert [str(r["cost"]) for r in jan_web] == ["400.0000"]  # 4 × 65 on the 5th + 2 × 70 on the 6th


async def test_a_day_before_2000_is_refused_and_nothing_is_written(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await catalog(conn)
    r = await post(
        api,
        [
            fact("2000-01-01", "SQ-RED", "web", 1, "10.00"),
            fact("0001-01-01", "SQ-RED", "web", 1, "10.00"),
            fact("1999-12-31", "SQ-RED", "shop", 1, "10.00"),
        ],
    )
    assert r.status_code == 422, r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/facts/1/day", "too_early"),
        ("/facts/2/day", "too_early"),
    ]
    assert (
        r.json()["errors"][0]["message"] == "0001-01-01 is before 2000-01-01, the first business day merchflow takes."
    )
    assert await conn.fetchval("SELECT count(*) FROM sales_facts") == 0
    accepted = await post(api, [fact("2000-01-01", "SQ-RED", "web", 1, "10.00")])
    assert accepted.status_code == 200, accepted.text
