"""What Flee tolerates, import-flee tolerates too, and says so: one exact note per quirk.

Each quirk is one found in FabFlee's shipped cases (README of the shared data), built here on a
tiny case so the note's text and what the import did with the quirk can be checked exactly.
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from simulator.errors import InputError
from simulator.interop.flee.convert import household_persons, import_flee
from simulator.interop.flee.observed import corrected_registrations, daily_new_displaced
from simulator.interop.flee.reader import FleeRoute, read_flee
from simulator.ui.cli import main

# DFlee case as FabFlee writes one: the spawning flag beside the flood_driven_spawn_mode block.
FLOOD = {
    "input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        F,R,X,1.0,1.0,flood_zone,0,1000
        T,R,X,1.1,1.0,town,,500
        C,R,X,1.2,1.0,camp,,2000
        """,
    "input_csv/routes.csv": "#name1,name2,distance\nF,T,10\nT,C,10\n",
    "input_csv/sim_period.csv": "StartDate,2023-08-01\nLength,3\n",
    "input_csv/flood_level.csv": "#Day,F\n0,1\n2,1\n",
    "simsetting.yml": """\
        spawn_rules:
          flood_driven_spawning: True
          flood_zone_spawning_only: True
          conflict_zone_spawning_only: False
          take_from_population: True
          flood_driven_spawn_mode:
            flood_spawn_mode: "constant"
            displaced_per_flood_day: [0, 100, 200]
        """,
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def case_with(tmp_path: Path, **changes: str | None) -> Path:
    """The FLOOD case with files replaced (a value of None removes the file)."""
    merged = {k: v for k, v in {**FLOOD, **changes}.items() if v is not None}
    return write(tmp_path / "flee", merged)


def with_settings(more: str) -> str:
    """FLOOD's simsetting.yml with the sections ``more`` added."""
    return FLOOD["simsetting.yml"].rstrip(" ") + textwrap.indent(more, " " * 8)


def imported(tmp_path: Path, flee: Path) -> tuple[dict, list[str], Path]:
    path, notes = import_flee(flee, tmp_path / "scen")
    return tomllib.loads(path.read_text()), notes, path.parent


def test_spawning_flag_beside_the_newest_block_is_read_and_noted(tmp_path):
    case = read_flee(case_with(tmp_path))
    s = case.settings
    # the block's flood_spawn_mode (the newest Flee's key) is applied, the flag only noted
    assert (s.flood_driven_spawning, s.flood_spawn_mode, s.displaced_per_flood_day) \
        == (True, "constant", (0.0, 100.0, 200.0))
    assert s.notes == ("simsetting.yml line 2: spawn_rules.flood_driven_spawning: True read as "
                       "an on/off flag; flood-driven spawning follows flood_zone_spawning_only "
                       "and the flood_driven_spawn_mode block, as in Flee",)
    assert "spawn_rules.flood_driven_spawn_mode.flood_spawn_mode" not in s.unused_keys


def test_spawning_flag_alone_turns_flood_spawning_on_with_flee_defaults(tmp_path):
    flag_only = FLOOD["simsetting.yml"].split("          flood_driven_spawn_mode:")[0]
    s = read_flee(case_with(tmp_path, **{"simsetting.yml": flag_only})).settings
    assert (s.flood_driven_spawning, s.flood_spawn_mode, s.displaced_per_flood_day) \
        == (True, "pop_ratio", (0.0, 0.1, 0.2, 0.5, 0.9))
    assert s.notes[0].startswith("simsetting.yml line 2: spawn_rules.flood_driven_spawning: "
                                 "True read as an on/off flag")


def test_missing_settings_file_is_a_note_and_flee_defaults(tmp_path):
    flee = case_with(tmp_path, **{"simsetting.yml": None,
                                  "source_data/data_layout.csv": "total,c.csv\nC,c.csv\n",
                                  "source_data/c.csv": "2023-08-01,0\n2023-08-03,20\n"})
    scenario, notes, folder = imported(tmp_path, flee)
    note = "simsetting.yml not found: Flee's defaults used"
    assert notes[0] == note and f"- {note}\n" in (folder / "README.md").read_text()
    assert scenario["placement"]["travel_speed_km_per_day"] == 360.0  # Flee's default


def test_camp_and_place_sharing_a_name_are_both_kept(tmp_path):
    flee = case_with(tmp_path, **{"input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        F,R,X,1.0,1.0,flood_zone,0,1000
        T,R,X,1.1,1.0,town,,500
        F,R,X,1.0,1.0,camp,,2000
        """, "input_csv/routes.csv": "#name1,name2,distance\nF,T,10\n"})
    case = read_flee(flee)
    assert case.names == ("F_flood_zone", "T", "F")
    assert case.camp_capacity == {"F": 2000}
    # routes naming F go to the camp; the flood zone is joined to it (same spot: 1 km); the
    # flood level of column F is the flood zone's
    assert [(r.name1, r.name2, r.distance_km) for r in case.routes] \
        == [("F", "T", 10.0), ("F", "F_flood_zone", 1.0)]
    np.testing.assert_array_equal(case.hazard.daily(3)[:, 0], [1, 1, 1])
    np.testing.assert_array_equal(case.hazard.daily(3)[:, 2], [0, 0, 0])
    assert case.notes == (
        "locations.csv line 4: a camp and a flood_zone are both named 'F' (lines 2, 4): the "
        "flood_zone is renamed 'F_flood_zone' and joined to the camp by a route; routes and "
        "observations naming 'F' go to the camp",)


def test_camp_listed_first_without_coordinates_keeps_the_name(tmp_path):
    flee = case_with(tmp_path, **{"input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        F,R,X,,,camp,,2000
        T,R,X,1.1,1.0,town,,500
        F,R,X,1.0,1.0,flood_zone,0,1000
        """, "input_csv/routes.csv": "#name1,name2,distance\nF,T,10\n"})
    case = read_flee(flee)
    assert case.names == ("F", "T", "F_flood_zone") and case.camp_capacity == {"F": 2000}
    assert case.routes[-1] == FleeRoute("F", "F_flood_zone", 1.0, 0)  # distance unknown: 1 km


def test_two_places_sharing_a_name_stay_an_error(tmp_path):
    flee = case_with(tmp_path, **{"input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        F,R,X,1.0,1.0,flood_zone,0,1000
        F,R,X,1.1,1.0,town,,500
        C,R,X,1.2,1.0,camp,,2000
        """})
    with pytest.raises(InputError, match=r"line 3: column 'name': duplicate location 'F' "
                                         r"\(first on line 2\)$"):
        read_flee(flee)


def test_self_loop_route_is_dropped_with_a_note(tmp_path):
    flee = case_with(tmp_path, **{"input_csv/routes.csv":
                                  "#name1,name2,distance\nF,T,10\nT,T,3\nT,C,10\n"})
    case = read_flee(flee)
    assert [(r.name1, r.name2) for r in case.routes] == [("F", "T"), ("T", "C")]
    assert case.notes == ("routes.csv line 3: self-loop T–T dropped (a route from a place to "
                          "itself leads nowhere)",)


def test_flood_columns_in_other_case_or_naming_nobody(tmp_path):
    flee = case_with(tmp_path, **{"input_csv/flood_level.csv":
                                  "#Day, f, Nowhere\n0,2,3\n2,2,3\n"})
    case = read_flee(flee)
    np.testing.assert_array_equal(case.hazard.daily(3)[0], [2, 0, 0])
    assert case.notes == (
        "flood_level.csv line 1: column 'f' read as location 'F' (the names differ in case)",
        "flood_level.csv line 1: column 'Nowhere' names no location in locations.csv: dropped")


def test_conflict_date_column_read_by_position(tmp_path):
    flee = case_with(tmp_path, **{"input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,flood_time,population
        F,R,X,1.0,1.0,conflict_zone,4,1000
        C,R,X,1.2,1.0,camp,,2000
        """, "input_csv/routes.csv": "#name1,name2,distance\nF,C,10\n"})
    case = read_flee(flee)
    assert case.locations[0].conflict_date == 4
    assert case.notes == ("locations.csv line 1: column 'flood_time' read as 'conflict_date' "
                          "(Flee reads this column by position)",)


def test_data_layout_without_total_and_with_unknown_rows(tmp_path):
    flee = case_with(tmp_path, **{
        "source_data/data_layout.csv": "C,c.csv\nRefugees,r.csv\n",
        "source_data/c.csv": "2023-08-01,10\n2023-08-03,30\n",
        "source_data/r.csv": "2023-08-01,99\n"})
    case = read_flee(flee)
    obs = case.observations
    assert obs.locations == ("C",)
    np.testing.assert_array_equal(obs.total, [10, 20, 30])  # the first row, as in Flee
    np.testing.assert_array_equal(obs.of("C"), [10, 20, 30])
    assert case.notes == (
        "data_layout.csv line 1: first row 'C' read as the total and as C's series (Flee takes "
        "the first row as the total, whatever its name)",
        "data_layout.csv line 2: 'Refugees' names no location in locations.csv: its series is "
        "not read")


def test_camp_of_capacity_zero_is_unlimited(tmp_path):
    flee = case_with(tmp_path, **{"input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        F,R,X,1.0,1.0,flood_zone,0,1000
        T,R,X,1.1,1.0,town,,500
        C,R,X,1.2,1.0,camp,,0
        """})
    scenario, notes, _ = imported(tmp_path, flee)
    assert scenario["capacity"]["regions"]["C"] == {"camp": 1500}  # everyone in the case
    assert "locations.csv line 4: camp 'C' has capacity 0: unlimited, as in Flee" in notes
    assert ("camps of capacity 0 (unlimited in Flee) get capacity 1500, all the residents of "
            "the case: C") in notes


def test_whole_number_setting_with_decimals_is_truncated_as_flee_does(tmp_path):
    settings = with_settings("move_rules:\n  awareness_level: 1.5\n")
    case = read_flee(case_with(tmp_path, **{"simsetting.yml": settings}))
    assert ("simsetting.yml line 10: move_rules.awareness_level: 1.5 read as 1 (Flee reads it "
            "with int())") in case.settings.notes
    assert case.settings.awareness_level == 1


def test_hasten_makes_households_of_hasten_persons_up_to_thirty(tmp_path):
    settings = with_settings("optimisations:\n  hasten: 10\n")
    scenario, notes, folder = imported(tmp_path, case_with(tmp_path,
                                                           **{"simsetting.yml": settings}))
    assert scenario["population"]["persons_per_household"] == 10.0
    assert ("optimisations.hasten = 10: households of 10 persons on average stand for Flee's "
            "agents (about 150 households for 1500 persons); Flee instead divides populations, "
            "capacities and counts by 10") in notes
    assert not any("hasten" in n and "not applied" in n for n in notes)
    assert (household_persons(1), household_persons(100), household_persons(1000)) \
        == (1.0, 30.0, 30.0)  # Flee's agents are persons; our households hold at most 30
    assert main(["run", str(folder / "scenario.toml"), "--out", str(tmp_path / "run"),
                 "--quiet"]) == 0
    ds = xr.open_dataset(tmp_path / "run" / "results.nc")
    assert 100 <= ds.attrs["households"] <= 200  # not 1500 one-person households
    persons = ds["persons"].sum(("region", "state"))
    assert (persons == ds.attrs["total_persons"]).all()


def test_a_case_without_observed_camps_imports_without_observations_and_runs(tmp_path):
    flee = case_with(tmp_path, **{
        "input_csv/locations.csv": """\
            #name,region,country,lat,lon,location_type,conflict_date,population
            F,R,X,1.0,1.0,flood_zone,0,1000
            T,R,X,1.1,1.0,town,,500
            """,
        "input_csv/routes.csv": "#name1,name2,distance\nF,T,10\n",
        "source_data/data_layout.csv": "total,f.csv\nF,f.csv\nT,f.csv\n",
        "source_data/f.csv": "2023-08-01,1000\n"})
    scenario, notes, folder = imported(tmp_path, flee)
    assert "observations" not in scenario and not (folder / "observations.csv").exists()
    assert ("source_data/: no camp is observed (observed: F, T): no [observations], so no "
            "out.csv or ARD (climdisp scores the people in camps)") in notes
    assert main(["run", str(folder / "scenario.toml"), "--out", str(tmp_path / "run"),
                 "--quiet"]) == 0
    ds = xr.open_dataset(tmp_path / "run" / "results.nc")
    assert int(ds["newly_displaced"].sum()) == 300  # 100 persons a day at level 1, days 0-2
    assert (ds["persons"].sum(("region", "state")) == 1500).all()


def test_rates_at_level_zero_and_all_zero_rates_are_noted(tmp_path):
    block = FLOOD["simsetting.yml"].replace("[0, 100, 200]", "[5, 0, 0]")
    scenario, notes, _ = imported(tmp_path, case_with(tmp_path, **{"simsetting.yml": block}))
    assert scenario["impact"]["displaced_per_day_by_level"] == [0.0, 0.0, 0.0]
    assert notes[notes.index("flood-driven spawning, mode constant") + 1:][:2] == [
        "displaced_per_flood_day[0] = 5 not used: Flee displaces nobody at flood level 0 "
        "(here 0, rising to the level-1 rate)",
        "displaced_per_flood_day is 0 at every level: the hazard displaces nobody"]


def test_corrections_without_observations_and_unread_files_are_listed(tmp_path):
    flee = case_with(tmp_path, **{
        "input_csv/registration_corrections.csv": "\n\nC,2023-08-02,5\n#comment\n",
        "input_csv/demographics_age.csv": "age,Default\n1,1\n"})
    assert read_flee(flee).notes == (
        "registration_corrections.csv: 1 registration correction(s) not applied: no "
        "source_data/ to correct",
        "input_csv/ files not read: demographics_age.csv")


def test_registration_correction_is_flees_rescaling_of_the_earlier_counts():
    # Flee's correctLevel1Registrations: counts before the day times c_i / c_(i-1) = 50 / 200
    days, counts = np.array([0, 10, 20]), np.array([100.0, 200.0, 50.0])
    np.testing.assert_array_equal(corrected_registrations(days, counts, 20), [25, 50, 50])
    np.testing.assert_array_equal(counts, [100, 200, 50])  # the input is left as it was
    for day, why in ((0, "not an observation day after the first"),
                     (5, "not an observation day after the first")):
        with pytest.raises(ValueError, match=why):
            corrected_registrations(days, counts, day)
    with pytest.raises(ValueError, match="the count before day 10 is 0"):
        corrected_registrations(days, np.array([0.0, 7.0, 3.0]), 10)


CORRECTED = {"source_data/data_layout.csv": "total,c.csv\nC,c.csv\n",
             "source_data/c.csv": "2023-08-01,100\n2023-08-11,200\n2023-08-21,50\n",
             "input_csv/registration_corrections.csv": "C,2023-08-21,normalize\n",
             "input_csv/flood_level.csv": "#Day,F\n0,1\n24,1\n"}


def test_corrected_observations_and_spawning_have_no_drop(tmp_path):
    case = read_flee(case_with(tmp_path, **CORRECTED), length_days=25)
    t = np.arange(25)  # Flee interpolates the corrected counts 25, 50, 50 on days 0, 10, 20
    np.testing.assert_array_equal(case.observations.of("C"),
                                  np.where(t < 10, np.trunc(25 + 2.5 * t), 50))
    assert ("registration_corrections.csv line 1: C's counts before 2023-08-21 multiplied by "
            "0.25 (Flee's registration correction): its step of -150 persons that day (200 to "
            "50) is not counted as people leaving or arriving") in case.notes
    spawns = daily_new_displaced(case.observations, case.settings)
    assert not spawns.debt.any()  # uncorrected, the drop of 150 would be a debt
    np.testing.assert_array_equal(spawns.new[1:], np.diff(case.observations.of("C")))


@pytest.mark.parametrize("row, error", [
    ("C,2023-08-15,normalize", "line 1: C on 2023-08-15: day 14 is not an observation day "
                               "after the first (observed on days 0..20) in its source_data "
                               "series (Flee stops at it)"),
    ("Nowhere,2023-08-21,normalize", "line 1: 'Nowhere' names no row of data_layout.csv"),
    ("C,21/08/2023,normalize", "line 1: column 'date': expected a date YYYY-MM-DD")])
def test_a_correction_flee_cannot_apply_is_an_error(tmp_path, row, error):
    files = {**CORRECTED, "input_csv/registration_corrections.csv": row + "\n"}
    with pytest.raises(InputError, match=re.escape(error)):
        read_flee(case_with(tmp_path, **files), length_days=25)


def test_a_number_that_is_not_a_number_stays_an_error(tmp_path, capsys):
    flee = case_with(tmp_path, **{"input_csv/flood_level.csv": "#Day,F\n0,high\n2,1\n"})
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "scen")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "flood_level.csv: line 2: column 'F': expected a number " \
                                     ">= 0, got 'high'" in err
