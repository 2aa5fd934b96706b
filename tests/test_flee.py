"""Flee/DFlee reader, validation spawning, ARD and out.csv, on tiny cases in Flee's real layout."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import InputError
from simulator.interop.flee.observed import daily_new_displaced
from simulator.interop.flee.reader import read_flee, route_distances_km
from simulator.interop.validation import ard, ard_by_day, flee_out_csv

# A conflict case as FabFlee lays it out: 5 days from 2020-01-01, conflicts in A (from day 0) and
# C (from day 2), two camps Z and Y, an unconnected marker D, and observed camp counts.
CONFLICT_CASE = {
    "input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        A,AA,ABC,1.0,2.0,conflict_zone,0,1000
        B,BB,ABC,1.5,2.5,town,,500
        C,,ABC,,,conflict_zone,2,800
        Z,ZZ,ZZZ,3.0,4.0,camp,,300
        Y,YY,ZZZ,3.5,4.5,idpcamp,,200
        D,DD,ABC,0,0,marker,,
        """,
    "input_csv/routes.csv": """\
        #name1,name2,distance,forced_redirection
        A,B,10
        B,C,5.5,0

        B,Z,20,1
        C,Y,7
        A,Z,50
        B,A,12
        """,
    "input_csv/closures.csv": """\
        #closure_type,name1,name2,closure_start,closure_end
        country,ABC,ZZZ,3,-1
        location,Z,,1,2
        """,
    "input_csv/sim_period.csv": """\
        StartDate,2020-01-01
        Length,5
        """,
    "input_csv/conflicts.csv": """\
        #Day,A,C
        0,1,0
        1,1,0
        2,1,1.0
        3,1,0.5
        4,0,0.5
        """,
    "source_data/data_layout.csv": """\
        total,refugees.csv
        Z,z.csv
        Y,y.csv
        """,
    "source_data/refugees.csv": """\
        Date,Refugee_numbers
        2020-01-01,100
        2020-01-05,140
        """,
    "source_data/z.csv": """\
        2019-12-30,40
        2020-01-03,55
        """,
    "source_data/y.csv": """\
        # Y camp registrations
        2020-01-02,10
        2020-01-04,4
        2020-01-05,8
        """,
    "simsetting.yml": """\
        log_levels:
          agent: 0
        spawn_rules:
          take_from_population: False
          conflict_driven_spawning:
            spawn_mode: "pop_ratio"
            displaced_per_conflict_day: 0.02
          conflict_spawn_decay: [1.0, 0.5]
        move_rules:
          camp_weight: 2
          max_move_speed: 200.0
          some_unknown: 1
        optimisations:
        number_of_steps: 10
        """,
}

# DFlee's test case (FabFlee config_files/dflee_test), cut down: flood levels listed every other
# day, the spawning block written twice as in that file, no observations.
FLOOD_CASE = {
    "input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population,
        C1,A,ABC,1,1,camp,,300,
        F1,A,ABC,1,1,town,2,1000,
        F2,B,ABC,1,1,town,0,2000,
        T1,B,ABC,1,1,town,,,
        """,
    "input_csv/routes.csv": """\
        #"name1","name2","distance",forced_redirection
        F1,F2,10
        F1,T1,10
        F2,C1,20
        """,
    "input_csv/sim_period.csv": "StartDate,2023-08-01\nLength,5\n",
    "input_csv/flood_level.csv": """\
        #Day, F1, F2
        0,0,1
        2,2,1
        4,4,0
        """,
    "simsetting.yml": """\
        log_levels:
          Flood: 0
        spawn_rules:
          flood_driven_spawning: True
          flood_zone_spawning_only: True
          conflict_zone_spawning_only: False
          take_from_population: True
          flood_driven_spawning:
            flood_spawn_mode: "pop_ratio"
            spawn_mode: "constant"
            displaced_per_flood_day: [0, 10, 20, 30, 40]
        move_rules:
          max_flood_level: 4
          flood_rules:
            max_flood_level: 4
            flood_movechances: [0.3,0.4,0.7,1.0,1.0]
            flood_loc_weights: [1.0,0.5,0.2,0.0,0.0]
        """,
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def test_conflict_case(tmp_path):
    case = read_flee(write(tmp_path, CONFLICT_CASE))
    assert (case.start_date, case.length_days) == (date(2020, 1, 1), 5)
    assert case.names == ("A", "B", "C", "Z", "Y", "D")
    a, _, c, z, y, d = case.locations
    assert (a.region, a.country, a.lat, a.lon, a.location_type, a.conflict_date, a.population) \
        == ("AA", "ABC", 1.0, 2.0, "conflict_zone", 0, 1000)
    assert c.region == "unknown" and np.isnan(c.lat) and c.conflict_date == 2
    assert (d.population, d.conflict_date) == (0, None)
    assert case.camp_capacity == {"Z": 300, "Y": 200}
    assert [(r.name1, r.name2, r.distance_km, r.forced_redirection) for r in case.routes[:3]] \
        == [("A", "B", 10.0, 0), ("B", "C", 5.5, 0), ("B", "Z", 20.0, 1)]
    assert [(c.closure_type, c.name1, c.start_day, c.end_day) for c in case.closures] \
        == [("country", "ABC", 3, -1), ("location", "Z", 1, 2)]
    hazard = case.hazard
    assert (hazard.kind, hazard.source) == ("conflict", "conflicts.csv")
    np.testing.assert_array_equal(hazard.daily(5)[:, [0, 1, 2, 3]],
                                  [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 1, 0], [1, 0, .5, 0],
                                   [0, 0, .5, 0]])
    # Flee's interpolation truncates: z on day 0 is 40 + 2/4 * (55 - 40) = 47.5 -> 47, day 1
    # 40 + 3/4 * 15 = 51.25 -> 51; before its first date y keeps its first value 10.
    obs = case.observations
    assert obs.locations == ("Z", "Y")
    np.testing.assert_array_equal(obs.total, [100, 110, 120, 130, 140])
    np.testing.assert_array_equal(obs.of("Z"), [47, 51, 55, 55, 55])
    np.testing.assert_array_equal(obs.of("Y"), [10, 10, 7, 4, 8])
    s = case.settings
    assert (s.conflict_driven_spawning, s.conflict_spawn_mode, s.displaced_per_conflict_day) \
        == (True, "pop_ratio", 0.02)
    assert (s.max_move_speed, s.capacity_buffer, s.distance_power) == (200.0, 0.9, 1.0)
    assert (s.insert_day0, s.flood_driven_spawning, s.take_from_population) == (True, False, False)
    # Settings Flee reads that the conversion does not apply are kept as written, in file order.
    assert s.not_applied == (("log_levels.agent", 0), ("spawn_rules.take_from_population", False))
    # the walk's settings are read into the settings and written to [placement.routes]
    assert (s.conflict_spawn_decay, s.camp_weight) == ((1.0, 0.5), 2.0)
    assert s.unused_keys == ("move_rules.some_unknown", "number_of_steps")


def test_flood_case(tmp_path):
    case = read_flee(write(tmp_path, FLOOD_CASE))
    assert case.observations is None
    assert [loc.conflict_date for loc in case.locations] == [None, None, None, None]
    hazard = case.hazard
    assert (hazard.kind, hazard.source) == ("flood", "flood_level.csv")
    np.testing.assert_array_equal(hazard.days, [0, 2, 4])
    # Linear between listed days (Flee's dict_interp); T1 and C1 are not listed: 0.
    np.testing.assert_array_equal(hazard.daily(5), [[0, 0, 1, 0], [0, 1, 1, 0], [0, 2, 1, 0],
                                                    [0, 3, .5, 0], [0, 4, 0, 0]])
    s = case.settings
    assert (s.flood_driven_spawning, s.flood_spawn_mode, s.displaced_per_flood_day) \
        == (True, "constant", (0.0, 10.0, 20.0, 30.0, 40.0))
    assert not s.conflict_driven_spawning
    assert s.not_applied == (
        ("log_levels.Flood", 0), ("spawn_rules.conflict_zone_spawning_only", False),
        ("spawn_rules.take_from_population", True), ("move_rules.flood_rules.max_flood_level", 4))
    assert (s.flood_movechances, s.flood_loc_weights) == ((0.3, 0.4, 0.7, 1.0, 1.0),
                                                          (1.0, 0.5, 0.2, 0.0, 0.0))
    # Flee reads spawn_mode and flood_rules.max_flood_level; these two it ignores, and so do we.
    assert s.unused_keys == ("move_rules.max_flood_level",
                             "spawn_rules.flood_driven_spawning.flood_spawn_mode")


def test_flood_spawning_defaults_follow_the_mode(tmp_path):
    files = dict(FLOOD_CASE)
    files["simsetting.yml"] = """\
        spawn_rules:
          flood_zone_spawning_only: True
          conflict_zone_spawning_only: False
          take_from_population: True
          flood_driven_spawn_mode:
            spawn_mode: "Poisson"
        """
    s = read_flee(write(tmp_path, files)).settings
    assert (s.flood_spawn_mode, s.displaced_per_flood_day) == ("poisson", (0, 100, 200, 300, 500))


def test_columns_read_by_name_in_any_order(tmp_path):
    files = dict(CONFLICT_CASE)
    files["input_csv/locations.csv"] = """\
        "#population","location_type","name","lon","lat","country","region","conflict_date"
        1000,conflict_zone,A,2.0,1.0,ABC,AA,0
        500,town,B,2.5,1.5,ABC,BB,
        800,conflict_zone,C,,,ABC,,2
        300,camp,Z,4.0,3.0,ZZZ,ZZ,
        200,idpcamp,Y,4.5,3.5,ZZZ,YY,
        ,marker,D,0,0,ABC,DD,
        """
    files["input_csv/routes.csv"] = """\
        #forced_redirection,distance,name2,name1
        ,10,B,A
        0,5.5,C,B
        1,20,Z,B
        ,7,Y,C
        ,50,Z,A
        ,12,A,B
        """
    reordered = read_flee(write(tmp_path / "reordered", files))
    base = read_flee(write(tmp_path / "base", CONFLICT_CASE))
    # Location C (index 2) has NaN coordinates, which never compare equal.
    assert reordered.locations[:2] == base.locations[:2]
    assert reordered.locations[3:] == base.locations[3:]
    assert reordered.routes == base.routes


def test_files_without_header_are_read_in_flee_order(tmp_path):
    files = dict(CONFLICT_CASE)
    files["input_csv/routes.csv"] = "A,B,10\nB,C,5.5\nB,Z,20,1\nC,Y,7\nA,Z,50\n"
    case = read_flee(write(tmp_path, files))
    assert [(r.name1, r.distance_km, r.forced_redirection) for r in case.routes[2:4]] \
        == [("B", 20.0, 1), ("C", 7.0, 0)]


def test_files_directly_in_the_folder_and_period_from_arguments(tmp_path):
    files = {name.removeprefix("input_csv/"): text for name, text in CONFLICT_CASE.items()
             if name != "input_csv/sim_period.csv"}
    case = read_flee(write(tmp_path, files), start_date=date(2020, 1, 2), length_days=3)
    assert (case.start_date, case.length_days, len(case.observations.total)) \
        == (date(2020, 1, 2), 3, 3)
    np.testing.assert_array_equal(case.observations.of("Z"), [51, 55, 55])


def test_conflicts_from_locations_when_conflicts_csv_is_absent(tmp_path):
    files = {k: v for k, v in CONFLICT_CASE.items() if k != "input_csv/conflicts.csv"}
    hazard = read_flee(write(tmp_path, files)).hazard
    assert hazard.source == "locations.csv conflict_date"
    # A is in conflict from day 0, C from its conflict_date 2; no other location ever.
    np.testing.assert_array_equal(hazard.daily(5)[:, :3],
                                  [[1, 0, 0], [1, 0, 0], [1, 0, 1], [1, 0, 1], [1, 0, 1]])


def test_route_distances_are_shortest_paths(tmp_path):
    distance = route_distances_km(read_flee(write(tmp_path, CONFLICT_CASE)))
    a, b, c, z, y, d = range(6)
    # By hand: A-B 10 (the repeated B,A 12 is longer), A-Z via B 10+20 = 30 < 50,
    # A-Y via B and C 10+5.5+7 = 22.5, Z-Y via B and C 20+5.5+7 = 32.5; D has no route.
    assert distance[a, b] == 10.0 and distance[b, a] == 10.0
    assert (distance[a, z], distance[a, y], distance[z, y]) == (30.0, 22.5, 32.5)
    assert distance[d, d] == 0.0 and np.isinf(distance[a, d]) and np.isinf(distance[d, z])
    np.testing.assert_array_equal(distance, distance.T)


def test_daily_new_displaced_as_flee_spawns(tmp_path):
    case = read_flee(write(tmp_path, CONFLICT_CASE))
    spawns = daily_new_displaced(case.observations, case.settings)
    # Camp stock Z + Y = 57, 61, 62, 59, 63: changes 57, +4, +1, -3, +4. Day 0's stock goes
    # into the camps (insert_day0), the fall on day 3 is a debt of 3 paid from day 4's +4.
    np.testing.assert_array_equal(spawns.new, [0, 4, 1, 0, 1])
    np.testing.assert_array_equal(spawns.debt, [0, 0, 0, 3, 0])
    np.testing.assert_array_equal(spawns.raw, [57, 61, 62, 59, 63])
    from_total = daily_new_displaced(case.observations, case.settings.__class__(
        sum_from_camps=False, insert_day0=False))
    # refugees.csv: 100, 110, ..., 140; without insert_day0 the 100 on day 0 spawn too.
    np.testing.assert_array_equal(from_total.new, [100, 10, 10, 10, 10])


SIM = np.array([[10, 0], [40, 20], [1, 2]])  # 3 days x 2 camps
DATA = np.array([[8, 2], [25, 5], [0, 0]])


def test_ard_against_hand_computation():
    # Day 0: (|10-8| + |0-2|) / (8+2) = 4/10 = 0.4
    # Day 1: (|40-25| + |20-5|) / (25+5) = 30/30 = 1.0
    # Day 2: no one in camps in the data: (1 + 2) / max(0, 1) = 3.0
    np.testing.assert_allclose(ard_by_day(SIM, DATA), [0.4, 1.0, 3.0])
    assert ard(SIM, DATA) == pytest.approx((0.4 + 1.0 + 3.0) / 3)
    # Rescaled to the data's camp total: day 0 factor 10/10 = 1 -> 0.4; day 1 factor 30/60
    # gives (20, 10): (5 + 5) / 30 = 1/3; day 2 factor 0/3 gives (0, 0): 0.
    np.testing.assert_allclose(ard_by_day(SIM, DATA, rescaled=True), [0.4, 1 / 3, 0.0])
    assert ard(SIM, DATA, rescaled=True) == pytest.approx((0.4 + 1 / 3) / 3)


def test_out_csv_header_and_rows():
    text = flee_out_csv(date(2020, 1, 1), ["Z", "Y"], np.array([[40, 9], [3, 0]]),
                        np.array([[47, 10], [0, 0]]), total_sim=np.array([60, 5]),
                        raw=np.array([57, 0]), debt=np.array([0, 0]))
    lines = text.splitlines()
    assert lines[0] == ("Day,Date,Z sim,Z data,Z error,Y sim,Y data,Y error,Total error,"
                        "refugees in camps (UNHCR),total refugees (simulation),"
                        "raw UNHCR refugee count,refugees in camps (simulation),refugee_debt")
    # Z error |40/47 - 1| = 0.14893... -> 0.1489; Y |9/10 - 1| -> 0.1;
    # Total error (7 + 1) / 57 = 0.14035087719298245; 57 in camps by data, 49 simulated.
    assert lines[1] == "0,2020-01-01,40,47,0.1489,9,10,0.1,0.14035087719298245,57,60,57,49,0"
    # Without a positive raw count Flee writes zeros for the data-based totals.
    assert lines[2] == "1,2020-01-02,3,0,0.0,0,0,0.0,0.0,0,5,0,3,0"
    assert text.endswith("\n") and len(lines) == 3


def test_a_run_shorter_than_31_days(tmp_path):
    case = read_flee(write(tmp_path, CONFLICT_CASE))
    obs = case.observations
    spawns = daily_new_displaced(obs, case.settings)
    sim = np.stack([obs.of("Z"), obs.of("Y")], axis=1) + 1  # one person too many per camp
    text = flee_out_csv(case.start_date, ["Z", "Y"], sim, obs.counts, sim.sum(axis=1),
                        spawns.raw, spawns.debt, idps=np.zeros(5))
    lines = text.splitlines()
    assert len(lines) == case.length_days + 1 and lines[0].endswith(",total IDPs")
    assert lines[-1].startswith("4,2020-01-05,56,55,0.0182,9,8,0.125,")
    assert ard(sim, obs.counts) == pytest.approx(np.mean(2 / obs.counts.sum(axis=1)))


def test_an_ordinary_run_does_not_import_the_flee_reader():
    # Scoring a run against observations (simulator.interop.validation) must not pull in the
    # Flee case reader for every run: import the run module and score a one-camp run.
    code = textwrap.dedent("""\
        import datetime, sys, types
        import numpy as np, xarray as xr
        import simulator.runs.run
        from simulator.inputs.observations import Observed
        from simulator.interop.validation import validate
        ds = xr.Dataset({"occupancy": (("time", "region", "place"), np.ones((2, 1, 1))),
                         "persons": (("time", "region", "state"), np.ones((2, 1, 1)))},
                        coords={"region": ["Z"], "place": ["camp"], "state": ["displaced"]})
        scenario = types.SimpleNamespace(observations=types.SimpleNamespace(place="camp"),
                                         start_date=datetime.date(2020, 1, 1), step_days=1)
        _, metrics = validate(ds, Observed(["Z"], np.full((2, 1), 2.0), None, None), scenario)
        assert metrics["ard"] == 0.5, metrics
        print(sorted(m for m in sys.modules if m.startswith("simulator.interop.flee")))
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"

def edit(root: Path, name: str, old: str, new: str) -> Path:
    path = root / name
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1))
    return path


BAD = [
    ("input_csv/locations.csv", ",lat,", ",latt,",
     "line 1: missing column 'lat' (accepted names: lat, latitude, gps_x)"),
    ("input_csv/locations.csv", "B,BB,ABC,1.5,2.5,town", "B,BB,ABC,1.5,2.5,village",
     "line 3: column 'location_type': expected one of camp, conflict, conflict_zone, flood_zone, "
     "forwarding_hub, idpcamp, marker, town, got 'village'"),
    ("input_csv/locations.csv", "D,DD", "B,DD",
     "line 7: column 'name': duplicate location 'B' (first on line 3)"),
    ("input_csv/locations.csv", "town,,500", "town,,500.5",
     "line 3: column 'population': expected a whole number of persons >= 0, got '500.5'"),
    ("input_csv/locations.csv", "conflict_zone,2,800", "conflict_zone,,800",
     "line 4: column 'conflict_date': expected the day (>= 0) a conflict location starts "
     "conflict, got ''"),
    ("input_csv/routes.csv", "A,B,10", "A,B,ten",
     "line 2: column 'distance': expected a distance in km >= 0, got 'ten'"),
    ("input_csv/routes.csv", "C,Y,7", "C,X,7",
     "line 6: column 'name2': expected a location name from locations.csv, got 'X'"),
    ("input_csv/routes.csv", "B,Z,20,1", "B,Z,20,3",
     "line 5: column 'forced_redirection': expected 0, 1 or 2, got '3'"),
    ("input_csv/closures.csv", "location,Z", "camps,Z",
     "line 3: column 'closure_type': expected one of camp, country, idpcamp, link, location, "
     "remove_forced_redirection, got 'camps'"),
    ("input_csv/closures.csv", "country,ABC,ZZZ", "country,ABC,ZZ",
     "line 2: column 'name2': expected a country from locations.csv, got 'ZZ'"),
    ("input_csv/sim_period.csv", "Length,5", "Length,five",
     "line 2: column 'Length': expected a number of days > 0, got 'five'"),
    ("input_csv/sim_period.csv", "Length,5", "Length,6",
     "rows cover days 0 to 4 but the run has 6 days (days 0 to 5)"),
    ("input_csv/conflicts.csv", "#Day,A,C", "#Day,A,a",
     "line 1: column 'a': listed twice"),
    ("input_csv/conflicts.csv", "3,1,0.5", "3,1,high",
     "line 5: column 'C': expected a number >= 0, got 'high'"),
    ("input_csv/conflicts.csv", "2,1,1.0", "3,1,1.0",
     "line 4: column '#Day': expected day 2 (Flee reads one row per day from day 0), got '3'"),
    ("source_data/data_layout.csv", "Y,y.csv\n", "",
     "no row for camp 'Y' (Flee compares every camp with a data series)"),
    ("source_data/z.csv", "2020-01-03", "2020-13-03",
     "line 2: column 'date': expected a date YYYY-MM-DD, got '2020-13-03'"),
    ("source_data/y.csv", "2020-01-05", "2020-01-03",
     "line 4: column 'date': expected dates in increasing order, got '2020-01-03'"),
    ("simsetting.yml", "camp_weight: 2", 'camp_weight: "high"',
     "line 10: move_rules.camp_weight: expected a number, got 'high'"),
    ("simsetting.yml", 'spawn_mode: "pop_ratio"', 'spawn_mode: "ratio"',
     "line 6: spawn_rules.conflict_driven_spawning.spawn_mode: expected one of constant, "
     "pop_ratio, poisson, got 'ratio'"),
    ("simsetting.yml", "optimisations:\n", "optimisations: 5\n",
     "line 13: optimisations: expected a mapping of settings, got 5"),
    ("simsetting.yml", "[1.0, 0.5]", "[1.0, 0.5",
     "line 9: malformed YAML: expected ',' or ']', but got ':'"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), BAD,
                         ids=[f"{n}:{m[:30]}" for n, _, _, m in BAD])
def test_bad_input_names_file_line_and_column(tmp_path, name, old, new, message):
    root = write(tmp_path, CONFLICT_CASE)
    path = edit(root, name, old, new)
    where = root / "input_csv/conflicts.csv" if message.startswith("rows cover") else path
    with pytest.raises(InputError) as err:
        read_flee(root)
    assert str(err.value) == f"{where}: {message}"


@pytest.mark.parametrize(("name", "message"), [
    ("input_csv/routes.csv", "file not found (every Flee case needs one)"),
    ("input_csv/sim_period.csv", "file not found (lines 'StartDate,YYYY-MM-DD' and "
                                 "'Length,<days>'; or give the start date and length)"),
    ("source_data/y.csv", "file not found (named on line 3 of {root}/source_data/data_layout.csv)"),
])
def test_missing_file(tmp_path, name, message):
    root = write(tmp_path, CONFLICT_CASE)
    (root / name).unlink()
    with pytest.raises(InputError) as err:
        read_flee(root)
    assert str(err.value) == f"{root / name}: {message.format(root=root)}"


def test_flood_case_without_flood_levels(tmp_path):
    root = write(tmp_path, FLOOD_CASE)
    (root / "input_csv/flood_level.csv").unlink()
    with pytest.raises(InputError) as err:
        read_flee(root)
    assert str(err.value) == (f"{root / 'input_csv/flood_level.csv'}: file not found "
                              "(flood-driven spawning is on in simsetting.yml; DFlee reads it)")


def test_flood_spawning_needs_take_from_population(tmp_path):
    root = write(tmp_path, FLOOD_CASE)
    path = edit(root, "simsetting.yml", "take_from_population: True", "take_from_population: no")
    with pytest.raises(InputError) as err:
        read_flee(root)
    assert str(err.value) == (f"{path}: line 8: spawn_rules.flood_driven_spawning: flood-driven "
                              "spawning needs spawn_rules.take_from_population: true (Flee "
                              "refuses otherwise)")
