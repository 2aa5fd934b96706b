"""Observed counts of a Flee case (``source_data/``) and the daily spawning Flee derives from them.

Both halves reproduce Flee's DataTable (flee/datamanager/DataTable.py): the interpolated daily
series of ``get_interpolated_data``, and the day-on-day change of ``get_daily_difference`` that
flee/spawning.py's ``spawn_daily_displaced`` turns into new agents in validation runs. The
registration corrections of ``input_csv/registration_corrections.csv`` are applied to the
observed counts first, as Flee's run.py does before it spawns or scores anything. The
conversion (:mod:`simulator.interop.flee.convert`) makes the latter a prescribed displacement
series and the former the observations a run is scored against.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.interop.flee.settings import FleeSettings
from simulator.interop.flee.tables import bad, cell, integer, parse_date, required, rows


@dataclass(frozen=True, eq=False)
class FleeObservations:
    """Observed counts (persons) from source_data/, daily, interpolated as Flee's DataTable does."""

    locations: tuple[str, ...]  #: data_layout.csv rows after "total", in file order
    total: np.ndarray  #: (days,) int64, the "total" series (usually refugees.csv)
    counts: np.ndarray  #: (days, len(locations)) int64

    def of(self, name: str) -> np.ndarray:
        """The daily series of one location (persons)."""
        return self.counts[:, self.locations.index(name)]


def read_source_data(source: Path, start: date, n_days: int, names: Collection[str],
                     camps: Sequence[str], notes: list[str], corrections: Path | None = None
                     ) -> FleeObservations | None:
    """Read ``source/data_layout.csv`` and the series it names, on days 0..n_days-1.

    As in Flee (DataTable), the first row is the total whatever its name; a later row naming
    no location is not read. Both are reported in ``notes``. The registration corrections in
    ``corrections`` (if the file exists) are applied to the observed counts before they are
    interpolated, each reported in ``notes`` (:func:`corrected_registrations`).

    Args:
        source: the case's source_data/ folder.
        start: date of day 0.
        n_days: length of the run (days).
        names: every location name of locations.csv.
        camps: the camp names, each of which needs a data series (as in Flee).
        notes: where notes on what was tolerated go.
        corrections: the case's registration_corrections.csv, if any.

    Returns:
        The observations, or None without data_layout.csv.

    Raises:
        InputError: for a malformed layout, a missing or malformed series file, or a
            correction Flee cannot apply.
    """
    layout = source / "data_layout.csv"
    if not layout.is_file():
        if corrections is not None and _correction_rows(corrections):
            notes.append(f"{corrections.name}: {len(_correction_rows(corrections))} "
                         "registration correction(s) not applied: no source_data/ to correct")
        return None
    listed: dict[str, tuple[int, str]] = {}
    first, unread = "", set()
    for line, cells in rows(layout):
        if cells[0].startswith("#"):
            continue
        files = [c for c in cells[1:] if c]
        if len(files) != 1:
            raise InputError(layout, f"line {line}: expected '<name>,<file>.csv' (one file per "
                                     f"row), got {','.join(cells)!r}")
        name = cells[0] if listed else "total"
        first = first or cells[0]
        if name != cells[0]:
            also = f" and as {cells[0]}'s series" if cells[0] in names else ""
            notes.append(f"{layout.name} line {line}: first row {cells[0]!r} read as the "
                         f"total{also} (Flee takes the first row as the total, whatever its "
                         "name)")
            if also:
                listed["total"] = (line, files[0])
                listed[cells[0]] = (line, files[0])
                continue
        elif name in listed:
            raise InputError(layout, f"line {line}: {cells[0]!r} is listed twice")
        if listed and name not in names:
            notes.append(f"{layout.name} line {line}: {name!r} names no location in "
                         "locations.csv: its series is not read")
            unread.add(name)
            continue
        listed[name] = (line, files[0])
    for camp in camps:
        if camp not in listed:
            raise InputError(layout, f"no row for camp {camp!r} (Flee compares every camp "
                                     "with a data series)")
    raw = {name: _read_series(source / file, start, layout, line)
           for name, (line, file) in listed.items()}
    if corrections is not None:
        _correct(corrections, start, raw, first, unread, notes)
    series = [_interpolate(days, counts, n_days) for days, counts in raw.values()]
    return FleeObservations(tuple(listed)[1:], series[0],
                            np.stack(series[1:], axis=1) if len(series) > 1
                            else np.zeros((n_days, 0), np.int64))


def _read_series(path: Path, start: date, layout: Path, layout_line: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The observation days (since ``start``) and counts (persons, as floats) of one file."""
    days: list[int] = []
    counts: list[int] = []
    for line, cells in rows(required(path, f"named on line {layout_line} of {layout}")):
        if (len(cells) < 2 or not cells[1] or cells[0].startswith("#")
                or (not days and cells[0] in ("Date", "DateTime"))):
            continue
        when = cell(path, line, "date", cells[0], parse_date, "a date YYYY-MM-DD")
        if days and (when - start).days <= days[-1]:
            raise bad(path, line, "date", "dates in increasing order", cells[0])
        days.append((when - start).days)
        counts.append(cell(path, line, "count", cells[1], integer(0),
                           "a whole number of persons >= 0"))
    if not days:
        raise InputError(path, "no data rows (expected lines 'YYYY-MM-DD,<count>')")
    return np.array(days), np.array(counts, dtype=float)


def corrected_registrations(days: np.ndarray, counts: np.ndarray, day: int) -> np.ndarray:
    """Counts of one observed series corrected for a change of registration at ``day``.

    Flee's level-1 registration correction (flee/datamanager/handle_refugee_data.py,
    ``RefugeeTable.correctLevel1Registrations``, called by ``ReadL1Corrections`` for each row
    ``camp,date,...`` of registration_corrections.csv before any spawning or scoring): when
    ``day`` is the i-th observation day (i > 0), every count observed before it is multiplied
    by ``counts[i] / counts[i - 1]``, so the series no longer steps at ``day`` (the last count
    before it becomes ``counts[i]``) and the earlier counts keep their proportions. The counts
    are floats, as in Flee, and truncated only when interpolated. The third column of the file
    (``normalize``) is not read by Flee.

    Args:
        days: observation days (since day 0), increasing.
        counts: counts observed on those days (persons).
        day: the day of the first count under the new registration.

    Returns:
        The corrected counts (a new array).

    Raises:
        ValueError: when ``day`` is not an observation day after the first, or the count
            before it is 0 (Flee stops with an error or divides by 0).
    """
    found = np.flatnonzero(days == day)
    at = int(found[0]) if len(found) else 0
    if at < 1:
        raise ValueError(f"day {day} is not an observation day after the first "
                         f"(observed on days {days.min()}..{days.max()})")
    if counts[at - 1] == 0:
        raise ValueError(f"the count before day {day} is 0: nothing to rescale by")
    out = counts.copy()
    out[:at] *= counts[at] / counts[at - 1]
    return out


def _correction_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The rows of registration_corrections.csv that Flee applies (two cells or more)."""
    if not path.is_file():
        return []
    return [(line, cells) for line, cells in rows(path)
            if len(cells) > 1 and not cells[0].startswith("#")]


def _correct(path: Path, start: date, raw: dict[str, tuple[np.ndarray, np.ndarray]],
             first: str, unread: set[str], notes: list[str]) -> None:
    """Apply each correction of ``path`` to the series it names in ``raw``, noting its effect.

    The layout's first row is the total whatever its name, so a correction naming it corrects
    the total (and that location's series, read from the same file).
    """
    for line, cells in _correction_rows(path):
        name = cells[0]
        when = cell(path, line, "date", cells[1], parse_date, "a date YYYY-MM-DD")
        keys = [k for k in dict.fromkeys((name, "total" if name == first else name)) if k in raw]
        if not keys:
            if name in unread:
                notes.append(f"{path.name} line {line}: {name!r} not corrected: its series is "
                             "not read")
                continue
            raise InputError(path, f"line {line}: {name!r} names no row of data_layout.csv "
                                   "(Flee stops at it)")
        for key in keys:
            days, counts = raw[key]
            try:
                raw[key] = days, corrected_registrations(days, counts, (when - start).days)
            except ValueError as e:
                raise InputError(path, f"line {line}: {name} on {when}: {e} in its "
                                       "source_data series (Flee stops at it)") from None
        at = int(np.flatnonzero(days == (when - start).days)[0])
        notes.append(f"{path.name} line {line}: {name}'s counts before {when} multiplied by "
                     f"{counts[at] / counts[at - 1]:.4g} (Flee's registration correction): its "
                     f"step of {int(counts[at] - counts[at - 1]):+d} persons that day "
                     f"({int(counts[at - 1])} to {int(counts[at])}) is not counted as people "
                     "leaving or arriving")


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
