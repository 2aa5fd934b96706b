"""Planner indicators from a results dataset: peaks, person-days, shortfalls (pure functions)."""

from __future__ import annotations

from functools import partial

import numpy as np
import xarray as xr

from simulator.outputs.borders import border_totals


def region_or_total(da: xr.DataArray, name: str) -> xr.DataArray:
    """``da`` for one region, or summed over regions for ``"TOTAL"``."""
    return da.sum("region") if name == "TOTAL" else da.sel(region=name)


def busiest_region(ds: xr.Dataset) -> str:
    """The region whose places held the most person-days (where capacity matters most)."""
    return str(ds["occupancy"].sum(["time", "place"]).idxmax("region").values)


def first_date(times: np.ndarray, mask: np.ndarray) -> str:
    """The date (YYYY-MM-DD) of the first step where ``mask`` holds, or "" if it never does."""
    hit = np.flatnonzero(mask)
    return str(times[hit[0]])[:10] if hit.size else ""


def runs_out(ds: xr.Dataset, place: str) -> xr.DataArray:
    """Per step and region, whether ``place`` turned anyone away (it ran out, soft cap included).

    Regions that never open any of that place are left out (they have none to run out of; see
    :func:`out_date`). Results made before ``turned_away`` existed give all False.
    """
    if "turned_away" not in ds:
        return xr.zeros_like(ds["occupancy"].sel(place=place), dtype=bool)
    return (ds["turned_away"].sel(place=place) > 0) & (ds["capacity"].sel(place=place).max(
        "time") > 0)


def out_date(times: np.ndarray, out: np.ndarray, max_capacity: float) -> str:
    """The date a place ran out (first ``out`` step); "no places" if it never had any open."""
    return "no places" if max_capacity <= 0 else first_date(times, out)


def region_summary(ds: xr.Dataset) -> list[dict[str, object]]:
    """One row per region (and a total row) of the headline indicators.

    Columns: residents; peak displaced persons (by home region) and its date; displaced
    person-days; for shelter and for camp separately, by the region where people stay: peak
    occupancy, largest open capacity and the date it ran out (first turned people away, which
    the soft cap does before the place is full; TOTAL: first in any region); peak unmet shelter
    (persons who sought shelter or camp and found none) and its person-days; returned persons
    and persons still displaced at the end; peak evacuated and peak trapped persons; relocated
    and adapted persons at the end; persons at home in dangerous water (peak and person-days,
    what warnings save) and internal displacements (evacuations and forced displacements from
    home, as IDMC's GIDD counts them); damage to homes (structure and contents), contents
    evacuees saved, and the income of the days away (currency). With borders, the total row
    adds persons crossing regularly and irregularly, stranded at a border and sent back.
    """
    step_days = float(ds.attrs.get("step_days", 1))
    displaced = ds["persons"].sel(state="displaced")
    state = ds["persons"]
    residents = ds["persons"].isel(time=0).sum("state")
    times = ds["time"].values
    rows = []
    for name in [*map(str, ds["region"].values), "TOTAL"]:
        pick = partial(region_or_total, name=name)
        disp = pick(displaced).values
        unmet = pick(ds["unmet_shelter"]).values
        peak = int(np.argmax(disp))
        row = {
            "region": name,
            "residents": int(pick(residents)),
            "peak_displaced": int(disp[peak]),
            "peak_date": str(times[peak])[:10] if disp[peak] > 0 else "",
            "displaced_person_days": float(disp.sum() * step_days),
        }
        for place in ("shelter", "camp"):
            row[f"peak_{place}_occupancy"] = int(pick(ds["occupancy"].sel(place=place)).max())
            cap = int(pick(ds["capacity"].sel(place=place).max("time")).max())
            row[f"{place}_max_open_capacity"] = cap
            row[f"{place}_runs_out_on"] = out_date(times, pick(runs_out(ds, place)).values > 0, cap)
        rows.append({
            **row,
            "peak_unmet_shelter": int(unmet.max()),
            "unmet_shelter_person_days": float(unmet.sum() * step_days),
            "returned": int(pick(ds["returns"]).values.sum()) if "returns" in ds else 0,
            "displaced_at_end": int(disp[-1]),
            "peak_evacuated": int(pick(state.sel(state="evacuated")).values.max()),
            "peak_trapped": int(pick(state.sel(state="trapped")).values.max()),
            "relocated_at_end": int(pick(state.sel(state="relocated")).values[-1]),
            "adapted_at_end": int(pick(state.sel(state="adapted")).values[-1]),
            **_warning_indicators(ds, pick, step_days),
            **(border_totals(ds) if name == "TOTAL" else {}),
        })
    return rows


def _warning_indicators(ds: xr.Dataset, pick, step_days: float) -> dict[str, object]:
    """What warnings save and move (results written before issue 15 have neither variable)."""
    if "exposed_at_home" not in ds:
        return {}
    exposed = pick(ds["exposed_at_home"]).values
    out = {"peak_exposed_at_home": int(exposed.max()),
           "exposed_person_days": float(exposed.sum() * step_days),
           "internal_displacements": int(pick(ds["internal_displacements"]).values.sum())}
    if "home_losses" in ds:  # money, since issue 15's losses
        out |= {"home_losses": float(pick(ds["home_losses"]).values.sum()),
                "contents_saved": float(pick(ds["contents_saved"]).values.sum()),
                "income_forgone_away": float(pick(ds["income_forgone_away"]).values.sum())}
    return out


def depth_band_audit(ds: xr.Dataset) -> list[dict[str, object]]:
    """Person-days at home in a wet cell by the cell's depth band and why nobody left (TOTAL).

    One row per depth band with a column per reason (``stayed_home``); empty for results
    without the variable (made before issue 15, or a hazard other than flood depth).
    """
    if "stayed_home" not in ds:
        return []
    total = ds["stayed_home"].sum("region")
    return [{"depth_band": str(band), **{str(r): float(total.sel(depth_band=band, reason=r))
                                         for r in ds["reason"].values}}
            for band in ds["depth_band"].values]


def format_table(rows: list[dict[str, object]]) -> str:
    """A fixed-width text table of :func:`region_summary` rows for the terminal."""
    cols = [("region", "region", "{}"), ("residents", "residents", "{:,}"),
            ("peak_displaced", "peak displaced", "{:,}"), ("peak_date", "on", "{}"),
            ("peak_shelter_occupancy", "shelter peak", "{:,}"),
            ("shelter_max_open_capacity", "shelter cap.", "{:,}"),
            ("shelter_runs_out_on", "shelter out on", "{}"),
            ("peak_camp_occupancy", "camp peak", "{:,}"),
            ("camp_max_open_capacity", "camp cap.", "{:,}"),
            ("camp_runs_out_on", "camp out on", "{}"),
            ("peak_unmet_shelter", "unmet peak", "{:,}"),
            ("unmet_shelter_person_days", "unmet person-days", "{:,.0f}"),
            ("displaced_at_end", "still displaced", "{:,}"),
            ("peak_evacuated", "evacuated peak", "{:,}"), ("peak_trapped", "trapped peak", "{:,}"),
            ("relocated_at_end", "relocated", "{:,}")]
    if "exposed_person_days" in rows[0]:
        cols += [("exposed_person_days", "in danger at home, person-days", "{:,.0f}"),
                 ("internal_displacements", "internal displacements", "{:,}")]
    if "home_losses" in rows[0]:
        cols += [("home_losses", "home losses", "{:,.0f}"),
                 ("contents_saved", "contents saved", "{:,.0f}"),
                 ("income_forgone_away", "income lost away", "{:,.0f}")]
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
    """Per region (where people stay) and place type: peak occupancy and when the place ran out.

    Columns: peak occupancy and the open capacity then; the largest open capacity; the date the
    place ran out (first turned people away; the soft cap refuses people before a place is
    full), with the occupancy and open capacity that day; persons turned away, summed over steps
    (a household turned away again on a later step counts again). Every region and place type
    gets a row, so replicates' rows line up for :func:`bands`.
    """
    rows, times = [], ds["time"].values
    for region in ds["region"].values:
        for place in ("host", "shelter", "camp", "rental"):
            occ = ds["occupancy"].sel(region=region, place=place).values
            cap = ds["capacity"].sel(region=region, place=place).values
            out = runs_out(ds, place).sel(region=region).values
            peak, first = int(np.argmax(occ)), np.flatnonzero(out)
            rows.append({
                "region": str(region), "place": place, "peak_occupancy": int(occ[peak]),
                "open_capacity_at_peak": int(cap[peak]), "max_open_capacity": int(cap.max()),
                "runs_out_on": out_date(times, out, cap.max()),
                "occupancy_when_run_out": int(occ[first[0]]) if first.size else 0,
                "open_capacity_when_run_out": int(cap[first[0]]) if first.size else 0,
                "turned_away_persons_summed_over_steps": int(
                    ds["turned_away"].sel(region=region, place=place).sum())
                if "turned_away" in ds else 0})
    return rows


def capacity_changes(ds: xr.Dataset) -> np.ndarray:
    """Step indices where the open capacity of any place changes (the ramp), with step 0."""
    cap = ds["capacity"].sel(place=["host", "shelter", "camp", "rental"]).values
    return np.concatenate([[0], 1 + np.flatnonzero((np.diff(cap, axis=0) != 0).any(axis=(1, 2)))])


def open_capacity_by_date(ds: xr.Dataset) -> list[dict[str, object]]:
    """Shelter and camp capacity open on each date it changes (activation ramp), by region.

    One row per such date and region (where people stay): for shelter and for camp, the open
    capacity that day, the occupancy and the persons turned away that day.
    """
    times, rows = ds["time"].values, []
    away = ds["turned_away"] if "turned_away" in ds else xr.zeros_like(ds["occupancy"])
    for t in capacity_changes(ds):
        for region in map(str, ds["region"].values):
            row: dict[str, object] = {"date": str(times[t])[:10], "region": region}
            for place in ("shelter", "camp"):
                pick = {"region": region, "place": place}
                row[f"{place}_open_capacity"] = int(ds["capacity"].isel(time=t).sel(pick))
                row[f"{place}_occupancy"] = int(ds["occupancy"].isel(time=t).sel(pick))
                row[f"{place}_turned_away"] = int(away.isel(time=t).sel(pick))
            rows.append(row)
    return rows


def kaplan_meier(ended: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival of displacement episodes, from persons by episode length.

    ``ended[j]`` persons' episodes ended (return, settling) after length ``j`` (any unit);
    ``censored[j]`` persons were still displaced at the end of the run after length ``j``, so
    theirs lasts at least ``j``. With ``n_j`` persons still at risk at ``j`` (episodes of
    length ``>= j``, censored ones included, as is usual for ties),

        S(j) = prod_{i <= j} (1 - ended_i / n_i)     (Kaplan & Meier 1958, JASA 53:457),

    the estimated share of episodes longer than ``j``. Without censoring it is the plain share
    ``sum(ended[j+1:]) / sum(ended)``. Beyond the longest observed episode S is unknown (NaN)
    unless it has reached 0. Written out (ten lines) because the episodes come as weighted
    counts per length, which ``scipy.stats.ecdf`` would need expanded to one entry a person.

    Args:
        ended: persons by episode length, episodes that ended.
        censored: persons by episode length so far, episodes still open.

    Returns:
        S(j) for every length ``j`` (floats in [0, 1], NaN where unknown).
    """
    ended, censored = np.asarray(ended, float), np.asarray(censored, float)
    at_risk = np.cumsum((ended + censored)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, ended / at_risk, 0.0)
    survival = np.cumprod(1.0 - hazard)
    seen = np.flatnonzero(at_risk > 0)
    last = seen[-1] if seen.size else -1
    survival[last + 1:] = np.where(survival[last] == 0, 0.0, np.nan) if last >= 0 else np.nan
    return survival


def duration_indicators(ds: xr.Dataset) -> list[dict[str, object]]:
    """Per region (and total): persons displaced, still displaced at the end, and survival.

    Episodes still open at the end of the run (``displacement_duration_open``) are censored,
    not ended: the median length and the shares displaced beyond 1, 3, 6 and 12 months are
    Kaplan-Meier estimates (:func:`kaplan_meier`), NaN where the run is too short to tell.
    Results made before ``displacement_duration_open`` existed are read as all ended. Where
    some households rent, two more rows give all regions' owners and renters.
    """
    hist = ds["displacement_duration"]
    still_open = ds.get("displacement_duration_open", xr.zeros_like(hist))
    days = hist["duration_days"].values
    rows = [_duration_row(name, region_or_total(hist, name).values,
                          region_or_total(still_open, name).values, days)
            for name in [*map(str, ds["region"].values), "TOTAL"]]
    if "displacement_duration_by_tenure" in ds:
        tenure = ds["displacement_duration_by_tenure"]
        if tenure.sel(tenure="renter").sum() > 0:
            still = ds["displacement_duration_by_tenure_open"]
            rows += [_duration_row(f"TOTAL {t}s", tenure.sel(tenure=t).values,
                                   still.sel(tenure=t).values, days)
                     for t in map(str, tenure["tenure"].values)]
    return rows


def _duration_row(name: str, h: np.ndarray, c: np.ndarray, days: np.ndarray) -> dict:
    """One row of :func:`duration_indicators`: episodes by length ``h``, of them open ``c``."""
    row = {"region": name, "displaced_persons": int(h.sum()),
           "still_displaced_at_end": int(c.sum()), "median_days": 0.0,
           **{f"share_over_{m}_months": 0.0 for m in (1, 3, 6, 12)}}
    if h.sum():
        surv = kaplan_meier(h - c, c)
        below = np.flatnonzero(surv <= 0.5)
        row["median_days"] = float(days[below[0]]) if below.size else float("nan")
        for m, d in ((1, 30), (3, 90), (6, 180), (12, 365)):
            j = np.searchsorted(days, d, side="right") - 1  # the last length <= d days
            known = d <= days[-1] or surv[-1] == 0  # else the run ended before d days
            row[f"share_over_{m}_months"] = float(surv[j]) if known else float("nan")
    return row


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
