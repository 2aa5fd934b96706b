"""Calibration time: 200 trials of a 10^5-household, 90-day scenario with 2 workers (issue 16).

    python benchmarks/bench_calibrate.py                  # 10^5 households, 90 days, 200 trials
    python benchmarks/bench_calibrate.py --sampler cmaes --trials 64
    python benchmarks/bench_calibrate.py --quick --out /tmp/c.json   # tiny; used by the tests

The case is the shipped synthetic calibration case (``scenarios/calibration/make_case.py``),
written into a temporary folder with ``--steps`` days of flood series and run with
``population.households`` set; its observed series is made by the model at the case's true
values with another seed, by ``make_case.write_observed``. ``climdisp calibrate`` then fits the
two parameters that made it, in a child process timed whole (interpreter start-up, every run,
scoring, the outputs). Peak memory is sampled every 0.1 s over the calibration process and its
workers: the largest sum of their resident memory, and the largest single process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASE = HERE.parent / "scenarios" / "calibration"
PARAMS = ["impact.damage_threshold=0.3:0.7", "return.repair_days_total_loss=20:120"]


def make_case_module():
    """``scenarios/calibration/make_case.py``, imported from its file (it is not a package)."""
    spec = importlib.util.spec_from_file_location("make_case", CASE / "make_case.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree_rss(root: int) -> tuple[int, int]:
    """Resident bytes of ``root`` and its descendants: their sum and the largest one."""
    parent, rss = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        pid = int(stat.parent.name)
        parent[pid], rss[pid] = int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    sizes = [rss.get(pid, 0) for pid in tree]
    return sum(sizes), max(sizes)


def timed(cmd: list[str]) -> dict:
    """Run ``cmd``, sampling its process tree's memory; its wall time and peaks."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sum = peak_one = 0
    while proc.poll() is None:
        total, largest = tree_rss(proc.pid)
        peak_sum, peak_one = max(peak_sum, total), max(peak_one, largest)
        time.sleep(0.1)
    seconds = time.perf_counter() - t0
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr}")
    return {"seconds": seconds, "peak_rss_total_mb": peak_sum / 2**20,
            "peak_rss_process_mb": peak_one / 2**20, "stdout": stdout}


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages (the machine is shared)."""
    return [round(x, 2) for x in os.getloadavg()]


def bench(args: argparse.Namespace, tmp: Path) -> dict:
    """Write the case, calibrate it and report times, memory and the fit."""
    make_case = make_case_module()
    households = f"population.households={int(args.households)}"
    scenario = make_case.write_inputs(tmp / "case", n_steps=args.steps)
    observed = make_case.write_observed(scenario, overrides=(households,))
    cmd = [sys.executable, "-m", "simulator", "calibrate", str(scenario), "--observed",
           str(observed), "--params", *PARAMS, "--set", households, "--out", str(tmp / "cal"),
           "--trials", str(args.trials), "--batch", str(args.batch), "--sampler", args.sampler,
           "--holdout-from", args.holdout_from, "--workers", str(args.workers)]
    load_before = load_average()
    run = timed(cmd)
    fit = json.loads((tmp / "cal" / "fit.json").read_text())
    runs = len(list((tmp / "cal" / "runs").glob("[!.]*/results.nc")))
    return {"households": int(args.households), "n_steps": args.steps, "trials": fit["trials"],
            "runs": runs, "batch": args.batch, "sampler": args.sampler,
            "holdout_from": args.holdout_from, "workers": args.workers,
            "seconds": run["seconds"], "evaluations_per_minute": fit["trials"] / run["seconds"]
            * 60, "peak_rss_total_mb": run["peak_rss_total_mb"],
            "peak_rss_process_mb": run["peak_rss_process_mb"],
            "load_before": load_before, "load_after": load_average(),
            "true": make_case.TRUE, "best": fit["best"]["params"],
            "train_score": fit["best"]["train_score"],
            "holdout_score": fit["best"]["holdout_score"],
            "baseline_train_score": fit["baseline"]["train_score"],
            "baseline_holdout_score": fit["baseline"]["holdout_score"],
            "behavioural_ranges": fit["behavioural"]["ranges"], "objective": fit["objective"],
            "failed_trials": fit["failed_trials"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=float, default=1e5)
    ap.add_argument("--steps", type=int, default=90, help="days (the flood is over by day 30)")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--sampler", choices=["tpe", "cmaes"], default="tpe")
    ap.add_argument("--holdout-from", default="0.75")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="tiny run so the script never rots")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.households, args.steps, args.trials, args.batch, args.workers = 2000, 40, 4, 2, 1
    with tempfile.TemporaryDirectory() as tmp:
        row = bench(args, Path(tmp))
    print(f"{row['trials']} trials ({row['runs']} runs) of {row['households']:,} households x "
          f"{row['n_steps']} days, {row['workers']} worker(s): {row['seconds']:.0f} s = "
          f"{row['evaluations_per_minute']:.1f} evaluations/min; peak RSS "
          f"{row['peak_rss_total_mb']:.0f} MB in all processes ({row['peak_rss_process_mb']:.0f} "
          f"MB the largest); load {row['load_before']} before, {row['load_after']} after")
    print("best " + ", ".join(f"{k} = {v:.4g} (true {row['true'][k]:.4g})"
                              for k, v in row["best"].items())
          + f"; {row['objective']} train {row['train_score']:.3g}, hold-out "
          f"{row['holdout_score']:.3g} (as given: {row['baseline_train_score']:.3g} / "
          f"{row['baseline_holdout_score']:.3g})")
    report = {"date": dt.date.today().isoformat(), "cpus": os.cpu_count(),
              "spec": "quick" if args.quick else "synthetic calibration case, scaled",
              "results": [row]}
    out = args.out or HERE / "results" / f"{report['date']}-calibrate.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
