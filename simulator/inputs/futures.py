"""Climate futures: yearly flood events sampled from return-period maps per period.

A hazard file with dimensions ``period`` (years, e.g. 2030, 2050, 2080: the centre of each
period's climate), ``return_period`` (years) and space (optionally ``scenario``, labels such as
``"SSP5-8.5"``) holds the flood depth of every return period in every period, as ISIMIP or
CLIMADA hazard sets for future periods do. Each year of the run draws its events from it:

- event classes: map *i* stands for the events between its return period and the next rarer
  one, with yearly frequency phi_i = 1/RP_i - 1/RP_(i+1) (1/RP_n for the rarest), as CLIMADA
  computes expected annual impact and IDMC's GIDRM its average annual displacement;
- each class occurs N_i ~ Poisson(phi_i) times a year (CLIMADA's yearsets), drawn by the inverse
  CDF from the run's counter-based stream ``futures`` (seed, year, class), so two scenarios
  with the same seed have their events in the same years and on the same days; only the
  depths differ;
- an event of class *i* in year *y* has the depth of map *i* interpolated linearly in time
  between the periods around *y* (the first period's before it, the last one's after it),
  lasting ``event_days`` from a day drawn uniformly within the flood season.

``futures.hold_period`` keeps one period's maps for every year: the counterfactual without
climate change that Groundswell-style "climate migrants" are measured against.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass

import numpy as np
from pyproj import CRS

from simulator.errors import InputError
from simulator.inputs.hazards import _locate, _take, open_variable
from simulator.inputs.schema import Scenario
from simulator.inputs.units import si_factor
from simulator.rng import Streams

#: Years either side of a period's centre its climate stands for (a 30-year climate window).
PERIOD_HALF_SPAN_YEARS = 15


@dataclass(frozen=True)
class FutureMaps:
    """Return-period maps per period at the hazard sites of the populated cells."""

    periods: np.ndarray  #: (P,) period centres (years), ascending
    return_periods: np.ndarray  #: (R,) years, ascending
    maps: np.ndarray  #: (P, R, sites) float32, SI units
    cell_site: np.ndarray  #: (cells,) site of each populated cell
    kind: str


def class_frequencies(rps: np.ndarray) -> np.ndarray:
    """Yearly frequency of each return-period class: 1/RP_i - 1/RP_(i+1), the rarest 1/RP_n.

    ``rps`` ascending (years). The classes' frequencies sum to 1/RP_1.
    """
    f = 1.0 / np.asarray(rps, dtype=float)
    return f - np.append(f[1:], 0.0)


def period_weights(year: float, periods: np.ndarray) -> tuple[int, int, float]:
    """Linear interpolation in time between the periods around ``year``: (i, j, weight of j).

    Before the first period its maps hold, after the last the last's.
    """
    k = int(np.searchsorted(periods, year, side="right"))
    if k == 0:
        return 0, 0, 0.0
    if k == periods.size:
        return k - 1, k - 1, 0.0
    lo, hi = periods[k - 1], periods[k]
    return k - 1, k, float((year - lo) / (hi - lo))


def read_future_maps(scenario: Scenario, cell_y: np.ndarray, cell_x: np.ndarray,
                     cell_crs: CRS | None) -> FutureMaps:
    """Read the hazard's return-period maps per period at the populated cells.

    Raises:
        InputError: without ``period`` and ``return_period`` dimensions, with return periods
            not distinct and > 1 year, with a ``scenario`` dimension lacking
            ``futures.climate_scenario``, with a ``futures.hold_period`` that is not a period
            of the file, or when the run reaches years no period covers.
    """
    cfg, fut = scenario.hazard, scenario.futures
    where = cfg.file
    da, ds = open_variable(cfg.file, cfg.variable, "hazard", cfg.format)
    missing = {"period", "return_period"} - set(da.dims)
    if missing:
        raise InputError(where, f"hazard.variable: [futures] needs dimensions period and "
                                f"return_period (and lat/lon or y/x); {sorted(missing)} missing")
    if "scenario" in da.dims:
        labels = [str(v) for v in da["scenario"].values]
        if fut.climate_scenario not in labels:
            raise InputError(where, f"futures.climate_scenario: {fut.climate_scenario!r} has "
                                    f"no data in the file (scenarios: {', '.join(labels)})")
        da = da.isel(scenario=labels.index(fut.climate_scenario))
    da = da.transpose("period", "return_period", ...)
    periods = np.asarray(da["period"].values, dtype=float)
    rps = np.asarray(da["return_period"].values, dtype=float)
    if (rps <= 1).any() or len(set(rps.tolist())) != rps.size:
        raise InputError(where, "hazard: return periods must be distinct and > 1 year")
    if len(set(periods.tolist())) != periods.size:
        raise InputError(where, "hazard: periods must be distinct years")
    da = da.isel(period=np.argsort(periods), return_period=np.argsort(rps))
    periods, rps = np.sort(periods), np.sort(rps)
    _check_years(scenario, periods, where)
    indexers, cell_site = _locate(da.isel(period=0, return_period=0), ds, cell_y, cell_x,
                                  cell_crs, cfg, where, "hazard")
    factor = si_factor(da.attrs.get("units"), cfg.units, cfg.kind, where, "hazard.units")
    maps = np.nan_to_num(np.asarray(_take(da, indexers).values, dtype=np.float32)) * \
        np.float32(factor)
    if (maps < 0).any():
        raise InputError(where, "hazard.variable: negative depths in the return-period maps")
    if (cell_site < 0).any():  # cells beyond every point: one all-zero site at the end
        maps = np.concatenate([maps, np.zeros((*maps.shape[:2], 1), np.float32)], axis=2)
        cell_site = np.where(cell_site < 0, maps.shape[2] - 1, cell_site)
    return FutureMaps(periods, rps, maps, cell_site.astype(np.int32), cfg.kind)


def _check_years(scenario: Scenario, periods: np.ndarray, where) -> None:
    fut = scenario.futures
    first = scenario.start_date.year
    last = (scenario.start_date + dt.timedelta(days=scenario.n_steps * scenario.step_days
                                               - 1)).year
    if fut.hold_period is not None and fut.hold_period not in periods:
        raise InputError(where, f"futures.hold_period: {fut.hold_period} is not a period of "
                                f"the file (periods: {', '.join(f'{p:g}' for p in periods)})")
    lo, hi = periods[0] - PERIOD_HALF_SPAN_YEARS, periods[-1] + PERIOD_HALF_SPAN_YEARS
    if first < lo or last > hi:
        raise InputError(where, f"futures.climate_scenario: the run's years {first}-{last} "
                                f"reach beyond the file's periods ({periods[0]:g}-"
                                f"{periods[-1]:g}, each standing for "
                                f"{PERIOD_HALF_SPAN_YEARS} years either side): no data for "
                                f"{first if first < lo else last}")


@dataclass(frozen=True)
class EventSeries:
    """A hazard made of events: each one map over the sites, on from step ``start`` to ``end``.

    Has the interface of :class:`~simulator.inputs.hazards.HazardSeries` that the model reads,
    holding only the events (decades of weekly or daily steps cost the events, not the steps).
    """

    maps: np.ndarray  #: (events, sites) float32
    start: np.ndarray  #: (events,) first step of each event
    end: np.ndarray  #: (events,) step after its last
    step_max: np.ndarray  #: (n_steps,) maximum over sites
    kind: str
    cell_site: np.ndarray
    fraction: None = None

    def at(self, step: int) -> np.ndarray:
        """Intensity at every populated cell during ``step`` (the worst of the events on)."""
        on = np.flatnonzero((self.start <= step) & (step < self.end))
        if on.size == 0:
            return np.zeros(self.cell_site.size, np.float32)
        return self.maps[on].max(axis=0)[self.cell_site]

    def fraction_at(self, step: int) -> None:
        """Events wet whole cells."""
        return None

    def peak(self) -> np.ndarray:
        """The worst intensity over the run at every populated cell."""
        if self.maps.shape[0] == 0:
            return np.zeros(self.cell_site.size, np.float32)
        return self.maps.max(axis=0)[self.cell_site]

    def peak_fraction(self) -> None:
        """Events wet whole cells."""
        return None

    @property
    def values(self) -> np.ndarray:
        """The dense (n_steps, sites) series, built on demand (figures of short runs)."""
        out = np.zeros((self.step_max.size, self.maps.shape[1]), np.float32)
        for m, a, b in zip(self.maps, self.start, self.end):
            np.maximum(out[a:b], m, out=out[a:b])
        return out


def sample_events(futures: FutureMaps, scenario: Scenario, seed: int) -> EventSeries:
    """Draw the run's flood events from the maps (module docstring), with the run's seed."""
    fut, step_days = scenario.futures, scenario.step_days
    streams = Streams(seed)
    start = scenario.start_date
    n_steps = scenario.n_steps
    end_day = n_steps * step_days
    freq = class_frequencies(futures.return_periods)
    classes = np.arange(freq.size)
    maps, first, after = [], [], []
    last_year = (start + dt.timedelta(days=end_day - 1)).year
    for y in range(start.year, last_year + 1):  # a loop over years, then over events
        counts = _poisson().ppf(streams.uniform("futures", y, classes), freq).astype(int)
        held = fut.hold_period is not None
        i, j, w = period_weights(float(fut.hold_period if held else y), futures.periods)
        for c in np.flatnonzero(counts):
            draws = streams.uniform("futures", y, 1000 * (1 + c) + np.arange(counts[c]))
            for u in draws:
                day0 = fut.season_start_day - 1 + int(u * (fut.season_days - fut.event_days + 1))
                first_day = (dt.date(y, 1, 1) + dt.timedelta(days=day0) - start).days
                last_day = first_day + fut.event_days  # exclusive
                if last_day <= 0 or first_day >= end_day:
                    continue
                a, b = max(first_day, 0) // step_days, (min(last_day, end_day) - 1) // step_days
                maps.append((1.0 - w) * futures.maps[i, c] + w * futures.maps[j, c])
                first.append(a)
                after.append(b + 1)
    maps_a = np.asarray(maps, np.float32).reshape(len(maps), futures.maps.shape[2])
    start_a, end_a = np.asarray(first, np.int64), np.asarray(after, np.int64)
    step_max = np.zeros(n_steps, np.float32)
    for m, a, b in zip(maps_a, start_a, end_a):
        step_max[a:b] = np.maximum(step_max[a:b], m.max(initial=0.0))
    return EventSeries(maps_a, start_a, end_a, step_max, futures.kind, futures.cell_site)



def read_income_growth(scenario: Scenario, region_names: list[str],
                       region_country: tuple[str, ...] | None) -> tuple[np.ndarray, np.ndarray]:
    """The income growth table (``people.income_growth_file``): see :func:`read_growth`."""
    return read_growth(scenario, "income_growth", region_names, region_country)


def read_population_growth(scenario: Scenario, region_names: list[str],
                           region_country: tuple[str, ...] | None
                           ) -> tuple[np.ndarray, np.ndarray]:
    """The population growth table (``people.population_growth_file``): see :func:`read_growth`.

    SSP population projections by country fit it (KC & Lutz 2017, Glob. Environ. Change
    42:181-192).
    """
    return read_growth(scenario, "population_growth", region_names, region_country)


def read_growth(scenario: Scenario, column: str, region_names: list[str],
                region_country: tuple[str, ...] | None) -> tuple[np.ndarray, np.ndarray]:
    """A yearly growth table: (years, (years, regions) growth shares per year).

    The file is ``people.<column>_file``: CSV columns ``region`` or ``country``, ``year`` and
    ``column`` (a share per year, e.g. 0.02; SSP projections by country fit it). Every region
    (or country) needs a row for every year a step of the run starts in, after the first: the
    growth applies at the first step of each new calendar year.

    Raises:
        InputError: for a missing column, an unknown region or country, a growth of -1 or
            below, or a region or year without a row (naming the first missing).
    """
    field = f"people.{column}_file"
    path = getattr(scenario.people, f"{column}_file")
    if not path.is_file():
        raise InputError(path, f"{field}: file not found")
    first = scenario.start_date.year
    last = (scenario.start_date + dt.timedelta(  # the year the last step starts in
        days=(scenario.n_steps - 1) * scenario.step_days)).year
    years = np.arange(first + 1, last + 1)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or ())
        key = "region" if "region" in cols else "country"
        if not {key, "year", column} <= cols:
            raise InputError(path, f"{field}: expected columns region (or country), year, "
                                   f"{column}; got {sorted(cols)}")
        names = region_names if key == "region" else list(dict.fromkeys(region_country or ()))
        table = np.full((years.size, len(names)), np.nan)
        for line, row in enumerate(reader, start=2):
            name = (row[key] or "").strip()
            try:
                year, g = int(row["year"]), float(row[column])
                if not np.isfinite(g):
                    raise ValueError(g)
            except (TypeError, ValueError):
                raise InputError(path, f"{field}: line {line}: year and {column} must be "
                                       f"numbers") from None
            if name not in names:
                raise InputError(path, f"{field}: line {line}: unknown {key} {name!r}")
            if not g > -1:
                raise InputError(path, f"{field}: line {line}: {column} {g} is not above -1")
            if first < year <= last:
                table[year - first - 1, names.index(name)] = g
    gaps = np.argwhere(np.isnan(table))
    if gaps.size:
        y, r = gaps[0]
        raise InputError(path, f"{field}: no row for {key} {names[r]!r} in {years[y]} (every "
                               f"{key} needs every year {years[0]}-{years[-1]})")
    if key == "country":
        index = {c: i for i, c in enumerate(names)}
        table = table[:, [index[c] for c in region_country]]
    return years, table


def _poisson():
    """scipy.stats' Poisson law, imported only when events are sampled.

    scipy.stats takes 0.5 s to import, a tenth of a Flee-scale run.
    """
    from scipy.stats import poisson

    return poisson
