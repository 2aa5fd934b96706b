"""National-scale synthetic conflict cases: time, memory and the cost of a quiet day (issue 21).

The script writes a conflict case in Flee's folder layout, deterministic from a seed, imports it
with ``climdisp import-flee`` and runs it whole (``climdisp run``) in a fresh process:

- ``locations`` towns sharing ``residents`` persons (lognormal sizes), a tenth of them conflict
  zones whose conflicts start on staggered days (``conflicts.csv``, intensity 1) and some end;
- ``camps`` camps across the border, each linked to its nearest towns, holding together 1.2
  times the persons displaced;
- Flee's validation spawning: ``refugees.csv`` prescribes the new displaced of each day
  (``displaced_per_day`` on average, in waves, none on three days in ten), drawn at the
  conflict zones by population × intensity (``impact.prescribed_weights = "conflict"``).

Households are ``--persons-per-household`` persons (default 5, about the household size of
Nigeria or Ethiopia; the import's default of 1 is Flee's agent, one person).

    python benchmarks/bench_conflict.py                              # 21 M x 1,095 and 217 M x 395
    python benchmarks/bench_conflict.py --residents 2e6 --days 100   # one case
    python benchmarks/bench_conflict.py --quick --out /tmp/c.json    # the test suite's run

Reported per case: wall time of the whole run, results folder written (import excluded,
reported apart), peak
resident memory of the run's process (``getrusage``), the model's memory estimate made before
allocating, households, bytes of state per household, the per-location result tables, time per
phase, and the median step with a spawning day against a step with nobody to spawn.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
START = dt.date(2020, 1, 1)
#: The issue's two cases: (residents, days, locations).
CASES = ((21_000_000, 1095, 400), (217_000_000, 395, 800))


def write_case(folder: Path, residents: int, days: int, locations: int, camps: int,
               per_day: int, seed: int) -> dict:
    """Write the Flee case into ``folder``; returns its summary."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0.0, 1.0, locations)
    pop = np.maximum(np.round(size / size.sum() * residents), 1).astype(np.int64)
    lat, lon = rng.uniform(4.0, 14.0, locations), rng.uniform(3.0, 15.0, locations)
    zones = rng.choice(locations, max(locations // 10, 1), replace=False)
    onset = np.sort(rng.integers(0, max(days // 2, 1), zones.size))
    onset[0] = 0
    ends = np.where(rng.random(zones.size) < 0.3, onset + rng.integers(30, days + 30, zones.size),
                    days + 1)
    kind = np.full(locations, "town", dtype=object)
    kind[zones] = "conflict_zone"
    date = np.full(locations, "", dtype=object)
    date[zones] = onset.astype(str)
    rows = ["#name,region,country,lat,lon,location_type,conflict_date,population"]
    rows += [f"L{i},R,X,{lat[i]:.4f},{lon[i]:.4f},{kind[i]},{date[i]},{pop[i]}"
             for i in range(locations)]
    camp_lat, camp_lon = rng.uniform(14.5, 15.5, camps), rng.uniform(3.0, 15.0, camps)
    wave = 1.0 + 0.8 * np.sin(np.arange(days) * 2 * np.pi / 90.0)  # waves of 90 days
    lull = rng.random(days) < 0.3  # days without new displaced: the quiet steps measured
    daily = np.where(lull, 0, rng.poisson(per_day * wave / 0.7))
    daily[0] = 0
    total = np.cumsum(daily)
    share = rng.dirichlet(np.ones(camps))
    capacity = np.maximum(np.round(1.2 * total[-1] * share), 10).astype(int)
    rows += [f"C{c},R,Y,{camp_lat[c]:.4f},{camp_lon[c]:.4f},camp,,{capacity[c]}"
             for c in range(camps)]
    links = [f"L{i},L{j},{_km(lat[i], lon[i], lat[j], lon[j]):.1f}"
             for i in range(locations) for j in _nearest(lat, lon, i, 3)]
    for c in range(camps):  # each camp is reached from its three nearest towns
        d = np.hypot(lat - camp_lat[c], lon - camp_lon[c])
        links += [f"L{i},C{c},{_km(lat[i], lon[i], camp_lat[c], camp_lon[c]):.1f}"
                  for i in np.argsort(d)[:3]]
    conflict = np.zeros((days, zones.size), dtype=int)
    for k in range(zones.size):
        conflict[onset[k]:min(ends[k], days), k] = 1
    files = {
        "input_csv/locations.csv": rows,
        "input_csv/routes.csv": ["#name1,name2,distance", *sorted(set(links))],
        "input_csv/sim_period.csv": [f"StartDate,{START.isoformat()}", f"Length,{days}"],
        "input_csv/conflicts.csv": ["#Day," + ",".join(f"L{z}" for z in zones)] + [
            f"{t}," + ",".join(map(str, conflict[t])) for t in range(days)],
        "source_data/data_layout.csv": ["total,refugees.csv"] + [
            f"C{c},c{c}.csv" for c in range(camps)],
        "source_data/refugees.csv": [f"{START + dt.timedelta(days=t)},{total[t]}"
                                     for t in range(days)],
        "simsetting.yml": ["log_levels:", "  agent: 0", "spawn_rules:",
                           "  take_from_population: False", "move_rules:",
                           "  max_move_speed: 360", "  softening: 10"],
    }
    for c in range(camps):
        files[f"source_data/c{c}.csv"] = [f"{START + dt.timedelta(days=t)},"
                                          f"{int(total[t] * share[c])}" for t in range(days)]
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("\n".join(lines) + "\n")
    return {"residents": int(pop.sum()), "days": days, "locations": locations,
            "conflict_zones": int(zones.size), "camps": camps,
            "prescribed_displaced": int(total[-1]), "camp_places": capacity.tolist()}


def _km(la1: float, lo1: float, la2: float, lo2: float) -> float:
    """Great-circle distance (km), haversine."""
    p1, p2 = np.radians(la1), np.radians(la2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(
        np.radians(lo2 - lo1) / 2) ** 2
    return float(2 * 6371.0 * np.arcsin(np.sqrt(a)))


def _nearest(lat: np.ndarray, lon: np.ndarray, i: int, k: int) -> np.ndarray:
    """The ``k`` towns nearest town ``i`` (not itself)."""
    d = np.hypot(lat - lat[i], lon - lon[i])
    d[i] = np.inf
    return np.argsort(d)[:k]


def run_case(scenario: Path, out: Path, overrides: list[str]) -> dict:
    """Run in this process, timed and profiled; returns the measurements."""
    t0 = time.perf_counter()
    from simulator import DisplacementModel, load_scenario
    from simulator.model import memory_estimate
    from simulator.outputs.folders import write_run

    cfg = load_scenario(scenario, overrides)
    model_t = time.perf_counter()
    model = DisplacementModel(cfg, profile=True)
    estimate = memory_estimate(cfg, model.inputs)
    start_s = time.perf_counter() - model_t
    steps, quiet = [], []
    prescribed = model.inputs.prescribed
    run_t = time.perf_counter()
    for t in range(cfg.n_steps):
        s = time.perf_counter()
        model.step()
        steps.append(time.perf_counter() - s)
        quiet.append(prescribed[t] + model.prescribed_owed <= 0.5)
    model.world.flush_hits()
    model.verify()
    ds = model.results()
    run_s = time.perf_counter() - run_t
    write_t = time.perf_counter()
    write_run(ds, cfg, out.parent / "run", {"seed": cfg.seed})  # results.nc, as climdisp run
    write_s = time.perf_counter() - write_t
    steps, quiet = np.array(steps), np.array(quiet)
    hh = model.world.households
    rec = model.world.recorder
    tables = rec.nbytes  # the dense arrays and what the sparse pair tables hold
    event = float(np.median(steps[~quiet])) if (~quiet).any() else None
    calm = float(np.median(steps[quiet])) if quiet.any() else None
    return {"households": len(hh), "persons": int(model.world.total_persons),
            "state_bytes_per_household": hh.nbytes_per_household(),
            "result_table_bytes": int(tables), "regions": len(model.inputs.region_names),
            "memory_estimate_bytes": int(estimate["household_bytes"]
                                         + 2 * estimate["result_bytes"]),  # as check_memory
            "startup_s": start_s, "run_s": run_s, "write_s": write_s,
            "process_s": time.perf_counter() - t0,
            "phase_seconds": model.phase_seconds,
            "median_step_s": {"spawning": event, "quiet": calm,
                              "quiet_over_spawning": calm / event if event and calm else None,
                              "quiet_steps": int(quiet.sum())},
            "displaced": int(ds["newly_displaced"].sum()),
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def one(residents: int, days: int, locations: int, args: argparse.Namespace) -> dict:
    """Write, import and run one case in fresh processes; returns its row."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = write_case(tmp / "flee", residents, days, locations, args.camps,
                          args.displaced_per_day, args.seed)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simulator", "import-flee", str(tmp / "flee"),
                        "--out", str(tmp / "scen")], check=True, capture_output=True)
        import_s = time.perf_counter() - t0
        overrides = [f"population.persons_per_household={args.persons_per_household}"]
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--child", str(tmp / "scen"),
                               "--out", str(tmp / "m.json"), "--", *overrides],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"error: the run failed:\n{proc.stderr[-3000:]}")
        got = json.loads((tmp / "m.json").read_text())
    return {"case": case, "persons_per_household": args.persons_per_household,
            "import_s": import_s, "process_wall_s": wall, **got}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=float, help="one case of this many persons")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--locations", type=int, default=400)
    ap.add_argument("--camps", type=int, default=12)
    ap.add_argument("--displaced-per-day", type=int, default=2000)
    ap.add_argument("--persons-per-household", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a tiny case (the test suite's run)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # the run's own process
    ap.add_argument("overrides", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        got = run_case(args.child / "scenario.toml", args.out, args.overrides)
        args.out.write_text(json.dumps(got))
        return 0
    if args.quick:
        cases = [(20_000, 30, 30)]
        args.displaced_per_day = 50
    elif args.residents:
        cases = [(int(args.residents), args.days, args.locations)]
    else:
        cases = list(CASES)
    rows = []
    for residents, days, locations in cases:
        row = one(residents, days, locations, args)
        rows.append(row)
        steps = row["median_step_s"]
        print(f"{residents:,} residents x {days} days ({row['households']:,} households, "
              f"{row['regions']} locations): whole run {row['process_wall_s']:.1f} s "
              f"(start-up {row['startup_s']:.1f} s, steps {row['run_s']:.1f} s, writing "
              f"{row['write_s']:.1f} s), peak RSS "
              f"{row['peak_rss_bytes'] / 1e9:.2f} GB (estimate "
              f"{row['memory_estimate_bytes'] / 1e9:.2f} GB); a quiet step "
              f"{(steps['quiet'] or 0) * 1e3:.2f} ms, a spawning step "
              f"{(steps['spawning'] or 0) * 1e3:.2f} ms; import {row['import_s']:.1f} s",
              flush=True)
    out = args.out or HERE / "results" / f"{dt.date.today().isoformat()}-conflict.json"
    out.write_text(json.dumps({"date": dt.date.today().isoformat(),
                               "load_before": list(__import__("os").getloadavg()),
                               "results": rows}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
