"""Run a sweep in parallel, resumably, and combine it into one dataset (DESIGN.md §2).

Runs are written to ``DIR/runs/<run-id>/`` exactly as ``climdisp run`` writes them (atomically).
A rerun skips every run whose ``results.nc`` exists, removes stray temporary folders and retries
failed runs. A failed run leaves ``DIR/runs/<run-id>/error.txt`` and the sweep goes on.

Runs that read the same inputs (files and time axis) are grouped into batches; one call of
:func:`run_batch` runs a batch one run after another and loads the inputs once, in a cache it
owns and drops when it returns (no state survives between calls, in any process). Batches are
small enough to keep every worker busy: a few per worker.

Engines: ``local`` is a process pool whose workers are forked from a server that has already
imported the simulator (no per-run re-import); ``dask`` submits the same function to a
``dask.distributed`` cluster. Results never depend on the engine, the number of workers or the
batching: each run's randomness comes only from its own seed, and inputs are read, not changed.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.atomic import csv_text, temporary_sibling, write_file
from simulator.inputs.config import scenario_from_toml
from simulator.inputs.load import Inputs, load_inputs
from simulator.inputs.schema import Scenario
from simulator.outputs.analysis import region_summary
from simulator.runs.sweepspec import RunTask, Sweep

OUTCOMES = ("peak_displaced", "displaced_person_days", "peak_unmet_shelter",
            "unmet_shelter_person_days", "returned", "displaced_at_end", "peak_trapped",
            "relocated_at_end", "peak_evacuated", "adapted_at_end")


#: Scenario fields the inputs depend on: runs that agree on them share one load of the inputs.
INPUT_FIELDS = {**dict.fromkeys(("hazard", "stress", "population", "regions", "start_date",
                                 "step_days", "n_steps", "observations"), True),
                "impact": {"prescribed_file": True, "curves": True}}


def inputs_key(scenario: Scenario) -> str:
    """What a run's inputs depend on (its files and time axis), as a string to group runs by."""
    return json.dumps(scenario.model_dump(mode="json", include=INPUT_FIELDS), sort_keys=True)


def batches(tasks: list[RunTask], size: int) -> list[list[RunTask]]:
    """``tasks`` grouped by :func:`inputs_key`, in batches of at most ``size`` runs."""
    groups: dict[str, list[RunTask]] = {}
    for task in tasks:
        try:
            key = inputs_key(scenario_from_toml(task.config_toml))
        except Exception:  # noqa: BLE001 - a bad config fails in run_task, which records it
            key = task.config_toml
        groups.setdefault(key, []).append(task)
    size = max(1, size)
    return [group[i:i + size] for group in groups.values() for i in range(0, len(group), size)]


def run_batch(tasks: list[RunTask], runs_dir: str) -> list[dict]:
    """Run ``tasks`` (runs sharing inputs) in turn, loading their inputs once; never raises."""
    cache: dict[str, Inputs] = {}  # this call's own: freed when it returns
    return [run_task(task, runs_dir, cache) for task in tasks]


def run_task(task: RunTask, runs_dir: str, cache: dict[str, Inputs] | None = None) -> dict:
    """Run one sweep task into ``runs_dir/<run-id>/``; never raises (errors are recorded).

    Args:
        task: the run.
        runs_dir: the sweep's ``runs`` folder.
        cache: inputs by :func:`inputs_key`, kept by the caller to reuse across its runs
            (default: load the inputs for this run alone).
    """
    from simulator.runs.run import run_scenario

    out = Path(runs_dir) / task.run_id
    start = time.perf_counter()
    try:
        scenario = scenario_from_toml(task.config_toml)
        key = inputs_key(scenario)
        cache = {} if cache is None else cache
        if key not in cache:
            cache.clear()  # one set of inputs held at a time
            cache[key] = load_inputs(scenario)
        run_scenario(scenario, out=out, inputs=cache[key])
        return {"run_id": task.run_id, "ok": True, "seconds": time.perf_counter() - start}
    except Exception as exc:  # noqa: BLE001 - one failed run must not stop the sweep
        tmp = temporary_sibling(out)
        tmp.mkdir(parents=True)  # this call's own: exclusive, never someone else's
        (tmp / "error.txt").write_text(f"{type(exc).__name__}: {exc}\n\n"
                                       + traceback.format_exc(), encoding="utf-8")
        (tmp / "config.toml").write_text(task.config_toml, encoding="utf-8")
        if (out / "results.nc").exists():  # never destroy a finished run
            shutil.rmtree(tmp, ignore_errors=True)
            return {"run_id": task.run_id, "ok": True, "seconds": time.perf_counter() - start}
        shutil.rmtree(out, ignore_errors=True)
        os.rename(tmp, out)
        return {"run_id": task.run_id, "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def claim_folder(out: Path, stamp: str, ident: dict, what: str,
                 same: Callable[[dict], bool]) -> bool:
    """Make ``out`` the folder of one piece of work, identified by ``ident`` in ``out/stamp``.

    The same work (``same(recorded identity)``) may reuse the folder; another, or a folder of
    other files, may not: nothing is ever overwritten.

    Returns:
        True when the folder was already this work's (a resume), False when claimed now.

    Raises:
        InputError: naming the folder and ``what`` it holds instead.
    """
    from simulator.errors import InputError

    path = out / stamp
    if path.is_file():
        if not same(json.loads(path.read_text(encoding="utf-8"))):
            raise InputError(out, f"--out: folder holds a different {what}; choose another "
                                  "folder (nothing is ever overwritten)")
        return True
    if out.exists() and any(p.name != ".lock" for p in out.iterdir()):
        raise InputError(out, f"--out: folder already holds files that are not this {what}; "
                              "choose another folder (nothing is ever overwritten)")
    out.mkdir(parents=True, exist_ok=True)
    write_file(path, lambda p: p.write_text(json.dumps(ident, indent=2), encoding="utf-8"))
    return False


def claim(sweep: Sweep, out: Path) -> None:
    """Make ``out`` this sweep's folder, refusing a folder that holds anything else.

    ``out/sweep.json`` records the sweep's run ids; the same sweep (same runs) may reuse the
    folder to resume, a different sweep or a folder of other files may not.
    """
    from simulator.runs.sweepspec import run_key

    ident = {"sweep": sweep.name, "runs_sha256": run_key("\n".join(
        t.run_id for t in sweep.tasks)), "runs": len(sweep.tasks)}
    claim_folder(out, "sweep.json", ident, "sweep",
                 lambda old: old.get("runs_sha256") == ident["runs_sha256"])


def prepare(sweep: Sweep, out: Path) -> list[RunTask]:
    """Create ``out/runs``, clear leftovers of interrupted or failed runs; return what is left.

    Leftovers are only ever looked for inside the sweep's own ``out/runs`` folder: a ``runs``
    that is a link (possibly to a folder elsewhere) is refused, and a leftover that is a link is
    not followed.
    """
    from simulator.errors import InputError

    runs = out / "runs"
    if runs.is_symlink() or (runs.exists() and not runs.is_dir()):
        raise InputError(runs, "--out: 'runs' in the sweep folder is a link or a file, not the "
                               "sweep's own folder of runs; remove it or choose another folder")
    runs.mkdir(parents=True, exist_ok=True)
    for stale in runs.glob(".*.tmp-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    todo, seen = [], set()
    for task in sweep.tasks:
        folder = runs / task.run_id
        if task.run_id in seen or (folder / "results.nc").is_file():
            continue  # identical points share one run (e.g. repeated Morris levels)
        seen.add(task.run_id)
        if (folder / "error.txt").is_file():
            shutil.rmtree(folder)  # a failed attempt: try again
        todo.append(task)
    return todo


def _batch_size(n_tasks: int, workers: int) -> int:
    """Runs per batch: about four batches per worker, so none waits while another has many."""
    return max(1, -(-n_tasks // (4 * workers)))


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The local engine's pool: workers forked from a server that has imported the simulator.

    :func:`execute` makes one per call; a caller that executes many small sweeps in turn (a
    calibration, batch by batch) can make one and pass it to every call, so its workers, with
    their libraries imported and first-use caches filled, serve every batch.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simulator.runs.sweep", "simulator.runs.run"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _local(tasks: list[RunTask], runs_dir: str, workers: int,
           pool: ProcessPoolExecutor | None = None) -> Iterator[dict]:
    if workers == 1:  # in this process: one batch per set of inputs, a status per run
        for batch in batches(tasks, len(tasks)):
            cache: dict[str, Inputs] = {}
            for task in batch:
                yield run_task(task, runs_dir, cache)
        return
    with contextlib.nullcontext(pool) if pool is not None else worker_pool(workers) as pool:
        futures = [pool.submit(run_batch, batch, runs_dir)
                   for batch in batches(tasks, _batch_size(len(tasks), workers))]
        for fut in as_completed(futures):
            yield from fut.result()


def _dask(tasks: list[RunTask], runs_dir: str, workers: int, scheduler: str | None,
          out: Path) -> Iterator[dict]:
    try:
        import dask
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        from simulator.errors import InputError

        raise InputError("--engine", "dask is not installed; pip install '.[dask]'") from None
    scratch = out / ".dask-scratch"
    scratch.mkdir(exist_ok=True)
    with dask.config.set({"temporary_directory": str(scratch)}):
        if scheduler:
            client, cluster = Client(scheduler), None
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   local_directory=str(scratch))
            client = Client(cluster)
        try:
            size = _batch_size(len(tasks), sum(client.nthreads().values()) or workers)
            futures = client.map(run_batch, batches(tasks, size), runs_dir=runs_dir, pure=False)
            for fut in dask_completed(futures):
                yield from fut.result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    shutil.rmtree(scratch, ignore_errors=True)


def lock(out: Path):
    """Hold an exclusive lock on the sweep folder, or fail: one sweep process per folder."""
    import fcntl

    from simulator.errors import InputError

    out.mkdir(parents=True, exist_ok=True)
    fh = (out / ".lock").open("w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise InputError(out, "--out: another climdisp sweep is using this folder") from None
    return fh


def execute(sweep: Sweep, out: Path, workers: int = 1, engine: str = "local",
            scheduler: str | None = None,
            progress: Callable[[int, int, int], None] | None = None,
            pool: ProcessPoolExecutor | None = None) -> list[dict]:
    """Run every missing task; return one status dict per task run now.

    ``pool`` (local engine, more than one worker): a :func:`worker_pool` of ``workers`` to run
    in, left open for the caller's next call; by default a pool is made and closed here.
    """
    todo = prepare(sweep, out)
    failed, statuses = 0, []
    if progress and todo:
        progress(0, 0, len(todo))
    runner = (_local(todo, str(out / "runs"), workers, pool) if engine == "local"
              else _dask(todo, str(out / "runs"), workers, scheduler, out))
    for done, status in enumerate(runner, start=1):
        statuses.append(status)
        failed += not status["ok"]
        if progress:
            progress(done, failed, len(todo))
    return statuses


def _coord_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")


def _outcomes(ds: xr.Dataset) -> list[dict[str, object]]:
    """Outcomes per region, then the total (the last row): ``region``, ``residents``, OUTCOMES."""
    return [{"region": row["region"], "residents": row["residents"],
             **{k: row[k] for k in OUTCOMES}} for row in region_summary(ds)]


def combine(sweep: Sweep, out: Path) -> tuple[Path, list[str]]:
    """Write ``sweep.nc``, ``summary.csv``, ``summary_by_region.csv`` (and ``sensitivity.csv``).

    ``summary.csv`` has one row per run (totals over regions, and failed runs with their
    status); ``summary_by_region.csv`` one row per finished run and region, tidy. Returns the
    ids of failed or missing runs.
    """
    rows, by_region, parts, failed = [], [], [], []
    for task in sweep.tasks:
        folder = out / "runs" / task.run_id
        row = {"run": task.index, "run_id": task.run_id, "point": task.point,
               "replicate": task.replicate, "seed": task.seed, **task.params}
        if not (folder / "results.nc").is_file():
            failed.append(task.run_id)
            rows.append({**row, "status": "failed" if (folder / "error.txt").is_file()
                         else "missing"})
            continue
        ds = xr.load_dataset(folder / "results.nc")
        *regions, total = _outcomes(ds)
        rows.append({**row, "status": "ok", **{k: total[k] for k in OUTCOMES}})
        by_region += [{**row, **region} for region in regions]
        coords = {"run": [task.index], "run_id": ("run", [task.run_id]),
                  "replicate": ("run", [task.replicate]), "seed": ("run", [task.seed])}
        for name, value in task.params.items():
            if _coord_name(name) not in coords:  # a swept 'seed' is already the seed coordinate
                coords[_coord_name(name)] = ("run", [value], {"parameter_path": name})
        parts.append(ds.drop_attrs().expand_dims(run=1).assign_coords(coords))
    if parts:
        combined = xr.concat(parts, dim="run", join="outer", combine_attrs="drop")
        for var in combined.data_vars:
            combined[var].attrs = parts[0][var].attrs
        for name in sweep.parameters:
            if _coord_name(name) not in ("run", "run_id", "replicate", "seed"):
                combined[_coord_name(name)].attrs = {"parameter_path": name}
        combined.attrs = {"sweep": sweep.name, "method": sweep.method,
                          "parameters": json.dumps(sweep.parameters),
                          "sweep_toml": sweep.path.read_text(encoding="utf-8"),
                          "runs": len(sweep.tasks), "failed_runs": len(failed)}
        write_file(out / "sweep.nc", lambda p: combined.to_netcdf(p, format="NETCDF4"))
    write_file(out / "summary.csv", lambda p: p.write_text(csv_text(rows), encoding="utf-8"))
    if by_region:
        write_file(out / "summary_by_region.csv",
                   lambda p: p.write_text(csv_text(by_region), encoding="utf-8"))
    if sweep.method in ("sobol", "morris") and not failed:
        write_file(out / "sensitivity.csv",
                      lambda p: p.write_text(csv_text(sensitivity(sweep, rows)), encoding="utf-8"))
    return out, failed


def sensitivity(sweep: Sweep, rows: list[dict]) -> list[dict]:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of each outcome, replicates averaged."""
    n_points = len(sweep.samples)
    out = []
    for outcome in OUTCOMES:
        y = np.zeros(n_points)
        np.add.at(y, [r["point"] for r in rows], [float(r[outcome]) for r in rows])
        y /= len(rows) / n_points
        keys = ("S1", "S1_conf", "ST", "ST_conf") if sweep.method == "sobol" else (
            "mu", "mu_star", "sigma", "mu_star_conf")
        if np.ptp(y) == 0:  # an outcome no parameter moves: every index is 0
            out += [{"outcome": outcome, "parameter": name, **dict.fromkeys(keys, 0.0)}
                    for name in sweep.parameters]
            continue
        if sweep.method == "sobol":
            from SALib.analyze import sobol
            res = sobol.analyze(sweep.problem, y, calc_second_order=False, seed=0)
        else:
            from SALib.analyze import morris
            res = morris.analyze(sweep.problem, sweep.samples, y, seed=0)
        for i, name in enumerate(sweep.parameters):
            out.append({"outcome": outcome, "parameter": name,
                        **{k: float(np.nan_to_num(res[k][i])) for k in keys}})
    return out


def worker_count(requested: int | None) -> int:
    """Workers to use: as requested, else every core this process may use."""
    if requested:
        return requested
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)

