"""What no route can take — a NUL character, bytes that are not UTF-8, in the path or the query string — is
a 400 problem naming where, before any route or query sees it (never a 500 from PostgreSQL's text)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest


@pytest.mark.parametrize(
    ("url", "where", "flaw"),
    [
        ("/v1/products/a%00b", "path", "contains a NUL character"),
        ("/v1/storefront/products/x%00", "path", "contains a NUL character"),
        ("/v1/products/%C3%28", "path", "is not UTF-8"),
        ("/v1/storefront/search?q=%00", "query", "contains a NUL character"),
        ("/v1/storefront/products?category=scarves&filter=color%3Ared%00", "query", "contains a NUL character"),
        ("/v1/products?category=%FF%FE", "query", "is not UTF-8"),
        ("/v1/service/lookup?q=%E4%B8", "query", "is not UTF-8"),
    ],
)
async def test_nul_and_non_utf8_in_path_or_query_are_a_400_naming_where(
    as_role: Any, conn: asyncpg.Connection, url: str, where: str, flaw: str
) -> None:
    async with as_role("admin") as http:
        r = await http.get(url)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "bad-request"
    assert problem["errors"] == [{"code": "invalid_characters", "message": problem["detail"], "parameter": where}]
    assert flaw in problem["detail"]


async def test_chinese_text_in_path_and_query_passes(as_role: Any, conn: asyncpg.Connection) -> None:
    async with as_role("admin") as http:
        r = await http.get("/v1/storefront/search", params={"q": "丝巾"})
        missing = await http.get("/v1/products/真丝")
    assert r.status_code == 200
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[" * 1000 + b"]" * 1000, "The body nests deeper than 64 levels."),
        (b'{"code": "x", "labels": {"en": ' + b"[" * 65 + b"]" * 65 + b"}}", "The body nests deeper than 64 levels."),
        (b'{"code": "\xff\xfe", "labels": {}}', "The request body is not UTF-8."),
        (
            b'{"code": "a", "labels": {"en": "a\\u0000b"}, "level_names": ["x"]}',
            "A string in the body contains a NUL character (\\u0000), which text cannot hold.",
        ),
    ],
)
async def test_a_body_too_deep_not_utf8_or_with_nul_is_a_400_and_nothing_is_written(
    as_role: Any, conn: asyncpg.Connection, body: bytes, detail: str
) -> None:
    async with as_role("admin") as http:
        r = await http.post("/v1/category-trees", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert (r.json()["code"], r.json()["detail"]) == ("malformed-json", detail)
    assert await conn.fetchval("SELECT count(*) FROM category_trees") == 0


async def test_brackets_inside_strings_do_not_count_as_nesting(as_role: Any, conn: asyncpg.Connection) -> None:
    async with as_role("admin") as http:
        r = await http.post(
            "/v1/category-trees",
            json={"code": "web", "labels": {"en": "[" * 100 + "{" * 100}, "level_names": ["shelf"]},
        )
    assert r.status_code == 201, r.text


async def test_a_url_longer_than_8_kb_is_a_414_problem(as_role: Any, conn: asyncpg.Connection) -> None:
    async with as_role("admin") as http:
        long = await http.get("/v1/products", params={"category": "a" * 9000})
        fits = await http.get("/v1/products", params={"category": "a" * 8000})
    assert long.status_code == 414
    assert (long.json()["code"], long.json()["errors"][0]["parameter"]) == ("uri-too-long", "url")
    assert fits.status_code == 400 and fits.json()["errors"][0]["parameter"] == "category"


async def test_a_backslash_before_u0000_is_text_not_a_nul(as_role: Any, conn: asyncpg.Connection) -> None:
    """`\\u0000` in JSON (an escaped backslash, then `u0000`) is six characters of text, and is kept; only an
    escape that makes a NUL character is refused."""
    body = b'{"code": "bs-1", "labels": {"en": "path C:\\\\u0000"}}'
    async with as_role("admin") as http:
        kept = await http.post("/v1/warehouses", content=body, headers={"content-type": "application/json"})
        nul = await http.post(
            "/v1/warehouses",
            content=b'{"code": "bs-2", "labels": {"en": "C:\\\\\\u0000"}}',
            headers={"content-type": "application/json"},
        )
    assert kept.status_code == 201, kept.text
    assert kept.json()["labels"] == {"en": "path C:\\u0000"}
    assert nul.status_code == 400 and nul.json()["code"] == "malformed-json"
    assert not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM warehouses WHERE code = 'bs-2')")


@pytest.mark.parametrize("tag", [b'"\xb2"', b"\xb9", b'W/"\xb3"'])
async def test_an_if_match_of_digits_that_are_not_ascii_matches_no_version(
    as_role: Any, conn: asyncpg.Connection, tag: bytes
) -> None:
    """A header arrives as latin-1, where `²`, `³` and `¹` are digits to Python's str.isdigit() but not to
    int(): such an If-Match names no version (412), it is no 500."""
    async with as_role("admin") as http:
        created = await http.post("/v1/series", json={"code": "silk", "labels": {"en": "Silk"}})
        r = await http.patch("/v1/series/silk", json={"labels": {"en": "Silk!"}}, headers=[(b"if-match", tag)])
    assert created.status_code == 201, created.text
    assert r.status_code == 412, r.text
    assert r.json()["code"] == "version-mismatch"
    assert r.json()["detail"] == "Series 'silk' is at version 1, not -1: it changed since you read it."
    assert await conn.fetchval("SELECT labels->>'en' FROM series WHERE code = 'silk'") == "Silk"
