"""The one error type of the routing library: every failure carries a stable machine-readable code."""
from __future__ import annotations


class RoutingError(Exception):
    """A refused routing operation; `.code` is stable (`unknown_queue`, `offer_expired`, ...), state is unchanged."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code

    def to_json(self) -> dict[str, dict[str, str]]:
        """The `{"error": {"code", "message"}}` shape the HTTP API uses."""
        return {"error": {"code": self.code, "message": self.message}}

    def __repr__(self) -> str:
        return f"RoutingError({self.code!r}, {self.message!r})"
