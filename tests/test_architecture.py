"""The architecture is checked by a tool: import-linter's contracts in pyproject.toml.

Layers run one way (ui > runs > outputs > model > steps > world > levers > kinds > rules >
interop > inputs > leaves), no sibling modules import each other in a cycle, ordinary runs never
load the Flee reader, and the core needs no plotting or dashboard library. The contracts are also
shown to fail: on a copy of the package with a deliberate upward import, and with a cycle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True,
                          text=True)


def test_import_contracts_are_kept():
    proc = _lint(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "simulator", tmp_path / "simulator",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("module", "line", "broken"), [
    # a rule (pure science) reaching up into the model: a layer violation
    ("rules/impacts.py", "from simulator.model import DisplacementModel", "Layers"),
    # a step that imports the model that runs it: the cycle issue 13 removed
    ("steps/decide.py", "from simulator.model import DisplacementModel", "Layers"),
    # two sibling steps importing each other (displace already imports place)
    ("steps/place.py", "from simulator.steps import displace", "No import cycles"),
    # an ordinary run importing the Flee reader
    ("runs/run.py", "from simulator.interop.flee import reader", "Flee reader"),
])
def test_contracts_fail_on_a_deliberate_bad_import(tmp_path, module, line, broken):
    root = _copy(tmp_path)
    path = root / "simulator" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa: E402,F401\n")
    proc = _lint(root, pythonpath=root)
    assert proc.returncode != 0, proc.stdout
    report = proc.stdout[proc.stdout.index("Broken contracts"):]
    assert broken in report, proc.stdout
