"""The code stays ruff clean (STYLE.md): a lint failure fails the suite, not a reviewer."""

import subprocess
import sys

from .conftest import REPO


def test_ruff_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "simulator", "tests",
                           "climate_inputs", "benchmarks", "docs", "notebooks"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
