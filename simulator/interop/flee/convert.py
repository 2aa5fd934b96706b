"""Convert a Flee or DFlee case folder into a climdisp scenario folder (``climdisp import-flee``).

The mapping (docs/flee.md says why and where the models differ):

- every Flee location is a region; locations with residents (towns, conflict and flood zones)
  are rows of a building table at their coordinates, one person per household as Flee's agents
  are persons; camps are regions whose camp capacity is the camp's capacity;
- routes are the region distance network (``regions.routes``, shortest paths);
- conflict intensity or flood level per location and day is a hazard on those points;
- Flee's spawning becomes ``impact``: the observed daily increase (validation runs) is a
  ``prescribed`` series; flood- or conflict-driven spawning is a ``level_rate`` (``share`` per
  day in Flee's pop_ratio mode, else persons per day);
- displaced persons all seek camps, by distance (Flee's ``distance_power``) with the soft cap
  starting at Flee's ``capacity_buffer``; they do not go home during the run, as in Flee;
- observed camp counts become ``[observations]``, so every run writes Flee's out.csv and ARD;
- each location's country is its region's country; each pair of countries a route joins has an
  open border, closed on the days closures.csv's country closures close it in Flee
  (:mod:`simulator.interop.flee.borders`); other closures are not applied.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import tomli_w
import xarray as xr

from simulator.atomic import csv_text, write_folder
from simulator.errors import InputError
from simulator.interop.flee.borders import (
    FleeBorder,
    borders_toml,
    closed_periods,
    country_borders,
)
from simulator.interop.flee.observed import daily_new_displaced
from simulator.interop.flee.reader import FleeCase, read_flee, route_distances_km

NUDGE_DEG = 1e-5  #: separates locations that share coordinates (about 1 m), so each keeps its own
MAX_PERSONS_PER_HOUSEHOLD = 30  #: the schema's bound on population.persons_per_household


def _residents(case: FleeCase) -> list[int]:
    """Indices of the locations where people live (not camps), with coordinates."""
    keep = [i for i, loc in enumerate(case.locations)
            if not loc.is_camp and loc.population > 0 and np.isfinite(loc.lat + loc.lon)]
    if not keep:
        raise InputError(case.folder, "locations.csv: no location with residents and "
                                      "coordinates: nobody could be displaced")
    return keep


def _coordinates(case: FleeCase, keep: list[int]) -> tuple[np.ndarray, np.ndarray]:
    lat = np.array([case.locations[i].lat for i in keep])
    lon = np.array([case.locations[i].lon for i in keep])
    for k in range(1, len(keep)):  # a later location on an earlier one's spot moves 1 m north
        while ((lat[:k] == lat[k]) & (lon[:k] == lon[k])).any():
            lat[k] += NUDGE_DEG
    return lat, lon


def _impact(case: FleeCase, files: dict) -> tuple[dict, list[str]]:
    """The scenario's [impact] from Flee's spawning rules, and notes on what was chosen."""
    s, notes = case.settings, []
    if s.flood_driven_spawning or s.conflict_driven_spawning:
        flood = s.flood_driven_spawning
        mode = s.flood_spawn_mode if flood else s.conflict_spawn_mode
        rates = list(s.displaced_per_flood_day) if flood else [0.0, s.displaced_per_conflict_day]
        notes.append(f"{'flood' if flood else 'conflict'}-driven spawning, mode {mode}")
        if rates[0] != 0:  # Flee spawns only where the level is above 0
            notes.append(f"displaced_per_flood_day[0] = {rates[0]:g} not used: Flee displaces "
                         "nobody at flood level 0 (here 0, rising to the level-1 rate)")
            rates[0] = 0.0
        if not any(rates):
            notes.append(f"displaced_per_{'flood' if flood else 'conflict'}_day is 0 at every "
                         "level: the hazard displaces nobody")
        return {"method": "level_rate", "displaced_per_day_by_level": rates,
                "rate_unit": "share" if mode == "pop_ratio" else "persons"}, notes
    if case.observations is None:
        raise InputError(case.folder, "simsetting.yml: no source_data/ observations and no "
                                      "conflict- or flood-driven spawning: nothing says how "
                                      "many people move")
    spawns = daily_new_displaced(case.observations, s)
    if s.insert_day0:  # Flee puts the day-0 stock into the camps; here it arrives on day 0
        spawns.new[0] = spawns.raw[0]
        notes.append("insert_day0: the day-0 stock is displaced on day 0 and placed by the "
                     "model, not put into the observed camps")
    rows = [{"date": (case.start_date + timedelta(days=t)).isoformat(), "persons": int(n)}
            for t, n in enumerate(spawns.new)]
    files["displaced_per_day.csv"] = csv_text(rows).encode()
    notes.append("spawning from the observed daily increase (Flee's validation runs), at "
                 "conflict zones drawn by population x conflict intensity"
                 + (" x conflict_spawn_decay" if s.conflict_spawn_decay else ""))
    return {"method": "prescribed", "prescribed_file": "displaced_per_day.csv",
            "prescribed_weights": "conflict"}, notes


def _observations(case: FleeCase, files: dict, notes: list[str]) -> dict | None:
    obs = case.observations
    if obs is None:
        return None
    spawns = daily_new_displaced(obs, case.settings)
    camps = [n for n in obs.locations if n in case.camp_capacity]
    if not camps:
        notes.append(f"source_data/: no camp is observed (observed: {', '.join(obs.locations)}):"
                     " no [observations], so no out.csv or ARD (climdisp scores the people in "
                     "camps)")
        return None
    rows = [{"date": (case.start_date + timedelta(days=t)).isoformat(),
             **{c: int(obs.of(c)[t]) for c in camps}, "raw": int(spawns.raw[t]),
             "debt": int(spawns.debt[t])} for t in range(case.length_days)]
    files["observations.csv"] = csv_text(rows).encode()
    return {"file": "observations.csv", "place": "camp"}


#: Flee's location types (reader) as the walk's (``regions.csv`` column ``location_type``)
WALK_TYPES = {"camp": "camp", "idpcamp": "idpcamp", "conflict": "conflict_zone",
              "conflict_zone": "conflict_zone", "flood_zone": "flood_zone",
              "forwarding_hub": "forward", "marker": "marker", "town": "town"}


def _walk(case: FleeCase) -> dict:
    """``[placement.routes]``: Flee's move rules for its walk (placement.movement = "routes")."""
    s = case.settings
    return {"move_chance": {"town": s.default_movechance, "conflict": s.conflict_movechance,
                            "camp": s.camp_movechance, "idpcamp": s.idpcamp_movechance},
            "camp_weight": s.camp_weight, "foreign_weight": s.foreign_weight,
            "conflict_weight": s.conflict_weight, "softening_km": s.softening,
            "weight_softening": s.weight_softening, "weight_power": s.weight_power,
            "awareness_level": s.awareness_level, "walk_speed_km_per_day": s.max_walk_speed,
            "start_on_foot": s.start_on_foot, "avoid_short_stints": s.avoid_short_stints,
            "movechance_pop_base": s.movechance_pop_base,
            "movechance_pop_scale_factor": s.movechance_pop_scale_factor,
            "capacity_scaling": s.capacity_scaling,
            "flood_move_chances": list(s.flood_movechances),
            "flood_location_weights": list(s.flood_loc_weights)}


def household_persons(hasten: int) -> float:
    """Mean persons per household for Flee's ``hasten`` (its population scale-down factor).

    Flee runs one agent per ``hasten`` persons (it divides populations, capacities and observed
    counts by it). Here persons stay persons and households of ``hasten`` persons stand for its
    agents, up to the schema's largest household, so a case of P persons has about
    P / min(hasten, 30) households.
    """
    return float(min(hasten, MAX_PERSONS_PER_HOUSEHOLD))


def _capacities(case: FleeCase, notes: list[str]) -> dict[str, int]:
    """Camp capacities (persons); a camp of capacity 0 (Flee: unlimited) takes everyone."""
    everyone = sum(loc.population for loc in case.locations if not loc.is_camp)
    unlimited = [c for c, cap in case.camp_capacity.items() if cap == 0]
    if unlimited:
        notes.append(f"camps of capacity 0 (unlimited in Flee) get capacity {everyone}, all the "
                     f"residents of the case: {', '.join(unlimited)}")
    return {c: cap or everyone for c, cap in case.camp_capacity.items()}


def _route_closures(case: FleeCase) -> tuple[list[dict], list[str]]:
    """Link, location and camp closures as ``[placement.routes]`` closures, and notes.

    Each (type, names) is replayed as Flee's ``enact_border_closures`` does
    (:func:`~simulator.interop.flee.borders.closed_periods`); idpcamp closures close a camp
    too. ``remove_forced_redirection`` rows are notes: Flee 3.1's route choice never reads
    ``forced_redirection`` (moving.py).
    """
    rows: dict[tuple, list] = {}
    notes = []
    for c in case.closures:
        if c.closure_type == "remove_forced_redirection":
            notes.append(f"closures.csv line {c.line}: remove_forced_redirection "
                         f"{c.name1}–{c.name2} has no effect: Flee's route choice does not read "
                         "forced_redirection (moving.py, Flee 3.1)")
        elif c.closure_type != "country":
            kind = {"idpcamp": "camp"}.get(c.closure_type, c.closure_type)
            names = (c.name1, c.name2) if kind == "link" else (c.name1,)
            rows.setdefault((kind, names), []).append(c)
    out = []
    for (kind, names), group in rows.items():
        periods = closed_periods(group, case.length_days)
        if periods:
            out.append({"kind": kind, "names": list(names),
                        "closed_days": [[p.first_day, p.end_day] for p in periods]})
            notes.append(f"{kind} closure {'–'.join(names)}: closed on days "
                         + ", ".join(f"[{p.first_day}, {p.end_day})" for p in periods)
                         + " in Flee's walk (placement.routes.closures; the direct trip "
                         "ignores it)")
    return out, notes


def scenario_for(case: FleeCase, name: str, files: dict, movement: str = "direct"
                 ) -> tuple[dict, list[str], list[FleeBorder]]:
    """The scenario dictionary for ``case`` and its borders; adds its input files to ``files``.

    The borders (:func:`~simulator.interop.flee.borders.country_borders`) are returned apart,
    so that the scenario file can say where each closed period comes from. ``movement``:
    ``placement.movement`` ("direct", or "routes": Flee's walk, whose settings are written to
    ``[placement.routes]`` either way).
    """
    notes = [*case.settings.notes, *case.notes]
    keep = _residents(case)
    lat, lon = _coordinates(case, keep)
    files["regions.csv"] = csv_text([{"id": i, "name": loc.name, "country": loc.country,
                                      "location_type": WALK_TYPES[loc.location_type]}
                                     for i, loc in enumerate(case.locations)]).encode()
    files["routes.csv"] = csv_text([{"name1": r.name1, "name2": r.name2,
                                     "distance_km": r.distance_km} for r in case.routes]).encode()
    files["locations.csv"] = csv_text([
        {"lon": lon[k], "lat": lat[k], "persons": case.locations[i].population,
         "region": case.locations[i].name} for k, i in enumerate(keep)]).encode()
    level = case.hazard.daily(case.length_days)[:, keep].astype(np.float32)
    times = np.datetime64(case.start_date, "ns") + np.arange(case.length_days).astype(
        "timedelta64[D]")
    hazard = xr.Dataset({"level": (("time", "site"), level, {"units": "1"})},
                        coords={"time": times, "lat": ("site", lat), "lon": ("site", lon)})
    files["hazard.nc"] = lambda path: hazard.to_netcdf(path)
    impact, spawning = _impact(case, files)
    decay = case.settings.conflict_spawn_decay
    if decay:  # weighs spawning and, in the walk, the conflict zones' scores
        impact.update(conflict_decay=list(decay),
                      conflict_decay_interval_days=case.settings.conflict_spawn_decay_interval)
    notes += spawning
    finite = route_distances_km(case)
    reach = float(finite[np.isfinite(finite)].max(initial=1.0)) + 1.0
    s = case.settings
    persons = household_persons(s.hasten)
    if s.hasten > 1:
        total = sum(case.locations[i].population for i in keep)
        notes.append(f"optimisations.hasten = {s.hasten}: households of {persons:g} persons on "
                     f"average stand for Flee's agents (about {round(total / persons)} "
                     f"households for {total} persons); Flee instead divides populations, "
                     f"capacities and counts by {s.hasten}")
    scenario = {
        "name": name, "description": f"Imported from the Flee case {case.folder.name} "
                                     f"by climdisp import-flee",
        "seed": 0, "start_date": case.start_date, "step_days": 1, "n_steps": case.length_days,
        "hazard": {"file": "hazard.nc", "variable": "level",
                   "kind": "flood_level" if case.hazard.kind == "flood" else
                   "conflict_intensity", "max_distance_km": 0.01},
        "population": {"table": {"file": "locations.csv", "kind": "buildings"},
                       "persons_per_household": persons},
        "regions": {"names": "regions.csv", "routes": "routes.csv"},
        "capacity": {"default": {"host": 0, "shelter": 0, "camp": 0, "rental": 0},
                     "regions": {c: {"camp": cap}
                                 for c, cap in _capacities(case, notes).items()}},
        "impact": impact,
        "placement": {"cascade": ["camp"], "shelter_seeking_by_income_quintile": [1.0] * 5,
                      "distance_exponent": s.distance_power,
                      "soft_cap_start": min(max(s.capacity_buffer, 0.01), 1.0),
                      "max_distance_km": reach,
                      "travel_speed_km_per_day": s.max_move_speed,
                      "movement": movement, "routes": _walk(case)},
        "return": {"min_days_away": float(case.length_days)},
        "behaviour": {"enabled": False},
    }
    observations = _observations(case, files, notes)
    if observations is not None:
        scenario["observations"] = observations
        if s.insert_day0 and not s.flood_driven_spawning and not s.conflict_driven_spawning:
            day0 = {c: int(case.observations.of(c)[0]) for c in case.camp_capacity
                    if c in case.observations.locations}
            scenario["placement"]["routes"]["day0_camps"] = {c: n for c, n in day0.items() if n}
    notes.append(f"placement.movement = \"{movement}\": " + (
        "Flee's walk along the routes, with its move chances, weights and speeds in "
        "[placement.routes]" if movement == "routes" else
        "each displaced person picks a camp at once and travels there; Flee's walk (its move "
        "chances, location weights, softening, awareness level, walking speed, conflict decay, "
        "day-0 camp stocks) is in [placement.routes], used with --movement routes"))
    borders, border_notes = country_borders(case)
    closures, closure_notes = _route_closures(case)
    if closures:
        scenario["placement"]["routes"]["closures"] = closures
    notes += border_notes + closure_notes
    if s.not_applied:  # docs/flee.md lists the settings applied and why the others are not
        notes.append("simsetting.yml settings read but not applied: "
                     + ", ".join(f"{key} = {value}" for key, value in s.not_applied))
    if s.unused_keys:
        notes.append(f"simsetting.yml keys Flee ignores too: {', '.join(s.unused_keys)}")
    return scenario, notes, borders


def readme(folder: Path, name: str, notes: list[str]) -> str:
    """The imported folder's README: where it came from and every note of the import."""
    return "".join([f"# {name}\n\nImported from `{folder}` by `climdisp import-flee`. What the "
                    "import chose, tolerated as Flee does, or left out:\n\n",
                    *(f"- {note}\n" for note in notes),
                    "\nRun it with `climdisp run scenario.toml`; docs/flee.md says how Flee "
                    "cases are mapped.\n"])


def import_flee(flee_dir: Path, out: Path, movement: str = "direct") -> tuple[Path, list[str]]:
    """Convert the Flee case in ``flee_dir`` into a new scenario folder ``out``.

    ``movement``: the scenario's ``placement.movement`` ("direct" or "routes").

    Returns:
        The scenario file written, and notes on choices and on what was not mapped.

    Raises:
        InputError: for a malformed Flee folder (naming the file and line) or an existing
            ``out`` that is not empty.
    """
    case = read_flee(Path(flee_dir))
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", Path(out).name or case.folder.name).strip("-.")
    files: dict = {}
    scenario, notes, borders = scenario_for(case, name or "flee-case", files, movement)
    header = "".join(f"# {line}\n" for line in [
        f"Imported from {case.folder} by 'climdisp import-flee'.", *notes])
    files["scenario.toml"] = (header + tomli_w.dumps(scenario) + borders_toml(borders)).encode()
    files["README.md"] = readme(case.folder, name, notes).encode()
    write_folder(Path(out), files)
    return Path(out) / "scenario.toml", notes
