"""The one error a grammar raises: `GrammarError` with a stable code."""
from __future__ import annotations


class GrammarError(Exception):
    """A grammar could not be fetched, parsed or used; `.code` is stable, the message is for people.

    Codes: ``syntax`` (not well-formed / bad ABNF), ``invalid`` (well-formed but breaks SRGS rules),
    ``fetch`` (an external grammar could not be fetched), ``undefined_rule``, ``private_rule``,
    ``left_recursion``, ``too_large`` (over GrammarSettings.max_nodes/max_rules), ``unsupported``,
    ``semantics`` (a tag failed to evaluate).
    """

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self.args[0])
