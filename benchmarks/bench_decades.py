"""Benchmark decades: a futures scenario run daily for 30 years with all behaviour on (issue 19).

Runs ``scenarios/futures-ssp585.toml`` (yearly floods drawn from return-period maps per period,
income growth, background migration, yearly decisions, warnings) with daily steps for the given
years and households in a fresh process, and reports start-up, run time, time per phase, the
number of flood events and peak RSS. Issue 19's targets: 10^6 households x 30 years daily in
under 3 minutes and 1 GB; 10^7 x 30 years in under 30 minutes.

    python benchmarks/bench_decades.py --households 1e6 --years 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_core import fresh, write_report  # noqa: E402  (a sibling script)


def measure(households: int, years: int) -> dict:
    """One run in this process (call through :func:`child` for a clean peak RSS)."""
    import resource
    import time

    from simulator import DisplacementModel, load_scenario

    steps = (dt.date(2025 + years, 1, 1) - dt.date(2025, 1, 1)).days
    cfg = load_scenario(ROOT / "scenarios" / "futures-ssp585.toml",
                        [f"population.households={households}", "step_days=1",
                         f"n_steps={steps}"])
    t0 = time.perf_counter()
    model = DisplacementModel(cfg, profile=True)
    t1 = time.perf_counter()
    ds = model.run()
    t2 = time.perf_counter()
    return {"households": len(model.households), "years": years, "steps": steps,
            "startup_s": round(t1 - t0, 2), "run_s": round(t2 - t1, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "phase_seconds": {k: round(v, 2) for k, v in model.phase_seconds.items()},
            "flood_events": int(model.inputs.hazard.start.size),
            "displaced_persons": int(ds["newly_displaced"].sum())}


def child(households: int, years: int) -> dict:
    """Measure in a fresh interpreter."""
    return fresh("bench_decades", f"measure({households}, {years})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=float, nargs="+", default=[1e6])
    parser.add_argument("--years", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a tiny run so the script never rots")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args()
    sizes, years = ([2000], 1) if args.quick else ([int(h) for h in args.households], args.years)
    results = []
    for n in sizes:
        r = child(n, years)
        results.append(r)
        print(f"{r['households']:>11,} households x {r['years']} years daily ({r['steps']} steps): "
              f"run {r['run_s']} s, start-up {r['startup_s']} s, peak RSS {r['peak_rss_mb']} MB, "
              f"{r['flood_events']} flood events; phases {r['phase_seconds']}")
    if args.out:
        write_report({"date": dt.date.today().isoformat(), "results": results}, args.out)


if __name__ == "__main__":
    main()
