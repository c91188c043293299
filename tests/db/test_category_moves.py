"""Category structure on PostgreSQL: a long random run of creates, moves and deletes against a model,
and concurrent opposite moves that must never make a cycle (committed, on a database of their own)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import httpx
import pytest

from domain.categories import service as svc
from domain.categories.model import CategoryCreate, CategoryMove
from domain.errors import Conflict
from domain.keys.model import Principal
from tests import factories as f
from tests.conftest import KEYS

ADMIN = Principal(name="test-admin", roles=frozenset({"admin"}))

BROKEN_PATHS = """
SELECT c.code FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
 WHERE c.path <> CASE WHEN p.id IS NULL THEN text2ltree(c.id::text) ELSE p.path || c.id::text END
 ORDER BY c.code
"""
GAPS = """
SELECT tree_id, parent_id, array_agg(position ORDER BY position) AS positions
  FROM categories GROUP BY tree_id, parent_id
HAVING min(position) <> 0 OR max(position) <> count(*) - 1 OR count(DISTINCT position) <> count(*)
"""
SIBLINGS = """
SELECT p.code AS parent, array_agg(c.code ORDER BY c.position) AS codes
  FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
 GROUP BY p.code
"""


async def assert_consistent(conn: asyncpg.Connection | asyncpg.Pool) -> None:
    """Every path is its parent's path followed by its own id, and siblings are numbered 0..n-1."""
    assert await conn.fetch(BROKEN_PATHS) == []
    assert await conn.fetch(GAPS) == []


class Model:
    """The expected shape: each parent's children in order."""

    def __init__(self, levels: int) -> None:
        self.levels = levels
        self.kids: dict[str | None, list[str]] = {None: []}
        self.parent: dict[str, str | None] = {}

    def depth(self, code: str | None) -> int:
        return 0 if code is None else 1 + self.depth(self.parent[code])

    def height(self, code: str) -> int:
        return max((1 + self.height(k) for k in self.kids[code]), default=0)

    def below(self, code: str) -> set[str]:
        return {code}.union(*(self.below(k) for k in self.kids[code]))

    def place(self, code: str, parent: str | None, position: int | None) -> None:
        siblings = self.kids[parent]
        siblings.insert(len(siblings) if position is None else min(position, len(siblings)), code)
        self.parent[code] = parent


async def test_a_long_random_run_of_creates_moves_and_deletes_matches_the_model(
    conn: asyncpg.Connection,
) -> None:
    rng = random.Random(20240611)
    await f.tree(conn, "merch", levels=("major", "middle", "minor", "leaf"))
    model = Model(levels=4)
    made = refused = 0
    for step in range(150):
        codes = list(model.parent)
        op = rng.choice(["create", "create", "move", "move", "delete"]) if codes else "create"
        parent = rng.choice([None, *codes])
        position = rng.choice([None, 0, 1, 2, 5])
        if op == "create":
            code = f"c{step:03d}"
            body = CategoryCreate(code=code, tree="merch", parent=parent, position=position, labels={"en": code})
            if model.depth(parent) + 1 > model.levels:
                with pytest.raises(Conflict) as refusal:
                    await svc.create_category(conn, ADMIN, body)
                assert refusal.value.code == "too-deep"
                refused += 1
            else:
                await svc.create_category(conn, ADMIN, body)
                model.kids[code] = []
                model.place(code, parent, position)
                made += 1
        elif op == "move":
            code = rng.choice(codes)
            move = CategoryMove(parent=parent, position=position)
            if parent is not None and parent in model.below(code):
                expected_code: str | None = "category-cycle"
            elif parent != model.parent[code] and model.depth(parent) + 1 + model.height(code) > model.levels:
                expected_code = "too-deep"
            else:
                expected_code = None
            if expected_code:
                with pytest.raises(Conflict) as refusal:
                    await svc.move_category(conn, ADMIN, code, move, None)
                assert refusal.value.code == expected_code
                refused += 1
            else:
                await svc.move_category(conn, ADMIN, code, move, None)
                old = model.parent[code]
                index = model.kids[old].index(code)
                model.kids[old].remove(code)
                if parent == old and position is None:
                    model.kids[old].insert(index, code)
                else:
                    model.place(code, parent, position)
                made += 1
        else:
            leaves = [c for c in codes if not model.kids[c]]
            code = rng.choice(leaves)
            await svc.delete_category(conn, ADMIN, code, None)
            model.kids[model.parent[code]].remove(code)
            del model.kids[code], model.parent[code]
            made += 1
        stored = {r["parent"]: r["codes"] for r in await conn.fetch(SIBLINGS)}
        assert stored == {p: kids for p, kids in model.kids.items() if kids}, f"step {step}: {op}"
        await assert_consistent(conn)
    assert made > 80
    assert refused > 5


async def test_moving_a_large_subtree_rewrites_every_path_in_one_go(conn: asyncpg.Connection) -> None:
    await f.tree(conn, "merch", levels=("major", "middle", "minor"))
    await f.category(conn, "top")
    await f.category(conn, "other")
    for i in range(30):
        await f.category(conn, f"mid-{i}", parent="top")
        for j in range(10):
            await f.category(conn, f"leaf-{i}-{j}", parent=f"mid-{i}")
    moved = await svc.move_category(conn, ADMIN, "top", CategoryMove(parent=None, position=1), None)
    assert (moved.position, moved.version) == (1, 2)
    await svc.move_category(conn, ADMIN, "mid-7", CategoryMove(parent="other", position=0), None)
    await assert_consistent(conn)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM categories c, categories o WHERE o.code = 'other' AND c.path <@ o.path"
        )
        == 12
    )
    leaf = await svc.get_category(conn, "leaf-7-3")
    assert (leaf.path, leaf.depth, leaf.level) == (["other", "mid-7", "leaf-7-3"], 3, "minor")
    assert [
        c.code
        for c in (await svc.list_categories(conn, tree=None, parent="top", root=False, limit=500, cursor=None)).items
        if c.position == 7
    ] == ["mid-8"]


def admin_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://merchflow.test",
        headers={"Authorization": f"Bearer {KEYS['admin']}"},
    )


async def test_concurrent_opposite_moves_never_make_a_cycle(fresh_app: Any, fresh_pool: asyncpg.Pool) -> None:
    async with fresh_pool.acquire() as conn:
        await f.tree(conn, "merch", levels=("l1", "l2", "l3", "l4", "l5", "l6"))
    async with admin_client(fresh_app) as client:
        for round_ in range(8):
            a, b, a2, b2 = (f"a{round_}", f"b{round_}", f"a{round_}-kid", f"b{round_}-kid")
            for code, parent in [(a, None), (b, None), (a2, a), (b2, b)]:
                r = await client.post("/v1/categories", json={"code": code, "tree": "merch", "parent": parent})
                assert r.status_code == 201, r.text
            # odd rounds: each under the other's child, which is just as much a cycle
            ta, tb = (b, a) if round_ % 2 == 0 else (b2, a2)
            first, second = await asyncio.gather(
                client.post(f"/v1/categories/{a}/move", json={"parent": ta}),
                client.post(f"/v1/categories/{b}/move", json={"parent": tb}),
            )
            statuses = sorted([first.status_code, second.status_code])
            assert statuses == [200, 409], (first.text, second.text)
            loser = first if first.status_code == 409 else second
            assert loser.json()["code"] == "category-cycle"
            winner = (first if first.status_code == 200 else second).json()
            assert winner["depth"] in (2, 3)
            await assert_consistent(fresh_pool)
    # and nothing is its own ancestor
    assert (
        await fresh_pool.fetchval(
            "SELECT count(*) FROM categories c JOIN categories p ON p.id = c.parent_id WHERE p.path <@ c.path"
        )
        == 0
    )


async def test_concurrent_inserts_at_the_front_of_one_parent_keep_positions_dense(
    fresh_app: Any, fresh_pool: asyncpg.Pool
) -> None:
    async with fresh_pool.acquire() as conn:
        await f.tree(conn, "merch")
        await f.category(conn, "shelf")
    async with admin_client(fresh_app) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/v1/categories",
                    json={"code": f"n{i:02d}", "tree": "merch", "parent": "shelf", "position": 0},
                )
                for i in range(12)
            )
        )
    assert [r.status_code for r in answers] == [201] * 12
    await assert_consistent(fresh_pool)
    positions = await fresh_pool.fetchval(
        "SELECT array_agg(position ORDER BY position) FROM categories WHERE parent_id IS NOT NULL"
    )
    assert positions == list(range(12))
