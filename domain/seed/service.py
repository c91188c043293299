"""Seeding a database: whether it holds a catalog yet (the demo catalog loads only into an empty one)."""

from __future__ import annotations

import asyncpg

from domain.seed import store


async def is_catalog_empty(conn: asyncpg.Connection) -> bool:
    """True when the database holds no catalog yet (no category trees, no products)."""
    return await store.is_catalog_empty(conn)
