"""Benchmark the core model: household-steps per second, start-up and peak memory by size.

Runs the demo scenario (all of today's behaviour on) with ``population.households`` set to each
size, each measurement in a fresh Python process so peak memory (ru_maxrss) is its own.

    python benchmarks/bench_core.py                  # 10^4 to 10^7 households, 3 repeats
    python benchmarks/bench_core.py --sizes 1e5 1e6 --repeats 1
    python benchmarks/bench_core.py --quick --out /tmp/bench.json   # tiny; used by the tests

Writes ``benchmarks/results/<date>.json`` (or ``--out``) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "scenarios" / "demo.toml"


def measure(households: int, n_steps: int) -> dict:
    """Run once in this process and report times and memory (called in a child process)."""
    import resource
    import time

    from simulator import DisplacementModel, load_scenario
    from simulator.inputs.load import load_inputs

    t0 = time.perf_counter()
    cfg = load_scenario(SCENARIO, [f"population.households={households}", f"n_steps={n_steps}"])
    inputs = load_inputs(cfg)
    t1 = time.perf_counter()
    fixed_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # libraries + inputs
    model = DisplacementModel(cfg, inputs=inputs, profile=True)
    t2 = time.perf_counter()
    marks = [time.perf_counter()]  # the end of every step
    cpu = [time.process_time()]  # the same in CPU time: steadier on a shared machine
    ds = model.run(progress=lambda done, total: (marks.append(time.perf_counter()),
                                                 cpu.append(time.process_time())))
    t3 = time.perf_counter()
    n = len(model.households)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"households": n, "n_steps": n_steps, "load_inputs_s": t1 - t0,
            "synthesis_s": t2 - t1, "run_s": t3 - t2, "run_cpu_s": cpu[-1] - cpu[0],
            "household_steps_per_s": n * n_steps / (t3 - t2),
            "bytes_per_household": model.households.nbytes_per_household(),
            "peak_rss_mb": peak_mb, "fixed_rss_mb": fixed_mb,
            "peak_bytes_per_household": (peak_mb - fixed_mb) * 2**20 / n,
            "phase_seconds": model.phase_seconds,
            "step_seconds": step_kinds(model, np.diff(marks)),
            "step_cpu_seconds": step_kinds(model, np.diff(cpu)),
            "peak_displaced_persons": int(ds["persons"].sel(state="displaced")
                                          .sum("region").max())}


def step_kinds(model, seconds: np.ndarray) -> dict[str, float]:
    """Median seconds of a step by kind: an event (hazard somewhere), a decision, or quiet.

    Quiet steps have no hazard and no decision due; households may still be away (returns,
    the unsheltered looking again). ``quiet_over_event`` is the median quiet step as a share of
    the median event step (issue 21's sparse steps).
    """
    from simulator.steps.decide import decision_step

    n = seconds.size
    event = model.inputs.hazard.step_max[:n] > 0
    decision = np.array([decision_step(model.ctx, t) for t in range(n)]) & ~event
    quiet = ~event & ~decision
    out = {}
    for name, mask in (("event", event), ("decision", decision), ("quiet", quiet)):
        out[name] = float(np.median(seconds[mask])) if mask.any() else float("nan")
        out[f"{name}_steps"] = int(mask.sum())
    out["quiet_over_event"] = out["quiet"] / out["event"]
    return out


def fresh(module: str, call: str) -> dict:
    """``module.call`` (a ``measure(...)`` returning JSON-able results) in a fresh interpreter.

    Each measurement runs in its own process, so its peak memory (ru_maxrss) is its own. Used
    by the other benchmarks of this folder too.
    """
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import {module}; "
            f"print(json.dumps({module}.{call}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_report(report: dict, out: Path) -> None:
    """Write a benchmark's JSON report atomically (a temporary sibling, then renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=out.parent, delete=False, suffix=".tmp") as fh:
        json.dump(report, fh, indent=2)
    os.replace(fh.name, out)
    print(f"wrote {out}")


def child(households: int, n_steps: int) -> dict:
    """Measure in a fresh interpreter."""
    return fresh("bench_core", f"measure({households}, {n_steps})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6, 1e7])
    ap.add_argument("--steps", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="tiny run so the script never rots")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.steps, args.repeats = [2000], 40, 1
    rows = []
    for size in args.sizes:
        runs = [child(int(size), args.steps) for _ in range(args.repeats)]
        rate = [r["household_steps_per_s"] for r in runs]
        row = {**runs[0], "repeats": len(runs), "household_steps_per_s": statistics.median(rate),
               "household_steps_per_s_range": [min(rate), max(rate)],
               "run_s": statistics.median(r["run_s"] for r in runs),
               "run_cpu_s": statistics.median(r["run_cpu_s"] for r in runs),
               "synthesis_s": statistics.median(r["synthesis_s"] for r in runs),
               "load_inputs_s": statistics.median(r["load_inputs_s"] for r in runs),
               "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
               "peak_bytes_per_household": max(r["peak_bytes_per_household"] for r in runs)}
        rows.append(row)
        print(f"{row['households']:>10,} households x {args.steps} steps: "
              f"{row['household_steps_per_s']:.3g} household-steps/s "
              f"(range {min(rate):.3g}-{max(rate):.3g}), run {row['run_s']:.2f} s "
              f"({row['run_cpu_s']:.2f} s CPU), "
              f"start-up {row['load_inputs_s'] + row['synthesis_s']:.2f} s, "
              f"peak RSS {row['peak_rss_mb']:.0f} MB ({row['peak_bytes_per_household']:.0f} B/"
              f"household above the fixed {row['fixed_rss_mb']:.0f} MB), state "
              f"{row['bytes_per_household']:.0f} B/household")
        for label, kinds in (("", row["step_seconds"]), (" CPU", row["step_cpu_seconds"])):
            print(f"           median step{label} (ms): " + ", ".join(
                f"{k} {1e3 * kinds[k]:.1f} ({kinds[k + '_steps']} steps)"
                for k in ("event", "decision", "quiet"))
                  + f"; a quiet step costs {kinds['quiet_over_event']:.0%} of an event step")
        phases = row["phase_seconds"]
        print("           time per phase (s): " + ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(phases.items(), key=lambda kv: -kv[1])))
    report = {"date": dt.date.today().isoformat(), "machine": platform.machine(),
              "cpus": os.cpu_count(), "python": platform.python_version(),
              "scenario": str(SCENARIO.relative_to(HERE.parent)), "results": rows}
    write_report(report, args.out or HERE / "results" / f"{report['date']}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
