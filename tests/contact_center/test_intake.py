"""Intake, the way in for every channel: identify, open or continue, record before returning, route new contacts."""
from __future__ import annotations

import pytest

from contact_center.intake import Inbound, IntakeError
from contact_center.keys import HISTORY, INTAKE
from tests.harness import settle


async def test_an_sms_opens_a_contact_and_the_next_continues_it(cc):
    intake, history = cc.server.app[INTAKE], cc.server.app[HISTORY]
    contact, event, new = await intake.receive(Inbound("sms", "phone", "+44 20 7946 0018", text="hello",
                                                       client_id="SM1"))
    assert new and event.data["text"] == "hello" and event.direction == "in"
    customer = await history.get_customer(contact.customer_id)
    assert customer.phones == ["+442079460018"]
    again, second, new_again = await intake.receive(Inbound("sms", "phone", "+442079460018", text="still me",
                                                            client_id="SM2"))
    assert again.id == contact.id and not new_again
    # a redelivered webhook (same client id) is the same event
    _, dup, _ = await intake.receive(Inbound("sms", "phone", "+442079460018", text="still me", client_id="SM2"))
    assert dup.id == second.id
    await settle(cc)
    stored, events = await history.get_contact(contact.id)
    assert stored.state.value == "queued" and stored.queue == "general"
    assert [e.type for e in events] == ["message.in", "queue.joined", "message.in"]


@pytest.mark.parametrize("inbound, code", [
    (Inbound("sms", "phone", "not a number", text="hi"), "bad_identity"),
    (Inbound("sms", "phone", "+442079460018", text="x" * 201), "too_large"),
    (Inbound("sms", "phone", "+442079460018", text="  "), "empty"),
])
async def test_refused_input_creates_nothing(cc, inbound, code):
    with pytest.raises(IntakeError) as e:
        await cc.server.app[INTAKE].receive(inbound)
    assert e.value.code == code
    assert await cc.server.app[HISTORY].search_customers(phone="+442079460018") == []
