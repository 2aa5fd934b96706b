"""The region-pair tables (flows, relocations) are sparse during the run and exact in the results.

The sparse store gives exactly the dense table; a run whose pair tables are lazy (dask, densified
a chunk of steps at a time) has the same results as the dense path, on disk too; the memory
estimate counts the pairs used, not regions² x steps; writing a lazy table streams.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import xarray as xr

from simulator import DisplacementModel, load_scenario
from simulator.interop.flee.convert import import_flee
from simulator.outputs import borders, futures, plots
from simulator.outputs.folders import open_run
from simulator.ui.cli import main
from simulator.world import pairs, recorder
from simulator.world.pairs import PairTable
from simulator.world.recorder import pair_variable, recorder_bytes

from .conftest import REPO

PAIRS = ("flows", "relocations")


@pytest.fixture
def lazy(monkeypatch):
    """Every pair table lazy, one step a chunk."""
    monkeypatch.setattr(recorder, "DENSE_PAIR_BYTES", 0)
    monkeypatch.setattr(recorder, "PAIR_CHUNK_BYTES", 1)


@pytest.mark.parametrize("limit", [1 << 20, 7])  # consolidated at the step's end, or early too
def test_the_sparse_table_is_exactly_the_dense_one(monkeypatch, limit):
    monkeypatch.setattr(pairs, "PENDING_LIMIT", limit)
    rng = np.random.default_rng(3)
    steps, r, causes = 6, 9, 4
    table = PairTable(steps, (r, r, causes), np.dtype(np.int32))
    dense = np.zeros((steps, r, r, causes), np.int32)
    for t in range(steps):
        for _ in range(rng.integers(0, 5)):  # several adds a step, repeated keys among them
            n = int(rng.integers(0, 40))
            o, d = rng.integers(0, 3, n), rng.integers(0, r, n)  # few origins: keys repeat
            cause, persons = int(rng.integers(0, causes)), rng.integers(1, 9, n).astype(np.uint8)
            table.add(t, (o, d, cause), persons)
            np.add.at(dense[t, :, :, cause], (o, d), persons)
        if t % 2:
            table.consolidate(t)  # the recorder does this when a step is recorded
    assert dense.sum() > 0
    got = np.asarray(table)
    assert got.dtype == dense.dtype and np.array_equal(got, dense)
    assert np.array_equal(table[2], dense[2]) and table[-1, 1, 4, 0] == dense[-1, 1, 4, 0]
    assert np.array_equal(table[1:4, 2], dense[1:4, 2])


def test_the_sparse_table_grows_with_the_pairs_used_not_the_regions():
    r = 100_000  # dense: 80 GB a step
    table = PairTable(3, (r, r), np.dtype(np.int64))
    table.add(1, (np.array([5, 5, 7, r - 1]), np.array([9, 9, 0, r - 2])), np.array([1, 2, 3, 4]))
    table.consolidate()
    assert table.nbytes == 3 * (8 + 8)  # three pairs used: a key and a value each
    assert table[1, 5, 9] == 3 and table[1, r - 1, r - 2] == 4 and table[0, 5, 9] == 0


def test_the_memory_estimate_counts_pairs_used_not_regions_squared():
    steps, r = 400, 800
    dense_pairs = steps * r * r * (8 + 4 * 4)  # flows int64 + relocations int32 x 4 causes
    est = recorder_bytes(steps, r)
    allowed = est - recorder.Recorder(steps, r).array_bytes()  # for the two pair tables
    assert allowed < dense_pairs / 50 and est < dense_pairs / 10
    # yet a few destinations per origin and step, each a key and a value, in each table
    assert allowed >= steps * r * 2 * (8 + 8 + 8 + 4)


def _run(scenario, overrides: list[str]) -> xr.Dataset:
    return DisplacementModel(load_scenario(scenario, overrides)).run()


def _assert_same(lazy_ds: xr.Dataset, dense_ds: xr.Dataset) -> None:
    for name in PAIRS:
        assert lazy_ds[name].chunks is not None and dense_ds[name].chunks is None
        assert lazy_ds[name].dtype == dense_ds[name].dtype
    xr.testing.assert_identical(lazy_ds.compute(), dense_ds)


def _flee(tmp_path):
    path, _ = import_flee(REPO / "climate_inputs" / "flee_example", tmp_path / "flee")
    return path


@pytest.mark.parametrize("case", ["demo", "flee"])
def test_a_run_with_lazy_pair_tables_equals_the_dense_one_also_on_disk(tmp_path, monkeypatch,
                                                                       case):
    scenario, overrides = REPO / "scenarios" / "demo.toml", ["population.households=20000",
                                                             "n_steps=60"]
    if case == "flee":
        scenario, overrides = _flee(tmp_path), []
    dense_ds = _run(scenario, overrides)
    assert int(dense_ds["flows"].sum()) > 0
    with monkeypatch.context() as m:
        m.setattr(recorder, "DENSE_PAIR_BYTES", 0)
        m.setattr(recorder, "PAIR_CHUNK_BYTES", 1)
        lazy_ds = _run(scenario, overrides)
    _assert_same(lazy_ds, dense_ds)
    for name, ds in (("dense.nc", dense_ds), ("lazy.nc", lazy_ds)):
        ds.to_netcdf(tmp_path / name, engine="netcdf4")
    back = xr.load_dataset(tmp_path / "lazy.nc")
    xr.testing.assert_identical(back, xr.load_dataset(tmp_path / "dense.nc"))
    for name in PAIRS:
        assert back[name].dtype == dense_ds[name].dtype
        np.testing.assert_array_equal(back[name].values, dense_ds[name].values)


def test_writing_a_lazy_pair_table_streams(tmp_path, monkeypatch):
    """Peak memory of ``to_netcdf`` (netCDF4) is a few chunks, not the dense table."""
    monkeypatch.setattr(recorder, "DENSE_PAIR_BYTES", 0)
    monkeypatch.setattr(recorder, "PAIR_CHUNK_BYTES", 2 * 2**20)
    steps, r = 100, 400
    table = PairTable(steps, (r, r), np.dtype(np.int64))
    rng = np.random.default_rng(0)
    for t in range(steps):
        table.add(t, (rng.integers(0, r, 50), rng.integers(0, r, 50)), 1)
    ds = xr.Dataset({"flows": pair_variable(("time", "origin", "destination"), table, {})})
    assert table.dense_nbytes == 128_000_000 and ds["flows"].chunks is not None
    tracemalloc.start()
    ds.to_netcdf(tmp_path / "f.nc", engine="netcdf4",
                 encoding={"flows": {"zlib": True, "complevel": 4}})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # a few chunks, not the table: dask's threads may compute chunks ahead of the writes, which
    # one lock serialises (16 chunks of 1.28 MB seen with a slow disk), so the bound is 1/4
    assert peak < table.dense_nbytes / 4, peak
    with xr.open_dataset(tmp_path / "f.nc") as back:
        assert int(back["flows"].sum()) == steps * 50
        np.testing.assert_array_equal(back["flows"].isel(time=7).values, table[7])


def test_readers_work_on_lazy_pair_tables(lazy):
    scenario = REPO / "scenarios" / "borders.toml"
    lazy_ds = _run(scenario, ["n_steps=120"])
    assert lazy_ds["relocations"].chunks is not None
    dense_ds = lazy_ds.compute()
    rows = borders.country_table(lazy_ds)
    assert rows and rows == borders.country_table(dense_ds)
    assert futures.yearly(lazy_ds).identical(futures.yearly(dense_ds))
    import matplotlib

    matplotlib.use("Agg")
    ax = plots.flow_matrix(lazy_ds)
    shown = ax.images[0].get_array()
    total = dense_ds["flows"].sum("time").values
    assert np.array_equal(np.ma.filled(shown, 0), total)


def test_run_and_report_from_the_command_line_with_lazy_pair_tables(tmp_path, lazy, capsys):
    scenario = REPO / "scenarios" / "demo.toml"
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet", "--set",
                 "population.households=5000", "--set", "n_steps=30"]) == 0
    ds = open_run(out)
    assert int(ds["flows"].sum()) > 0 and ds["relocations"].dims == (
        "time", "origin", "destination", "cause")
    assert main(["report", str(out)]) == 0
    assert (out / "report" / "flows.png").is_file()
