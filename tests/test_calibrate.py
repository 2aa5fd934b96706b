"""Calibration: recovers known parameters, resumes bit-identically, scores the hold-out alone.

The case is a smaller copy of the shipped synthetic case (scenarios/calibration/): its observed
series was made by the model with known parameter values and another seed.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from simulator.interop.validation import poisson_deviance
from simulator.runs.calibrate import score
from simulator.ui.cli import main

from .conftest import REPO

PARAMS = ["impact.damage_threshold=0.3:0.7", "return.repair_days_total_loss=20:120"]
# CMA-ES, a generation of 8 per batch; the last tenth of the series held out, so the training
# part sees most of the returns that the repair time shapes.
TRIALS = ["--trials", "48", "--batch", "8", "--sampler", "cmaes", "--holdout-from", "0.9"]


def _make_case_module():
    spec = importlib.util.spec_from_file_location(
        "make_case", REPO / "scenarios" / "calibration" / "make_case.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_CASE = _make_case_module()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> SimpleNamespace:
    """The synthetic case on 8 x 8 cells (about 1,300 households), 80 days, calibrated once."""
    root = tmp_path_factory.mktemp("calibration")
    scenario = MAKE_CASE.write_inputs(root / "case", n=8, n_steps=80)
    observed = MAKE_CASE.write_observed(scenario)
    out = root / "clean"
    assert calibrate(scenario, observed, out, *TRIALS) == 0
    return SimpleNamespace(scenario=scenario, observed=observed, out=out, root=root)


def calibrate(scenario: Path, observed: Path, out: Path, *extra: str,
              params: list[str] = PARAMS) -> int:
    return main(["calibrate", str(scenario), "--observed", str(observed), "--params", *params,
                 "--out", str(out), "--workers", "1", *extra])


def finished_runs(out: Path) -> list[Path]:
    return [p for p in out.glob("runs/*/results.nc") if not p.parent.name.startswith(".")]


def read_trials(out: Path) -> list[dict]:
    return list(csv.DictReader((out / "trials.csv").open()))


def test_recovers_the_parameters_that_made_the_observations(small):
    fit = json.loads((small.out / "fit.json").read_text())
    best = fit["best"]["params"]
    truth = MAKE_CASE.TRUE
    # within 0.02 of the threshold (the damage curve rises about 0.03 per 0.1 m of water) and
    # 10% of the repair time
    assert abs(best["impact.damage_threshold"] - truth["impact.damage_threshold"]) <= 0.02
    assert abs(best["return.repair_days_total_loss"]
               - truth["return.repair_days_total_loss"]) <= 6
    assert fit["best"]["holdout_score"] < 0.5 * fit["baseline"]["holdout_score"]
    assert fit["best"]["train_score"] < 0.5 * fit["baseline"]["train_score"]
    assert fit["trials"] == 48 and len(read_trials(small.out)) == 48
    assert (small.out / "fit.png").read_bytes()[:4] == b"\x89PNG"


def test_killed_calibration_resumes_to_the_same_result_without_rerunning(small, capsys):
    out = small.root / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "calibrate", str(small.scenario), "--observed",
         str(small.observed), "--params", *PARAMS, "--out", str(out), "--workers", "1",
         *TRIALS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(finished_runs(out)) < 12:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in finished_runs(out)}
    assert 12 <= len(finished) < 49, "the calibration must be killed part-way"
    assert not (out / "fit.json").exists()
    assert calibrate(small.scenario, small.observed, out, *TRIALS) == 0
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # none computed twice
    for name in ("trials.csv", "fit.json", "series.csv"):
        assert (out / name).read_bytes() == (small.out / name).read_bytes(), name
    assert not list(out.glob("runs/.*")) and not list(out.glob(".*.tmp-*"))


def test_the_same_calibration_reuses_its_folder_and_another_is_refused(small, capsys):
    before = {p: p.stat().st_mtime_ns for p in finished_runs(small.out)}
    fit = (small.out / "fit.json").read_bytes()
    assert calibrate(small.scenario, small.observed, small.out, *TRIALS) == 0
    assert {p: p.stat().st_mtime_ns for p in finished_runs(small.out)} == before
    assert (small.out / "fit.json").read_bytes() == fit
    capsys.readouterr()
    other = ["impact.damage_threshold=0.3:0.6", PARAMS[1]]
    assert calibrate(small.scenario, small.observed, small.out, *TRIALS, params=other) == 2
    assert capsys.readouterr().err == (
        f"error: {small.out}: --out: folder holds a different calibration; choose another "
        "folder (nothing is ever overwritten)\n")
    assert (small.out / "fit.json").read_bytes() == fit


def _rewrite(src: Path, dst: Path, change: dict[str, float]) -> Path:
    """A copy of the observed CSV with the South counts of some dates changed."""
    rows = list(csv.DictReader(src.open()))
    for row in rows:
        if row["date"] in change:
            row["South"] = str(change[row["date"]])
    with dst.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return dst


def test_holdout_score_is_computed_on_the_holdout_only(small):
    """A changed count in the hold-out changes hold-out scores, never training scores."""
    extra = ("--trials", "4", "--batch", "4", "--holdout-from", "2030-07-16")
    base = small.root / "ho-base"
    assert calibrate(small.scenario, small.observed, base, *extra) == 0
    late = _rewrite(small.observed, small.root / "late.csv", {"2030-07-20": 99999})
    early = _rewrite(small.observed, small.root / "early.csv", {"2030-07-15": 99999})
    for path, name in ((late, "ho-late"), (early, "ho-early")):
        assert calibrate(small.scenario, path, small.root / name, *extra) == 0
    rows = {name: read_trials(small.root / name) for name in ("ho-base", "ho-late", "ho-early")}
    train = {k: [float(r["train_score"]) for r in v] for k, v in rows.items()}
    hold = {k: [float(r["holdout_score"]) for r in v] for k, v in rows.items()}
    assert train["ho-late"] == train["ho-base"]  # 2030-07-20 is in the hold-out
    assert all(a != b for a, b in zip(hold["ho-late"], hold["ho-base"], strict=True))
    assert hold["ho-early"] == hold["ho-base"]  # 2030-07-15 is the last training day
    assert all(a != b for a, b in zip(train["ho-early"], train["ho-base"], strict=True))
    fit = json.loads((base / "fit.json").read_text())
    assert (fit["fitted_to"], fit["holdout_from"]) == ("2030-07-15", "2030-07-16")


def test_poisson_deviance_by_hand():
    sim, data = np.array([[10.0, 0.0]]), np.array([[5.0, 0.0]])
    # 2 [5 ln(5/10) - (5 - 10)] for the first cell; y = 0 and mu = 0 -> floored mu 0.5: 2 x 0.5
    expected = (2 * (5 * np.log(0.5) + 5) + 2 * 0.5) / 2
    assert poisson_deviance(sim, data) == pytest.approx(expected)
    assert poisson_deviance(data, data) == pytest.approx(1.0 / 2)  # only the floored zero cell
    assert score(sim, data, "ard") == pytest.approx(5 / 5)
    assert score(sim, data, "ard_rescaled") == 0.0


def test_a_bare_name_takes_its_range_from_the_parameter_table(small):
    from simulator.inputs.config import load_scenario
    from simulator.inputs.parameters import parameter_table
    from simulator.runs.calibspec import table_bound

    scenario = load_scenario(small.scenario)
    row = parameter_table(scenario)["return.repair_days_total_loss"]
    bound = table_bound("return.repair_days_total_loss", scenario)
    assert (bound.low, bound.high) == (row.low, row.high) and bound.low < bound.high


def _bad(small, tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("params, observed, extra, message", [
    (["impact.damage_treshold=0.3:0.7"], None, [],
     "--params: impact.damage_treshold=0.3: impact.damage_treshold: unknown key (allowed here: "),
    (["impact.damage_threshold=0.7:0.3"], None, [],
     "--params: impact.damage_threshold: empty range 0.7:0.3 (need low < high)"),
    (["impact.damage_threshold=0.3"], None, [],
     "--params: impact.damage_threshold=0.3: expected name=low:high with numbers, e.g. "
     "impact.damage_threshold=0.3:0.7"),
    (["impact.damage_threshold=0.3:1.5"], None, [],
     "--params: impact.damage_threshold=1.5: impact.damage_threshold: Input should be less "
     "than or equal to 1 (got 1.5)"),
    (["population.households"], None, [],
     "--params: parameter population.households is not in the parameter table; give bounds: "
     "population.households=low:high"),
    (PARAMS, "missing.csv", [], "{observed}: --observed: file not found"),
    (PARAMS, "date,South\n2030-06-01,5\n2030-13-01,4\n", [],
     "{observed}: --observed: line 3: date '2030-13-01' is not YYYY-MM-DD"),
    (PARAMS, "date,South\n2030-06-01,5\n2030-06-02,many\n", [],
     "{observed}: --observed: line 3: column 'South': expected persons >= 0, got 'many'"),
    (PARAMS, "date,South\n2030-06-01,5\n2031-01-01,4\n", [],
     "{observed}: --observed: line 3: date 2031-01-01 is outside the run (2030-06-01 to "
     "2030-08-19)"),
    (PARAMS, "date,Atlantis\n2030-06-01,5\n", [],
     "{observed}: --observed: column 'Atlantis' is not a region (regions: South, North)"),
    (PARAMS, "persons\n5\n", [], "{observed}: --observed: missing column(s) ['date'] "
     "(header: persons)"),
    (PARAMS, None, ["--holdout-from", "2030-09-01"],
     "--holdout-from: 2030-09-01: leaves no steps to fit or none to hold out; the "
     "observations run from 2030-06-01 to 2030-08-19"),
    (PARAMS, None, ["--holdout-from", "1.5"], "--holdout-from: expected a fraction between 0 "
     "and 1 (exclusive) or a date YYYY-MM-DD, got 1.5"),
    (PARAMS, None, ["--measure", "hosted"], "--measure: expected one of displaced, evacuated, "
     "host, shelter, camp, rental, self_arranged, unsheltered, got 'hosted'"),
    (PARAMS, None, ["--trials", "0"], "--trials: expected an integer >= 1, got 0"),
    (PARAMS[:1], None, ["--sampler", "cmaes"], "--sampler: cmaes needs two or more parameters "
     "(optuna's CMA-ES samples a single one at random); use tpe"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(small, tmp_path, capsys, params,
                                                          observed, extra, message):
    if observed is None:
        path = small.observed
    elif observed.endswith(".csv"):
        path = tmp_path / observed
    else:
        path = _bad(small, tmp_path, "observed.csv", observed)
    out = tmp_path / "out"
    assert calibrate(small.scenario, path, out, *extra, params=params) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message.format(observed=path)}") and err.count("\n") == 1
    assert "Traceback" not in err and not out.exists()


def test_dask_engine_and_process_pool_give_the_same_calibration(small):
    extra = ("--trials", "6", "--batch", "3")
    outs = {"w1": small.root / "eng-w1", "dask": small.root / "eng-dask"}
    assert calibrate(small.scenario, small.observed, outs["w1"], *extra) == 0
    assert main(["calibrate", str(small.scenario), "--observed", str(small.observed),
                 "--params", *PARAMS, "--out", str(outs["dask"]), "--engine", "dask",
                 "--workers", "2", *extra]) == 0
    for name in ("trials.csv", "fit.json", "series.csv"):
        assert (outs["w1"] / name).read_bytes() == (outs["dask"] / name).read_bytes(), name


def test_one_pool_of_workers_serves_every_batch_and_the_result_is_unchanged(small, monkeypatch):
    """Workers started once (libraries imported, caches filled) run all batches' trials."""
    import simulator.runs.calibrate as calibrate_module
    import simulator.runs.sweep as sweep_module

    made, original = [], sweep_module.worker_pool

    def counted(workers):
        made.append(workers)
        return original(workers)

    monkeypatch.setattr(calibrate_module, "worker_pool", counted)
    monkeypatch.setattr(sweep_module, "worker_pool", counted)
    extra = ("--trials", "6", "--batch", "3")  # two batches
    outs = {"w1": small.root / "pool-w1", "w2": small.root / "pool-w2"}
    assert calibrate(small.scenario, small.observed, outs["w1"], *extra) == 0
    assert made == []  # one worker: runs in this process
    assert main(["calibrate", str(small.scenario), "--observed", str(small.observed),
                 "--params", *PARAMS, "--out", str(outs["w2"]), "--workers", "2", *extra]) == 0
    assert made == [2]
    for name in ("trials.csv", "fit.json", "series.csv"):
        assert (outs["w1"] / name).read_bytes() == (outs["w2"] / name).read_bytes(), name


def test_a_place_measure_counts_arrivals_only():
    import xarray as xr

    from simulator.runs.calibrate import simulated

    coords = {"time": [0, 1], "region": ["A", "B"], "place": ["camp", "shelter"]}
    occupancy = np.array([[[10, 1], [20, 2]], [[30, 3], [40, 4]]], dtype=float)
    transit = np.zeros_like(occupancy)
    transit[1, 1, 0] = 15  # 15 of B's 40 camp places are held by people still on the way
    ds = xr.Dataset({"occupancy": (("time", "region", "place"), occupancy),
                     "in_transit": (("time", "region", "place"), transit)}, coords=coords)
    np.testing.assert_array_equal(simulated(ds, "camp", ["B", "A"]), [[20, 10], [25, 30]])
