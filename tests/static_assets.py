"""What the page tests share: load a page's static assets and every module they import, as a browser would."""
from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

LINKED = re.compile(r'(?:src|href)="(/static/[^"?]+)(?:\?v=[0-9a-f]{10})?"')
IMPORTED = re.compile(r'from "([\w./-]+)"')


async def load_assets(client: TestClient, page: str) -> set[str]:
    """Every /static/ path `page` links, directly or through module imports; asserts each one loads."""
    html = await (await client.get(page)).text()
    pending = LINKED.findall(html)
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        resp = await client.get(path)
        assert resp.status == 200, path
        if path.endswith(".js"):
            assert "javascript" in resp.content_type, path
            folder = path.rsplit("/", 1)[0]
            for target in IMPORTED.findall(await resp.text()):
                pending.append(target if target.startswith("/") else f"{folder}/{target.removeprefix('./')}")
    return seen
