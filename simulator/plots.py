"""Figures from a results dataset (matplotlib only; each function draws on an Axes and returns it).

Plots are made from results, never during a run. matplotlib is imported lazily so the core
model does not pay for it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 4))
    return ax


def _dates(ax):
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return ax


def displaced_by_region(ds: xr.Dataset, ax=None):
    """Stacked area of persons displaced by home region over time, with unmet shelter."""
    ax = _axes(ax)
    disp = ds["persons"].sel(state="displaced")
    order = disp.max("time").argsort().values[::-1]
    regions = ds["region"].values[order]
    keep = [r for r in regions if disp.sel(region=r).max() > 0]
    t = ds["time"].values
    ax.stackplot(t, *[disp.sel(region=r).values / 1e3 for r in keep], labels=keep, alpha=0.85)
    ax.plot(t, ds["unmet_shelter"].sum("region").values / 1e3, color="black", lw=1.5, ls="--",
            label="unmet shelter (all regions)")
    ax.set_ylabel("persons displaced (thousands)")
    ax.set_title("Persons displaced, by home region")
    ax.legend(loc="upper right", fontsize=8, ncols=2, frameon=False)
    ax.grid(alpha=0.3)
    return _dates(ax)


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
    ax.legend(loc="upper right", fontsize=8, ncols=3, frameon=False)
    ax.grid(alpha=0.3, which="both")
    return _dates(ax)


def occupancy_vs_capacity(ds: xr.Dataset, region: str, ax=None):
    """Occupancy (filled) against capacity (line) of each place type in one region."""
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
        ax.fill_between(t, occ / 1e3, color=color, alpha=0.35, label=f"{place} occupancy")
        ax.plot(t, cap / 1e3, color=color, lw=1.5, label=f"{place} capacity")
        full = np.flatnonzero((cap > 0) & (occ >= cap))
        if full.size:
            ax.axvline(t[full[0]], color=color, ls=":", lw=1)
    unshel = ds["occupancy"].sel(region=region, place="unsheltered").values
    ax.plot(t, unshel / 1e3, color="black", ls="--", lw=1.5, label="unsheltered")
    ax.set_xlim(t[0], t_end)
    ax.set_ylabel("persons (thousands)")
    ax.set_title(f"{region}: places used vs capacity (dotted: first day full)")
    ax.legend(loc="upper right", fontsize=8, ncols=2, frameon=False)
    ax.grid(alpha=0.3)
    return _dates(ax)
