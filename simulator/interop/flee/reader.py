"""Read a Flee or DFlee case folder into a :class:`FleeCase`.

Flee is the agent-based forced-displacement code of Groen (2016) and Suleimenova, Bell & Groen
(2017), Sci. Rep. 7:13377; DFlee is its flood variant. This module reads a case the way the readers
of github.com/djgroen/flee do (flee/InputGeography.py, read_period.py, runscripts/run.py), without
depending on Flee: locations, routes, closures, the period and the conflict or flood hazard here,
simsetting.yml in :mod:`simulator.interop.flee.settings` and the observed counts of source_data/
in :mod:`simulator.interop.flee.observed`. Columns are found by their header name, so their order
does not matter. Every problem is an :class:`InputError` naming the file, line and column. What is
read, with defaults and the places where we differ from Flee, is listed in docs/flee-format.md.

A case folder holds ``input_csv/`` (or the same files directly in the folder), ``source_data/``
(observed counts, optional) and ``simsetting.yml`` (optional: Flee's defaults apply without it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np

from simulator.errors import InputError
from simulator.inputs.regions import haversine_km, shortest_paths_km
from simulator.interop.flee.observed import FleeObservations, read_source_data
from simulator.interop.flee.settings import FleeSettings, read_settings
from simulator.interop.flee.tables import (
    bad,
    cell,
    integer,
    nonnegative,
    parse_date,
    required,
    rows,
    table,
)

LOCATION_TYPES = ("camp", "conflict", "conflict_zone", "flood_zone", "forwarding_hub", "idpcamp",
                  "marker", "town")
CLOSURE_TYPES = ("camp", "country", "idpcamp", "link", "location", "remove_forced_redirection")

# Canonical column -> header spellings seen in Flee cases (after dropping '#', quotes, case).
_LOCATION_COLUMNS = {
    "name": ("name",), "region": ("region",), "country": ("country",),
    "lat": ("lat", "latitude", "gps_x"), "lon": ("lon", "long", "longitude", "gps_y"),
    "location_type": ("location_type",), "conflict_date": ("conflict_date",),
    "population": ("population", "population/capacity", "pop/cap", "capacity", "pop"),
}
_ROUTE_COLUMNS = {"name1": ("name1",), "name2": ("name2",),
                  "distance": ("distance", "distance[km]", "distance_km"),
                  "forced_redirection": ("forced_redirection",)}
_CLOSURE_COLUMNS = {c: (c,) for c in ("closure_type", "name1", "name2", "closure_start",
                                      "closure_end")}


@dataclass(frozen=True)
class FleeLocation:
    """One row of locations.csv."""

    name: str
    region: str  #: "unknown" when empty, as in Flee
    country: str  #: "unknown" when empty, as in Flee
    lat: float  #: degrees; NaN when empty (Flee reads 0.0)
    lon: float  #: degrees; NaN when empty (Flee reads 0.0)
    location_type: str  #: lower case, one of LOCATION_TYPES
    conflict_date: int | None  #: day a conflict location becomes a conflict zone; None otherwise
    population: int  #: residents (persons); for a camp its capacity (persons)

    @property
    def is_camp(self) -> bool:
        """Camps and IDP camps (Flee: "camp" in the type); their population is a capacity."""
        return "camp" in self.location_type


@dataclass(frozen=True)
class FleeRoute:
    """One row of routes.csv: a two-way link."""

    name1: str
    name2: str
    distance_km: float
    forced_redirection: int  #: 0 none; 1 agents at name1 go on to name2; 2 from name2 to name1


@dataclass(frozen=True)
class FleeClosure:
    """One row of closures.csv (days count from the start of the run)."""

    closure_type: str  #: one of CLOSURE_TYPES
    name1: str  #: a location, or a country for "country"
    name2: str
    start_day: int
    end_day: int  #: -1: never reopens
    line: int = 0  #: line of closures.csv (0: not read from a file)


@dataclass(frozen=True, eq=False)
class FleeHazard:
    """Conflict intensity or flood level per location, from conflicts.csv or flood_level.csv."""

    kind: Literal["conflict", "flood"]
    days: np.ndarray  #: (rows,) day numbers of the file's rows
    values: np.ndarray  #: (rows, locations) float, locations in locations.csv order; absent = 0
    source: str  #: the file read, or "locations.csv conflict_date" when conflicts.csv is absent

    def daily(self, n_days: int) -> np.ndarray:
        """Values on days 0..n_days-1 as (days, locations), linear between rows like Flee.

        Flee reads conflicts.csv one row per day and interpolates flood_level.csv linearly between
        its listed days (lib_math.dict_interp); the reader has checked that the rows cover the run.
        """
        t = np.arange(n_days)
        return np.stack([np.interp(t, self.days, v) for v in self.values.T], axis=1)


@dataclass(frozen=True, eq=False)
class FleeCase:
    """Everything read from one Flee/DFlee case folder."""

    folder: Path
    start_date: date
    length_days: int
    locations: tuple[FleeLocation, ...]  #: in file order
    routes: tuple[FleeRoute, ...]
    closures: tuple[FleeClosure, ...]
    hazard: FleeHazard
    observations: FleeObservations | None  #: None without source_data/data_layout.csv
    settings: FleeSettings
    notes: tuple[str, ...] = ()  #: what was tolerated as Flee tolerates it, or left unread

    @property
    def names(self) -> tuple[str, ...]:
        """Location names in file order (the index of every location axis)."""
        return tuple(loc.name for loc in self.locations)

    @property
    def camp_capacity(self) -> dict[str, int]:
        """Capacity (persons) of each camp and IDP camp, in file order."""
        return {loc.name: loc.population for loc in self.locations if loc.is_camp}


def read_flee(folder: Path, *, start_date: date | None = None,
              length_days: int | None = None) -> FleeCase:
    """Read a Flee or DFlee case folder.

    Args:
        folder: the case folder, holding input_csv/ (or its files directly), optionally
            source_data/ and simsetting.yml.
        start_date: overrides StartDate of sim_period.csv.
        length_days: overrides Length of sim_period.csv (like the duration argument of run.py).

    Returns:
        The case; the hazard is flood levels when simsetting.yml turns on flood-driven spawning,
        else conflict intensities.

    Quirks Flee tolerates are read the way Flee reads them and each is reported, one line
    naming the file and line, in ``FleeCase.notes`` (docs/flee-format.md lists them).

    Raises:
        InputError: for a missing required file or any malformed value.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a folder (expected a Flee case with input_csv/)")
    inputs = folder / "input_csv" if (folder / "input_csv").is_dir() else folder
    notes: list[str] = []
    settings = read_settings(folder / "simsetting.yml")
    locations, renamed = _read_locations(inputs / "locations.csv", notes)
    routes = _read_routes(inputs / "routes.csv", {loc.name for loc in locations}, notes)
    routes += _joins(locations, renamed)
    closures = _read_closures(inputs / "closures.csv", locations)
    start, n_days = _read_period(inputs / "sim_period.csv", start_date, length_days)
    if settings.flood_driven_spawning:
        levels = required(inputs / "flood_level.csv", "flood-driven spawning is on in "
                                                      "simsetting.yml; DFlee reads it")
        hazard = _read_hazard(levels, "flood", locations, n_days, renamed, notes)
    elif (inputs / "conflicts.csv").is_file():
        hazard = _read_hazard(inputs / "conflicts.csv", "conflict", locations, n_days, renamed,
                              notes)
    else:  # Flee without conflicts.csv: conflict locations from their conflict_date on
        first = np.array([math.inf if loc.conflict_date is None else loc.conflict_date
                          for loc in locations])
        days = np.arange(n_days)
        hazard = FleeHazard("conflict", days, (days[:, None] >= first).astype(float),
                            "locations.csv conflict_date")
    observations = read_source_data(folder / "source_data", start, n_days,
                                    {loc.name for loc in locations},
                                    [loc.name for loc in locations if loc.is_camp], notes,
                                    inputs / _CORRECTIONS)
    notes += _unread(inputs, hazard.source)
    return FleeCase(folder, start, n_days, locations, routes, closures, hazard, observations,
                    settings, tuple(notes))


_CORRECTIONS = "registration_corrections.csv"  # read with the observations (observed.py)
_READ = ("locations.csv", "routes.csv", "closures.csv", "sim_period.csv", _CORRECTIONS)


def _unread(inputs: Path, hazard_file: str) -> list[str]:
    """Notes on the input files the conversion does not read (demographics etc.)."""
    notes = []
    other = sorted(p.name for p in inputs.glob("*.csv") if p.name not in (*_READ, hazard_file))
    if other:
        notes.append(f"{inputs.name}/ files not read: {', '.join(other)}")
    return notes


def _read_locations(path: Path, notes: list[str]
                    ) -> tuple[tuple[FleeLocation, ...], dict[str, str]]:
    """The locations, and {name: new name} of places renamed because a camp shares their name."""
    located: list[tuple[int, FleeLocation]] = []
    for line, row in table(required(path, "every Flee case needs one"), _LOCATION_COLUMNS,
                           positional=("conflict_date",), notes=notes):
        name, kind = row["name"], row["location_type"].lower()
        if kind not in LOCATION_TYPES:
            raise bad(path, line, "location_type", f"one of {', '.join(LOCATION_TYPES)}",
                      row["location_type"])
        population = cell(path, line, "population", row["population"] or "0", integer(0),
                          "a whole number of persons >= 0")
        if "camp" in kind and population == 0:
            notes.append(f"{path.name} line {line}: camp {name!r} has capacity "
                         f"{row['population'] or '(empty)'}: unlimited, as in Flee")
        conflict_date = None
        if "conflict" in kind:
            conflict_date = cell(path, line, "conflict_date", row["conflict_date"], integer(0),
                                 "the day (>= 0) a conflict location starts conflict")
        lat, lon = (cell(path, line, c, row[c] or "nan", float, "a number (degrees)")
                    for c in ("lat", "lon"))
        located.append((line, FleeLocation(name, row["region"] or "unknown",
                                           row["country"] or "unknown", lat, lon, kind,
                                           conflict_date, population)))
    if not located:
        raise InputError(path, "no locations listed")
    return _rename_twins(path, located, notes)


def _rename_twins(path: Path, located: list[tuple[int, FleeLocation]], notes: list[str]
                  ) -> tuple[tuple[FleeLocation, ...], dict[str, str]]:
    """Unique names: a place sharing its name with a camp becomes ``<name>_<type>``.

    FabFlee's DFlee cases list a camp and a flood zone of the same town under one name (Flee
    keeps both and links its routes to the later one). Here the camp keeps the name, so routes
    and observations naming it go to the camp; the other place is renamed and keeps its hazard
    column. Any other repeated name is an error.
    """
    first: dict[str, tuple[int, int]] = {}  # name -> (line, index) of its first row
    renamed: dict[str, str] = {}
    out = [loc for _, loc in located]
    taken = {loc.name for loc in out}
    for k, (line, loc) in enumerate(located):
        if loc.name not in first:
            first[loc.name] = (line, k)
            continue
        line0, k0 = first[loc.name]
        other = out[k0]
        new = f"{loc.name}_{(other if loc.is_camp else loc).location_type}"
        if loc.is_camp == other.is_camp or loc.name in renamed or new in taken:
            raise InputError(path, f"line {line}: column 'name': duplicate location "
                                   f"{loc.name!r} (first on line {line0})")
        place = k0 if loc.is_camp else k
        out[place] = replace(out[place], name=new)
        renamed[loc.name] = new
        taken.add(new)
        notes.append(f"{path.name} line {line}: a camp and a {out[place].location_type} are "
                     f"both named {loc.name!r} (lines {line0}, {line}): the "
                     f"{out[place].location_type} is renamed {new!r} and joined to the camp by "
                     f"a route; routes and observations naming {loc.name!r} go to the camp")
    return tuple(out), renamed


def _joins(locations: tuple[FleeLocation, ...], renamed: dict[str, str]) -> tuple[FleeRoute, ...]:
    """A route from each camp to the renamed place sharing its name: their distance, >= 1 km."""
    where = {loc.name: loc for loc in locations}
    routes = []
    for name, new in renamed.items():
        a, b = where[name], where[new]
        km = float(haversine_km(np.array(a.lat), np.array(a.lon), np.array(b.lat),
                                np.array(b.lon)))
        routes.append(FleeRoute(name, new, round(max(km, 1.0), 1) if math.isfinite(km) else 1.0,
                                0))
    return tuple(routes)


def _read_routes(path: Path, names: set[str], notes: list[str]) -> tuple[FleeRoute, ...]:
    routes = []
    for line, row in table(required(path, "every Flee case needs one"), _ROUTE_COLUMNS,
                           optional=("forced_redirection",)):
        for column in ("name1", "name2"):
            if row[column] not in names:
                raise bad(path, line, column, "a location name from locations.csv", row[column])
        distance = cell(path, line, "distance", row["distance"], nonnegative,
                        "a distance in km >= 0")
        forced = cell(path, line, "forced_redirection", row["forced_redirection"] or "0",
                      integer(0, 2), "0, 1 or 2")
        if row["name1"] == row["name2"]:
            notes.append(f"{path.name} line {line}: self-loop {row['name1']}–{row['name2']} "
                         "dropped (a route from a place to itself leads nowhere)")
            continue
        routes.append(FleeRoute(row["name1"], row["name2"], distance, forced))
    return tuple(routes)


def _read_closures(path: Path, locations: tuple[FleeLocation, ...]) -> tuple[FleeClosure, ...]:
    if not path.is_file():
        return ()
    names = {loc.name for loc in locations}
    countries = {loc.country for loc in locations}
    closures = []
    for line, row in table(path, _CLOSURE_COLUMNS):
        kind = row["closure_type"]
        if kind not in CLOSURE_TYPES:
            raise bad(path, line, "closure_type", f"one of {', '.join(CLOSURE_TYPES)}", kind)
        known, what = ((countries, "a country from locations.csv") if kind == "country"
                       else (names, "a location name from locations.csv"))
        for column in ("name1",) if kind in ("camp", "idpcamp", "location") else ("name1", "name2"):
            if row[column] not in known:
                raise bad(path, line, column, what, row[column])
        start = cell(path, line, "closure_start", row["closure_start"], integer(0),
                     "a day >= 0")
        end = cell(path, line, "closure_end", row["closure_end"], integer(-1),
                   "a day >= 0, or -1 to keep it closed")
        closures.append(FleeClosure(kind, row["name1"], row["name2"], start, end, line))
    return tuple(closures)


def _read_period(path: Path, start: date | None, length: int | None) -> tuple[date, int]:
    if length is not None and length < 1:
        raise InputError(path, f"length_days: expected a number of days > 0, got {length}")
    if start is not None and length is not None:
        return start, length
    read: dict[str, Any] = {}
    for line, cells in rows(required(path, "lines 'StartDate,YYYY-MM-DD' and 'Length,<days>'; "
                                           "or give the start date and length")):
        key, value = cells[0], cells[1] if len(cells) > 1 else ""
        if key.lower() == "startdate":
            read["StartDate"] = cell(path, line, key, value, parse_date, "a date YYYY-MM-DD")
        elif key.lower() == "length":
            read["Length"] = cell(path, line, key, value, integer(1), "a number of days > 0")
    for key, given in (("StartDate", start), ("Length", length)):
        if given is None and key not in read:
            raise InputError(path, f"no {key} line (expected '{key},<value>')")
    return (start if start is not None else read["StartDate"],
            length if length is not None else read["Length"])


def _hazard_column(name: str, index: dict[str, int], renamed: dict[str, str]
                   ) -> tuple[str | None, str]:
    """The location a hazard column names, and how it was matched ("" when exactly)."""
    if name in renamed:
        return renamed[name], ""
    if name in index:
        return name, ""
    folded = [n for n in index if n.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0], f"read as location {folded[0]!r} (the names differ in case)"
    return None, "names no location in locations.csv: dropped"


def _read_hazard(path: Path, kind: Literal["conflict", "flood"],
                 locations: tuple[FleeLocation, ...], n_days: int, renamed: dict[str, str],
                 notes: list[str]) -> FleeHazard:
    lines = list(rows(path))
    if not lines:
        raise InputError(path, "empty file (expected a header '#Day,<location>,...' and rows)")
    line, header = lines[0]
    index = {loc.name: j for j, loc in enumerate(locations)}
    columns: dict[str, int] = {}  # location name -> cell index
    for i, label in enumerate(header[1:], start=1):
        if not label:
            continue
        name, how = _hazard_column(label, index, renamed)
        if how:
            notes.append(f"{path.name} line {line}: column {label!r} {how}")
        if name is None:
            continue
        if name in columns:
            raise InputError(path, f"line {line}: column '{label}': listed twice")
        columns[name] = i
    days, values = [], []
    for line, cells in lines[1:]:
        if cells[0].startswith("#"):
            continue
        day = cell(path, line, header[0], cells[0], int, "a day number")
        if kind == "conflict" and day != len(days):
            raise bad(path, line, header[0], f"day {len(days)} (Flee reads one row per day "
                                              "from day 0)", cells[0])
        if days and day <= days[-1]:
            raise bad(path, line, header[0], f"a day after {days[-1]}", cells[0])
        row = np.zeros(len(locations))
        for name, i in columns.items():
            row[index[name]] = cell(path, line, header[i], cells[i] if i < len(cells) else "",
                                    nonnegative, "a number >= 0")
        days.append(day)
        values.append(row)
    if not days or days[0] > 0 or days[-1] < n_days - 1:
        span = f"days {days[0]} to {days[-1]}" if days else "no days"
        raise InputError(path, f"rows cover {span} but the run has {n_days} days "
                               f"(days 0 to {n_days - 1})")
    return FleeHazard(kind, np.array(days), np.array(values), path.name)


# --- helpers for conversion --------------------------------------------------------------------

def route_distances_km(case: FleeCase) -> np.ndarray:
    """Shortest route distance (km) between all pairs of locations; inf where unreachable.

    Routes are two-way as in Flee; of repeated routes between two places the shortest counts.
    Closures are not applied. Dijkstra's algorithm (scipy.sparse.csgraph).
    """
    index = {name: i for i, name in enumerate(case.names)}
    a, b, d = (np.array(v) for v in zip(*((index[r.name1], index[r.name2], r.distance_km)
                                            for r in case.routes)))
    return shortest_paths_km(len(case.locations), a, b, d.astype(float))

