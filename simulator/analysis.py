"""Planner indicators from a results dataset: peaks, person-days, shortfalls (pure functions)."""

from __future__ import annotations

import numpy as np
import xarray as xr


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
    for r, name in enumerate(ds["region"].values.tolist() + ["TOTAL"]):
        pick = (lambda da: da.sum("region")) if name == "TOTAL" else (
            lambda da, r=r: da.isel(region=r))
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
