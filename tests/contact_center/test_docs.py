"""The README's settings table is the one settings_table() generates."""
from __future__ import annotations

from pathlib import Path

from contact_center.settings import settings_table


def test_readme_lists_every_setting():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme
