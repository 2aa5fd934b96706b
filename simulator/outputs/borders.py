"""Results across borders: by country, by country pair and route, and who was left at a border.

Reads the results variables a run with countries and borders writes (``cross_border``,
``irregular_by_group``, ``stranded_at_border``, ``sent_back``, ``pathway_approved``,
``pathway_lapsed``) and the ``country`` label of every region; a run with one country has none
of them and these functions return nothing.
"""

from __future__ import annotations

import xarray as xr

#: Groups shown in the protection tables (children + adults + older persons = persons).
PROTECTION_GROUPS = ("children", "women", "older_persons", "persons_with_disabilities")


def has_borders(ds: xr.Dataset) -> bool:
    """Whether the run had countries with borders (and so border results)."""
    return "cross_border" in ds.data_vars


def border_totals(ds: xr.Dataset) -> dict[str, int]:
    """Persons crossing regularly and irregularly, stranded at a border and sent back.

    Regular: by an open border or a pathway. Over the whole run; empty without borders.
    """
    if not has_borders(ds):
        return {}
    cb = ds["cross_border"]
    routes = [str(r) for r in cb["route"].values]
    irregular = cb.sel(route="irregular").values.sum()
    stranded = ds["stranded_at_border"].sel(
        group=["children", "adults", "older_persons"]).values.sum()
    return {"regular_crossings": int(cb.sel(route=[r for r in routes if r != "irregular"])
                                     .values.sum()),
            "irregular_crossings": int(irregular), "stranded_at_border": int(stranded),
            "sent_back": int(ds["sent_back"].values.sum())}


def crossings_table(ds: xr.Dataset) -> list[dict[str, object]]:
    """Per country pair and route: persons who crossed, and approved applications.

    Columns: persons who crossed for a new home and while displaced, and the persons of
    approved applications (pathways only), over the run.
    """
    if not has_borders(ds):
        return []
    cb = ds["cross_border"].sum("time")
    approved = ds["pathway_approved"].sum("time")
    rows = []
    for a in map(str, cb["origin_country"].values):
        for c in map(str, cb["destination_country"].values):
            for route in map(str, cb["route"].values):
                v = cb.sel(origin_country=a, destination_country=c, route=route)
                ok = route in approved["pathway"].values
                n_approved = int(approved.sel(origin_country=a, destination_country=c,
                                              pathway=route)) if ok else 0
                if int(v.sum()) == 0 and n_approved == 0:
                    continue
                rows.append({"from": a, "to": c, "route": route,
                             "new_home": int(v.sel(purpose="relocation")),
                             "while_displaced": int(v.sel(purpose="displacement")),
                             "approved": n_approved if ok else ""})
    return rows


def protection_table(ds: xr.Dataset) -> list[dict[str, object]]:
    """Per country pair: persons crossing irregularly, stranded at the border, sent back.

    Irregular and stranded persons in all and by group (children, women, older persons,
    persons with disabilities).
    """
    if not has_borders(ds):
        return []
    irr = ds["irregular_by_group"].sum("time")
    st = ds["stranded_at_border"].sum("time")
    back = ds["sent_back"].sum("time")
    persons = ["children", "adults", "older_persons"]
    rows = []
    for a in map(str, irr["origin_country"].values):
        for c in map(str, irr["destination_country"].values):
            pick = {"origin_country": a, "destination_country": c}
            i, s = irr.sel(pick), st.sel(pick)
            if int(i.sum()) == 0 and int(s.sum()) == 0:
                continue
            row = {"from": a, "to": c, "irregular": int(i.sel(group=persons).sum())}
            row |= {f"irregular_{g}": int(i.sel(group=g)) for g in PROTECTION_GROUPS}
            row["stranded"] = int(s.sel(group=persons).sum())
            row |= {f"stranded_{g}": int(s.sel(group=g)) for g in PROTECTION_GROUPS}
            row["sent_back"] = int(back.sel(pick))
            rows.append(row)
    return rows


def country_table(ds: xr.Dataset) -> list[dict[str, object]]:
    """Per country: residents, peak displaced, new homes within it and across its borders.

    Residents at the start and the end; peak displaced (home country); persons who made a
    new home within the country, left it for a new home abroad, or came from abroad.
    """
    if "country" not in ds.coords or not has_borders(ds):
        return []
    country = ds["country"].values.astype(str)
    origin = ds["country_of_origin"].values.astype(str)
    dest = ds["country_of_destination"].values.astype(str)
    moves = ds["relocations"].sum(["time", "cause"]).values
    displaced = ds["persons"].sel(state="displaced")
    rows = []
    for name in dict.fromkeys(country):
        mine = country == name
        out = (origin == name)[:, None] & (dest != name)[None, :]
        inside = (origin == name)[:, None] & (dest == name)[None, :]
        came = (origin != name)[:, None] & (dest == name)[None, :]
        rows.append({
            "country": name,
            "residents_at_start": int(ds["residents"].isel(time=0).values[mine].sum()),
            "residents_at_end": int(ds["residents"].isel(time=-1).values[mine].sum()),
            "peak_displaced": int(displaced.values[:, mine].sum(axis=1).max()),
            "new_homes_within": int(moves[inside].sum()),
            "left_for_abroad": int(moves[out].sum()),
            "came_from_abroad": int(moves[came].sum())})
    return rows

