"""A real replica stopped hard (pg_ctl stop -m immediate: its backends die mid-query) under a steady read
load: no read fails, the reads move to the primary within a second, and the replica, started again, rejoins
without the API being restarted."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from tests.replicas.conftest import Cluster, client

READERS = 4


async def test_a_replica_killed_under_reads_costs_no_read_and_rejoins_when_it_is_back(cluster: Cluster) -> None:
    app = cluster.app()
    replica, router = cluster.replica, cluster.reads
    answers: list[tuple[int, float, str]] = []
    stop = asyncio.Event()
    warmed, moved = asyncio.Event(), asyncio.Event()
    marks: dict[str, float] = {}

    async def reader(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            r = await http.get("/v1/storefront/products/peony", params={"locale": "en"})
            answers.append((r.status_code, time.perf_counter() - started, r.text))
            if replica.reads >= 40:
                warmed.set()
            if "killed" in marks and router.fallbacks > marks["fallbacks"] and not moved.is_set():
                marks["moved"] = time.perf_counter()
                moved.set()

    async with client(app, "storefront") as http:
        tasks = [asyncio.create_task(reader(http)) for _ in range(READERS)]
        try:
            await asyncio.wait_for(warmed.wait(), 30)  # the replica serves the load
            marks["fallbacks"] = router.fallbacks
            marks["killed"] = time.perf_counter()
            await asyncio.to_thread(cluster.standby.stop, "immediate")
            await asyncio.wait_for(moved.wait(), 10)
            served = len(answers)
            await cluster.settle("down")
            await asyncio.to_thread(cluster.standby.start)
            await cluster.settle("streaming", rounds=300)
            back = replica.reads
            while replica.reads < back + 10:  # the replica serves reads again
                await asyncio.wait_for(router.next_round(), 5)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    assert served > 0 and len(answers) > served
    failed = [(status, text) for status, _, text in answers if status != 200]
    assert failed == []  # not one read failed: those cut on the replica ran again elsewhere
    assert {json.loads(text)["label"] for _, _, text in answers} == {"Silk scarf peony"}
    assert max(seconds for _, seconds, _ in answers) < 1.0
    assert marks["moved"] - marks["killed"] < 1.0  # reads moved to the primary within a second
