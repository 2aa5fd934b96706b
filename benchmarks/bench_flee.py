"""Side by side: climdisp against the Flee package on the same DFlee flood case (issue 7b).

The script writes a synthetic flood case in Flee's folder layout (``input_csv/locations.csv``,
``routes.csv``, ``sim_period.csv``, ``flood_level.csv`` and a ``simsetting.yml`` with DFlee's
flood-driven spawning in pop_ratio mode), deterministic from a seed:

- ``towns`` flood towns along a river, ``persons_per_town`` residents each, with one flood wave
  moving downstream (integer levels 1-4, rising one level a day, holding, falling);
- one unflooded hub town (half a flood town's residents) per four flood towns, on the road
  between the river and the camps;
- ``camps`` camps on higher ground, holding together 1.1 times the displacement expected from
  the flood levels and rates.

Each model runs in its own process, so that peak memory (``getrusage``) is its own:

- **climdisp**: ``simulator.interop.flee.convert.import_flee`` into a temporary folder, then
  ``load_scenario``, ``load_inputs``, ``DisplacementModel(...).run()``;
- **Flee 3.1** (PyPI), only with ``--flee``: installed on first use into a virtual environment
  (``benchmarks/.flee-venv``, ``--no-deps`` plus the four packages it imports for a serial run),
  driven by ``benchmarks/flee_driver.py`` as Flee's runscripts/run.py drives a case.

    python benchmarks/bench_flee.py --flee             # the small flood scenario, both models
    python benchmarks/bench_flee.py                    # climdisp only; says how to add Flee
    python benchmarks/bench_flee.py --quick --out /tmp/f.json

With ``--flee-case DIR`` the script writes no flood case: it benchmarks the Flee case folder DIR
(e.g. FabFlee's conflict validation case mali2012) whole process against whole process, the
climdisp command line against the Flee driver, alternating, ``--repeats`` each
(``benchmarks/flee_case.py``); results go to ``results/<date>-flee-<case>.json``:

    python benchmarks/bench_flee.py --flee --flee-case /work/shared/data/fabflee/conflict/mali2012
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "flee_driver.py"
FLEE_VENV = HERE / ".flee-venv"
FLEE_VERSION = "3.1"  #: the last release on PyPI
FLEE_DEPS = ("numpy", "pandas", "pyyaml", "beartype")  #: what flee 3.1 imports, run serially
RATES = (0.0, 0.02, 0.05, 0.1, 0.2)  #: share of a town's residents leaving per day, by level
ROAD_FACTOR = 1.25  #: road distance over great-circle distance
START = dt.date(2024, 9, 1)


@dataclass(frozen=True)
class FloodCase:
    """Size of the synthetic flood case."""

    towns: int = 24
    persons_per_town: int = 12_500
    camps: int = 4
    days: int = 45
    seed: int = 1

    @property
    def hubs(self) -> int:
        """Unflooded hub towns, one per four flood towns."""
        return math.ceil(self.towns / 4)


SMALL = FloodCase()  #: 337,500 residents, of whom about 140,000 are displaced
TINY = FloodCase(towns=3, persons_per_town=400, camps=1, days=10)


def flood_levels(case: FloodCase, rng: np.random.Generator) -> np.ndarray:
    """(days, towns) integer flood levels: one wave moving downstream over 40 % of the run."""
    levels = np.zeros((case.days, case.towns), dtype=int)
    for k in range(case.towns):
        onset = 1 + int(k * 0.4 * case.days / case.towns) + int(rng.integers(0, 3))
        peak, hold = int(rng.integers(2, 5)), int(rng.integers(2, 7))
        wave = [*range(1, peak + 1), *[peak] * hold, *range(peak - 1, 0, -1)]
        span = levels[onset:onset + len(wave), k]
        span[:] = wave[:span.size]
    return levels


def expected_displaced(case: FloodCase, levels: np.ndarray) -> float:
    """Persons expected to leave: each day a share RATES[level] of those still at home."""
    stay = np.prod(1.0 - np.asarray(RATES)[levels], axis=0)
    return float(case.persons_per_town * (1.0 - stay).sum())


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (km), haversine on a 6371 km sphere."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def write_case(folder: Path, case: FloodCase) -> dict:
    """Write the DFlee case into ``folder``; returns a summary (persons, capacity, expected)."""
    rng = np.random.default_rng(case.seed)
    levels = flood_levels(case, rng)
    expect = expected_displaced(case, levels)
    span = 0.1 * max(case.towns - 1, 1)  # degrees of longitude along the river
    towns = [(f"T{k:02d}", 10.0 + float(rng.uniform(-0.02, 0.02)), 30.0 + 0.1 * k)
             for k in range(case.towns)]
    hubs = [(f"H{j}", 10.3, 30.0 + 0.4 * j + 0.15) for j in range(case.hubs)]
    camps = [(f"C{c}", 10.6, 30.0 + span * (c + 0.5) / case.camps) for c in range(case.camps)]
    weight = rng.uniform(0.5, 1.5, case.camps)
    capacity = np.maximum(np.round(1.1 * expect * weight / weight.sum()), 1).astype(int)
    rows = ["#name,region,country,lat,lon,location_type,conflict_date,population"]
    rows += [f"{n},Valley,X,{la:.4f},{lo:.4f},flood_zone,,{case.persons_per_town}"
             for n, la, lo in towns]
    rows += [f"{n},Valley,X,{la:.4f},{lo:.4f},town,,{case.persons_per_town // 2}"
             for n, la, lo in hubs]
    rows += [f"{n},Hills,X,{la:.4f},{lo:.4f},camp,,{cap}" for (n, la, lo), cap in
             zip(camps, capacity, strict=True)]
    place = {n: (la, lo) for n, la, lo in towns + hubs + camps}
    links = [(towns[k][0], towns[k + 1][0]) for k in range(case.towns - 1)]
    links += [(towns[k][0], hubs[k // 4][0]) for k in range(case.towns)]
    links += [(hubs[j][0], hubs[j + 1][0]) for j in range(case.hubs - 1)]
    for name, la, lo in camps:  # each camp is reached from its two nearest hubs
        near = sorted(hubs, key=lambda h, la=la, lo=lo: km(la, lo, h[1], h[2]))[:2]
        links += [(h[0], name) for h in near]
    routes = ["#name1,name2,distance"] + [
        f"{a},{b},{ROAD_FACTOR * km(*place[a], *place[b]):.1f}" for a, b in links]
    flood = ["#Day," + ",".join(n for n, _, _ in towns)] + [
        f"{t}," + ",".join(str(v) for v in levels[t]) for t in range(case.days)]
    files = {
        "input_csv/locations.csv": rows, "input_csv/routes.csv": routes,
        "input_csv/sim_period.csv": [f"StartDate,{START.isoformat()}", f"Length,{case.days}"],
        "input_csv/flood_level.csv": flood,
        "simsetting.yml": ["spawn_rules:", "  take_from_population: True",
                           "  conflict_zone_spawning_only: False",
                           "  flood_zone_spawning_only: True", "  flood_driven_spawning:",
                           '    spawn_mode: "pop_ratio"',
                           f"    displaced_per_flood_day: {list(RATES)}"],
    }
    for name, lines in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("\n".join(lines) + "\n")
    return {**asdict(case), "hubs": case.hubs,
            "residents": case.towns * case.persons_per_town
            + case.hubs * (case.persons_per_town // 2),
            "flooded_residents": case.towns * case.persons_per_town,
            "camp_capacity": int(capacity.sum()), "expected_displaced": round(expect),
            "rates_by_level": list(RATES)}


def run_ours(case_dir: Path, seed: int) -> dict:
    """Import, load and run the case with climdisp (in this process); returns the report."""
    from simulator.inputs.config import load_scenario
    from simulator.inputs.load import load_inputs
    from simulator.interop.flee.convert import import_flee
    from simulator.model import DisplacementModel

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        scenario, _ = import_flee(case_dir, Path(tmp) / "scenario")
        import_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        cfg = load_scenario(scenario, [f"seed={seed}"])
        model = DisplacementModel(cfg, inputs=load_inputs(cfg, scenario))
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ds = model.run()
        run_s = time.perf_counter() - t0
    displaced = ds["persons"].sel(state="displaced").sum("region")
    camps = ds["occupancy"].sel(place="camp").sum("region")
    return {"seed": seed, "days": int(ds.sizes["time"]), "setup_s": import_s + load_s,
            "import_s": import_s, "load_s": load_s, "run_s": run_s,
            "residents": int(ds.attrs["total_persons"]), "households": len(model.households),
            "displaced": int(ds["newly_displaced"].sum()), "in_camps": int(camps[-1]),
            "displaced_person_days": int(displaced.sum()),
            "in_camps_by_day": [int(v) for v in camps.values],
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def child(cmd: list[str], out: Path) -> dict:
    """Run ``cmd`` (which writes JSON to ``out``); adds its wall time; exits on failure."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        sys.exit(f"error: {Path(cmd[1]).name} failed (exit {proc.returncode}):\n{tail}")
    return {**json.loads(out.read_text()), "process_wall_s": wall}


def repeated(cmd: list[str], out: Path, repeats: int) -> dict:
    """Run ``cmd`` ``repeats`` times, each in a fresh process; median times, with their range.

    Both models are seeded, so the counts are those of every repeat.
    """
    runs = [child(cmd, out) for _ in range(repeats)]
    merged = dict(runs[0], repeats=repeats)
    for key in ("setup_s", "run_s", "process_wall_s", "peak_rss_bytes"):
        values = [r[key] for r in runs]
        merged[key] = float(np.median(values))
        merged[f"{key}_range"] = [min(values), max(values)]
    return merged


def ensure_flee_venv(venv: Path, python: str) -> Path:
    """The Python of ``venv`` with flee installed; creates the environment on first use.

    ``pip install flee`` would pull in mpi4py, muscle3 and seaborn for the parallel and coupled
    runs; a serial run imports only FLEE_DEPS, so flee goes in with ``--no-deps``.
    """
    py = venv / "bin" / "python"
    probe = "import flee.flee, flee.InputGeography, pandas, yaml, beartype"
    if py.exists() and subprocess.run([str(py), "-c", probe], capture_output=True).returncode == 0:
        return py
    print(f"installing flee {FLEE_VERSION} into {venv} (once) ...", flush=True)
    steps = [[python, "-m", "venv", str(venv)],
             [str(py), "-m", "pip", "install", "--quiet", "--no-deps", f"flee=={FLEE_VERSION}"],
             [str(py), "-m", "pip", "install", "--quiet", *FLEE_DEPS]]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"error: could not set up Flee in {venv}: '{' '.join(cmd)}' failed: "
                     f"{(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return py


def ratio(a: float, b: float) -> float | None:
    """a / b, or None when b is 0."""
    return a / b if b else None


def compare(ours: dict, flee: dict | None) -> dict:
    """Throughputs of each side and the Flee-over-climdisp ratios."""
    for side in filter(None, (ours, flee)):
        side["simulated_days_per_s"] = side["days"] / side["run_s"]
    ours["person_days_per_s"] = ours["residents"] * ours["days"] / ours["run_s"]
    ours["displaced_person_days_per_s"] = ours["displaced_person_days"] / ours["run_s"]
    if flee is None:
        return {}
    flee["agent_days_per_s"] = flee["agent_days"] / flee["run_s"]
    flee["displaced"] = flee["agents"]  # Flee's agents are the displaced; none go home
    keys = ("setup_s", "run_s", "process_wall_s", "peak_rss_bytes", "displaced", "in_camps")
    out = {f"flee_over_ours_{k}": ratio(flee[k], ours[k]) for k in keys}
    out["flee_over_ours_displaced_days_per_s"] = ratio(flee["agent_days_per_s"],
                                                       ours["displaced_person_days_per_s"])
    return out


def report(case: dict, ours: dict, flee: dict | None, ratios: dict) -> None:
    """Print the side-by-side table."""
    print(f"flood case: {case['towns']} towns x {case['persons_per_town']:,} persons "
          f"(+{case['hubs']} hubs), {case['camps']} camps ({case['camp_capacity']:,} places), "
          f"{case['days']} days; {case['residents']:,} residents, "
          f"{case['expected_displaced']:,} displaced expected")
    rows = [("set-up: import + load (s)", "setup_s", "{:.3f}"), ("run (s)", "run_s", "{:.2f}"),
            ("process wall (s)", "process_wall_s", "{:.1f}"),
            ("peak RSS (MB)", "peak_rss_bytes", "{:.0f}"),
            ("simulated days per s", "simulated_days_per_s", "{:.2f}"),
            ("displaced (persons)", "displaced", "{:,}"), ("in camps at the end", "in_camps",
                                                           "{:,}")]
    name = f"Flee {flee['flee_version'].lstrip('v')}" if flee else "Flee"
    print(f"{'':28}{'climdisp':>14}{name:>14}{'Flee/climdisp':>15}")
    for label, key, fmt in rows:
        scale = 2**20 if key == "peak_rss_bytes" else 1
        mine = fmt.format(ours[key] / scale if scale > 1 else ours[key])
        theirs = fmt.format(flee[key] / scale if scale > 1 else flee[key]) if flee else "-"
        r = ratios.get(f"flee_over_ours_{key}")
        print(f"{label:28}{mine:>14}{theirs:>14}{'' if r is None else f'{r:.3g}x':>15}")
    print(f"{'displaced person-days per s':28}{ours['displaced_person_days_per_s']:>14.3g}"
          f"{(format(flee['agent_days_per_s'], '.3g') if flee else '-'):>14}")
    print(f"{'all person-days per s':28}{ours['person_days_per_s']:>14.3g}{'-':>14}")


def run_flee_case(args: argparse.Namespace) -> int:
    """``--flee-case``: benchmark an existing Flee case folder (see flee_case.py)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    from flee_case import bench_case, report

    case = args.flee_case.resolve()
    if not (case / "input_csv" / "locations.csv").is_file():
        sys.exit(f"error: --flee-case {case}: no input_csv/locations.csv; give a Flee case folder")
    py = ensure_flee_venv(args.flee_venv, args.flee_python) if args.flee else None
    row = bench_case(case, args.repeats, py, DRIVER, args.seed)
    if not args.flee:
        row["flee_skipped"] = (f"Flee skipped: add --flee to install flee {FLEE_VERSION} into "
                               f"{args.flee_venv} (once, from PyPI) and run it side by side")
    report(row)
    if not args.flee:
        print(row["flee_skipped"])
    out = args.out or HERE / "results" / f"{row['date']}-flee-{case.name}.json"
    out.write_text(json.dumps({"date": row["date"], "results": [row]}, indent=2))
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flee", action="store_true",
                    help=f"also run Flee {FLEE_VERSION}, installing it into --flee-venv once")
    ap.add_argument("--quick", action="store_true", help="a tiny case (the test suite's run)")
    for field, default in asdict(SMALL).items():
        ap.add_argument(f"--{field.replace('_', '-')}", type=int, default=default)
    ap.add_argument("--repeats", type=int, default=3,
                    help="runs of each model, each in a fresh process (median reported)")
    ap.add_argument("--case-dir", type=Path, help="write the Flee case here and keep it")
    ap.add_argument("--flee-case", type=Path, metavar="DIR",
                    help="benchmark this Flee case folder, whole process against whole process, "
                         "instead of the synthetic flood case")
    ap.add_argument("--flee-venv", type=Path, default=FLEE_VENV)
    ap.add_argument("--flee-python", default=sys.executable,
                    help="the Python that creates the Flee environment")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--run-ours", type=Path, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args(argv)
    if args.run_ours:
        args.out.write_text(json.dumps(run_ours(args.run_ours, args.seed)))
        return 0
    if args.quick:
        args.repeats = 1
    if args.flee_case:
        return run_flee_case(args)
    case = TINY if args.quick else FloodCase(args.towns, args.persons_per_town, args.camps,
                                             args.days, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = args.case_dir or tmp / "flood-case"
        summary = write_case(folder, case)
        ours = repeated([sys.executable, __file__, "--run-ours", str(folder), "--seed",
                         str(case.seed), "--out", str(tmp / "ours.json")], tmp / "ours.json",
                        args.repeats)
        flee, skipped = None, None
        if args.flee:
            py = ensure_flee_venv(args.flee_venv, args.flee_python)
            flee = repeated([str(py), str(DRIVER), str(folder), "--seed", str(case.seed),
                             "--out", str(tmp / "flee.json")], tmp / "flee.json", args.repeats)
        else:
            skipped = (f"Flee skipped: add --flee to install flee {FLEE_VERSION} into "
                       f"{args.flee_venv} (once, from PyPI) and run it side by side")
    ratios = compare(ours, flee)
    report(summary, ours, flee, ratios)
    if skipped:
        print(skipped)
    row = {"case": summary, "climdisp": ours, "flee": flee, "flee_skipped": skipped,
           "ratios": ratios}
    out = args.out or HERE / "results" / f"{dt.date.today().isoformat()}-flee.json"
    out.write_text(json.dumps({"date": dt.date.today().isoformat(), "results": [row]}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
