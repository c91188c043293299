"""The synthetic scale catalog (filled in by the benchmarks work)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg


async def seed(conn: asyncpg.Connection, *, products: int, progress: Callable[[str], None]) -> str:
    raise NotImplementedError("merch seed scale is not built yet")
