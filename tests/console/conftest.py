"""The console's browser tests: a real `merch serve --demo` on a database of its own (cloned from the suite's
template, so one key per role is there), and Debian's Chromium driven by playwright. They run on their own
(`make test-console`), not in `make test`: tests/conftest.py leaves this directory out unless it is named."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from tests.conftest import KEYS, ROOT, Server, cloned
from tests.served import Served, start

CHROMIUM = os.environ.get("MERCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ROOT / ".merchflow" / "console"  # the screenshots each run saves (docs/console keeps the main ones)
LAPTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="session")
async def served(server: Server, template: str) -> AsyncIterator[Served]:
    """The demo server every console test talks to (one worker; on another free port if the one picked was taken)."""
    async with cloned(server, template, prefix="merch_console") as name:
        running = start(server.dsn(name), 1, "--demo", timeout=120)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Console:
    """A browser tab on the console, signed in with one role's key; what the browser reported as it went."""

    page: Page
    url: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions

    async def open(self, name: str) -> Page:
        """Show one of the console's pages and wait until every section of it has loaded."""
        await self.page.goto(f"{self.url}/console#{name}")
        await self.page.wait_for_selector(f'#page[data-page="{name}"][data-ready="true"]', timeout=30_000)
        return self.page

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=SHOTS / f"{name}.png", full_page=True)

    def refusals_only(self) -> list[str]:
        """The errors other than the browser's own note of a request the API refused with 403 (what a key
        without the role sees — the console shows it as a message)."""
        return [e for e in self.errors if "the server responded with a status of 403" not in e]


async def sign_in(browser: Browser, url: str, role: str, viewport: dict[str, int] = LAPTOP) -> Console:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    console = Console(page=page, url=url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    await page.goto(f"{url}/console")
    await page.fill("#key", KEYS[role])
    await page.click("#signin button[type=submit]")
    await page.wait_for_selector("#nav:not([hidden])")
    return console


@pytest.fixture
async def as_role(browser: Browser, served: Served) -> AsyncIterator[Any]:
    """`await as_role("admin")`: a signed-in tab (its browser context closed after the test)."""
    opened: list[Console] = []

    async def open_as(role: str, viewport: dict[str, int] = LAPTOP) -> Console:
        console = await sign_in(browser, served.url, role, viewport)
        opened.append(console)
        return console

    yield open_as
    for console in opened:
        await console.page.context.close()


@pytest.fixture(scope="session")
async def api(served: Served) -> AsyncIterator[Any]:
    """The API the console calls, asked directly (`api()` as admin, `api("warehouse")`…) to check what a page shows."""
    clients: dict[str, httpx.AsyncClient] = {}

    def client(role: str = "admin") -> httpx.AsyncClient:
        if role not in clients:
            clients[role] = httpx.AsyncClient(base_url=served.url, headers={"Authorization": f"Bearer {KEYS[role]}"})
        return clients[role]

    yield client
    for c in clients.values():
        await c.aclose()
