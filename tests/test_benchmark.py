"""The benchmark scripts run (tiny) and report what they claim, so they never rot."""

import json
import subprocess
import sys

from .conftest import REPO


def run_quick(script: str, out) -> list[dict]:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), "--quick",
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())["results"]


def test_quick_benchmark_writes_a_report(tmp_path):
    (row,) = run_quick("bench_core.py", tmp_path / "bench.json")
    assert 1500 < row["households"] < 2500 and row["n_steps"] == 40
    assert row["household_steps_per_s"] > 0 and row["bytes_per_household"] <= 64
    assert set(row["phase_seconds"]) >= {"hazard", "place", "return", "record"}


def test_quick_sweep_benchmark_writes_a_report(tmp_path):
    (row,) = run_quick("bench_sweep.py", tmp_path / "sweep.json")
    assert row["runs"] == 2 and row["runs_per_minute"] > 0


def test_quick_plain_mesa_comparison_runs_the_same_rule(tmp_path):
    (row,) = run_quick("bench_plain_mesa.py", tmp_path / "plain.json")
    assert row["peak_displaced_vectorised"] == row["peak_displaced_plain"] > 0
