"""Regenerate the synthetic calibration case: inputs, scenario and a model-made observed series.

Run from the repository root::

    python scenarios/calibration/make_case.py            # writes scenarios/calibration/

A river flood on a 12 x 12 grid of two regions (South, North): the water rises on day 5, peaks
on day 12 and is gone by day 30; depths fall from 2 m in the south-west corner to 0 in the
north-east (give or take 0.1 m, so no two cells flood alike). About 3,000 households of 4.5
persons, 80 daily steps. The scenario ``synthetic.toml`` uses
``impact.method = "damage_ratio"`` with proactive decisions off, so two parameters shape the
displaced counts: ``impact.damage_threshold`` (how many homes empty: the peak) and
``return.repair_days_total_loss`` (how long repairs take: the tail). ``observed.csv`` holds the
displaced persons per region and day of a run with the TRUE values below and a different seed
from the scenario's, so a calibration cannot profit from sharing the observation's random draws.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import xarray as xr

TRUE = {"impact.damage_threshold": 0.45, "return.repair_days_total_loss": 60.0}
OBSERVED_SEED = 99

SCENARIO = """\
# Synthetic calibration case (scenarios/calibration/README.md); regenerate with make_case.py.
name = "calibration-synthetic"
description = "Synthetic river flood for calibration: damage threshold and repair time to fit"
seed = 1
start_date = 2030-06-01
step_days = 1
n_steps = {n_steps}

[hazard]
file = "hazard.nc"
variable = "depth"
kind = "flood_depth"

[population]
file = "population.nc"
variable = "population"
persons_per_household = 4.5

[regions]
file = "regions.nc"
variable = "region_id"
names = "regions.csv"

[capacity.default]
host = 2000
shelter = 3000
camp = 0
rental = 0

[impact]
method = "damage_ratio"

[behaviour]
enabled = false
"""


def write_inputs(folder: Path, n: int = 12, persons_per_cell: float = 94.0,
                 n_steps: int = 80) -> Path:
    """Write the grids, region table and scenario TOML into ``folder``; return the TOML path."""
    folder.mkdir(parents=True, exist_ok=True)
    lat = 5.0 + 0.01 * np.arange(n)
    lon = 30.0 + 0.01 * np.arange(n)
    rank = (np.arange(n)[:, None] + np.arange(n)[None, :]) / (2 * (n - 1))  # 0 SW .. 1 NE
    jitter = np.random.default_rng(0).uniform(-0.1, 0.1, (n, n))  # no two cells alike
    peak_m = np.clip(2.0 * (1.0 - rank) + jitter, 0.0, None)
    days = np.arange(n_steps)
    wave = np.interp(days, [0, 5, 12, 30, n_steps], [0.0, 0.0, 1.0, 0.0, 0.0])
    depth = (wave[:, None, None] * peak_m[None]).astype(np.float32)
    time = np.datetime64("2030-06-01") + days.astype("timedelta64[D]")
    xr.Dataset({"depth": (("time", "lat", "lon"), depth, {"units": "m"})},
               coords={"time": time, "lat": lat, "lon": lon}).to_netcdf(folder / "hazard.nc")
    grid = {"lat": lat, "lon": lon}
    xr.Dataset({"population": (("lat", "lon"), np.full((n, n), persons_per_cell))},
               coords=grid).to_netcdf(folder / "population.nc")
    region = (np.arange(n)[:, None] >= n // 2).astype(np.int16) * np.ones((1, n), np.int16)
    xr.Dataset({"region_id": (("lat", "lon"), region)}, coords=grid).to_netcdf(
        folder / "regions.nc")
    (folder / "regions.csv").write_text("id,name\n0,South\n1,North\n", encoding="utf-8")
    path = folder / "synthetic.toml"
    path.write_text(SCENARIO.format(n_steps=n_steps), encoding="utf-8")
    return path


def write_observed(scenario_path: Path, truth: dict[str, float] = TRUE,
                   seed: int = OBSERVED_SEED, overrides: tuple[str, ...] = ()) -> Path:
    """Run the scenario with ``truth`` and ``seed``; write displaced persons per region and day.

    ``overrides`` (``--set`` style, e.g. ``population.households=100000``) change the case
    itself, for a calibration run with the same overrides (``benchmarks/bench_calibrate.py``).
    """
    from simulator.inputs.config import load_scenario
    from simulator.inputs.load import load_inputs
    from simulator.model import DisplacementModel

    values = [f"{k}={v!r}" for k, v in truth.items()]
    scenario = load_scenario(scenario_path, [*overrides, *values])
    ds = DisplacementModel(scenario, inputs=load_inputs(scenario), seed=seed).run()
    displaced = ds["persons"].sel(state="displaced").transpose("time", "region")
    lines = ["date," + ",".join(str(r) for r in displaced["region"].values)]
    for t, row in zip(displaced["time"].values, displaced.values, strict=True):
        lines.append(str(t)[:10] + "," + ",".join(str(int(v)) for v in row))
    out = scenario_path.parent / "observed.csv"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (scenario_path.parent / "truth.json").write_text(
        json.dumps({"parameters": truth, "observed_seed": seed}, indent=2) + "\n",
        encoding="utf-8")
    return out


def main() -> None:
    """Write the case into this script's folder (or ``--out``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    print(write_observed(write_inputs(args.out)))


if __name__ == "__main__":
    main()
