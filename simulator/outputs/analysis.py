"""Planner indicators from a results dataset: peaks, person-days, shortfalls (pure functions)."""

from __future__ import annotations

from functools import partial

import numpy as np
import xarray as xr


def region_or_total(da: xr.DataArray, name: str) -> xr.DataArray:
    """``da`` for one region, or summed over regions for ``"TOTAL"``."""
    return da.sum("region") if name == "TOTAL" else da.sel(region=name)


def busiest_region(ds: xr.Dataset) -> str:
    """The region whose places held the most person-days (where capacity matters most)."""
    return str(ds["occupancy"].sum(["time", "place"]).idxmax("region").values)


def region_summary(ds: xr.Dataset) -> list[dict[str, object]]:
    """One row per region (and a total row) of the headline indicators.

    Columns: residents; peak displaced persons and its date; displaced person-days; peak shelter
    (shelter + camp) occupancy, its capacity and the first date it was full; peak unmet shelter
    (persons) and unmet-shelter person-days; returned persons and persons still displaced at the
    end; peak evacuated and peak trapped persons; relocated and adapted persons at the end.
    """
    step_days = float(ds.attrs.get("step_days", 1))
    displaced = ds["persons"].sel(state="displaced")
    state = ds["persons"]
    public = ds["occupancy"].sel(place=["shelter", "camp"]).sum("place")
    public_cap = ds["capacity"].sel(place=["shelter", "camp"]).sum("place")
    residents = ds["persons"].isel(time=0).sum("state")
    times = ds["time"].values
    rows = []
    for name in [*map(str, ds["region"].values), "TOTAL"]:
        pick = partial(region_or_total, name=name)
        disp, occ, cap = pick(displaced).values, pick(public).values, pick(public_cap).values
        unmet = pick(ds["unmet_shelter"]).values
        full = np.flatnonzero((cap > 0) & (occ >= cap))
        peak = int(np.argmax(disp))
        rows.append({
            "region": name,
            "residents": int(pick(residents)),
            "peak_displaced": int(disp[peak]),
            "peak_date": str(times[peak])[:10] if disp[peak] > 0 else "",
            "displaced_person_days": float(disp.sum() * step_days),
            "peak_shelter_occupancy": int(occ.max()),
            "shelter_capacity": int(cap.max()),
            "shelter_full_from": str(times[full[0]])[:10] if full.size else "",
            "peak_unmet_shelter": int(unmet.max()),
            "unmet_shelter_person_days": float(unmet.sum() * step_days),
            "returned": int(pick(ds["returns"]).values.sum()) if "returns" in ds else 0,
            "displaced_at_end": int(disp[-1]),
            "peak_evacuated": int(pick(state.sel(state="evacuated")).values.max()),
            "peak_trapped": int(pick(state.sel(state="trapped")).values.max()),
            "relocated_at_end": int(pick(state.sel(state="relocated")).values[-1]),
            "adapted_at_end": int(pick(state.sel(state="adapted")).values[-1]),
        })
    return rows


def format_table(rows: list[dict[str, object]]) -> str:
    """A fixed-width text table of :func:`region_summary` rows for the terminal."""
    cols = [("region", "region", "{}"), ("residents", "residents", "{:,}"),
            ("peak_displaced", "peak displaced", "{:,}"), ("peak_date", "on", "{}"),
            ("peak_shelter_occupancy", "shelter+camp peak", "{:,}"),
            ("shelter_capacity", "capacity", "{:,}"), ("shelter_full_from", "full from", "{}"),
            ("peak_unmet_shelter", "unmet peak", "{:,}"),
            ("unmet_shelter_person_days", "unmet person-days", "{:,.0f}"),
            ("displaced_at_end", "still displaced", "{:,}"),
            ("peak_evacuated", "evacuated peak", "{:,}"), ("peak_trapped", "trapped peak", "{:,}"),
            ("relocated_at_end", "relocated", "{:,}")]
    cells = [[fmt.format(row[key]) for key, _, fmt in cols] for row in rows]
    widths = [max(len(head), *(len(c[i]) for c in cells)) for i, (_, head, _) in enumerate(cols)]
    line = lambda vals: "  ".join(v.ljust(w) if i == 0 else v.rjust(w)  # noqa: E731
                                  for i, (v, w) in enumerate(zip(vals, widths)))
    out = [line([head for _, head, _ in cols]), line(["-" * w for w in widths])]
    out += [line(c) for c in cells[:-1]] + [line(["-" * w for w in widths]), line(cells[-1])]
    return "\n".join(out)


#: Sphere minimum standards (Sphere Handbook 2018): covered living space, water quantity,
#: toilets (1 per 50 people in the first month of an emergency, then 1 per 20) and water taps.
SPHERE = {"covered_space_m2_per_person": 3.5, "water_l_per_person_day": 15.0,
          "persons_per_toilet_first_month": 50.0, "persons_per_toilet_after": 20.0,
          "persons_per_tap": 250.0, "accessible_toilet_share": 0.15}
NEEDS = ("covered_space_m2", "water_l_per_day", "toilets", "taps")
#: What the needs table says for a stock the needs file does not give.
NO_STOCKS = "no stocks given"


def replicates(ds: xr.Dataset) -> list[xr.Dataset]:
    """The dataset's replicates (one dataset if it has no ``replicate`` dimension)."""
    if "replicate" not in ds.dims:
        return [ds]
    return [ds.isel(replicate=i) for i in range(ds.sizes["replicate"])]


def bands(rows_per_replicate: list[list[dict]]) -> dict[str, list[dict]]:
    """Median and 5-95 % band of numeric indicators across replicates (rows in the same order)."""
    out: dict[str, list[dict]] = {"median": [], "p05": [], "p95": []}
    for rows in zip(*rows_per_replicate):
        for stat, q in (("median", 50), ("p05", 5), ("p95", 95)):
            row = {}
            for key, value in rows[0].items():
                vals = [r[key] for r in rows]
                numeric = all(isinstance(v, int | float) for v in vals)
                row[key] = float(np.percentile(vals, q)) if numeric else value
            out[stat].append(row)
    return out


def group_indicators(ds: xr.Dataset) -> list[dict[str, object]]:
    """Per region (and total) and group: peak displaced, peak unsheltered and peak trapped."""
    rows = []
    pbg, rough = ds["persons_by_group"], ds["unsheltered_by_group"]
    for name in [*map(str, ds["region"].values), "TOTAL"]:
        for group in map(str, ds["group"].values):
            g = region_or_total(pbg.sel(group=group), name)
            rows.append({"region": name, "group": group,
                         "peak_displaced": int(g.sel(state="displaced").max()),
                         "peak_unsheltered": int(region_or_total(rough.sel(group=group),
                                                                 name).max()),
                         "peak_trapped": int(g.sel(state="trapped").max()),
                         "peak_evacuated": int(g.sel(state="evacuated").max())})
    return rows


def summary_rows(ds: xr.Dataset) -> list[dict[str, object]]:
    """:func:`region_summary` of a run, or its medians over replicates for an ensemble."""
    reps = replicates(ds)
    if len(reps) == 1:
        return region_summary(reps[0])
    return [{k: (round(v) if isinstance(v, float) and k != "displaced_person_days" else v)
             for k, v in row.items()} for row in bands([region_summary(r) for r in reps])[
        "median"]]


def place_indicators(ds: xr.Dataset) -> list[dict[str, object]]:
    """Per region and place type: peak occupancy, capacity then, first date it was full.

    Every region and place type gets a row, so replicates' rows line up for :func:`bands`.
    """
    rows, times = [], ds["time"].values
    for region in ds["region"].values:
        for place in ("host", "shelter", "camp", "rental"):
            occ = ds["occupancy"].sel(region=region, place=place).values
            cap = ds["capacity"].sel(region=region, place=place).values
            full = np.flatnonzero((cap > 0) & (occ >= cap))
            peak = int(np.argmax(occ))
            rows.append({"region": str(region), "place": place, "peak_occupancy": int(occ[peak]),
                         "capacity_at_peak": int(cap[peak]), "max_capacity": int(cap.max()),
                         "first_full": str(times[full[0]])[:10] if full.size else ""})
    return rows


def duration_indicators(ds: xr.Dataset) -> list[dict[str, object]]:
    """Per region (and total): median displacement length and the shares beyond 3, 6, 12 months."""
    hist = ds["displacement_duration"]
    days = hist["duration_days"].values
    rows = []
    for name in [*map(str, ds["region"].values), "TOTAL"]:
        h = region_or_total(hist, name).values
        n = h.sum()
        cum = np.cumsum(h)
        median = float(days[np.searchsorted(cum, n / 2)]) if n else 0.0
        rows.append({"region": name, "displaced_persons": int(n), "median_days": median,
                     **{f"share_over_{m}_months": float(h[days > d].sum() / n) if n else 0.0
                        for m, d in ((3, 90), (6, 180), (12, 365))}})
    return rows


def needs(ds: xr.Dataset, standards: dict[str, float] | None = None,
          available: dict[str, dict[str, float]] | None = None) -> list[dict[str, object]]:
    """Sphere needs of people in shelters, camps or unsheltered, at their peak, with shortfalls.

    People counted: occupancy of ``shelter``, ``camp`` and ``unsheltered`` in the region where
    they stay, at the step when it peaks. Where the results hold ``persons_by_group``, the
    children and persons with disabilities among them are estimated with the displaced
    population's shares at that step, and at least 15 % of toilets are to be accessible.
    Toilets use 1 per 50 if the peak falls in the first 30 days after the region's first
    occupant, else 1 per 20. Shortfall = max(0, need - available), with ``available`` per
    region; where no stock of a need was given, ``available_<need>`` says :data:`NO_STOCKS`
    (not 0, which would read as "none in stock") and the shortfall is the whole need.
    """
    std = {**SPHERE, **(standards or {})}
    available = available or {}
    sites = ds["occupancy"].sel(place=["shelter", "camp", "unsheltered"]).sum("place")
    step_days = float(ds.attrs.get("step_days", 1))
    rows = []
    for region in map(str, ds["region"].values):
        people = sites.sel(region=region).values
        peak = int(np.argmax(people))
        first = np.flatnonzero(people > 0)
        early = first.size and (peak - first[0]) * step_days < 30
        persons = float(people[peak])
        need = {"covered_space_m2": persons * std["covered_space_m2_per_person"],
                "water_l_per_day": persons * std["water_l_per_person_day"],
                "toilets": np.ceil(persons / (std["persons_per_toilet_first_month"] if early
                                              else std["persons_per_toilet_after"])),
                "taps": np.ceil(persons / std["persons_per_tap"])}
        have = available.get(region, {})
        row = {"region": region, "persons_in_sites_peak": int(persons),
               "peak_date": str(ds["time"].values[peak])[:10] if persons else ""}
        if "persons_by_group" in ds:
            away = ds["persons_by_group"].isel(time=peak).sel(
                state=["displaced", "evacuated"]).sum(["region", "state"])
            total = float(away.sel(group=["children", "adults", "older_persons"]).sum())
            share = (away / total).fillna(0.0) if total else away * 0.0
            row["children_in_sites"] = int(round(persons * float(share.sel(group="children"))))
            row["persons_with_disabilities_in_sites"] = int(round(
                persons * float(share.sel(group="persons_with_disabilities"))))
            row["accessible_toilets"] = float(np.ceil(std["accessible_toilet_share"]
                                                      * need["toilets"]))
        for key in NEEDS:
            row[f"need_{key}"] = float(need[key])
            row[f"available_{key}"] = float(have[key]) if key in have else NO_STOCKS
            row[f"shortfall_{key}"] = float(max(0.0, need[key] - have.get(key, 0.0)))
        rows.append(row)
    return rows
