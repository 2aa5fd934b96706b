"""Fit scenario parameters to an observed series through the sweep engine (``climdisp calibrate``).

Method: a seeded Optuna sampler (Akiba et al. 2019) driven by its ask/tell interface: the
tree-structured Parzen estimator (TPE; Bergstra et al. 2011), or CMA-ES (Hansen 2016) with one
generation per batch. Trials are asked in batches of a fixed size; each batch runs as sweep
tasks (:func:`simulator.runs.sweep.execute`: a local process pool, one for all batches, or
Dask), every run in
``DIR/runs/<run-id>/`` keyed by the hash of its resolved scenario, seed included. Every trial
runs with the scenario's own seed (common random numbers), so two trials differ only where their
parameters act. A batch's scores are told in trial order before the next batch is asked, so the
sequence of trials depends only on the seed and the scores, never on the number of workers, the
engine or the order runs finish in.

Resume: a calibration restarted in the same folder replays the same seeded ask sequence; runs
already on disk are found by their key and not rerun, so a killed and resumed calibration gives
the same ``trials.csv`` and ``fit.json``, bit for bit, as an uninterrupted one. The same replay
extends a calibration with more trials.

Scores: the objective on the training steps (fitted) and on the hold-out steps (only
reported). Alongside the best trial, the trials whose training score is within ``tolerance``
(relative) of the best are reported as a behavioural set, in the spirit of GLUE (Beven & Binley
1992): the parameter range the data cannot tell apart from the best, not a Bayesian posterior.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.atomic import csv_text, write_file
from simulator.errors import InputError
from simulator.inputs.config import apply_overrides, dump_toml
from simulator.interop.validation import ard, poisson_deviance
from simulator.runs.calibspec import Plan
from simulator.runs.sweep import claim_folder, execute, worker_pool
from simulator.runs.sweepspec import RunTask, Sweep, run_key, task_for

STATES = ("displaced", "evacuated")
#: The files a calibration writes into its folder (besides ``runs/``), each atomically.
OUTPUTS = ("calibration.json", "trials.csv", "fit.json", "series.csv", "fit.png")


@dataclass(frozen=True)
class Trial:
    """One evaluated trial: its parameters, run and scores (NaN for a failed run)."""

    number: int
    params: dict[str, float | int]
    run_id: str
    train: float
    holdout: float


def simulated(ds: xr.Dataset, measure: str, regions: list[str]) -> np.ndarray:
    """Simulated persons per step and region for a measure (:data:`calibspec.MEASURES`).

    A state counts persons by home region; a place counts persons staying in the region, less
    those still travelling there (Flee counts people in a camp once they arrive).
    """
    if measure in STATES:
        da = ds["persons"].sel(state=measure, region=regions)
    else:
        da = ds["occupancy"].sel(place=measure, region=regions)
        if "in_transit" in ds:
            da = da - ds["in_transit"].sel(place=measure, region=regions)
    return da.transpose("time", "region").values.astype(float)


def score(sim: np.ndarray, data: np.ndarray, objective: str) -> float:
    """The objective of ``sim`` against ``data`` ((steps, regions) persons); NaN if no steps."""
    if len(data) == 0:
        return float("nan")
    if objective == "poisson":
        return poisson_deviance(sim, data)
    return ard(sim, data, rescaled=objective == "ard_rescaled")


def split_scores(sim: np.ndarray, plan: Plan) -> tuple[float, float]:
    """Training and hold-out scores of a simulated series (hold-out NaN without a hold-out)."""
    target, data = plan.target, plan.target.observed.persons
    return (score(sim[target.train], data[target.train], plan.objective),
            score(sim[target.holdout], data[target.holdout], plan.objective))


def identity(plan: Plan) -> dict:
    """What makes a calibration this one (the trial count aside, which may grow on resume)."""
    return {"scenario_sha256": run_key(dump_toml(plan.scenario)),
            "observed_sha256": plan.target.sha256, "measure": plan.target.measure,
            "parameters": {b.name: [b.low, b.high] for b in plan.bounds},
            "objective": plan.objective, "holdout_from_step": plan.target.split_step,
            "batch": plan.batch, "sampler": plan.sampler, "sampler_seed": plan.seed}


def claim(plan: Plan, out: Path) -> None:
    """Make ``out`` this calibration's folder; refuse a folder of another one or of other files.

    ``out/calibration.json`` records the calibration's identity; the same calibration may reuse
    the folder (to resume, or to extend with more trials).
    """
    ident = identity(plan)
    if claim_folder(out, "calibration.json", ident, "calibration", lambda old: old == ident):
        for name in OUTPUTS:  # a write cut short by a kill leaves its temporary sibling
            for stale in out.glob(f".{name}.tmp-*"):
                if stale.is_file() and not stale.is_symlink():
                    stale.unlink()


def run_task(plan: Plan, number: int, params: dict[str, float | int]) -> RunTask:
    """The sweep task of trial ``number`` (-1: the scenario as given, for a baseline score)."""
    cfg = apply_overrides(plan.scenario, [f"{k}={v!r}" for k, v in params.items()])
    return task_for(cfg, number, number, 0, params)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna's per-trial log lines and experimental-feature warnings off, for this block only."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)


def sampler_settings(plan: Plan) -> dict:
    """The sampler and its settings, as recorded in ``fit.json``."""
    if plan.sampler == "cmaes":
        return {"name": "optuna CmaEsSampler", "seed": plan.seed, "popsize": plan.batch}
    return {"name": "optuna TPESampler", "seed": plan.seed, "batch": plan.batch,
            "n_startup_trials": 10, "multivariate": True, "constant_liar": True}


def _study(plan: Plan):
    import optuna

    if plan.sampler == "cmaes":  # one generation per batch
        sampler = optuna.samplers.CmaEsSampler(seed=plan.seed, popsize=plan.batch,
                                               warn_independent_sampling=False)
    else:
        sampler = optuna.samplers.TPESampler(seed=plan.seed, n_startup_trials=10,
                                             multivariate=True, constant_liar=True)
    return optuna.create_study(direction="minimize", sampler=sampler)


def _distributions(plan: Plan) -> dict:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {b.name: IntDistribution(int(b.low), int(b.high)) if b.integer
            else FloatDistribution(float(b.low), float(b.high)) for b in plan.bounds}


def _series(plan: Plan, out: Path, run_id: str) -> np.ndarray | None:
    """The simulated series of a finished run, or None if the run failed."""
    path = out / "runs" / run_id / "results.nc"
    if not path.is_file():
        return None
    with xr.open_dataset(path) as ds:
        return simulated(ds, plan.target.measure, plan.target.observed.regions)


def _evaluate(plan: Plan, task: RunTask, out: Path) -> tuple[float, float]:
    sim = _series(plan, out, task.run_id)
    return (float("nan"), float("nan")) if sim is None else split_scores(sim, plan)


def search(plan: Plan, out: Path, workers: int = 1, engine: str = "local",
           scheduler: str | None = None,
           progress: Callable[[int, int], None] | None = None) -> tuple[list[Trial], Trial]:
    """Run the seeded search batch by batch; return every trial and the scenario as given.

    ``trials.csv`` is rewritten (atomically) after every batch. A failed run is told to the
    sampler as failed and kept with NaN scores.
    """
    import optuna

    trials: list[Trial] = []
    baseline = run_task(plan, -1, {})
    local_pool = engine == "local" and workers > 1  # one pool for every batch: warm workers
    with _quiet_optuna(), worker_pool(workers) if local_pool else contextlib.nullcontext() as pool:
        study, dists = _study(plan), _distributions(plan)
        for start in range(0, plan.trials, plan.batch):
            asked = [study.ask(dists) for _ in range(min(plan.batch, plan.trials - start))]
            tasks = [run_task(plan, t.number, t.params) for t in asked]
            extra = [baseline] if start == 0 else []
            execute(Sweep(path=plan.scenario_path, name="calibration", method="calibration",
                          parameters=[b.name for b in plan.bounds], tasks=tasks + extra),
                    out, workers=workers, engine=engine, scheduler=scheduler, pool=pool)
            for trial, task in zip(asked, tasks, strict=True):
                train, hold = _evaluate(plan, task, out)
                if np.isfinite(train):
                    study.tell(trial, train)
                else:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                trials.append(Trial(trial.number, dict(trial.params), task.run_id, train, hold))
            write_file(out / "trials.csv", lambda p: p.write_text(
                csv_text(trial_rows(trials)), encoding="utf-8"))
            if progress:
                progress(len(trials), plan.trials)
    return trials, Trial(-1, {}, baseline.run_id, *_evaluate(plan, baseline, out))


def trial_rows(trials: list[Trial]) -> list[dict]:
    """One row per trial: number, parameters, run id, scores (empty where there is none)."""
    return [{"trial": t.number, **t.params, "run_id": t.run_id,
             "train_score": _blank_if_nan(t.train), "holdout_score": _blank_if_nan(t.holdout)}
            for t in trials]


def _blank_if_nan(x: float) -> float | str:
    return x if np.isfinite(x) else ""


def best_trial(trials: list[Trial]) -> Trial:
    """The trial with the lowest training score (the first of equals).

    Raises:
        InputError: when every run failed (their errors are in ``runs/<run-id>/error.txt``).
    """
    ok = [t for t in trials if np.isfinite(t.train)]
    if not ok:
        raise InputError("calibrate", "every trial's run failed; see DIR/runs/<run-id>/error.txt")
    return min(ok, key=lambda t: t.train)


def behavioural(plan: Plan, trials: list[Trial], best: Trial) -> dict:
    """Range of each parameter over the trials within ``tolerance`` of the best training score."""
    limit = best.train * (1 + plan.tolerance)
    kept = [t for t in trials if np.isfinite(t.train) and t.train <= limit]
    return {"tolerance": plan.tolerance, "train_score_at_most": limit, "trials": len(kept),
            "ranges": {b.name: [min(t.params[b.name] for t in kept),
                                max(t.params[b.name] for t in kept)] for b in plan.bounds}}


def fit_summary(plan: Plan, trials: list[Trial], baseline: Trial) -> dict:
    """The content of ``fit.json``: best values, scores, behavioural ranges and the setup."""
    best = best_trial(trials)
    target, obs = plan.target, plan.target.observed
    start = plan.scenario.start_date

    def day(step: int) -> str:
        return str(start + dt.timedelta(days=step * plan.scenario.step_days))

    scored = np.flatnonzero(target.train | target.holdout)
    return {
        "scenario": str(plan.scenario_path), "objective": plan.objective,
        "measure": target.measure, "regions": obs.regions,
        "fitted_from": day(int(scored[0])), "fitted_to": day(int(np.flatnonzero(
            target.train)[-1])),
        "holdout_from": day(target.split_step) if target.split_step is not None else None,
        "holdout_to": day(int(scored[-1])) if target.holdout.any() else None,
        "bounds": {b.name: [b.low, b.high] for b in plan.bounds},
        "best": {"trial": best.number, "params": best.params, "run_id": best.run_id,
                 "train_score": best.train, "holdout_score": _none_if_nan(best.holdout)},
        "baseline": {"params": "the scenario as given", "run_id": baseline.run_id,
                     "train_score": _none_if_nan(baseline.train),
                     "holdout_score": _none_if_nan(baseline.holdout)},
        "behavioural": behavioural(plan, trials, best),
        "trials": len(trials), "failed_trials": sum(not np.isfinite(t.train) for t in trials),
        "sampler": sampler_settings(plan),
        "seed": plan.scenario.seed,
    }


def _none_if_nan(x: float) -> float | None:
    return None if not np.isfinite(x) else x


def series_rows(plan: Plan, times: np.ndarray, fitted: np.ndarray,
                baseline: np.ndarray | None) -> list[dict]:
    """``series.csv``: per scored step and region, observed, fitted and as-given persons."""
    target, obs = plan.target, plan.target.observed
    rows = []
    for t in np.flatnonzero(target.train | target.holdout):
        for r, region in enumerate(obs.regions):
            rows.append({"date": str(times[t])[:10], "region": region,
                         "part": "train" if target.train[t] else "holdout",
                         "observed": float(obs.persons[t, r]), "fitted": float(fitted[t, r]),
                         "as_given": float(baseline[t, r]) if baseline is not None else ""})
    return rows


def write_outputs(plan: Plan, out: Path, trials: list[Trial], baseline: Trial) -> dict:
    """Write ``fit.json``, ``series.csv`` and ``fit.png`` (atomically); return the fit."""
    from simulator.outputs.calibration_plot import fit_figure
    from simulator.outputs.plots import png_bytes

    fit = fit_summary(plan, trials, baseline)
    best = fit["best"]
    fitted = _series(plan, out, best["run_id"])
    given = _series(plan, out, baseline.run_id)
    times = (np.datetime64(plan.scenario.start_date, "D")
             + np.arange(plan.scenario.n_steps) * plan.scenario.step_days)
    split = None if plan.target.split_step is None else times[plan.target.split_step]
    values = ", ".join(f"{k} = {v:.4g}" for k, v in best["params"].items())
    hold = "" if best["holdout_score"] is None else f", hold-out {best['holdout_score']:.3g}"
    title = (f"{plan.scenario.name}: {values}\n{plan.objective} train {best['train_score']:.3g}"
             f"{hold} (trial {best['trial']} of {len(trials)})")
    fig = fit_figure(times, plan.target.observed.regions, plan.target.observed.persons, fitted,
                     given, plan.target.train | plan.target.holdout, split,
                     f"persons ({plan.target.measure})", title)
    write_file(out / "series.csv", lambda p: p.write_text(
        csv_text(series_rows(plan, times, fitted, given)), encoding="utf-8"))
    write_file(out / "fit.png", lambda p: p.write_bytes(png_bytes(fig)))
    write_file(out / "fit.json", lambda p: p.write_text(json.dumps(fit, indent=2) + "\n",
                                                         encoding="utf-8"))
    return fit


def calibrate(plan: Plan, out: Path, workers: int = 1, engine: str = "local",
              scheduler: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict:
    """Claim ``out``, run (or resume) the search and write its outputs; return ``fit.json``.

    Raises:
        InputError: for a folder of another calibration or of other files, a folder in use by
            another process, or a calibration whose every run failed.
    """
    from simulator.runs.sweep import lock

    for module in ("optuna", *(["cmaes"] if plan.sampler == "cmaes" else [])):
        try:
            importlib.import_module(module)  # checked before the folder is claimed
        except ImportError:
            raise InputError("calibrate", f"{module} is not installed; pip install "
                                          "'.[calibrate]'") from None
    claim(plan, out)
    held = lock(out)
    try:
        trials, baseline = search(plan, out, workers, engine, scheduler, progress)
        return write_outputs(plan, out, trials, baseline)
    finally:
        held.close()
