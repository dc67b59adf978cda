"""The contact center: domain, interaction history, intake and contact lifecycle, settings, app assembly, CLI."""
from contact_center.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError"]
