"""Climate futures (issue 19): yearly events from return-period maps per period, counterfactuals.

Checks the event classes and period interpolation against their closed forms, that scenarios
with one seed share their events (only depths differ), that the counterfactual holds the first
period's maps, the climate-migrants arithmetic end to end, and the one-line errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from simulator import load_scenario
from simulator.inputs.futures import (
    class_frequencies,
    period_weights,
    sample_events,
)
from simulator.inputs.load import load_inputs
from simulator.ui.cli import main

ROOT = Path(__file__).resolve().parents[1]
SSP585, SSP126 = ROOT / "scenarios/futures-ssp585.toml", ROOT / "scenarios/futures-ssp126.toml"
SMALL = ["population.households=4000"]


def test_class_frequencies_and_period_weights_closed_forms():
    f = class_frequencies(np.array([2.0, 5.0, 10.0]))
    assert np.allclose(f, [0.5 - 0.2, 0.2 - 0.1, 0.1]) and np.isclose(f.sum(), 0.5)
    periods = np.array([2010.0, 2030.0, 2050.0])
    assert period_weights(2000, periods) == (0, 0, 0.0)
    assert period_weights(2020, periods) == (0, 1, 0.5)
    assert period_weights(2045, periods) == (1, 2, 0.75)
    assert period_weights(2070, periods) == (2, 2, 0.0)


@pytest.fixture(scope="module")
def maps():
    cfg = load_scenario(SSP585, SMALL)
    inputs = load_inputs(cfg)
    return cfg, inputs


def test_scenarios_share_their_events_and_only_depths_differ(maps):
    cfg, inputs = maps
    low_cfg = load_scenario(SSP126, SMALL)
    low = load_inputs(low_cfg).hazard
    high = inputs.hazard
    assert high.start.size > 10  # 35 years at 0.5 events a year
    assert np.array_equal(high.start, low.start) and np.array_equal(high.end, low.end)
    assert (high.maps >= low.maps - 1e-6).all() and (high.maps > low.maps + 1e-3).any()


def test_the_counterfactual_holds_the_first_period_and_events_are_map_classes(maps):
    cfg, inputs = maps
    fut = inputs.futures
    cf = cfg.model_copy(update={"futures": cfg.futures.model_copy(update={"hold_period": 2010})})
    series = sample_events(fut, cf, cfg.seed)
    assert np.array_equal(series.start, inputs.hazard.start)
    for m in series.maps:  # every event is exactly one class's 2010 map
        assert any(np.array_equal(m, fut.maps[0, c]) for c in range(fut.return_periods.size))


def test_event_counts_are_poisson_with_the_classes_frequencies(maps):
    cfg, inputs = maps
    years = 35
    counts = [sample_events(inputs.futures, cfg, seed).start.size for seed in range(40)]
    mean = class_frequencies(inputs.futures.return_periods).sum() * years
    assert abs(np.mean(counts) - mean) < 3 * np.sqrt(mean / len(counts))
    assert np.var(counts) == pytest.approx(mean, rel=0.5)  # Poisson: variance = mean


def test_events_fall_in_the_season_and_last_event_days(maps):
    cfg, inputs = maps
    h = inputs.hazard
    days = np.datetime64(cfg.start_date) + (h.start * cfg.step_days).astype("timedelta64[D]")
    doy = (days - days.astype("datetime64[Y]")).astype(int) + 1
    last = cfg.futures.season_start_day + cfg.futures.season_days - 1
    assert (doy >= cfg.futures.season_start_day - cfg.step_days).all() and (doy <= last).all()
    assert ((h.end - h.start) <= cfg.futures.event_days // cfg.step_days + 2).all()
    steps = np.flatnonzero(h.step_max > 0)
    assert all(((h.start <= s) & (s < h.end)).any() for s in steps)


def test_futures_end_to_end_climate_migrants_are_the_difference(tmp_path, capsys):
    out = tmp_path / "fut"
    code = main(["futures", str(SSP126), str(SSP585), "--out", str(out), "--set",
                 "population.households=3000", "--set", "n_steps=522"])
    assert code == 0
    table = (out / "report" / "yearly.csv").read_text().splitlines()
    header = table[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in table[1:]]
    assert {r["scenario"] for r in rows} == {"SSP1-2.6", "SSP5-8.5"}
    for r in rows:
        assert int(r["climate_migrants"]) == int(r["moved"]) - int(r["counterfactual_moved"])
        assert int(r["climate_displaced"]) == int(r["displaced"]) - int(
            r["counterfactual_displaced"])
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == ["futures-ssp126", "futures-ssp126-counterfactual", "futures-ssp585",
                    "futures-ssp585-counterfactual"]
    ds = xr.open_dataset(out / "runs/futures-ssp585/results.nc")
    cf = xr.open_dataset(out / "runs/futures-ssp585-counterfactual/results.nc")
    wet, wet_cf = ds["hazard_max"].max("region") > 0, cf["hazard_max"].max("region") > 0
    assert (wet.values == wet_cf.values).all()  # the same events, shallower without change
    assert (ds["hazard_max"].max("region") >= cf["hazard_max"].max("region") - 1e-6).all()
    assert (out / "report" / "futures.png").stat().st_size > 10_000
    assert "SSP5-8.5" in capsys.readouterr().out


@pytest.mark.parametrize("override,expected", [
    ("futures.climate_scenario=SSP3-7.0", "futures.climate_scenario: 'SSP3-7.0' has no data in "
                                          "the file (scenarios: SSP1-2.6, SSP5-8.5)"),
    ("futures.hold_period=2040", "futures.hold_period: 2040 is not a period of the file "
                                 "(periods: 2010, 2030, 2050, 2080)"),
    ("n_steps=5000", "futures.climate_scenario: the run's years 2025-2120 reach beyond the "
                     "file's periods (2010-2080, each standing for 15 years either side): no "
                     "data for 2120"),
])
def test_bad_futures_input(tmp_path, capsys, override, expected):
    out = tmp_path / "out"
    assert main(["run", str(SSP585), "--set", override, "--out", str(out)]) == 2
    nc = ROOT / "climate_inputs/futures/flood_futures.nc"
    assert capsys.readouterr().err == f"error: {nc}: {expected}\n"
    assert not out.exists()


def test_event_longer_than_the_season(tmp_path, capsys):
    assert main(["run", str(SSP585), "--set", "futures.event_days=100", "--out",
                 str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        "error: --set: futures: event_days: 100 days do not fit in a season of "
        "season_days = 92\n")


def test_a_file_without_periods(tmp_path, capsys):
    assert main(["run", str(SSP585), "--set",
                 f"hazard.file={ROOT}/climate_inputs/demo/flood_return_periods.nc",
                 "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        f"error: {ROOT}/climate_inputs/demo/flood_return_periods.nc: hazard.variable: "
        "[futures] needs dimensions period and return_period (and lat/lon or y/x); ['period'] "
        "missing\n")


def test_read_future_maps_sorts_and_converts(maps):
    fut = maps[1].futures  # read by read_future_maps at load
    assert fut.periods.tolist() == [2010, 2030, 2050, 2080]
    assert fut.return_periods.tolist() == [2, 5, 10, 20, 50, 100]
    assert (np.diff(fut.maps, axis=1) >= -1e-6).all()  # deeper for rarer floods
