"""The in-process hub: delivery by topic, independent listeners, and a listener that falls behind is closed."""
from __future__ import annotations

from contact_center.hub import Hub, agent_topic, contact_topic


async def test_messages_reach_every_listener_of_their_topic_only():
    hub = Hub()
    with hub.subscribe(agent_topic("1")) as a, hub.subscribe(agent_topic("1")) as b, \
            hub.subscribe(contact_topic("1")) as c:
        assert hub.publish(agent_topic("1"), {"type": "x"}) == 2
        assert await a.get() == {"type": "x"} and await b.get() == {"type": "x"}
        assert c.queue.empty()
        assert hub.listeners(agent_topic("1")) == 2
    assert hub.listeners(agent_topic("1")) == 0
    assert hub.publish(agent_topic("1"), {"type": "y"}) == 0


async def test_a_listener_that_falls_behind_is_closed_and_others_go_on():
    hub = Hub(max_pending=3)
    with hub.subscribe("t") as slow, hub.subscribe("t") as fast:
        for i in range(3):
            hub.publish("t", {"n": i})
            assert await fast.get() == {"n": i}
        hub.publish("t", {"n": 3})  # the slow one has 3 pending: it overflows
        assert slow.overflowed and await slow.get() is None
        assert await fast.get() == {"n": 3}


async def test_close_all_ends_every_subscription():
    hub = Hub()
    with hub.subscribe("a") as a, hub.subscribe("b") as b:
        hub.publish("a", {"n": 1})
        hub.close_all()
        assert await a.get() is None and await b.get() is None
