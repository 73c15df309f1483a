"""The import contracts of ``[tool.importlinter]`` in pyproject.toml hold: the layers are
one-way (foundation → data → analysis → pipeline → delivery) and nothing below the API
imports the web framework."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"lint-imports failed:\n{run.stdout}{run.stderr}"
