"""Identity normalisation rules (no database)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_center.identity import IdentityRules, InvalidIdentity, chat_key, normalise


@pytest.mark.parametrize("raw, region, e164", [
    ("(415) 555-0100", "US", "+14155550100"),
    ("+1 415 555 0100", "US", "+14155550100"),
    ("020 7183 8750", "GB", "+442071838750"),
    ("+44 20 7183 8750", "US", "+442071838750"),
    ("06 12 34 56 78", "FR", "+33612345678"),
])
def test_phones_become_e164(raw, region, e164):
    assert normalise("phone", raw, IdentityRules(default_region=region)) == e164


@pytest.mark.parametrize("raw", ["hello", "12", "+1 999", "", "1" * 400])
def test_impossible_phones_are_refused(raw):
    with pytest.raises(InvalidIdentity) as e:
        normalise("phone", raw)
    assert e.value.code == "invalid_identity" and e.value.status == 400


def test_emails_are_trimmed_and_lower_cased():
    assert normalise("email", "  Ann.Lee+x@Example.COM\n") == "ann.lee+x@example.com"
    for bad in ("ann", "ann@", "@example.com", "a b@example.com", "ann@example"):
        with pytest.raises(InvalidIdentity):
            normalise("email", bad)


def test_chat_tokens_are_stored_as_digests():
    key = normalise("chat", "tok-1")
    assert key == chat_key(" tok-1 ") and key.startswith("sha256:") and "tok-1" not in key
    assert normalise("chat", "tok-2") != key


def test_unknown_kind():
    with pytest.raises(InvalidIdentity, match="unknown identity kind"):
        normalise("fax", "123")


def test_rules_from_settings():
    from contact_center.domain import InvalidInput
    from contact_center.settings import Settings, SettingsError

    assert IdentityRules.from_settings(Settings.load({"CC_PHONE_REGION": "GB"})).default_region == "GB"
    with pytest.raises(SettingsError, match="CC_PHONE_REGION"):
        Settings.load({"CC_PHONE_REGION": "usa"})
    with pytest.raises(InvalidInput):
        IdentityRules(default_region="XX")


@given(st.from_regex(r"\+1 ?[2-9][0-9]{2}[ -]?[2-9][0-9]{2}[ -]?[0-9]{4}", fullmatch=True))
def test_normalising_a_phone_twice_changes_nothing(raw):
    once = normalise("phone", raw)
    assert normalise("phone", once) == once and once.startswith("+1") and len(once) == 12


@given(st.emails())
def test_normalising_an_email_twice_changes_nothing(raw):
    once = normalise("email", raw)
    assert normalise("email", f"  {once.upper()} ") == once
