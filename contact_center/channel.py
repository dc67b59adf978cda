"""The channel adapter protocol: what every channel package provides, so a reader who knows one knows all.

It belongs to the domain side: the app (intake, lifecycle) calls adapters through this protocol and never imports
a channel package; `channels.base` re-exports it for the channel packages.

A channel package (`channels/<name>/`) has:
- `setup(app)`: adds its routes and a `cleanup_ctx` that creates its client (all vendor I/O) and its adapter and
  registers the adapter in `app[CHANNELS]` under its channel name; teardown closes the client.
- a client: the only code that talks to the vendor (Twilio, IMAP/SMTP, the browser's websocket).
- one adapter: turns vendor events into `contact_center.intake.Inbound` handed to the app's `Intake`, and domain
  replies into vendor calls through `send(contact, message)`.

Vendor errors are translated at the adapter edge into `ChannelError` with a stable code, `raise ... from e`.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from contact_center.intake import Inbound, OutboundMessage

__all__ = ["ChannelAdapter", "ChannelError", "Inbound", "OutboundMessage"]


class ChannelError(Exception):
    """A channel could not deliver; `.code` is stable (e.g. `undeliverable`, `vendor_unavailable`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@runtime_checkable
class ChannelAdapter(Protocol):
    """The one class of a channel that the rest of the platform calls."""

    #: the channel name contacts carry: "chat", "sms", "email", "voice"
    channel: str

    async def send(self, contact: Any, message: OutboundMessage) -> None:
        """Deliver a reply to the customer on this channel; raises ChannelError when it cannot."""
        ...
