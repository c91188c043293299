"""The console (/console) as the app serves it: its page, scripts and style sheet with their media types and a
strict Content-Security-Policy (this origin only, no inline script or style, no framing), no key asked, nothing
loaded from elsewhere, and none of it in the OpenAPI document. tests/console drives it in a browser."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.openapi import document
from api.routes.console import CONSOLE_DIR
from tests.conftest import client_for

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SCRIPTS = sorted(p.name for p in CONSOLE_DIR.glob("*.js"))


async def test_the_page_is_html_under_a_strict_policy_and_asks_no_key(app: Any) -> None:
    async with client_for(app, None) as client:
        r = await client.get("/console")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-cache"
    html = r.text
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="/console/app.js">']
    assert re.findall(r"<script\b[^>]*>([^<]*)</script>", html) == [""]  # (no inline script)
    assert "<style" not in html and " style=" not in html and " on" not in html.replace(" only", "")
    assert re.findall(r'(?:src|href)="([^"#]+)"', html) == ["data:,", "/console/console.css", "/console/app.js"]


@pytest.mark.parametrize("name", [*SCRIPTS, "console.css"])
async def test_each_script_and_style_sheet_is_served_with_its_media_type_and_the_policy(app: Any, name: str) -> None:
    async with client_for(app, None) as client:
        r = await client.get(f"/console/{name}")
    assert r.status_code == 200
    media = "text/css" if name.endswith(".css") else "text/javascript"
    assert r.headers["content-type"] == f"{media}; charset=utf-8"
    assert r.headers["content-security-policy"] == CSP
    assert r.content == (CONSOLE_DIR / name).read_bytes()


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_script_imports_only_the_consoles_own_modules_and_reaches_no_other_origin(name: str) -> None:
    source = (CONSOLE_DIR / name).read_text(encoding="utf-8")
    for imported in re.findall(r'from "([^"]+)"', source):
        assert re.fullmatch(r"\./[a-z0-9_]+\.js", imported) and (CONSOLE_DIR / imported[2:]).is_file(), imported
    # (the one URL a script names is the SVG namespace, which is a name, never fetched)
    assert set(re.findall(r"https?://[^\s\"'`]+", source)) <= {"http://www.w3.org/2000/svg"}
    unsafe = r"\b(innerHTML|outerHTML|insertAdjacentHTML|eval|localStorage|document\.write)\b|new Function"
    assert not re.search(unsafe, source)  # (text is set as text; the key lives in sessionStorage only)


async def test_a_file_the_console_does_not_have_is_a_404_problem(app: Any) -> None:
    async with client_for(app, None) as client:
        missing = await client.get("/console/nothing.js")
        outside = await client.get("/console/..%2Fapp.py")
    assert missing.status_code == 404 and outside.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json() == {
        "type": "/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "The console has no file 'nothing.js'.",
        "code": "not-found",
        "instance": "/console/nothing.js",
    }


def test_the_console_is_not_part_of_the_api_document() -> None:
    assert not [path for path in document()["paths"] if path.startswith("/console")]
