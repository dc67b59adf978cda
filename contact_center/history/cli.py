"""`contact-center customer merge KEEP OTHER`."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from contact_center.history.migrations import upgrade
from contact_center.history.store import History

if TYPE_CHECKING:
    from contact_center.settings import Settings


async def merge_customers_from_cli(settings: Settings, keep: str, other: str) -> dict[str, Any]:
    """Merge customer `other` into `keep`; the surviving customer and its profile as a JSON-able dict."""
    await asyncio.to_thread(upgrade, settings.database_url)
    history = await History.connect(settings.database_url)
    try:
        customer = await history.merge_customers(keep, other)
        profile = await history.profile(customer.id)
        return {"customer": customer.to_json(), "merged": str(other), "profile": profile.to_json()}
    finally:
        await history.close()
