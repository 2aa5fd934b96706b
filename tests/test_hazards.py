"""Hazard reading: units, axis order, time mapping onto steps, coverage."""

import numpy as np
import pytest
import xarray as xr

from simulator import load_scenario
from simulator.inputs.hazards import step_windows
from simulator.inputs.load import load_inputs

from .conftest import DEMO, LAT, LON, NT


def test_step_windows_daily_hazard_on_weekly_steps():
    lo, hi = step_windows(np.arange(14.0), np.ones(14), 7, 3)
    assert lo.tolist() == [0, 7, 14] and hi.tolist() == [7, 14, 14]


def test_step_windows_coarse_hazard_is_held_until_the_next_sample():
    lo, hi = step_windows(np.array([0.0, 10.0]), np.array([10.0, 10.0]), 1, 25)
    assert (lo[:10] == 0).all() and (hi[:10] == 1).all()
    assert (lo[10:20] == 1).all() and (lo[20:] == hi[20:]).all()


def test_weekly_steps_take_the_maximum_depth(case):
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[2, 1, 1], depth[4, 1, 1] = 0.7, 1.3
    cfg = load_scenario(case(depth=depth, scenario={"step_days": 7, "n_steps": 2}))
    hz = load_inputs(cfg).hazard
    assert np.isclose(hz.values[0].max(), 1.3) and hz.values[1].max() == 0


def test_centimetres_are_converted_to_metres(case):
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[:, 0, 0] = 150.0
    cfg = load_scenario(case(depth=depth, units="cm"))
    assert np.isclose(load_inputs(cfg).hazard.step_max.max(), 1.5)


def test_declared_units_apply_when_file_has_none(case):
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[:, 0, 0] = 3.0
    cfg = load_scenario(case(depth=depth, units=None, scenario={"hazard": {"units": "ft"}}))
    assert np.isclose(load_inputs(cfg).hazard.step_max.max(), 3 * 0.3048)


def test_descending_latitude_is_read_the_right_way_round():
    cfg = load_scenario(DEMO)
    inputs = load_inputs(cfg)
    raw = xr.open_dataset(cfg.hazard.file)["flood_depth"]
    assert raw["lat"].values[0] > raw["lat"].values[-1]  # the demo file runs north to south
    step = int(np.argmax(inputs.hazard.step_max))
    cell = int(np.argmax(inputs.hazard.at(step)))
    expect = raw.isel(time=step).sel(lat=inputs.cell_y[cell], lon=inputs.cell_x[cell],
                                     method="nearest").item()
    assert np.isclose(inputs.hazard.at(step)[cell], expect, atol=1e-6) and expect > 1


def test_coarser_hazard_grid_is_sampled_at_nearest_cell(case):
    hlat, hlon = np.array([10.05, 10.25]), np.array([20.05, 20.25, 20.45])
    depth = np.zeros((NT, 2, 3), dtype=np.float32)
    depth[:, 0, 0] = 2.0  # covers population rows 0-1 and columns 0-1
    cfg = load_scenario(case(depth=depth, hazard_lat=hlat, hazard_lon=hlon))
    inputs = load_inputs(cfg)
    wet = inputs.hazard.at(0) > 0
    assert set(zip(inputs.cell_y[wet].round(2), inputs.cell_x[wet].round(2))) == {
        (y, x) for y in LAT[:2].round(2) for x in LON[:2].round(2)}


def _recalendar(path, calendar, days):
    import cftime

    ds = xr.open_dataset(path).load()
    cls = {"noleap": cftime.DatetimeNoLeap, "360_day": cftime.Datetime360Day}[calendar]
    ds = ds.assign_coords(time=[cls(2030, 2, d) for d in days])
    ds.to_netcdf(path)


def test_noleap_calendar_maps_onto_real_dates(case, recwarn):
    path = case(scenario={"start_date": "2030-02-01"})
    _recalendar(path.parent / "hazard.nc", "noleap", range(1, 11))
    hz = load_inputs(load_scenario(path)).hazard
    assert np.isclose(hz.step_max, 2.0).all()
    assert not [w for w in recwarn if "calendar" in str(w.message)]


def test_calendar_with_impossible_dates_is_a_clear_error(case):
    from simulator.errors import InputError

    path = case(scenario={"start_date": "2030-02-01"})
    _recalendar(path.parent / "hazard.nc", "360_day", range(21, 31))
    with pytest.raises(InputError, match="'360_day' calendar, whose dates cannot all be mapped"):
        load_inputs(load_scenario(path))
