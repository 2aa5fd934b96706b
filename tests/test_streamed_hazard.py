"""Hazards streamed from disk (issue 19 part 4): the same results as in memory, bounded memory.

A streamed series reads blocks of steps from the file as the run reaches them; it must give the
run the very same numbers as the in-memory series, hold no more than its window, and read a
time series split into yearly files as the one file it was split from. Tests shrink the block
and read sizes so that a small case crosses many block and chunk edges.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import simulator.inputs.series as series_module
import simulator.inputs.streamed as streamed_module
from simulator import load_scenario
from simulator.inputs.config import scenario_from_toml
from simulator.inputs.load import load_inputs
from simulator.inputs.series import HazardSeries
from simulator.inputs.streamed import StreamedHazard
from simulator.model import DisplacementModel
from simulator.ui.cli import main

from .conftest import DEMO, LAT, LON, write_case

YEARS = 3
N_DAYS = 365 * YEARS + 1  # 2030-01-01 .. 2032-12-31 (2032 is a leap year)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few steps and reads of a few samples, so that every edge is crossed."""
    monkeypatch.setattr(streamed_module, "BLOCK_BYTES", 4 * 21 * 2 * 7)  # 7 steps of 21 sites
    monkeypatch.setattr(series_module, "READ_BYTES", 8 * 20 * 5)  # 5 samples of the 4 x 5 box


def _synthetic_depth(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Three years of daily depth (m) and flooded fraction (%) with a few events a year."""
    rng = np.random.default_rng(seed)
    depth = np.zeros((N_DAYS, LAT.size, LON.size), np.float32)
    for start in rng.integers(0, N_DAYS - 30, size=9):
        length = int(rng.integers(3, 25))
        depth[start:start + length] = np.maximum(
            depth[start:start + length], rng.uniform(0, 2.5, (1, LAT.size, LON.size)))
    depth[rng.uniform(size=depth.shape) < 0.01] = np.nan  # missing values are dry
    percent = np.where(depth > 0, rng.uniform(20, 100, depth.shape), 0.0).astype(np.float32)
    return depth, percent


def _multi_year_case(root, split: bool = False, **scenario):
    """A three-year daily case with a flooded fraction in percent; ``split``: yearly files."""
    depth, percent = _synthetic_depth()
    base = {"n_steps": N_DAYS, "behaviour": {"decision_interval_days": 91},
            "hazard": {"fraction_variable": "fldfrc"}}
    path = write_case(root, depth=depth, scenario=_merge(base, scenario))
    with xr.open_dataset(root / "hazard.nc") as ds:
        ds = ds.load()
    ds["fldfrc"] = (("time", "lat", "lon"), percent, {"units": "percent"})
    (root / "hazard.nc").unlink()
    if not split:
        ds.to_netcdf(root / "hazard.nc")
        return path
    for year in ("2030", "2031", "2032"):
        ds.sel(time=year).to_netcdf(root / f"hazard_{year}.nc")
    text = path.read_text().replace('file = "hazard.nc"', 'file = "hazard_*.nc"')
    path.write_text(text)
    return path


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _assert_same_results(a: xr.Dataset, b: xr.Dataset) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        xr.testing.assert_identical(a[name], b[name])


def _assert_same_series(dense: HazardSeries, streamed: StreamedHazard) -> None:
    assert isinstance(dense, HazardSeries) and isinstance(streamed, StreamedHazard)
    assert streamed.block_steps < dense.values.shape[0]  # the case really crosses blocks
    np.testing.assert_array_equal(dense.step_max, streamed.step_max)
    np.testing.assert_array_equal(dense.peak(), streamed.peak())
    np.testing.assert_array_equal(dense.peak_fraction(), streamed.peak_fraction())
    for t in range(dense.values.shape[0]):
        np.testing.assert_array_equal(dense.at(t), streamed.at(t))
        np.testing.assert_array_equal(dense.fraction_at(t), streamed.fraction_at(t))
    for a, b in ((0, 1), (5, 40), (100, 101), (0, dense.values.shape[0])):
        np.testing.assert_array_equal(dense.values[a:b].max(axis=0),
                                      streamed.values[a:b].max(axis=0))
        np.testing.assert_array_equal(dense.values[a:b], np.asarray(streamed.values[a:b]))


def test_demo_streamed_gives_identical_results(monkeypatch):
    model = DisplacementModel(load_scenario(DEMO, ["hazard.stream=false"]))
    assert isinstance(model.inputs.hazard, HazardSeries)
    dense = model.run()
    sites = model.inputs.hazard.values.shape[1]
    monkeypatch.setattr(streamed_module, "BLOCK_BYTES", 4 * sites * 25)  # blocks of 25 days
    monkeypatch.setattr(streamed_module, "STREAM_ABOVE_BYTES", 0)  # stress streams too ("auto")
    model = DisplacementModel(load_scenario(DEMO, ["hazard.stream=true"]))
    assert isinstance(model.inputs.hazard, StreamedHazard)
    assert isinstance(model.inputs.stress, StreamedHazard)
    _assert_same_results(dense, model.run())


def test_multi_year_streamed_gives_identical_series_and_results(tmp_path, small_blocks):
    path = _multi_year_case(tmp_path / "one", step_days=1)
    dense = load_inputs(load_scenario(path, ["hazard.stream=false"]))
    streamed = load_inputs(load_scenario(path, ["hazard.stream=true"]))
    _assert_same_series(dense.hazard, streamed.hazard)
    cfg = load_scenario(path)
    _assert_same_results(DisplacementModel(cfg, inputs=dense).run(),
                         DisplacementModel(cfg, inputs=streamed).run())


def test_weekly_steps_take_the_same_maximum_over_days(tmp_path, small_blocks):
    path = _multi_year_case(tmp_path / "weekly", step_days=7, n_steps=N_DAYS // 7,
                            warning={"lead_time_days": 14})
    dense = load_inputs(load_scenario(path, ["hazard.stream=false"]))
    streamed = load_inputs(load_scenario(path, ["hazard.stream=true"]))
    _assert_same_series(dense.hazard, streamed.hazard)
    cfg = load_scenario(path)
    _assert_same_results(DisplacementModel(cfg, inputs=dense).run(),
                         DisplacementModel(cfg, inputs=streamed).run())


def _listed(root, files: str):
    """The three-year case split into yearly files, named by a list in ``hazard.file``."""
    path = _multi_year_case(root, split=True)
    path.write_text(path.read_text().replace('file = "hazard_*.nc"', f"file = {files}"))
    return path


@pytest.mark.parametrize("stream", ["false", "true"])
@pytest.mark.parametrize("named", ["glob", "list"])
def test_yearly_files_read_as_the_one_file(tmp_path, small_blocks, stream, named):
    one = load_inputs(load_scenario(_multi_year_case(tmp_path / "one"), ["hazard.stream=false"]))
    if named == "glob":
        path = _multi_year_case(tmp_path / "split", split=True)
    else:  # a list in hazard.file, in any order
        path = _listed(tmp_path / "list", '["hazard_2031.nc", "hazard_2030.nc", "hazard_2032.nc"]')
    split = load_inputs(load_scenario(path, [f"hazard.stream={stream}"]))
    assert sorted(split.file_hashes) == sorted(str(path.parent / name) for name in (
        "hazard_2030.nc", "hazard_2031.nc", "hazard_2032.nc", "pop.nc", "regions.nc",
        "regions.csv"))
    if stream == "false":
        np.testing.assert_array_equal(one.hazard.values, split.hazard.values)
        np.testing.assert_array_equal(one.hazard.fraction, split.hazard.fraction)
    else:
        _assert_same_series(one.hazard, split.hazard)


def test_streamed_series_never_holds_more_than_its_window(tmp_path, small_blocks):
    path = _multi_year_case(tmp_path / "mem")
    hazard = load_inputs(load_scenario(path, ["hazard.stream=true"])).hazard
    n_sites = hazard.values.shape[1]
    window = streamed_module.HELD_BLOCKS * hazard.block_steps * n_sites * 4 * 2  # with fraction
    dense_bytes = N_DAYS * n_sites * 4 * 2
    assert window * 50 < dense_bytes
    lead = 9  # the model reads step t and the forecast step t + lead
    for t in range(N_DAYS - lead):
        hazard.at(t)
        hazard.fraction_at(t)
        hazard.at(t + lead)
        if t % 91 == 0:
            hazard.values[max(0, t - 91):t + 1].max(axis=0)
        assert hazard.held_bytes <= window
    assert len(hazard._blocks) <= streamed_module.HELD_BLOCKS
    # nothing else grows with the steps: per-step arrays hold one number a step at most
    arrays = [v for v in vars(hazard).values() if isinstance(v, np.ndarray)]
    arrays += [v for v in vars(hazard.source).values() if isinstance(v, np.ndarray)]
    assert max(a.size for a in arrays) <= max(N_DAYS, n_sites)
    assert not hazard.source.da.variable._in_memory  # the file is read lazily, never whole


def _split_with(root, keep: tuple[str, ...], shift: dict[str, int] | None = None):
    path = _multi_year_case(root, split=True)
    for year in ("2030", "2031", "2032"):
        if year not in keep:
            (root / f"hazard_{year}.nc").unlink()
    for year, days in (shift or {}).items():
        file = root / f"hazard_{year}.nc"
        with xr.open_dataset(file) as ds:
            ds = ds.load()
        ds["time"] = ds["time"] + np.timedelta64(days, "D")
        file.unlink()
        ds.to_netcdf(file)
    return path


def _rejected(path, capsys) -> tuple[int, str]:
    code = main(["run", str(path), "--out", str(path.parent / "out")])
    assert not (path.parent / "out").exists()
    return code, capsys.readouterr().err


def test_gap_between_yearly_files_is_one_line_naming_file_and_field(tmp_path, capsys):
    path = _split_with(tmp_path / "gap", keep=("2030", "2032"))
    code, err = _rejected(path, capsys)
    assert code == 2
    assert err == (f"error: {path.parent / 'hazard_2032.nc'}: hazard.file: starts on 2032-01-01, "
                   f"366 days after the previous file (hazard_2030.nc) ends on 2030-12-31 "
                   f"(samples are 1 days apart); a file of 'hazard_*.nc' is missing\n")


def test_overlapping_yearly_files_are_one_line_naming_file_and_field(tmp_path, capsys):
    path = _split_with(tmp_path / "overlap", keep=("2030", "2031", "2032"), shift={"2031": -10})
    code, err = _rejected(path, capsys)
    assert code == 2
    assert err == (f"error: {path.parent / 'hazard_2031.nc'}: hazard.file: starts on 2030-12-22, "
                   f"before the previous file (hazard_2030.nc) ends on 2030-12-31; the files of "
                   f"'hazard_*.nc' must not overlap in time\n")


def test_pattern_matching_no_file_is_one_line(tmp_path, capsys):
    path = _multi_year_case(tmp_path / "none", split=True)
    path.write_text(path.read_text().replace("hazard_*.nc", "flood_*.nc"))
    code, err = _rejected(path, capsys)
    assert code == 2
    assert err == f"error: {path.parent / 'flood_*.nc'}: hazard.file: no file matches the pattern\n"


def test_auto_streams_only_above_the_documented_size(tmp_path, monkeypatch):
    path = _multi_year_case(tmp_path / "auto")
    assert isinstance(load_inputs(load_scenario(path)).hazard, HazardSeries)
    monkeypatch.setattr(streamed_module, "STREAM_ABOVE_BYTES", N_DAYS * 20 * 4 * 2 - 1)
    assert isinstance(load_inputs(load_scenario(path)).hazard, StreamedHazard)


def test_a_listed_run_saves_its_list_and_reruns_from_it(tmp_path):
    path = _listed(tmp_path / "list", '["hazard_2030.nc", "hazard_2031.nc", "hazard_2032.nc"]')
    assert main(["run", str(path), "--set", "n_steps=30", "--out", str(tmp_path / "o")]) == 0
    saved = scenario_from_toml((tmp_path / "o" / "config.toml").read_text())
    assert saved.hazard.file == tuple(path.parent / f"hazard_{y}.nc" for y in (2030, 2031, 2032))


@pytest.mark.parametrize("files,expected", [
    ('["hazard_2030.nc", "hazard_2032.nc"]',
     "{d}/hazard_2032.nc: hazard.file: starts on 2032-01-01, 366 days after the previous file "
     "(hazard_2030.nc) ends on 2030-12-31 (samples are 1 days apart); a file of the list is "
     "missing"),
    ('["hazard_2030.nc", "hazard_2031.nc", "hazard_2033.nc"]',
     "{d}/hazard_2033.nc: hazard.file: file not found"),
    ("[]", "{s}: hazard: file: a list of files needs at least one file"),
    ('["hazard_2030.nc", "hazard_*.nc"]',
     "{s}: hazard: file: a list names files, not patterns (give one pattern instead)"),
    ('["hazard_2030.nc", "hazard_2031.nc", "hazard_2030.nc"]',
     "{s}: hazard: file: hazard_2030.nc is listed twice"),
])
def test_a_bad_list_of_files_is_one_line(tmp_path, capsys, files, expected):
    path = _listed(tmp_path / "bad", files)
    code, err = _rejected(path, capsys)
    assert code == 2
    assert err == "error: " + expected.format(d=path.parent, s=path) + "\n"
