"""Benchmark streamed hazards: peak memory and wall time against the years of a daily hazard.

Writes a synthetic daily flood hazard on a 100 x 100 grid (10,000 cells, all populated) as
ISIMIP-style yearly NetCDF files, one flood season a year, and runs it for 10, 20 and 30 years
(one step a day) with the hazard held in memory (``hazard.stream = false``) and streamed from
disk (``true``). Each run is a fresh Python process so its peak memory (ru_maxrss) is its own.

    python benchmarks/bench_stream.py                       # 10, 20, 30 years; 10^5 households
    python benchmarks/bench_stream.py --households 1e6      # the issue's size
    python benchmarks/bench_stream.py --quick --out /tmp/stream.json   # tiny; used by the tests

Writes ``benchmarks/results/<date>-stream.json`` (or ``--out``) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_core import fresh, write_report  # noqa: E402  (a sibling script)

FIRST_YEAR = 2001


def write_case(folder: Path, years: int, side: int) -> Path:
    """Yearly hazard files, population, regions and a scenario matching the first ``years``.

    The hazard files are written once to ``folder/files``; each length of run gets its own
    folder linking to its years only, so an in-memory run reads no more than it simulates.
    """
    files = write_files(folder / "files", years, side)
    case = folder / f"years_{years}"
    case.mkdir(exist_ok=True)
    for path in [*files[:years], *(folder / "files").glob("[pr]*.*")]:
        link = case / path.name
        if not link.exists():
            link.symlink_to(path)
    return write_scenario(case)


def write_files(folder: Path, years: int, side: int) -> list[Path]:
    """Yearly hazard files (at least ``years``), population and regions; the hazard files."""
    import pandas as pd
    import xarray as xr

    folder.mkdir(parents=True, exist_ok=True)
    lat = 10.0 + 0.01 * np.arange(side)
    lon = 20.0 + 0.01 * np.arange(side)
    for year in range(FIRST_YEAR, FIRST_YEAR + years):
        path = folder / f"flddph_{year}.nc"
        if path.exists():
            continue
        rng = np.random.default_rng(year)
        time = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
        depth = np.zeros((time.size, side, side), np.float32)
        wet = rng.uniform(size=(side, side)) < 0.1  # a tenth of the cells flood each season
        crest = rng.uniform(0.2, 2.5, (side, side)).astype(np.float32)
        season = np.arange(180, 220)
        shape = np.sin(np.pi * (season - 180) / 40).astype(np.float32)[:, None, None]
        depth[season] = np.where(wet, crest, 0.0) * shape
        xr.Dataset({"flddph": (("time", "lat", "lon"), depth, {"units": "m"})},
                   coords={"time": time, "lat": lat, "lon": lon}).to_netcdf(path)
    grid = {"lat": lat, "lon": lon}
    region = (np.arange(side)[:, None] >= side // 2) * 2 + (np.arange(side)[None, :] >= side // 2)
    xr.Dataset({"population": (("lat", "lon"), np.full((side, side), 45.0))},
               coords=grid).to_netcdf(folder / "pop.nc")
    xr.Dataset({"region_id": (("lat", "lon"), region.astype(np.int16))},
               coords=grid).to_netcdf(folder / "regions.nc")
    (folder / "regions.csv").write_text("id,name\n0,NW\n1,NE\n2,SW\n3,SE\n")
    return sorted(folder.glob("flddph_*.nc"))[:years]


def write_scenario(folder: Path) -> Path:
    """The scenario reading ``folder``'s files (one step a day; the runs set ``n_steps``)."""
    scenario = folder / "stream.toml"
    scenario.write_text(f"""name = "stream"
seed = 1
start_date = {FIRST_YEAR}-01-01
step_days = 1
n_steps = 365

[hazard]
file = "flddph_*.nc"
variable = "flddph"
kind = "flood_depth"

[population]
file = "pop.nc"
variable = "population"
persons_per_household = 4.5

[regions]
file = "regions.nc"
variable = "region_id"
names = "regions.csv"

[capacity.default]
host = 2000
shelter = 2000
camp = 0
rental = 1000
""")
    return scenario


def measure(scenario: str, years: int, households: int, stream: bool) -> dict:
    """Load and run once in this process; times and peak memory (called in a child process)."""
    import resource
    import time

    from simulator import DisplacementModel, load_scenario
    from simulator.inputs.load import load_inputs

    t0 = time.perf_counter()
    n_steps = sum(366 if (FIRST_YEAR + y) % 4 == 0 else 365 for y in range(years))
    cfg = load_scenario(scenario, [f"n_steps={n_steps}", f"population.households={households}",
                                   f"hazard.stream={str(stream).lower()}"])
    inputs = load_inputs(cfg)
    t1 = time.perf_counter()
    hazard = inputs.hazard
    held = hazard.values.nbytes if not stream else None
    ds = DisplacementModel(cfg, inputs=inputs).run()
    t2 = time.perf_counter()
    if stream:
        held = hazard.held_bytes
    return {"years": years, "n_steps": n_steps, "stream": stream,
            "households": households, "sites": int(hazard.values.shape[1]),
            "load_inputs_s": t1 - t0, "run_s": t2 - t1, "total_s": t2 - t0,
            "hazard_held_mb": held / 2**20,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "newly_displaced_persons": int(ds["newly_displaced"].sum())}


def child(scenario: Path, years: int, households: int, stream: bool) -> dict:
    """Measure in a fresh interpreter."""
    return fresh("bench_stream", f"measure({str(scenario)!r}, {years}, {households}, {stream})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its JSON report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", nargs="+", type=int, default=[10, 20, 30])
    ap.add_argument("--households", type=float, default=1e5)
    ap.add_argument("--side", type=int, default=100, help="grid side: side^2 cells")
    ap.add_argument("--folder", type=Path, help="where to write (and keep) the hazard files")
    ap.add_argument("--quick", action="store_true", help="tiny run so the script never rots")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.years, args.households, args.side = [1, 2], 2000, 20
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for years in args.years:
            scenario = write_case(args.folder or Path(tmp), years, args.side)
            for stream in (False, True):
                row = child(scenario, years, int(args.households), stream)
                rows.append(row)
                print(f"{years:>3} years, {'streamed' if stream else 'in memory'}: peak RSS "
                      f"{row['peak_rss_mb']:.0f} MB (hazard held {row['hazard_held_mb']:.1f} "
                      f"MB), load {row['load_inputs_s']:.1f} s, run {row['run_s']:.1f} s, "
                      f"{row['newly_displaced_persons']:,} newly displaced", flush=True)
    report = {"date": dt.date.today().isoformat(), "machine": platform.machine(),
              "cpus": os.cpu_count(), "python": platform.python_version(),
              "grid_cells": args.side ** 2, "households": int(args.households),
              "results": rows}
    write_report(report, args.out or HERE / "results" / f"{report['date']}-stream.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
