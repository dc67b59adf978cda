"""The agent desktop and supervisor board in a real browser (Debian's chromium through playwright), with
customers on the chat page in other browser contexts, against the real app on a loopback port: login, offers,
accept, messages both ways, HTML shown as text, reloads, reconnects, a server restart, wrap-up, the board.
"""
from __future__ import annotations

import asyncio
import json
import re

import pytest
from aiohttp import WSCloseCode
from playwright.async_api import WebSocketRoute, expect

from contact_center.intake import Inbound, IntakeError
from contact_center.keys import HISTORY, INTAKE, SOCKETS
from contact_center.queue_settings import parse_queues, parse_routing
from tests import browser as harness
from tests.browser import (
    PASSWORD,
    WAIT_MS,
    accept_first_offer,
    assigned_chat,
    customer_says,
    log_in,
    open_page,
    start_chat,
    texts,
)

# The harness's fixtures, made this module's (pytest finds fixtures among a module's names).
browser, overrides, server = harness.browser, harness.overrides, harness.server

# One browser for the module; each test gets fresh contexts and its own server, so nothing leaks between tests.
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
XSS = "<img src=x onerror=alert(1)>"


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

    # The same customer comes back: the new conversation shows the first one beside it, wrap-up included.
    await chat.get_by_role("button", name="Start a new chat").click()
    await customer_says(chat, "Me again: the parcel arrived, thanks!")
    await desk.locator("#offers .offer").get_by_role("button", name="Accept").click()
    await expect(panel.locator(".messages .msg-in .text")).to_have_text(["Me again: the parcel arrived, thanks!"],
                                                                        timeout=WAIT_MS)
    previous = panel.locator(".timeline > li")
    await expect(previous).to_have_count(1, timeout=WAIT_MS)
    await expect(previous).to_contain_text("5 messages · Resolved")
    await previous.locator("summary").click()
    await expect(previous).to_contain_text("Order located; ships tomorrow.")
    await expect(previous.locator(".prev-event")).to_have_count(7)  # 3 in, 2 out, the note, the wrap-up
    await expect(previous.locator(".prev-event", has_text="Order located; ships tomorrow.")).to_have_count(1)
    await expect(previous.locator(".prev-event").nth(1)).to_contain_text("You")  # alice wrote it

    # Routing's attributes of the new offer (alice is the customer's related agent) stay in the history, and the
    # desktop shows none of them as if they were customer data.
    contact_id = (await panel.get_attribute("id")).removeprefix("panel-")
    _, events = await server.app[HISTORY].get_contact(contact_id)
    alice = await server.app[HISTORY].get_user_by_username("alice")
    offered = [e.data["attributes"] for e in events if "attributes" in (e.data or {})]
    assert offered and all(a["related_agents"] == [str(alice.id)] for a in offered)
    for shown in (panel, desk.locator("#offers")):
        assert "related" not in (await shown.inner_text()).lower()

    for watched in (customer, agent):
        assert watched.dialogs == [] and watched.errors == []


async def test_both_pages_reconnect_when_the_server_drops_their_sockets(server, browser):
    customer, agent = await assigned_chat(browser, server, "Ada")
    chat, desk = customer.page, agent.page

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

    # A reload of the desktop brings back the state, the conversation and its messages.
    await desk.reload()
    await expect(desk.locator("#state-available")).to_be_checked(timeout=WAIT_MS)
    await expect(desk.get_by_role("tab")).to_have_count(1, timeout=WAIT_MS)
    await expect(panel.locator(".messages .msg .text")).to_have_text(["Are you still there?", "Yes, still here."])

    # Logged out elsewhere (same browser): the next reconnect finds no login and goes to the login page.
    await desk.context.request.post(f"{server.url}/api/logout")
    for ws in list(server.app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"test drop")
    await expect(desk).to_have_url(re.compile(r"/login\?next=%2F$"), timeout=WAIT_MS)
    assert customer.errors == [] and agent.errors == []


async def test_concurrent_chats_are_tabs_with_unread_counts(server, browser):
    first = await start_chat(browser, server, "Ada")
    second = await start_chat(browser, server, "Grace", position=2)
    agent = await log_in(browser, server, "/", "alice")
    desk = agent.page
    await desk.locator("#state-switch").get_by_text("Available").click()
    for name in ("Ada", "Grace"):
        await desk.locator("#offers .offer").filter(has_text=name).get_by_role("button", name="Accept").click()
    tabs = desk.get_by_role("tab")
    await expect(tabs).to_have_count(2, timeout=WAIT_MS)
    await expect(desk.get_by_role("tab", name="Ada")).to_have_attribute("aria-selected", "true")

    # A message in the background conversation shows as unread on its tab.
    await customer_says(second.page, "Hello from Grace")
    grace_tab = desk.get_by_role("tab", name="Grace")
    await expect(grace_tab.locator(".tab-badge")).to_have_text("1", timeout=WAIT_MS)

    # Arrow keys move between tabs; the selected one shows its conversation and clears the count.
    await desk.get_by_role("tab", name="Ada").focus()
    await desk.keyboard.press("ArrowDown")
    await expect(grace_tab).to_be_focused()
    await expect(grace_tab).to_have_attribute("aria-selected", "true")
    await expect(grace_tab.locator(".tab-badge")).to_be_hidden()
    panel = desk.get_by_role("tabpanel")
    await expect(panel).to_have_count(1)
    await expect(panel.locator(".conv-title")).to_have_text("Grace")
    await expect(panel.locator(".messages .msg-in .text")).to_have_text(["Hello from Grace"])

    # A reply goes to that customer only.
    await panel.get_by_label("Reply").fill("Hi Grace!")
    await panel.get_by_label("Reply").press("Enter")
    await expect(second.page.locator("#messages li.msg-agent .text")).to_have_text(["Hi Grace!"], timeout=WAIT_MS)
    await expect(first.page.locator("#messages li.msg-agent")).to_have_count(0)
    assert agent.errors == [] and first.errors == [] and second.errors == []


async def test_the_customer_leaves_and_the_agent_ends_and_wraps_up(server, browser):
    customer, agent = await assigned_chat(browser, server, "Radia")
    chat, desk = customer.page, agent.page

    await chat.get_by_role("button", name="End chat").click()
    await expect(chat.locator("#status")).to_have_text("This chat has ended", timeout=WAIT_MS)
    await expect(chat.get_by_role("button", name="Start a new chat")).to_be_focused()
    panel = desk.get_by_role("tabpanel")
    await expect(panel.locator(".messages")).to_contain_text("The customer has left the conversation.",
                                                             timeout=WAIT_MS)
    await expect(desk.get_by_role("tab")).to_contain_text("customer left")

    await panel.get_by_role("button", name="End conversation").click()
    await expect(panel.locator(".messages")).to_contain_text("The conversation has ended.", timeout=WAIT_MS)
    await expect(panel.get_by_label("Reply")).to_be_disabled()
    await expect(panel.get_by_label("Disposition")).to_be_focused()
    await panel.get_by_label("Disposition").select_option("no_response")
    await desk.keyboard.press("Tab")  # the note
    await desk.keyboard.type("Left before we could help.")
    await desk.keyboard.press("Tab")
    await expect(panel.get_by_role("button", name="Finish and wrap up")).to_be_focused()
    await desk.keyboard.press("Enter")
    await expect(desk.get_by_role("tab")).to_have_count(0, timeout=WAIT_MS)
    assert customer.errors == [] and agent.errors == []


async def test_a_server_restart_mid_conversation_loses_and_duplicates_nothing(server, browser):
    customer, agent = await assigned_chat(browser, server, "Margaret")
    chat, desk = customer.page, agent.page
    panel = desk.get_by_role("tabpanel")
    await customer_says(chat, "Before the restart")
    await panel.get_by_label("Reply").fill("Noted.")
    await panel.get_by_label("Reply").press("Enter")
    await expect(chat.locator("#messages li.msg-agent .text")).to_have_text(["Noted."], timeout=WAIT_MS)

    await server.restart()  # routing is in memory: the chat is routed again from the history

    await customer_says(chat, "After the restart")
    offer = desk.locator("#offers .offer")
    await expect(offer).to_contain_text("Margaret", timeout=WAIT_MS)
    await offer.get_by_role("button", name="Accept").click()
    await expect(desk.get_by_role("tab")).to_have_count(1)
    await expect(panel.locator(".messages .msg .text")).to_have_text(
        ["Before the restart", "Noted.", "After the restart"], timeout=WAIT_MS)
    await expect(chat.locator("#messages li:not(.msg-system) .text")).to_have_text(
        ["Before the restart", "Noted.", "After the restart"])
    await expect(desk.locator("#state-available")).to_be_checked()
    assert customer.errors == [] and agent.errors == []


async def test_a_long_history_pages_in_beside_the_conversation(server, browser):
    await start_chat(browser, server, "Frances")
    history = server.app[HISTORY]
    [customer] = await history.search_customers(q="Frances")
    earlier = await history.open_contact(customer.id, "sms", "general")
    await asyncio.gather(*(history.append_event(earlier.id, "message.in", {"text": f"sms {i}"}, direction="in")
                           for i in range(250)))
    agent = await log_in(browser, server, "/", "alice")
    desk = agent.page
    await accept_first_offer(desk)
    panel = desk.get_by_role("tabpanel")
    previous = panel.locator(".timeline > li")
    more = panel.get_by_role("button", name="Show earlier contacts")
    await expect(more).to_be_visible(timeout=WAIT_MS)  # the first page of the timeline is not all of it
    await expect(previous.locator(".prev-info")).not_to_contain_text("250 messages")
    await more.click()
    await expect(previous).to_contain_text("250 messages", timeout=WAIT_MS)
    await expect(more).to_be_hidden()
    assert agent.errors == []


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


async def test_a_reply_lost_with_the_agent_socket_is_marked_and_offered_again(server, browser):
    customer = await start_chat(browser, server, "Hedy")
    chat = customer.page
    agent = await open_page(browser, "about:blank")
    desk = agent.page
    lost: list[str] = []

    async def route(ws: WebSocketRoute) -> None:
        # The first reply the desktop sends dies with its socket; everything else passes.
        upstream = ws.connect_to_server()

        async def to_server(message: str | bytes) -> None:
            if json.loads(message).get("type") == "reply" and not lost:
                lost.append(str(message))
                await ws.close()
                return
            upstream.send(message)

        ws.on_message(to_server)

    await desk.route_web_socket(re.compile(r".*/ws/agent$"), route)
    await desk.goto(f"{server.url}/login?next=/")
    await desk.get_by_label("Username").fill("alice")
    await desk.get_by_label("Password").fill(PASSWORD)
    await desk.get_by_role("button", name="Log in").click()
    await accept_first_offer(desk)
    panel = desk.get_by_role("tabpanel")
    reply = panel.get_by_label("Reply")
    await reply.fill("This one is lost")
    await reply.press("Enter")
    failed = panel.locator(".messages .msg-out.failed")
    await expect(failed.locator(".text")).to_have_text("This one is lost", timeout=WAIT_MS)
    await expect(reply).to_have_value("This one is lost")  # offered again, to send once more
    await reply.press("Enter")
    await expect(chat.locator("#messages li.msg-agent .text")).to_have_text(["This one is lost"], timeout=WAIT_MS)
    assert lost and agent.errors == []


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
    await expect(agent_row.locator(".badge")).to_have_text("Away · break", timeout=WAIT_MS)  # the page's default
    await expect(page.locator("#t-waiting")).to_have_text("1")
    await expect(page.locator("#updated")).to_have_text(re.compile(r"^Updated "))
    await expect(page.get_by_role("link", name="Supervisor")).to_be_visible()

    # The supervisor puts alice back to work from the board; her desktop follows and gets the waiting chat.
    await page.get_by_label("Set the state of alice").select_option("available")
    await expect(agent_row.locator(".badge")).to_have_text("Available", timeout=WAIT_MS)
    await expect(agent.page.locator("#state-available")).to_be_checked(timeout=WAIT_MS)
    await expect(agent.page.locator("#offers .offer")).to_contain_text("Barbara", timeout=WAIT_MS)
    # Occupancy (the last column): once alice holds the chat, nearly all of her time since she became available
    occupancy = queue_row.locator("td").last
    await expect(page.locator("#queues thead th").last).to_have_text("Occupancy")
    await agent.page.locator("#offers .offer").get_by_role("button", name="Accept").click()
    await expect(occupancy).to_have_text(re.compile(r"^(9\d|100)%$"), timeout=3 * WAIT_MS)
    # and alice's own occupancy in her row (the column titled so), from routing's figures of her
    titles = [t.strip() for t in await page.locator("#agents thead th").all_text_contents()]
    agent_occupancy = agent_row.locator("td").nth(titles.index("Occupancy") - 1)  # cells after the row header
    await expect(agent_occupancy).to_have_text(re.compile(r"^(9\d|100)%$"), timeout=3 * WAIT_MS)

    # An agent who opens the board sees the queues but is told the agents are for supervisors.
    await agent.page.goto(f"{server.url}/supervisor")
    await expect(agent.page.locator("#board-error")).to_have_text("Only supervisors and admins can see the agents.",
                                                                  timeout=WAIT_MS)
    await expect(agent.page.locator("#queues tbody th")).to_have_text(["general"])
    await expect(agent.page.get_by_role("link", name="Supervisor")).to_be_hidden()
    assert board.errors == [] and agent.errors == []


@pytest.mark.parametrize("overrides", [{"queues": parse_queues({"billing": {
    "skills": "billing >= 3", "overflow": "general", "hours": "daily 00:00-24:00", "timezone": "Europe/Berlin"}})}])
async def test_supervisor_board_shows_each_queues_configuration(server, browser):
    board = await log_in(browser, server, "/supervisor", "sam")
    page = board.page
    billing = page.locator("#queues tbody th").filter(has_text="billing")
    await expect(billing.locator(".queue-config")).to_have_text(
        "billing >= 3 · overflow → general · daily 00:00-24:00 Europe/Berlin", timeout=WAIT_MS)
    general = page.locator("#queues tbody th").filter(has_text=re.compile(r"^general$"))
    await expect(general).to_have_count(1)
    await expect(general.locator(".queue-config")).to_have_count(0)  # no table: nothing to show
    assert board.errors == []


async def test_an_agent_going_away_picks_a_reason_that_the_board_shows_with_the_time(server, browser):
    agent = await log_in(browser, server, "/", "alice")
    desk = agent.page
    picker = desk.get_by_label("Away reason")
    await expect(desk.locator("#state-switch")).to_be_enabled()
    await expect(picker).to_be_hidden()                                  # available or offline: no reason
    await desk.locator("#state-switch").get_by_text("Away").click()
    await expect(picker).to_be_visible()
    await expect(picker).to_be_focused()                                 # ready to say why
    await expect(picker.locator("option")).to_have_text(["Break", "Lunch", "Meeting", "Training", "Other"])
    await expect(picker).to_have_value("break")                          # the list's first until one is chosen
    await picker.select_option("lunch")

    board = await log_in(browser, server, "/supervisor", "sam")
    page = board.page
    agent_row = page.locator("#agents tbody tr").filter(has=page.get_by_role("rowheader", name="alice"))
    await expect(agent_row.locator(".badge")).to_have_text("Away · lunch", timeout=WAIT_MS)
    await expect(agent_row.locator(".since")).to_have_text(re.compile(r"^for 0:\d\d$"))

    # The board's Change menu offers the same reasons; the desktop follows with the supervisor's.
    change = page.get_by_label("Set the state of alice")
    await expect(change.locator("optgroup[label=Away] option")).to_have_text(
        ["Away · Break", "Away · Lunch", "Away · Meeting", "Away · Training", "Away · Other"])
    await change.select_option(label="Away · Meeting")
    await expect(agent_row.locator(".badge")).to_have_text("Away · meeting", timeout=WAIT_MS)
    await expect(picker).to_have_value("meeting", timeout=WAIT_MS)
    # An away without a reason (the API allows it) shows as such on the desktop; the agent then says why.
    alice = next(a for a in (await (await page.request.get(f"{server.url}/api/agents")).json())["items"]
                 if a["username"] == "alice")
    await page.request.post(f"{server.url}/api/agents/{alice['id']}/state", data={"state": "away"})
    await expect(agent_row.locator(".badge")).to_have_text("Away", timeout=WAIT_MS)
    await expect(picker.locator("option:checked")).to_have_text("No reason given", timeout=WAIT_MS)
    await picker.select_option("training")
    await expect(agent_row.locator(".badge")).to_have_text("Away · training", timeout=WAIT_MS)
    # A reload keeps the reason (the reloaded desktop asks for it again once connected); available hides it.
    await desk.reload()
    await expect(desk.get_by_label("Away reason")).to_have_value("training", timeout=WAIT_MS)
    await expect(desk.locator("#state-switch")).to_be_enabled()
    await page.get_by_label("Set the state of alice").select_option("available")
    await expect(desk.locator("#state-available")).to_be_checked(timeout=WAIT_MS)
    await expect(picker).to_be_hidden()
    await desk.locator("#state-switch").get_by_text("Away").click()      # a new away starts at the first again
    await expect(picker).to_have_value("break")
    await expect(agent_row.locator(".badge")).to_have_text("Away · break", timeout=WAIT_MS)
    assert agent.errors == [] and board.errors == [] and agent.dialogs == []


@pytest.mark.parametrize("overrides", [{"routing": parse_routing({"offer_timeout_s": {"chat": 1},
                                                                  "max_missed_offers": 1})}])
async def test_a_reconnect_keeps_the_away_routing_set_and_its_reason(server, browser):
    await start_chat(browser, server, "Rosalind")
    agent = await open_page(browser, "about:blank")
    desk = agent.page
    sockets: list[WebSocketRoute] = []

    async def route(ws: WebSocketRoute) -> None:  # passes everything through, counting the desktop's sockets
        sockets.append(ws)
        ws.connect_to_server()

    await desk.route_web_socket(re.compile(r".*/ws/agent$"), route)
    await desk.goto(f"{server.url}/login?next=/")
    await desk.get_by_label("Username").fill("alice")
    await desk.get_by_label("Password").fill(PASSWORD)
    await desk.get_by_role("button", name="Log in").click()
    await desk.locator("#state-switch").get_by_text("Available").click()
    # Rosalind's offer (shown for its 1 s only: not waited for, a loaded machine may render it late) runs out
    # unanswered: routing pauses alice
    picker = desk.get_by_label("Away reason")
    await expect(picker.locator("option:checked")).to_have_text("Missed offers")
    await expect(desk.locator("#state-away")).to_be_checked()

    for ws in list(server.app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"test drop")
    for _ in range(WAIT_MS // 100):  # until the desktop is back on a new socket
        if len(sockets) == 2:
            break
        await asyncio.sleep(0.1)
    assert len(sockets) == 2
    await expect(desk.locator("#connection")).to_be_hidden()

    # The server still has routing's away with its reason: the reconnected desktop did not overwrite it.
    board = await log_in(browser, server, "/supervisor", "sam")
    agent_row = board.page.locator("#agents tbody tr").filter(has=board.page.get_by_role("rowheader", name="alice"))
    await expect(agent_row.locator(".badge")).to_have_text("Away · missed offers")
    await expect(picker.locator("option:checked")).to_have_text("Missed offers")
    await expect(desk.locator("#state-away")).to_be_checked()
    await picker.select_option("lunch")  # until the agent acts
    await expect(agent_row.locator(".badge")).to_have_text("Away · lunch")
    assert agent.errors == [] and board.errors == []


@pytest.mark.parametrize("overrides", [{"queues": parse_queues({"vip": {"max_length": 0, "overflow": "general"},
                                                                "full": {"max_length": 0}})}])
async def test_supervisor_board_counts_what_each_queue_refused_or_overflowed(server, browser):
    intake = server.app[INTAKE]
    await intake.receive(Inbound("sms", "phone", "+14155550100", text="hi", queue="vip"))   # on to general
    for number in ("+14155550101", "+14155550102"):
        with pytest.raises(IntakeError):
            await intake.receive(Inbound("sms", "phone", number, text="hi", queue="full"))
    board = await log_in(browser, server, "/supervisor", "sam")
    page = board.page
    counts = {name: page.locator("#queues tbody th").filter(has_text=re.compile(f"^{name}")).locator(".queue-counts")
              for name in ("vip", "full", "general")}
    await expect(counts["vip"]).to_have_text("1 overflowed", timeout=WAIT_MS)
    await expect(counts["full"]).to_have_text("2 refused")
    await expect(counts["general"]).to_have_count(0)                    # it took the contact: nothing turned away
    assert board.errors == []
