"""Run one scenario and write its results atomically to ``results/<scenario>/<run-id>/``.

A run folder holds ``results.nc`` (the dataset of DESIGN.md §6), ``config.toml`` (the resolved
scenario, enough to rerun it) and ``manifest.json`` (seed, versions, input hashes, wall time).
It is written into a hidden temporary folder beside the target and renamed into place, so a
folder either holds a whole run or nothing; an existing run is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr

from simulator import __version__
from simulator.atomic import check_out_dir
from simulator.inputs.load import Inputs, load_inputs
from simulator.inputs.schema import Scenario
from simulator.interop.validation import validate
from simulator.model import DisplacementModel
from simulator.outputs.folders import default_run_dir, write_run
from simulator.rng import replicate_seeds


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "simulator": __version__}
    for pkg in ("numpy", "scipy", "mesa", "xarray", "netCDF4", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[pkg] = "missing"
    return out








def run_scenario(scenario: Scenario, out: Path | None = None, seed: int | None = None,
                 inputs: Inputs | None = None, where: str | Path = "scenario",
                 progress: Callable[[int, int], None] | None = None,
                 replicates: int = 1) -> tuple[Path, xr.Dataset]:
    """Load inputs, run the model and write the run folder.

    Args:
        scenario: a validated scenario.
        out: the run folder (default :func:`default_run_dir`); must not hold anything yet.
        seed: overrides the scenario's seed.
        inputs: preloaded inputs (default: read from the scenario's files).
        where: the scenario file, named in errors.
        progress: called as ``progress(done_steps, n_steps)``.
        replicates: run this many seeds (the first is ``seed``, the others derived from it)
            into one dataset along a ``replicate`` dimension.

    Returns:
        The run folder and the results dataset.
    """
    seed = scenario.seed if seed is None else seed
    if seed != scenario.seed:
        scenario = scenario.model_copy(update={"seed": seed})
    out = Path(out) if out is not None else default_run_dir(scenario, seed)
    check_out_dir(out)
    started, wall = dt.datetime.now(dt.UTC), time.perf_counter()
    inputs = inputs if inputs is not None else load_inputs(scenario, where)
    seeds = replicate_seeds(seed, replicates)
    runs = []
    for k, rep_seed in enumerate(seeds):
        model = DisplacementModel(scenario, inputs=inputs, seed=rep_seed)
        step = (lambda done, total, k=k: progress(k * total + done, total * len(seeds))) \
            if progress else None
        runs.append(model.run(progress=step))
    ds = runs[0] if replicates == 1 else combine_replicates(runs, seeds)
    elapsed = time.perf_counter() - wall
    manifest = {
        "scenario": scenario.name, "seed": seed, "run_dir": str(out), "replicates": replicates,
        "seeds": seeds,
        "started_utc": started.isoformat(timespec="seconds"), "wall_time_s": round(elapsed, 3),
        "households": len(model.households), "persons": model.total_persons,
        "population_input_persons": round(float(inputs.cell_persons.sum())),
        "n_steps": scenario.n_steps, "step_days": scenario.step_days,
        "household_steps_per_s": round(len(model.households) * scenario.n_steps * replicates
                                       / elapsed),
        "input_sha256": inputs.file_hashes, "versions": _versions(),
        "command": " ".join(sys.argv),
    }
    extra = {}
    if inputs.observed is not None:  # Flee's out.csv and ARD against the observations
        text, manifest["validation"] = validate(ds, inputs.observed, scenario)
        extra["out.csv"] = text.encode()
    return write_run(ds, scenario, out, manifest, extra), ds


def combine_replicates(runs: list[xr.Dataset], seeds: list[int]) -> xr.Dataset:
    """Stack replicate runs along ``replicate`` (with each run's ``seed`` as a coordinate)."""
    ds = xr.concat([r.drop_attrs() for r in runs], dim="replicate", combine_attrs="drop")
    for var in ds.data_vars:
        ds[var].attrs = runs[0][var].attrs
    ds = ds.assign_coords(replicate=np.arange(len(runs)), seed=("replicate", seeds))
    ds.attrs = {**runs[0].attrs, "seed": seeds[0], "replicates": len(runs)}
    return ds

