"""Run a DFlee flood case with the Flee package (serial), timed; for bench_flee.py.

Run with the Python of the Flee virtual environment (benchmarks/.flee-venv), never imported by
climdisp. It does for a flood case what Flee's runscripts/run.py does for a conflict case, with
the Flee 3.1 API (the last release on PyPI, whose wheel has no runscripts/):

1. ``SimulationSettings.ReadFromYML(simsetting.yml)``;
2. ``InputGeography``: ``ReadLocationsFromCSV``, ``ReadLinksFromCSV``, ``ReadClosuresFromCSV``
   (when the file exists), ``StoreInputGeographyInEcosystem``; flood levels with
   ``ReadAttributeInputCSV("flood_level", "int", input_csv/flood_level.csv)``, one row per day;
3. each day: the flood level becomes the location attribute ``flood_level``; flood-driven
   spawning; ``spawning.refresh_spawn_weights``; ``enact_border_closures``; ``evolve``; the
   agents in each camp are counted.

Flee 3.1 reads the flood settings but does not spawn from flood levels (its
``spawn_daily_displaced`` knows conflict-driven and observation-driven spawning only). The
spawning here is the one of the newer DFlee code (flee/spawning.py on GitHub): at a location with
flood level ``k > 0``, ``int(displaced_per_flood_day[k] * pop)`` agents per day in pop_ratio
mode, ``int(displaced_per_flood_day[k])`` in constant mode; with ``take_from_population`` the
location's population drops by as many. Flood zones get the conflict move chance (everyone
spawned leaves that day, as from a conflict zone): Flee 3.1 has no flood-zone location type and
would otherwise fall back to the ecosystem's default.

    .flee-venv/bin/python flee_driver.py CASE_DIR --out flee.json [--seed 1] [--days N]

Writes JSON: timings (s), agents in total and per camp at the end, camp totals per day, and the
peak resident memory of this process (bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np
import yaml


def flood_rates(simsetting: Path) -> tuple[str, list[float], bool]:
    """Spawn mode, displaced per flood day by level, and take_from_population from the YAML.

    Read here because Flee 3.1's ReadFromYML looks for the rates under the conflict key name.
    """
    spawn = (yaml.safe_load(simsetting.read_text()) or {}).get("spawn_rules") or {}
    block = spawn.get("flood_driven_spawning") or spawn.get("flood_driven_spawn_mode")
    if not isinstance(block, dict) or not spawn.get("flood_zone_spawning_only"):
        sys.exit(f"{simsetting}: not a DFlee flood case (needs spawn_rules.flood_zone_spawning_"
                 f"only and a flood_driven_spawning block)")
    return (str(block.get("spawn_mode", "pop_ratio")).lower(),
            [float(r) for r in block["displaced_per_flood_day"]],
            bool(spawn.get("take_from_population", False)))


def spawn_flood(e, mode: str, rates: list[float], take: bool) -> int:
    """Add today's flood-displaced agents to ``e`` (newer DFlee's rule); returns how many."""
    spawned = 0
    for loc in e.locations:
        level = min(int(loc.attributes.get("flood_level", 0)), len(rates) - 1)
        if level <= 0:
            continue
        n = int(rates[level] * loc.pop) if mode == "pop_ratio" else int(rates[level])
        n = min(n, loc.pop) if take else n
        for _ in range(n):
            e.addAgent(location=loc, attributes={})
        if take:
            loc.pop -= n
        spawned += n
    return spawned


def run(case: Path, seed: int, days: int | None) -> dict:
    """Build the Flee ecosystem for ``case`` and run it; returns the report."""
    from flee import InputGeography, flee, spawning
    from flee.datamanager import read_period
    from flee.SimulationSettings import SimulationSettings

    t0 = time.perf_counter()
    random.seed(seed)
    np.random.seed(seed)
    inputs = case / "input_csv"
    _, length = read_period.read_conflict_period(str(inputs / "sim_period.csv"))
    days = days or length
    SimulationSettings.ReadFromYML(str(case / "simsetting.yml"))
    SimulationSettings.spawn_rules["conflict_driven_spawning"] = False  # 3.1 leaves it unset
    mode, rates, take = flood_rates(case / "simsetting.yml")
    e = flee.Ecosystem()
    ig = InputGeography.InputGeography()
    ig.ReadLocationsFromCSV(str(inputs / "locations.csv"))
    ig.ReadLinksFromCSV(str(inputs / "routes.csv"))
    ig.closures = []
    if (inputs / "closures.csv").is_file():
        ig.ReadClosuresFromCSV(str(inputs / "closures.csv"))
    e, lm = ig.StoreInputGeographyInEcosystem(e)
    ig.ReadAttributeInputCSV("flood_level", "int", str(inputs / "flood_level.csv"))
    levels = ig.attributes["flood_level"]
    flood_types = {row[0] for row in ig.locations if "flood" in row[5].lower()}
    for name in flood_types:
        lm[name].movechance = SimulationSettings.move_rules["ConflictMoveChance"]
    camps = e.get_camp_names()
    setup_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    camp_totals, agent_days, spawned = [], 0, 0
    for t in range(days):
        for name, series in levels.items():
            lm[name].attributes["flood_level"] = series[t]
        spawned += spawn_flood(e, mode, rates, take)
        spawning.refresh_spawn_weights(e)
        e.enact_border_closures(t)
        e.evolve()
        agent_days += e.numAgents()
        camp_totals.append(sum(lm[c].numAgents for c in camps))
    run_s = time.perf_counter() - t0
    import flee as flee_package

    return {"flee_version": flee_package.__version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "seed": seed, "days": days, "setup_s": setup_s,
            "run_s": run_s, "agents": e.numAgents(), "spawned": spawned,
            "agent_days": agent_days, "in_camps": camp_totals[-1] if camp_totals else 0,
            "camps": {c: lm[c].numAgents for c in camps}, "in_camps_by_day": camp_totals,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int)
    args = ap.parse_args(argv)
    os.environ.setdefault("FLEE_TYPE_CHECK", "false")
    report = run(args.case.resolve(), args.seed, args.days)
    args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
