"""Settings: one immutable dataclass, read from the environment and an optional TOML file.

Precedence: environment variable > TOML file > default. Every plain field names its environment variable in its
metadata, so the README's settings table, the loader and the validation all read from one place. The nested
`[routing]` and `[queues.NAME]` tables come from the file only (contact_center.queue_settings; docs/operations.md).
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from contact_center.queue_settings import (
    ConfigError,
    QueueSettings,
    RoutingConfig,
    check,
    parse_queues,
    parse_routing,
)

NESTED = ("routing", "queues")  # TOML tables, not environment variables
# The settings file when no `--config` is given: set once for the server and the shell, every command reads the
# same file (`user add` checks the server's skill catalogue and queues without repeating `--config`).
CONFIG_ENV = "CC_CONFIG"
# Whom a returning customer's contact waits for: who handled most of their contacts, the last one, or nobody.
PREFERRED_AGENTS = ("most_related", "last", "none")

class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _f(default: Any, env: str, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the platform can be configured with. Pass it in; never read it from a module global."""

    host: str = _f("127.0.0.1", "CC_HOST", "Address the server listens on.")
    port: int = _f(8080, "CC_PORT", "Port the server listens on.")
    database_url: str = _f("sqlite+aiosqlite:///contact_center.db", "CC_DATABASE_URL",
                           "SQLAlchemy URL of the interaction history: a SQLite file (embedded default) or "
                           "`postgresql+asyncpg://user:pw@host/db`.")
    phone_region: str = _f("US", "CC_PHONE_REGION",
                           "Region (ISO 3166 code) that phone numbers written without a country code belong to; "
                           "identity resolution stores every number in E.164.")
    redis_url: str = _f("", "CC_REDIS_URL", "Redis URL for shared routing state; empty = in-memory routing.")
    public_base_url: str = _f("http://127.0.0.1:8080", "CC_PUBLIC_BASE_URL",
                              "The URL customers and Twilio reach this server at (webhook signatures use it).")
    secret_key: str = _f("", "CC_SECRET_KEY",
                         "Key that signs session cookies; empty = a random key per process (logins end on restart).")
    default_queue: str = _f("general", "CC_DEFAULT_QUEUE", "Queue every channel sends contacts to by default.")
    offer_timeout_s: float = _f(20.0, "CC_OFFER_TIMEOUT_S", "Seconds an agent has to accept an offer.")
    wrapup_timeout_s: float = _f(0.0, "CC_WRAPUP_TIMEOUT_S",
                                 "Seconds of after-contact work before the agent is available again; 0 = until "
                                 "the agent submits wrap-up.")
    chat_abandon_s: float = _f(60.0, "CC_CHAT_ABANDON_S",
                               "Seconds a waiting chat customer whose socket is gone may take to come back before "
                               "the chat counts as abandoned.")
    preferred_agent: str = _f("most_related", "CC_PREFERRED_AGENT",
                              "The agent a returning customer's new contact waits for: `most_related` (who handled "
                              "most of their contacts), `last` (who handled the newest of them, any channel) or "
                              "`none`.")
    preferred_agent_s: float = _f(30.0, "CC_PREFERRED_AGENT_S",
                                  "Seconds a returning customer's new contact waits for its preferred agent "
                                  "(`CC_PREFERRED_AGENT`, when signed in) before any agent may take it; 0 = off.")
    agent_grace_s: float = _f(15.0, "CC_AGENT_GRACE_S",
                              "Seconds an agent whose last desktop socket closed stays in their state (a reload) "
                              "before routing sets them offline.")
    max_message_chars: int = _f(4000, "CC_MAX_MESSAGE_CHARS", "Longest chat or SMS text accepted from anyone.")
    demo: bool = _f(False, "CC_DEMO", "Create a demo agent (credentials printed on start) and demo content.")
    log_level: str = _f("INFO", "CC_LOG_LEVEL", "Python logging level.")
    twilio_account_sid: str = _f("", "TWILIO_ACCOUNT_SID", "Twilio account SID (voice and SMS).")
    twilio_auth_token: str = _f("", "TWILIO_AUTH_TOKEN", "Twilio auth token; verifies webhook signatures.")
    # From the file only: `[routing]` and `[queues.NAME]` (docs/operations.md, "Queues and routing").
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    queues: Mapping[str, QueueSettings] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, config_file: str | Path | None = None) -> Settings:
        """Read settings from a TOML file (`config_file`, else `CC_CONFIG`, else none) and the environment, then
        validate them."""
        environ = os.environ if environ is None else environ
        config_file = config_file or environ.get(CONFIG_ENV) or None
        values: dict[str, Any] = {}
        if config_file:
            try:
                data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as e:
                raise SettingsError(f"config file {config_file}: {e}") from e
            nested = {k: data.pop(k) for k in NESTED if k in data}  # [routing], [queues.*] sit beside...
            if "contact_center" in data:  # ...a [contact_center] table, or top-level keys: never both
                table = data.pop("contact_center")
                if not isinstance(table, dict):
                    raise SettingsError(f"config file {config_file}: [contact_center] must be a table")
                twice = sorted(set(data) | (set(nested) & set(table)))
                if twice:
                    raise SettingsError(f"config file {config_file}: {', '.join(twice)} given at the top level "
                                        "and in [contact_center]: put every setting in one place")
                data = table
            nested.update({k: data.pop(k) for k in NESTED if k in data})
            known = {f.name for f in _plain_fields()}
            unknown = sorted(set(data) - known)
            if unknown:
                raise SettingsError(f"config file {config_file}: unknown setting(s) {', '.join(unknown)}")
            values.update(data)
        for f in _plain_fields():
            if f.metadata["env"] in environ:
                values[f.name] = environ[f.metadata["env"]]
        typed: dict[str, Any] = {}
        for f in _plain_fields():
            if f.name in values:
                typed[f.name] = _convert(f, values[f.name])
        if config_file:
            try:
                if "routing" in nested:
                    typed["routing"] = parse_routing(nested["routing"])
                if "queues" in nested:
                    typed["queues"] = parse_queues(nested["queues"])
            except ConfigError as e:
                raise SettingsError(f"config file {config_file}: {e}") from None
        settings = cls(**typed)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise SettingsError naming the first setting that cannot work."""
        if not 0 < self.port < 65536:
            raise SettingsError(f"CC_PORT must be between 1 and 65535, not {self.port}")
        scheme = urlsplit(self.database_url).scheme
        if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise SettingsError(
                f"CC_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://, not {scheme!r}")
        if self.phone_region not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(f"CC_PHONE_REGION must be a region code phone numbers are known for, such as US or "
                                f"GB, not {self.phone_region!r}")
        if self.redis_url and urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise SettingsError(f"CC_REDIS_URL must be a redis:// URL or empty, not {self.redis_url!r}")
        if urlsplit(self.public_base_url).scheme not in ("http", "https"):
            raise SettingsError(f"CC_PUBLIC_BASE_URL must be an http(s) URL, not {self.public_base_url!r}")
        for name in ("offer_timeout_s", "max_message_chars"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{_env(name)} must be positive, not {getattr(self, name)}")
        if self.preferred_agent not in PREFERRED_AGENTS:
            raise SettingsError(f"CC_PREFERRED_AGENT must be most_related, last or none, not {self.preferred_agent!r}")
        if self.preferred_agent_s < 0:
            raise SettingsError(f"CC_PREFERRED_AGENT_S must not be negative, not {self.preferred_agent_s}")
        if self.agent_grace_s < 0:
            raise SettingsError(f"CC_AGENT_GRACE_S must not be negative, not {self.agent_grace_s}")
        if self.chat_abandon_s < 0:
            raise SettingsError(f"CC_CHAT_ABANDON_S must not be negative, not {self.chat_abandon_s}")
        if self.wrapup_timeout_s < 0:
            raise SettingsError(f"CC_WRAPUP_TIMEOUT_S must not be negative, not {self.wrapup_timeout_s}")
        if not self.default_queue:
            raise SettingsError("CC_DEFAULT_QUEUE must not be empty")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"CC_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {self.log_level!r}")
        try:
            check(self)
        except ConfigError as e:
            raise SettingsError(str(e)) from None

    def known_queues(self) -> set[str]:
        """The queues contacts can reach, so agents may serve: the default queue and every `[queues.NAME]`."""
        return set(self.queues) | {self.default_queue}

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated."""
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new


def _plain_fields() -> list[dataclasses.Field]:
    """The fields with an environment variable (all but the nested TOML tables)."""
    return [f for f in dataclasses.fields(Settings) if "env" in f.metadata]


def _env(name: str) -> str:
    return next(f.metadata["env"] for f in _plain_fields() if f.name == name)


def _convert(f: dataclasses.Field, raw: Any) -> Any:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    env = f.metadata["env"]
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        words = {"int": "a whole number", "float": "a number", "bool": "true or false"}
        raise SettingsError(f"{env} must be {words.get(kind, kind)}, not {raw!r}") from None


def settings_table() -> str:
    """The README's settings table, generated from the dataclass."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in _plain_fields():
        rows.append(f"| `{f.metadata['env']}` | `{f.default}` | {f.metadata['doc']} |")
    return "\n".join(rows)
