"""Which reads a real streaming replica serves, and a replica further behind than MERCH_MAX_REPLICA_LAG_MS left
out until it catches up (replay paused on it with pg_wal_replay_pause())."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import pytest
from litestar import Litestar, post

from api import db
from api.app import asgi_app
from api.auth import allow
from api.replicas import ON_REPLICA, ReadRouter, Replica, check_replica_routes, replica_routes
from api.settings import Settings
from tests.replicas.conftest import MAX_LAG, Cluster, client

REPLICA_ROUTES = [
    ("GET", "/v1/events"),
    ("GET", "/v1/exports"),
    ("GET", "/v1/reports/abc"),
    ("GET", "/v1/reports/assortment"),
    ("GET", "/v1/reports/inventory-valuation"),
    ("GET", "/v1/reports/margins"),
    ("GET", "/v1/reports/payables"),
    ("GET", "/v1/reports/promotion-roi"),
    ("GET", "/v1/reports/purchasing-scorecard"),
    ("GET", "/v1/reports/receivables"),
    ("GET", "/v1/reports/returns"),
    ("GET", "/v1/service/lookup"),
    ("GET", "/v1/storefront/categories"),
    ("GET", "/v1/storefront/facets"),
    ("GET", "/v1/storefront/products"),
    ("GET", "/v1/storefront/products/{code:str}"),
    ("GET", "/v1/storefront/search"),
]


def test_the_storefront_service_lookup_change_feed_exports_and_reports_read_from_replicas_and_nothing_else(
    cluster: Cluster,
) -> None:
    assert replica_routes(cluster.app().framework) == REPLICA_ROUTES


def test_a_route_that_writes_may_not_read_from_replicas() -> None:
    @post("/v1/things", opt={**allow("listing"), **ON_REPLICA})
    async def make_thing() -> None:
        return None

    with pytest.raises(RuntimeError, match="make_thing writes: it may not read from replicas"):
        check_replica_routes(Litestar(route_handlers=[make_thing]))


async def label_on(conn: Any, code: str) -> str:
    return str(await conn.fetchval("SELECT labels ->> 'en' FROM products WHERE code = $1", code))


async def test_replica_routes_are_served_by_the_replica_and_the_rest_by_the_primary(cluster: Cluster) -> None:
    app = cluster.app()
    replica = cluster.replica
    async with client(app) as http:
        before, fallbacks = replica.reads, cluster.reads.fallbacks
        page = await http.get("/v1/storefront/products/peony", params={"locale": "en"})
        assert page.status_code == 200 and page.json()["label"] == "Silk scarf peony"
        lane = await http.get("/v1/storefront/products/check")  # the fast lane's page
        assert lane.status_code == 200 and lane.json()["code"] == "check"
        shelves = await http.get("/v1/storefront/categories", params={"tree": "merch", "locale": "en"})
        assert shelves.status_code == 200 and shelves.json()["categories"][0]["code"] == "accessories"
        events = await http.get("/v1/events", params={"after": -1})
        assert events.status_code == 200 and events.json()["items"] == []
        report = await http.get("/v1/reports/margins", params={"by": "product"})
        assert report.status_code == 200
        assert [r["group"] for r in report.json()["items"]] == ["check", "lotus", "peony", "wave"]
        lookup = await http.get("/v1/service/lookup", params={"q": "PEONY-1"})
        assert lookup.status_code == 200 and lookup.json()["items"][0]["code"] == "peony"
        assert replica.reads - before == 6 and cluster.reads.fallbacks == fallbacks
        product = await http.get("/v1/products/peony")  # the back office reads the primary
        assert product.status_code == 200 and product.json()["code"] == "peony"
        trees = await http.get("/v1/category-trees")
        assert trees.status_code == 200
        assert replica.reads - before == 6


async def test_a_lagging_replica_is_left_out_without_an_error_and_comes_back_by_itself(cluster: Cluster) -> None:
    app = cluster.app()
    replica = cluster.replica
    standby = await cluster.replica_conn()
    try:
        await standby.execute("SELECT pg_wal_replay_pause()")
        async with client(app) as http:
            product = await http.get("/v1/products/wave")
            changed = await http.patch(
                "/v1/products/wave",
                json={"labels": {"en": "Wave scarf, lagging"}},
                headers={"If-Match": product.headers["etag"]},
            )
            assert changed.status_code == 200, changed.text
            await cluster.settle("lagging")
            assert await label_on(standby, "wave") == "Silk scarf wave"  # the replica has not replayed it
            fallbacks, reads = cluster.reads.fallbacks, replica.reads
            page = await http.get("/v1/storefront/products/wave", params={"locale": "en"})
            assert page.status_code == 200 and page.json()["label"] == "Wave scarf, lagging"  # the primary's
            assert cluster.reads.fallbacks == fallbacks + 1 and replica.reads == reads
            ready = (await http.get("/readyz")).json()
            assert ready["status"] == "ok"  # a replica left out does not make the API unready
            [state] = ready["replicas"]
            assert state["name"] == "replica-1" and state["state"] == "lagging"
            assert state["lag_ms"] > MAX_LAG * 1000
            metrics = (await http.get("/metrics")).text
            assert 'merchflow_replica_up{replica="replica-1",state="lagging"} 0' in metrics
            lag = re.search(r'merchflow_replica_lag_seconds\{replica="replica-1"\} ([0-9.]+)', metrics)
            assert lag is not None and float(lag[1]) > MAX_LAG

            await standby.execute("SELECT pg_wal_replay_resume()")
            await cluster.settle("streaming")
            reads = replica.reads
            page = await http.get("/v1/storefront/products/wave", params={"locale": "en"})
            assert page.json()["label"] == "Wave scarf, lagging" and replica.reads == reads + 1
            ready = (await http.get("/readyz")).json()
            assert ready["replicas"][0]["state"] == "streaming" and ready["replicas"][0]["lag_ms"] <= MAX_LAG * 1000
            metrics = (await http.get("/metrics")).text
            assert 'merchflow_replica_up{replica="replica-1",state="streaming"} 1' in metrics
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()


async def test_a_replica_that_never_answers_is_left_out_from_the_start(cluster: Cluster) -> None:
    """A URL of MERCH_READ_DATABASE_URLS with no server behind it (not started yet, a typo): the API starts,
    its reads go to the replicas that answer, and /readyz says which one is down."""
    nowhere = "postgresql://postgres:@/merchflow?host=/nonexistent-merchflow-replica"
    settings = Settings(MERCH_DB_POOL_MAX=4)  # type: ignore[call-arg]
    absent = Replica(
        name="replica-2", dsn=nowhere, pool=db.FairPool(await db.create_pool(nowhere, settings, replica=True), 4)
    )
    reads = ReadRouter(
        primary=cluster.primary,
        replicas=[cluster.replica, absent],
        primary_dsn=cluster.server.dsn(cluster.name),
        max_lag=MAX_LAG,
    )
    app = asgi_app(Settings(), pool=cluster.primary, reads=reads)  # type: ignore[arg-type]
    absent.pool.watch(nowhere)
    reads._monitor = asyncio.get_running_loop().create_task(reads._monitoring(cluster.server.dsn(cluster.name)))
    try:
        while absent.state != "down":
            await asyncio.wait_for(reads.next_round(), 5)
        before, fallbacks = cluster.replica.reads, reads.fallbacks
        async with client(app) as http:
            pages = [await http.get("/v1/storefront/products/peony") for _ in range(6)]
            ready = (await http.get("/readyz")).json()
        assert [p.status_code for p in pages] == [200] * 6
        assert cluster.replica.reads == before + 6 and reads.fallbacks == fallbacks  # all on the replica that answers
        assert [(r["name"], r["state"]) for r in ready["replicas"]] == [
            ("replica-1", "streaming"),
            ("replica-2", "down"),
        ]
        assert ready["status"] == "ok" and ready["replicas"][1]["lag_ms"] is None
    finally:
        monitor = reads._monitor
        monitor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await monitor
        await absent.pool.stop_watching()
        absent.pool.pool.terminate()
