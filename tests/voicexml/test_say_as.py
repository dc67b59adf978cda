"""`<say-as>` spoken forms in prompt text: date, time, currency, numbers, telephone; unknown kinds as written."""
from __future__ import annotations

import pytest

from tests.voicexml.talk import converse, said, write
from voicexml.ssml import cardinal_words, ordinal_words, spoken_form


@pytest.mark.parametrize("text, interpret_as, fmt, spoken", [
    ("12/25/2024", "date", "mdy", "December twenty fifth twenty twenty four"),
    ("25.12.1999", "date", "dmy", "December twenty fifth nineteen ninety nine"),
    ("2005-03-01", "date", None, "March first two thousand five"),
    ("7/4", "date", "md", "July fourth"),
    ("15:30", "time", None, "fifteen thirty"),
    ("15:30", "time", "hms12", "three thirty p m"),
    ("3:05pm", "time", None, "three oh five p m"),
    ("7 am", "time", None, "seven a m"),
    ("$12.50", "currency", None, "twelve dollars and fifty cents"),
    ("USD1.01", "currency", None, "one dollar and one cent"),
    ("12.30", "currency", "usd", "twelve dollars and thirty cents"),
    ("€3", "currency", None, "three euros"),
    ("1,234", "number", None, "one thousand two hundred thirty four"),
    ("-3.05", "cardinal", None, "minus three point zero five"),
    ("3rd", "number", "ordinal", "third"),
    ("42", "ordinal", None, "forty second"),
    ("(800) 555-1212", "telephone", None, "eight zero zero, five five five, one two one two"),
    ("+1 555 1212 x42", "telephone", None, "plus one, five five five, one two one two, extension four two"),
    # Text a renderer cannot read, and unknown kinds, are spoken as written.
    ("13/40/2020", "date", "mdy", "13/40/2020"),
    ("soon", "time", None, "soon"),
    ("12 zorkmids", "currency", None, "12 zorkmids"),
    ("1/2/3", "vegetable", None, "1/2/3"),
])
def test_spoken_form(text, interpret_as, fmt, spoken):
    assert spoken_form(text, interpret_as, fmt) == spoken


def test_number_words():
    assert cardinal_words(0) == "zero"
    assert cardinal_words(1_000_001) == "one million one"
    assert cardinal_words(2_500_000_000) == "two billion five hundred million"
    assert [ordinal_words(n) for n in (1, 2, 3, 5, 8, 9, 12, 20, 100)] == [
        "first", "second", "third", "fifth", "eighth", "ninth", "twelfth", "twentieth", "one hundredth"]


def test_say_as_in_a_prompt_uses_format_and_value(tmp_path):
    body = """
    <form><block><prompt>Due <say-as interpret-as="date" format="mdy">12/25/2024</say-as>,
      <say-as interpret-as="currency"><value expr="'$' + (2 + 0.5).toFixed(2)"/></say-as>.</prompt></block></form>
    """
    events, _, _ = converse(write(tmp_path, "s.vxml", body))
    assert said(events) == ["Due December twenty fifth twenty twenty four, two dollars and fifty cents."]


@pytest.mark.parametrize("text, interpret_as, spoken", [
    ("????0303", "vxml:date", "March third"),
    ("20240315", "vxml:date", "March fifteenth twenty twenty four"),
    ("2024????", "vxml:date", "twenty twenty four"),
    ("2024??15", "vxml:date", "2024??15"),  # a day without its month is not a date
    ("0330p", "vxml:time", "three thirty p m"),
    ("1500h", "vxml:time", "fifteen hundred"),
    ("0345?", "vxml:time", "three forty five"),
    ("USD12.34", "vxml:currency", "twelve dollars and thirty four cents"),
    ("9.99", "vxml:currency", "nine point nine nine"),
    ("true", "vxml:boolean", "yes"),
    ("false", "vxml:boolean", "no"),
    ("-12.5", "vxml:number", "minus twelve point five"),
    ("0123", "vxml:digits", "zero one two three"),
    ("8005551212x42", "vxml:phone", "eight zero zero five five five one two one two, extension four two"),
])
def test_builtin_types_as_say_as_kinds(text, interpret_as, spoken):
    """Appendix P: a builtin grammar's value is spoken with `interpret-as="vxml:TYPE"` in its return format."""
    assert spoken_form(text, interpret_as) == spoken


def test_vxml_say_as_speaks_a_field_value(tmp_path):
    path = write(tmp_path, "d.vxml", """
    <form><field name="when" type="date"><filled>
      <prompt>You said <say-as interpret-as="vxml:date"><value expr="when"/></say-as></prompt>
    </filled></field></form>""")
    events, _, _ = converse(path, {"input": "voice", "utterance": "march third"})
    assert said(events) == ["You said March third"]
