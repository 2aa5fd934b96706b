"""Reports, comparisons and ensembles: numbers equal the data, bands hold, errors are clear."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from simulator.ui.cli import main

from .conftest import NT


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A small case run once, and as an ensemble of 5 replicates."""
    from .conftest import write_case

    root = tmp_path_factory.mktemp("report")
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[:4, :2, :] = 1.8
    path = write_case(root / "case", depth=depth, persons=np.full((4, 5), 4500.0),
                      scenario={"impact": {"displacement_probability": 0.5},
                                "capacity": {"default": {"shelter": 800, "host": 300}}})
    single, ens = root / "single", root / "ens"
    assert main(["run", str(path), "--out", str(single), "--quiet"]) == 0
    assert main(["run", str(path), "--out", str(ens), "--quiet", "--replicates", "5"]) == 0
    return path, single, ens


def read(path):
    return list(csv.DictReader(path.open()))


def test_report_numbers_equal_the_results(runs, tmp_path):
    _, single, _ = runs
    out = tmp_path / "rep"
    assert main(["report", str(single), "--out", str(out)]) == 0
    ds = xr.load_dataset(single / "results.nc")
    rows = {r["region"]: r for r in read(out / "summary.csv")}
    for region in ("North", "South"):
        peak = int(ds["persons"].sel(state="displaced", region=region).max())
        assert int(rows[region]["peak_displaced"]) == peak
    assert int(rows["TOTAL"]["peak_displaced"]) == int(
        ds["persons"].sel(state="displaced").sum("region").max()) > 0
    unmet = float(ds["unmet_shelter"].sum()) * ds.attrs["step_days"]
    assert float(rows["TOTAL"]["unmet_shelter_person_days"]) == unmet
    durations = {r["region"]: r for r in read(out / "durations.csv")}
    assert int(durations["TOTAL"]["displaced_persons"]) == int(ds["newly_displaced"].sum())
    for region in ("North", "South", "TOTAL"):  # open episodes = displaced at the end
        end = ds["persons"].sel(state="displaced").isel(time=-1)
        end = end.sum() if region == "TOTAL" else end.sel(region=region)
        assert int(durations[region]["still_displaced_at_end"]) == int(end)
    assert int(durations["TOTAL"]["still_displaced_at_end"]) > 0  # the run ends with some away


def test_sphere_needs_follow_the_standards(runs, tmp_path):
    _, single, _ = runs
    needs_file = tmp_path / "needs.toml"
    needs_file.write_text('[standards]\nwater_l_per_person_day = 20.0\n'
                          '[available.South]\nwater_l_per_day = 1000.0\ntaps = 1\n')
    out = tmp_path / "rep"
    assert main(["report", str(single), "--out", str(out), "--needs", str(needs_file)]) == 0
    ds = xr.load_dataset(single / "results.nc")
    sites = ds["occupancy"].sel(place=["shelter", "camp", "unsheltered"]).sum("place")
    south = {r["region"]: r for r in read(out / "needs.csv")}["South"]
    persons = int(sites.sel(region="South").max())
    assert int(south["persons_in_sites_peak"]) == persons > 0
    assert float(south["need_covered_space_m2"]) == pytest.approx(3.5 * persons)
    assert float(south["need_water_l_per_day"]) == pytest.approx(20.0 * persons)
    assert float(south["shortfall_water_l_per_day"]) == pytest.approx(20.0 * persons - 1000)
    assert float(south["need_taps"]) == np.ceil(persons / 250)


def test_html_references_every_figure_it_claims(runs, tmp_path):
    _, _, ens = runs
    out = tmp_path / "rep"
    assert main(["report", str(ens), "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "ensemble_displaced.png" in pngs and len(pngs) == 6
    embedded = re.findall(r'<figure id="([^"]+)"><img alt="[^"]+" src="data:image/png;base64,',
                          page)
    assert sorted(embedded) == pngs  # every PNG embedded, no missing or extra figure
    assert "http://" not in page and "https://" not in page  # opens offline


def test_ensemble_bands_contain_the_median(runs, tmp_path):
    _, _, ens = runs
    ds = xr.load_dataset(ens / "results.nc")
    assert ds.sizes["replicate"] == 5 and len(set(ds["seed"].values.tolist())) == 5
    out = tmp_path / "rep"
    assert main(["report", str(ens), "--out", str(out)]) == 0
    rows = read(out / "summary.csv")
    by = {(r["statistic"], r["region"]): r for r in rows}
    for region in ("North", "South", "TOTAL"):
        for key in ("peak_displaced", "unmet_shelter_person_days", "displaced_person_days"):
            lo, med, hi = (float(by[(s, region)][key]) for s in ("p05", "median", "p95"))
            assert lo <= med <= hi
    peaks = ds["persons"].sel(state="displaced").sum("region").max("time").values
    assert float(by[("median", "TOTAL")]["peak_displaced"]) == float(np.median(peaks))
    assert peaks.min() < peaks.max()  # the replicates differ, so the band is not trivial


def test_summary_of_an_ensemble_shows_medians(runs, capsys):
    _, _, ens = runs
    assert main(["summary", str(ens)]) == 0
    total = capsys.readouterr().out.strip().splitlines()[-1]
    ds = xr.load_dataset(ens / "results.nc")
    peaks = ds["persons"].sel(state="displaced").sum("region").max("time").values
    assert total.startswith("TOTAL") and f"{round(float(np.median(peaks))):,}" in total


def test_comparing_a_run_with_itself_shows_no_difference(runs, tmp_path, capsys):
    _, _, ens = runs
    out = tmp_path / "cmp"
    assert main(["compare", str(ens), str(ens), "--out", str(out)]) == 0
    rows = read(out / "comparison.csv")
    assert rows and all(float(r[k]) == 0.0 for r in rows
                        for k in ("diff_to_baseline", "diff_p05", "diff_p95"))
    assert all(r["paired_by_seed"] == "True" for r in rows)
    assert (out / "comparison.png").is_file() and "comparison.png" in (out / "index.html"
                                                                        ).read_text()


@pytest.fixture(scope="module")
def more_shelter(runs, tmp_path_factory):
    """The ensemble compared with a 5-replicate variant with more shelter places, run once."""
    path, _, ens = runs
    root = tmp_path_factory.mktemp("more-shelter")
    more = root / "more"
    assert main(["run", str(path), "--out", str(more), "--quiet", "--replicates", "5", "--set",
                 "capacity.default.shelter=5000"]) == 0
    out = root / "cmp"
    assert main(["compare", str(ens), str(more), "--out", str(out)]) == 0
    return out


def test_more_shelter_shows_as_less_unmet_need_in_a_comparison(more_shelter):
    out = more_shelter
    row = next(r for r in read(out / "comparison.csv") if r["region"] == "TOTAL"
               and r["indicator"] == "unmet_shelter_person_days" and r["run"].endswith("(more)"))
    assert float(row["diff_to_baseline"]) < 0 and float(row["diff_p95"]) <= 0


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "RUN_DIR: no such folder"),
    (lambda d: d.mkdir(), "RUN_DIR: not a run folder (no results.nc)"),
    (lambda d: (d.mkdir(), (d / "results.nc").write_text("junk")),
     "cannot read results (ValueError)"),
])
def test_bad_run_folder_is_a_clear_error(tmp_path, capsys, setup, message):
    bad = tmp_path / "bad"
    setup(bad)
    assert main(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_report_never_overwrites(runs, tmp_path, capsys):
    _, single, _ = runs
    out = tmp_path / "rep"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert main(["report", str(single), "--out", str(out)]) == 2
    assert "already holds files" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "keep"


#: Run in a fresh interpreter: pick a backend as a notebook would (not Agg), make any
#: ``matplotlib.use`` fail, then make figures through the library (argv: a run folder, out dir)
KEEPS_BACKEND = """
import sys
from pathlib import Path

import matplotlib

matplotlib.use("template")


def refuse(*args, **kwargs):
    raise AssertionError("library code called matplotlib.use" + repr(args))


matplotlib.use = refuse
run, out = Path(sys.argv[1]), Path(sys.argv[2])
BODY
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""


def keeps_backend(body: str, run, out) -> None:
    """Run ``body`` under :data:`KEEPS_BACKEND`: no backend change, pyplot never imported."""
    proc = subprocess.run([sys.executable, "-c", KEEPS_BACKEND.replace("BODY", body), str(run),
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["template", "False"]


def test_reports_leave_a_notebooks_matplotlib_backend_alone(runs, tmp_path):
    _, _, ens = runs
    keeps_backend("from simulator.outputs.report import compare_runs, write_report\n"
                  "write_report(run, out / 'rep')\n"
                  "compare_runs([run, run], out / 'cmp')", ens, tmp_path)
    assert len(list((tmp_path / "rep").glob("*.png"))) == 6
    assert (tmp_path / "cmp" / "comparison.png").stat().st_size > 10_000


def test_runs_out_on_is_the_first_date_a_place_turned_people_away(runs, tmp_path):
    """Issue 17: under the soft cap a place runs out before it is full; the report says when."""
    _, single, _ = runs
    out = tmp_path / "rep"
    assert main(["report", str(single), "--out", str(out)]) == 0
    ds = xr.load_dataset(single / "results.nc")
    times = [str(t)[:10] for t in ds["time"].values]
    summary = {r["region"]: r for r in read(out / "summary.csv")}
    places = {(r["region"], r["place"]): r for r in read(out / "places.csv")}
    before_full = 0
    for region in ("North", "South"):
        away = ds["turned_away"].sel(region=region, place="shelter").values
        occ = ds["occupancy"].sel(region=region, place="shelter").values
        cap = ds["capacity"].sel(region=region, place="shelter").values
        first = int(np.flatnonzero(away > 0)[0])
        assert summary[region]["shelter_runs_out_on"] == times[first]
        row = places[(region, "shelter")]
        assert row["runs_out_on"] == times[first]
        assert int(row["occupancy_when_run_out"]) == occ[first]
        assert int(row["open_capacity_when_run_out"]) == cap[first]
        full = np.flatnonzero(occ >= cap)
        before_full += occ[first] < cap[first] and (not full.size or full[0] > first)
        assert summary[region]["camp_runs_out_on"] == "no places"  # camps: capacity 0
    assert before_full  # the soft cap did refuse people before a shelter was full
    assert summary["TOTAL"]["shelter_runs_out_on"] == min(
        summary[r]["shelter_runs_out_on"] for r in ("North", "South"))
    page = (out / "index.html").read_text()
    assert "shelters run out on (first turned people away)" in page
    assert "peak unmet shelter (sought shelter or camp, found none)" in page


def test_open_capacity_by_date_shows_the_ramp(tmp_path):
    """Issue 17: the table lists open capacity on every date it changes; the figure draws it."""
    from simulator.outputs import plots

    from .conftest import write_case

    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[:4, :2, :] = 1.8
    path = write_case(tmp_path / "case", depth=depth, persons=np.full((4, 5), 4500.0),
                      scenario={"impact": {"displacement_probability": 0.5},
                                "capacity": {"default": {"shelter": 800, "host": 300},
                                             "activation_ramp": [0, 0.5, 1.0], "ramp_days": 2}})
    run, out = tmp_path / "run", tmp_path / "rep"
    assert main(["run", str(path), "--out", str(run), "--quiet"]) == 0
    assert main(["report", str(run), "--out", str(out)]) == 0
    ds = xr.load_dataset(run / "results.nc")
    times = [str(t)[:10] for t in ds["time"].values]
    cap = ds["capacity"].sel(place="shelter")
    changes = [0, *(1 + np.flatnonzero((np.diff(cap.values, axis=0) != 0).any(axis=1)))]
    rows = read(out / "open_capacity.csv")
    assert sorted({r["date"] for r in rows}) == [times[i] for i in changes]
    for r in rows:
        t = times.index(r["date"])
        assert int(r["shelter_open_capacity"]) == int(cap.isel(time=t).sel(region=r["region"]))
        assert int(r["shelter_turned_away"]) == int(ds["turned_away"].isel(time=t).sel(
            region=r["region"], place="shelter"))
    north = [int(r["shelter_open_capacity"]) for r in rows if r["region"] == "North"]
    assert north == [0, 400, 800]  # closed, half open, fully open
    assert "open_capacity.png" in (out / "index.html").read_text()
    fig = plots.open_capacity(ds, plots.new_figure(*plots.open_capacity_size(ds)))
    dashed = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    n = len(dashed[0].get_ydata())
    np.testing.assert_allclose(dashed[0].get_ydata(), cap.sel(region="North").values[:n] / 1e3)


def test_compare_refuses_runs_of_different_length_with_one_line(runs, tmp_path, capsys):
    path, single, _ = runs
    short = tmp_path / "short"
    assert main(["run", str(path), "--out", str(short), "--quiet", "--set", "n_steps=5"]) == 0
    capsys.readouterr()
    out = tmp_path / "cmp"
    assert main(["compare", str(single), str(short), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: {single} vs {short}: runs differ in number of steps (10 vs 5): their "
        "indicators do not compare (use --allow-mismatch to compare them anyway)\n")
    assert not out.exists()
    assert main(["compare", str(single), str(short), "--out", str(out), "--allow-mismatch"]) == 0
    assert (out / "regions.csv").is_file()


def test_compare_names_every_difference_of_regions_start_and_step(case, tmp_path, capsys):
    a = case(names=("North", "South"))
    b = case(names=("North", "Upper Valley"), scenario={"start_date": "2030-01-02"})
    c = case(scenario={"step_days": 2, "n_steps": 5})
    dirs = [tmp_path / n for n in "abc"]
    for scenario, out in zip((a, b, c), dirs):
        assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(dirs[0]), str(dirs[1]), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "regions (South, Upper Valley in one only)" in err
    assert "start date (2030-01-01 vs 2030-01-02)" in err
    assert main(["compare", str(dirs[0]), str(dirs[2]), "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "number of steps (10 vs 5); step length (1 vs 2 days)" in err


def test_compare_gives_the_shelter_gap_by_region(runs, more_shelter):
    _, _, ens = runs
    out = more_shelter
    rows = {(r["run"].endswith("(more)"), r["region"]): r for r in read(out / "regions.csv")}
    assert {g for _, g in rows} == {"North", "South"}  # every region, no TOTAL
    ds = xr.load_dataset(ens / "results.nc")
    for region in ("North", "South"):
        unmet = ds["unmet_shelter"].sel(region=region)
        base = rows[(False, region)]
        assert float(base["peak_unmet_shelter"]) == float(np.median(unmet.max("time")))
        assert float(base["unmet_shelter_person_days"]) == float(np.median(unmet.sum("time")))
        firsts = [int(np.flatnonzero(u > 0)[0]) if (u > 0).any() else ds.sizes["time"]
                  for u in unmet.transpose("replicate", "time").values]
        step = int(np.median(firsts))
        assert base["first_date_unmet_shelter"] == (
            str(ds["time"].values[step])[:10] if step < ds.sizes["time"] else "")
        assert float(rows[(True, region)]["peak_unmet_shelter_diff"]) <= 0
    assert any(float(r["peak_unmet_shelter"]) > 0 for (m, _), r in rows.items() if not m)
    assert "Shelter gap by region" in (out / "index.html").read_text()
    assert (out / "comparison_by_region.png").stat().st_size > 10_000


def test_map_outlines_regions_and_names_them_at_their_centroids(runs):
    from matplotlib.collections import LineCollection

    from simulator.outputs import plots
    from simulator.outputs.report import region_map_of

    _, single, _ = runs
    ds = xr.load_dataset(single / "results.nc")
    regions = region_map_of(ds)
    assert regions is not None and regions.attrs["names"] == ["North", "South"]
    ax = plots.new_figure(6, 4).subplots()
    plots.displaced_map(ds, ax, regions)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = lines[0].get_segments()
    assert len(segments) == 2 * (4 + 5) + 5  # the outline of the 4 x 5 grid, one border of 5
    border = [s for s in segments if np.allclose(s[:, 1], 10.15)]  # between rows 1 and 2
    assert len(border) == 5
    labels = {t.get_text(): t.xy for t in ax.texts}
    assert labels.keys() == {"North", "South"}
    assert np.allclose(labels["South"], (20.2, 10.05)) and np.allclose(labels["North"],
                                                                        (20.2, 10.25))


def test_map_without_its_inputs_says_so(runs, tmp_path):
    import shutil

    from simulator.outputs import plots
    from simulator.outputs.report import region_map_of

    path, single, _ = runs
    ds = xr.load_dataset(single / "results.nc")
    moved = tmp_path / "moved"
    shutil.move(path.parent, moved)
    try:
        assert region_map_of(ds) is None
        ax = plots.displaced_map(ds, plots.new_figure(6, 4).subplots(), None)
        assert ax.get_title().endswith("(region outlines: inputs not found)")
    finally:
        shutil.move(moved, path.parent)


def test_occupancy_figure_draws_lines_that_hide_nothing(runs):
    from simulator.outputs import plots

    _, single, _ = runs
    ds = xr.load_dataset(single / "results.nc")
    ax = plots.occupancy_vs_capacity(ds, "South", plots.new_figure(8, 4).subplots())
    assert not ax.collections  # no filled areas over one another
    labels = [line.get_label() for line in ax.get_lines()]
    assert {"shelter occupancy", "shelter capacity", "host occupancy", "unsheltered"} <= set(
        labels)


def test_needs_say_no_stocks_given_rather_than_zero(runs, tmp_path):
    _, single, _ = runs
    needs_file = tmp_path / "needs.toml"
    needs_file.write_text("[available.South]\nwater_l_per_day = 0.0\n")
    out = tmp_path / "rep"
    assert main(["report", str(single), "--out", str(out), "--needs", str(needs_file)]) == 0
    rows = {r["region"]: r for r in read(out / "needs.csv")}
    assert rows["South"]["available_water_l_per_day"] == "0.0"  # given: none in stock
    assert rows["South"]["available_taps"] == "no stocks given"
    assert {rows["North"][f"available_{k}"] for k in ("covered_space_m2", "water_l_per_day",
                                                      "toilets", "taps")} == {"no stocks given"}
    assert float(rows["North"]["shortfall_taps"]) == float(rows["North"]["need_taps"])
    assert "no stocks given" in (out / "index.html").read_text()
