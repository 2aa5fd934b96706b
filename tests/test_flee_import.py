"""climdisp import-flee: a tiny Flee folder imports, runs, and scores the ARD computed by hand."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.rules.impacts import take_persons
from simulator.ui.cli import main

# A validation case: conflict town A (1000 people) with routes to camp Z only; camp Y is not
# reachable (no route), so every arrival goes to Z. Observed: Z 0, 10, 20, 30 and Y 0, 5, 5, 5.
CASE = {
    "input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        A,R,X,1.0,2.0,conflict_zone,0,1000
        Z,R,X,1.1,2.0,camp,,1000
        Y,R,X,5.0,5.0,camp,,1000
        """,
    "input_csv/routes.csv": "#name1,name2,distance\nA,Z,10\n",
    "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,4\n",
    "source_data/data_layout.csv": "total,refugees.csv\nZ,z.csv\nY,y.csv\n",
    "source_data/refugees.csv": "2020-01-01,0\n2020-01-04,35\n",
    "source_data/z.csv": "2020-01-01,0\n2020-01-02,10\n2020-01-03,20\n2020-01-04,30\n",
    "source_data/y.csv": "2020-01-01,0\n2020-01-02,5\n2020-01-04,5\n",
}

# DFlee: flood levels 1 at F (2000 people) on every day; pop_ratio spawning 10% a day at level 1.
FLOOD = {
    "input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        F,R,X,1.0,1.0,town,,2000
        C,R,X,1.2,1.0,camp,,100000
        """,
    "input_csv/routes.csv": "#name1,name2,distance\nF,C,20\n",
    "input_csv/sim_period.csv": "StartDate,2023-08-01\nLength,2\n",
    "input_csv/flood_level.csv": "#Day,F\n0,1\n1,1\n",
    "simsetting.yml": """\
        spawn_rules:
          take_from_population: True
          conflict_zone_spawning_only: False
          flood_zone_spawning_only: True
          flood_driven_spawning:
            spawn_mode: "pop_ratio"
            displaced_per_flood_day: [0.0, 0.1, 0.2]
        """,
}


# Flee conflict-driven spawning in constant mode: 50 persons a day at full intensity.
CONFLICT = {
    "input_csv/locations.csv": """\
        #name,region,country,lat,lon,location_type,conflict_date,population
        A,R,X,1.0,2.0,conflict_zone,0,1000
        Z,R,X,1.1,2.0,camp,,1000
        """,
    "input_csv/routes.csv": "#name1,name2,distance\nA,Z,10\n",
    "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,3\n",
    "input_csv/conflicts.csv": "#Day,A\n0,1\n1,0.5\n2,0\n",
    "simsetting.yml": """\
        spawn_rules:
          conflict_driven_spawning:
            spawn_mode: "constant"
            displaced_per_conflict_day: 50
        """,
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def import_and_run(tmp_path: Path, files: dict[str, str]) -> Path:
    flee = write(tmp_path / "flee", files)
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "scen")]) == 0
    assert main(["run", str(tmp_path / "scen" / "scenario.toml"), "--out",
                 str(tmp_path / "run"), "--quiet"]) == 0
    return tmp_path / "run"


def test_imported_validation_case_writes_flee_out_csv_and_the_hand_computed_ard(tmp_path):
    run = import_and_run(tmp_path, CASE)
    rows = list(csv.DictReader((run / "out.csv").open()))
    # new arrivals from the observed camp totals 0, 15, 25, 35: 0, 15, 10, 10, all into Z
    assert [int(r["Z sim"]) for r in rows] == [0, 15, 25, 35]
    assert [int(r["Y sim"]) for r in rows] == [0, 0, 0, 0]
    assert rows[1] == {"Day": "1", "Date": "2020-01-02", "Z sim": "15", "Z data": "10",
                       "Z error": "0.5", "Y sim": "0", "Y data": "5", "Y error": "1.0",
                       "Total error": str(10 / 15), "refugees in camps (UNHCR)": "15",
                       "total refugees (simulation)": "15", "raw UNHCR refugee count": "15",
                       "refugees in camps (simulation)": "15", "refugee_debt": "0"}
    # E(t) = sum |sim - data| / data total: 0/1, (5+5)/15, (5+5)/25, (5+5)/35
    hand = (0 + 10 / 15 + 10 / 25 + 10 / 35) / 4
    validation = json.loads((run / "manifest.json").read_text())["validation"]
    assert validation["ard"] == pytest.approx(hand)
    assert validation["ard_rescaled"] == pytest.approx(hand)  # sim and data totals agree


def test_flood_driven_spawning_follows_the_daily_share(tmp_path):
    import xarray as xr

    run = import_and_run(tmp_path, FLOOD)
    ds = xr.open_dataset(run / "results.nc")
    displaced = int(ds["newly_displaced"].sum())
    expect = 2000 * (1 - 0.9 ** 2)  # two days at 10 % a day of those still at home: 380
    assert abs(displaced - expect) < 4 * np.sqrt(2000 * 0.19 * 0.81)
    assert int(ds["occupancy"].sel(region="C", place="camp").isel(time=-1)) == displaced
    assert ds["hazard_max"].attrs["units"] == "1"  # flood levels have no unit


def test_conflict_driven_spawning_moves_the_daily_count_times_the_intensity(tmp_path):
    import xarray as xr

    ds = xr.open_dataset(import_and_run(tmp_path, CONFLICT) / "results.nc")
    # one-person households leave until the day's count is met exactly: 50 x 1, 50 x 0.5, 0
    assert ds["newly_displaced"].sum("region").values.tolist() == [50, 25, 0]


def test_prescribed_persons_nobody_can_fill_are_carried_and_reported(tmp_path):
    import xarray as xr

    files = dict(CASE, **{"source_data/z.csv": "2020-01-01,0\n2020-01-02,1200\n"})
    ds = xr.open_dataset(import_and_run(tmp_path, files) / "results.nc")
    # 1205 arrive on day 1 from a town of 1000: everyone leaves, 205 stay owed to the end
    assert int(ds["newly_displaced"].sum()) == 1000
    assert ds.attrs["prescribed_not_displaced_persons"] == 205


def test_malformed_flee_folder_is_one_clear_line(tmp_path, capsys):
    files = dict(CASE, **{"input_csv/routes.csv": "#name1,name2,distance\nA,Z,ten\n"})
    flee = write(tmp_path / "flee", files)
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "scen")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "routes.csv" in err and "line 2" in err
    assert not (tmp_path / "scen").exists()


def test_import_never_overwrites_a_folder(tmp_path, capsys):
    flee = write(tmp_path / "flee", CASE)
    (tmp_path / "scen").mkdir()
    (tmp_path / "scen" / "mine.txt").write_text("keep")
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "scen")]) == 2
    assert (tmp_path / "scen" / "mine.txt").read_text() == "keep"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 9)), min_size=1, max_size=60),
       st.lists(st.floats(0, 80), min_size=3, max_size=3), st.integers(0, 2**32 - 1))
def test_take_persons_meets_each_target_within_half_a_household(rows, targets, seed):
    group = np.array([g for g, _ in rows])
    size = np.array([s for _, s in rows])
    u = np.random.default_rng(seed).random(group.size)
    taken = take_persons(group, size, u, np.array(targets))
    for g, target in enumerate(targets):
        mine = np.flatnonzero(group == g)
        mine = mine[np.argsort(u[mine])]  # the group's queue
        took = taken[mine]
        k = int(took.sum())
        assert took[:k].all() and not took[k:].any()  # a prefix of the queue leaves
        got = size[mine[:k]].sum()
        if k:  # the last to leave fitted with at least half its size
            assert got - size[mine[k - 1]] / 2 <= target
        if k < mine.size:  # the next in line would overshoot by more than half its size
            assert got + size[mine[k]] / 2 > target


def test_shipped_flee_example_imports_runs_and_fits_its_camps(tmp_path):
    example = Path(__file__).resolve().parents[1] / "climate_inputs" / "flee_example"
    assert main(["import-flee", str(example), "--out", str(tmp_path / "scen")]) == 0
    assert main(["run", str(tmp_path / "scen" / "scenario.toml"), "--out",
                 str(tmp_path / "run"), "--quiet"]) == 0
    validation = json.loads((tmp_path / "run" / "manifest.json").read_text())["validation"]
    # gravity over route distances splits arrivals between the camps about as observed; sending
    # everyone to one camp would score about 0.8
    assert validation["ard"] < 0.1 and validation["days"] == 60


def test_prescribed_counts_stay_unbiased_with_households_of_several_persons(case):
    from simulator.inputs.config import load_scenario
    from simulator.model import DisplacementModel

    path = case(scenario={"impact": {"method": "prescribed",
                                     "prescribed_file": "per_day.csv"}})
    (path.parent / "per_day.csv").write_text(
        "date,persons\n" + "".join(f"2030-01-{d:02d},1\n" for d in range(1, 11)))
    model = DisplacementModel(load_scenario(path))
    ds = model.run()
    # one person a day for 10 days, in households of about 4.5: whole households leave, and the
    # signed remainder carries, so the total stays within half a household of 10
    assert abs(int(ds["newly_displaced"].sum()) - 10) <= model.households.size.max() / 2


def test_dashboard_offers_no_warning_lever_for_conflict_and_labels_its_hazard(tmp_path):
    pytest.importorskip("solara")
    from simulator.ui.dashboard_model import DashboardModel, load

    flee = write(tmp_path / "flee", CONFLICT)
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "scen")]) == 0
    scenario, inputs = load(tmp_path / "scen" / "scenario.toml")
    model = DashboardModel(scenario, inputs)
    assert not model.has_lever("warning_coverage") and model.has_lever("shelter_places_added")
    model.step()
    assert model.peak_hazard().attrs == {"units": "1", "long_name": "peak conflict intensity"}


def test_settings_read_but_not_applied_are_reported_and_change_nothing(tmp_path, capsys):
    from simulator.interop.flee.convert import import_flee

    applied = "move_rules:\n  max_move_speed: 5.0\n  distance_power: 2\n"
    ignored = "log_levels:\n  agent: 1\n" + applied + "  stay_close_to_home: true\n  hasten: 1\n"
    plain = write(tmp_path / "plain" / "flee", dict(CASE, **{"simsetting.yml": applied}))
    flee = write(tmp_path / "flee", dict(CASE, **{"simsetting.yml": ignored}))
    path, notes = import_flee(flee, tmp_path / "scen")
    line = ("simsetting.yml settings read but not applied: log_levels.agent = 1, "
            "move_rules.stay_close_to_home = True")
    assert line in notes
    assert not any("max_move_speed" in n or "distance_power" in n for n in notes)
    # hasten belongs to optimisations: under move_rules Flee ignores it too
    assert "simsetting.yml keys Flee ignores too: move_rules.hasten" in notes
    assert f"# {line}\n" in path.read_text()
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "again")]) == 0
    assert f"note: {line}\n" in capsys.readouterr().out
    # what is reported as not applied leaves the scenario as without it
    plain_path, _ = import_flee(plain, tmp_path / "plain" / "scen")

    def body(scenario: Path) -> list[str]:
        return [s for s in scenario.read_text().splitlines() if not s.startswith("#")]

    assert body(path) == body(plain_path)


def test_travel_time_delays_arrival_in_camps_but_not_the_reservation(tmp_path):
    import xarray as xr

    settings_yml = "move_rules:\n  max_move_speed: 5.0\n"  # A to Z is 10 km: two days
    run = import_and_run(tmp_path, dict(CASE, **{"simsetting.yml": settings_yml}))
    rows = list(csv.DictReader((run / "out.csv").open()))
    # arrivals of days 0..3 (0, 15, 10, 10) reach Z one day later
    assert [int(r["Z sim"]) for r in rows] == [0, 0, 15, 25]
    ds = xr.open_dataset(run / "results.nc")
    z = ds.sel(region="Z", place="camp")
    assert z["occupancy"].values.tolist() == [0, 15, 25, 35]  # places held from departure
    assert z["in_transit"].values.tolist() == [0, 15, 10, 10]
