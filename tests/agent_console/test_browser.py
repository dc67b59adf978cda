"""The pages in a real browser (Debian's chromium through playwright) against the real app on a loopback port.

A customer chats on /chat in one browser context while an agent works on the desktop in another: pre-chat,
queue, login, offer, accept, messages both ways, HTML shown as text, a reload that resumes, a lost ack that is
re-sent without a duplicate, wrap-up; and the supervisor board.
"""
from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiohttp import WSCloseCode, web
from playwright.async_api import Browser, Page, WebSocketRoute, async_playwright, expect

from contact_center.app import create_app
from contact_center.keys import HISTORY, SOCKETS
from contact_center.settings import Settings

# One browser for the module (launching chromium is the slowest step); each test gets fresh contexts and its own
# server, so nothing leaks between tests.
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"
WAIT_MS = 10_000


@dataclass
class Server:
    app: web.Application
    url: str


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
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    await app[HISTORY].create_user("alice", "agent", PASSWORD, {}, [])
    await app[HISTORY].create_user("sam", "supervisor", PASSWORD, {}, [])
    try:
        yield Server(app, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
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
    customer = await open_page(browser, f"{server.url}/chat")
    page = customer.page
    await page.get_by_label("Your name").fill(name)
    if email:
        await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Start chat").click()
    await expect(page.locator("#status")).to_have_text(f"You are number {position} in the queue", timeout=WAIT_MS)
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
    return page.locator(selector).all_inner_texts()


async def test_chat_flows_from_the_customer_page_to_the_agent_desktop_and_back(server, browser):
    customer = await start_chat(browser, server, "Grace Hopper", "grace@example.com")
    chat = customer.page
    await customer_says(chat, "Hello, my order is late")

    # The agent: a wrong password is refused on the page, the right one lands on the desktop.
    agent = await open_page(browser, f"{server.url}/")
    desk = agent.page
    await expect(desk).to_have_url(re.compile(r"/login\?next=%2F"), timeout=WAIT_MS)
    await desk.get_by_label("Username").fill("alice")
    await desk.get_by_label("Password").fill("not the password")
    await desk.get_by_role("button", name="Log in").click()
    await expect(desk.locator("#login-error")).to_have_text("Wrong username or password.")
    await desk.get_by_label("Password").fill(PASSWORD)
    await desk.get_by_label("Password").press("Enter")
    await expect(desk).to_have_url(f"{server.url}/", timeout=WAIT_MS)
    await expect(desk.locator("#user-name")).to_have_text("alice")

    # Available -> the waiting chat is offered with a live countdown; accept it.
    await desk.locator("#state-switch").get_by_text("Available").click()
    offer = desk.locator("#offers .offer")
    await expect(offer).to_contain_text("Grace Hopper", timeout=WAIT_MS)
    await expect(offer.locator(".countdown-text")).to_have_text(re.compile(r"^\d+ s left$"))
    first = await offer.locator(".countdown-text").inner_text()
    await expect(offer.locator(".countdown-text")).not_to_have_text(first, timeout=3000)  # it counts down
    await offer.get_by_role("button", name="Accept").click()

    # The conversation opens with the message so far and the customer's record beside it.
    panel = desk.get_by_role("tabpanel")
    await expect(panel.locator(".conv-title")).to_have_text("Grace Hopper", timeout=WAIT_MS)
    await expect(panel.locator(".messages .msg-in .text")).to_have_text(["Hello, my order is late"])
    await expect(panel.locator(".profile")).to_contain_text("grace@example.com")
    await expect(desk.get_by_role("tab")).to_have_count(1)
    await expect(chat.locator("#status")).to_have_text("An agent has joined", timeout=WAIT_MS)

    # Messages both ways; the agent's name is on the agent's message.
    reply = panel.get_by_label("Reply")
    await reply.fill("Hi Grace, let me check that for you.")
    await reply.press("Enter")
    agent_line = chat.locator("#messages li.msg-agent").last
    await expect(agent_line.locator(".text")).to_have_text("Hi Grace, let me check that for you.",
                                                           timeout=WAIT_MS)
    await expect(agent_line.locator(".who")).to_have_text("alice")
    await expect(panel.locator(".messages .msg-out.pending")).to_have_count(0, timeout=WAIT_MS)

    # Markup is text on both sides, and nothing ran.
    await customer_says(chat, XSS)
    await expect(panel.locator(".messages .msg-in .text").last).to_have_text(XSS, timeout=WAIT_MS)
    await reply.fill(XSS)
    await reply.press("Enter")
    await expect(chat.locator("#messages li.msg-agent .text").last).to_have_text(XSS, timeout=WAIT_MS)
    for page in (chat, desk):
        assert await page.locator("#messages img, .messages img").count() == 0

    # A reload resumes the same chat with every message in order, and it goes on.
    before = await texts(chat, "#messages li:not(.msg-system) .text")
    await chat.reload()
    await expect(chat.locator("#messages li:not(.msg-system) .text")).to_have_text(before, timeout=WAIT_MS)
    await expect(chat.locator("#status")).to_have_text("An agent has joined", timeout=WAIT_MS)
    await customer_says(chat, "Still there after a reload")
    await expect(panel.locator(".messages .msg-in .text")).to_have_text(
        ["Hello, my order is late", XSS, "Still there after a reload"], timeout=WAIT_MS)

    # Wrap-up: a disposition is required, then the chat ends on both sides.
    await panel.get_by_role("button", name="Finish and wrap up").click()
    await expect(panel.locator(".wrapup .form-error")).to_have_text("Choose a disposition.")
    await panel.get_by_label("Disposition").select_option("resolved")
    await panel.get_by_label("Note").fill("Order located; ships tomorrow.")
    await panel.get_by_role("button", name="Finish and wrap up").click()
    await expect(chat.locator("#status")).to_have_text("This chat has ended", timeout=WAIT_MS)
    await expect(chat.get_by_role("button", name="Start a new chat")).to_be_visible()
    await expect(chat.get_by_label("Your message")).to_be_hidden()
    await expect(desk.get_by_role("tab")).to_have_count(0, timeout=WAIT_MS)
    await expect(desk.locator("#placeholder")).to_be_visible()

    for watched in (customer, agent):
        assert watched.dialogs == [] and watched.errors == []


async def test_a_lost_ack_is_resent_after_reconnect_without_a_duplicate(server, browser):
    customer = await open_page(browser, "about:blank")
    chat = customer.page
    dropped: list[dict] = []

    async def route(ws: WebSocketRoute) -> None:
        # The first connection loses the first ack and then drops; later ones pass everything through.
        upstream = ws.connect_to_server()
        lossy = not dropped

        async def to_page(message: str | bytes) -> None:
            data = json.loads(message)
            if lossy and data.get("type") == "ack" and not dropped:
                dropped.append(data)
                await ws.close()
                return
            ws.send(message)

        upstream.on_message(to_page)

    await chat.route_web_socket(re.compile(r".*/ws/chat$"), route)
    await chat.goto(f"{server.url}/chat")
    await chat.get_by_label("Your name").fill("Linus")
    await chat.get_by_role("button", name="Start chat").click()
    await expect(chat.locator("#status")).to_have_text("You are number 1 in the queue", timeout=WAIT_MS)
    await chat.get_by_label("Your message").fill("Sent once, acknowledged later")
    await chat.get_by_label("Your message").press("Enter")
    mine = chat.locator("#messages li.msg-customer")
    await expect(mine).to_have_count(1)
    # Pending until the re-sent message is acknowledged on the new socket.
    await expect(mine).not_to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)
    assert dropped, "the first ack was not intercepted"
    await expect(mine).to_have_count(1)

    agent = await log_in(browser, server, "/", "alice")
    desk = agent.page
    await desk.locator("#state-switch").get_by_text("Available").click()
    await desk.locator("#offers .offer").get_by_role("button", name="Accept").click()
    panel = desk.get_by_role("tabpanel")
    await expect(panel.locator(".messages .msg-in .text")).to_have_text(["Sent once, acknowledged later"],
                                                                        timeout=WAIT_MS)
    assert customer.errors == [] and agent.errors == []


async def accept_first_offer(desk: Page) -> None:
    await desk.locator("#state-switch").get_by_text("Available").click()
    await desk.locator("#offers .offer").get_by_role("button", name="Accept").click()
    await expect(desk.get_by_role("tab")).to_have_count(1, timeout=WAIT_MS)


async def test_both_pages_reconnect_when_the_server_drops_their_sockets(server, browser):
    customer = await start_chat(browser, server, "Ada")
    chat = customer.page
    agent = await log_in(browser, server, "/", "alice")
    desk = agent.page
    await accept_first_offer(desk)
    await expect(chat.locator("#status")).to_have_text("An agent has joined", timeout=WAIT_MS)

    for ws in list(server.app[SOCKETS]):  # what a proxy restart or a network blip does
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"test drop")

    await customer_says(chat, "Are you still there?")  # queued while down, sent after the reconnect
    panel = desk.get_by_role("tabpanel")
    await expect(panel.locator(".messages .msg-in .text")).to_have_text(["Are you still there?"], timeout=WAIT_MS)
    await panel.get_by_label("Reply").fill("Yes, still here.")
    await panel.get_by_label("Reply").press("Enter")
    await expect(chat.locator("#messages li.msg-agent .text")).to_have_text(["Yes, still here."], timeout=WAIT_MS)
    await expect(desk.locator("#state-available")).to_be_checked()
    await expect(desk.locator("#connection")).to_be_hidden()
    await expect(desk.get_by_role("tab")).to_have_count(1)
    assert customer.errors == [] and agent.errors == []


async def test_a_message_the_server_refuses_is_marked_with_its_reason(server, browser):
    context = await browser.new_context()
    chat = await context.new_page()

    # A page served before the limit was lowered: it lets through what the server now refuses. (The page is
    # parsed when readyState turns "interactive", before its module scripts run.)
    await chat.add_init_script("""document.addEventListener("readystatechange", () => {
        if (document.readyState === "interactive") document.getElementById("chat").dataset.maxChars = "5000";
    });""")
    await chat.goto(f"{server.url}/chat")
    await chat.get_by_label("Your name").fill("Edsger")
    await chat.get_by_role("button", name="Start chat").click()
    await chat.get_by_label("Your message").fill("x" * 600)
    await expect(chat.locator("#counter")).to_have_text("600 / 5000")
    await chat.get_by_label("Your message").press("Enter")
    failed = chat.locator("#messages li.msg-customer.failed")
    await expect(failed.locator(".state")).to_have_text(re.compile(r"^Not sent: .*limit is 500"), timeout=WAIT_MS)
    await expect(chat.get_by_role("alert").filter(has_text="limit is 500")).to_be_visible()
    await customer_says(chat, "A short one goes through")  # the socket is still usable
    await expect(failed).to_have_count(1)


@pytest.mark.parametrize("overrides", [{"offer_timeout_s": 3.0}])
async def test_offers_count_down_and_can_be_rejected_or_left_to_expire(server, browser):
    await start_chat(browser, server, "Niklaus")
    agent = await log_in(browser, server, "/", "alice")
    desk = agent.page
    await desk.locator("#state-switch").get_by_text("Available").click()
    offer = desk.locator("#offers .offer")
    await expect(offer).to_contain_text("Niklaus", timeout=WAIT_MS)
    await expect(offer.locator(".countdown-text")).to_have_text(re.compile(r"^[1-3] s left$"))
    await expect(desk).to_have_title("(1) Offer · Agent desktop · Contact center")
    await offer.get_by_role("button", name="Reject").click()
    await expect(offer).to_have_count(0)
    await expect(desk).to_have_title("Agent desktop · Contact center")

    # Routing keeps the rejected chat from this agent for a while, so the next customer is offered next; the
    # agent lets that offer run out. (Asserted on the toast, which outlives the 3-second card on a busy machine.)
    await start_chat(browser, server, "Tony", position=2)
    await expect(desk.locator("#toasts")).to_contain_text("The offer from Tony expired.", timeout=WAIT_MS)
    assert agent.errors == []


async def test_supervisor_board_shows_queues_and_agents(server, browser):
    await start_chat(browser, server, "Barbara")
    agent = await log_in(browser, server, "/", "alice")
    await agent.page.locator("#state-switch").get_by_text("Away").click()
    await expect(agent.page.locator("#state-away")).to_be_checked()

    board = await log_in(browser, server, "/supervisor", "sam")
    page = board.page
    queue_row = page.locator("#queues tbody tr").filter(has=page.get_by_role("rowheader", name="general"))
    await expect(queue_row.locator("td").first).to_have_text("1", timeout=WAIT_MS)  # one waiting
    agent_row = page.locator("#agents tbody tr").filter(has=page.get_by_role("rowheader", name="alice"))
    await expect(agent_row.locator(".badge")).to_have_text("Away", timeout=WAIT_MS)
    await expect(page.locator("#t-waiting")).to_have_text("1")
    await expect(page.locator("#updated")).to_have_text(re.compile(r"^Updated "))
    await expect(page.get_by_role("link", name="Supervisor")).to_be_visible()
    assert board.errors == []
