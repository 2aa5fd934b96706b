"""Command line: ``climdisp run | validate | ... | dashboard`` (a thin layer over the Python API).

Bad input prints one line ``error: <file>: <field>: <what was expected>`` to stderr and exits with
code 2, without a traceback and without leaving partial output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from simulator.errors import InputError

EXIT_BAD_INPUT = 2


class Progress:
    """A step counter on stderr, shown only once a run has taken more than ``after_s`` seconds."""

    def __init__(self, label: str, after_s: float = 2.0) -> None:
        self.label, self.after_s = label, after_s
        self.start = time.perf_counter()
        self.last = 0.0
        self.shown = False
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` steps."""
        now = time.perf_counter() - self.start
        if now < self.after_s or (now - self.last < (0.2 if self.tty else 10.0) and done < total):
            return
        self.last, self.shown = now, True
        frac = done / total
        eta = now / frac - now if frac > 0 else 0.0
        bar = "#" * int(30 * frac)
        text = f"{self.label} [{bar:<30}] {done}/{total} steps, {now:.0f} s, ~{eta:.0f} s left"
        print(("\r" + text) if self.tty else text, end="" if self.tty else "\n", file=sys.stderr,
              flush=True)
        if done == total and self.tty:
            print(file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="climdisp", description="Climate displacement scenario "
                                 "simulator: households respond to hazard grids.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write a results folder")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--out", type=Path, help="run folder (default results/<name>/<time>-seed<N>)")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="dotted.key=value", help="override a field, e.g. capacity.default."
                     "shelter=5000 (repeatable)")
    run.add_argument("--replicates", type=int, help="run N seeds (derived from the scenario "
                     "seed) into one results folder with a replicate dimension (default 1; with "
                     "--uncertainty: seeds per sample, default 2)")
    run.add_argument("--uncertainty", type=int, metavar="N", help="an uncertainty ensemble: N "
                     "samples of the uncertain parameters (docs/parameters.md), each run with "
                     "--replicates seeds, in parallel and resumably (docs/model.md, Uncertainty)")
    run.add_argument("--workers", type=int, help="--uncertainty: parallel runs (default: every "
                     "core)")
    run.add_argument("--engine", choices=("local", "dask"), default="local",
                     help="--uncertainty: local process pool or Dask")
    run.add_argument("--scheduler", help="--uncertainty: dask scheduler address")
    run.add_argument("--quiet", action="store_true", help="print only the run folder")
    val = sub.add_parser("validate", help="check a scenario and its input files without running")
    val.add_argument("scenario", type=Path)
    val.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="dotted.key=value")
    summ = sub.add_parser("summary", help="print the per-region summary of a run folder")
    summ.add_argument("run_dir", type=Path)
    rep = sub.add_parser("report", help="write a report folder (HTML, CSV, PNG) for a run")
    rep.add_argument("run_dir", type=Path)
    rep.add_argument("--out", type=Path, help="report folder (default RUN_DIR/report)")
    rep.add_argument("--needs", type=Path, help="TOML with [standards] overriding Sphere values "
                     "and [available.\"<region>\"] stocks (see results/README.md)")
    cmp = sub.add_parser("compare", help="compare runs side by side (the first is the baseline)")
    cmp.add_argument("run_dirs", type=Path, nargs="+")
    cmp.add_argument("--out", type=Path, required=True, help="comparison folder")
    cmp.add_argument("--allow-mismatch", action="store_true", help="compare runs that differ "
                     "in regions, start date, number of steps or step length (refused otherwise)")
    rk = sub.add_parser("risk", help="displacement per return period and average annual "
                        "displacement (AAD) from return-period hazard maps")
    rk.add_argument("scenario", type=Path)
    rk.add_argument("--out", type=Path, required=True, help="risk folder")
    rk.add_argument("--replicates", type=int, default=1)
    rk.add_argument("--years", type=int, default=10_000, help="stochastic years sampled")
    rk.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="dotted.key=value")
    fu = sub.add_parser("futures", help="climate futures: each scenario and its counterfactual "
                        "without climate change (same seeds), climate migrants by year")
    fu.add_argument("scenarios", type=Path, nargs="+", help="scenario files with [futures]")
    fu.add_argument("--out", type=Path, required=True, help="folder for the runs and report")
    fu.add_argument("--seed", type=int, default=None)
    fu.add_argument("--replicates", type=int, default=1)
    fu.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="dotted.key=value")
    fl = sub.add_parser("import-flee", help="convert a Flee or DFlee case folder into a "
                        "scenario folder (docs/flee.md)")
    fl.add_argument("flee_dir", type=Path, help="Flee case folder (input_csv/, source_data/, "
                    "simsetting.yml)")
    fl.add_argument("--out", type=Path, required=True, help="scenario folder to create")
    fl.add_argument("--movement", choices=("direct", "routes"), default="direct",
                    help="placement.movement: a direct trip to a camp (default) or Flee's walk "
                         "along the routes")
    sw = sub.add_parser("sweep", help="run many scenarios (grid or sample x replicates) in "
                        "parallel, resumably, into one dataset")
    sw.add_argument("spec", type=Path, help="sweep TOML file (see scenarios/README.md)")
    sw.add_argument("--out", type=Path, required=True, help="sweep folder (created; reused "
                    "to resume)")
    sw.add_argument("--workers", type=int, help="parallel runs (default: every core)")
    sw.add_argument("--engine", choices=("local", "dask"), default="local")
    sw.add_argument("--scheduler", help="dask scheduler address (default: a local cluster)")
    sw.add_argument("--combine", action="store_true", help="only combine the finished runs")
    cal = sub.add_parser("calibrate", help="fit scenario parameters to an observed series "
                         "(optuna TPE through the sweep engine; resumable)")
    cal.add_argument("scenario", type=Path, help="scenario TOML file")
    cal.add_argument("--observed", type=Path, required=True, help="CSV: date, then persons per "
                     "region (scenarios/README.md, 'Calibration')")
    cal.add_argument("--params", nargs="+", required=True, metavar="NAME=LOW:HIGH",
                     help="parameters to fit with their bounds, e.g. "
                     "impact.damage_threshold=0.3:0.7 (integer bounds: integer values)")
    cal.add_argument("--out", type=Path, required=True, help="calibration folder (created; "
                     "reused to resume or to add trials)")
    cal.add_argument("--measure", default="displaced", help="what the observed columns count: "
                     "displaced or evacuated (persons by home region), or a place: camp, "
                     "shelter, host, rental, self_arranged, unsheltered (persons staying in the "
                     "region); default displaced")
    cal.add_argument("--objective", default="ard", choices=("ard", "ard_rescaled", "poisson"))
    cal.add_argument("--holdout-from", default="0.75", help="hold out the observed steps from "
                     "this date (YYYY-MM-DD) or this fraction of the observed period on; 'none' "
                     "for no hold-out (default 0.75)")
    cal.add_argument("--trials", type=int, default=40, help="runs of the model (default 40)")
    cal.add_argument("--batch", type=int, default=8, help="trials asked at once and run in "
                     "parallel (part of the calibration's identity; default 8)")
    cal.add_argument("--sampler", choices=("tpe", "cmaes"), default="tpe", help="optuna's "
                     "TPE (default; any number of parameters) or CMA-ES (two or more "
                     "parameters; one generation per batch)")
    cal.add_argument("--seed", type=int, default=0, help="the sampler's seed (default 0)")
    cal.add_argument("--tolerance", type=float, default=0.1, help="behavioural set: trials "
                     "within this relative distance of the best training score (default 0.1)")
    cal.add_argument("--workers", type=int, help="parallel runs (default: every core)")
    cal.add_argument("--engine", choices=("local", "dask"), default="local")
    cal.add_argument("--scheduler", help="dask scheduler address (default: a local cluster)")
    cal.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="dotted.key=value", help="fixed override for every run")
    dash = sub.add_parser("dashboard", help="serve the interactive dashboard (planner levers "
                          "that re-run the scenario) in a browser; needs pip install '.[viz]'")
    dash.add_argument("scenario", type=Path)
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                      "127.0.0.1: this machine only)")
    dash.add_argument("--port", type=int, default=8765)
    dash.add_argument("--set", dest="overrides", action="append", default=[],
                      metavar="dotted.key=value", help="override a field, e.g. n_steps=180 for "
                      "quicker re-runs (repeatable)")
    return ap


def _dashboard(args: argparse.Namespace) -> int:
    from simulator.ui.dashboard import serve

    if not 0 < args.port < 65536:
        raise InputError("--port", f"expected a port number 1-65535, got {args.port}")
    return serve(args.scenario, args.overrides, host=args.host, port=args.port)


def _run(args: argparse.Namespace) -> int:
    from simulator.inputs.config import load_scenario
    from simulator.outputs.analysis import format_table, summary_rows
    from simulator.runs.run import run_scenario

    if args.seed is not None and not 0 <= args.seed < 2**63:  # as the scenario's seed field
        raise InputError("--seed", f"expected an integer from 0 to 2**63 - 1, got {args.seed}")
    if args.uncertainty is not None:
        return _uncertainty(args)
    args.replicates = 1 if args.replicates is None else args.replicates
    if args.replicates < 1:
        raise InputError("--replicates", f"expected an integer >= 1, got {args.replicates}")
    scenario = load_scenario(args.scenario, args.overrides)
    progress = None if args.quiet else Progress(scenario.name)
    t0 = time.perf_counter()
    out, ds = run_scenario(scenario, out=args.out, seed=args.seed, where=args.scenario,
                           progress=progress, replicates=args.replicates)
    if args.quiet:
        print(out)
        return 0
    elapsed = time.perf_counter() - t0
    manifest = json.loads((out / "manifest.json").read_text())
    grown = "births" in ds  # people.population_growth_file: total_persons is the end's
    start = int(ds["persons"].isel(time=0).sum()) if grown else ds.attrs["total_persons"]
    print(f"\nScenario '{scenario.name}': {ds.attrs['households']:,} households of "
          f"{start:,} persons, synthesised from the population input's "
          f"{manifest['population_input_persons']:,} persons"
          + (f" ({ds.attrs['total_persons']:,} at the end, with births and deaths)" if grown
             else "") + f"; {scenario.n_steps} steps of "
          f"{scenario.step_days} day(s), seed {ds.attrs['seed']}"
          + (f", {args.replicates} replicates (table: medians; their spread is seed noise "
             f"only, for parameter uncertainty use --uncertainty N)" if args.replicates > 1
             else "")
          + f", {elapsed:.1f} s\n")
    rows = summary_rows(ds)
    print(format_table(rows))
    _print_borders(rows)
    owed = float(ds.attrs.get("prescribed_not_displaced_persons", 0))
    if owed > 0:
        print(f"\nnote: {owed:,.0f} prescribed persons could not be displaced: nobody was left "
              f"at home where the hazard was on (results attribute "
              f"prescribed_not_displaced_persons)")
    if "validation" in manifest:
        v = manifest["validation"]
        print(f"\nAgainst the observations ({v['place']} occupancy, {v['days']} days): averaged "
              f"relative difference (ARD) {v['ard']:.3f}, rescaled {v['ard_rescaled']:.3f}; "
              f"day by day in out.csv (Flee's layout)")
    print(f"\nResults written to {out}/\n"
          f"  results.nc     persons by state, occupancy vs capacity, flows, unmet shelter "
          f"(NetCDF; xarray.open_dataset)\n"
          f"  config.toml    the resolved scenario (rerun: climdisp run {out}/config.toml "
          f"--out NEW_DIR)\n"
          f"  manifest.json  seed, versions, input file hashes, wall time\n"
          f"Read more: climdisp summary {out}   |   README.md, 'Reading the results'")
    return 0


def _failed_runs(failed: list[str], total: int, out: Path) -> None:
    """Say on stderr which runs of a sweep or ensemble failed, and how to retry them."""
    print(f"error: {len(failed)} of {total} runs failed or are missing: "
          + ", ".join(failed[:10]) + (" ..." if len(failed) > 10 else "")
          + f" (see {out}/runs/<run-id>/error.txt; rerun the same command to retry)",
          file=sys.stderr)


def _uncertainty(args: argparse.Namespace) -> int:
    from simulator.inputs.config import load_scenario
    from simulator.outputs.uncertainty import open_ensemble, summary_text
    from simulator.runs.sweep import worker_count
    from simulator.runs.uncertainty import run_ensemble

    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"expected an integer >= 1, got {args.workers}")
    scenario = load_scenario(args.scenario, args.overrides)
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    reps = 2 if args.replicates is None else args.replicates
    out = args.out or Path("results") / scenario.name / (
        f"uncertainty-n{args.uncertainty}x{reps}-seed{scenario.seed}")
    workers = worker_count(args.workers)
    t0 = time.perf_counter()
    sweep, statuses, failed = run_ensemble(
        scenario, args.scenario, args.uncertainty, reps, out, workers=workers,
        engine=args.engine, scheduler=args.scheduler,
        progress=None if args.quiet else SweepProgress())
    if failed:
        _failed_runs(failed, len(sweep.tasks), out)
        return 1
    if args.quiet:
        print(out)
        return 0
    print(f"\nUncertainty ensemble '{scenario.name}': {args.uncertainty} samples of "
          f"{len(sweep.parameters)} parameters x {reps} seeds = {len(sweep.tasks)} runs, "
          f"{len(statuses)} run now with {workers} {args.engine} worker(s) in "
          f"{time.perf_counter() - t0:.0f} s\n")
    print(summary_text(open_ensemble(out)))
    print(f"\nBands: 5-95 % over all runs (parameters and seeds). params/seeds: shares of the "
          f"variance from the parameters and from seed noise.\nWritten to {out}/uncertainty.nc "
          f"(dims sample x replicate; one coordinate per parameter). Report: climdisp report "
          f"{out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from simulator.inputs.config import load_scenario
    from simulator.inputs.load import load_inputs
    from simulator.inputs.units import cf_units
    from simulator.levers import resolve

    scenario = load_scenario(args.scenario, args.overrides)
    inputs = load_inputs(scenario, args.scenario)
    resolve(scenario, inputs.region_names, args.scenario,  # every lever names known regions
            inputs.region_country)
    persons = round(float(inputs.cell_persons.sum()))
    unit = "" if cf_units(scenario.hazard.kind) == "1" else cf_units(scenario.hazard.kind)
    print(f"{args.scenario}: OK - scenario '{scenario.name}', {len(inputs.region_names)} regions, "
          f"{inputs.cell_persons.size:,} populated locations, {persons:,} persons in the "
          f"population input (runs synthesise households from them: sizes are drawn, so a "
          f"run's persons differ by sampling), "
          f"{scenario.hazard.kind} '{scenario.hazard.variable or 'intensity'}' peak "
          f"{float(inputs.hazard.step_max.max()):.2f}{' ' + unit if unit else ''} over "
          f"{int((inputs.hazard.step_max > 0).sum())} of {scenario.n_steps} steps")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from simulator.outputs.analysis import format_table, summary_rows
    from simulator.outputs.folders import open_run

    ds = open_run(args.run_dir)
    print(f"Run {args.run_dir}: scenario '{ds.attrs.get('scenario')}', "
          f"seed {ds.attrs.get('seed')}, {ds.sizes['time']} steps from "
          f"{str(ds['time'].values[0])[:10]}\n")
    rows = summary_rows(ds)
    print(format_table(rows))
    _print_borders(rows)
    return 0


def _print_borders(rows: list[dict]) -> None:
    """One line on moves across borders (runs with countries and borders only)."""
    total = rows[-1]
    if "irregular_crossings" in total:
        print(f"\nAcross borders: {total['regular_crossings']:,} persons crossed regularly, "
              f"{total['irregular_crossings']:,} irregularly ({total['sent_back']:,} more were "
              f"sent back); {total['stranded_at_border']:,} wanted to cross and could not. By "
              f"country pair, route and group: climdisp report RUN_DIR")


class SweepProgress:
    """Runs done, failed and time left, on stderr."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, failed: int, total: int) -> None:
        """Report ``done`` of ``total`` runs, ``failed`` of which failed."""
        now = time.perf_counter() - self.start
        eta = now / done * (total - done) if done else float("nan")
        bar = "#" * int(30 * done / total) if total else ""
        text = (f"sweep [{bar:<30}] {done}/{total} runs, {failed} failed, {now:.0f} s"
                + (f", ~{eta:.0f} s left" if done else ""))
        print(("\r" + text) if self.tty else text, end="" if self.tty else "\n",
              file=sys.stderr, flush=True)
        if done == total and self.tty:
            print(file=sys.stderr)


def _sweep(args: argparse.Namespace) -> int:
    from simulator.runs.sweep import claim, combine, execute, lock, worker_count
    from simulator.runs.sweepspec import load_sweep

    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"expected an integer >= 1, got {args.workers}")
    sweep = load_sweep(args.spec)
    claim(sweep, args.out)
    held = lock(args.out)
    if not args.combine:
        workers = worker_count(args.workers)
        t0 = time.perf_counter()
        statuses = execute(sweep, args.out, workers=workers, engine=args.engine,
                           scheduler=args.scheduler, progress=SweepProgress())
        minutes = (time.perf_counter() - t0) / 60
        print(f"Sweep '{sweep.name}' ({sweep.method}): {len(sweep.tasks)} runs, "
              f"{len(statuses)} run now with {workers} {args.engine} worker(s)"
              + (f", {len(statuses) / minutes:.1f} runs/min" if statuses else "")
              + f"; {len(sweep.tasks) - len(statuses)} already done")
    out, failed = combine(sweep, args.out)
    held.close()
    print(f"Combined into {out}/sweep.nc and {out}/summary.csv"
          + (" (and sensitivity.csv)" if (out / "sensitivity.csv").exists() else ""))
    if failed:
        _failed_runs(failed, len(sweep.tasks), out)
        return 1
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from simulator.runs.calibrate import calibrate
    from simulator.runs.calibspec import make_plan
    from simulator.runs.sweep import worker_count

    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"expected an integer >= 1, got {args.workers}")
    plan = make_plan(args.scenario, args.observed, args.params, measure=args.measure,
                     objective=args.objective, holdout_from=args.holdout_from,
                     trials=args.trials, batch=args.batch, seed=args.seed,
                     tolerance=args.tolerance, sampler=args.sampler,
                     overrides=tuple(args.overrides))
    workers = worker_count(args.workers)
    t0 = time.perf_counter()
    fit = calibrate(plan, args.out, workers=workers, engine=args.engine,
                    scheduler=args.scheduler, progress=lambda done, total: print(
                        f"calibrate: {done}/{total} trials, {time.perf_counter() - t0:.0f} s",
                        file=sys.stderr, flush=True))
    best, base, beh = fit["best"], fit["baseline"], fit["behavioural"]

    def scores(entry: dict) -> str:
        hold = entry["holdout_score"]
        return (f"train {entry['train_score']:.4g}"
                + (f", hold-out {hold:.4g}" if hold is not None else ""))

    print(f"Calibrated '{plan.scenario.name}' against {args.observed} ({fit['measure']}, "
          f"{len(fit['regions'])} region(s)): {fit['trials']} trials, {args.objective}, fitted "
          f"{fit['fitted_from']} to {fit['fitted_to']}"
          + (f", held out {fit['holdout_from']} to {fit['holdout_to']}"
             if fit["holdout_from"] else "") + f"; {time.perf_counter() - t0:.0f} s")
    print(f"{'parameter':<40} {'best':>12} {'behavioural range':>26}")
    for name, value in best["params"].items():
        lo, hi = beh["ranges"][name]
        print(f"{name:<40} {value:>12.4g} {lo:>12.4g} - {hi:<12.4g}")
    print(f"score of the best trial ({best['trial']}): {scores(best)}; the scenario as given: "
          f"{scores(base) if base['train_score'] is not None else 'failed'}")
    print(f"behavioural set: {beh['trials']} trial(s) within {beh['tolerance']:.0%} of the best")
    if fit["failed_trials"]:
        print(f"note: {fit['failed_trials']} trial run(s) failed (see {args.out}/runs/<run-id>/"
              f"error.txt)", file=sys.stderr)
    print(f"Written to {args.out}/: fit.json, trials.csv, series.csv, fit.png")
    return 0


def _report(args: argparse.Namespace) -> int:
    from simulator.outputs.report import write_report

    out = write_report(args.run_dir, args.out, args.needs)
    print(f"Report written to {out}/ (open {out}/index.html; tables as CSV, figures as PNG)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from simulator.outputs.report import compare_runs

    if len(args.run_dirs) < 2:
        raise InputError("compare", "give at least two run folders (the first is the baseline)")
    out, rows = compare_runs(args.run_dirs, args.out, args.allow_mismatch)
    total = {(r["run"], r["indicator"]): r for r in rows if r["region"] == "TOTAL"}
    shown = [("peak_displaced", "peak displaced"),
             ("unmet_shelter_person_days", "unmet person-days")]
    if all((run, "irregular_crossings") in total for run, _ in total):  # runs with borders
        shown += [("irregular_crossings", "irregular"), ("stranded_at_border", "stranded")]
    print(f"{'run':<30}" + "".join(f" {label:>18} {'diff':>10}" for _, label in shown))
    for run in dict.fromkeys(r["run"] for r in rows):
        cells = [total[(run, key)] for key, _ in shown]
        print(f"{run:<30}" + "".join(f" {c['value']:>18,.0f} {c['diff_to_baseline']:>+10,.0f}"
                                     for c in cells))
    print(f"Comparison written to {out}/ (index.html, comparison.csv, regions.csv, figures)")
    return 0


def _risk(args: argparse.Namespace) -> int:
    from simulator.runs.risk import assess

    for name in ("replicates", "years"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name}", f"expected an integer >= 1, got {getattr(args, name)}")
    out, risk_rows, aad_rows = assess(args.scenario, args.out, tuple(args.overrides),
                                      args.replicates, args.years)
    by_rp = "return_period_years" in risk_rows[0]
    print(f"{'region':<16} {'AAD (persons/yr)':>17} {'sampled':>10}   displaced per event by "
          f"{'return period' if by_rp else 'event'}")
    for row in aad_rows:
        curve = ", ".join((f"{r['return_period_years']:g}y" if by_rp else r["event"])
                          + f": {r['displaced']:,.0f}"
                          for r in risk_rows if r["region"] == row["region"])
        print(f"{row['region']:<16} {row['aad']:>17,.0f} {row['aad_sampled_years']:>10,.0f}   "
              f"{curve}")
    print(f"Risk written to {out}/ (aad.csv, risk.csv, risk_curve.png)")
    return 0


def _futures(args: argparse.Namespace) -> int:
    from simulator.runs.futures import run_futures

    if args.replicates < 1:
        raise InputError("--replicates", f"expected an integer >= 1, got {args.replicates}")
    report, marks = run_futures(args.scenarios, args.out, tuple(args.overrides), args.seed,
                                args.replicates, lambda name: print(f"running {name} ..."))
    print(f"\n{'scenario':<14} {'by end of':>9} {'climate migrants':>17} "
          f"{'climate displaced':>18} {'moved':>10} {'displaced':>10}")
    for r in marks:
        print(f"{r['scenario']:<14} {r['by_end_of']:>9} {r['climate_migrants']:>17,} "
              f"{r['climate_displaced']:>18,} {r['moved']:>10,} {r['displaced']:>10,}")
    print(f"\nClimate migrants: persons who made a new home elsewhere, scenario minus its "
          f"counterfactual without climate change (same seeds).\nReport written to {report}/ "
          f"(index.html, yearly.csv, milestones.csv, futures.png); runs in {args.out}/runs/")
    return 0


def _import_flee(args: argparse.Namespace) -> int:
    from simulator.interop.flee.convert import import_flee

    path, notes = import_flee(args.flee_dir, args.out, args.movement)
    print(f"Scenario written to {path}")
    for note in notes:
        print(f"  note: {note}")
    print(f"Next: climdisp run {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``climdisp`` console script."""
    args = _parser().parse_args(argv)
    handler = {"run": _run, "validate": _validate, "summary": _summary, "sweep": _sweep,
               "report": _report, "compare": _compare, "risk": _risk, "futures": _futures,
               "import-flee": _import_flee, "dashboard": _dashboard,
               "calibrate": _calibrate}[args.command]
    try:
        return handler(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
