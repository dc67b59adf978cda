"""The README stays true: its settings table is the one generated from the Settings dataclass."""
from pathlib import Path

from contact_center.settings import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_every_setting_as_generated():
    assert settings_table() in README.read_text(encoding="utf-8")


def test_readme_quick_start_names_the_ci_command():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "./scripts/run" in quick and "./scripts/test" in quick
    assert "./scripts/test" in ci
