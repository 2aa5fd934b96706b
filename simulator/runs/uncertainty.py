"""Uncertainty ensembles: the parameter table sampled jointly with seeds (DESIGN.md §4.4).

``climdisp run SCENARIO --uncertainty N --replicates R`` draws N points of the scenario's
uncertain parameters (:func:`~simulator.inputs.parameters.parameter_table`) by Latin hypercube
(SALib) on the unit cube, each mapped through its parameter's distribution, and runs every point
with R seeds of its own: a nested design, so the spread of an indicator splits into the variance
of the point means (parameters) and the variance between seeds within a point (seed noise);
see :mod:`simulator.outputs.uncertainty`. Seeds are derived from the scenario's seed
(``replicate_seeds``): sample s, replicate r gets seed number ``s * R + r``, so sample 0,
replicate 0 runs the scenario's own seed. The sampler's seed is the scenario's seed too.

Runs go through the sweep engine (:mod:`simulator.runs.sweep`): resumable, a local process pool
or Dask, results identical whatever the number of workers. The folder gets ``runs/<run-id>/``,
``sweep.json``, and at the end ``uncertainty.nc`` (dims ``sample`` and ``replicate``; one
coordinate per parameter along ``sample``, named by its field path), ``parameters.csv`` and
``samples.csv``, each written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.atomic import csv_text, write_file
from simulator.errors import InputError
from simulator.inputs.config import apply_overrides, dump_toml
from simulator.inputs.parameters import Parameter, from_unit, parameter_table
from simulator.inputs.schema import Scenario
from simulator.outputs.folders import COMPRESSION
from simulator.rng import replicate_seeds
from simulator.runs.sweepspec import Sweep, task_for

#: The dataset an uncertainty folder holds.
DATASET = "uncertainty.nc"


def scenario_table(scenario: Scenario, where: str | Path) -> dict[str, Parameter]:
    """The scenario's uncertain parameters, or an :class:`InputError` naming ``where``."""
    try:
        table = parameter_table(scenario)
    except ValueError as exc:
        raise InputError(where, str(exc)) from None
    if not table:
        raise InputError(where, "uncertainty.parameters: no parameter left to vary")
    return table


def unit_sample(n: int, d: int, seed: int) -> np.ndarray:
    """A Latin hypercube of ``n`` points in [0, 1)^d (SALib, seeded)."""
    from SALib.sample import latin

    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0, 1]] * d}
    return latin.sample(problem, n, seed=seed)


def sample_points(table: dict[str, Parameter], unit: np.ndarray) -> list[dict[str, float | int]]:
    """Parameter values of each point: column i of ``unit`` through parameter i's distribution."""
    columns = {name: from_unit(p, unit[:, i]) for i, (name, p) in enumerate(table.items())}
    return [{name: (int(col[s]) if table[name].distribution == "int-uniform" else float(col[s]))
             for name, col in columns.items()} for s in range(unit.shape[0])]


def plan(scenario: Scenario, table: dict[str, Parameter], n: int, replicates: int,
         where: str | Path) -> Sweep:
    """The ensemble's runs: ``n`` points x ``replicates`` seeds, each point with seeds of its own.

    Args:
        scenario: the validated scenario.
        table: its uncertain parameters (:func:`scenario_table`).
        n: number of parameter points (Latin hypercube).
        replicates: seeds per point (at least 2 to split the variance).
        where: the scenario file (named in the sweep and in errors).
    """
    points = sample_points(table, unit_sample(n, len(table), scenario.seed))
    seeds = replicate_seeds(scenario.seed, n * replicates)
    tasks = []
    for s, point in enumerate(points):
        cfg = apply_overrides(scenario, [f"{k}={v!r}" for k, v in point.items()])
        for r in range(replicates):
            seed = seeds[s * replicates + r]
            tasks.append(task_for(cfg.model_copy(update={"seed": seed}), len(tasks), s, r,
                                  point))
    return Sweep(path=Path(where), name=f"{scenario.name}-uncertainty", method="uncertainty",
                 parameters=list(table), tasks=tasks)


def combine_samples(sweep: Sweep, table: dict[str, Parameter], scenario: Scenario,
                    out: Path) -> list[str]:
    """Write ``uncertainty.nc``, ``parameters.csv`` and ``samples.csv``; return missing run ids.

    Nothing is written into ``uncertainty.nc`` while any run is missing or failed.
    """
    runs = out / "runs"
    missing = [t.run_id for t in sweep.tasks if not (runs / t.run_id / "results.nc").is_file()]
    n = 1 + max(t.point for t in sweep.tasks)
    reps = 1 + max(t.replicate for t in sweep.tasks)
    samples = [{"sample": s, **t.params} for s, t in enumerate(sweep.tasks[::reps])]
    write_file(out / "parameters.csv", lambda p: p.write_text(
        csv_text([asdict(q) for q in table.values()]), encoding="utf-8"))
    write_file(out / "samples.csv", lambda p: p.write_text(csv_text(samples), encoding="utf-8"))
    if missing:
        return missing
    first = xr.load_dataset(runs / sweep.tasks[0].run_id / "results.nc")
    parts = [first.drop_attrs() if i == 0 else
             xr.load_dataset(runs / t.run_id / "results.nc").drop_attrs()
             for i, t in enumerate(sweep.tasks)]
    stacked = xr.concat([xr.concat(parts[s * reps:(s + 1) * reps], dim="replicate")
                         for s in range(n)], dim="sample", combine_attrs="drop")
    for var in stacked.data_vars:
        stacked[var].attrs = first[var].attrs
    grid = (("sample", "replicate"), np.arange(n * reps).reshape(n, reps))
    coords = {"sample": np.arange(n), "replicate": np.arange(reps),
              "seed": (grid[0], np.array([t.seed for t in sweep.tasks]).reshape(n, reps)),
              "run_id": (grid[0], np.array([t.run_id for t in sweep.tasks]).reshape(n, reps))}
    for name, p in table.items():
        coords[name] = ("sample", [row[name] for row in samples],
                        {k: v for k, v in asdict(p).items() if k != "name"})
    stacked = stacked.assign_coords(coords)
    stacked.attrs = {"scenario": scenario.name, "step_days": scenario.step_days,
                     "design": "latin hypercube of the parameters x seeds per sample",
                     "samples": n, "seeds_per_sample": reps,
                     "parameters": json.dumps(list(table)),
                     "config_toml": dump_toml(scenario)}
    encoding = {v: dict(COMPRESSION) for v in stacked.data_vars}
    write_file(out / DATASET, lambda p: stacked.to_netcdf(p, encoding=encoding))
    return []


def run_ensemble(scenario: Scenario, where: str | Path, n: int, replicates: int, out: Path,
                 workers: int = 1, engine: str = "local", scheduler: str | None = None,
                 progress: Callable[[int, int, int], None] | None = None
                 ) -> tuple[Sweep, list[dict], list[str]]:
    """Plan, run (resuming a folder of the same ensemble) and combine an uncertainty ensemble.

    Returns:
        The ensemble as a sweep, the status of every run made now, and the ids of runs that
        failed or are missing (then ``uncertainty.nc`` is not written).

    Raises:
        InputError: for a bad ``n``, ``replicates`` or parameter range, or a folder that holds
            something else.
    """
    from simulator.runs.sweep import claim, execute, lock

    if n < 2:
        raise InputError("--uncertainty", f"expected a number of samples >= 2, got {n}")
    if replicates < 2:
        raise InputError("--replicates", f"an uncertainty ensemble needs >= 2 seeds per sample "
                                         f"to tell parameters from seed noise, got {replicates}")
    table = scenario_table(scenario, where)
    sweep = plan(scenario, table, n, replicates, where)
    claim(sweep, out)
    held = lock(out)
    try:
        statuses = execute(sweep, out, workers=workers, engine=engine, scheduler=scheduler,
                           progress=progress)
        failed = combine_samples(sweep, table, scenario, out)
    finally:
        held.close()
    return sweep, statuses, failed
