"""Reports and comparisons: tables (CSV), figures (PNG) and a self-contained HTML page.

``write_report`` turns one run folder into a report folder; ``compare_runs`` puts several runs
side by side with differences to the first (the baseline), paired by seed when the runs are
ensembles with the same seeds. Both are written atomically and never over an existing folder.
"""

from __future__ import annotations

import base64
import html
import tomllib
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.atomic import csv_text, write_folder
from simulator.errors import InputError
from simulator.outputs import plots
from simulator.outputs.analysis import (
    NEEDS,
    SPHERE,
    bands,
    busiest_region,
    depth_band_audit,
    duration_indicators,
    group_indicators,
    needs,
    open_capacity_by_date,
    place_indicators,
    region_summary,
    replicates,
)
from simulator.outputs.borders import country_table, crossings_table, has_borders, protection_table
from simulator.outputs.folders import open_run
from simulator.outputs.plots import new_figure, png_bytes

INDICATORS = ("peak_displaced", "displaced_person_days", "peak_unmet_shelter",
              "unmet_shelter_person_days", "peak_evacuated", "peak_trapped", "relocated_at_end",
              "adapted_at_end", "returned", "displaced_at_end", "exposed_person_days",
              "internal_displacements", "home_losses", "contents_saved", "income_forgone_away",
              "regular_crossings", "irregular_crossings", "stranded_at_border", "sent_back")


def read_needs(path: Path | None) -> tuple[dict, dict]:
    """Read a needs file: ``[standards]`` overriding Sphere values, ``[available.<region>]``."""
    if path is None:
        return {}, {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(path, f"--needs: cannot read ({exc})") from None
    unknown = set(data) - {"standards", "available"}
    bad = set(data.get("standards", {})) - set(SPHERE)
    bad |= {k for v in data.get("available", {}).values() for k in v} - set(NEEDS)
    if unknown or bad:
        raise InputError(path, f"--needs: unknown key {sorted(unknown | bad)[0]!r} (standards: "
                               f"{', '.join(SPHERE)}; available: {', '.join(NEEDS)})")
    return data.get("standards", {}), data.get("available", {})


def _tables(ds: xr.Dataset, standards: dict, available: dict) -> dict[str, list[dict]]:
    """Every report table, with median/p05/p95 rows for ensembles."""
    reps = replicates(ds)
    out = {}
    for name, fn in (("summary", region_summary), ("places", place_indicators),
                     ("open_capacity", open_capacity_by_date),
                     ("durations", duration_indicators), ("groups", group_indicators),
                     ("depth_audit", depth_band_audit),
                     ("needs", lambda d: needs(d, standards, available))):
        per_rep = [fn(r) for r in reps]
        if len(reps) == 1 or len({len(p) for p in per_rep}) > 1:
            out[name] = [{"statistic": "value", **row} for row in per_rep[0]]
        else:
            out[name] = [{"statistic": stat, **row} for stat, rows in bands(per_rep).items()
                         for row in rows]
    return out


#: Table headers that say what a column holds where its name alone could mislead.
LABELS = {
    "residents": "residents (home region)",
    "peak_displaced": "peak displaced (home region)",
    "peak_shelter_occupancy": "peak in shelters (staying in region)",
    "peak_camp_occupancy": "peak in camps (staying in region)",
    "shelter_max_open_capacity": "shelter capacity, largest open",
    "camp_max_open_capacity": "camp capacity, largest open",
    "shelter_runs_out_on": "shelters run out on (first turned people away)",
    "camp_runs_out_on": "camps run out on (first turned people away)",
    "runs_out_on": "runs out on (first turned people away)",
    "peak_unmet_shelter": "peak unmet shelter (sought shelter or camp, found none)",
    "unmet_shelter_person_days": "unmet shelter person-days (shelter or camp)",
    "displaced_at_end": "still displaced at end (home region)",
    "displaced_persons": "persons displaced (episodes, home region)",
    "still_displaced_at_end": "still displaced at end (open episodes, censored)",
    "median_days": "median days displaced (Kaplan-Meier)",
    "peak_exposed_at_home": "peak at home in dangerous water or wind (what warnings save)",
    "exposed_person_days": "person-days at home in dangerous water or wind",
    "internal_displacements": "internal displacements (evacuations + forced, IDMC GIDD)",
    "home_losses": "damage to homes, structure and contents (currency)",
    "contents_saved": "contents evacuees saved (currency)",
    "income_forgone_away": "income of the days away from home (currency, upper bound)",
    "regular_crossings": "persons crossing a border regularly (open border or a pathway)",
    "irregular_crossings": "persons crossing a border irregularly",
    "stranded_at_border": "persons who wanted to cross a border and could not",
    "sent_back": "persons whose irregular crossing failed (sent back)",
    **{f"share_over_{m}_months": f"share displaced over {m} months (Kaplan-Meier)"
       for m in (1, 3, 6, 12)},
}


_BORDER_NOTE = (
    "<p>Countries: residents at the start and end, peak displaced, and persons making a new "
    "home within the country, leaving it, or coming from abroad. Crossings: persons by the "
    "route they took (an open border, a regular pathway, or irregularly), for a new home or "
    "for a place while displaced; <i>approved</i> counts applications to a pathway, which "
    "move after its processing time (those not at home then lapse: "
    "<code>pathway_lapsed</code>). Per step: results variables <code>cross_border</code>, "
    "<code>irregular_by_group</code>, <code>stranded_at_border</code>.</p>")


def _fmt(v: object) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and np.isnan(v):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 10 or v.is_integer() else f"{v:.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def html_table(rows: list[dict], stat: str | None = None) -> str:
    """An HTML table of ``rows`` (for ensembles, only the ``stat`` rows)."""
    rows = [r for r in rows if stat is None or r.get("statistic") in (stat, "value")]
    if not rows:
        return "<p>(none)</p>"
    keys = [k for k in rows[0] if k != "statistic"]
    head = "".join(f"<th>{html.escape(LABELS.get(k, k.replace('_', ' ')))}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r[k]))}</td>" for k in keys)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def region_map_of(ds: xr.Dataset) -> xr.DataArray | None:
    """The run's region raster on its map grid, from the inputs its config names (or None).

    None when the inputs cannot be read any more (moved or deleted since the run) or no longer
    match the run's map grid or regions: the map is then drawn without outlines.
    """
    from simulator.inputs.config import scenario_from_toml
    from simulator.inputs.load import region_map

    try:
        regions = region_map(scenario_from_toml(ds.attrs["config_toml"]))
    except (InputError, KeyError, ValueError, OSError):
        return None
    grid = ds["displaced_map"]
    same = regions.shape == grid.shape and regions.attrs["names"] == list(
        map(str, ds["region"].values)) and all(
        np.allclose(regions[a].values, grid[b].values) for a, b in zip(regions.dims, grid.dims))
    return regions if same else None


def _figures(ds: xr.Dataset) -> dict[str, object]:
    """The report's figures, on Figures outside pyplot (no backend is selected or changed)."""
    first = replicates(ds)[0]
    figs = {"states_by_region.png": plots.states_by_region(
        first, new_figure(*plots.states_by_region_size(first)))}
    fig = new_figure(9, 4.5)
    plots.occupancy_vs_capacity(first, busiest_region(first), fig.subplots())
    figs["occupancy_capacity.png"] = fig
    figs["open_capacity.png"] = plots.open_capacity(
        first, new_figure(*plots.open_capacity_size(first)))
    fig = new_figure(13, 4.8)
    left, right = fig.subplots(1, 2)
    plots.displaced_map(first, left, region_map_of(first))
    plots.shelter_demand(first, right)
    figs["displacement_map_and_demand.png"] = fig
    fig = new_figure(7, 6)
    plots.flow_matrix(first, fig.subplots())
    figs["flows.png"] = fig
    if "replicate" in ds.dims:
        fig = new_figure(9, 4)
        plots.ensemble_band(ds, "displaced", fig.subplots())
        figs["ensemble_displaced.png"] = fig
    return figs


def page(title: str, intro: str, sections: list[tuple[str, str]], images: dict[str, bytes]) -> str:
    """A self-contained HTML page: title, intro, sections and the figures embedded."""
    style = ("body{font-family:sans-serif;max-width:1300px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:12px;margin:0.5em 0 1.5em}"
             "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
             "th{background:#f0f0f0}img{max-width:100%}figure{margin:1em 0}")
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in sections)
    figs = "".join(
        f'<figure id="{html.escape(name)}"><img alt="{html.escape(name)}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode()}">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>" for name, data in images.items())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body><h1>{html.escape(title)}</h1>{intro}"
            f"{body}<h2>Figures</h2>{figs}</body></html>")


_DURATION_NOTE = (
    "<p>Episodes still open when the run ends are not cut short: they are <b>censored</b> "
    "(they last at least as long as observed) and counted as still displaced at end. The "
    "median and the shares displaced beyond 1, 3, 6 and 12 months are Kaplan-Meier estimates "
    "that treat them so; n/a where the run is too short to tell. For scale: in the US Census "
    "Household Pulse Survey (December 2022), 71% of owner and 56% of renter households "
    "displaced by a disaster were back within a month.</p>")


def _soft_cap_start(ds: xr.Dataset) -> float | None:
    """The run's ``placement.soft_cap_start`` from its resolved config, if it says."""
    try:
        return float(tomllib.loads(ds.attrs["config_toml"])["placement"]["soft_cap_start"])
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError):
        return None


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 needs_file: str | Path | None = None) -> Path:
    """Write a report folder for a run: index.html, CSV tables and PNG figures."""
    from simulator.outputs.uncertainty import ensemble_file, write_uncertainty_report

    if ensemble_file(run_dir) is not None:  # an uncertainty ensemble has its own report
        if needs_file is not None:
            raise InputError(needs_file, "--needs: not for an uncertainty ensemble")
        return write_uncertainty_report(run_dir, out)
    run_dir = Path(run_dir)
    ds = open_run(run_dir)
    missing = sorted({"displacement_duration", "displaced_map", "persons_by_group",
                      "unsheltered_by_group", "turned_away"} - set(ds.data_vars))
    if missing:
        raise InputError(run_dir, f"RUN_DIR: results lack {missing} (made by an older climdisp); "
                                  f"rerun with: climdisp run {run_dir}/config.toml --out NEW_DIR")
    standards, available = read_needs(Path(needs_file) if needs_file else None)
    unknown = sorted(set(available) - set(map(str, ds["region"].values)))
    if unknown:
        raise InputError(needs_file, f"--needs: available.{unknown[0]}: unknown region")
    out = Path(out) if out else run_dir / "report"
    tables = _tables(ds, standards, available)
    images = {name: png_bytes(fig) for name, fig in _figures(ds).items()}
    stat = "median" if "replicate" in ds.dims else None
    n_rep = ds.sizes.get("replicate", 1)
    intro = (f"<p>Scenario <b>{html.escape(str(ds.attrs.get('scenario')))}</b>, seed "
             f"{ds.attrs.get('seed')}, {n_rep} replicate(s), {ds.sizes['time']} steps of "
             f"{ds.attrs.get('step_days')} day(s) from {str(ds['time'].values[0])[:10]}. "
             + ("Tables show medians over replicates; the CSV files hold the 5-95 % band "
                "over seeds: <b>seed noise only</b>, not the uncertainty of the model's "
                "parameters (for that: climdisp run --uncertainty N). "
                if stat else "") + "Persons are by home region unless a table says "
                "otherwise; needs follow the Sphere standards.</p>")
    soft = _soft_cap_start(ds)
    runs_out_note = (
        "<p>Persons are counted by home region; shelter and camp columns by the region where "
        "people stay, shelter and camp apart. A place <b>runs out</b> on the first date it "
        "turned someone away (results variable <code>turned_away</code>)"
        + (f": admission is throttled from {soft:.0%} of open capacity, so a place can run "
           "out before it is full" if soft is not None and soft < 1 else "")
        + ". Capacity is what was open that day, after the activation ramp.</p>")
    sections = [("Summary by region", runs_out_note + html_table(tables["summary"], stat)),
                ("Places against capacity", html_table(tables["places"], stat)),
                ("Open shelter and camp capacity by date (activation ramp)",
                 "<p>Capacity open on each date it changes, by region where people stay, with "
                 "the occupancy and the persons turned away that day; every day in the figure "
                 "open_capacity.png.</p>" + html_table(tables["open_capacity"], stat)),
                ("Displacement duration", _DURATION_NOTE + html_table(tables["durations"],
                                                                       stat)),
                ("Who is affected: peaks by group (children + adults + older persons = all)",
                 html_table([r for r in tables["groups"] if r["region"] == "TOTAL"], stat)
                 + "<p>Per region: groups.csv.</p>"),
                ("Needs at peak (Sphere) and shortfalls", html_table(tables["needs"], stat)),
                ("Who stayed home in the water, and why",
                 "<p>Person-days at home (not displaced) while the flood at the home's cell, "
                 "before defences, was in each depth band: the defences held; the home was "
                 "outside the flooded part of its cell; its adaptation kept it below the "
                 "displacement threshold; the damage was below the threshold anyway; or the "
                 "displacement draw. Per region: the results variable "
                 "<code>stayed_home</code>.</p>" + html_table(tables["depth_audit"], stat))]
    if has_borders(ds):
        tables |= {"countries": country_table(ds), "crossings": crossings_table(ds),
                   "protection": protection_table(ds)}
        sections.append(("Across borders: by country, country pair and route", _BORDER_NOTE
                         + html_table(tables["countries"]) + html_table(tables["crossings"])
                         + "<p>Protection: persons crossing irregularly and persons who wanted "
                         "to cross and could not, by group (children, women, older persons, "
                         "persons with disabilities).</p>" + html_table(tables["protection"])))
    files = {f"{name}.csv": csv_text(rows).encode() for name, rows in tables.items()}
    files.update(images)
    files["index.html"] = page(f"Displacement report: {ds.attrs.get('scenario')}", intro,
                                sections, images).encode()
    return write_folder(out, files)


def _values(ds: xr.Dataset) -> dict[tuple[str, str], np.ndarray]:
    """Indicator values per (region, indicator), one per replicate."""
    per_rep = [region_summary(r) for r in replicates(ds)]
    return {(row["region"], key): np.array([rows[i][key] for rows in per_rep], dtype=float)
            for i, row in enumerate(per_rep[0]) for key in INDICATORS if key in row}


def _alike_problems(base: xr.Dataset, other: xr.Dataset) -> list[str]:
    """What makes two runs incomparable: regions, start date, number of steps, step length."""
    problems = []
    regions = [list(map(str, ds["region"].values)) for ds in (base, other)]
    if regions[0] != regions[1]:
        extra = sorted(set(regions[1]) ^ set(regions[0]))
        problems.append(f"regions ({', '.join(extra[:3])} in one only)" if extra
                        else "regions (same names in another order)")
    starts = [str(ds["time"].values[0])[:10] for ds in (base, other)]
    if starts[0] != starts[1]:
        problems.append(f"start date ({starts[0]} vs {starts[1]})")
    if base.sizes["time"] != other.sizes["time"]:
        problems.append(f"number of steps ({base.sizes['time']} vs {other.sizes['time']})")
    steps = [ds.attrs.get("step_days") for ds in (base, other)]
    if steps[0] != steps[1]:
        problems.append(f"step length ({steps[0]} vs {steps[1]} days)")
    return problems


def check_comparable(datasets: list[xr.Dataset], run_dirs: list[str | Path]) -> None:
    """Refuse runs that differ from the first in regions, start date, length or step length.

    Raises:
        InputError: one line naming both run folders and everything that differs.
    """
    for ds, run_dir in zip(datasets[1:], run_dirs[1:]):
        problems = _alike_problems(datasets[0], ds)
        if problems:
            raise InputError(f"{run_dirs[0]} vs {run_dir}",
                             f"runs differ in {'; '.join(problems)}: their indicators do not "
                             "compare (use --allow-mismatch to compare them anyway)")


def _first_unmet_date(ds: xr.Dataset, region: str) -> str:
    """First date anyone sought shelter in ``region`` and found none (median over replicates)."""
    n = ds.sizes["time"]
    firsts = [np.flatnonzero(r["unmet_shelter"].sel(region=region).values > 0)
              for r in replicates(ds)]
    step = int(np.median([f[0] if f.size else n for f in firsts]))  # never: n
    return str(ds["time"].values[step])[:10] if step < n else ""


def region_comparison(labels: list[str], datasets: list[xr.Dataset],
                      rows: list[dict]) -> list[dict]:
    """Per region and run: peak unmet shelter, unmet person-days and the first date unmet.

    Values are medians over replicates; differences are to the baseline (the first run).
    """
    value = {(r["run"], r["region"], r["indicator"]): r for r in rows}
    out = []
    for region in map(str, datasets[0]["region"].values):
        for label, ds in zip(labels, datasets):
            row = {"region": region, "run": label}
            for key in ("peak_unmet_shelter", "unmet_shelter_person_days"):
                hit = value.get((label, region, key))
                row[key] = hit["value"] if hit else float("nan")
                row[f"{key}_diff"] = hit["diff_to_baseline"] if hit else float("nan")
            row["first_date_unmet_shelter"] = (_first_unmet_date(ds, region)
                                               if region in ds["region"].values else "")
            out.append(row)
    return out


def compare_runs(run_dirs: list[str | Path], out: str | Path,
                 allow_mismatch: bool = False) -> tuple[Path, list[dict]]:
    """Indicators of several runs side by side, with differences to the first run.

    Runs must share regions, start date, number of steps and step length unless
    ``allow_mismatch`` (:func:`check_comparable`). Writes comparison.csv (every region and
    indicator), regions.csv (:func:`region_comparison`), figures and index.html.
    """
    datasets = [open_run(d) for d in run_dirs]
    if not allow_mismatch:
        check_comparable(datasets, run_dirs)
    labels = [f"{ds.attrs.get('scenario')}" for ds in datasets]
    labels = [lab if labels.count(lab) == 1 else f"{lab} ({Path(d).name})"
              for lab, d in zip(labels, run_dirs)]
    values = [_values(ds) for ds in datasets]
    seeds = [tuple(np.atleast_1d(ds["seed"].values).tolist()) if "seed" in ds.coords
             else (ds.attrs.get("seed"),) for ds in datasets]
    rows = []
    for label, vals, run_seeds in zip(labels, values, seeds):
        paired = run_seeds == seeds[0]
        for (region, key), v in vals.items():
            base = values[0].get((region, key), np.full(v.size, np.nan))
            diff = v - base if paired else np.array([np.median(v) - np.median(base)])
            rows.append({"run": label, "region": region, "indicator": key,
                         "value": float(np.median(v)), "value_p05": float(np.percentile(v, 5)),
                         "value_p95": float(np.percentile(v, 95)),
                         "diff_to_baseline": float(np.median(diff)),
                         "diff_p05": float(np.percentile(diff, 5)),
                         "diff_p95": float(np.percentile(diff, 95)), "paired_by_seed": paired})
    by_region = region_comparison(labels, datasets, rows)
    shown = ["peak_displaced", "unmet_shelter_person_days", "peak_evacuated", "peak_trapped"]
    if any(r["indicator"] == "exposed_person_days" for r in rows):  # what warnings save
        shown.insert(3, "exposed_person_days")
    if any(r["indicator"] == "home_losses" for r in rows):  # and what they cost in money
        shown.append("home_losses")
    if any(r["indicator"] == "irregular_crossings" for r in rows):  # across borders
        shown += ["irregular_crossings", "stranded_at_border"]
    per_region = ["peak_unmet_shelter", "unmet_shelter_person_days"]
    images = {"comparison.png": png_bytes(plots.comparison_bars(
        rows, shown, new_figure(4 * len(shown), 3.6))),
        "comparison_by_region.png": png_bytes(plots.comparison_by_region(
            rows, per_region, new_figure(*plots.comparison_by_region_size(
                datasets[0].sizes["region"], len(per_region)))))}
    total = [r for r in rows if r["region"] == "TOTAL"]
    intro = (f"<p>Baseline: <b>{html.escape(labels[0])}</b>. Differences are to the baseline, "
             "per replicate when the runs share seeds (paired), else of medians. Per region: "
             "persons by the region where they sought shelter; first date unmet: the first day "
             "anyone there sought shelter or camp space and found none (median over "
             "replicates).</p>")
    files = {"comparison.csv": csv_text(rows).encode(), "regions.csv": csv_text(by_region).encode(),
             **images,
             "index.html": page("Scenario comparison", intro,
                                 [("All regions", html_table(total)),
                                  ("Shelter gap by region", html_table(by_region))],
                                 images).encode()}
    return write_folder(Path(out), files), rows
