"""The package layout is the data flow: each package imports only from packages below it.

photos → sources → vision → decision → bus → live / cull → alerts → doctor → commands, with
config, plugins, resources and events as leaf utilities anyone may use (train sits aside).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "eyespy_live"
ORDER = [
    "photos", "sources", "vision", "decision", "bus", "live", "cull", "alerts", "doctor", "commands"
]
LEAVES = {"config", "plugins", "resources", "events", "evaluation", "files", "__init__", "__main__"}
# live and cull are siblings: neither imports the other.
SIBLINGS = {frozenset({"live", "cull"})}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "eyespy_live" else None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_package_imports_from_a_package_above_it():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if own in LEAVES or own == "train" or own not in ORDER:
            continue
        for module in _imports(path):
            other = _layer(module)
            if other is None or other == own or other in LEAVES or other not in ORDER:
                continue
            if frozenset({own, other}) in SIBLINGS or ORDER.index(other) > ORDER.index(own):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not wrong, "imports against the flow:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", ORDER + ["train"])
def test_each_package_imports_on_its_own(package):
    """A fresh interpreter per package: an import cycle would fail here."""
    done = subprocess.run(
        [sys.executable, "-c", f"import eyespy_live.{package}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
