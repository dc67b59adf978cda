"""Benchmark of the pages in a real browser: widget weight, time to a usable page, message latency on screen.

    python3 bench/pages.py [--loads 20] [--messages 50]

Runs the whole app on a loopback port (SQLite in a temporary folder) and Debian's chromium through playwright:

1. Weight: bytes of the chat page and every script and style it loads (uncompressed). Target <= 40 KB, so the
   widget costs a customer's site next to nothing.
2. Ready: `--loads` fresh loads of /chat (new browser context each, so nothing is cached) until the pre-chat
   form works (its module has run), and of the agent desktop until its state switch is enabled (login checked,
   socket open, the agent's state received). Targets: median <= 300 ms (chat) and <= 500 ms (desktop).
3. Latency: `--messages` messages typed on the chat page, each timed from the Enter key to the moment it is shown
   on the agent's desktop (socket, durable write, routing to the agent, rendering). Target p95 <= 250 ms with
   SQLite on loopback.

Prints one JSON object with the figures and whether each target is met.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from aiohttp import web
from playwright.async_api import Browser, async_playwright

from contact_center.app import create_app
from contact_center.keys import HISTORY
from contact_center.settings import Settings

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PASSWORD = "bench-password-1"
TARGETS = {"widget_kb": 40.0, "chat_ready_ms_median": 300.0, "desktop_ready_ms_median": 500.0,
           "message_ms_p95": 250.0}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _weight(browser: Browser, url: str) -> float:
    context = await browser.new_context()
    page = await context.new_page()
    sizes: list[int] = []

    async def on_response(response) -> None:
        if response.url.startswith(url) and response.status == 200:
            sizes.append(len(await response.body()))

    page.on("response", on_response)
    await page.goto(f"{url}/chat", wait_until="networkidle")
    await context.close()
    return sum(sizes) / 1024


async def _ready(browser: Browser, url: str, loads: int) -> tuple[list[float], list[float]]:
    chat_ms: list[float] = []
    desk_ms: list[float] = []
    login = await browser.new_context()
    page = await login.new_page()
    await page.goto(f"{url}/login")
    await page.get_by_label("Username").fill("bench")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"{url}/")
    cookies = await login.cookies()
    await login.close()
    for _ in range(loads):
        context = await browser.new_context()
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(f"{url}/chat", wait_until="commit")
        await page.get_by_role("button", name="Start chat").wait_for()
        await page.wait_for_load_state("load")  # module scripts have run by then
        chat_ms.append((time.perf_counter() - start) * 1000)
        await context.close()

        context = await browser.new_context()
        await context.add_cookies(cookies)
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(f"{url}/", wait_until="commit")
        await page.wait_for_selector("#state-switch:not([disabled])")
        desk_ms.append((time.perf_counter() - start) * 1000)
        await context.close()
    return chat_ms, desk_ms


async def _latency(browser: Browser, url: str, messages: int) -> list[float]:
    customer = await (await browser.new_context()).new_page()
    await customer.goto(f"{url}/chat")
    await customer.get_by_label("Your name").fill("Bench Customer")
    await customer.get_by_role("button", name="Start chat").click()
    agent = await (await browser.new_context()).new_page()
    await agent.goto(f"{url}/login")
    await agent.get_by_label("Username").fill("bench")
    await agent.get_by_label("Password").fill(PASSWORD)
    await agent.get_by_role("button", name="Log in").click()
    await agent.wait_for_url(f"{url}/")
    await agent.locator("#state-switch").get_by_text("Available").click()
    await agent.locator("#offers .offer").get_by_role("button", name="Accept").click()
    incoming = agent.locator(".messages .msg-in")
    await agent.get_by_role("tabpanel").wait_for()
    box = customer.get_by_label("Your message")
    out: list[float] = []
    for i in range(messages):
        before = await incoming.count()
        await box.fill(f"bench message {i}")
        start = time.perf_counter()
        await box.press("Enter")
        await incoming.nth(before).wait_for()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def main(loads: int, messages: int) -> dict[str, object]:
    folder = tempfile.mkdtemp(prefix="cc-bench-pages-")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{folder}/cc.db", secret_key="bench-secret",
                        offer_timeout_s=60.0)
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    await app[HISTORY].create_user("bench", "agent", PASSWORD, {}, [])
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            widget_kb = await _weight(browser, url)
            chat_ms, desk_ms = await _ready(browser, url, loads)
            latency = await _latency(browser, url, messages)
            await browser.close()
    finally:
        await runner.cleanup()
    figures = {
        "widget_kb": round(widget_kb, 1),
        "chat_ready_ms_median": round(statistics.median(chat_ms), 1),
        "chat_ready_ms_p95": round(_pct(chat_ms, 0.95), 1),
        "desktop_ready_ms_median": round(statistics.median(desk_ms), 1),
        "desktop_ready_ms_p95": round(_pct(desk_ms, 0.95), 1),
        "message_ms_median": round(statistics.median(latency), 1),
        "message_ms_p95": round(_pct(latency, 0.95), 1),
        "loads": loads,
        "messages": messages,
    }
    figures["targets_met"] = {k: figures[k] <= v for k, v in TARGETS.items()}  # type: ignore[operator]
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.loads, args.messages)), indent=2))
