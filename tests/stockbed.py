"""A small warehouse for the stock tests: two warehouses, bins with pick sequences, two SKUs."""

from __future__ import annotations

import asyncpg

from tests import factories as f


async def build(conn: asyncpg.Connection) -> None:
    await f.tree(conn)
    await f.category(conn, "scarves")
    await f.product(conn, "scarf", "scarves")
    await f.sku(conn, "S-RED", "scarf", "4006381333931", {"colour": "red"})
    await f.sku(conn, "S-NAVY", "scarf", None, {"colour": "navy"})
    for code in ("hz", "sh"):
        wid = await conn.fetchval(
            "INSERT INTO warehouses (code, labels) VALUES ($1, $2) RETURNING id", code, {"en": code}
        )
        for bin_code, seq in (("A-01-01-01", 30), ("A-01-01-02", 10), ("B-02-01-01", 20)):
            await conn.execute(
                "INSERT INTO locations (warehouse_id, code, zone, pick_sequence, active) VALUES ($1, $2, $3, $4, $5)",
                wid,
                bin_code,
                bin_code[0],
                seq,
                True,
            )
    await conn.execute(
        "INSERT INTO locations (warehouse_id, code, zone, pick_sequence, active)"
        " SELECT id, 'Z-99', 'Z', 99, false FROM warehouses WHERE code = 'hz'"
    )


def move(type_: str, qty: int, location: str = "A-01-01-01", sku: str = "S-RED", **extra: object) -> dict[str, object]:
    return {"type": type_, "sku": sku, "qty": qty, "warehouse": "hz", "location": location, **extra}
