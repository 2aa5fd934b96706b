"""Read a Flee or DFlee scenario folder.

Flee is the agent-based forced-displacement code of Groen (2016) and Suleimenova, Bell & Groen
(2017), Sci. Rep. 7:13377; DFlee is its flood variant. This module reads a case the way the readers
of github.com/djgroen/flee do (flee/InputGeography.py, flee/SimulationSettings.py,
flee/datamanager/DataTable.py and read_period.py, runscripts/run.py), without depending on Flee.
Columns are found by their header name, so their order does not matter. Every problem is an
:class:`InputError` naming the file, line and column. What is read, with defaults and the places
where we differ from Flee, is listed in docs/flee-format.md.

A case folder holds ``input_csv/`` (or the same files directly in the folder), ``source_data/``
(observed counts, optional) and ``simsetting.yml`` (optional: Flee's defaults apply without it).
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from simulator.errors import InputError
from simulator.inputs.regions import shortest_paths_km

LOCATION_TYPES = ("camp", "conflict", "conflict_zone", "flood_zone", "forwarding_hub", "idpcamp",
                  "marker", "town")
CLOSURE_TYPES = ("camp", "country", "idpcamp", "link", "location", "remove_forced_redirection")
SPAWN_MODES = ("constant", "pop_ratio", "poisson")

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
class FleeObservations:
    """Observed counts (persons) from source_data/, daily, interpolated as Flee's DataTable does."""

    locations: tuple[str, ...]  #: data_layout.csv rows after "total", in file order
    total: np.ndarray  #: (days,) int64, the "total" series (usually refugees.csv)
    counts: np.ndarray  #: (days, len(locations)) int64

    def of(self, name: str) -> np.ndarray:
        """The daily series of one location (persons)."""
        return self.counts[:, self.locations.index(name)]


def _setting(section: str, default: Any, kind: type | None = None, key: str | None = None) -> Any:
    return field(default=default, metadata={"section": section, "kind": kind or type(default),
                                            "key": key})


@dataclass(frozen=True)
class FleeSettings:
    """simsetting.yml resolved with Flee's defaults (flee/SimulationSettings.py, ReadFromYML).

    Field names are the YAML keys of spawn_rules, its conflict_driven_spawning or
    flood_driven_spawning block (``*_spawn_mode`` stands for their ``spawn_mode``), move_rules,
    move_rules.flood_rules, log_levels and optimisations. Speeds and softening are km per day.
    ``*_driven_spawning`` and ``flood_rules`` say whether that block is in the file;
    ``displaced_per_*_day`` is None unless that spawning is on. ``unused_keys`` lists the keys of
    the file not read here (log_levels aside), so that a converter can warn about them.
    """

    take_from_population: bool = _setting("spawn_rules", False)
    insert_day0: bool = _setting("spawn_rules", True)
    empty_camps_on_day0: bool = _setting("spawn_rules", False)
    sum_from_camps: bool = _setting("spawn_rules", True)
    conflict_zone_spawning_only: bool = _setting("spawn_rules", True)
    flood_zone_spawning_only: bool = _setting("spawn_rules", False)
    conflict_spawn_decay: tuple[float, ...] | None = _setting("spawn_rules", None, tuple)
    conflict_spawn_decay_interval: int = _setting("spawn_rules", 30)
    conflict_driven_spawning: bool = False  #: spawn_rules.conflict_driven_spawning is a mapping
    conflict_spawn_mode: str = _setting("spawn_rules.conflict_driven_spawning", "constant",
                                        key="spawn_mode")
    displaced_per_conflict_day: float | None = _setting("spawn_rules.conflict_driven_spawning",
                                                        None, float)
    flood_driven_spawning: bool = False  #: spawn_rules.flood_driven_spawning is a mapping
    flood_spawn_mode: str = _setting("spawn_rules.flood_driven_spawning", "pop_ratio",
                                     key="spawn_mode")
    displaced_per_flood_day: tuple[float, ...] | None = _setting(
        "spawn_rules.flood_driven_spawning", None, tuple)
    max_move_speed: float = _setting("move_rules", 360.0)
    max_walk_speed: float = _setting("move_rules", 35.0)
    max_crossing_speed: float = _setting("move_rules", 20.0)
    foreign_weight: float = _setting("move_rules", 1.0)
    camp_weight: float = _setting("move_rules", 1.0)
    conflict_weight: float = _setting("move_rules", 1.0 / 3.16227766017)
    conflict_movechance: float = _setting("move_rules", 1.0)
    camp_movechance: float = _setting("move_rules", 0.001)
    idpcamp_movechance: float = _setting("move_rules", 0.1)
    default_movechance: float = _setting("move_rules", 0.3)
    awareness_level: int = _setting("move_rules", 1)
    capacity_buffer: float = _setting("move_rules", 0.9)
    capacity_scaling: float = _setting("move_rules", 1.0)
    avoid_short_stints: bool = _setting("move_rules", False)
    start_on_foot: bool = _setting("move_rules", False)
    use_v1_rules: bool = _setting("move_rules", False)
    softening: float = _setting("move_rules", 10.0)
    weight_softening: float = _setting("move_rules", 0.0)
    weight_power: float = _setting("move_rules", 1.0)
    distance_power: float = _setting("move_rules", 1.0)
    stay_close_to_home: bool = _setting("move_rules", False)
    home_distance_power: float = _setting("move_rules", 0.5)
    use_pop_for_loc_weight: bool = _setting("move_rules", False)
    pop_power_for_loc_weight: float = _setting("move_rules", 0.1)
    movechance_pop_base: float = _setting("move_rules", 10000.0)
    movechance_pop_scale_factor: float = _setting("move_rules", 0.0)
    flood_rules: bool = False  #: move_rules.flood_rules is a mapping
    max_flood_level: int = _setting("move_rules.flood_rules", -1)
    flood_movechances: tuple[float, ...] | None = _setting("move_rules.flood_rules", None, tuple)
    flood_loc_weights: tuple[float, ...] | None = _setting("move_rules.flood_rules", None, tuple)
    idp_totals: int = _setting("log_levels", 0)
    hasten: int = _setting("optimisations", 1)
    unused_keys: tuple[str, ...] = ()


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

    Raises:
        InputError: for a missing required file or any malformed value.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "not a folder (expected a Flee case with input_csv/)")
    inputs = folder / "input_csv" if (folder / "input_csv").is_dir() else folder
    settings = _read_settings(folder / "simsetting.yml")
    locations = _read_locations(inputs / "locations.csv")
    routes = _read_routes(inputs / "routes.csv", {loc.name for loc in locations})
    closures = _read_closures(inputs / "closures.csv", locations)
    start, n_days = _read_period(inputs / "sim_period.csv", start_date, length_days)
    if settings.flood_driven_spawning:
        levels = _required(inputs / "flood_level.csv", "flood-driven spawning is on in "
                                                       "simsetting.yml; DFlee reads it")
        hazard = _read_hazard(levels, "flood", locations, n_days)
    elif (inputs / "conflicts.csv").is_file():
        hazard = _read_hazard(inputs / "conflicts.csv", "conflict", locations, n_days)
    else:  # Flee without conflicts.csv: conflict locations from their conflict_date on
        first = np.array([math.inf if loc.conflict_date is None else loc.conflict_date
                          for loc in locations])
        days = np.arange(n_days)
        hazard = FleeHazard("conflict", days, (days[:, None] >= first).astype(float),
                            "locations.csv conflict_date")
    observations = _read_observations(folder / "source_data", start, n_days, locations)
    return FleeCase(folder, start, n_days, locations, routes, closures, hazard, observations,
                    settings)


# --- CSV reading -------------------------------------------------------------------------------

def _required(path: Path, why: str) -> Path:
    if not path.is_file():
        raise InputError(path, f"file not found ({why})")
    return path


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for row in reader:
            cells = [c.strip() for c in row]
            if any(cells):
                yield reader.line_num, cells


def _header_key(cell: str) -> str:
    return cell.lstrip("#").strip().strip('"').strip().lower()


def _table(path: Path, columns: dict[str, tuple[str, ...]],
           optional: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {column: cell}) per data row; columns by header name, else in Flee's order.

    The first row is the header when it starts with '#' or names the first column; later rows
    starting with '#' are comments and blank rows are skipped, as in Flee.
    """
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        return
    line, cells = first
    names = list(columns)
    if cells[0].startswith("#") or _header_key(cells[0]) in columns[names[0]]:
        keys = [_header_key(c) for c in cells]
        index = {n: keys.index(k) for n in names for k in columns[n] if k in keys}
        for n in names:
            if n not in index and n not in optional:
                raise InputError(path, f"line {line}: missing column '{n}' (accepted names: "
                                       f"{', '.join(columns[n])})")
    else:
        index = {n: i for i, n in enumerate(names)}
        rows = itertools.chain([first], rows)
    for line, cells in rows:
        if not cells[0].startswith("#"):
            yield line, {n: cells[index[n]] if index.get(n, len(cells)) < len(cells) else ""
                         for n in names}


def _bad(path: Path, line: int, column: str, expected: str, got: str) -> InputError:
    return InputError(path, f"line {line}: column '{column}': expected {expected}, got {got!r}")


def _cell(path: Path, line: int, column: str, text: str, parse, expected: str):
    try:
        return parse(text)
    except ValueError:
        raise _bad(path, line, column, expected, text) from None


def _integer(low: int, high: int | None = None):
    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            raise ValueError(text)
        return value
    return parse


def _nonnegative(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(text)
    return value


def _date(text: str) -> date:
    return datetime.strptime(text, "%Y-%m-%d").date()


def _read_locations(path: Path) -> tuple[FleeLocation, ...]:
    locations: list[FleeLocation] = []
    first_line: dict[str, int] = {}
    for line, row in _table(_required(path, "every Flee case needs one"), _LOCATION_COLUMNS):
        name, kind = row["name"], row["location_type"].lower()
        if name in first_line:
            raise InputError(path, f"line {line}: column 'name': duplicate location {name!r} "
                                   f"(first on line {first_line[name]})")
        first_line[name] = line
        if kind not in LOCATION_TYPES:
            raise _bad(path, line, "location_type", f"one of {', '.join(LOCATION_TYPES)}",
                       row["location_type"])
        population = _cell(path, line, "population", row["population"] or "0", _integer(0),
                           "a whole number of persons >= 0")
        if "camp" in kind and population == 0:
            raise _bad(path, line, "population", "a camp capacity in persons (> 0)",
                       row["population"])
        conflict_date = None
        if "conflict" in kind:
            conflict_date = _cell(path, line, "conflict_date", row["conflict_date"], _integer(0),
                                  "the day (>= 0) a conflict location starts conflict")
        lat, lon = (_cell(path, line, c, row[c] or "nan", float, "a number (degrees)")
                    for c in ("lat", "lon"))
        locations.append(FleeLocation(name, row["region"] or "unknown",
                                      row["country"] or "unknown", lat, lon, kind,
                                      conflict_date, population))
    if not locations:
        raise InputError(path, "no locations listed")
    return tuple(locations)


def _read_routes(path: Path, names: set[str]) -> tuple[FleeRoute, ...]:
    routes = []
    for line, row in _table(_required(path, "every Flee case needs one"), _ROUTE_COLUMNS,
                            optional=("forced_redirection",)):
        for column in ("name1", "name2"):
            if row[column] not in names:
                raise _bad(path, line, column, "a location name from locations.csv", row[column])
        if row["name1"] == row["name2"]:
            raise _bad(path, line, "name2", "a location other than name1", row["name2"])
        distance = _cell(path, line, "distance", row["distance"], _nonnegative,
                         "a distance in km >= 0")
        forced = _cell(path, line, "forced_redirection", row["forced_redirection"] or "0",
                       _integer(0, 2), "0, 1 or 2")
        routes.append(FleeRoute(row["name1"], row["name2"], distance, forced))
    return tuple(routes)


def _read_closures(path: Path, locations: tuple[FleeLocation, ...]) -> tuple[FleeClosure, ...]:
    if not path.is_file():
        return ()
    names = {loc.name for loc in locations}
    countries = {loc.country for loc in locations}
    closures = []
    for line, row in _table(path, _CLOSURE_COLUMNS):
        kind = row["closure_type"]
        if kind not in CLOSURE_TYPES:
            raise _bad(path, line, "closure_type", f"one of {', '.join(CLOSURE_TYPES)}", kind)
        known, what = ((countries, "a country from locations.csv") if kind == "country"
                       else (names, "a location name from locations.csv"))
        for column in ("name1",) if kind in ("camp", "idpcamp", "location") else ("name1", "name2"):
            if row[column] not in known:
                raise _bad(path, line, column, what, row[column])
        start = _cell(path, line, "closure_start", row["closure_start"], _integer(0),
                      "a day >= 0")
        end = _cell(path, line, "closure_end", row["closure_end"], _integer(-1),
                    "a day >= 0, or -1 to keep it closed")
        closures.append(FleeClosure(kind, row["name1"], row["name2"], start, end))
    return tuple(closures)


def _read_period(path: Path, start: date | None, length: int | None) -> tuple[date, int]:
    if length is not None and length < 1:
        raise InputError(path, f"length_days: expected a number of days > 0, got {length}")
    if start is not None and length is not None:
        return start, length
    read: dict[str, Any] = {}
    for line, cells in _rows(_required(path, "lines 'StartDate,YYYY-MM-DD' and 'Length,<days>'; "
                                             "or give the start date and length")):
        key, value = cells[0], cells[1] if len(cells) > 1 else ""
        if key.lower() == "startdate":
            read["StartDate"] = _cell(path, line, key, value, _date, "a date YYYY-MM-DD")
        elif key.lower() == "length":
            read["Length"] = _cell(path, line, key, value, _integer(1), "a number of days > 0")
    for key, given in (("StartDate", start), ("Length", length)):
        if given is None and key not in read:
            raise InputError(path, f"no {key} line (expected '{key},<value>')")
    return (start if start is not None else read["StartDate"],
            length if length is not None else read["Length"])


def _read_hazard(path: Path, kind: Literal["conflict", "flood"],
                 locations: tuple[FleeLocation, ...], n_days: int) -> FleeHazard:
    rows = list(_rows(path))
    if not rows:
        raise InputError(path, "empty file (expected a header '#Day,<location>,...' and rows)")
    line, header = rows[0]
    index = {loc.name: j for j, loc in enumerate(locations)}
    columns: dict[str, int] = {}  # location name -> cell index
    for i, name in enumerate(header[1:], start=1):
        if name and name not in index:
            raise InputError(path, f"line {line}: column '{name}': not a location in "
                                   "locations.csv")
        if name in columns:
            raise InputError(path, f"line {line}: column '{name}': listed twice")
        if name:
            columns[name] = i
    days, values = [], []
    for line, cells in rows[1:]:
        if cells[0].startswith("#"):
            continue
        day = _cell(path, line, header[0], cells[0], int, "a day number")
        if kind == "conflict" and day != len(days):
            raise _bad(path, line, header[0], f"day {len(days)} (Flee reads one row per day "
                                              "from day 0)", cells[0])
        if days and day <= days[-1]:
            raise _bad(path, line, header[0], f"a day after {days[-1]}", cells[0])
        row = np.zeros(len(locations))
        for name, i in columns.items():
            row[index[name]] = _cell(path, line, name, cells[i] if i < len(cells) else "",
                                     _nonnegative, "a number >= 0")
        days.append(day)
        values.append(row)
    if not days or days[0] > 0 or days[-1] < n_days - 1:
        span = f"days {days[0]} to {days[-1]}" if days else "no days"
        raise InputError(path, f"rows cover {span} but the run has {n_days} days "
                               f"(days 0 to {n_days - 1})")
    return FleeHazard(kind, np.array(days), np.array(values), path.name)


def _read_observations(source: Path, start: date, n_days: int,
                       locations: tuple[FleeLocation, ...]) -> FleeObservations | None:
    layout = source / "data_layout.csv"
    if not layout.is_file():
        return None
    names = {loc.name for loc in locations}
    rows: dict[str, tuple[int, str]] = {}
    for line, cells in _rows(layout):
        if cells[0].startswith("#"):
            continue
        files = [c for c in cells[1:] if c]
        if len(files) != 1:
            raise InputError(layout, f"line {line}: expected '<name>,<file>.csv' (one file per "
                                     f"row), got {','.join(cells)!r}")
        if cells[0] in rows:
            raise InputError(layout, f"line {line}: {cells[0]!r} is listed twice")
        if not rows and cells[0] != "total":
            raise InputError(layout, f"line {line}: expected the first row to be "
                                     f"'total,<file>.csv' (Flee reads it as the total), got "
                                     f"{cells[0]!r}")
        if rows and cells[0] not in names:
            raise InputError(layout, f"line {line}: {cells[0]!r} is not a location in "
                                     "locations.csv")
        rows[cells[0]] = (line, files[0])
    for loc in locations:
        if loc.is_camp and loc.name not in rows:
            raise InputError(layout, f"no row for camp {loc.name!r} (Flee compares every camp "
                                     "with a data series)")
    series = [_read_series(source / file, start, n_days, layout, line)
              for line, file in rows.values()]
    return FleeObservations(tuple(rows)[1:], series[0],
                            np.stack(series[1:], axis=1) if len(series) > 1
                            else np.zeros((n_days, 0), np.int64))


def _read_series(path: Path, start: date, n_days: int, layout: Path, layout_line: int
                 ) -> np.ndarray:
    days: list[int] = []
    counts: list[int] = []
    for line, cells in _rows(_required(path, f"named on line {layout_line} of {layout}")):
        if (len(cells) < 2 or not cells[1] or cells[0].startswith("#")
                or (not days and cells[0] in ("Date", "DateTime"))):
            continue
        when = _cell(path, line, "date", cells[0], _date, "a date YYYY-MM-DD")
        if days and (when - start).days <= days[-1]:
            raise _bad(path, line, "date", "dates in increasing order", cells[0])
        days.append((when - start).days)
        counts.append(_cell(path, line, "count", cells[1], _integer(0),
                            "a whole number of persons >= 0"))
    if not days:
        raise InputError(path, "no data rows (expected lines 'YYYY-MM-DD,<count>')")
    return _interpolate(np.array(days), np.array(counts, dtype=float), n_days)


def _interpolate(days: np.ndarray, counts: np.ndarray, n_days: int) -> np.ndarray:
    """Flee's DataTable.get_interpolated_data on days 0..n_days-1.

    Before the first observation its value, after the last the last value, in between
    int(v0 + (t - d0) / (d1 - d0) * (v1 - v0)), computed in that order so the truncation matches.
    """
    t = np.arange(n_days)
    if len(days) == 1:
        return np.full(n_days, int(counts[0]), dtype=np.int64)
    j = np.clip(np.searchsorted(days, t, side="right"), 1, len(days) - 1)
    fraction = (t - days[j - 1]) / (days[j] - days[j - 1])
    between = np.trunc(counts[j - 1] + fraction * (counts[j] - counts[j - 1]))
    value = np.where(t <= days[0], counts[0], np.where(t >= days[-1], counts[-1], between))
    return value.astype(np.int64)


# --- simsetting.yml ----------------------------------------------------------------------------

# The newest Flee names the flood spawning block flood_driven_spawn_mode; its docs and FabFlee's
# dflee_test use flood_driven_spawning. Both are read.
_BLOCK_ALIASES = {"spawn_rules.flood_driven_spawning": "spawn_rules.flood_driven_spawn_mode"}
_SECTIONS = ("log_levels", "spawn_rules", "move_rules", "optimisations", "move_rules.flood_rules",
             "spawn_rules.conflict_driven_spawning", "spawn_rules.flood_driven_spawning",
             "spawn_rules.flood_driven_spawn_mode")
# Flee's default displaced per day when the file gives none: (kind, pop_ratio mode) -> rate.
_SPAWN_RATES = {("conflict", True): 0.01, ("conflict", False): 500.0,
                ("flood", True): (0.0, 0.1, 0.2, 0.5, 0.9),
                ("flood", False): (0.0, 100.0, 200.0, 300.0, 500.0)}
_EXPECTED = {bool: "true or false", int: "a whole number", float: "a number", str: "text",
             tuple: "a list of numbers"}


def _load_yaml(path: Path) -> tuple[dict[str, Any], set[str], dict[str, int]]:
    """The YAML as {dotted key: non-mapping value}, the dotted mapping keys, and each key's line."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise InputError(path, f"{where}malformed YAML: {getattr(exc, 'problem', exc)}") from None
    if data is not None and not isinstance(data, dict):
        raise InputError(path, "expected sections such as spawn_rules: and move_rules:")
    lines: dict[str, int] = {}

    def walk_lines(node: yaml.MappingNode, prefix: str) -> None:
        for key, value in node.value:
            lines[prefix + str(key.value)] = key.start_mark.line + 1
            if isinstance(value, yaml.MappingNode):
                walk_lines(value, f"{prefix}{key.value}.")

    flat: dict[str, Any] = {}
    mappings: set[str] = set()

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                mappings.add(prefix + str(key))
                walk(value, f"{prefix}{key}.")
            else:
                flat[prefix + str(key)] = value

    if data:
        walk_lines(root, "")
        walk(data, "")
    return flat, mappings, lines


def _typed(value: Any, kind: type) -> Any:
    """``value`` as ``kind``, or ValueError; YAML booleans are never numbers here."""
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return tuple(float(v) for v in value)
    if kind in (bool, int, str) and type(value) is kind:
        return value
    raise ValueError(value)


def _read_settings(path: Path) -> FleeSettings:
    """Read simsetting.yml like Flee's ReadFromYML; without the file, Flee's defaults."""
    if not path.is_file():
        return FleeSettings()
    flat, mappings, lines = _load_yaml(path)
    used = {k for k in flat if k.startswith("log_levels.") or k in _SECTIONS}
    for section in _SECTIONS:
        if flat.get(section) is not None:
            raise InputError(path, f"line {lines[section]}: {section}: expected a mapping of "
                                   f"settings, got {flat[section]!r}")

    def block(section: str) -> str:
        alias = _BLOCK_ALIASES.get(section, section)
        return alias if section not in mappings and alias in mappings else section

    def read(names: Sequence[str]) -> dict[str, Any]:
        values = {}
        for f in fields(FleeSettings):
            key = f"{block(f.metadata.get('section', ''))}.{f.metadata.get('key') or f.name}"
            if f.name in names and key in flat:
                used.add(key)
                try:
                    values[f.name] = _typed(flat[key], f.metadata["kind"])
                except ValueError:
                    raise InputError(path, f"line {lines[key]}: {key}: expected "
                                           f"{_EXPECTED[f.metadata['kind']]}, got "
                                           f"{flat[key]!r}") from None
        return values

    plain = [f.name for f in fields(FleeSettings)
             if f.metadata.get("section") in ("log_levels", "spawn_rules", "move_rules",
                                              "optimisations", "move_rules.flood_rules")]
    settings = replace(FleeSettings(), **read(plain),
                       flood_rules="move_rules.flood_rules" in mappings)
    if settings.conflict_zone_spawning_only and settings.flood_zone_spawning_only:
        key = "spawn_rules.flood_zone_spawning_only"
        raise InputError(path, f"line {lines[key]}: {key}: Flee spawns from conflict zones only "
                               "or flood zones only; set conflict_zone_spawning_only: false too")
    kind = "flood" if settings.flood_zone_spawning_only else "conflict"
    section = block(f"spawn_rules.{kind}_driven_spawning")
    if section in mappings:
        values = read([f"{kind}_spawn_mode", f"displaced_per_{kind}_day"])
        mode = values.get(f"{kind}_spawn_mode", getattr(settings, f"{kind}_spawn_mode"))
        mode = "poisson" if mode.lower() == "poisson" else mode
        if mode not in SPAWN_MODES:
            key = f"{section}.spawn_mode"
            raise InputError(path, f"line {lines[key]}: {key}: expected one of "
                                   f"{', '.join(SPAWN_MODES)}, got {mode!r}")
        if kind == "flood" and not settings.take_from_population:
            raise InputError(path, f"line {lines[section]}: {section}: flood-driven spawning "
                                   "needs spawn_rules.take_from_population: true (Flee refuses "
                                   "otherwise)")
        settings = replace(settings, **{
            f"{kind}_driven_spawning": True, f"{kind}_spawn_mode": mode,
            f"displaced_per_{kind}_day": values.get(f"displaced_per_{kind}_day",
                                                    _SPAWN_RATES[kind, mode == "pop_ratio"])})
    if settings.use_v1_rules:  # Flee's ruleset 1 overrides these whatever the file says
        settings = replace(settings, max_move_speed=200.0, start_on_foot=False,
                           avoid_short_stints=False, camp_weight=2.0, conflict_weight=0.25)
    return replace(settings, unused_keys=tuple(sorted(k for k in flat if k not in used)))


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


@dataclass(frozen=True, eq=False)
class FleeSpawns:
    """Flee's validation spawning per day (persons), as in flee/spawning.py."""

    new: np.ndarray  #: (days,) agents spawned at conflict (spawn) locations that day
    raw: np.ndarray  #: (days,) the stock, Flee's running sum of the daily changes: out.csv "raw
    #: UNHCR refugee count"
    debt: np.ndarray  #: (days,) decreases not yet offset by increases: out.csv "refugee_debt"


def daily_new_displaced(observations: FleeObservations, settings: FleeSettings) -> FleeSpawns:
    """New displaced persons per day when Flee spawns from the observed counts.

    Flee (spawn_daily_displaced with DataTable.get_daily_difference) takes the day-on-day change
    of the stock: the sum of the interpolated camp series when ``sum_from_camps`` (the default),
    else the "total" series; on day 0 the change is the day-0 stock. A decrease becomes a debt
    that later increases pay off first; nothing spawns on day 0 when ``insert_day0`` puts the
    day-0 counts into the camps instead. ``empty_camps_on_day0`` counts from the day-0 stock.
    """
    stock = observations.counts.sum(axis=1) if settings.sum_from_camps else observations.total
    if settings.empty_camps_on_day0:
        stock = stock - stock[0]
    change = np.diff(stock, prepend=0)
    new, debt = np.zeros_like(change), np.zeros_like(change)
    owed = 0
    for t, delta in enumerate(change):
        wanted = 0 if t == 0 and settings.insert_day0 else delta - owed
        new[t], owed = max(wanted, 0), max(-wanted, 0)
        debt[t] = owed
    return FleeSpawns(new, stock, debt)

