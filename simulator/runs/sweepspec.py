"""Sweep specifications: a base scenario, parameters to vary, replicates -> a list of runs.

A sweep file is TOML::

    base = "../demo.toml"                 # the scenario every run starts from
    replicates = 2                        # seeds per point, derived from the base seed
    set = ["n_steps=150"]                 # fixed overrides for every run (like --set)

    [grid]                                # full factorial over lists of values
    "impact.damage_threshold" = [0.45, 0.55, 0.65]

    # or, instead of [grid], a sample through SALib:
    [sample]
    method = "sobol"                      # "latin", "sobol" or "morris"
    n = 8                                 # base sample size
    seed = 1
    [sample.ranges]
    "capacity.default.shelter" = [1000, 8000]   # integer bounds -> integer values

Each run is keyed by a hash of its resolved scenario (which includes its seed), so the same
point and seed always map to the same run folder.
"""

from __future__ import annotations

import hashlib
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulator.errors import InputError
from simulator.inputs.config import (
    PATH_FIELDS,
    dump_toml,
    load_scenario,
    parse_override,
    split_path,
)
from simulator.inputs.load import region_names
from simulator.inputs.schema import Scenario
from simulator.levers import check_region_names
from simulator.rng import replicate_seeds


class SampleSpec(BaseModel):
    """A SALib sample over parameter ranges."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    method: Literal["latin", "sobol", "morris"]
    n: int = Field(gt=0, le=100_000)
    seed: int = Field(default=0, ge=0)
    ranges: dict[str, tuple[float, float]]


class SweepFile(BaseModel):
    """The sweep file's schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    base: Path
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    replicates: int = Field(default=1, gt=0, le=10_000)
    set: tuple[str, ...] = ()
    grid: dict[str, list[Any]] | None = None
    sample: SampleSpec | None = None


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep: its parameters, replicate, seed, resolved scenario and key."""

    index: int
    point: int
    replicate: int
    seed: int
    params: dict[str, Any]
    config_toml: str
    run_id: str


@dataclass(frozen=True)
class Sweep:
    """An expanded sweep: the runs in a fixed order, and what is needed to analyse them."""

    path: Path
    name: str
    method: str  #: "grid", "latin", "sobol", "morris" or "replicates"
    parameters: list[str]
    tasks: list[RunTask]
    problem: dict | None = None  #: SALib problem for sobol/morris
    samples: np.ndarray | None = field(default=None, repr=False)


#: Most runs one sweep may hold: its task list is built in memory before anything runs.
MAX_RUNS = 1_000_000


def section_of(method: str) -> str:
    """The sweep file section that holds the parameters of a sweep ``method``."""
    return "grid" if method == "grid" else "sample.ranges"


def task_for(cfg: Scenario, index: int, point: int, replicate: int,
             params: dict[str, Any]) -> RunTask:
    """The run of ``cfg`` (seed included): its resolved TOML and the id hashed from it."""
    text = dump_toml(cfg)
    return RunTask(index=index, point=point, replicate=replicate, seed=cfg.seed,
                   params=dict(params), config_toml=text, run_id=run_key(text))


def run_key(config_toml: str) -> str:
    """Run id: the first 16 hex digits of SHA-256 of the resolved scenario (seed included)."""
    return hashlib.sha256(config_toml.encode()).hexdigest()[:16]


def _read(path: Path) -> SweepFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "sweep file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"malformed TOML: {exc}") from None
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise InputError(path, f"{loc}: {msg}") from None
    if (spec.grid is None) + (spec.sample is None) == 0:
        raise InputError(path, "give either [grid] or [sample], not both")
    return spec


def _points(spec: SweepFile, path: Path) -> tuple[str, list[str], list[dict], dict | None,
                                                  np.ndarray | None]:
    if spec.grid is not None:
        if not spec.grid:
            raise InputError(path, "grid: no parameters; give at least one list of values (a "
                                   "sweep of seeds only: leave out [grid] and set replicates)")
        for key, values in spec.grid.items():
            if not values:
                raise InputError(path, f"grid.{key}: empty list of values")
        n_points = int(np.prod([len(v) for v in spec.grid.values()], dtype=float))
        if n_points * spec.replicates > MAX_RUNS:
            raise InputError(path, f"grid: {n_points:,} points x {spec.replicates} replicates is "
                                   f"more than {MAX_RUNS:,} runs in one sweep; split it")
        names = list(spec.grid)
        combos = itertools.product(*spec.grid.values())
        return "grid", names, [dict(zip(names, c)) for c in combos], None, None
    if spec.sample is None:
        if spec.replicates < 2:
            raise InputError(path, "give [grid] or [sample] (or replicates >= 2 for a sweep of "
                                   "seeds); this sweep would run only the base scenario once")
        return "replicates", [], [{}], None, None
    s = spec.sample
    if not s.ranges:
        raise InputError(path, "sample.ranges: no parameters to sample")
    for key, (lo, hi) in s.ranges.items():
        if not hi > lo:
            raise InputError(path, f"sample.ranges.{key}: empty range [{lo}, {hi}] "
                                   f"(need lower < upper)")
    names = list(s.ranges)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(b) for b in
                                                                  s.ranges.values()]}
    if s.method == "latin":
        from SALib.sample import latin
        x = latin.sample(problem, s.n, seed=s.seed)
    elif s.method == "sobol":
        from SALib.sample import sobol
        x = sobol.sample(problem, s.n, calc_second_order=False, seed=s.seed)
    else:
        from SALib.sample import morris
        x = morris.sample(problem, s.n, seed=s.seed)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["sample"]["ranges"]
    integer = [all(isinstance(b, int) for b in raw[k]) for k in names]
    points = [{k: (int(round(v)) if is_int else float(v))
               for k, v, is_int in zip(names, row, integer)} for row in x]
    x = np.array([[pt[k] for k in names] for pt in points], dtype=float)  # values as run
    return s.method, names, points, problem, x


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, expand it and validate every run's scenario before anything runs.

    Raises:
        InputError: naming the sweep file and the parameter path of the first problem (an
            unknown parameter path, an empty list or range, a value the scenario rejects).
    """
    path = Path(path).resolve()
    spec = _read(path)
    base = (path.parent / spec.base).resolve()
    method, names, points, problem, x = _points(spec, path)
    fixed = [_anchored(text, path.parent) for text in spec.set]
    base_cfg = load_scenario(base, fixed)
    regions = region_names(base_cfg)
    tasks = []
    for p, point in enumerate(points):
        overrides = [*fixed, *(_anchored(f"{k}={_toml_value(v)}", path.parent)
                               for k, v in point.items())]
        try:
            cfg = load_scenario(base, overrides)
        except InputError as exc:
            bad = exc.message.split(":", 1)[0]
            where = next((k for k in point if ".".join(split_path(k, path)) == bad
                          or ".".join(split_path(k, path)).startswith(bad + ".")), None)
            label = f"{section_of(method)}.{where}: " if where else ""
            raise InputError(path, f"{label}{exc.message}") from None
        try:
            check_region_names(cfg, regions, path)
        except InputError as exc:
            raise InputError(path, f"{section_of(method)}: {exc.message}") from None
        for r, seed in enumerate(replicate_seeds(cfg.seed, spec.replicates)):
            tasks.append(task_for(cfg.model_copy(update={"seed": seed}), len(tasks), p, r,
                                  point))
    return Sweep(path=path, name=spec.name or path.stem, method=method, parameters=names,
                 tasks=tasks, problem=problem, samples=x)


def _anchored(text: str, folder: Path) -> str:
    """An override whose file path (if it sets one) is made absolute from the sweep's folder."""
    keys, value = parse_override(text)
    if tuple(keys) in PATH_FIELDS and isinstance(value, str):
        return f"{'.'.join(keys)}={_toml_value(str((folder / value).resolve()))}"
    return text


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)
