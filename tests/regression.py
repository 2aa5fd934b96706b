"""The regression baseline: headline indicators and a fingerprint of every result, per scenario.

A committed JSON (``tests/regression_baseline.json``) records, for the demo, its four lever
variants (seeds 42 and 7) and the shipped Flee example, the headline indicators a planner reads
and a SHA-256 of every variable of the results dataset. ``tests/test_regression.py`` recomputes
them and fails on any difference, naming the indicators that moved. A change that is meant to
change behaviour refreshes the file deliberately and shows the before/after in its note::

    make baseline            # = python -m tests.regression --update

Only the public entry points are used (``simulator.load_scenario``, ``DisplacementModel`` and
``python -m simulator import-flee``), so the baseline survives any reorganisation of the package.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).with_name("regression_baseline.json")
DEMOS = ("demo", "demo-adaptation-subsidy", "demo-cash", "demo-early-warning",
         "demo-more-shelter")
SEEDS = (42, 7)
FLEE_EXAMPLE = REPO / "climate_inputs" / "flee_example"


def fingerprint(da: xr.DataArray) -> str:
    """SHA-256 of a variable's dtype, shape and values (bit-exact)."""
    values = np.ascontiguousarray(da.values)
    digest = hashlib.sha256(f"{values.dtype.str}{values.shape}".encode())
    digest.update(values.tobytes())
    return digest.hexdigest()[:16]


def headline(ds: xr.Dataset) -> dict[str, float]:
    """The indicators a planner reads first, in persons (person-days for unmet shelter)."""
    persons = ds["persons"].sum("region")
    step_days = int(ds.attrs["step_days"])
    unmet = ds["unmet_shelter"].sum("region")
    out = {
        "persons": int(persons.isel(time=0).sum()),
        "displaced_persons_peak": int(persons.sel(state="displaced").max()),
        "newly_displaced_persons": int(ds["newly_displaced"].sum()),
        "evacuated_persons_peak": int(persons.sel(state="evacuated").max()),
        "evacuations_persons": int(ds["evacuations"].sum()),
        "internal_displacements_persons": int(ds["internal_displacements"].sum()),
        "exposed_at_home_person_days": int(ds["exposed_at_home"].sum()) * step_days,
        "trapped_persons_peak": int(persons.sel(state="trapped").max()),
        "adapted_persons_end": int(persons.sel(state="adapted").isel(time=-1)),
        "relocations_persons": int(ds["relocations"].sel(cause=["proactive", "planned"]).sum()),
        "returns_persons": int(ds["returns"].sum()),
        "settled_persons": int(ds["settled"].sum()),
        "unmet_shelter_persons_peak": int(unmet.max()),
        "unmet_shelter_person_days": int(unmet.sum()) * step_days,
        "displaced_over_6_months_persons_end": int(
            ds["protracted"].sel(duration="6 months").isel(time=-1).sum()),
        "home_losses_currency": round(float(ds["home_losses"].sum())),
        "contents_saved_currency": round(float(ds["contents_saved"].sum())),
        "income_forgone_away_currency": round(float(ds["income_forgone_away"].sum())),
    }
    return out


def record(ds: xr.Dataset) -> dict[str, dict]:
    """Headline indicators and a fingerprint of every data variable of a run."""
    return {"headline": headline(ds),
            "fingerprints": {name: fingerprint(ds[name]) for name in sorted(ds.data_vars)}}


def _demo(name: str, seed: int) -> xr.Dataset:
    from simulator import DisplacementModel, load_scenario

    return DisplacementModel(load_scenario(REPO / "scenarios" / f"{name}.toml"), seed=seed).run()


def _flee_example() -> xr.Dataset:
    from simulator import DisplacementModel, load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "simulator", "import-flee", str(FLEE_EXAMPLE),
                        "--out", f"{tmp}/scen"], check=True, capture_output=True)
        return DisplacementModel(load_scenario(f"{tmp}/scen/scenario.toml")).run()


def cases() -> dict[str, callable]:
    """Every baseline case by name, as a function that runs it."""
    out = {f"{name}/seed{seed}": (lambda name=name, seed=seed: _demo(name, seed))
           for name in DEMOS for seed in SEEDS}
    out["flee_example"] = _flee_example
    return out


def compute() -> dict[str, dict]:
    """Run every case and return its record."""
    return {name: record(run()) for name, run in cases().items()}


def differences(expected: dict[str, dict], got: dict[str, dict]) -> list[str]:
    """Human-readable lines for everything that differs between two baselines."""
    lines = []
    for case in sorted(set(expected) | set(got)):
        if case not in got or case not in expected:
            lines.append(f"{case}: only in {'baseline' if case in expected else 'this run'}")
            continue
        old, new = expected[case], got[case]
        for key in sorted(set(old["headline"]) | set(new["headline"])):
            a, b = old["headline"].get(key), new["headline"].get(key)
            if a != b:
                lines.append(f"{case}: {key} {a} -> {b}")
        changed = sorted(k for k in set(old["fingerprints"]) | set(new["fingerprints"])
                         if old["fingerprints"].get(k) != new["fingerprints"].get(k))
        if changed:
            lines.append(f"{case}: variables that differ: {', '.join(changed)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Check the baseline, or rewrite it with ``--update`` (printing what changed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the committed baseline")
    args = parser.parse_args(argv)
    got = compute()
    old = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    diff = differences(old, got)
    print("\n".join(diff) if diff else "baseline unchanged")
    if args.update:
        BASELINE.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"wrote {BASELINE.relative_to(REPO)}")
        return 0
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
