"""The arrows of docs/architecture.md hold: each package imports only what its room allows.

Checked statically over every module (imports inside functions too), so a lazy import cannot hide a wrong arrow.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"voicexml", "routing", "ivr", "channels", "contact_center", "agent_console"}

# Which project packages each package may import (itself always). contact_center reaches channels and
# agent_console only through the app assembly (app.py), which is checked separately below.
ALLOWED = {
    "voicexml": set(),
    "routing": set(),
    "ivr": {"voicexml", "contact_center"},
    "channels": {"contact_center"},
    "contact_center": {"routing"},
    "agent_console": {"contact_center", "routing"},
}
ASSEMBLY = {"contact_center/app.py"}  # may import every package
# Third-party libraries the pure libraries may use (architecture.md: stdlib, lxml, quickjs, tree-sitter /
# stdlib, redis).
LIBRARY_DEPS = {"voicexml": {"lxml", "quickjs", "tree_sitter", "tree_sitter_javascript"},
                "routing": {"redis", "hiredis", "sortedcontainers"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_follow_the_arrows(package):
    wrong = []
    for path in _modules(package):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ASSEMBLY or "/migrations/" in rel:
            continue
        bad = (_imports(path) & PROJECT) - ALLOWED[package] - {package}
        wrong += [f"{rel} imports {name}" for name in sorted(bad)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(LIBRARY_DEPS))
def test_libraries_use_only_their_chosen_dependencies(package):
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    wrong = []
    for path in _modules(package):
        extra = _imports(path) - stdlib - LIBRARY_DEPS[package] - {package}
        wrong += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(extra)]
    assert not wrong, "\n".join(wrong)
