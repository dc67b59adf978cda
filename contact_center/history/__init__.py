"""The unified customer interaction history: customers, identities, contacts, append-only events, users."""
from contact_center.history.codes import SAME_CUSTOMER, USER_EXISTS
from contact_center.history.db import Database, DatabaseSettings
from contact_center.history.profile import AgentRelation, Profile
from contact_center.history.store import History

__all__ = ["SAME_CUSTOMER", "USER_EXISTS", "AgentRelation", "Database", "DatabaseSettings", "History", "Profile"]
