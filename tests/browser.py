"""What the browser tests share: the whole app on a loopback port (restartable), one Debian chromium per test
module driven by playwright, pages that record dialogs and errors, and the steps a customer and an agent take.

Test modules take its fixtures in as module names (`browser, overrides, server = harness.browser, ...`).
"""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect

from contact_center.app import create_app
from contact_center.keys import HISTORY
from contact_center.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PASSWORD = "correct horse battery"
WAIT_MS = 10_000
# Every assertion waits as long as the explicit ones: on a loaded 2-core CI machine playwright's 5 s default
# for an unadorned `expect(...)` is what made the suite flaky, not the pages.
expect.set_options(timeout=WAIT_MS)


@dataclass
class Server:
    """The whole app on a loopback port; `restart` stops it and starts a new process-worth of it on that port."""

    settings: Settings
    app: web.Application = field(init=False)
    runner: web.AppRunner = field(init=False)
    url: str = ""

    async def start(self, port: int = 0) -> None:
        self.app = create_app(self.settings)
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def restart(self) -> None:
        port = self.runner.addresses[0][1]
        await self.runner.cleanup()
        await self.start(port)


@dataclass
class Watched:
    """A page with every dialog and page error it raised (there must be none)."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def overrides() -> dict:
    """Settings a test changes (parametrize `overrides` to change them)."""
    return {}


@pytest_asyncio.fixture(loop_scope="module")
async def server(tmp_path, overrides) -> AsyncIterator[Server]:
    """The whole platform on a free loopback port, with an agent and a supervisor."""
    settings = Settings(**{"database_url": f"sqlite+aiosqlite:///{tmp_path}/cc.db",
                           "secret_key": "browser-test-secret", "offer_timeout_s": 30.0,
                           "max_message_chars": 500, **overrides})
    running = Server(settings)
    await running.start()
    await running.app[HISTORY].create_user("alice", "agent", PASSWORD, {}, [])
    await running.app[HISTORY].create_user("sam", "supervisor", PASSWORD, {}, [])
    try:
        yield running
    finally:
        await running.runner.cleanup()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, once per test module (launching it is the slowest step)."""
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def open_page(browser: Browser, url: str) -> Watched:
    """A page in a fresh context (its own cookies and storage) that records dialogs and errors."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    watched = Watched(page)

    async def on_dialog(dialog) -> None:
        watched.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda err: watched.errors.append(str(err)))
    await page.goto(url)
    return watched


async def start_chat(browser: Browser, server: Server, name: str, email: str = "", position: int = 1) -> Watched:
    """A customer on /chat who filled in the pre-chat form and waits in the queue at `position`."""
    customer = await open_page(browser, f"{server.url}/chat")
    page = customer.page
    await page.get_by_label("Your name").fill(name)
    if email:
        await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Start chat").click()
    await expect(page.locator("#status")).to_have_text(re.compile(rf"^You are number {position} in the queue\b"),
                                                       timeout=WAIT_MS)
    return customer


async def customer_says(page: Page, text: str) -> None:
    """Type a message, press Enter, and wait until the server has acknowledged it."""
    await page.get_by_label("Your message").fill(text)
    await page.get_by_label("Your message").press("Enter")
    mine = page.locator("#messages li.msg-customer").filter(has_text=text).last
    await expect(mine).to_be_visible()
    await expect(mine).not_to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)


async def log_in(browser: Browser, server: Server, path: str, username: str) -> Watched:
    """Open `path` logged out, get sent to the login page, log in, and land back on `path`."""
    watched = await open_page(browser, f"{server.url}{path}")
    page = watched.page
    await expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.url}{path}", timeout=WAIT_MS)
    return watched


def texts(page: Page, selector: str):
    """The inner texts of every element `selector` matches."""
    return page.locator(selector).all_inner_texts()


async def accept_first_offer(desk: Page) -> None:
    """Go available and accept the offer that comes."""
    await desk.locator("#state-switch").get_by_text("Available").click()
    await desk.locator("#offers .offer").get_by_role("button", name="Accept").click()
    await expect(desk.get_by_role("tab")).to_have_count(1, timeout=WAIT_MS)


async def assigned_chat(browser: Browser, server: Server, name: str) -> tuple[Watched, Watched]:
    """A customer `name` on /chat whose chat alice has accepted on her desktop: (customer, agent)."""
    customer = await start_chat(browser, server, name)
    agent = await log_in(browser, server, "/", "alice")
    await accept_first_offer(agent.page)
    await expect(customer.page.locator("#status")).to_have_text("An agent has joined", timeout=WAIT_MS)
    return customer, agent
