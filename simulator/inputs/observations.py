"""Observed series: prescribed displacement per day, and observations to validate a run against.

Both are CSV files with a ``date`` column (YYYY-MM-DD):

- ``impact.prescribed_file``: ``date,persons``, new displaced persons per day (Flee's validation
  runs spawn the day-on-day increase of the observed refugee count). Days are summed into
  model steps.
- ``observations.file``: ``date`` then one column per region name (persons observed there, e.g.
  in its camps), optionally ``raw`` (the observed stock) and ``debt`` (Flee's refugee debt).
  Values are interpolated linearly to each step's start date and held beyond the ends, as
  Flee's DataTable does.

A run with observations gets Flee's ``out.csv`` and the averaged relative difference (ARD,
Suleimenova, Bell & Groen 2017) in its manifest (``simulator.interop.validation.validate``).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.inputs.schema import Scenario


def _rows(path: Path, field: str, needed: tuple[str, ...]) -> tuple[list[str], list[dict]]:
    if not path.is_file():
        raise InputError(path, f"{field}: file not found")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip() for c in reader.fieldnames or ()]
        missing = [c for c in needed if c not in columns]
        if missing:
            raise InputError(path, f"{field}: missing column(s) {missing} (header: "
                                   f"{','.join(columns)})")
        return columns, [{k.strip(): v for k, v in row.items()} for row in reader]


def _day(path: Path, field: str, line: int, text: str, start: dt.date) -> int:
    try:
        return (dt.date.fromisoformat((text or "").strip()) - start).days
    except ValueError:
        raise InputError(path, f"{field}: line {line}: date {text!r} is not YYYY-MM-DD") from None


def _number(path: Path, field: str, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = -1.0
    if not (value >= 0 and np.isfinite(value)):
        raise InputError(path, f"{field}: line {line}: column {column!r}: expected persons >= 0, "
                               f"got {text!r}")
    return value


def read_series(path: Path, scenario: Scenario) -> np.ndarray:
    """Persons per model step from a ``date,persons`` CSV of persons per day.

    Raises:
        InputError: for a missing file or column, a bad date or count, or no day in the run.
    """
    field = "impact.prescribed_file"
    _, rows = _rows(path, field, ("date", "persons"))
    out = np.zeros(scenario.n_steps)
    inside = 0
    for line, row in enumerate(rows, start=2):
        day = _day(path, field, line, row["date"], scenario.start_date)
        persons = _number(path, field, line, "persons", row["persons"])
        if 0 <= day < scenario.n_steps * scenario.step_days:
            out[day // scenario.step_days] += persons
            inside += 1
    if inside == 0:
        raise InputError(path, f"{field}: no date falls within the run from "
                               f"{scenario.start_date} ({scenario.n_steps} steps)")
    return out


@dataclass(frozen=True)
class Observed:
    """Observed persons per region at each step's start (interpolated), plus Flee's extras."""

    regions: list[str]  #: region names, in file order
    persons: np.ndarray  #: (n_steps, regions)
    raw: np.ndarray | None  #: (n_steps,) observed stock, or None
    debt: np.ndarray | None  #: (n_steps,) Flee's refugee debt, or None


def read_observations(path: Path, scenario: Scenario, names: list[str],
                      field: str = "observations.file") -> Observed:
    """Read an observations CSV (``date``, one column per region, optional ``raw``, ``debt``).

    ``field`` is the setting named in errors (``climdisp calibrate`` passes ``--observed``).

    Raises:
        InputError: for a missing file, a column that is not a region, a bad date or count.
    """
    columns, rows = _rows(path, field, ("date",))
    regions = [c for c in columns if c not in ("date", "raw", "debt")]
    unknown = [c for c in regions if c not in names]
    if unknown or not regions:
        raise InputError(path, f"{field}: column {unknown[0] if unknown else '(none)'!r} is "
                               f"not a region (regions: {', '.join(names)})")
    if not rows:
        raise InputError(path, f"{field}: no rows")
    days = np.array([_day(path, field, i, r["date"], scenario.start_date)
                     for i, r in enumerate(rows, start=2)])
    order = np.argsort(days, kind="stable")
    steps = np.arange(scenario.n_steps) * scenario.step_days

    def series(column: str) -> np.ndarray:
        values = np.array([_number(path, field, i, column, r[column])
                           for i, r in enumerate(rows, start=2)])
        return np.interp(steps, days[order], values[order])

    extra = {c: series(c) if c in columns else None for c in ("raw", "debt")}
    return Observed(regions, np.stack([series(c) for c in regions], axis=1), **extra)



def observation_days(path: Path, scenario: Scenario,
                     field: str = "observations.file") -> np.ndarray:
    """The days (from the run's start, in file order) of an observations CSV's rows.

    Raises:
        InputError: for a missing file, no ``date`` column, or a date that is not YYYY-MM-DD.
    """
    _, rows = _rows(path, field, ("date",))
    return np.array([_day(path, field, i, r["date"], scenario.start_date)
                     for i, r in enumerate(rows, start=2)], dtype=np.int64)
