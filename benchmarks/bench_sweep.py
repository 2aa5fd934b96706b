"""Sweep throughput: runs per minute of the demo sweep with 1 and 2 workers.

    python benchmarks/bench_sweep.py                # scenarios/sweeps/demo.toml, 1 and 2 workers
    python benchmarks/bench_sweep.py --households 1e5 --steps 365 --runs 8   # 10^5 x 365 days
    python benchmarks/bench_sweep.py --quick --out /tmp/b.json   # tiny; used by the tests

Each measurement starts a fresh sweep folder, so every run is computed; the time includes
worker start-up, input loading and writing every run folder and the combined dataset.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "scenarios" / "sweeps" / "demo.toml"
QUICK = """base = "{base}"
set = ["n_steps=20"]
[grid]
"impact.damage_threshold" = [0.5, 0.6]
"""


def time_sweep(spec: Path, workers: int) -> dict:
    """Run the sweep from scratch in a temporary folder and time it."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simulator", "sweep", str(spec), "--out",
                        str(Path(tmp) / "sweep"), "--workers", str(workers)], check=True,
                       capture_output=True)
        seconds = time.perf_counter() - t0
        runs = len(list((Path(tmp) / "sweep" / "runs").iterdir()))
    return {"workers": workers, "runs": runs, "seconds": seconds,
            "runs_per_minute": runs / seconds * 60}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--households", type=float, help="instead of the demo sweep: replicates of "
                    "the demo with this many households")
    ap.add_argument("--steps", type=int, default=365)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    spec = SPEC
    with tempfile.TemporaryDirectory() as tmp:
        if args.households:
            spec = Path(tmp) / "scale.toml"
            spec.write_text(f'base = "{(HERE.parent / "scenarios" / "demo.toml").as_posix()}"\n'
                            f"replicates = {args.runs}\n"
                            f'set = ["population.households={int(args.households)}", '
                            f'"n_steps={args.steps}"]\n')
        if args.quick:
            spec = Path(tmp) / "quick.toml"
            spec.write_text(QUICK.format(base=(HERE.parent / "scenarios" / "demo.toml")
                                         .as_posix()))
            args.workers = [1]
        rows = [time_sweep(spec, w) for w in args.workers]
    for r in rows:
        print(f"{r['workers']} worker(s): {r['runs']} runs in {r['seconds']:.1f} s = "
              f"{r['runs_per_minute']:.0f} runs/min (command included: start-up, combine)")
    report = {"date": dt.date.today().isoformat(), "cpus": os.cpu_count(),
              "spec": "quick" if args.quick else (
                  f"demo x {args.runs} replicates, {int(args.households)} households, "
                  f"{args.steps} steps" if args.households else str(SPEC.relative_to(HERE.parent))),
              "results": rows}
    suffix = f"-sweep-{int(args.households)}" if args.households else "-sweep"
    out = args.out or HERE / "results" / f"{report['date']}{suffix}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
