"""The customer chat page in a real browser (Debian's chromium through playwright) against the real app on a
loopback port: a lost acknowledgement re-sent without a duplicate, the pre-chat form's errors, a message the
server refuses, and the widget embedded in another site.
"""
from __future__ import annotations

import json
import re

import pytest
from aiohttp import web
from playwright.async_api import WebSocketRoute, expect

from contact_center.keys import HISTORY
from contact_center.queue_settings import RoutingConfig, parse_queues
from tests import browser as harness
from tests.browser import (
    WAIT_MS,
    assigned_chat,
    customer_says,
    log_in,
    open_page,
)

# The harness's fixtures, made this module's (pytest finds fixtures among a module's names).
browser, overrides, server = harness.browser, harness.overrides, harness.server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


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


async def another_site(html: str) -> tuple[web.AppRunner, str]:
    """A customer's own web site on another origin serving `html` at /: (its runner, to clean up; its URL)."""
    host = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    host.router.add_get("/", page)
    runner = web.AppRunner(host)
    await runner.setup()
    await web.TCPSite(runner, "localhost", 0).start()
    return runner, f"http://localhost:{runner.addresses[0][1]}/"


async def test_the_widget_embeds_in_another_site(server, browser):
    # The customer's own site: another origin that only adds the embed script.
    runner, url = await another_site(f'<!doctype html><title>Shop</title><h1>Shop</h1><script '
                                     f'src="{server.url}/static/chat/embed.js" data-label="Talk to us" defer></script>')
    try:
        shop = await open_page(browser, url)
        page = shop.page
        launcher = page.get_by_role("button", name="Talk to us")
        await expect(launcher).to_have_attribute("aria-expanded", "false")
        await launcher.click()
        await expect(launcher).to_have_attribute("aria-expanded", "true")
        frame = page.frame_locator("#cc-chat-frame")
        await frame.get_by_label("Your name").fill("Barbara")
        await frame.get_by_role("button", name="Start chat").click()
        await expect(frame.locator("#status")).to_have_text("You are number 1 in the queue", timeout=WAIT_MS)
        await page.keyboard.press("Escape")  # focus is in the frame: the host page does not see the key
        await page.locator("h1").click()
        await page.keyboard.press("Escape")
        await expect(page.locator("#cc-chat-frame")).to_be_hidden()
        await expect(launcher).to_have_attribute("aria-expanded", "false")
        assert shop.errors == []
    finally:
        await runner.cleanup()


async def test_the_prechat_form_explains_what_it_needs(server, browser):
    customer = await open_page(browser, f"{server.url}/chat")
    chat = customer.page
    await chat.get_by_role("button", name="Start chat").click()
    await expect(chat.locator("#prechat-error")).to_have_text("Please enter your name.")
    await expect(chat.get_by_label("Your name")).to_be_focused()
    await chat.get_by_label("Your name").fill("Ken")
    await chat.get_by_label("Email").fill("ken@localhost")  # valid to the browser, not to the server
    await chat.get_by_role("button", name="Start chat").click()
    await expect(chat.locator("#prechat-error")).to_have_text(
        "That email address does not look right. Please check it, or leave it empty.", timeout=WAIT_MS)
    await expect(chat.get_by_label("Email")).to_be_focused()
    await expect(chat.get_by_label("Your name")).to_have_value("Ken")
    await chat.get_by_label("Email").fill("ken@example.com")
    await chat.get_by_label("Email").press("Enter")
    await expect(chat.locator("#status")).to_have_text("You are number 1 in the queue", timeout=WAIT_MS)
    assert customer.errors == []


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


@pytest.mark.parametrize("overrides", [{"queues": parse_queues({"billing": {"overflow": "general"}})}])
async def test_the_widget_asks_for_the_queue_its_site_names(server, browser):
    runner, url = await another_site(f'<!doctype html><title>Billing help</title><h1>Billing help</h1><script '
                                     f'src="{server.url}/static/chat/embed.js" data-queue="billing" defer></script>')
    try:
        site = await open_page(browser, url)
        await site.page.get_by_role("button", name="Chat with us").click()
        frame = site.page.frame_locator("#cc-chat-frame")
        await frame.get_by_label("Your name").fill("Bill")
        await frame.get_by_role("button", name="Start chat").click()
        await expect(frame.locator("#status")).to_have_text("You are number 1 in the queue", timeout=WAIT_MS)
        (customer,) = await server.app[HISTORY].search_customers(q="Bill")
        (contact,) = await server.app[HISTORY].list_contacts(customer.id)
        assert contact.queue == "billing"
        assert site.errors == []
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("overrides", [{"routing": RoutingConfig(capacity={"chat": 1})}])
async def test_a_waiting_customer_is_told_the_expected_wait(server, browser):
    first, agent = await assigned_chat(browser, server, "Ada")   # alice holds her one chat: busy, she can serve
    customer = await open_page(browser, f"{server.url}/chat")
    await customer.page.get_by_label("Your name").fill("Grace")
    await customer.page.get_by_role("button", name="Start chat").click()
    # routing's estimate: (0 ahead + 1) x AHT / 1 agent serving, the AHT being RouterSettings.default_aht_s (300 s)
    # while the queue has handled no contact yet
    await expect(customer.page.locator("#status")).to_have_text(
        "You are number 1 in the queue. Expected wait: about 5 minutes", timeout=WAIT_MS)
    assert first.errors == agent.errors == customer.errors == []
