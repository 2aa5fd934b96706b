"""Whole process against whole process on an existing Flee case folder; for bench_flee.py.

``bench_flee.py --flee-case DIR`` lands here. Each repeat runs, back to back, in fresh processes:

- **climdisp**: ``python -m simulator import-flee DIR --out TMP`` (timed apart), then the whole
  command ``python -m simulator run TMP/scenario.toml --out TMP2 --quiet``, timed whole;
- **Flee 3.1** (only with ``--flee``): ``flee_driver.py DIR`` in the Flee environment, timed
  whole (a conflict validation case is run the way Flee's runscripts/run.py runs it).

Wall time, CPU time (user + system) and peak resident memory come from ``os.wait4`` on each
child alone. Linux carries a parent's resident set into the child it forks, so the parent's own
(``parent_rss_bytes``, tens of MB) is a floor under every peak; this module imports nothing
heavy until every child has run.

ARD is the averaged relative difference of simulated and observed persons per camp
(``simulator.interop.validation.ard``; Suleimenova, Bell & Groen 2017, Sci. Rep. 7:13377).
climdisp's is its ``manifest.json`` ``validation.ard``; Flee's is computed here from the
driver's camp counts, against the observations climdisp imported (the same yardstick) and
against Flee's own view of the data (``RefugeeTable.get_field``), next to the mean of run.py's
"Total error" column (which divides by the raw UNHCR count, not by the camp total).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIMDISP = [sys.executable, "-m", "simulator"]  #: the climdisp command line


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def own_rss_bytes() -> int:
    """This process's resident set now (``VmRSS``): the floor under a child's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def timed(cmd: list[str], what: str) -> dict:
    """Run ``cmd`` in a fresh process; its wall and CPU seconds and its own peak RSS (bytes).

    Exits with the tail of its stderr when it fails.
    """
    with tempfile.TemporaryFile("w+") as err:
        load = load_average()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's rusage alone
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        if proc.returncode != 0:
            err.seek(0)
            tail = "\n".join(err.read().strip().splitlines()[-15:])
            sys.exit(f"error: {what} failed (exit {proc.returncode}):\n{tail}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_bytes": usage.ru_maxrss * 1024, "load_before": load}


def climdisp_once(case: Path, work: Path, seed: int | None) -> dict:
    """Import ``case`` and run it with climdisp, each a fresh process; returns the report."""
    scenario, run_dir = work / "scenario", work / "run"
    imported = timed([*CLIMDISP, "import-flee", str(case), "--out", str(scenario)],
                     "climdisp import-flee")
    cmd = [*CLIMDISP, "run", str(scenario / "scenario.toml"), "--out", str(run_dir), "--quiet"]
    ran = timed(cmd + (["--seed", str(seed)] if seed is not None else []), "climdisp run")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    valid = manifest.get("validation") or {}
    return {**ran, "import_wall_s": imported["wall_s"], "import_cpu_s": imported["cpu_s"],
            "import_peak_rss_bytes": imported["peak_rss_bytes"],
            "import_and_run_wall_s": imported["wall_s"] + ran["wall_s"],
            "model_wall_time_s": manifest.get("wall_time_s"), "seed": manifest.get("seed"),
            "households": manifest.get("households"), "persons": manifest.get("persons"),
            "days": manifest.get("n_steps"), "ard": valid.get("ard"),
            "ard_rescaled": valid.get("ard_rescaled")}


def flee_once(python: Path, driver: Path, case: Path, work: Path, seed: int) -> dict:
    """Run ``case`` with the Flee driver in a fresh process; its report and its usage."""
    out = work / "flee.json"
    usage = timed([str(python), str(driver), str(case), "--seed", str(seed), "--out", str(out)],
                  "flee_driver.py")
    return {**json.loads(out.read_text()), **usage}


def observed_by_camp(observations: Path, camps: list[str], days: int) -> list[list[float]]:
    """(days, camps) observed persons from climdisp's imported ``observations.csv``."""
    with observations.open(newline="") as f:
        rows = list(csv.DictReader(f))[:days]
    return [[float(row[c]) for c in camps] for row in rows]


def flee_ards(flee: dict, observations: Path | None) -> dict:
    """Flee's ARD against climdisp's observations and against its own data; run.py's error."""
    from simulator.interop.validation import ard  # heavy: only once every child has run

    camps = list(flee["camp_sim_by_day"])
    sim = [list(day) for day in zip(*(flee["camp_sim_by_day"][c] for c in camps), strict=True)]
    own = [list(day) for day in zip(*(flee["camp_data_by_day"][c] for c in camps), strict=True)]
    out = {"ard_flee_data": ard(sim, own), "ard_rescaled_flee_data": ard(sim, own, True),
           "run_py_total_error_mean": statistics.fmean(flee["total_error_by_day"])}
    if observations and observations.is_file():
        data = observed_by_camp(observations, camps, len(sim))
        out["ard"] = ard(sim[:len(data)], data)
        out["ard_rescaled"] = ard(sim[:len(data)], data, True)
    return out


def summarise(runs: list[dict], keys: tuple[str, ...]) -> dict:
    """Median and range of ``keys`` over the runs, and each run's value."""
    out = {}
    for key in keys:
        values = [r[key] for r in runs]
        out[key] = statistics.median(values)
        out[f"{key}_range"] = [min(values), max(values)]
        out[f"{key}_each"] = values
    return out


OURS_KEYS = ("wall_s", "cpu_s", "peak_rss_bytes", "import_wall_s", "import_and_run_wall_s",
             "model_wall_time_s")
FLEE_KEYS = ("wall_s", "cpu_s", "peak_rss_bytes", "setup_s", "run_s")
BY_DAY = ("in_camps_by_day", "camp_sim_by_day", "camp_data_by_day", "total_error_by_day",
          "raw_refugees_by_day")


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    return a / b if a is not None and b else None


def bench_case(case: Path, repeats: int, flee_python: Path | None, driver: Path,
               seed: int) -> dict:
    """Benchmark ``case``: climdisp and (with ``flee_python``) Flee, alternating, ``repeats``."""
    parent_rss = own_rss_bytes()
    load_before, ours_runs, flee_runs = load_average(), [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            work = Path(tmp) / f"repeat{r}"
            work.mkdir()
            ours_runs.append(climdisp_once(case, work, None))
            print(f"repeat {r + 1}: climdisp run {ours_runs[-1]['wall_s']:.1f} s", flush=True)
            if flee_python:
                flee_runs.append(flee_once(flee_python, driver, case, work, seed))
                print(f"repeat {r + 1}: Flee {flee_runs[-1]['wall_s']:.1f} s", flush=True)
        load_after = load_average()
        observations = Path(tmp) / "repeat0" / "scenario" / "observations.csv"
        ours = {**summarise(ours_runs, OURS_KEYS),
                **{k: ours_runs[0][k] for k in ("seed", "households", "persons", "days", "ard",
                                                "ard_rescaled")},
                "ard_each": [r["ard"] for r in ours_runs],
                "load_before_each": [r["load_before"] for r in ours_runs]}
        flee = None
        if flee_runs:
            first = flee_runs[0]
            flee = {**summarise(flee_runs, FLEE_KEYS),
                    **{k: v for k, v in first.items() if k not in FLEE_KEYS
                       and k not in BY_DAY and k != "load_before"},
                    "identical_repeats": all(f["camp_sim_by_day"] == first["camp_sim_by_day"]
                                             for f in flee_runs),
                    "load_before_each": [f["load_before"] for f in flee_runs],
                    **{k: first[k] for k in BY_DAY if k in first}}
            if "camp_sim_by_day" in first:
                flee.update(flee_ards(first, observations))
    ratios = {}
    if flee:
        ratios = {"flee_over_climdisp_wall": ratio(flee["wall_s"], ours["wall_s"]),
                  "flee_over_climdisp_import_and_run_wall":
                      ratio(flee["wall_s"], ours["import_and_run_wall_s"]),
                  "flee_over_climdisp_cpu": ratio(flee["cpu_s"], ours["cpu_s"]),
                  "flee_over_climdisp_peak_rss": ratio(flee["peak_rss_bytes"],
                                                       ours["peak_rss_bytes"])}
    return {"date": dt.date.today().isoformat(), "case": str(case), "repeats": repeats,
            "order": "climdisp import, climdisp run, Flee; repeated",
            "load_before": load_before, "load_after": load_after, "cpus": os.cpu_count(),
            "parent_rss_bytes": parent_rss, "climdisp": ours, "flee": flee, "ratios": ratios}


def report(row: dict) -> None:
    """Print the side-by-side table."""
    ours, flee, ratios = row["climdisp"], row["flee"], row["ratios"]
    print(f"case {row['case']}: {row['repeats']} repeats; load {row['load_before']} before, "
          f"{row['load_after']} after ({row['cpus']} CPUs)")
    mb = 2**20
    lines = [("import-flee, wall (s)", f"{ours['import_wall_s']:.2f}", "-", None),
             ("whole run, wall (s)", f"{ours['wall_s']:.2f}",
              f"{flee['wall_s']:.1f}" if flee else "-", ratios.get("flee_over_climdisp_wall")),
             ("whole run, CPU (s)", f"{ours['cpu_s']:.2f}",
              f"{flee['cpu_s']:.1f}" if flee else "-", ratios.get("flee_over_climdisp_cpu")),
             ("peak RSS (MB)", f"{ours['peak_rss_bytes'] / mb:.0f}",
              f"{flee['peak_rss_bytes'] / mb:.0f}" if flee else "-",
              ratios.get("flee_over_climdisp_peak_rss")),
             ("ARD (camps)", f"{ours['ard']:.3f}" if ours["ard"] is not None else "-",
              f"{flee['ard']:.3f}" if flee and "ard" in flee else "-", None)]
    print(f"{'':26}{'climdisp':>12}{'Flee':>12}{'Flee/climdisp':>15}")
    for label, mine, theirs, r in lines:
        print(f"{label:26}{mine:>12}{theirs:>12}{'' if r is None else f'{r:.3g}x':>15}")
    if ratios:
        print(f"whole Flee over climdisp import + run: "
              f"{ratios['flee_over_climdisp_import_and_run_wall']:.3g}x")
