"""Error codes the history raises that the HTTP API and the CLI also answer: one name each, in one place."""
from __future__ import annotations

USER_EXISTS = "user_exists"        # a user with that username exists
SAME_CUSTOMER = "same_customer"    # a customer cannot be merged into itself
