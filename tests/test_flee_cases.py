"""Every Flee/DFlee case FabFlee ships imports whole and runs, and its notes name its quirks.

The cases (BSD-3, /work/shared/data/fabflee, README there) live outside the repository; set
CLIMDISP_FABFLEE to another copy, and without one these tests are skipped. Each case is
imported once, whole, and run for a few days: persons are conserved, households stay bounded
by Flee's ``hasten`` (a 71-million-person case must not become 71 million households), and the
import's notes (also in the folder's README.md) name each quirk of the case.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xarray as xr

from simulator.interop.flee.convert import household_persons, import_flee
from simulator.interop.flee.reader import read_flee
from simulator.ui.cli import main

#: where the cases are: $CLIMDISP_FABFLEE, else beside the repository, else the workplace copy
#: (a fresh clone elsewhere, as CI makes, still finds them)
FABFLEE = next((p for p in (Path(os.environ.get("CLIMDISP_FABFLEE", "/nonexistent")),
                            Path(__file__).resolve().parents[2] / "shared/data/fabflee",
                            Path("/work/shared/data/fabflee")) if p.is_dir()),
               Path("/nonexistent"))
FLAG = "spawn_rules.flood_driven_spawning: True read as an on/off flag"

# case -> fragments of the notes its quirks must produce
CASES = {
    "flood/Ethiopia_dflee": (
        FLAG, "a camp and a flood_zone are both named 'Mustahil'",
        "column 'Shabelle_zone' read as location 'Shabelle_Zone' (the names differ in case)",
        "first row 'Abobo' read as the total", "'Refugees' names no location in locations.csv",
        "displaced_per_flood_day[0] = 0.1 not used", "optimisations.hasten = 100"),
    "flood/Mozambique_dflee": (
        FLAG, "column 'Pebane' names no location in locations.csv: dropped",
        "first row '1_de_Maio' read as the total and as 1_de_Maio's series",
        "'Mutuluma' names no location", "files not read: conflicts.csv"),
    "flood/Nigeria_dflee": (FLAG, "column 'flood_time' read as 'conflict_date'"),
    "flood/bangladesh": (FLAG, "optimisations.hasten = 1000"),
    "flood/clustered_ethiopia_dflee": (
        FLAG, "camp 'Adakuwa' has capacity 0: unlimited, as in Flee",
        "camps of capacity 0 (unlimited in Flee) get capacity 2782679",
        "first row 'Refugees' read as the total"),
    "flood/clustered_mozambique_dflee": (
        FLAG, "camp 'Alto_Mutola' has capacity 0: unlimited", "column 'Pebane' names no location"),
    "flood/dflee_bangladesh_khulna_dist": (
        FLAG, "column 'conflict_period' read as 'conflict_date'",
        "a camp and a flood_zone are both named 'Mongla'", "self-loop Mongla–Mongla dropped",
        "column 'Sharankholamuria' names no location"),
    "flood/dflee_example": (FLAG, "files not read: demographics_age.csv"),
    "flood/dflee_weather_example": (FLAG, "move_rules.flood_rules.flood_forecaster = True"),
    "flood/dflee_test_coastal_flooding": (
        FLAG, "source_data/: no camp is observed", "is 0 at every level"),
    "flood/dflee_test_coastal_river_flooding": (FLAG, "source_data/: no camp is observed"),
    "flood/dflee_test_large_flooding_revised": (
        FLAG, "move_rules.awareness_level: 1.5 read as 1", "source_data/: no camp is observed"),
    "flood/dflee_test_small_flooding_revised": (FLAG, "source_data/: no camp is observed"),
    "conflict/mali2012": (
        "registration_corrections.csv line 1: Fassala-Mbera's counts before 2012-12-31 "
        "multiplied by 0.5208 (Flee's registration correction): its step of -49703 persons",
        "border Mali–Burkina_Faso closed on days [0, 22) (closures.csv line 2",
        "border Mali–Niger closed on days [0, 33) (closures.csv line 3",
        "at conflict zones drawn by population x conflict intensity x conflict_spawn_decay",
        "read but not applied: log_levels.agent = 0",
        "spawn_rules.take_from_population = False"),
}
STEPS = 2  # days run per case: enough to displace, place and record


def test_every_shipped_case_is_listed():
    if not FABFLEE.is_dir():
        pytest.skip(f"no FabFlee cases at {FABFLEE}")
    shipped = {f"{kind.name}/{case.name}" for kind in FABFLEE.iterdir() if kind.is_dir()
               for case in kind.iterdir() if case.is_dir()}
    assert shipped == set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_shipped_case_imports_whole_and_runs(tmp_path, name):
    if not (FABFLEE / name).is_dir():
        pytest.skip(f"no FabFlee case at {FABFLEE / name}")
    case = read_flee(FABFLEE / name)
    path, notes = import_flee(FABFLEE / name, tmp_path / "scen")
    text = "\n".join(notes)
    for quirk in CASES[name]:
        assert quirk in text
    readme = (tmp_path / "scen" / "README.md").read_text()
    assert all(f"- {note}\n" in readme for note in notes)
    assert "capacity_scaling = 1.25" not in text  # applied, in [placement.routes]
    residents = sum(loc.population for loc in case.locations if not loc.is_camp)
    size = household_persons(case.settings.hasten)
    for movement in ("routes", "direct"):  # Flee's walk, and the direct trip
        assert main(["run", str(path), "--set", f"n_steps={STEPS}", "--set",
                     f"placement.movement={movement}", "--out", str(tmp_path / movement),
                     "--quiet"]) == 0
        ds = xr.open_dataset(tmp_path / movement / "results.nc")
        persons = ds["persons"].sum(("region", "state")).values
        assert (persons == ds.attrs["total_persons"]).all()  # conserved, day by day
        if size == 1:  # Flee's one person per agent: exactly the case's residents
            assert ds.attrs["total_persons"] == residents == ds.attrs["households"]
        else:  # households of about `size` persons: the total within sampling noise
            assert abs(ds.attrs["total_persons"] / residents - 1) < 0.01
            assert ds.attrs["households"] <= 1.05 * residents / size
        occupancy = ds["occupancy"].sel(place="camp")
        assert (occupancy <= ds["capacity"].sel(place="camp")).all()
