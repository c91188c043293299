"""The demo catalog of DOMAIN.md, loaded through the API itself (so it obeys every rule a client does), on
one connection inside one transaction: it loads whole or not at all.

The catalog is data: `api/demo_catalog/<area>.json`, each a list of API calls `{"method", "path", "body"}`,
applied in the order of AREAS. Moments are relative to the time of loading: `{"$days_ago": n}` stands for
the moment n days ago (negative: ahead), `{"$date_days_ago": n}` for that day's date.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from api.db import OneConnectionPool
from api.settings import Settings
from domain.keys import service as keys
from domain.seed import service as seeds

CATALOG_DIR = Path(__file__).resolve().parent / "demo_catalog"
# Two trees, their categories, series, attributes and the attribute sets; products and SKUs; warehouses,
# bins and received stock; suppliers of every tier with their terms; effective-dated prices (their history,
# which starts in the past, written as corrections: the one way to write the past) and a running promotion;
# 90 days of sales facts on two channels; six products moved through their gates to `listed` (the shop's),
# two left behind them (one not yet sourced, one without stock).
AREAS = ("structure", "products", "warehouses", "suppliers", "prices", "sales", "lifecycle")


def calls(area: str) -> list[dict[str, Any]]:
    """The API calls of one area's file."""
    loaded: list[dict[str, Any]] = json.loads((CATALOG_DIR / f"{area}.json").read_text(encoding="utf-8"))
    return loaded


def resolve(value: Any, now: datetime) -> Any:
    """A body with its relative moments made absolute."""
    if isinstance(value, dict):
        if set(value) == {"$days_ago"}:
            return (now - timedelta(days=value["$days_ago"])).isoformat()
        if set(value) == {"$date_days_ago"}:
            return (now.date() - timedelta(days=value["$date_days_ago"])).isoformat()
        return {k: resolve(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, now) for v in value]
    return value


async def is_empty(conn: asyncpg.Connection) -> bool:
    """True when the database holds no catalog yet (no trees, no products)."""
    return await seeds.is_catalog_empty(conn)


async def seed(conn: asyncpg.Connection) -> str:
    """Load the demo catalog through the API, atomically; answers a one-line summary."""
    from api.app import create_app

    now = datetime.now(UTC).replace(microsecond=0)
    created: Counter[str] = Counter()
    async with conn.transaction():
        # A key of its own, revoked once loaded: the audit trail names it as the author.
        key = await keys.create_key(conn, ["admin"], f"seed-demo-{secrets.token_hex(4)}")
        # (no rate limit: the seed's hundreds of calls in a second are not a client's, whatever the settings)
        unlimited = Settings().model_copy(update={"rate_limit": 0, "rate_limit_roles": ""})
        app = create_app(unlimited, pool=OneConnectionPool(conn))
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {key.secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://seed", headers=headers) as client:
            for area in AREAS:
                for call in calls(area):
                    r = await client.request(call["method"], call["path"], json=resolve(call["body"], now))
                    if r.status_code >= 300:
                        raise RuntimeError(
                            f"demo seed: {call['method']} {call['path']} answered {r.status_code}: {r.text}"
                        )
                    if call["path"].endswith("/transitions"):
                        created[f"to {call['body']['to']}"] += 1
                    elif call["method"] == "POST":
                        # a collection by its names: /v1/products/{code}/skus counts as "products/skus"
                        created["/".join(call["path"].split("/")[2::2])] += 1
        await keys.revoke_key(conn, key.info.name)
    days = {fact["day"]["$date_days_ago"] for call in calls("sales") for fact in call["body"]["facts"]}
    promotions = created["promotions"]
    return (
        f"{created['category-trees']} trees, {created['categories']} categories, {created['series']} series, "
        f"{created['attributes']} attributes, {created['products']} products, {created['products/skus']} SKUs, "
        f"{created['warehouses']} warehouses with {created['warehouses/locations']} bins, "
        f"{created['suppliers']} suppliers, "
        f"prices, {promotions} promotion{'' if promotions == 1 else 's'}, {len(days)} days of sales, "
        f"{created['to listed']} products listed"
    )
