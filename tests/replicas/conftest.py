"""A real streaming replica of the test server, made once for these tests with the embedded server's own binaries
(`pg_basebackup -R`, api/standby.py), and a cluster per module: a database of its own on the primary with the
small shop committed in it, the same database on the replica, the primary's FairPool and the replicas' router.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from api import db
from api.app import asgi_app
from api.replicas import POSITION, ReadRouter, Replica, parse_token
from api.settings import Settings
from api.standby import EmbeddedReplica
from tests import storefront_catalog
from tests.conftest import ROOT, Server, client_for, clone, drop

MAX_LAG = 0.3  # seconds: a replica further behind is left out
WAIT = 0.3  # seconds a read with a token waits for a replica


@pytest.fixture(scope="package")
def standby(server: Server) -> Iterator[EmbeddedReplica]:
    """One hot standby of the test server, streaming while this package's tests run (stopped after them: it
    would replay every later test's writes, the databases they clone included)."""
    assert server.handle is not None, "the replica tests make their standby from the embedded test server"
    replica = EmbeddedReplica(server.handle, ROOT / ".merchflow" / "test-replica", durable=False)
    replica.stop("immediate")  # one left running by an interrupted run
    shutil.rmtree(replica.pgdata, ignore_errors=True)
    replica.make()
    replica.start()
    try:
        yield replica
    finally:
        replica.stop("immediate")


async def caught_up(server: Server, standby: EmbeddedReplica) -> None:
    """Wait until the standby has replayed everything the primary has flushed now."""
    admin = await asyncpg.connect(server.admin_dsn)
    try:
        head = await admin.fetchval(POSITION)
    finally:
        await admin.close()
    reader = await asyncpg.connect(standby.dsn("postgres"))
    try:
        deadline = time.monotonic() + 30
        while await reader.fetchval(POSITION) < head:
            assert time.monotonic() < deadline, "the standby did not catch up within 30 s"
            await asyncio.sleep(0.01)  # polling another process's progress, not synchronising code
    finally:
        await reader.close()


@dataclass
class Cluster:
    name: str
    server: Server
    standby: EmbeddedReplica
    primary: db.FairPool
    reads: ReadRouter

    @property
    def replica(self) -> Replica:
        return self.reads.replicas[0]

    def app(self, **settings: Any) -> Any:
        return asgi_app(Settings(**settings), pool=self.primary, reads=self.reads)  # type: ignore[arg-type]

    @asynccontextmanager
    async def node(self, **settings: Any) -> AsyncIterator[Any]:
        """Another API node: an app with pools and a router of its own (and its own key cache) on the same
        primary and replica."""
        own = await db.create_pool(self.server.dsn(self.name), Settings(MERCH_DB_POOL_MAX=8))  # type: ignore[call-arg]
        primary = db.FairPool(own, 8)
        reads = await make_router(primary, self.server, self.standby, self.name)
        reads.start()
        try:
            for _ in range(100):
                if reads.replicas[0].usable:
                    break
                await asyncio.wait_for(reads.next_round(), 5)
            yield asgi_app(Settings(**settings), pool=primary, reads=reads)  # type: ignore[arg-type]
        finally:
            await reads.stop()
            for replica in reads.replicas:
                replica.pool.pool.terminate()
            own.terminate()

    async def primary_conn(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.server.dsn(self.name))
        await db.init_connection(conn)
        return conn

    async def replica_conn(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.standby.dsn(self.name))

    async def replayed(self, token: str) -> None:
        """Wait until the replica has replayed up to a consistency token."""
        standby = await self.replica_conn()
        try:
            deadline = time.monotonic() + 10
            while await standby.fetchval(POSITION) < parse_token(token):
                assert time.monotonic() < deadline, "the replica did not replay the write within 10 s"
                await asyncio.sleep(0.005)  # polling another process's replay, not synchronising code
        finally:
            await standby.close()

    @asynccontextmanager
    async def apply_delay(self, delay: str) -> AsyncIterator[None]:
        """The replica applies each commit `delay` after it was made (recovery_min_apply_delay)."""
        standby = await self.replica_conn()
        try:
            await standby.execute(f"ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'")
            await standby.execute("SELECT pg_reload_conf()")
            yield
        finally:
            await standby.execute("ALTER SYSTEM RESET recovery_min_apply_delay")
            await standby.execute("SELECT pg_reload_conf()")
            await standby.close()

    async def settle(self, state: str, rounds: int = 100) -> None:
        """Wait for the monitor to judge the replica `state` (at most `rounds` rounds of 0.1 s)."""
        for _ in range(rounds):
            if self.replica.state == state and (state != "streaming" or self.replica.usable):
                return
            await asyncio.wait_for(self.reads.next_round(), 5)
        raise AssertionError(f"the replica stayed {self.replica.state}, not {state}")


async def make_router(primary: db.FairPool, server: Server, standby: EmbeddedReplica, name: str) -> ReadRouter:
    settings = Settings(MERCH_DB_POOL_MAX=8)  # type: ignore[call-arg]
    own = await db.create_pool(standby.dsn(name), settings, replica=True)
    replica = Replica(name="replica-1", dsn=standby.dsn(name), pool=db.FairPool(own, 8))
    return ReadRouter(primary=primary, replicas=[replica], primary_dsn=server.dsn(name), max_lag=MAX_LAG, wait=WAIT)


@pytest.fixture(scope="module")
async def cluster(server: Server, template: str, standby: EmbeddedReplica) -> AsyncIterator[Cluster]:
    name = f"merch_r_{uuid.uuid4().hex[:12]}"
    await clone(server, template, name)
    conn = await asyncpg.connect(server.dsn(name))
    await db.init_connection(conn)
    try:
        async with conn.transaction():
            await storefront_catalog.shop(conn)
    finally:
        await conn.close()
    await caught_up(server, standby)
    own = await db.create_pool(server.dsn(name), Settings(MERCH_DB_POOL_MAX=8))  # type: ignore[call-arg]
    primary = db.FairPool(own, 8)
    primary.watch(server.dsn(name))
    reads = await make_router(primary, server, standby, name)
    reads.start()
    made = Cluster(name=name, server=server, standby=standby, primary=primary, reads=reads)
    try:
        await made.settle("streaming")
        yield made
    finally:
        await reads.stop()
        for replica in reads.replicas:
            replica.pool.pool.terminate()
        await primary.stop_watching()
        own.terminate()
        await drop(server, name)


client = client_for  # (the suite's client: every problem's request id checked against its header)
