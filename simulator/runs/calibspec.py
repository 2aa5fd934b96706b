"""What a calibration fits, to what, and how it is scored: checked before anything runs.

``climdisp calibrate`` (:mod:`simulator.runs.calibrate`) reads a scenario, an observed series
and parameter bounds into a :class:`Plan`. Every problem is an :class:`InputError` naming the
option (``--params``, ``--observed``, ``--holdout-from``) or file, the field and what was
expected, so a calibration never starts on bad input.

- Parameters: ``name=low:high`` (a dotted scenario path as in ``--set``; integer bounds give
  integer values), or a bare ``name`` whose range comes from the parameter table
  (``simulator.inputs.parameters.parameter_table``).
- Observed series: the observations CSV of ``inputs/observations.py`` (``date``, one column per
  region), compared with the :data:`MEASURES` named by ``--measure``.
- Hold-out: the scored steps from a date (or a fraction of the way through the observed period)
  on are held out: fitted on the steps before, scored on both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import InputError
from simulator.inputs.config import apply_overrides, load_scenario
from simulator.inputs.load import region_names
from simulator.inputs.observations import Observed, observation_days, read_observations
from simulator.inputs.parameters import parameter_table
from simulator.inputs.schema import Scenario

#: What an observed column is compared with: persons whose home region it is, by state, or
#: persons staying in the region, by place (Flee's camp counts are ``camp``).
MEASURES = ("displaced", "evacuated", "host", "shelter", "camp", "rental", "self_arranged",
            "unsheltered")
OBJECTIVES = ("ard", "ard_rescaled", "poisson")
SAMPLERS = ("tpe", "cmaes")


@dataclass(frozen=True)
class Bound:
    """One fitted parameter: its dotted scenario path (as written) and range."""

    name: str
    low: float
    high: float
    integer: bool  #: both bounds were integers: only integer values are tried


@dataclass(frozen=True)
class Target:
    """The observed series on the model's steps, and which steps train and which hold out."""

    observed: Observed  #: persons per step and observed region (interpolated between dates)
    measure: str
    train: np.ndarray  #: (n_steps,) bool: steps scored for the fit
    holdout: np.ndarray  #: (n_steps,) bool: steps scored only to report (may be all False)
    split_step: int | None  #: first hold-out step, or None without a hold-out
    sha256: str  #: of the observed file


@dataclass(frozen=True)
class Plan:
    """A checked calibration: base scenario, bounds, target and the search's settings."""

    scenario_path: Path
    scenario: Scenario
    bounds: list[Bound]
    target: Target
    objective: str
    trials: int
    batch: int
    seed: int
    tolerance: float
    sampler: str = "tpe"


def _number(text: str) -> int | float:
    value = tomllib.loads(f"v = {text.strip()}")["v"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(text)
    return value


def table_bound(name: str, scenario: Scenario) -> Bound:
    """A bare name's range from the parameter table (:mod:`simulator.inputs.parameters`).

    Raises:
        InputError: when the table does not list ``name``, or the scenario's own value of it
            lies outside the table's range.
    """
    try:
        table = parameter_table(scenario)
    except ValueError as exc:
        raise InputError("--params", str(exc)) from None
    if name not in table:
        raise InputError("--params", f"parameter {name} is not in the parameter table; give "
                                     f"bounds: {name}=low:high")
    p = table[name]
    integer = isinstance(p.low, int) and isinstance(p.high, int)
    return Bound(name, p.low, p.high, integer)


def parse_bound(text: str, scenario: Scenario) -> Bound:
    """``name=low:high`` (or a bare ``name``, see :func:`table_bound`) checked on ``scenario``.

    Raises:
        InputError: for a malformed range, low >= high, or a name or value the scenario
            rejects (an unknown field, a value out of the field's range).
    """
    name, eq, rng = text.rpartition("=")
    if not eq:
        bound = table_bound(text.strip(), scenario)
    else:
        lo_text, colon, hi_text = rng.partition(":")
        try:
            if not colon or not name.strip():
                raise ValueError(text)
            lo, hi = _number(lo_text), _number(hi_text)
        except (ValueError, tomllib.TOMLDecodeError):
            raise InputError("--params", f"{text}: expected name=low:high with numbers, e.g. "
                                         "impact.damage_threshold=0.3:0.7") from None
        bound = Bound(name.strip(), lo, hi, isinstance(lo, int) and isinstance(hi, int))
    if not bound.low < bound.high:
        raise InputError("--params", f"{bound.name}: empty range {bound.low}:{bound.high} "
                                     "(need low < high)")
    for value in (bound.low, bound.high):
        try:
            apply_overrides(scenario, [f"{bound.name}={value!r}"])
        except InputError as exc:
            raise InputError("--params", f"{bound.name}={value!r}: {exc.message}") from None
    return bound


def _holdout_step(spec: str | None, days: np.ndarray, scored: np.ndarray,
                  scenario: Scenario) -> int | None:
    """The first hold-out step for ``--holdout-from`` (a date, a fraction, or none)."""
    if spec is None or spec.strip().lower() == "none":
        return None
    steps = np.flatnonzero(scored)
    try:
        frac = float(spec)
    except ValueError:
        frac = None
    if frac is not None:
        if not 0 < frac < 1:
            raise InputError("--holdout-from", f"expected a fraction between 0 and 1 (exclusive) "
                                               f"or a date YYYY-MM-DD, got {spec}")
        split = int(steps[0] + round(frac * len(steps)))
    else:
        try:
            day = (dt.date.fromisoformat(spec.strip()) - scenario.start_date).days
        except ValueError:
            raise InputError("--holdout-from", f"expected a date YYYY-MM-DD or a fraction, "
                                               f"got {spec!r}") from None
        split = -(-day // scenario.step_days)
    if not steps[0] < split <= steps[-1]:
        first = scenario.start_date + dt.timedelta(days=int(days.min()))
        last = scenario.start_date + dt.timedelta(days=int(days.max()))
        raise InputError("--holdout-from", f"{spec}: leaves no steps to fit or none to hold out; "
                                           f"the observations run from {first} to {last}")
    return split


def read_target(path: Path, scenario: Scenario, measure: str,
                holdout_from: str | None) -> Target:
    """The observed series, its scored steps and the hold-out split.

    Steps are scored from the first to the last observed date (values in between are
    interpolated linearly, as for ``[observations]``).

    Raises:
        InputError: for a missing or malformed file, a column that is not a region, a date
            outside the run, an unknown measure, or a hold-out that leaves nothing on one side.
    """
    if measure not in MEASURES:
        raise InputError("--measure", f"expected one of {', '.join(MEASURES)}, got {measure!r}")
    field = "--observed"
    days = observation_days(path, scenario, field)
    end = scenario.n_steps * scenario.step_days
    outside = np.flatnonzero((days < 0) | (days >= end))
    if outside.size:
        line = int(outside[0]) + 2
        date = scenario.start_date + dt.timedelta(days=int(days[outside[0]]))
        last = scenario.start_date + dt.timedelta(days=end - 1)
        raise InputError(path, f"{field}: line {line}: date {date} is outside the run "
                               f"({scenario.start_date} to {last})")
    observed = read_observations(path, scenario, region_names(scenario), field)
    start_days = np.arange(scenario.n_steps) * scenario.step_days
    scored = (start_days >= days.min()) & (start_days <= days.max())
    if not scored.any():
        raise InputError(path, f"{field}: the observed dates fall between two step starts; "
                               "give at least one date on a step's first day")
    split = _holdout_step(holdout_from, days, scored, scenario)
    step = np.arange(scenario.n_steps)
    hold = scored & (step >= split) if split is not None else np.zeros_like(scored)
    return Target(observed, measure, scored & ~hold, hold, split,
                  hashlib.sha256(path.read_bytes()).hexdigest())


def make_plan(scenario_path: Path, observed: Path, params: list[str], *, measure: str,
              objective: str, holdout_from: str | None, trials: int, batch: int, seed: int,
              tolerance: float, sampler: str = "tpe",
              overrides: tuple[str, ...] = ()) -> Plan:
    """Read and check everything a calibration needs (see the module docstring).

    Raises:
        InputError: naming the option or file, the field and what was expected.
    """
    for option, value, least in (("--trials", trials, 1), ("--batch", batch, 1),
                                 ("--seed", seed, 0)):
        if value < least:
            raise InputError(option, f"expected an integer >= {least}, got {value}")
    if objective not in OBJECTIVES:
        raise InputError("--objective", f"expected one of {', '.join(OBJECTIVES)}, "
                                        f"got {objective!r}")
    if sampler not in SAMPLERS:
        raise InputError("--sampler", f"expected one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if not tolerance >= 0:
        raise InputError("--tolerance", f"expected a number >= 0, got {tolerance}")
    if not params:
        raise InputError("--params", "give at least one parameter, e.g. "
                                     "impact.damage_threshold=0.3:0.7")
    scenario = load_scenario(scenario_path, list(overrides))
    bounds = [parse_bound(text, scenario) for text in params]
    names = [b.name for b in bounds]
    if len(set(names)) < len(names):
        raise InputError("--params", f"{next(n for n in names if names.count(n) > 1)}: "
                                     "given twice")
    if sampler == "cmaes" and len(bounds) < 2:
        raise InputError("--sampler", "cmaes needs two or more parameters (optuna's CMA-ES "
                                      "samples a single one at random); use tpe")
    target = read_target(Path(observed), scenario, measure, holdout_from)
    return Plan(Path(scenario_path).resolve(), scenario, bounds, target, objective, trials,
                batch, seed, tolerance, sampler)
