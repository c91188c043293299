"""Two API nodes — two apps, each with its own pools, replica router and key cache — against one primary and
one real replica: nothing an API process keeps for itself breaks when another serves the same database."""

from __future__ import annotations

import asyncio

from domain.jobs import service as jobs
from domain.jobs import store as job_store
from domain.keys import service as keys
from tests.conftest import KEYS
from tests.replicas.conftest import Cluster, client


async def test_an_etag_from_one_node_and_the_replica_is_valid_on_the_other(cluster: Cluster) -> None:
    a = cluster.app()
    async with cluster.node() as b, client(a) as on_a, client(b) as on_b:
        page = await on_a.get("/v1/storefront/products/peony")  # a replica's page, by node a's fast lane
        assert page.status_code == 200
        again = await on_b.get("/v1/storefront/products/peony", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == page.headers["etag"]
        product = await on_a.get("/v1/products/lotus")
        changed = await on_b.patch(
            "/v1/products/lotus", json={"labels": {"en": "Lotus, by b"}}, headers={"If-Match": product.headers["etag"]}
        )
        assert changed.status_code == 200 and changed.json()["labels"]["en"] == "Lotus, by b"
        stale = await on_a.patch(
            "/v1/products/lotus", json={"labels": {"en": "Lotus, by a"}}, headers={"If-Match": product.headers["etag"]}
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version-mismatch"
        # node a reads node b's write back through the token, on the replica or the primary
        token = changed.headers["x-consistency-token"]
        shown = await on_a.get("/v1/storefront/products/check", headers={"X-Consistency-Token": token})
        assert shown.status_code == 200
        listed = await on_b.get("/v1/storefront/products/check")
        assert listed.headers["etag"] == shown.headers["etag"]


async def test_one_idempotency_key_sent_to_both_nodes_at_once_moves_stock_once(cluster: Cluster) -> None:
    a = cluster.app()
    body = {
        "type": "receive",
        "sku": "PEONY-1",
        "qty": 4,
        "warehouse": "hz",
        "location": "A-1",
        "unit_cost": {"amount": "80.00", "currency": "CNY"},
        "reference": "two-nodes",
    }
    key = {"Idempotency-Key": "two-nodes-1"}
    async with cluster.node() as b, client(a, "warehouse") as on_a, client(b, "warehouse") as on_b:
        first, second = await asyncio.gather(
            on_a.post("/v1/stock/movements", json=body, headers=key),
            on_b.post("/v1/stock/movements", json=body, headers=key),
        )
    assert first.status_code == second.status_code == 201
    replayed = [r.headers.get("idempotency-replayed") for r in (first, second)]
    assert sorted(replayed, key=str) == [None, "true"]  # one applied, the other replayed its answer
    assert first.json()["movements"] == second.json()["movements"]
    conn = await cluster.primary_conn()
    try:
        moved = await conn.fetchval("SELECT count(*) FROM stock_movements WHERE reference = 'two-nodes'")
        on_hand = await conn.fetchval(
            "SELECT on_hand FROM stock_levels l JOIN skus s ON s.id = l.sku_id WHERE s.sku = 'PEONY-1'"
        )
    finally:
        await conn.close()
    assert moved == 1 and on_hand == 5 + 4


async def test_a_key_revoked_through_one_node_is_refused_by_the_other_even_while_the_replica_lags(
    cluster: Cluster,
) -> None:
    """Keys are read on the primary (and cached per node for MERCH_KEY_CACHE_SECONDS; 0 here): a revocation is
    seen by every node at once, whatever the replicas have replayed."""
    conn = await cluster.primary_conn()
    standby = await cluster.replica_conn()
    try:
        made = await keys.create_key(conn, ["storefront"], "two-nodes-shop")
        headers = {"Authorization": f"Bearer {made.secret}"}
        async with cluster.node(MERCH_KEY_CACHE_SECONDS=0) as b:
            async with client(b) as on_b:
                assert (await on_b.get("/v1/storefront/products/peony", headers=headers)).status_code == 200
                await standby.execute("SELECT pg_wal_replay_pause()")
                await keys.revoke_key(conn, "two-nodes-shop")
                refused = await on_b.get("/v1/storefront/products/peony", headers=headers)
                assert refused.status_code == 401
                assert refused.json()["detail"] == "The API key is unknown or revoked."
                admin = await on_b.get(
                    "/v1/storefront/products/peony", headers={"Authorization": f"Bearer {KEYS['admin']}"}
                )
                assert admin.status_code == 200
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()
        await conn.close()
    await cluster.settle("streaming")


async def test_two_nodes_claiming_jobs_at_once_run_each_job_once(cluster: Cluster) -> None:
    conn = await cluster.primary_conn()
    try:
        stages = [["purchasing"], ["warehousing"], ["listing"], ["marketing"], ["service"], ["finance"]]
        ids = [await job_store.insert_job(conn, "recompute-completeness", "two nodes", None, "test", s) for s in stages]
        a = cluster.app()
        async with cluster.node() as b:
            ran = await asyncio.gather(
                jobs.run_pending(a.framework.state.pool, workers=1),
                jobs.run_pending(b.framework.state.pool, workers=1),
            )
        states = await conn.fetch("SELECT state FROM jobs WHERE id = ANY($1::bigint[])", ids)
    finally:
        await conn.close()
    assert sum(ran) == len(stages)  # every job ran, none twice
    assert [r["state"] for r in states] == ["done"] * len(stages)
