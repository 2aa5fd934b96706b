"""The long view: yearly aggregates, and climate migrants against a no-climate-change run.

``yearly`` sums a run's results by calendar year: residents, persons newly displaced, and
persons making a new home elsewhere by cause (proactive migration, planned relocation, settling
where they stayed after displacement). ``climate_migrants`` is the World Bank Groundswell
indicator: the difference in migration between a run with the climate scenario and a
counterfactual run without climate change (the same seeds, the first period's hazard every
year; Rigaud et al. 2018, Groundswell: Preparing for Internal Climate Migration, World Bank,
ch. 3). Both are pure functions of result datasets.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from simulator.outputs.analysis import replicates

CAUSES = {"proactive": "climate_proactive", "planned": "planned_relocation",
          "settled": "settled_after_displacement", "background": "background"}


def yearly(ds: xr.Dataset) -> xr.Dataset:
    """Yearly totals over all regions (medians over replicates when there are several).

    Variables (persons, by calendar year): ``residents`` (at the year's end), ``displaced``
    (newly displaced during the year), ``moved`` (new homes in another region or cell, all
    causes), and one per cause of :data:`CAUSES`. Older results without a cause get zeros.
    """
    reps = replicates(ds)
    years = reps[0]["time"].dt.year
    per = []
    for r in reps:
        moves = r["relocations"].sum(["origin", "destination"]).groupby(years).sum()
        out = xr.Dataset({
            "residents": r["residents"].sum("region").groupby(years).last(),
            "displaced": r["newly_displaced"].sum("region").groupby(years).sum(),
            "moved": moves.sum("cause"),
            **{name: (moves.sel(cause=cause, drop=True) if cause in moves["cause"]
                      else 0 * moves.sum("cause")) for cause, name in CAUSES.items()}})
        per.append(out.drop_vars("cause", errors="ignore"))
    out = xr.concat(per, "replicate").median("replicate") if len(per) > 1 else per[0]
    return out.rename(year="year")


def climate_migrants(scenario: xr.Dataset, counterfactual: xr.Dataset) -> xr.Dataset:
    """Per year: migrants and displaced persons due to climate change, and their running sums.

    ``climate_migrants`` = moves in the scenario - moves in the counterfactual (persons who made
    a new home elsewhere, all causes; Groundswell's "internal climate migrants");
    ``climate_displaced`` = the same difference of persons newly displaced. Negative values
    mean the scenario moved fewer people (e.g. floods that trapped them).
    """
    return _differences(yearly(scenario), yearly(counterfactual))


def _differences(a: xr.Dataset, b: xr.Dataset) -> xr.Dataset:
    """:func:`climate_migrants` from the two runs' :func:`yearly` totals."""
    out = xr.Dataset({"climate_migrants": a["moved"] - b["moved"],
                      "climate_displaced": a["displaced"] - b["displaced"]})
    out["cumulative_climate_migrants"] = out["climate_migrants"].cumsum("year")
    out["cumulative_climate_displaced"] = out["climate_displaced"].cumsum("year")
    return out


def rows(label: str, scenario: xr.Dataset, counterfactual: xr.Dataset) -> list[dict]:
    """One row per year of a scenario: its totals, the counterfactual's, the differences."""
    a, b = yearly(scenario), yearly(counterfactual)
    d = _differences(a, b)
    out = []
    for k, year in enumerate(a["year"].values.tolist()):
        row = {"scenario": label, "year": int(year)}
        row |= {v: int(a[v].values[k]) for v in a.data_vars}
        row |= {f"counterfactual_{v}": int(b[v].values[k]) for v in ("moved", "displaced")}
        row |= {v: int(d[v].values[k]) for v in d.data_vars}
        out.append(row)
    return out


def milestones(table: list[dict], years: tuple[int, ...] = (2030, 2040, 2050, 2060, 2080)
               ) -> list[dict]:
    """Cumulative climate migrants and displaced of each scenario at milestone years.

    The milestones the runs reach, and their last year.
    """
    out = []
    for label in dict.fromkeys(r["scenario"] for r in table):
        mine = [r for r in table if r["scenario"] == label]
        last = mine[-1]["year"]
        for y in sorted({y for y in years if mine[0]["year"] <= y <= last} | {last}):
            r = next(r for r in mine if r["year"] == y)
            out.append({"scenario": label, "by_end_of": y,
                        "climate_migrants": r["cumulative_climate_migrants"],
                        "climate_displaced": r["cumulative_climate_displaced"],
                        "moved": sum(x["moved"] for x in mine if x["year"] <= y),
                        "displaced": sum(x["displaced"] for x in mine if x["year"] <= y)})
    return out


def figure(table: list[dict], fig):
    """Lines per scenario: cumulative climate migrants, and persons displaced each year."""
    left, right = fig.subplots(1, 2)
    for label in dict.fromkeys(r["scenario"] for r in table):
        mine = [r for r in table if r["scenario"] == label]
        years = np.array([r["year"] for r in mine])
        line, = left.plot(years, [r["cumulative_climate_migrants"] for r in mine],
                          marker="o", ms=3, label=label)
        right.plot(years, [r["displaced"] for r in mine], color=line.get_color(), label=label)
        right.plot(years, [r["counterfactual_displaced"] for r in mine],
                   color=line.get_color(), ls=":", label=f"{label}, without climate change")
    left.axhline(0, color="0.6", lw=0.8)
    left.set(title="climate migrants, cumulative (scenario - counterfactual)", xlabel="year",
             ylabel="persons")
    right.set(title="persons newly displaced per year", xlabel="year", ylabel="persons")
    for ax in (left, right):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return fig
