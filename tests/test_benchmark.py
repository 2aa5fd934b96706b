"""The benchmark script runs (tiny) and reports what it claims, so it never rots."""

import json
import subprocess
import sys

from .conftest import REPO


def test_quick_benchmark_writes_a_report(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_core.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["results"]
    assert 1500 < row["households"] < 2500 and row["n_steps"] == 40
    assert row["household_steps_per_s"] > 0 and row["bytes_per_household"] <= 64


def test_quick_sweep_benchmark_writes_a_report(tmp_path):
    out = tmp_path / "sweep.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_sweep.py"),
                           "--quick", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["results"]
    assert row["runs"] == 2 and row["runs_per_minute"] > 0


def test_quick_plain_mesa_comparison_runs_the_same_rule(tmp_path):
    out = tmp_path / "plain.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_plain_mesa.py"),
                           "--quick", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["results"]
    assert row["peak_displaced_vectorised"] == row["peak_displaced_plain"] > 0
