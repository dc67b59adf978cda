"""The libraries stay mypy-clean (architecture.md: type hints everywhere, mypy clean on the libraries)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_libraries_and_app_are_mypy_clean(tmp_path):
    packages = ["routing", "voicexml", "contact_center", "agent_console", "channels"]
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), *packages],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
