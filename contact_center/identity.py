"""Identity resolution rules: how a phone, an email or a chat token becomes the one key that finds a customer.

- phone: parsed with `phonenumbers` (numbers without a country code are read in the default region) and stored
  in E.164 (`+14155550100`); an impossible number is refused.
- email: trimmed and lower-cased (the whole address: providers treat local parts case-insensitively in practice);
  it must look like `local@domain`.
- chat: the visitor token the chat widget keeps; stored as a SHA-256 digest, because whoever holds the token can
  resume the chat, so the database must not hold it in the clear.

The history store applies these rules in `identify` / `link_identity`; the matching itself (same key → same
customer) is a unique index on (kind, value).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import phonenumbers

from contact_center.domain import InvalidInput

if TYPE_CHECKING:
    from contact_center.settings import Settings

KINDS = ("phone", "email", "chat")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_VALUE = 320  # the longest valid email address; nothing legitimate is longer


class InvalidIdentity(InvalidInput):
    """An identity value that cannot be normalised (an impossible phone number, a malformed email)."""

    code = "invalid_identity"


@dataclass(frozen=True, slots=True)
class IdentityRules:
    """Settings of identity resolution."""

    default_region: str = "US"  # ISO 3166 region for phone numbers written without a country code

    def __post_init__(self) -> None:
        if self.default_region not in phonenumbers.SUPPORTED_REGIONS:
            raise InvalidInput(f"unknown phone region {self.default_region!r}", code="bad_phone_region")

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityRules:
        """The rules the platform's settings ask for (`CC_PHONE_REGION`)."""
        return cls(default_region=settings.phone_region)


def normalise_phone(value: str, rules: IdentityRules = IdentityRules()) -> str:
    """A phone number in E.164, or InvalidIdentity."""
    try:
        number = phonenumbers.parse(value, rules.default_region)
    except phonenumbers.NumberParseException as e:
        raise InvalidIdentity(f"not a phone number: {value!r}") from e
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a possible phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    """An email address trimmed and lower-cased, or InvalidIdentity."""
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidIdentity(f"not an email address: {value!r}")
    return email


def chat_key(token: str) -> str:
    """The stored key of a chat visitor token (a digest: the token itself is a secret)."""
    token = token.strip()
    if not token:
        raise InvalidIdentity("empty chat token")
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise(kind: str, value: str, rules: IdentityRules = IdentityRules()) -> str:
    """The stored form of an identity of `kind` (`phone`, `email`, `chat`)."""
    if kind not in KINDS:
        raise InvalidIdentity(f"unknown identity kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not isinstance(value, str) or not value.strip():
        raise InvalidIdentity(f"empty {kind}")
    if len(value) > _MAX_VALUE:
        raise InvalidIdentity(f"{kind} longer than {_MAX_VALUE} characters")
    if kind == "phone":
        return normalise_phone(value, rules)
    if kind == "email":
        return normalise_email(value)
    return chat_key(value)
