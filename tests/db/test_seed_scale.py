"""The scale catalog obeys the same invariants as hand-made data."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest

from domain.attributes.values import AttributeDef, Validation, validate_values
from domain.errors import Conflict
from domain.seed import scale


async def test_the_scale_seed_builds_a_three_level_tree_and_valid_products(conn: asyncpg.Connection) -> None:
    messages: list[str] = []
    summary = await scale.seed(conn, products=120, progress=messages.append)
    assert summary.startswith("scale catalog: 120 products")
    assert messages[0] == "structure: 2220 categories, 400 attributes"
    depth = await conn.fetch("SELECT nlevel(path) AS d, count(*) AS n FROM categories GROUP BY 1 ORDER BY 1")
    assert [(r["d"], r["n"]) for r in depth] == [(1, 20), (2, 200), (3, 2000)]
    assert await conn.fetchval("SELECT count(*) FROM skus") == 120
    # Every value of every product passes the same checker the API uses, against its effective set.
    rows = await conn.fetch(
        """
        SELECT p.code, p.attributes,
               jsonb_object_agg(a.code, jsonb_build_object('type', a.type, 'validation', a.validation,
                   'options', (SELECT coalesce(jsonb_agg(o.code), '[]') FROM attribute_options o
                                WHERE o.attribute_id = a.id))) AS defs
          FROM products p
          JOIN categories c ON c.id = p.category_id
          JOIN categories anc ON anc.path @> c.path
          JOIN category_attributes ca ON ca.category_id = anc.id
          JOIN attributes a ON a.id = ca.attribute_id
         GROUP BY p.code, p.attributes
        """
    )
    assert len(rows) == 120
    for row in rows:
        defs = {
            code: AttributeDef(
                code=code,
                type=d["type"],
                validation=msgspec.convert(d["validation"], Validation),
                options=frozenset(d["options"]),
            )
            for code, d in row["defs"].items()
        }
        _, errors = validate_values(row["attributes"], defs, "/attributes")
        assert errors == [], (row["code"], errors)
    assert await conn.fetchval("SELECT count(*) FROM skus WHERE barcode IS NULL") == 6
    # Their completeness is computed by the refresh point as each batch is written.
    assert await conn.fetchval("SELECT count(*) FROM product_completeness") == 120
    assert await conn.fetchval("SELECT count(*) FROM jobs") == 0


async def test_the_scale_seed_refuses_to_load_twice(conn: asyncpg.Connection) -> None:
    await scale.seed(conn, products=1, progress=lambda m: None)
    with pytest.raises(Conflict, match="loaded already"):
        await scale.seed(conn, products=1, progress=lambda m: None)
