"""Record, transfer (blind, bridge, consultation), disconnect, submit, object."""
from __future__ import annotations

from tests.voicexml.talk import NOINPUT, converse, dtmf, said, voice, write


def test_record_keeps_recording_and_shadow_variables(tmp_path):
    body = """
    <form>
      <record name="msg" maxtime="10s" dtmfterm="true">
        <prompt>Speak after the tone.</prompt>
        <noinput><prompt>nothing heard</prompt></noinput>
        <filled><prompt><value expr="msg"/> <value expr="msg$.duration > 0"/></prompt></filled>
      </record>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "r.vxml", body), NOINPUT, voice("please call me back"))
    assert [e["event"] for e in events][:3] == ["prompt", "record", "prompt"]
    assert events[1] == {"event": "record", "name": "msg", "maxtime_ms": 10000, "dtmfterm": True}
    assert said(events)[-1] == "please call me back true"


def test_bridge_and_blind_transfer(tmp_path):
    body = """
    <catch event="connection.disconnect.transfer"><prompt>gone <value expr="typeof blind"/></prompt><exit/></catch>
    <form>
      <transfer name="call" destexpr="'tel:+1' + '5550100'" bridge="true" aai="ref42">
        <filled><prompt><value expr="call"/></prompt></filled>
      </transfer>
      <transfer name="blind" dest="sip:queue@example.org" type="blind"/>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "t.vxml", body), {"input": "transfer", "result": "busy"})
    transfers = [e for e in events if e["event"] == "transfer"]
    assert transfers[0] == {"event": "transfer", "dest": "tel:+15550100", "bridge": True, "type": "bridge",
                            "aai": "ref42"}
    assert transfers[1]["bridge"] is False
    assert said(events) == ["busy", "gone undefined"]


def test_disconnect_runs_the_hangup_handler_then_reports(tmp_path):
    body = """
    <catch event="connection.disconnect.hangup"><log>cleanup</log></catch>
    <form><block><prompt>bye</prompt><disconnect/><prompt>not after disconnect</prompt></block></form>
    """
    events, outcome, _ = converse(write(tmp_path, "d.vxml", body))
    assert [e["event"] for e in events] == ["prompt", "log", "disconnect", "exit"]
    assert outcome.status == "exit"



def test_disconnect_namelist_goes_to_the_platform(tmp_path):
    path = write(tmp_path, "d.vxml", """
    <var name="reason" expr="'done'"/>
    <form><var name="n" expr="3"/><block><disconnect namelist="reason n"/></block></form>""")
    events, _, _ = converse(path)
    assert events[-2:] == [{"event": "disconnect", "namelist": {"reason": "done", "n": 3}},
                           {"event": "exit", "expr": None, "namelist": {}}]

def test_submit_reports_and_fetches(tmp_path):
    write(tmp_path, "next.vxml", "<form><block><prompt>next page</prompt></block></form>")
    body = """
    <form>
      <field name="acct" type="digits"><prompt>account</prompt></field>
      <block><submit next="next.vxml" method="post" namelist="acct"/></block>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "s.vxml", body), dtmf("77"))
    sub = next(e for e in events if e["event"] == "submit")
    assert sub["method"] == "post" and sub["namelist"] == {"acct": "77"} and sub["next"].endswith("next.vxml")
    assert said(events)[-1] == "next page"


def test_object_is_unsupported(tmp_path):
    # 2.3.5 and 5.2.6: an unsupported object is error.unsupported.objectname, "objectname" being a fixed string.
    body = """
    <form><catch event="error.unsupported.objectname"><prompt><value expr="_event"/></prompt><exit/></catch>
      <object name="o" classid="builtin://x"/></form>
    """
    assert said(converse(write(tmp_path, "o.vxml", body))[0]) == ["error.unsupported.objectname"]


def test_a_dtmf_key_ends_a_recording_and_is_its_termchar(tmp_path):
    # The first key ends the recording, so it is the termchar even when the caller typed more.
    body = """
    <form>
      <record name="m" dtmfterm="true"><prompt>Speak.</prompt>
        <filled><prompt>term <value expr="m$.termchar"/></prompt></filled>
      </record>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "t.vxml", body), dtmf("1234"))
    assert said(events)[-1] == "term 1"


def test_consultation_transfer_disconnects_when_it_connects_and_returns_when_it_fails(tmp_path):
    body = """
    <catch event="connection.disconnect.transfer"><prompt>connected, bye</prompt><exit/></catch>
    <form>
      <transfer name="c" dest="tel:+15550100" type="consultation">
        <filled><prompt>attempt: <value expr="c"/></prompt><clear namelist="c"/></filled>
      </transfer>
    </form>
    """
    path = write(tmp_path, "c.vxml", body)
    busy, connected = {"input": "transfer", "result": "busy"}, {"input": "transfer", "result": "far_end_disconnect"}
    events, outcome, _ = converse(path, busy, {"input": "transfer", "result": "noanswer"}, connected)
    assert said(events) == ["attempt: busy", "attempt: noanswer", "connected, bye"]
    assert outcome.status == "exit"


def test_record_cut_off_by_maxtime_says_so(tmp_path):
    # 2.3.6: name$.maxtime is true when the recording ended because maxtime was reached (text mode: 400 ms a word).
    body = """
    <form>
      <record name="short" maxtime="1s"/>
      <record name="long" maxtime="10s"/>
      <block><prompt><value expr="short$.maxtime"/> <value expr="short$.duration"/>
        <value expr="long$.maxtime"/> <value expr="long$.duration"/></prompt></block>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "r.vxml", body), voice("one two three four five"), voice("hi there"))
    assert said(events) == ["true 1000 false 800"]


def test_a_bridged_transfer_listens_to_its_own_grammars_and_names_its_transferaudio(tmp_path):
    # 2.3.7: the caller ends a bridged transfer with input matching the <transfer>'s grammars; transferaudio is
    # what the caller hears while the far end is being called.
    from voicexml import NullPlatform, Session, TransferResult

    class Phone(NullPlatform):
        def transfer(self, request):  # type: ignore[no-untyped-def]
            self.request = request
            return TransferResult("near_end_disconnect", 2000)

    path = write(tmp_path, "t.vxml", """
    <form>
      <transfer name="t" dest="tel:+15550100" bridge="true" transferaudio="audio/ring.wav">
        <grammar mode="dtmf" root="r"><rule id="r">5</rule></grammar>
      </transfer>
    </form>
    """)
    phone = Phone()
    Session(phone).run(str(path))
    own = phone.request.grammars[0]
    assert own.owner.tag == "transfer" and own.grammar.match("5") is not None
    assert phone.request.transferaudio == (tmp_path / "audio" / "ring.wav").as_uri()


def test_transfer_shadow_variables_say_how_the_caller_ended_it(tmp_path):
    # 2.3.7: name$.utterance / name$.inputmode are the input that ended the transfer, else undefined.
    from voicexml import NullPlatform, Session, TransferResult

    class Phone(NullPlatform):
        def __init__(self, result: TransferResult) -> None:
            self.result, self.said = result, []

        def transfer(self, request):  # type: ignore[no-untyped-def]
            return self.result

        def queue_prompt(self, prompt):  # type: ignore[no-untyped-def]
            self.said.append(prompt.text)

    path = write(tmp_path, "t.vxml", """
    <form>
      <transfer name="t" dest="tel:+15550100" bridge="true">
        <grammar mode="dtmf" root="r"><rule id="r">5</rule></grammar>
        <filled><prompt><value expr="t"/> <value expr="typeof t$.utterance"/> <value expr="t$.inputmode"/>
          <value expr="t$.duration"/></prompt></filled>
      </transfer>
    </form>
    """)
    answered = Phone(TransferResult("far_end_disconnect", 4000))
    Session(answered).run(str(path))
    assert answered.said == ["far_end_disconnect undefined undefined 4"]
    ended = Phone(TransferResult("near_end_disconnect", 1500, utterance="5", inputmode="dtmf"))
    Session(ended).run(str(path))
    assert ended.said == ["near_end_disconnect string dtmf 1.5"]
