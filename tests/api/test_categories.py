"""Categories over HTTP: dense positions, moves of whole subtrees, depth by the tree's levels, cycles,
deletion refused while referenced, the nested tree with product counts, ETags and the audit trail."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests import factories as f

VOLATILE = ("created_at", "updated_at")


def stable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in VOLATILE}


async def create(api: httpx.AsyncClient, code: str, tree: str = "merch", **fields: Any) -> httpx.Response:
    return await api.post("/v1/categories", json={"code": code, "tree": tree, "labels": {"en": code}, **fields})


async def children(api: httpx.AsyncClient, parent: str | None, tree: str = "merch") -> list[str]:
    """Codes of a parent's children (roots when None) in position order, checking positions are 0..n-1."""
    params = {"tree": tree, "limit": 500, **({"parent": parent} if parent else {"root": "true"})}
    items = (await api.get("/v1/categories", params=params)).json()["items"]
    ordered = sorted(items, key=lambda c: c["position"])
    assert [c["position"] for c in ordered] == list(range(len(ordered)))
    return [c["code"] for c in ordered]


async def audit_of(api: httpx.AsyncClient, code: str) -> list[dict[str, Any]]:
    return (await api.get("/v1/audit", params={"entity": "category", "code": code})).json()["items"]


async def shelf(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    """merch: accessories › scarves › (silk-squares, silk-longs); home › lavender."""
    await f.tree(conn, "merch")
    for code, parent in [
        ("accessories", None),
        ("scarves", "accessories"),
        ("silk-squares", "scarves"),
        ("silk-longs", "scarves"),
        ("home", None),
        ("lavender", "home"),
    ]:
        assert (await create(api, code, parent=parent)).status_code == 201


async def test_creating_a_root_answers_201_with_location_etag_and_the_whole_category(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await f.tree(conn, "merch")
    r = await api.post(
        "/v1/categories",
        json={"code": "accessories", "tree": "merch", "labels": {"zh-CN": "服饰配件", "en": "Accessories"}},
    )
    assert r.status_code == 201
    assert r.headers["location"] == "/v1/categories/accessories"
    assert r.headers["etag"] == '"1"'
    assert stable(r.json()) == {
        "code": "accessories",
        "tree": "merch",
        "parent": None,
        "position": 0,
        "labels": {"zh-CN": "服饰配件", "en": "Accessories"},
        "level": "major",
        "depth": 1,
        "path": ["accessories"],
        "version": 1,
    }
    assert (await api.get("/v1/categories/accessories")).json() == r.json()


async def test_a_child_knows_its_level_depth_and_path_from_the_root(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    body = (await api.get("/v1/categories/silk-longs")).json()
    assert stable(body) == {
        "code": "silk-longs",
        "tree": "merch",
        "parent": "scarves",
        "position": 1,
        "labels": {"en": "silk-longs"},
        "level": "minor",
        "depth": 3,
        "path": ["accessories", "scarves", "silk-longs"],
        "version": 1,
    }


async def test_inserting_at_the_start_the_middle_and_past_the_end_keeps_positions_dense(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await f.tree(conn, "merch")
    await create(api, "b")
    await create(api, "a", position=0)
    await create(api, "ab", position=1)
    r = await create(api, "z", position=99)
    assert r.json()["position"] == 3
    await create(api, "end")
    assert await children(api, None) == ["a", "ab", "b", "z", "end"]


async def test_a_sibling_shifted_by_an_insert_keeps_its_version(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await f.tree(conn, "merch")
    await create(api, "b")
    await create(api, "a", position=0)
    shifted = (await api.get("/v1/categories/b")).json()
    assert (shifted["position"], shifted["version"]) == (1, 1)
    assert [e["action"] for e in await audit_of(api, "b")] == ["create"]


async def test_deleting_closes_the_gap_among_siblings(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await f.tree(conn, "merch")
    for code in ("a", "b", "c", "d"):
        await create(api, code)
    assert (await api.delete("/v1/categories/b")).status_code == 204
    assert await children(api, None) == ["a", "c", "d"]
    assert (await api.get("/v1/categories/b")).status_code == 404


async def test_reordering_by_move_keeps_positions_dense_both_ways(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await f.tree(conn, "merch")
    for code in ("a", "b", "c", "d"):
        await create(api, code)
    r = await api.post("/v1/categories/a/move", json={"parent": None, "position": 2})
    assert r.status_code == 200
    assert (r.json()["position"], r.json()["version"]) == (2, 2)
    assert await children(api, None) == ["b", "c", "a", "d"]
    await api.post("/v1/categories/d/move", json={"parent": None, "position": 0})
    assert await children(api, None) == ["d", "b", "c", "a"]
    await api.post("/v1/categories/b/move", json={"parent": None, "position": 1000})
    assert await children(api, None) == ["d", "c", "a", "b"]


async def test_moving_a_subtree_rewrites_every_descendants_path_and_depth(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await f.tree(conn, "merch", levels=("major", "middle", "minor", "leaf", "twig"))
    for code, parent in [
        ("a", None),
        ("b", "a"),
        ("c", "b"),
        ("d", "b"),
        ("e", "c"),
        ("x", None),
        ("y", "x"),
    ]:
        assert (await create(api, code, parent=parent)).status_code == 201
    r = await api.post("/v1/categories/b/move", json={"parent": "y", "position": 0})
    assert r.status_code == 200
    assert stable(r.json()) == {
        "code": "b",
        "tree": "merch",
        "parent": "y",
        "position": 0,
        "labels": {"en": "b"},
        "level": "minor",
        "depth": 3,
        "path": ["x", "y", "b"],
        "version": 2,
    }
    moved: dict[str, tuple[list[str], int, str, int]] = {}
    for code in ("a", "c", "d", "e"):
        body = (await api.get(f"/v1/categories/{code}")).json()
        moved[code] = (body["path"], body["depth"], body["level"], body["version"])
    assert moved == {
        "a": (["a"], 1, "major", 1),
        "c": (["x", "y", "b", "c"], 4, "leaf", 1),
        "d": (["x", "y", "b", "d"], 4, "leaf", 1),
        "e": (["x", "y", "b", "c", "e"], 5, "twig", 1),
    }
    # every stored path is its parent's path followed by its own id
    broken = await conn.fetch(
        """
        SELECT c.code FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
         WHERE c.path <> CASE WHEN p.id IS NULL THEN text2ltree(c.id::text) ELSE p.path || c.id::text END
        """
    )
    assert broken == []
    assert await children(api, "a") == []
    assert await children(api, "y") == ["b"]


async def test_a_move_that_would_push_a_descendant_past_the_last_level_is_409_too_deep(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    r = await api.post("/v1/categories/scarves/move", json={"parent": "lavender"})
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/too-deep",
        "title": "Conflict",
        "status": 409,
        "detail": "Category tree 'merch' has 3 levels (major, middle, minor); 'scarves' would reach level 4.",
        "code": "too-deep",
        "instance": "/v1/categories/scarves/move",
        "context": {"depth": 4, "max_depth": 3},
    }
    assert (await api.get("/v1/categories/silk-squares")).json()["path"] == [
        "accessories",
        "scarves",
        "silk-squares",
    ]


async def test_creating_below_the_last_level_is_409_too_deep_and_writes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    r = await create(api, "tiny", parent="silk-squares")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/too-deep",
        "title": "Conflict",
        "status": 409,
        "detail": "Category tree 'merch' has 3 levels (major, middle, minor); 'tiny' would reach level 4.",
        "code": "too-deep",
        "instance": "/v1/categories",
        "context": {"depth": 4, "max_depth": 3},
    }
    assert (await api.get("/v1/categories/tiny")).status_code == 404
    assert await audit_of(api, "tiny") == []


async def test_moving_under_itself_or_a_descendant_is_409_category_cycle(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    for target in ("accessories", "silk-squares"):
        r = await api.post("/v1/categories/accessories/move", json={"parent": target})
        assert r.status_code == 409
        assert r.json() == {
            "type": "/problems/category-cycle",
            "title": "Conflict",
            "status": 409,
            "detail": f"Category 'accessories' cannot move under {target!r}: that is itself or one of its descendants.",
            "code": "category-cycle",
            "instance": "/v1/categories/accessories/move",
            "context": {"parent": target},
        }
    r = await api.patch("/v1/categories/scarves", json={"parent": "silk-longs"})
    assert r.status_code == 409
    assert r.json()["code"] == "category-cycle"
    assert (await api.get("/v1/categories/accessories")).json()["version"] == 1


async def test_a_parent_in_another_tree_is_refused_on_create_and_on_move(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    await f.tree(conn, "web")
    assert (await create(api, "shop", tree="web")).status_code == 201
    r = await create(api, "stray", tree="web", parent="scarves")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/parent-in-another-tree",
        "title": "Conflict",
        "status": 409,
        "detail": "Category 'scarves' is in another tree than 'web'; a parent must be in the same tree.",
        "code": "parent-in-another-tree",
        "instance": "/v1/categories",
        "context": {"parent": "scarves", "tree": "web"},
    }
    moved = await api.post("/v1/categories/lavender/move", json={"parent": "shop"})
    assert moved.status_code == 409
    assert moved.json()["context"] == {"parent": "shop", "tree": "merch"}
    assert (await api.get("/v1/categories/lavender")).json()["path"] == ["home", "lavender"]


async def test_an_unknown_tree_and_parent_in_a_body_are_named_together_in_a_422(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await create(api, "orphan", tree="nowhere", parent="nobody")
    assert r.status_code == 422
    assert r.json() == {
        "type": "/problems/validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "2 fields are invalid.",
        "code": "validation-failed",
        "instance": "/v1/categories",
        "errors": [
            {"pointer": "/tree", "code": "not_found", "message": "No category tree has the code 'nowhere'."},
            {"pointer": "/parent", "code": "not_found", "message": "No category has the code 'nobody'."},
        ],
    }


async def test_a_move_to_an_unknown_parent_is_a_422_with_the_pointer(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    r = await api.post("/v1/categories/lavender/move", json={"parent": "nobody"})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"pointer": "/parent", "code": "not_found", "message": "No category has the code 'nobody'."}
    ]


async def test_every_invalid_field_is_listed_at_once(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await f.tree(conn, "merch")
    r = await api.post(
        "/v1/categories",
        json={
            "code": "Bad Code",
            "tree": "merch",
            "parent": 7,
            "position": -1,
            "labels": {"en": ""},
            "colour": "red",
        },
    )
    assert r.status_code == 422
    assert {(e["pointer"], e["code"]) for e in r.json()["errors"]} == {
        ("/colour", "unknown_field"),
        ("/code", "invalid_format"),
        ("/parent", "wrong_type"),
        ("/position", "out_of_range"),
        ("/labels/en", "too_short"),
    }
    missing = await api.post("/v1/categories/x/move", json={})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"pointer": "/parent", "code": "required", "message": "`parent` is required."}]
    assert (await api.get("/v1/categories")).json()["items"] == []


async def test_a_taken_code_is_a_409_even_in_another_tree(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await f.tree(conn, "merch")
    await f.tree(conn, "web")
    await create(api, "scarves")
    r = await create(api, "scarves", tree="web")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/category-exists",
        "title": "Conflict",
        "status": 409,
        "detail": "A category with the code 'scarves' exists already.",
        "code": "category-exists",
        "instance": "/v1/categories",
    }
    assert await children(api, None, tree="web") == []


async def test_the_list_filters_by_tree_parent_and_roots(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await shelf(api, conn)
    await f.tree(conn, "web")
    await create(api, "shop", tree="web")

    async def codes(**params: str) -> list[str]:
        r = await api.get("/v1/categories", params=params)
        assert r.status_code == 200, r.text
        return [c["code"] for c in r.json()["items"]]

    assert await codes() == [
        "accessories",
        "home",
        "lavender",
        "scarves",
        "silk-longs",
        "silk-squares",
        "shop",
    ]
    assert await codes(tree="web") == ["shop"]
    assert await codes(parent="scarves") == ["silk-longs", "silk-squares"]
    assert await codes(root="true") == ["accessories", "home", "shop"]
    assert await codes(root="true", tree="merch") == ["accessories", "home"]


async def test_an_unknown_tree_or_parent_filter_is_a_404_naming_it(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    r = await api.get("/v1/categories", params={"tree": "nowhere"})
    assert r.status_code == 404
    assert r.json() == {
        "type": "/problems/category-tree-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No category tree has the code 'nowhere'.",
        "code": "category-tree-not-found",
        "instance": "/v1/categories",
    }
    r = await api.get("/v1/categories", params={"parent": "nobody"})
    assert r.status_code == 404
    assert r.json()["detail"] == "No category has the code 'nobody'."
    assert r.json()["code"] == "category-not-found"
    both = await api.get("/v1/categories", params={"parent": "nobody", "root": "true"})
    assert both.status_code == 400
    assert both.json()["errors"] == [
        {
            "parameter": "root",
            "code": "conflicting",
            "message": "`root=true` lists roots only; it cannot go with `parent`.",
        }
    ]


async def test_pagination_returns_each_category_exactly_once(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await f.tree(conn, "a-tree")
    await f.tree(conn, "b-tree")
    expected: list[str] = []
    for tree in ("a-tree", "b-tree"):
        for i in range(11):
            code = f"{tree[0]}{i:02d}"
            expected.append(code)
            parent = None if i < 3 else f"{tree[0]}{i % 3:02d}"
            assert (await create(api, code, tree=tree, parent=parent, position=0)).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = (await api.get("/v1/categories", params={"limit": 4, **({"cursor": cursor} if cursor else {})})).json()
        seen += [c["code"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 6
    forged = await api.get("/v1/categories", params={"cursor": "bm9wZQ"})
    assert forged.status_code == 400
    assert forged.json()["errors"][0]["code"] == "invalid_cursor"


async def test_get_with_a_matching_if_none_match_is_304(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    await shelf(api, conn)
    r = await api.get("/v1/categories/scarves", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == '"1"'
    assert (await api.get("/v1/categories/scarves", headers={"If-None-Match": '"2"'})).status_code == 200


async def test_a_stale_if_match_is_412_on_patch_move_and_delete_and_changes_nothing(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    ok = await api.patch("/v1/categories/lavender", json={"labels": {"zh-CN": "薰衣草"}}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    for method, url, body in [
        ("PATCH", "/v1/categories/lavender", {"labels": {"en": "Other"}}),
        ("POST", "/v1/categories/lavender/move", {"parent": None}),
        ("DELETE", "/v1/categories/lavender", None),
        ("PUT", "/v1/categories/lavender", {"tree": "merch", "parent": "home"}),
    ]:
        stale = await api.request(method, url, json=body, headers={"If-Match": '"1"'})
        assert stale.status_code == 412, (method, stale.text)
        assert stale.json() == {
            "type": "/problems/version-mismatch",
            "title": "Precondition failed",
            "status": 412,
            "detail": "Category 'lavender' is at version 2, not 1: it changed since you read it.",
            "code": "version-mismatch",
            "instance": url,
            "context": {"current_version": 2},
        }
    after = (await api.get("/v1/categories/lavender")).json()
    assert (after["labels"], after["parent"], after["version"]) == (
        {"en": "lavender", "zh-CN": "薰衣草"},
        "home",
        2,
    )


async def test_merge_patch_changes_labels_and_a_parent_null_makes_a_root_at_the_end(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    r = await api.patch("/v1/categories/scarves", json={"labels": {"en": None, "zh-CN": "丝巾"}})
    assert r.status_code == 200
    assert (r.json()["labels"], r.json()["version"]) == ({"zh-CN": "丝巾"}, 2)
    moved = await api.patch("/v1/categories/scarves", json={"parent": None})
    assert moved.status_code == 200
    assert stable(moved.json()) == {
        "code": "scarves",
        "tree": "merch",
        "parent": None,
        "position": 2,
        "labels": {"zh-CN": "丝巾"},
        "level": "major",
        "depth": 1,
        "path": ["scarves"],
        "version": 3,
    }
    assert (await api.get("/v1/categories/silk-squares")).json()["path"] == ["scarves", "silk-squares"]
    assert await children(api, None) == ["accessories", "home", "scarves"]


async def test_patch_with_a_position_reorders_and_with_another_tree_is_409(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    r = await api.patch("/v1/categories/silk-longs", json={"position": 0})
    assert (r.status_code, r.json()["position"]) == (200, 0)
    assert await children(api, "scarves") == ["silk-longs", "silk-squares"]
    await f.tree(conn, "web")
    other = await api.patch("/v1/categories/silk-longs", json={"tree": "web"})
    assert other.status_code == 409
    assert other.json() == {
        "type": "/problems/category-tree-change",
        "title": "Conflict",
        "status": 409,
        "detail": "Category 'silk-longs' is in tree 'merch'; a category cannot change trees.",
        "code": "category-tree-change",
        "instance": "/v1/categories/silk-longs",
        "context": {"tree": "merch"},
    }
    same = await api.patch("/v1/categories/silk-longs", json={"tree": "merch", "position": 0})
    assert (same.status_code, same.json()["version"]) == (200, 2)


async def test_put_creates_then_a_no_op_put_keeps_the_version_and_a_new_parent_moves(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    body = {"tree": "merch", "parent": "home", "labels": {"en": "Candles"}}
    first = await api.put("/v1/categories/candles", json=body)
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/categories/candles"
    assert (first.json()["position"], first.json()["path"]) == (1, ["home", "candles"])
    again = await api.put("/v1/categories/candles", json=body)
    assert (again.status_code, again.json()["version"], again.json()["position"]) == (200, 1, 1)
    moved = await api.put("/v1/categories/candles", json={**body, "parent": "accessories", "position": 0})
    assert moved.status_code == 200
    assert (moved.json()["path"], moved.json()["position"], moved.json()["version"]) == (
        ["accessories", "candles"],
        0,
        2,
    )
    assert await children(api, "accessories") == ["candles", "scarves"]
    assert await children(api, "home") == ["lavender"]
    assert [e["action"] for e in await audit_of(api, "candles")] == ["move", "create"]
    bad = await api.put("/v1/categories/NOT%20A%20CODE", json=body)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/code"


async def test_a_move_to_the_same_place_is_a_no_op_that_keeps_the_version(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    r = await api.post("/v1/categories/silk-squares/move", json={"parent": "scarves", "position": 0})
    assert (r.status_code, r.json()["version"]) == (200, 1)
    r = await api.post("/v1/categories/silk-squares/move", json={"parent": "scarves"})
    assert (r.status_code, r.json()["version"], r.json()["position"]) == (200, 1, 0)
    assert [e["action"] for e in await audit_of(api, "silk-squares")] == ["create"]


async def test_deleting_a_category_with_children_is_409_naming_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    r = await api.delete("/v1/categories/scarves")
    assert r.status_code == 409
    assert r.json() == {
        "type": "/problems/still-referenced",
        "title": "Conflict",
        "status": 409,
        "detail": "Category 'scarves' is still referenced (categories: silk-longs, silk-squares); "
        "move or delete them first.",
        "code": "still-referenced",
        "instance": "/v1/categories/scarves",
        "context": {"references": {"categories": ["silk-longs", "silk-squares"]}},
    }
    assert (await api.get("/v1/categories/scarves")).status_code == 200


async def test_deleting_a_category_with_homed_or_placed_products_is_409_naming_them(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    await f.tree(conn, "web")
    await create(api, "shop", tree="web")
    await f.product(conn, "scarf-1", "silk-squares")
    await f.product(conn, "oil-1", "lavender")
    await conn.execute(
        """
        INSERT INTO product_placements (product_id, tree_id, category_id)
        SELECT p.id, c.tree_id, c.id FROM products p, categories c WHERE p.code = 'oil-1' AND c.code = 'shop'
        """
    )
    homed = await api.delete("/v1/categories/silk-squares")
    assert homed.status_code == 409
    assert homed.json()["context"] == {"references": {"products": ["scarf-1"]}}
    assert homed.json()["detail"] == (
        "Category 'silk-squares' is still referenced (products: scarf-1); move or delete them first."
    )
    placed = await api.delete("/v1/categories/shop")
    assert placed.status_code == 409
    assert placed.json()["context"] == {"references": {"products": ["oil-1"]}}
    assert await children(api, None, tree="web") == ["shop"]


async def test_the_nested_tree_counts_own_and_subtree_products_exactly(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await f.tree(conn, "merch", labels={"en": "Merchandise"})
    for code, parent, position in [
        ("home", None, None),
        ("accessories", None, 0),
        ("scarves", "accessories", None),
        ("silk-longs", "scarves", None),
        ("silk-squares", "scarves", 0),
        ("lavender", "home", None),
    ]:
        extra = {} if position is None else {"position": position}
        assert (await create(api, code, parent=parent, **extra)).status_code == 201
    await f.tree(conn, "web")
    await create(api, "shop", tree="web")
    for code, category in [
        ("sq-1", "silk-squares"),
        ("sq-2", "silk-squares"),
        ("lg-1", "silk-longs"),
        ("sc-1", "scarves"),
        ("oil-1", "lavender"),
    ]:
        await f.product(conn, code, category)
    # a product homed in the web tree but placed in merch's scarves counts there too
    await f.product(conn, "web-1", "shop")
    await conn.execute(
        """
        INSERT INTO product_placements (product_id, tree_id, category_id)
        SELECT p.id, c.tree_id, c.id FROM products p, categories c
         WHERE p.code = 'web-1' AND c.code = 'scarves'
        """
    )
    r = await api.get("/v1/category-trees/merch/tree")
    assert r.status_code == 200

    def node(code: str, position: int, level: str, own: int, subtree: int, kids: list[Any]) -> dict[str, Any]:
        return {
            "code": code,
            "labels": {"en": code},
            "position": position,
            "level": level,
            "own_products": own,
            "subtree_products": subtree,
            "children": kids,
        }

    assert r.json() == {
        "tree": {
            "code": "merch",
            "labels": {"en": "Merchandise"},
            "level_names": ["major", "middle", "minor"],
            "version": 1,
        },
        "categories": [
            node(
                "accessories",
                0,
                "major",
                0,
                5,
                [
                    node(
                        "scarves",
                        0,
                        "middle",
                        2,
                        5,
                        [
                            node("silk-squares", 0, "minor", 2, 2, []),
                            node("silk-longs", 1, "minor", 1, 1, []),
                        ],
                    ),
                ],
            ),
            node("home", 1, "major", 0, 1, [node("lavender", 0, "middle", 1, 1, [])]),
        ],
    }
    tag = r.headers["etag"]
    assert (await api.get("/v1/category-trees/merch/tree", headers={"If-None-Match": tag})).status_code == 304
    await api.post("/v1/categories/lavender/move", json={"parent": "accessories"})
    changed = await api.get("/v1/category-trees/merch/tree", headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert [c["subtree_products"] for c in changed.json()["categories"]] == [6, 0]


async def test_the_nested_tree_of_an_unknown_tree_is_404(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    r = await api.get("/v1/category-trees/nowhere/tree")
    assert r.status_code == 404
    assert r.json()["code"] == "category-tree-not-found"
    await f.tree(conn, "empty", levels=("shelf",))
    empty = (await api.get("/v1/category-trees/empty/tree")).json()
    assert empty == {
        "tree": {"code": "empty", "labels": {"en": "empty"}, "level_names": ["shelf"], "version": 1},
        "categories": [],
    }


async def test_create_update_move_and_delete_are_audited_with_their_changes(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await shelf(api, conn)
    await create(api, "candles", parent="home")
    await api.patch("/v1/categories/candles", json={"labels": {"zh-CN": "蜡烛"}})
    await api.post("/v1/categories/candles/move", json={"parent": "accessories", "position": 0})
    await api.delete("/v1/categories/candles")
    entries = await audit_of(api, "candles")
    assert [(e["action"], e["version"], e["actor"]) for e in entries] == [
        ("delete", 3, "test-admin"),
        ("move", 3, "test-admin"),
        ("update", 2, "test-admin"),
        ("create", 1, "test-admin"),
    ]
    assert entries[2]["changes"] == {
        "labels": {"before": {"en": "candles"}, "after": {"en": "candles", "zh-CN": "蜡烛"}}
    }
    assert entries[1]["changes"] == {
        "parent": {"before": "home", "after": "accessories"},
        "path": {"before": ["home", "candles"], "after": ["accessories", "candles"]},
        "position": {"before": 1, "after": 0},
    }
    assert entries[0]["changes"]["code"] == {"before": "candles", "after": None}


async def test_unknown_categories_are_404_problems_everywhere(api: httpx.AsyncClient, conn: asyncpg.Connection) -> None:
    expected = {
        "type": "/problems/category-not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No category has the code 'ghost'.",
        "code": "category-not-found",
    }
    for method, url, body in [
        ("GET", "/v1/categories/ghost", None),
        ("PATCH", "/v1/categories/ghost", {"labels": {"en": "x"}}),
        ("DELETE", "/v1/categories/ghost", None),
        ("POST", "/v1/categories/ghost/move", {"parent": None}),
    ]:
        r = await api.request(method, url, json=body)
        assert r.json() == {**expected, "instance": url}


async def test_internal_roles_read_and_only_admin_writes(
    api: httpx.AsyncClient, conn: asyncpg.Connection, as_role: Any
) -> None:
    await shelf(api, conn)
    async with as_role("warehouse") as warehouse:
        assert (await warehouse.get("/v1/categories/scarves")).status_code == 200
        assert (await warehouse.get("/v1/category-trees/merch/tree")).status_code == 200
        denied = await warehouse.post("/v1/categories/scarves/move", json={"parent": None})
        assert denied.status_code == 403
    async with as_role("storefront") as storefront:
        assert (await storefront.get("/v1/categories")).status_code == 403
    assert (await api.get("/v1/categories/scarves")).json()["parent"] == "accessories"
