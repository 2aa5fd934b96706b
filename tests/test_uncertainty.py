"""Uncertainty ensembles: parameters vary with seeds, the variance split, engine, resume, report."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import xarray as xr

from simulator.outputs.uncertainty import variance_split
from simulator.ui.cli import main

from .conftest import NT
from .test_sweep import data_equal

#: Depths 0.2 to 3 m over the 20 cells: damage ratios straddle the threshold's whole range.
GRADED = np.broadcast_to(np.linspace(0.2, 3.0, 20, dtype=np.float32).reshape(4, 5),
                         (NT, 4, 5)).copy()
ONLY_THRESHOLD = {"impact": {"method": "damage_ratio"},
                  "uncertainty": {"parameters": ["impact.damage_threshold"]}}


def ensemble(path, out, n=4, workers: int = 1) -> xr.Dataset:
    assert main(["run", str(path), "--uncertainty", str(n), "--out", str(out), "--quiet",
                 "--workers", str(workers)]) == 0
    return xr.load_dataset(out / "uncertainty.nc")


def peak_displaced(ds: xr.Dataset) -> np.ndarray:
    """TOTAL peak displaced per [sample, replicate]."""
    return ds["persons"].sel(state="displaced").sum("region").max("time").values


def test_split_adds_up_and_finds_no_parameter_share_where_only_the_seed_matters():
    rng = np.random.default_rng(0)
    seed_only = rng.normal(100.0, 5.0, size=(400, 2))  # samples alike: seed noise alone
    split = variance_split(seed_only)
    assert split["parameter_share"] + split["seed_share"] == pytest.approx(1.0)
    assert split["parameter_share"] < 0.05  # the raw between-sample variance would give 1/2
    assert split["seed_variance"] == pytest.approx(25.0, rel=0.1)
    param = np.repeat(rng.normal(0, 3.0, size=(400, 1)), 3, axis=1)  # seeds alike
    assert variance_split(param)["parameter_share"] == 1.0
    mixed = rng.normal(0, 3.0, size=(2000, 1)) + rng.normal(0, 4.0, size=(2000, 4))
    split = variance_split(mixed)
    assert split["parameter_share"] == pytest.approx(9 / 25, abs=0.04)
    assert split["parameter_share"] + split["seed_share"] == pytest.approx(1.0)
    assert np.isnan(variance_split(np.ones((3, 2)))["parameter_share"])  # nothing varies


def test_varying_the_damage_threshold_spreads_far_more_than_seeds(case):
    path = case(depth=GRADED, scenario=ONLY_THRESHOLD)
    ds = ensemble(path, path.parent / "ens", 6)
    thresholds = ds["impact.damage_threshold"].values
    assert ds["impact.damage_threshold"].dims == ("sample",)
    assert (thresholds >= 0.3).all() and (thresholds <= 0.7).all()
    assert len(set(ds["seed"].values.ravel().tolist())) == 12  # every run its own seed
    assert int(ds["seed"].values[0, 0]) == 7  # sample 0, replicate 0: the scenario's seed
    y = peak_displaced(ds)
    seed_spread = np.ptp(y, axis=1).max()
    assert np.ptp(y.mean(axis=1)) > 5 * max(seed_spread, 1)
    order = np.argsort(thresholds)
    assert (np.diff(y.mean(axis=1)[order]) <= 0).all()  # a higher threshold displaces fewer
    assert variance_split(y)["parameter_share"] > 0.9


def test_identical_results_with_one_or_two_workers(case):
    path = case(depth=GRADED, scenario={"impact": {"method": "damage_ratio"}})
    one = ensemble(path, path.parent / "w1", 3, workers=1)
    two = ensemble(path, path.parent / "w2", 3, workers=2)
    assert one.sizes["sample"] == 3 and one.sizes["replicate"] == 2
    assert data_equal(one, two)
    assert len(one["impact.damage_threshold"].attrs["source"]) > 0


def test_resume_reruns_only_the_removed_run(case):
    import shutil

    path = case(depth=GRADED, scenario=ONLY_THRESHOLD)
    out = path.parent / "ens"
    before = ensemble(path, out, 3)
    runs = sorted(p for p in (out / "runs").iterdir())
    assert len(runs) == 6
    shutil.rmtree(runs[2])
    stamps = {p: (p / "results.nc").stat().st_mtime_ns for p in runs if p != runs[2]}
    after = ensemble(path, out, 3)
    assert {p: (p / "results.nc").stat().st_mtime_ns for p in stamps} == stamps
    assert (runs[2] / "results.nc").is_file()
    assert data_equal(before, after)


def test_report_shows_bands_variance_split_and_drivers(case, capsys):
    path = case(depth=GRADED, scenario={"impact": {"method": "damage_ratio"},
                                        "uncertainty": {"parameters": [
                                            "impact.damage_threshold", "warning.trust_gain"]}})
    out = path.parent / "ens"
    assert main(["run", str(path), "--uncertainty", "8", "--out", str(out), "--workers",
                 "1"]) == 0
    printed = capsys.readouterr().out
    assert "peak_displaced" in printed and "impact.damage_threshold" in printed
    assert main(["report", str(out)]) == 0
    bands = list(csv.DictReader((out / "report" / "bands.csv").open()))
    total = next(r for r in bands if r["region"] == "TOTAL" and r["indicator"] ==
                 "peak_displaced")
    assert float(total["p05"]) < float(total["median"]) < float(total["p95"])
    assert float(total["parameter_share"]) + float(total["seed_share"]) == pytest.approx(1.0)
    every = list(csv.DictReader((out / "report" / "drivers.csv").open()))
    ds = xr.open_dataset(out / "uncertainty.nc")
    assert {r["region"] for r in every} == {*map(str, ds["region"].values), "TOTAL"}
    drivers = [r for r in every if r["region"] == "TOTAL" and r["indicator"] == "peak_displaced"]
    assert drivers[0]["parameter"] == "impact.damage_threshold"  # the one that acts leads
    assert float(drivers[0]["spearman_rho"]) < -0.9
    assert abs(float(drivers[1]["S1"])) < float(drivers[0]["S1"])
    page = (out / "report" / "index.html").read_text()
    assert "parameter uncertainty and seed noise together" in page
    assert (out / "report" / "displaced_band.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["report", str(out / "uncertainty.nc"), "--out", str(path.parent / "r2")]) == 0
    assert (path.parent / "r2" / "bands.csv").read_text() == (
        out / "report" / "bands.csv").read_text()


def test_a_seed_only_band_is_labelled_seed_noise_only(case):
    path = case(depth=GRADED)
    run = path.parent / "run"
    assert main(["run", str(path), "--replicates", "2", "--out", str(run), "--quiet"]) == 0
    assert main(["report", str(run)]) == 0
    assert "seed noise only" in (run / "report" / "index.html").read_text()


@pytest.mark.parametrize("args, message", [
    (["--uncertainty", "0"], "--uncertainty: expected a number of samples >= 2, got 0"),
    (["--uncertainty", "4", "--replicates", "1"],
     "--replicates: an uncertainty ensemble needs >= 2 seeds per sample to tell parameters "
     "from seed noise, got 1"),
    (["--uncertainty", "4", "--workers", "0"], "--workers: expected an integer >= 1, got 0"),
])
def test_bad_ensemble_arguments_are_one_line_exit_2(case, capsys, args, message):
    path = case()
    out = path.parent / "out"
    assert main(["run", str(path), "--out", str(out), *args]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert not out.exists()
