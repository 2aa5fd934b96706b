"""Figures from a results dataset (matplotlib only; each function draws on an Axes and returns it).

Plots are made from results, never during a run. matplotlib is imported lazily so the core
model does not pay for it.

Two ways to get a figure, and neither selects a backend (no ``matplotlib.use`` here or in any
library code, so a notebook's backend is never switched under it):

- in a notebook, call a function without ``ax`` (or ``fig``): it draws on a new pyplot figure,
  which Jupyter shows as usual; or pass an Axes of your own layout;
- in library code (reports, risk, the dashboard), pass an Axes of :func:`new_figure`, a
  ``matplotlib.figure.Figure`` that pyplot never sees, and render it with :func:`png_bytes`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def new_figure(width: float, height: float, dpi: float = 100):
    """A constrained-layout ``Figure`` of ``width`` x ``height`` inches, outside pyplot.

    It needs no backend and is not kept in pyplot's list of open figures: it is freed when the
    caller drops it (safe in a server's threads and in worker processes).
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def _pyplot_figure(width: float, height: float, layout: str | None = "constrained"):
    """A new pyplot figure, for a notebook's call without ``ax`` or ``fig`` (Jupyter shows it)."""
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), layout=layout)


def _axes(ax):
    return _pyplot_figure(8, 4, layout=None).subplots() if ax is None else ax


def png_bytes(fig) -> bytes:
    """Render a figure to PNG bytes (100 dpi); a pyplot figure is also closed.

    Saving a PNG uses matplotlib's Agg renderer directly (``Figure.savefig``) and leaves the
    selected backend as it is.
    """
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    if fig.canvas.manager is not None:  # pyplot holds it: let pyplot forget it
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buf.getvalue()


def _dates(ax):
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return ax


STATE_COLORS = {"displaced": "tab:red", "evacuated": "tab:orange", "trapped": "tab:purple",
                "relocated": "tab:brown", "adapted": "tab:green", "returned": "tab:blue"}


def states_over_time(ds: xr.Dataset, ax=None):
    """Persons in each state of the mobility continuum (all regions) over time, log scale."""
    ax = _axes(ax)
    persons = ds["persons"].sum("region")
    for state, color in STATE_COLORS.items():
        values = persons.sel(state=state).values
        if values.max() > 0:
            ax.plot(ds["time"].values, np.where(values > 0, values, np.nan), color=color,
                    lw=1.8, label=state)
    ax.set_yscale("log")
    ax.set_ylabel("persons (log scale)")
    ax.set_title("The mobility continuum: persons by state, all regions")
    if ax.get_legend_handles_labels()[0]:  # early in a run nobody may have moved yet
        ax.legend(loc="upper right", fontsize=8, ncols=3, frameon=False)
    ax.grid(alpha=0.3, which="both")
    return _dates(ax)


def occupancy_vs_capacity(ds: xr.Dataset, region: str, ax=None):
    """Occupancy (solid line) against open capacity (dashed) of each place type in one region.

    Lines, not filled areas, so no place type's occupancy hides another's. A dotted line marks
    the first day each place turned people away (``turned_away``).
    """
    ax = _axes(ax)
    t = ds["time"].values
    colors = {"host": "tab:green", "shelter": "tab:blue", "camp": "tab:orange",
              "rental": "tab:purple"}
    t_end = t[min(len(t) - 1, int(np.flatnonzero(ds["occupancy"].sel(region=region).sum(
        "place").values > 0).max(initial=0)) + 30)]
    for place, color in colors.items():
        cap = ds["capacity"].sel(region=region, place=place).values
        occ = ds["occupancy"].sel(region=region, place=place).values
        if cap.max() == 0 and occ.max() == 0:
            continue
        ax.plot(t, occ / 1e3, color=color, lw=3, alpha=0.5, label=f"{place} occupancy")
        ax.plot(t, cap / 1e3, color=color, lw=1.3, ls="--", label=f"{place} capacity")
        out = np.flatnonzero(ds["turned_away"].sel(region=region, place=place).values) \
            if "turned_away" in ds and cap.max() > 0 else np.empty(0, int)
        if out.size:  # ran out: first turned people away (the soft cap: maybe before full)
            ax.axvline(t[out[0]], color=color, ls=":", lw=1)
    unshel = ds["occupancy"].sel(region=region, place="unsheltered").values
    ax.plot(t, unshel / 1e3, color="black", lw=1.5, label="unsheltered")
    ax.set_xlim(t[0], max(t_end, t[0] + np.timedelta64(1, "D")))  # a one-step run: one day
    ax.set_ylabel("persons (thousands)")
    ax.set_title(f"{region}: places used vs open capacity (dotted: first turned people away)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return _dates(ax)


PUBLIC_COLORS = {"shelter": "tab:blue", "camp": "tab:orange"}


def open_capacity_size(ds: xr.Dataset) -> tuple[float, float]:
    """Width and height (inches) :func:`open_capacity` gives its figure: 4 panels a row."""
    return 4.0 * 4, 2.9 * int(np.ceil(ds.sizes["region"] / 4)) + 0.6


def _ramp_window(ds: xr.Dataset) -> slice:
    """Steps from the start to 30 days after the last change of open capacity or first refusal."""
    cap = ds["capacity"].sel(place=list(PUBLIC_COLORS)).values
    changes = np.flatnonzero((np.diff(cap, axis=0) != 0).any(axis=(1, 2))) + 1
    last = int(changes.max(initial=0))
    if "turned_away" in ds:
        away = np.flatnonzero(ds["turned_away"].sel(place=list(PUBLIC_COLORS)).sum(
            ["region", "place"]).values > 0)
        last = max(last, int(away[0]) if away.size else 0)
    step_days = float(ds.attrs.get("step_days", 1))
    return slice(0, min(ds.sizes["time"], last + 1 + int(np.ceil(30 / step_days))))


def open_capacity(ds: xr.Dataset, fig=None):
    """Small multiples: open shelter and camp capacity against occupancy, by region.

    Capacity is what was open each day (after the activation ramp), drawn as steps; occupancy
    is a line, so neither place hides the other; a triangle marks the first day each place
    turned people away (it ran out; the soft cap refuses people before a place is full). The
    window runs from the start to 30 days after the ramp's last step or the first refusal.

    Args:
        ds: a results dataset (one replicate).
        fig: the figure to draw on (default: a new pyplot figure of :func:`open_capacity_size`).
    """
    from matplotlib.lines import Line2D

    regions = list(map(str, ds["region"].values))
    nrows = int(np.ceil(len(regions) / 4))
    fig = fig or _pyplot_figure(*open_capacity_size(ds))
    axes = fig.subplots(nrows, 4, sharex=True, squeeze=False).ravel()
    part = ds.isel(time=_ramp_window(ds))
    t = part["time"].values
    for ax, region in zip(axes, regions):
        for place, color in PUBLIC_COLORS.items():
            cap = part["capacity"].sel(region=region, place=place).values / 1e3
            occ = part["occupancy"].sel(region=region, place=place).values / 1e3
            if cap.max() == 0 and occ.max() == 0:
                continue
            ax.step(t, cap, where="post", color=color, lw=1.6, ls="--")
            ax.plot(t, occ, color=color, lw=1.8)
            if "turned_away" in part:
                out = np.flatnonzero(part["turned_away"].sel(region=region, place=place).values)
                if out.size and cap.max() > 0:
                    ax.plot(t[out[0]], occ[out[0]], marker="v", ms=8, color=color,
                            markeredgecolor="black", ls="none")
        ax.set_title(region, fontsize=10)
        ax.set_ylabel("persons (thousands)", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        _dates(ax)
    for ax in axes[len(regions):]:
        ax.set_visible(False)
    handles = [h for place, color in PUBLIC_COLORS.items() for h in (
        Line2D([], [], color=color, ls="--", label=f"{place}: open capacity"),
        Line2D([], [], color=color, label=f"{place}: occupancy"),
        Line2D([], [], color=color, marker="v", markeredgecolor="black", ls="none",
               label=f"{place}: first turned people away"))]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False,
               fontsize=8)
    fig.suptitle("Open shelter and camp capacity (after the activation ramp) against "
                 "occupancy, by region where people stay")
    return fig


def states_by_region_size(ds: xr.Dataset) -> tuple[float, float]:
    """Width and height (inches) :func:`states_by_region` gives its figure: 4 panels a row."""
    return 4.0 * 4, 2.8 * int(np.ceil(ds.sizes["region"] / 4))


def states_by_region(ds: xr.Dataset, fig=None):
    """Small multiples: persons by state over time in each region (thousands).

    Args:
        ds: a results dataset (one replicate).
        fig: the figure to draw on (default: a new pyplot figure of
            :func:`states_by_region_size`).
    """
    from matplotlib.lines import Line2D

    regions = list(ds["region"].values)
    ncols = 4
    nrows = int(np.ceil(len(regions) / ncols))
    fig = fig or _pyplot_figure(*states_by_region_size(ds))
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, region in zip(axes, regions):
        for state, color in STATE_COLORS.items():
            v = ds["persons"].sel(region=region, state=state).values / 1e3
            if v.max() > 0:
                ax.plot(ds["time"].values, v, color=color, lw=1.4, label=state)
        ax.set_title(str(region), fontsize=10)
        ax.set_ylabel("persons (thousands)", fontsize=8)
        ax.grid(alpha=0.3)
        _dates(ax)
    for ax in axes[len(regions):]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=c, label=s) for s, c in STATE_COLORS.items()]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle("Persons by state, by home region")
    return fig


def _edges(c: np.ndarray) -> np.ndarray:
    """Pixel edges of a regular axis of pixel centres ``c`` (one-pixel axes: width 1)."""
    half = float(np.diff(c).mean()) / 2 if c.size > 1 else 0.5
    return np.concatenate([c - half, c[-1:] + half])


def region_outlines(regions: xr.DataArray, ax, color: str = "0.15") -> None:
    """Draw the borders between regions of a region-index raster and each region's name.

    Args:
        regions: region index per pixel (-1: no region), names in ``attrs["names"]``, on the
            grid of the map drawn (e.g. :func:`simulator.inputs.load.region_map`).
        ax: the Axes to draw on.
        color: line and label colour.
    """
    import matplotlib.patheffects as pe
    from matplotlib.collections import LineCollection

    ydim, xdim = regions.dims
    ids, y, x = regions.values, regions[ydim].values, regions[xdim].values
    ye, xe = _edges(y), _edges(x)
    pad = np.pad(ids, 1, constant_values=-1)  # outer borders too
    iy, jx = np.nonzero(pad[1:-1, 1:] != pad[1:-1, :-1])  # a border at xe[j] in row i
    segments = [((xe[j], ye[i]), (xe[j], ye[i + 1])) for i, j in zip(iy, jx)]
    iy, jx = np.nonzero(pad[1:, 1:-1] != pad[:-1, 1:-1])  # a border at ye[i] in column j
    segments += [((xe[j], ye[i]), (xe[j + 1], ye[i])) for i, j in zip(iy, jx)]
    ax.add_collection(LineCollection(segments, colors=color, linewidths=0.8))
    gy, gx = np.meshgrid(y, x, indexing="ij")
    for k, name in enumerate(regions.attrs.get("names", [])):
        inside = ids == k
        if inside.any():
            ax.annotate(str(name), (float(gx[inside].mean()), float(gy[inside].mean())),
                        ha="center", va="center", fontsize=8, color=color,
                        path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])


def displaced_map(ds: xr.Dataset, ax=None, regions: xr.DataArray | None = None):
    """Map of persons forcibly displaced, by home grid cell, with region outlines and names.

    Args:
        ds: a results dataset (one replicate).
        ax: the Axes to draw on (default: a new figure).
        regions: region index per map pixel with ``names`` (see :func:`region_outlines`);
            without it, the map has no outlines.
    """
    ax = _axes(ax)
    grid = ds["displaced_map"]
    ydim, xdim = grid.dims
    values = np.where(grid.values > 0, grid.values, np.nan)
    xe, ye = _edges(grid[xdim].values), _edges(grid[ydim].values)
    im = ax.imshow(values, origin="lower", extent=[xe[0], xe[-1], ye[0], ye[-1]],
                   cmap="magma_r", aspect="equal")
    ax.figure.colorbar(im, ax=ax, label="persons displaced (per cell)", shrink=0.8)
    if regions is not None:
        region_outlines(regions, ax)
    ax.set_xlabel(f"{xdim} ({grid[xdim].attrs.get('units', 'degrees')})")
    ax.set_ylabel(f"{ydim} ({grid[ydim].attrs.get('units', 'degrees')})")
    ax.set_title("Persons displaced, by home location"
                 + ("" if regions is not None else " (region outlines: inputs not found)"))
    return ax


def hazard_map(hazard: xr.DataArray, displaced: xr.DataArray | None = None, ax=None):
    """Map of a hazard grid (e.g. peak flood depth), with persons displaced as red dots.

    Args:
        hazard: a 2-D grid (y, x) of hazard intensity; ``units`` and ``long_name`` label it.
        displaced: persons displaced per cell on the same grid (e.g. ``displaced_map``); dot
            areas grow with persons.
        ax: the Axes to draw on (default: a new figure).
    """
    ax = _axes(ax)
    ydim, xdim = hazard.dims
    x, y = hazard[xdim].values, hazard[ydim].values
    dx = float(np.diff(x).mean()) / 2 if x.size > 1 else 0.5
    dy = float(np.diff(y).mean()) / 2 if y.size > 1 else 0.5
    values = np.where(hazard.values > 0, hazard.values, np.nan)
    im = ax.imshow(values, origin="lower", cmap="Blues", aspect="equal",
                   extent=[x.min() - dx, x.max() + dx, y.min() - dy, y.max() + dy],
                   vmin=0, vmax=max(float(np.nanmax(values, initial=0)), 1e-6))
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label=f"{hazard.attrs.get('long_name', 'hazard')}"
                       f" ({hazard.attrs.get('units', '')})")
    if displaced is not None and (displaced.values > 0).any():
        iy, ix = np.nonzero(displaced.values)
        persons = displaced.values[iy, ix].astype(float)
        ax.scatter(x[ix], y[iy], s=2 + 40 * persons / persons.max(), color="tab:red",
                   alpha=0.6, linewidths=0,
                   label=f"persons displaced (largest dot: {persons.max():,.0f})")
        ax.legend(loc="upper right", fontsize=8, frameon=True)
    ax.set_xlabel(f"{xdim} ({hazard[xdim].attrs.get('units', 'degrees')})")
    ax.set_ylabel(f"{ydim} ({hazard[ydim].attrs.get('units', 'degrees')})")
    ax.set_title("Hazard and persons displaced, by home location")
    return ax


def shelter_demand(ds: xr.Dataset, ax=None):
    """Bars: peak persons needing sites (shelter, camp or unsheltered) vs site capacity."""
    ax = _axes(ax)
    sites = ds["occupancy"].sel(place=["shelter", "camp", "unsheltered"]).sum("place")
    cap = ds["capacity"].sel(place=["shelter", "camp"]).sum("place").max("time")
    x = np.arange(ds.sizes["region"])
    ax.bar(x - 0.2, sites.max("time").values / 1e3, 0.4, label="peak persons in sites or "
           "unsheltered", color="tab:red")
    ax.bar(x + 0.2, cap.values / 1e3, 0.4, label="shelter + camp capacity", color="tab:blue")
    ax.set_xticks(x, ds["region"].values, rotation=30, ha="right")
    ax.set_ylabel("persons (thousands)")
    ax.set_title("Shelter demand by region")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return ax


def flow_matrix(ds: xr.Dataset, ax=None):
    """Heat map of persons moving from origin to destination region over the run."""
    from matplotlib.colors import LogNorm

    ax = _axes(ax)
    total = ds["flows"].sum("time").values.astype(float)
    im = ax.imshow(np.where(total > 0, total, np.nan), cmap="Blues",
                   norm=LogNorm(vmin=1, vmax=max(total.max(), 10)))
    ax.figure.colorbar(im, ax=ax, label="persons moved (log scale)", shrink=0.8)
    names = ds["region"].values
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("destination region")
    ax.set_ylabel("origin region")
    ax.set_title("Origin-destination flows (displacement, moves, returns, relocation)")
    return ax


def ensemble_band(ds: xr.Dataset, state: str = "displaced", ax=None):
    """Median and 5-95 % band across replicates of persons in ``state`` (all regions)."""
    ax = _axes(ax)
    v = ds["persons"].sel(state=state).sum("region") / 1e3
    t = ds["time"].values
    ax.fill_between(t, v.quantile(0.05, "replicate"), v.quantile(0.95, "replicate"),
                    alpha=0.3, color="tab:red", label="5-95 % of replicates (seed noise only)")
    ax.plot(t, v.median("replicate"), color="tab:red", lw=1.8, label="median")
    ax.set_ylabel(f"persons {state} (thousands)")
    ax.set_title(f"Persons {state}: {ds.sizes['replicate']} replicates (seed noise only)")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return _dates(ax)


#: Panel titles where the indicator's name alone would not say what it counts.
TITLES = {"exposed_person_days": "at home in dangerous water (person days)",
          "home_losses": "damage to homes"}
#: Indicators counted in money, not persons.
CURRENCY = ("home_losses", "contents_saved", "income_forgone_away")


def _label_indicator(ax, key: str) -> None:
    """Title a comparison panel by its indicator and label the axis with its unit."""
    ax.set_title(TITLES.get(key, key.replace("_", " ")), fontsize=10)
    ax.set_ylabel("currency" if key in CURRENCY else
                  "persons" + (" x days" if "days" in key else ""))


def comparison_bars(table: list[dict], indicators: list[str], fig=None):
    """Bars per run of TOTAL indicators, with 5-95 % error bars when runs have replicates.

    Args:
        table: rows of :func:`simulator.outputs.report.compare_runs`.
        indicators: which indicators, one panel each.
        fig: the figure to draw on (default: a new pyplot figure, 4 x 3.6 inches a panel).
    """
    fig = fig or _pyplot_figure(4 * len(indicators), 3.6)
    axes = fig.subplots(1, len(indicators), squeeze=False).ravel()
    runs = list(dict.fromkeys(r["run"] for r in table))
    for ax, key in zip(axes, indicators):
        rows = {r["run"]: r for r in table if r["indicator"] == key and r["region"] == "TOTAL"}
        med = np.array([rows[r]["value"] for r in runs])
        lo = np.array([rows[r]["value_p05"] for r in runs])
        hi = np.array([rows[r]["value_p95"] for r in runs])
        ax.bar(range(len(runs)), med, color="tab:blue",
               yerr=np.vstack([med - lo, hi - med]), capsize=4)
        ax.set_xticks(range(len(runs)), runs, rotation=25, ha="right", fontsize=8)
        _label_indicator(ax, key)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Scenario comparison (all regions; bars: median, whiskers: 5-95 %)")
    return fig


def comparison_by_region_size(n_regions: int, n_indicators: int) -> tuple[float, float]:
    """Width and height (inches) for :func:`comparison_by_region`: one row a indicator."""
    return max(8.0, 1.1 * n_regions + 3), 3.4 * n_indicators


def comparison_by_region(table: list[dict], indicators: list[str], fig=None):
    """Grouped bars per region (one bar per run) of indicators, 5-95 % whiskers for ensembles.

    Args:
        table: rows of :func:`simulator.outputs.report.compare_runs`.
        indicators: which indicators, one panel (row) each.
        fig: the figure to draw on (default: a new pyplot figure).
    """
    runs = list(dict.fromkeys(r["run"] for r in table))
    regions = [g for g in dict.fromkeys(r["region"] for r in table) if g != "TOTAL"]
    fig = fig or _pyplot_figure(*comparison_by_region_size(len(regions), len(indicators)))
    axes = fig.subplots(len(indicators), 1, squeeze=False).ravel()
    width = 0.8 / len(runs)
    x = np.arange(len(regions))
    for ax, key in zip(axes, indicators):
        rows = {(r["run"], r["region"]): r for r in table if r["indicator"] == key}
        for k, run in enumerate(runs):
            got = [rows.get((run, g)) for g in regions]
            med = np.array([r["value"] if r else np.nan for r in got])
            lo = np.array([r["value_p05"] if r else np.nan for r in got])
            hi = np.array([r["value_p95"] if r else np.nan for r in got])
            ax.bar(x + (k - (len(runs) - 1) / 2) * width, med, width, label=run,
                   yerr=np.vstack([med - lo, hi - med]), capsize=3)
        ax.set_xticks(x, regions, rotation=25, ha="right", fontsize=8)
        _label_indicator(ax, key)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(frameon=False, fontsize=8, ncols=min(len(runs), 4))
    fig.suptitle("Shelter gap by region (persons by the region where they sought shelter)")
    return fig


def sensitivity_bars(rows: list[dict], outcome: str, ax=None):
    """Bars of each parameter's sensitivity index for one outcome, with confidence whiskers.

    ``rows`` are a sweep's ``sensitivity.csv`` rows (:func:`simulator.runs.sweep.sensitivity`):
    Morris rows show mu* (mean absolute elementary effect, the outcome's units), Sobol rows the
    first-order (S1) and total (ST) indices (shares of the outcome's variance).
    """
    ax = _axes(ax)
    rows = [r for r in rows if r["outcome"] == outcome]
    names = [r["parameter"] for r in rows]
    y = np.arange(len(rows))
    if "mu_star" in rows[0]:
        ax.barh(y, [float(r["mu_star"]) for r in rows], color="tab:blue",
                xerr=[float(r["mu_star_conf"]) for r in rows], capsize=3, label="mu*")
        ax.set_xlabel("mu* (mean |elementary effect|, the outcome's units)")
    else:
        for k, (key, color) in enumerate((("S1", "tab:blue"), ("ST", "tab:orange"))):
            ax.barh(y + 0.4 * k - 0.2, [float(r[key]) for r in rows], 0.4, color=color,
                    xerr=[float(r[f"{key}_conf"]) for r in rows], capsize=3, label=key)
        ax.set_xlabel("Sobol index (share of the outcome's variance)")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_title(f"Sensitivity of {outcome.replace('_', ' ')}")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    return ax
