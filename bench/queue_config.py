"""What configured queues cost: the business-hours hook routing calls on every enqueue, and reading a settings file.

    python3 bench/queue_config.py

Prints, in this thread's CPU time (`time.thread_time_ns`, immune to other processes on a shared machine):
  * the hook (`BusinessHours(epoch)`: a time-zone conversion and a rule check) per call, beside a baseline of
    `datetime.fromtimestamp(epoch, UTC)` so the figure reads as a ratio on a noisy machine;
  * `Router.enqueue` (in-memory store, nobody available) per contact into a queue with and without hours;
  * `Settings.load` of a file with 200 `[queues.*]` tables (chained overflows, escalations, hours): once at start.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contact_center.business_hours import parse_business_hours
from contact_center.settings import Settings
from routing import MemoryStore, QueueConfig, Router, Task

CALLS = 200_000
TASKS = 20_000
QUEUES = 200


def per_call_us(fn, n: int) -> float:
    start = time.thread_time_ns()
    for i in range(n):
        fn(1_780_000_000.0 + i * 37.0)
    return (time.thread_time_ns() - start) / n / 1000


async def enqueue_us(hours) -> float:
    router = Router(MemoryStore())
    await router.add_queue(QueueConfig("q", business_hours=hours))
    start = time.thread_time_ns()
    for i in range(TASKS):
        await router.enqueue(Task(id=f"t{i}", queue="q", channel="chat"))
    return (time.thread_time_ns() - start) / TASKS / 1000


def settings_file() -> str:
    lines = ['[routing]\nskills = ["billing", "sales"]\n']
    for i in range(QUEUES):
        target = f'overflow = "q{i - 1}"\n' if i else ""
        lines.append(f'[queues.q{i}]\nskills = "billing >= {1 + i % 5} or sales"\n{target}'
                     f'hours = "mon-fri 08:00-18:00; sat 09:00-13:00"\ntimezone = "Europe/Berlin"\n'
                     f'escalation = [{{after_s = 60, skills = "billing"}}]\n')
    return "\n".join(lines)


def main() -> None:
    hours = parse_business_hours("mon-fri 08:00-18:00; sat 09:00-13:00", "Europe/Berlin")
    base = per_call_us(lambda t: datetime.fromtimestamp(t, UTC), CALLS)
    hook = per_call_us(hours, CALLS)
    print(f"baseline datetime.fromtimestamp(UTC): {base:7.2f} us/call")
    print(f"business-hours hook:                  {hook:7.2f} us/call ({hook / base:.1f}x baseline)")
    plain = asyncio.run(enqueue_us(None))
    timed = asyncio.run(enqueue_us(lambda t: True))
    open_hours = asyncio.run(enqueue_us(parse_business_hours("daily 00:00-24:00", "Europe/Berlin")))
    print(f"enqueue, no hours:                    {plain:7.2f} us/contact")
    print(f"enqueue, a trivial hook:              {timed:7.2f} us/contact")
    print(f"enqueue, business hours:              {open_hours:7.2f} us/contact "
          f"(+{open_hours - plain:.2f} us, {100 * (open_hours - plain) / plain:.0f}%)")
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(settings_file())
    start = time.thread_time_ns()
    settings = Settings.load({}, f.name)
    elapsed_ms = (time.thread_time_ns() - start) / 1e6
    Path(f.name).unlink()
    print(f"Settings.load, {len(settings.queues)} queues:           {elapsed_ms:7.1f} ms (once, at start)")


if __name__ == "__main__":
    main()
