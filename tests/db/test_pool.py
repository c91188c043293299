"""The application's pool replaces a connection after MERCH_DB_CONNECTION_QUERIES queries, so that plans a
connection cached while a table was small (a fresh database) do not outlive the table's growth."""

from __future__ import annotations

from typing import Any

from api import db
from api.settings import Settings
from tests.conftest import Server


async def backend_pids(server: Server, session_db: str, **env: Any) -> list[int]:
    pool = await db.create_pool(server.dsn(session_db), Settings(MERCH_DB_POOL_MAX=1, **env))
    try:
        pids = []
        for _ in range(12):
            async with pool.acquire() as conn:
                pids.append(await conn.fetchval("SELECT pg_backend_pid()"))
        return pids
    finally:
        await pool.close()


async def test_a_pooled_connection_is_replaced_after_its_share_of_queries(server: Server, session_db: str) -> None:
    assert len(set(await backend_pids(server, session_db, MERCH_DB_CONNECTION_QUERIES=4))) >= 3
    assert len(set(await backend_pids(server, session_db, MERCH_DB_CONNECTION_QUERIES=1000))) == 1
