"""Settings reach the services the app assembles (not only the defaults)."""
import pytest

from contact_center.keys import HISTORY
from tests.harness import add_user, logged_in


@pytest.mark.parametrize("cc_settings", [{"phone_region": "GB"}], indirect=True)
async def test_the_phone_region_setting_shapes_identity_resolution(cc, aiohttp_client):
    history = cc.server.app[HISTORY]
    customer = await history.identify("phone", "020 7946 0018", name="Ada")
    assert customer.phones == ["+442079460018"]
    await add_user(cc, "sam", role="supervisor")
    sam = await logged_in(aiohttp_client, cc, "sam")
    resp = await sam.get("/api/customers", params={"phone": "020 7946 0018"})
    assert resp.status == 200
    assert [c["id"] for c in (await resp.json())["items"]] == [customer.id]
