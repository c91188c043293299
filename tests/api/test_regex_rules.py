"""Attribute regex rules run on RE2: a pattern that backtracks exponentially in Python's engine — `(a+)+$`
against `"a" * 27 + "!"` held a worker 4.6 s, doubling per character — is checked in linear time, and the
server answers in the meantime."""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from tests import factories as f


async def test_a_pathological_rule_is_checked_in_linear_time(api: Any, conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    r = await api.post(
        "/v1/attributes",
        json={"code": "motif", "type": "text", "labels": {"en": "Motif"}, "validation": {"regex": "(a+)+$"}},
    )
    assert r.status_code == 201, r.text
    await f.bind(conn, "scarves", "motif")
    body = {"code": "sq-1", "category": "scarves", "role": "routine", "labels": {"en": "Square"}}
    started = time.perf_counter()
    refused = await api.post("/v1/products", json={**body, "attributes": {"motif": "a" * 27 + "!"}})
    elapsed = time.perf_counter() - started
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "invalid_format"
    assert elapsed < 1.0  # Python's engine: ~4.6 s here, doubling per character
    accepted = await api.post("/v1/products", json={**body, "attributes": {"motif": "a" * 27}})
    assert accepted.status_code == 201, accepted.text
    health = await api.get("/healthz")
    assert health.status_code == 200
