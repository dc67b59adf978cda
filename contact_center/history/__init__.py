"""The unified customer interaction history: customers, identities, contacts, append-only events, users."""
from contact_center.history.db import Database, DatabaseSettings
from contact_center.history.profile import Profile
from contact_center.history.store import History

__all__ = ["Database", "DatabaseSettings", "History", "Profile"]
