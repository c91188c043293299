"""The change feed (events, written in commit order by sql/functions/storefront.sql) and its retention."""

from __future__ import annotations

import asyncpg

from domain.storefront import store
from domain.storefront.model import CursorExpired, Event, EventPage

EVENT_RETENTION_HOURS = 7 * 24

# The change feed ----------------------------------------------------------------------------------------


async def events(conn: asyncpg.Connection, after: int, limit: int) -> EventPage:
    """Events after a cursor, in commit order. `after=-1`: none, and the newest id to follow from."""
    if after < 0:
        return EventPage(items=[], next_after=await store.get_latest_event_id(conn))
    horizon = await store.get_events_horizon(conn)
    if after < horizon:
        raise CursorExpired(after, horizon)
    rows = await store.list_events(conn, after, limit)
    items = [Event(id=r["id"], at=r["at"], type=r["type"], code=r["code"], fields=list(r["fields"])) for r in rows]
    return EventPage(items=items, next_after=items[-1].id if items else after)


async def forget_old_events(conn: asyncpg.Connection) -> int:
    """Housekeeping: events older than the retention (7 days) are removed."""
    return await store.delete_old_events(conn, EVENT_RETENTION_HOURS)
