"""The channel adapter protocol, for channel packages: `ChannelAdapter`, `ChannelError` and the messages they
carry. They are defined on the domain side (`contact_center.channel`, where the protocol and what a channel
package provides are described) and re-exported here, so the app never imports a channel package."""
from __future__ import annotations

from contact_center.channel import ChannelAdapter, ChannelError, Inbound, OutboundMessage

__all__ = ["ChannelAdapter", "ChannelError", "Inbound", "OutboundMessage"]
