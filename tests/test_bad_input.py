"""Every kind of bad input: one exact line naming file and field, exit code 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.ui.cli import main

from .conftest import NT


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def assert_rejected(scenario: Path, capsys, expected: str, *extra: str) -> None:
    out = scenario.parent / "out"
    code, err = run_cli(["run", str(scenario), "--out", str(out), *extra], capsys)
    assert code == 2
    assert err == f"error: {expected}\n"
    assert not out.exists()
    assert not list(scenario.parent.glob(".out.tmp-*"))


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_malformed_toml(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nseed = [1,\n')
    assert_rejected(bad, capsys, f"{bad}: malformed TOML: Invalid value (at end of document)")


def test_unknown_key_lists_allowed_keys(case, capsys):
    path = edit(case(scenario={"placement": {"soft_cap_start": 0.9}}), "soft_cap_start",
                "soft_cap_strat")
    assert_rejected(path, capsys, f"{path}: placement.soft_cap_strat: unknown key (allowed here: "
                                  "cascade, distance_exponent, max_distance_km, movement, "
                                  "rental_min_income_per_year, routes, "
                                  "shelter_seeking_by_income_quintile, soft_cap_start, "
                                  "travel_speed_km_per_day)")


def test_wrong_type(case, capsys):
    path = edit(case(), f"n_steps = {NT}", 'n_steps = "many"')
    assert_rejected(path, capsys, f"{path}: n_steps: Input should be a valid integer, unable to "
                                  "parse string as an integer (got 'many')")


def test_negative_capacity(case, capsys):
    path = case(scenario={"capacity": {"regions": {"North": {"camp": -5}}}})
    assert_rejected(path, capsys, f"{path}: capacity.regions.North.camp: Input should be greater "
                                  "than or equal to 0 (got -5)")


@pytest.mark.parametrize("days", [0, -1])
def test_step_days_not_positive(case, capsys, days):
    path = case(scenario={"step_days": days})
    assert_rejected(path, capsys, f"{path}: step_days: Input should be greater than 0 "
                                  f"(got {days})")


def test_negative_wealth_ratio(case, capsys):
    path = case(scenario={"population": {"wealth_income_ratio": [0, 1, 2, 3, -4, 5]}})
    assert_rejected(path, capsys, f"{path}: population.wealth_income_ratio: "
                                  "wealth-to-income ratios must be >= 0 (got [0, 1, 2, 3, -4, 5])")


def test_defences_without_return_period_maps(case, capsys):
    path = case(scenario={"defences": {"file": "hazard.nc", "variable": "depth"}})
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: defences.variable: no "
                                  "'return_period' dimension; risk needs return-period maps (dims "
                                  "return_period, lat, lon) or CLIMADA events with frequencies")


def test_missing_hazard_file(case, capsys):
    path = case()
    (path.parent / "hazard.nc").unlink()
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard.file: file not found")


def test_hazard_variable_not_in_file(case, capsys):
    path = case(scenario={"hazard": {"variable": "flddph"}})
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard.variable: 'flddph' not "
                                  "in file (variables: depth)")


def test_hazard_without_units_and_none_declared(case, capsys):
    path = case(units=None)
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard.units: the variable has "
                                  "no 'units' attribute; declare them in the scenario, e.g. "
                                  'hazard.units = "m"')


def test_unknown_unit(case, capsys):
    path = case(units="metres_deep")
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard.units: unknown unit "
                                  "'metres_deep'")


def test_unit_of_the_wrong_kind(case, capsys):
    path = case(units="kg")
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard.units: units 'kg' cannot "
                                  "be converted to 'm' as flood_depth needs")


def test_hazard_grid_does_not_cover_population(case, capsys):
    path = case(hazard_lat=np.array([10.0, 10.1]), hazard_lon=np.array([20.0, 20.1, 20.2]),
                depth=np.ones((NT, 2, 3), dtype=np.float32))
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard: hazard grid (lat "
                                  "10..10.1, lon 20..20.2) does not cover the population grid: "
                                  "14 populated cells lie outside it")


def test_nan_only_hazard(case, capsys):
    path = case(depth=np.full((NT, 4, 5), np.nan, dtype=np.float32))
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard.variable: 'depth' holds "
                                  "only missing values (NaN) at the populated cells")


def test_extends_cycle(tmp_path, capsys):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('extends = "b.toml"\nname = "a"\n')
    b.write_text('extends = "a.toml"\n')
    assert_rejected(a, capsys, f"{b}: extends: cycle of scenario files "
                               "(a.toml -> b.toml -> a.toml)")


def test_error_names_the_base_file_that_set_the_value(case, capsys):
    base = case(scenario={"placement": {"soft_cap_start": 1.5}})
    variant = base.parent / "variant.toml"
    variant.write_text('extends = "case.toml"\nname = "variant"\n')
    assert_rejected(variant, capsys, f"{base}: placement.soft_cap_start: Input should be less "
                                     "than or equal to 1 (got 1.5)")


def test_unknown_region_in_capacity(case, capsys):
    path = case(scenario={"capacity": {"regions": {"Atlantis": {"shelter": 5}}}})
    assert_rejected(path, capsys, f"{path}: capacity.regions.Atlantis: unknown region "
                                  "(regions: North, South)")


def test_output_folder_that_already_holds_a_run(case, capsys):
    path = case()
    out = path.parent / "run1"
    assert run_cli(["run", str(path), "--out", str(out), "--quiet"], capsys)[0] == 0
    before = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    code, err = run_cli(["run", str(path), "--out", str(out)], capsys)
    assert code == 2
    assert err == (f"error: {out}: --out: output folder already holds a run; choose another "
                   "folder or remove it first (nothing is ever overwritten)\n")
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == before


@pytest.mark.parametrize("seed", [-1, 2**63, 2**64])
def test_seed_outside_the_scenario_seed_range_is_refused_before_running(case, capsys,
                                                                         monkeypatch, seed):
    monkeypatch.setattr("simulator.runs.run.run_scenario", _must_not_run)
    assert_rejected(case(), capsys, f"--seed: expected an integer from 0 to 2**63 - 1, got "
                                    f"{seed}", "--seed", str(seed))


def test_largest_seed_is_accepted(case, monkeypatch):
    monkeypatch.setattr("simulator.runs.run.run_scenario", _must_not_run)
    with pytest.raises(AssertionError, match=f"run with seed {2**63 - 1}"):
        main(["run", str(case()), "--seed", str(2**63 - 1)])


def _must_not_run(scenario, **kwargs):
    raise AssertionError(f"run with seed {kwargs['seed']}")


def test_command_line_prints_no_traceback(case):
    path = case(units=None)
    proc = subprocess.run([sys.executable, "-m", "simulator", "run", str(path), "--out",
                           str(path.parent / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path.parent / 'hazard.nc'}: hazard.units:")


# -- issue 17: inputs that used to pass silently or end in a traceback ------------------------

def _depth_with(value: float) -> np.ndarray:
    depth = np.zeros((NT, 4, 5), np.float32)
    depth[:, 0, 0] = 2.0
    depth[3, 1, 1] = value
    return depth


@pytest.mark.parametrize(("value", "message"), [
    (-1.0, "'depth' reaches -1 m, outside 0..100 m for flood_depth (check units and fill values)"),
    (np.inf, "'depth' holds infinite values"),
    (1e30, "'depth' reaches 1e+30 m, outside 0..100 m for flood_depth (check units and fill "
           "values)"),
])
def test_implausible_hazard_values(case, capsys, value, message):
    path = case(depth=_depth_with(value))
    assert_rejected(path, capsys, f"{path.parent / 'hazard.nc'}: hazard.variable: {message}")


def _rewrite_hazard(path: Path, change) -> Path:
    import xarray as xr

    nc = path.parent / "hazard.nc"
    ds = change(xr.load_dataset(nc))
    nc.unlink()
    ds.to_netcdf(nc)
    return nc


def _repeat(ds, name):
    values = ds[name].values.copy()
    values[1] = values[0]
    return ds.assign_coords({name: values})


def _nan_lat(ds):
    lat = ds["lat"].values.copy()
    lat[1] = np.nan
    return ds.assign_coords(lat=lat)


@pytest.mark.parametrize(("change", "message"), [
    (lambda ds: _repeat(ds, "time"), "hazard.file: coordinate 'time' repeats the value "
                                     "2030-01-01T00:00:00; each must appear once"),
    (lambda ds: _repeat(ds, "lat"), "hazard.file: coordinate 'lat' repeats the value 10.0; each "
                                    "must appear once"),
    (_nan_lat, "hazard.file: coordinate 'lat' has 1 missing values (NaN)"),
    (lambda ds: ds.assign(depth=ds["depth"].astype(str)),
     "hazard.variable: 'depth' holds <U3 values; expected numbers"),
])
def test_broken_hazard_axes_and_types(case, capsys, change, message):
    path = case()
    nc = _rewrite_hazard(path, change)
    assert_rejected(path, capsys, f"{nc}: {message}")


def test_infinite_population(case, capsys):
    persons = np.full((4, 5), 450.0)
    persons[1, 1] = np.inf
    path = case(persons=persons)
    assert_rejected(path, capsys, f"{path.parent / 'pop.nc'}: population.variable: infinite "
                                  f"persons in some cells")


@pytest.mark.parametrize("scenario", [{"population": {"households": 10**12}}, None])
def test_population_too_large_for_memory_is_refused_before_allocating(case, capsys, scenario):
    persons = np.full((4, 5), 450.0)
    persons[1, 1] = 1e12
    path = case(scenario=scenario) if scenario else case(persons=persons)
    out = path.parent / "out"
    code, err = run_cli(["run", str(path), "--out", str(out)], capsys)
    assert code == 2 and not out.exists() and err.count("\n") == 1
    assert err.startswith(f"error: {path}: population: ") and "households would need about " \
        in err and "GB of memory;" in err and "GB is available" in err


@pytest.mark.parametrize(("text", "message"), [
    ("2000.5", "a capacity is a whole number of persons (got 2000.5)"),
    ('"2000"', "Input should be a valid number (got '2000')"),
    ("true", "Input should be a valid number (got True)"),
    ("inf", "Input should be less than or equal to 10000000000 (got inf)"),
    ("1e30", "Input should be less than or equal to 10000000000 (got 1e+30)"),  # was a traceback
])
def test_capacity_is_whole_persons(case, capsys, text, message):
    path = edit(case(), "shelter = 200", f"shelter = {text}")
    assert_rejected(path, capsys, f"{path}: capacity.default.shelter: {message}")


def test_a_data_file_given_as_the_scenario(case, capsys):
    nc = case().parent / "hazard.nc"
    assert_rejected(nc, capsys, f"{nc}: not a TOML text file (a scenario is TOML; data files "
                                f"such as NetCDF are named inside it)")


def test_out_below_a_file_or_where_nothing_can_be_written(case, capsys):
    path = case()
    (path.parent / "afile").write_text("mine")
    out = path.parent / "afile" / "sub"
    assert run_cli(["run", str(path), "--out", str(out)], capsys) == (
        2, f"error: {out}: --out: {path.parent / 'afile'} is a file, so no folder can be made "
           f"below it\n")
    out = Path("/proc/climdisp-cannot/out")
    code, err = run_cli(["run", str(path), "--out", str(out)], capsys)
    assert code == 2 and err.startswith(f"error: {out}: --out: cannot write under /proc (")
    assert (path.parent / "afile").read_text() == "mine"


@pytest.mark.parametrize(("body", "message"), [
    ("[grid]\n", "grid: no parameters; give at least one list of values (a sweep of seeds only: "
                 "leave out [grid] and set replicates)"),
    ("", "give [grid] or [sample] (or replicates >= 2 for a sweep of seeds); this sweep would "
         "run only the base scenario once"),
    ("[grid]\n" + "".join(f'"seed{i}" = [{", ".join(map(str, range(10)))}]\n'.replace(
        f'"seed{i}"', f'"impact.depth_threshold_m{i}"') for i in range(7)),
     "grid: 10,000,000 points x 1 replicates is more than 1,000,000 runs in one sweep; split it"),
])
def test_sweeps_that_run_nothing_meant_or_too_much_are_refused(case, capsys, body, message):
    path = case()
    sweep = path.parent / "sweep.toml"
    sweep.write_text(f'base = "{path.name}"\n{body}')
    out = path.parent / "sweep-out"
    assert run_cli(["sweep", str(sweep), "--out", str(out)], capsys) == (
        2, f"error: {sweep}: {message}\n")
    assert not out.exists()


def test_an_empty_zarr_folder_is_one_line_in_a_fresh_process(case):
    """Issue 17: an empty Zarr folder printed seven warning lines before its error."""
    path = case()
    (path.parent / "empty.zarr").mkdir()
    edit(path, 'file = "hazard.nc"', 'file = "empty.zarr"')
    proc = subprocess.run([sys.executable, "-m", "simulator", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"error: {path.parent / 'empty.zarr'}: hazard.file: cannot read as zarr "
        f"(GroupNotFoundError)"], proc.stderr


def test_a_run_that_cannot_fit_in_memory_is_refused_with_its_estimate(case, capsys, monkeypatch):
    """Checked before the households and results are allocated; the estimate is exact for the
    results and names each part."""
    import simulator.model as model
    from simulator.inputs.config import load_scenario
    from simulator.inputs.load import load_inputs
    from simulator.world.households import PEAK_BYTES_PER_HOUSEHOLD
    from simulator.world.recorder import pair_table_bytes

    scenario = case()
    cfg = load_scenario(scenario)
    inputs = load_inputs(cfg, scenario)
    est = model.memory_estimate(cfg, inputs)
    ran = model.DisplacementModel(cfg, inputs=inputs)
    assert est["households"] == len(ran.households)
    rec, regions = ran.world.recorder, len(inputs.region_names)  # pair tables: their allowance
    assert est["result_bytes"] == rec.array_bytes() + pair_table_bytes(cfg.n_steps, regions) \
        + ran.world.displaced_since.nbytes
    need = est["household_bytes"] + 2 * est["result_bytes"]  # results twice while written
    assert need == est["households"] * PEAK_BYTES_PER_HOUSEHOLD + 2 * est["result_bytes"]
    model.check_memory(cfg, inputs, available=need)  # just fits
    monkeypatch.setattr(model, "available_memory", lambda: need - 1)
    regions = len(inputs.region_names)
    assert_rejected(scenario, capsys,
                    f"population: the run needs about {need / 1e9:.1f} GB "
                    f"({est['households']:,} households x {PEAK_BYTES_PER_HOUSEHOLD} B = "
                    f"{est['household_bytes'] / 1e9:.1f} GB; results "
                    f"{est['result_bytes'] / 1e9:.1f} GB for {cfg.n_steps} steps x {regions} "
                    f"regions, twice while written) and {(need - 1) / 1e9:.1f} GB are available: "
                    f"use fewer households "
                    "(population.households or a larger persons_per_household), fewer steps or "
                    "fewer regions")
