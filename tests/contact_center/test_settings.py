"""Settings: environment and TOML, validation naming the bad setting."""
import pytest

from contact_center.settings import Settings, SettingsError


def test_defaults_are_the_embedded_ones():
    s = Settings.load({})
    assert s.database_url.startswith("sqlite+aiosqlite://")
    assert s.redis_url == ""
    assert s.port == 8080


def test_environment_beats_file(tmp_path):
    f = tmp_path / "cc.toml"
    f.write_text('[contact_center]\nport = 9001\ndefault_queue = "sales"\n')
    s = Settings.load({"CC_PORT": "9002"}, config_file=f)
    assert (s.port, s.default_queue) == (9002, "sales")


@pytest.mark.parametrize("env, name", [
    ({"CC_PORT": "eighty"}, "CC_PORT"),
    ({"CC_PORT": "70000"}, "CC_PORT"),
    ({"CC_DATABASE_URL": "mysql://x"}, "CC_DATABASE_URL"),
    ({"CC_REDIS_URL": "http://x"}, "CC_REDIS_URL"),
    ({"CC_DEMO": "perhaps"}, "CC_DEMO"),
    ({"CC_OFFER_TIMEOUT_S": "-1"}, "CC_OFFER_TIMEOUT_S"),
    ({"CC_PHONE_REGION": "XX"}, "CC_PHONE_REGION"),
    ({"CC_PHONE_REGION": "us"}, "CC_PHONE_REGION"),
    ({"CC_PREFERRED_AGENT": "favourite"}, "CC_PREFERRED_AGENT"),
])
def test_bad_values_name_the_setting(env, name):
    with pytest.raises(SettingsError, match=name):
        Settings.load(env)


def test_the_preferred_agent_is_read_from_the_file_and_the_environment(tmp_path):
    f = tmp_path / "cc.toml"
    f.write_text('preferred_agent = "last"\n')
    assert Settings.load({}).preferred_agent == "most_related"
    assert Settings.load({}, config_file=f).preferred_agent == "last"
    assert Settings.load({"CC_PREFERRED_AGENT": "none"}, config_file=f).preferred_agent == "none"
    with pytest.raises(SettingsError, match="CC_PREFERRED_AGENT must be most_related, last or none, not 'Last'"):
        Settings.load({"CC_PREFERRED_AGENT": "Last"})


def test_unknown_key_in_file_is_refused(tmp_path):
    f = tmp_path / "cc.toml"
    f.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        Settings.load({}, config_file=f)


def test_settings_are_immutable():
    s = Settings.load({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_a_known_phone_region_is_accepted():
    assert Settings.load({"CC_PHONE_REGION": "GB"}).phone_region == "GB"


@pytest.mark.parametrize("text, named", [
    ('offer_timeout_s = 5\n[contact_center]\nport = 9001\n', "offer_timeout_s"),
    ('[queues.a]\nwrapup_s = 5\n[contact_center.queues.b]\nwrapup_s = 5\n', "queues"),
    ('[routing]\ncapacity = {chat = 1}\n[contact_center.routing]\nmax_missed_offers = 2\n', "routing"),
])
def test_a_setting_at_the_top_level_and_in_contact_center_is_refused_not_dropped(tmp_path, text, named):
    f = tmp_path / "cc.toml"
    f.write_text(text)
    with pytest.raises(SettingsError, match=f"{named}.*top level and in \\[contact_center\\]"):
        Settings.load({}, config_file=f)


def test_nested_tables_may_sit_beside_a_contact_center_table(tmp_path):
    f = tmp_path / "cc.toml"
    f.write_text('[contact_center]\nport = 9001\n[queues.billing]\nwrapup_s = 5\n')
    s = Settings.load({}, config_file=f)
    assert s.port == 9001 and list(s.queues) == ["billing"]
