"""Sweeps: expansion, bad specs, identical results whatever the engine, resume after SIGKILL."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from simulator.errors import InputError
from simulator.runs.sweep import prepare
from simulator.runs.sweepspec import load_sweep
from simulator.ui.cli import main

GRID = """
base = "{base}"
replicates = 2
set = [{sets}]

[grid]
"capacity.default.shelter" = [0, 150, 400]
"impact.depth_threshold_m" = [1.0, 2.5]
"""


def write_spec(case_path: Path, body: str = GRID, sets: str = "", name="sweep.toml") -> Path:
    spec = case_path.parent / name
    spec.write_text(body.format(base=case_path.name, sets=sets))
    return spec


def sweep_cli(spec: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(spec), "--out", str(out), *extra])


def finished_runs(out: Path) -> list[Path]:
    """results.nc of finished runs (not the hidden temporary folders being written)."""
    return [p for p in out.glob("runs/*/results.nc") if not p.parent.name.startswith(".")]


def data_equal(a: xr.Dataset, b: xr.Dataset) -> bool:
    return set(a.data_vars) == set(b.data_vars) and all(
        a[v].equals(b[v]) for v in a.data_vars) and all(  # NaN (no capacity) equals NaN
        np.array_equal(a[c].values, b[c].values) for c in a.coords)


def test_grid_expands_to_product_times_replicates_with_stable_ids(case):
    spec = write_spec(case())
    sweep = load_sweep(spec)
    assert len(sweep.tasks) == 3 * 2 * 2
    assert len({t.run_id for t in sweep.tasks}) == 12
    assert [t.run_id for t in load_sweep(spec).tasks] == [t.run_id for t in sweep.tasks]
    first = sweep.tasks[0]
    assert first.params == {"capacity.default.shelter": 0, "impact.depth_threshold_m": 1.0}
    assert {t.seed for t in sweep.tasks if t.replicate == 0} == {7}  # the base seed


def test_latin_sample_stays_in_range_and_keeps_integers(case):
    body = ('base = "{base}"\n[sample]\nmethod = "latin"\nn = 20\nseed = 3\n'
            '[sample.ranges]\n"capacity.default.shelter" = [10, 500]\n'
            '"impact.depth_threshold_m" = [0.5, 2.0]\n')
    sweep = load_sweep(write_spec(case(), body))
    shelters = [t.params["capacity.default.shelter"] for t in sweep.tasks]
    depths = [t.params["impact.depth_threshold_m"] for t in sweep.tasks]
    assert len(sweep.tasks) == 20 and all(isinstance(s, int) and 10 <= s <= 500
                                          for s in shelters)
    assert all(0.5 <= d <= 2.0 for d in depths) and len(set(depths)) == 20


@pytest.mark.parametrize("body, message", [
    ('base = "{base}"\n[grid]\n"capacity.default.shelterr" = [1, 2]\n',
     "grid.capacity.default.shelterr: capacity.default.shelterr: unknown key (allowed here: "
     "camp, host, rental, shelter)"),
    ('base = "{base}"\n[grid]\n"impact.depth_threshold_m" = []\n',
     "grid.impact.depth_threshold_m: empty list of values"),
    ('base = "{base}"\n[sample]\nmethod = "sobol"\nn = 4\n[sample.ranges]\n'
     '"impact.depth_threshold_m" = [2.0, 1.0]\n',
     "sample.ranges.impact.depth_threshold_m: empty range [2.0, 1.0] (need lower < upper)"),
    ('base = "{base}"\n[grid]\n"capacity.regions.Atlantis.shelter" = [1]\n',
     "grid: capacity.regions.Atlantis: unknown region (regions: North, South)"),
    ('base = "{base}"\n[grid]\n"levers.regions.Atlantis.reconstruction_rate" = [2.0]\n',
     "grid: levers.regions.Atlantis: unknown region (regions: North, South)"),
])
def test_bad_spec_is_one_line_exit_2_before_any_run(case, capsys, body, message):
    spec = write_spec(case(), body)
    out = spec.parent / "out"
    assert sweep_cli(spec, out) == 2
    assert capsys.readouterr().err == f"error: {spec}: {message}\n"
    assert not out.exists()


def test_identical_results_whatever_workers_and_engine(case):
    spec = write_spec(case())
    outs = {}
    for label, extra in {"w1": ["--workers", "1"], "w2": ["--workers", "2"],
                         "dask": ["--engine", "dask", "--workers", "2"]}.items():
        outs[label] = spec.parent / label
        assert sweep_cli(spec, outs[label], *extra) == 0
    sets = {k: xr.load_dataset(v / "sweep.nc") for k, v in outs.items()}
    assert sets["w1"].sizes["run"] == 12
    assert data_equal(sets["w1"], sets["w2"]) and data_equal(sets["w1"], sets["dask"])
    assert not (outs["dask"] / ".dask-scratch").exists()  # dask scratch lived under DIR
    unmet = sets["w1"]["unmet_shelter"].sum(["time", "region"])
    by_shelter = unmet.groupby("capacity_default_shelter").mean()
    assert (np.diff(by_shelter.values) <= 0).all() and by_shelter.values[0] > 0  # lever acts


def test_killed_sweep_resumes_without_recomputing_finished_runs(case):
    path = case(persons=np.full((4, 5), 9000.0), depth=np.full((10, 4, 5), 2.0, np.float32))
    spec = write_spec(path)
    out, clean = spec.parent / "killed", spec.parent / "clean"
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "sweep", str(spec), "--out",
                             str(out), "--workers", "1"], stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(finished_runs(out)) < 3:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in finished_runs(out)}
    assert 3 <= len(finished) < 12, "the sweep must be killed part-way"
    assert not (out / "sweep.nc").exists()
    assert sweep_cli(spec, out, "--workers", "2") == 0
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # none computed twice
    assert not list(out.glob("runs/.*"))  # stray temporary folders removed
    assert sweep_cli(spec, clean, "--workers", "1") == 0
    assert data_equal(xr.load_dataset(out / "sweep.nc"), xr.load_dataset(clean / "sweep.nc"))


def test_a_failing_run_does_not_stop_the_others(case, capsys):
    body = 'base = "{base}"\n[grid]\n"hazard.variable" = ["depth", "missing_var"]\n'
    spec = write_spec(case(), body)
    out = spec.parent / "out"
    assert sweep_cli(spec, out, "--workers", "2") == 1
    err = capsys.readouterr().err
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["status"] for r in rows] == ["ok", "failed"]
    failed = out / "runs" / rows[1]["run_id"]
    assert "'missing_var' not in file" in (failed / "error.txt").read_text()
    assert (out / "runs" / rows[0]["run_id"] / "results.nc").is_file()
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: 1 of 2 runs failed or are missing: " + rows[1]["run_id"])
    assert xr.load_dataset(out / "sweep.nc").sizes["run"] == 1


def test_sobol_indices_find_the_lever_that_matters(case):
    body = ('base = "{base}"\n[sample]\nmethod = "sobol"\nn = 8\nseed = 2\n[sample.ranges]\n'
            '"capacity.default.shelter" = [0, 400]\n'
            '"capacity.default.rental" = [0, 400]\n')  # rental is not in the cascade
    spec = write_spec(case(), body)
    out = spec.parent / "out"
    assert sweep_cli(spec, out, "--workers", "2") == 0
    rows = [r for r in csv.DictReader((out / "sensitivity.csv").open())
            if r["outcome"] == "unmet_shelter_person_days"]
    st = {r["parameter"]: float(r["ST"]) for r in rows}
    assert st["capacity.default.rental"] == 0.0
    assert st["capacity.default.shelter"] > 0.5


def test_out_folder_of_another_sweep_or_of_other_files_is_refused(case, capsys):
    path = case()
    spec = write_spec(path)
    other = write_spec(path, GRID.replace("[0, 150, 400]", "[0, 150]"), name="other.toml")
    out = spec.parent / "out"
    assert sweep_cli(spec, out, "--workers", "2") == 0
    before = (out / "summary.csv").read_bytes()
    assert sweep_cli(other, out) == 2
    assert capsys.readouterr().err.endswith(
        f"error: {out}: --out: folder holds a different sweep; choose another folder "
        "(nothing is ever overwritten)\n")
    assert (out / "summary.csv").read_bytes() == before
    mine = spec.parent / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    assert sweep_cli(spec, mine) == 2
    assert "folder already holds files that are not this sweep" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_repeated_points_share_one_run_and_all_succeed(case):
    """A sample that repeats a point (integer range of 3 values, 10 draws) must not fail."""
    body = ('base = "{base}"\n[sample]\nmethod = "latin"\nn = 10\n[sample.ranges]\n'
            '"capacity.default.shelter" = [100, 102]\n')
    spec = write_spec(case(), body)
    out = spec.parent / "out"
    assert sweep_cli(spec, out, "--workers", "2") == 0
    assert sweep_cli(spec, out, "--workers", "2") == 0  # and a resume finds nothing to redo
    ds = xr.load_dataset(out / "sweep.nc")
    assert ds.sizes["run"] == 10 and len(set(ds["run_id"].values)) <= 3


def test_seed_as_a_parameter_gives_distinct_runs(case):
    body = 'base = "{base}"\n[grid]\nseed = [1, 2]\n"impact.displacement_probability" = [0.3]\n'
    spec = write_spec(case(), body)
    sweep = load_sweep(spec)
    assert [t.seed for t in sweep.tasks] == [1, 2] and len({t.run_id for t in sweep.tasks}) == 2


def test_custom_damage_curves_work_in_a_sweep(case):
    path = case(scenario={"impact": {"curves": {"mud": {"depths_m": [0.0, 1.0],
                                                        "damage_ratio": [0.0, 1.0]}}},
                          "population": {"building_class_shares": {"mud": 1.0}}})
    spec = write_spec(path, 'base = "{base}"\n[grid]\n"impact.depth_threshold_m" = [1.0, 1.5]\n')
    assert sweep_cli(spec, spec.parent / "out", "--workers", "1") == 0


def test_paths_in_a_sweep_file_are_relative_to_it(case, tmp_path, monkeypatch):
    from simulator.runs.sweepspec import load_sweep

    path = case()
    (path.parent / "hazard2.nc").write_bytes((path.parent / "hazard.nc").read_bytes())
    spec = path.parent / "paths.toml"
    spec.write_text(f'base = "{path.name}"\nset = [\'hazard.file="hazard2.nc"\']\n'
                    '[grid]\n"capacity.default.shelter" = [0, 10]\n')
    monkeypatch.chdir(tmp_path)  # somewhere else: the paths must not resolve from here
    sweep = load_sweep(spec)
    assert all(f'file = "{path.parent / "hazard2.nc"}"' in t.config_toml for t in sweep.tasks)


def test_batches_group_runs_by_their_inputs_and_load_them_once(case, tmp_path, monkeypatch):
    from simulator.runs import sweep as sweep_module

    path = case()
    (path.parent / "hazard2.nc").write_bytes((path.parent / "hazard.nc").read_bytes())
    spec = write_spec(path, 'base = "{base}"\nreplicates = 2\n[grid]\n'
                      '"hazard.file" = ["hazard.nc", "hazard2.nc"]\n'
                      '"capacity.default.shelter" = [0, 10, 20]\n')
    tasks = load_sweep(spec).tasks
    parts = sweep_module.batches(tasks, 4)
    assert sorted(t.run_id for b in parts for t in b) == sorted(t.run_id for t in tasks)
    files = [{t.params["hazard.file"] for t in batch} for batch in parts]
    assert all(len(f) == 1 for f in files) and [len(b) for b in parts] == [4, 2, 4, 2]

    loads, original = [], sweep_module.load_inputs

    def counting(scenario, *args):
        loads.append(scenario.hazard.file.name)
        return original(scenario, *args)

    monkeypatch.setattr(sweep_module, "load_inputs", counting)
    statuses = sweep_module.run_batch(parts[0], str(tmp_path / "runs"))
    assert [s["ok"] for s in statuses] == [True] * 4 and loads == ["hazard.nc"]
    sweep_module.run_batch(parts[0], str(tmp_path / "again"))
    assert loads == ["hazard.nc"] * 2  # nothing kept between calls: each batch loads its own


def test_stray_temporary_folders_are_cleared_only_inside_the_sweeps_own_runs_folder(case,
                                                                                     tmp_path):
    sweep = load_sweep(write_spec(case()))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".mine.tmp-1").mkdir(parents=True)
    out = tmp_path / "sw"
    (out / "runs" / ".r.tmp-1").mkdir(parents=True)  # an interrupted run's leftover
    (out / "runs" / ".link.tmp-2").symlink_to(elsewhere / ".mine.tmp-1")
    prepare(sweep, out)
    assert not (out / "runs" / ".r.tmp-1").exists()
    assert (elsewhere / ".mine.tmp-1").is_dir()
    linked = tmp_path / "sw2"
    linked.mkdir()
    (linked / "runs").symlink_to(elsewhere)
    with pytest.raises(InputError, match="'runs' in the sweep folder is a link or a file"):
        prepare(sweep, linked)
    assert (elsewhere / ".mine.tmp-1").is_dir()


def test_summary_by_region_is_tidy_and_adds_up_to_the_totals(case):
    spec = write_spec(case(names=("North", "Lower Valley")))
    out = spec.parent / "out"
    assert sweep_cli(spec, out, "--workers", "2") == 0
    totals = {r["run_id"]: r for r in csv.DictReader((out / "summary.csv").open())}
    rows = list(csv.DictReader((out / "summary_by_region.csv").open()))
    assert len(rows) == 2 * len(totals) == 24
    assert {(r["run_id"], r["region"]) for r in rows} == {
        (run, g) for run in totals for g in ("North", "Lower Valley")}
    for run_id, total in totals.items():
        mine = [r for r in rows if r["run_id"] == run_id]
        assert all(r["capacity.default.shelter"] == total["capacity.default.shelter"]
                   for r in mine)
        for key in ("displaced_person_days", "unmet_shelter_person_days", "returned",
                    "displaced_at_end", "relocated_at_end"):
            assert sum(float(r[key]) for r in mine) == float(total[key])
        ds = xr.load_dataset(out / "runs" / run_id / "results.nc")
        for r in mine:
            unmet = ds["unmet_shelter"].sel(region=r["region"])
            assert int(r["peak_unmet_shelter"]) == int(unmet.max())
    assert any(int(r["peak_unmet_shelter"]) > 0 for r in rows)
