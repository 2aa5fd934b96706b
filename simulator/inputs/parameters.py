"""The uncertain parameters: default, plausible range, distribution and source of each.

The table is package data (``simulator/inputs/parameters.csv``, rendered in
``docs/parameters.md``): every uncertain parameter of impacts, behaviour, warning and recovery,
named by its scenario field path as ``--set`` takes it (``impact.damage_threshold``). Planner
choices (capacities, levers, lead times) are not uncertain parameters and are not in it.

A scenario narrows or changes the table in an optional ``[uncertainty]`` section::

    [uncertainty]
    parameters = ["impact.damage_threshold", "return.repair_days_total_loss"]  # a subset
    [uncertainty.ranges]
    "impact.damage_threshold" = [0.4, 0.6]

:func:`parameter_table` applies it: the subset, the ranges, and the scenario's own value as
each parameter's default (the mode of a triangular distribution).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import numpy as np

#: Distributions a parameter may have; ``triangular`` peaks at the default.
DISTRIBUTIONS = ("uniform", "triangular", "loguniform", "int-uniform")
COLUMNS = ("name", "default", "low", "high", "distribution", "source", "description")


@dataclass(frozen=True)
class Parameter:
    """One uncertain parameter: a scenario field, its default, range, distribution and source."""

    name: str  #: scenario field path as used by --set, e.g. "impact.damage_threshold"
    default: float  #: the schema default (or the scenario's value, from parameter_table)
    low: float
    high: float
    distribution: str  #: one of DISTRIBUTIONS
    source: str  #: citation, or "assumption: <why>"
    description: str  #: what it is, with units


def check(p: Parameter) -> None:
    """Raise ValueError naming ``p`` if its range, default or distribution is not usable."""
    if p.distribution not in DISTRIBUTIONS:
        raise ValueError(f"{p.name}: unknown distribution {p.distribution!r} "
                         f"(one of {', '.join(DISTRIBUTIONS)})")
    if not (math.isfinite(p.low) and math.isfinite(p.high) and p.low < p.high):
        raise ValueError(f"{p.name}: empty range [{p.low}, {p.high}] (need lower < upper)")
    if p.distribution == "loguniform" and p.low <= 0:
        raise ValueError(f"{p.name}: a loguniform range needs lower > 0, got {p.low}")
    if p.distribution == "int-uniform" and not (p.low.is_integer() and p.high.is_integer()):
        raise ValueError(f"{p.name}: an int-uniform range needs whole numbers, got "
                         f"[{p.low}, {p.high}]")
    if not p.low <= p.default <= p.high:
        raise ValueError(f"{p.name}: the value {p.default:g} lies outside the range "
                         f"[{p.low:g}, {p.high:g}]")


def read_table(text: str) -> dict[str, Parameter]:
    """Parse the parameter table (CSV with :data:`COLUMNS`), checking every row."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"parameter table: expected the columns {', '.join(COLUMNS)}")
    table = {}
    for row in rows:
        p = Parameter(name=row["name"], default=float(row["default"]), low=float(row["low"]),
                      high=float(row["high"]), distribution=row["distribution"],
                      source=row["source"], description=row["description"])
        check(p)
        if p.name in table:
            raise ValueError(f"parameter table: {p.name} is listed twice")
        table[p.name] = p
    return table


def shipped_table() -> dict[str, Parameter]:
    """The table shipped with the package, with the schema defaults."""
    text = resources.files("simulator.inputs").joinpath("parameters.csv").read_text("utf-8")
    return read_table(text)


def field_value(data: dict[str, Any], name: str) -> Any:
    """The value at dotted path ``name`` in a scenario dumped with aliases (KeyError if none)."""
    value: Any = data
    for key in name.split("."):
        if not isinstance(value, dict):
            raise KeyError(name)
        value = value[key]
    return value


def for_scenario(table: dict[str, Parameter], data: dict[str, Any],
                 parameters: tuple[str, ...] | None = None,
                 ranges: dict[str, tuple[float, float]] | None = None) -> dict[str, Parameter]:
    """``table`` as a scenario sees it: a subset, its ranges and its values as the defaults.

    Args:
        table: the parameter table.
        data: the scenario, ``model_dump(by_alias=True)``.
        parameters: the names to keep (default: all whose field the scenario sets).
        ranges: ``[low, high]`` by name, replacing the table's.

    Raises:
        ValueError: naming ``uncertainty.<field>.<parameter>``: an unknown name, a bad range, or
            a scenario value outside its range.
    """
    ranges = ranges or {}
    for field, names in (("parameters", parameters or ()), ("ranges", ranges)):
        unknown = [n for n in names if n not in table]
        if unknown:
            raise ValueError(f"uncertainty.{field}: {unknown[0]}: not an uncertain parameter "
                             f"(the table in docs/parameters.md names them)")
    out = {}
    for name in parameters or table:
        value = field_value(data, name)
        if value is None:  # a field the scenario switches off (e.g. home_lost_after_wet_days)
            if parameters is not None or name in ranges:
                raise ValueError(f"uncertainty.parameters: {name}: the scenario leaves this "
                                 f"field unset, so it cannot vary")
            continue
        low, high = ranges.get(name, (table[name].low, table[name].high))
        p = replace(table[name], default=float(value), low=float(low), high=float(high))
        try:
            check(p)
        except ValueError as exc:
            hint = ("" if name in ranges else f"; give [uncertainty.ranges] \"{name}\" = "
                    "[lower, upper] holding it, or leave it out of [uncertainty] parameters")
            raise ValueError(f"uncertainty.ranges: {exc}{hint}") from None
        out[name] = p
    return out


def parameter_table(scenario: Any = None) -> dict[str, Parameter]:
    """The uncertain parameters by name; with a scenario, its ``[uncertainty]`` applied.

    Args:
        scenario: a validated :class:`~simulator.inputs.schema.Scenario`, or None for the
            shipped table with the schema defaults.

    Raises:
        ValueError: when the scenario's value of a parameter lies outside its range (see
            :func:`for_scenario`).
    """
    table = shipped_table()
    if scenario is None:
        return table
    unc = getattr(scenario, "uncertainty", None)
    return for_scenario(table, scenario.model_dump(mode="json", by_alias=True),
                        None if unc is None else unc.parameters,
                        None if unc is None else unc.ranges)


def from_unit(p: Parameter, u: np.ndarray) -> np.ndarray:
    """Values of ``p`` at quantiles ``u`` in [0, 1) of its distribution (inverse CDF).

    ``triangular`` peaks at the default; ``loguniform`` is uniform in log(value);
    ``int-uniform`` gives each whole number from low to high the same chance.
    """
    u = np.asarray(u, dtype=float)
    if p.distribution == "uniform":
        x = p.low + u * (p.high - p.low)
    elif p.distribution == "triangular":
        from scipy.stats import triang

        width = p.high - p.low
        x = triang.ppf(u, (p.default - p.low) / width, loc=p.low, scale=width)
    elif p.distribution == "loguniform":
        x = np.exp(np.log(p.low) + u * (np.log(p.high) - np.log(p.low)))
    else:
        x = np.floor(p.low + u * (p.high - p.low + 1))
    return np.clip(x, p.low, p.high)


def markdown_table(table: dict[str, Parameter]) -> str:
    """The table as Markdown (docs/parameters.md holds it; a test keeps the two equal)."""
    head = ("| parameter | default | low | high | distribution | description | source |\n"
            "|---|---|---|---|---|---|---|\n")
    return head + "".join(
        f"| `{p.name}` | {p.default:g} | {p.low:g} | {p.high:g} | {p.distribution} | "
        f"{p.description} | {p.source} |\n" for p in table.values())
