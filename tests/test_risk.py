"""Return-period risk: AAD closed forms, sampling agreement, and clear errors."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import xarray as xr

from simulator import DisplacementModel, load_scenario
from simulator.runs.risk import average_annual, event_frequencies, sample_years
from simulator.ui.cli import main

from .conftest import LAT, LON
from .test_report import keeps_backend


def rp_case(case, maps: np.ndarray, rps: list[float]):
    path = case(scenario={"hazard": {"duration_days": 2}, "n_steps": 6})
    xr.Dataset({"depth": (("return_period", "lat", "lon"), maps.astype(np.float32),
                          {"units": "m"})},
               coords={"return_period": rps, "lat": LAT, "lon": LON}).to_netcdf(
        path.parent / "hazard.nc")
    return path


def test_event_frequencies_partition_the_exceedance_probability():
    phi = event_frequencies(np.array([100.0, 2.0, 10.0]))
    assert phi == pytest.approx([0.5 - 0.1, 0.1 - 0.01, 0.01])
    assert phi.sum() == pytest.approx(1 / 2)


def test_aad_of_one_event_is_frequency_times_impact(case, tmp_path):
    maps = np.zeros((1, 4, 5))
    maps[0, 0, 0] = 2.0  # every household of cell (0, 0) is displaced
    path = rp_case(case, maps, [10.0])
    out = tmp_path / "risk"
    assert main(["risk", str(path), "--out", str(out)]) == 0
    aad = {r["region"]: r for r in csv.DictReader((out / "aad.csv").open())}
    risk = {r["region"]: r for r in csv.DictReader((out / "risk.csv").open())}
    impact = float(risk["TOTAL"]["displaced"])
    model = DisplacementModel(load_scenario(path, ["hazard.select_return_period=10"]))
    model.step()
    assert impact == int(model.households.size[model.households.cell == 0].sum()) > 0
    assert float(aad["TOTAL"]["aad"]) == pytest.approx(impact / 10)
    # no warnings here: internal displacements (GIDD, evacuations included) are the displaced
    assert float(risk["TOTAL"]["internal_displacements"]) == impact
    assert float(aad["TOTAL"]["aad_internal_displacements"]) == pytest.approx(impact / 10)


def test_sampled_years_agree_with_the_analytic_aad():
    rps = np.array([2.0, 10.0, 50.0])
    displaced = np.array([[0.0], [1000.0], [5000.0]])
    exact = average_annual(displaced, rps)[0]
    years = sample_years(displaced, event_frequencies(rps), 200_000, seed=1)[:, 0]
    stderr = years.std() / np.sqrt(years.size)
    assert abs(years.mean() - exact) < 4 * stderr and exact == pytest.approx(
        0.08 * 1000 + 0.02 * 5000)


def test_more_severe_maps_never_displace_fewer(case, tmp_path):
    maps = np.stack([np.full((4, 5), d) for d in (0.5, 1.2, 2.5)])
    path = rp_case(case, maps, [2.0, 10.0, 100.0])
    out = tmp_path / "risk"
    assert main(["risk", str(path), "--out", str(out)]) == 0
    total = [float(r["displaced"]) for r in csv.DictReader((out / "risk.csv").open())
             if r["region"] == "TOTAL"]
    assert total == sorted(total) and total[0] == 0 and total[-1] > 0


def test_hazard_without_return_periods_is_a_clear_error(case, tmp_path, capsys):
    path = case()
    assert main(["risk", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "no 'return_period' dimension" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_running_return_period_maps_needs_a_selection(case, tmp_path, capsys):
    path = rp_case(case, np.ones((2, 4, 5)), [5.0, 50.0])
    assert main(["run", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "the hazard holds return-period maps; run 'climdisp risk'" in capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "r"), "--quiet",
                 "--set", "hazard.select_return_period=7"]) == 2
    assert "7 not in the file (return periods: 5, 50)" in capsys.readouterr().err


def test_aad_does_not_depend_on_the_order_of_return_periods():
    d = np.array([[100.0], [10.0]])
    assert average_annual(d, np.array([100.0, 10.0]))[0] == pytest.approx(
        average_annual(d[::-1], np.array([10.0, 100.0]))[0]) == pytest.approx(1.9)


def test_risk_curve_leaves_a_notebooks_matplotlib_backend_alone(case, tmp_path):
    maps = np.stack([np.full((4, 5), d) for d in (0.5, 2.5)])
    path = rp_case(case, maps, [2.0, 100.0])
    keeps_backend("from simulator.runs.risk import assess\nassess(run, out / 'risk')", path,
                  tmp_path)
    assert (tmp_path / "risk" / "risk_curve.png").stat().st_size > 10_000
