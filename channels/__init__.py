"""Channel adapters: one sub-package per channel, each the same shape (see channels/base.py)."""
