"""What an uncertainty ensemble says: bands, parameters vs seed noise, what drives the spread.

An ensemble (``climdisp run SCENARIO --uncertainty N``, :mod:`simulator.runs.uncertainty`) holds
runs along ``sample`` (a point of the uncertain parameters) and ``replicate`` (a seed of that
point's own). For an indicator y[s, r] the spread splits as in a one-way random-effects ANOVA
(e.g. Searle, Casella & McCulloch 1992, Variance Components, ch. 3):

    seed variance       v_seed  = mean over s of Var_r(y[s, :])      (unbiased, ddof 1)
    parameter variance  v_param = max(0, Var_s(mean_r y[s, :]) - v_seed / R)

The variance of the sample means holds the parameters' variance plus v_seed / R of seed noise,
which is taken off; the parameter share is v_param / (v_param + v_seed) and the seed share the
rest, so where only the seed matters the parameter share is about 0. Bands are the 5-95 %
percentiles over all runs: parameters and seeds together.

What drives the spread: per parameter, the first-order index S1 of the sample means by RBD-FAST
(SALib; Tarantola, Gatelli & Mara 2006, RESS 91:717, with Tissot & Prieur 2012's bias
correction), which needs no special design and works on a Latin hypercube, and Spearman's rank
correlation for the direction. With few samples the indices are rough: trust the order of the
top few, not their values.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.atomic import csv_text, write_folder
from simulator.errors import InputError
from simulator.outputs.analysis import busiest_region, region_summary
from simulator.outputs.plots import new_figure, png_bytes

DATASET = "uncertainty.nc"
#: Indicators with bands, a variance split and drivers (persons or person-days).
HEADLINE = ("peak_displaced", "displaced_person_days", "peak_unmet_shelter",
            "unmet_shelter_person_days", "displaced_at_end", "peak_evacuated", "peak_trapped",
            "relocated_at_end")
#: Fewest samples for an RBD-FAST index (its bootstrap uses half of them, with M >= 1).
MIN_SAMPLES_S1 = 8


def ensemble_file(path: str | Path) -> Path | None:
    """The ensemble dataset at ``path`` (an ensemble folder or its ``.nc``), else None."""
    path = Path(path)
    if path.is_dir() and (path / DATASET).is_file():
        return path / DATASET
    return path if path.is_file() and path.name == DATASET else None


def open_ensemble(path: str | Path) -> xr.Dataset:
    """Open an ensemble dataset, with a one-line error when ``path`` holds none."""
    file = ensemble_file(path)
    if file is None:
        raise InputError(path, f"not an uncertainty ensemble (no {DATASET})")
    ds = xr.load_dataset(file)
    if not {"sample", "replicate"} <= set(ds.dims):
        raise InputError(file, "not an uncertainty ensemble (no sample and replicate dims)")
    return ds


def parameter_names(ds: xr.Dataset) -> list[str]:
    """The ensemble's uncertain parameters (coordinates along ``sample``), in table order."""
    return json.loads(ds.attrs["parameters"])


def variance_split(y: np.ndarray) -> dict[str, float]:
    """Split the variance of ``y[sample, replicate]`` into parameters and seed noise.

    Returns:
        ``parameter_variance``, ``seed_variance`` and their shares of the sum
        (``parameter_share + seed_share == 1``; both NaN when nothing varies).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2 or y.shape[0] < 2 or y.shape[1] < 2:
        raise ValueError("variance_split needs at least 2 samples x 2 replicates")
    seed = float(y.var(axis=1, ddof=1).mean())
    param = max(0.0, float(y.mean(axis=1).var(ddof=1)) - seed / y.shape[1])
    total = param + seed
    share = param / total if total > 0 else float("nan")
    return {"parameter_variance": param, "seed_variance": seed, "parameter_share": share,
            "seed_share": 1.0 - share}


def indicator_values(ds: xr.Dataset) -> dict[tuple[str, str], np.ndarray]:
    """Headline indicators per (region or "TOTAL", indicator), as arrays [sample, replicate]."""
    n_s, n_r = ds.sizes["sample"], ds.sizes["replicate"]
    rows = [[region_summary(ds.isel(sample=s, replicate=r)) for r in range(n_r)]
            for s in range(n_s)]
    return {(row["region"], key): np.array([[float(rows[s][r][i][key]) for r in range(n_r)]
                                            for s in range(n_s)])
            for i, row in enumerate(rows[0][0]) for key in HEADLINE}


def band_rows(values: dict[tuple[str, str], np.ndarray]) -> list[dict[str, object]]:
    """Per region and indicator: median and 5-95 % over all runs, and the variance split."""
    rows = []
    for (region, key), y in values.items():
        split = variance_split(y)
        rows.append({"region": region, "indicator": key, "median": float(np.median(y)),
                     "p05": float(np.percentile(y, 5)), "p95": float(np.percentile(y, 95)),
                     "parameter_sd": split["parameter_variance"] ** 0.5,
                     "seed_sd": split["seed_variance"] ** 0.5,
                     "parameter_share": split["parameter_share"],
                     "seed_share": split["seed_share"]})
    return rows


def first_order(x: np.ndarray, y: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """RBD-FAST first-order indices ``S1`` (and ``S1_conf``) of ``y`` for the columns of ``x``.

    Harmonics M = 10 as SALib's default, fewer for small samples (at most N / 8); NaN below
    :data:`MIN_SAMPLES_S1` samples (too few for the estimate and its bootstrap).
    """
    from SALib.analyze import rbd_fast

    if len(y) < MIN_SAMPLES_S1:
        return {"S1": np.full(len(names), np.nan), "S1_conf": np.full(len(names), np.nan)}
    if np.ptp(y) == 0:  # nothing moves this indicator
        return {"S1": np.zeros(len(names)), "S1_conf": np.zeros(len(names))}
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(c.min()), float(c.max()) or 1.0] for c in x.T]}
    with np.errstate(invalid="ignore", divide="ignore"):  # a flat bootstrap resample: NaN
        res = rbd_fast.analyze(problem, x, y, M=int(np.clip(len(y) // 8, 1, 10)), seed=0)
    return {k: np.nan_to_num(np.asarray(res[k], dtype=float)) for k in ("S1", "S1_conf")}


def driver_rows(ds: xr.Dataset, values: dict[tuple[str, str], np.ndarray],
                regions: list[str]) -> list[dict[str, object]]:
    """What drives the spread of each indicator in ``regions``: S1 and Spearman's rho.

    One row per region, indicator and parameter. Parameters are ordered by the lower end of
    S1's bootstrap interval (S1 - S1_conf, largest first; with few samples a large S1 with a
    larger S1_conf is noise), then by the size of rho.
    """
    from scipy.stats import spearmanr

    names = parameter_names(ds)
    x = np.column_stack([ds[n].values.astype(float) for n in names])
    rows = []
    for region in regions:
        for key in HEADLINE:
            means = values[(region, key)].mean(axis=1)
            s1 = first_order(x, means, names)
            rho = [float(spearmanr(x[:, i], means).statistic)
                   if np.ptp(means) and np.ptp(x[:, i]) else 0.0 for i in range(len(names))]
            low = np.nan_to_num(s1["S1"] - s1["S1_conf"], nan=0.0)
            for i in sorted(range(len(names)), key=lambda i: (-low[i], -abs(rho[i]))):
                rows.append({"region": region, "indicator": key, "parameter": names[i],
                             "S1": float(s1["S1"][i]), "S1_conf": float(s1["S1_conf"][i]),
                             "spearman_rho": rho[i]})
    return rows


def _fmt(v: object, key: str = "") -> str:
    if isinstance(v, float):
        if np.isnan(v):
            return "n/a"
        if key.endswith("_share"):  # shares near 0 or 1 are the point: keep three decimals
            return f"{v:.3f}"
        return f"{v:,.0f}" if abs(v) >= 10 or v.is_integer() else f"{v:.2f}"
    return str(v)


def _table(rows: list[dict], keys: list[str]) -> str:
    head = "".join(f"<th>{html.escape(k.replace('_', ' '))}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r[k], k))}</td>" for k in keys)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _intro(ds: xr.Dataset) -> str:
    n, r = ds.sizes["sample"], ds.sizes["replicate"]
    return (f"<p>Scenario <b>{html.escape(str(ds.attrs.get('scenario')))}</b>: {n} samples of "
            f"{len(parameter_names(ds))} uncertain parameters (Latin hypercube, each through "
            f"its distribution; parameters.csv) x {r} seeds each = {n * r} runs. Bands are the "
            "5-95 % percentiles over all runs, so they hold <b>parameter uncertainty and seed "
            "noise together</b>. The parameter share is the part of the variance that comes "
            "from the parameters (variance of the sample means less the seed noise left in "
            "them), the seed share the part from random draws alone (variance between seeds "
            "within a sample); they add up to 1. Drivers: first-order index S1 of the sample "
            "means (RBD-FAST) with its 95 % bootstrap half-width S1_conf, and Spearman's rank "
            "correlation for the direction. Parameters are ordered by S1 - S1_conf: an S1 "
            "below its S1_conf cannot be told from no effect with this many samples (use 64 "
            "or more to rank more than the top one or two). docs/model.md, section 8 "
            "(Uncertainty), says more."
            "</p>")


def band_figure(ds: xr.Dataset, state: str = "displaced"):
    """Persons in ``state`` (all regions) over time: the ensemble's band against seed noise.

    The 5-95 % band over all runs (parameters and seeds) and median, beside the band seed noise
    alone gives: the median +- 1.645 x the within-sample standard deviation over seeds.
    """
    v = ds["persons"].sel(state=state).sum("region") / 1e3
    runs = v.stack(run=("sample", "replicate"))
    median = runs.median("run")
    seed_sd = np.sqrt(v.var("replicate", ddof=1).mean("sample"))
    t = ds["time"].values
    fig = new_figure(9, 4)
    ax = fig.subplots()
    ax.fill_between(t, runs.quantile(0.05, "run"), runs.quantile(0.95, "run"), alpha=0.25,
                    color="tab:blue", label="5-95 %: parameters and seeds")
    ax.fill_between(t, median - 1.645 * seed_sd, median + 1.645 * seed_sd, alpha=0.6,
                    color="tab:red", label="seed noise only (median +- 1.645 sd)")
    ax.plot(t, median, color="black", lw=1.5, label="median")
    ax.set_ylabel(f"persons {state} (thousands)")
    ax.set_title(f"Persons {state}, all regions: {ds.sizes['sample']} samples x "
                 f"{ds.sizes['replicate']} seeds")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return fig


def write_uncertainty_report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write the report folder of an ensemble: index.html, bands.csv, drivers.csv and a figure."""
    ds = open_ensemble(path)
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    values = indicator_values(ds)
    bands = band_rows(values)
    first = ds.isel(sample=0, replicate=0)
    busiest = busiest_region(first)
    drivers = driver_rows(ds, values, [*map(str, ds["region"].values), "TOTAL"])
    keys = ["indicator", "median", "p05", "p95", "parameter_share", "seed_share",
            "parameter_sd", "seed_sd"]
    sections = []
    for region in ("TOTAL", busiest):
        sections.append((f"Bands and variance split: {region}",
                         _table([b for b in bands if b["region"] == region], keys)))
    for region in ("TOTAL", busiest):
        top = [d for d in drivers if d["region"] == region and d["indicator"] in (
            "peak_displaced", "unmet_shelter_person_days")]
        top = [d for i, d in enumerate(top) if i % len(parameter_names(ds)) < 5]
        sections.append((f"What drives the spread: {region} (top 5 parameters; all in "
                         "drivers.csv)", _table(top, ["indicator", "parameter", "S1", "S1_conf",
                                                      "spearman_rho"])))
    png = png_bytes(band_figure(ds))
    sections.insert(0, ("Persons displaced over time", '<img alt="displaced_band.png" src="data:'
                        f'image/png;base64,{base64.b64encode(png).decode()}">'))
    body = "".join(f"<h2>{html.escape(h)}</h2>{c}" for h, c in sections)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Uncertainty: "
            f"{html.escape(str(ds.attrs.get('scenario')))}</title></head><body>"
            f"<h1>Uncertainty ensemble: {html.escape(str(ds.attrs.get('scenario')))}</h1>"
            f"{_intro(ds)}{body}</body></html>")
    return write_folder(Path(out) if out else folder / "report", {
        "index.html": page.encode(), "bands.csv": csv_text(bands).encode(),
        "drivers.csv": csv_text(drivers).encode(), "displaced_band.png": png})


def summary_text(ds: xr.Dataset) -> str:
    """A short table for the terminal: TOTAL bands, variance split and the top driver."""
    values = indicator_values(ds)
    bands = {b["indicator"]: b for b in band_rows(values) if b["region"] == "TOTAL"}
    drivers = driver_rows(ds, values, ["TOTAL"])
    top = {}
    for d in drivers:
        top.setdefault(d["indicator"], d["parameter"])
    lines = [f"{'indicator (all regions)':<26} {'median':>11} {'5-95 % band':>24} "
             f"{'params':>7} {'seeds':>6} {'seed sd':>9}  top driver"]
    for key in HEADLINE:
        b = bands[key]
        share = "n/a" if np.isnan(b["parameter_share"]) else f"{b['parameter_share']:.1%}"
        seed = "n/a" if np.isnan(b["seed_share"]) else f"{b['seed_share']:.1%}"
        band = f"{b['p05']:,.0f} - {b['p95']:,.0f}"
        lines.append(f"{key:<26} {b['median']:>11,.0f} {band:>24} {share:>7} {seed:>6} "
                     f"{b['seed_sd']:>9,.0f}  {top[key] if b['p95'] > b['p05'] else '-'}")
    return "\n".join(lines)
