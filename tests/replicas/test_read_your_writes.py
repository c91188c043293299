"""Read your own writes on a real streaming replica: a write's answer carries X-Consistency-Token (the primary's
flushed WAL position after its commit); a read sending it back is served by a replica that has replayed that
far, or — after waiting at most MERCH_CONSISTENCY_WAIT_MS — by the primary."""

from __future__ import annotations

import asyncio
import time

import httpx

from api.replicas import parse_token
from tests.replicas.conftest import MAX_LAG, WAIT, Cluster, client


async def relabel(http: httpx.AsyncClient, code: str, label: str) -> httpx.Response:
    current = await http.get(f"/v1/products/{code}")
    changed = await http.patch(
        f"/v1/products/{code}", json={"labels": {"en": label}}, headers={"If-Match": current.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    return changed


async def page_label(http: httpx.AsyncClient, code: str, token: str | None) -> str:
    headers = {"X-Consistency-Token": token} if token else {}
    page = await http.get(f"/v1/storefront/products/{code}", params={"locale": "en"}, headers=headers)
    assert page.status_code == 200, page.text
    return str(page.json()["label"])


async def test_every_write_answer_carries_a_token_at_or_past_its_commit(cluster: Cluster) -> None:
    app = cluster.app()
    async with client(app) as http:
        first = await relabel(http, "check", "Check scarf, once")
        second = await relabel(http, "check", "Check scarf, twice")
        # the fast lane's stock movement too
        moved = await http.post(
            "/v1/stock/movements",
            json={
                "type": "receive",
                "sku": "CHECK-1",
                "qty": 1,
                "warehouse": "sh",
                "location": "A-1",
                "unit_cost": {"amount": "10.00", "currency": "CNY"},
            },
        )
        assert moved.status_code == 201, moved.text
        reads = await http.get("/v1/products/check")
    tokens = [parse_token(r.headers["x-consistency-token"]) for r in (first, second, moved)]
    assert tokens[0] < tokens[1] < tokens[2]
    assert "x-consistency-token" not in reads.headers  # reads carry none
    await cluster.replayed(second.headers["x-consistency-token"])
    standby = await cluster.replica_conn()
    try:  # a replica that has replayed up to the token has the write
        label = await standby.fetchval("SELECT labels ->> 'en' FROM products WHERE code = 'check'")
        assert label == "Check scarf, twice"
    finally:
        await standby.close()


async def test_a_malformed_token_is_a_400_naming_the_header(cluster: Cluster) -> None:
    async with client(cluster.app()) as http:
        r = await http.get("/v1/storefront/products/peony", headers={"X-Consistency-Token": "yesterday"})
    assert r.status_code == 400
    body = r.json()
    assert (body["code"], body["title"], body["status"]) == (
        "invalid-consistency-token",
        "Invalid consistency token",
        400,
    )
    assert body["errors"] == [
        {
            "parameter": "X-Consistency-Token",
            "code": "invalid",
            "message": "X-Consistency-Token must be a token a write answered with (a WAL position such as 0/1A2B3C4D).",
        }
    ]


async def test_a_reader_racing_a_writer_always_reads_what_the_writer_wrote(cluster: Cluster) -> None:
    """The replica applies each commit 100 ms late (recovery_min_apply_delay: within the lag bound and the
    wait). The writer relabels a product 20 times, handing each token to the reader as soon as it has it; the
    reader reads the page with each token while the writer goes on. Every read shows that write or a later one
    — without the token, each would show an older one — and the replica serves them."""
    app = cluster.app()
    handed: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
    seen: list[tuple[int, int]] = []

    async def writer(http: httpx.AsyncClient) -> None:
        for i in range(20):
            changed = await relabel(http, "peony", f"Peony v{i}")
            await handed.put((i, changed.headers["x-consistency-token"]))
        await handed.put(None)

    async def reader(http: httpx.AsyncClient) -> None:
        while (item := await handed.get()) is not None:
            i, token = item
            label = await page_label(http, "peony", token)
            seen.append((i, int(label.removeprefix("Peony v"))))

    before, fallbacks = cluster.replica.reads, cluster.reads.fallbacks
    async with cluster.apply_delay("100ms"), client(app) as w, client(app, "storefront") as r:
        await asyncio.gather(writer(w), reader(r))
    assert len(seen) == 20
    assert [(i, read) for i, read in seen if read < i] == []  # never older than its own write
    served = cluster.replica.reads - before
    assert served + (cluster.reads.fallbacks - fallbacks) == 20
    assert served > 0


async def test_a_read_whose_token_no_replica_reaches_in_time_is_served_by_the_primary(cluster: Cluster) -> None:
    app = cluster.app()
    standby = await cluster.replica_conn()
    try:
        await standby.execute("SELECT pg_wal_replay_pause()")
        async with client(app) as http:
            changed = await relabel(http, "peony", "Peony, paused")
            fallbacks = cluster.reads.fallbacks
            started = time.perf_counter()
            label = await page_label(http, "peony", changed.headers["x-consistency-token"])
            waited = time.perf_counter() - started
            assert label == "Peony, paused"
            assert cluster.reads.fallbacks == fallbacks + 1
            assert WAIT <= waited < WAIT + 1.5, waited  # it waited for the replica, a bounded time
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()
    await cluster.settle("streaming")


async def test_a_read_without_a_token_may_be_served_older_data_by_a_replica_within_the_lag_bound(
    cluster: Cluster,
) -> None:
    """What the token is for: with replay held (and the replica still within MERCH_MAX_REPLICA_LAG_MS — the
    bound is raised for this test), a read without it sees the replica's older page; with it, the new one."""
    app = cluster.app()
    standby = await cluster.replica_conn()
    cluster.reads.max_lag = 60.0
    try:
        async with client(app) as http:
            before = await relabel(http, "wave", "Wave, before")
            await cluster.replayed(before.headers["x-consistency-token"])
            await standby.execute("SELECT pg_wal_replay_pause()")
            changed = await relabel(http, "wave", "Wave, after")
            await cluster.reads.next_round()
            assert cluster.replica.usable
            assert await page_label(http, "wave", None) == "Wave, before"
            assert await page_label(http, "wave", changed.headers["x-consistency-token"]) == "Wave, after"
    finally:
        cluster.reads.max_lag = MAX_LAG
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()
    await cluster.settle("streaming")
