"""The benchmark scripts run (tiny) and report what they claim, so they never rot."""

import json
import math
import subprocess
import sys

from .conftest import REPO


def run_quick(script: str, out, *extra: str) -> list[dict]:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), "--quick",
                           "--out", str(out), *extra], capture_output=True, text=True)
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


def test_quick_flee_benchmark_runs_our_side_and_leaves_flee_out_unless_asked(tmp_path):
    venv = tmp_path / "flee-venv"
    (row,) = run_quick("bench_flee.py", tmp_path / "flee.json", "--flee-venv", str(venv))
    case, ours = row["case"], row["climdisp"]
    # the generated DFlee case imports and our run displaces what its flood levels and rates
    # imply (a sum of Bernoulli draws: variance below the mean)
    expect = case["expected_displaced"]
    assert expect > 100 and abs(ours["displaced"] - expect) < 4 * math.sqrt(expect)
    assert 0 < ours["in_camps"] <= min(ours["displaced"], case["camp_capacity"])
    assert ours["run_s"] > 0 and ours["peak_rss_bytes"] > 0 and ours["days"] == case["days"]
    assert row["flee"] is None and "--flee" in row["flee_skipped"]
    assert not venv.exists()  # Flee is installed only when asked for


def test_quick_calibration_benchmark_fits_the_case_it_made(tmp_path):
    (row,) = run_quick("bench_calibrate.py", tmp_path / "calibrate.json")
    assert row["trials"] == 4 and row["runs"] == 5 and row["failed_trials"] == 0  # + as given
    assert row["seconds"] > 0 and row["evaluations_per_minute"] > 0
    assert row["peak_rss_total_mb"] >= row["peak_rss_process_mb"] > 0
    assert set(row["best"]) == set(row["true"])
    # the trials are scored against observations the model made: the best beats the defaults
    assert row["train_score"] < row["baseline_train_score"]


def test_quick_stream_benchmark_runs_dense_and_streamed_alike(tmp_path):
    rows = run_quick("bench_stream.py", tmp_path / "stream.json")
    assert [(r["years"], r["stream"]) for r in rows] == [(1, False), (1, True), (2, False),
                                                          (2, True)]
    for dense, streamed in (rows[0:2], rows[2:4]):
        assert dense["newly_displaced_persons"] == streamed["newly_displaced_persons"] > 0
        assert streamed["peak_rss_mb"] > 0 and dense["hazard_held_mb"] > 0


def test_quick_decades_benchmark_runs_a_futures_year(tmp_path):
    (row,) = run_quick("bench_decades.py", tmp_path / "decades.json")
    assert row["steps"] == 365 and row["households"] > 1000
    assert row["flood_events"] >= 0 and row["run_s"] > 0


def test_flee_case_benchmark_times_whole_processes_and_leaves_flee_out_unless_asked(tmp_path):
    venv, case = tmp_path / "flee-venv", tmp_path / "case"
    run_quick("bench_flee.py", tmp_path / "quick.json", "--flee-venv", str(venv),
              "--case-dir", str(case))
    (row,) = run_quick("bench_flee.py", tmp_path / "case.json", "--flee-venv", str(venv),
                       "--flee-case", str(case))
    ours = row["climdisp"]
    assert row["repeats"] == 1 and ours["days"] == 10 and ours["households"] > 0
    # the whole `climdisp run` process holds the model's own run, interpreter start on top
    assert ours["wall_s"] > ours["model_wall_time_s"] > 0
    assert ours["import_and_run_wall_s"] == ours["import_wall_s"] + ours["wall_s"]
    assert ours["peak_rss_bytes"] > row["parent_rss_bytes"] > 0
    assert ours["ard"] is None  # a flood case without observations has no ARD
    assert row["flee"] is None and row["ratios"] == {} and "--flee" in row["flee_skipped"]
    assert len(row["load_before"]) == len(row["load_after"]) == 3
    assert not venv.exists()  # Flee is installed only when asked for


def test_quick_conflict_benchmark_runs_a_case_whole_and_measures_its_steps(tmp_path):
    (row,) = run_quick("bench_conflict.py", tmp_path / "conflict.json")
    case = row["case"]
    # households of 1 + Poisson(4) persons, as many as residents / 5 (rounded at random)
    assert abs(row["persons"] - case["residents"]) < 0.05 * case["residents"]
    assert 0 < row["displaced"] <= case["prescribed_displaced"] + 5  # within half households
    assert row["process_wall_s"] > row["run_s"] > 0
    assert row["memory_estimate_bytes"] > 0 and row["peak_rss_bytes"] > 0
    steps = row["median_step_s"]
    assert steps["spawning"] > 0 and steps["quiet_steps"] >= 1
