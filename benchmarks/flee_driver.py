"""Run a Flee case with the Flee package (serial), timed; for bench_flee.py.

Run with the Python of the Flee virtual environment (benchmarks/.flee-venv), never imported by
climdisp. Two kinds of case, told apart by their files, both with the Flee 3.1 API (the last
release on PyPI, whose wheel has no runscripts/):

**A conflict validation case** (``input_csv/conflicts.csv`` and ``source_data/data_layout.csv``,
e.g. FabFlee's mali2012) is run as Flee's runscripts/run.py runs it:

1. ``read_conflict_period(sim_period.csv)`` (master: ``read_sim_period``);
   ``SimulationSettings.ReadFromYML(simsetting.yml)``; ``ConflictInputFile`` is
   ``input_csv/conflicts.csv``;
2. ``InputGeography``: locations, routes, closures, ``ReadConflictInputCSV`` (master reads it
   inside ``StoreInputGeographyInEcosystem``; 3.1 needs the call), then
   ``StoreInputGeographyInEcosystem`` into ``Ecosystem()`` (3.1 takes no start date);
3. ``RefugeeTable`` over ``source_data/data_layout.csv`` (scaled down by ``hasten``),
   ``ReadL1Corrections(registration_corrections.csv)``, ``add_initial_refugees`` in every camp;
4. each day: ``AddNewConflictZones``; ``spawn_daily_displaced`` (the observed daily increase,
   spawned at conflict zones weighted by population x intensity x decay); ``refresh_spawn_
   weights``; ``enact_border_closures``; ``evolve``; agents per camp and the data per camp
   (``get_field``) are recorded.

3.1's ``ReadFromYML`` does not read ``sum_from_camps`` and its ``spawn_daily_displaced`` defaults
to ``SumFromCamps=False``; master reads the setting (default True) and uses it. The driver reads
it from the YAML (default True) and passes it, as master does. 3.1 has no
``empty_camps_on_day0`` (``RefugeeTable(start_empty=...)`` on master): a case that sets it true
is refused. The process works in the case folder, as run.py does (``read_demographics`` looks
for ``input_csv/demographics_*.csv`` there).

**A DFlee flood case** (anything else) is driven as follows:

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
peak resident memory of this process (bytes); for a conflict case also, by camp and day, the
simulated and the observed persons (``camp_sim_by_day``, ``camp_data_by_day``), and run.py's
"Total error" and "raw UNHCR refugee count" columns by day.
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


def is_conflict_case(case: Path) -> bool:
    """A conflict validation case: conflicts by day and observed refugee tables."""
    return ((case / "input_csv" / "conflicts.csv").is_file()
            and (case / "source_data" / "data_layout.csv").is_file())


def spawn_settings(simsetting: Path) -> bool:
    """``sum_from_camps`` from the YAML (master's default, True), which 3.1 does not read.

    Exits when the case asks for ``empty_camps_on_day0``, which 3.1 cannot do.
    """
    spawn = (yaml.safe_load(simsetting.read_text()) or {}).get("spawn_rules") or {}
    if spawn.get("empty_camps_on_day0"):
        sys.exit(f"{simsetting}: empty_camps_on_day0 is not in Flee 3.1")
    return bool(spawn.get("sum_from_camps", True))


def run_conflict(case: Path, seed: int, days: int | None) -> dict:
    """Run a conflict validation case as Flee's runscripts/run.py does; returns the report."""
    from flee import InputGeography, flee, spawning
    from flee.datamanager import handle_refugee_data, read_period
    from flee.SimulationSettings import SimulationSettings

    t0 = time.perf_counter()
    random.seed(seed)
    np.random.seed(seed)
    os.chdir(case)
    inputs = case / "input_csv"
    start_date, length = read_period.read_conflict_period(str(inputs / "sim_period.csv"))
    days = days or length
    SimulationSettings.ReadFromYML(str(case / "simsetting.yml"))
    SimulationSettings.ConflictInputFile = str(inputs / "conflicts.csv")
    sum_from_camps = spawn_settings(case / "simsetting.yml")
    e = flee.Ecosystem()
    ig = InputGeography.InputGeography()
    ig.ReadLocationsFromCSV(str(inputs / "locations.csv"))
    ig.ReadLinksFromCSV(str(inputs / "routes.csv"))
    ig.ReadClosuresFromCSV(str(inputs / "closures.csv"))
    ig.ReadConflictInputCSV(str(inputs / "conflicts.csv"))
    e, lm = ig.StoreInputGeographyInEcosystem(e)
    d = handle_refugee_data.RefugeeTable(
        csvformat="generic", data_directory=str(case / "source_data"), start_date=start_date,
        data_layout="data_layout.csv",
        population_scaledown_factor=SimulationSettings.optimisations["PopulationScaleDownFactor"])
    d.ReadL1Corrections(str(inputs / "registration_corrections.csv"))
    camps = e.get_camp_names()
    for name in camps:
        spawning.add_initial_refugees(e, d, lm[name])
    setup_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    sim = {c: [] for c in camps}
    data = {c: [] for c in camps}
    total_error, raw_by_day, agent_days, spawned = [], [], 0, 0
    for t in range(days):
        ig.AddNewConflictZones(e, t)
        new, raw, _ = spawning.spawn_daily_displaced(e, t, d, SumFromCamps=sum_from_camps)
        spawned += new
        spawning.refresh_spawn_weights(e)
        e.enact_border_closures(t)
        e.evolve()
        agent_days += e.numAgents()
        misses = 0
        for c in camps:
            sim[c].append(lm[c].numAgents)
            data[c].append(int(d.get_field(c, t)))
            misses += abs(sim[c][-1] - data[c][-1])
        total_error.append(misses / raw if raw > 0 else 0.0)  # run.py's "Total error"
        raw_by_day.append(int(raw))
    run_s = time.perf_counter() - t0
    import flee as flee_package

    in_camps = [sum(sim[c][t] for c in camps) for t in range(days)]
    return {"flee_version": flee_package.__version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "seed": seed, "days": days, "setup_s": setup_s,
            "run_s": run_s, "agents": e.numAgents(), "spawned": spawned,
            "agent_days": agent_days, "in_camps": in_camps[-1] if in_camps else 0,
            "camps": {c: lm[c].numAgents for c in camps}, "in_camps_by_day": in_camps,
            "camp_sim_by_day": sim, "camp_data_by_day": data,
            "total_error_by_day": total_error, "raw_refugees_by_day": raw_by_day,
            "sum_from_camps": sum_from_camps, "start_date": start_date,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int)
    args = ap.parse_args(argv)
    os.environ.setdefault("FLEE_TYPE_CHECK", "false")
    case, out = args.case.resolve(), args.out.resolve()
    runner = run_conflict if is_conflict_case(case) else run
    report = runner(case, args.seed, args.days)
    out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
