"""Flee's walk (placement.movement = "routes"): the rules' closed forms, then whole runs.

Runs use small Flee cases imported with ``--movement routes`` and conflict-driven spawning in
constant mode, so the number displaced each day is known; every run checks the invariants
(persons conserved, capacity never exceeded) at every step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.inputs.config import load_scenario
from simulator.interop.flee.convert import import_flee
from simulator.model import DisplacementModel
from simulator.rules.walk import (
    candidate_routes,
    capacity_multiplier,
    conflict_decay,
    forced_on,
    location_score,
    pick,
    recent_travel,
    route_weight,
)
from simulator.ui.cli import main
from tests.test_flee_import import FLOOD, write

# -- the rules --------------------------------------------------------------------------------


def test_capacity_multiplier_is_flees_piecewise_ramp():
    cap = np.array([100, 100, 100, 100, 100, 0])
    occ = np.array([50, 90, 95, 100, 130, 5000])
    np.testing.assert_allclose(capacity_multiplier(occ, cap, 0.9), [1, 1, 0.5, 0, 0, 1])


def test_location_score_multiplies_weights_and_raises_conflict_weight_to_intensity():
    s = location_score(np.array([True, False, False, True]), np.array([False, True, False, True]),
                       np.array([0.0, 0.0, 0.5, 0.0]), 2.0, 3.0, 0.25)
    np.testing.assert_allclose(s, [2.0, 3.0, 0.5, 6.0])


def test_conflict_decay_steps_every_interval_and_holds_the_last():
    np.testing.assert_allclose(conflict_decay(np.array([0, 29, 30, 65, 1000]), (1.0, 0.5, 0.1),
                                              30), [1.0, 1.0, 0.5, 0.1, 0.1])
    np.testing.assert_allclose(conflict_decay(np.array([3, 400]), (), 30), [1.0, 1.0])


def test_route_weight_is_the_core_formula():
    w = route_weight(np.array([2.0]), np.array([40.0]), np.array([0.5]), 10.0, 1.0, 2.0, 0.5)
    assert w[0] == pytest.approx(((1.0 + 2.0) / 50.0 ** 2 * 0.5) ** 0.5)


def test_short_stints_and_recent_travel():
    assert forced_on(np.array([0.2]), np.array([100.0]), 200.0)[0]  # (0.2 + 0.5) / 2 < 0.5
    assert not forced_on(np.array([0.6]), np.array([100.0]), 200.0)[0]
    assert recent_travel(np.array([0.6]), np.array([100.0]), 200.0)[0] == pytest.approx(0.55)


def line(n_links: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed links of a path 0-1-2-...: both ways, 10 km each."""
    a = np.arange(n_links)
    return np.concatenate([a, a + 1]), np.concatenate([a + 1, a]), np.full(2 * n_links, 10.0)


def test_candidate_routes_follow_the_awareness_level_and_skip_markers():
    start, end, km = line(3)  # 0-1-2-3
    no_marker = np.zeros(4, dtype=bool)
    origin, nodes, links, dist = candidate_routes(4, start, end, km, 1, no_marker)
    assert sorted(map(tuple, nodes[origin == 1].tolist())) == [(0,), (2,)]
    origin, nodes, links, dist = candidate_routes(4, start, end, km, 2, no_marker)
    got = {tuple(int(x) for x in r if x >= 0): d for r, d in zip(nodes[origin == 0], dist[
        origin == 0], strict=True)}
    assert got == {(1,): 10.0, (1, 2): 20.0}  # two links ahead, never back to the origin
    marker = np.array([False, True, False, False])  # a marker neither ends a route nor counts
    origin, nodes, links, dist = candidate_routes(4, start, end, km, 1, marker)
    got = {tuple(int(x) for x in r if x >= 0): d for r, d in zip(nodes[origin == 0], dist[
        origin == 0], strict=True)}
    assert got == {(1, 2): 20.0}
    assert links[origin == 0].tolist() == [[0, 1]]


def test_pick_draws_routes_in_proportion_to_weight_and_never_a_closed_one():
    seg = np.array([0, 3, 5])
    weights = np.array([1.0, 3.0, 0.0, 5.0, 5.0])
    allowed = np.array([True, True, True, False, True])
    n = 40_000
    rng = np.random.default_rng(1)
    origin = np.repeat([0, 1], n)
    got = pick(seg, weights, allowed, origin, rng.random(2 * n))
    share = np.bincount(got, minlength=5) / n
    assert abs(share[0] - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n) and share[2] == 0
    assert share[3] == 0 and share[4] == 1  # the closed route is never taken
    zero = pick(seg, np.zeros(5), np.array([True, True, False, False, False]), origin,
                rng.random(2 * n))  # all weightless: the allowed equally likely; none: -1
    assert set(zero[:n]) == {0, 1} and (zero[n:] == -1).all()


# -- whole runs ------------------------------------------------------------------------------

SIMSETTING = """\
    spawn_rules:
      conflict_driven_spawning:
        spawn_mode: "constant"
        displaced_per_conflict_day: {per_day}
    move_rules:
      max_move_speed: {speed}
      softening: 0
      default_movechance: {town}
"""


def case(tmp_path: Path, locations: str, routes: str, days: int, per_day: int = 100,
         speed: float = 1000, town: float = 0.3, extra: dict | None = None) -> Path:
    """Import a Flee case (conflict at A from day 0) with routes movement; the scenario path."""
    files = {
        "input_csv/locations.csv": "#name,region,country,lat,lon,location_type,conflict_date,"
                                   "population\n" + locations,
        "input_csv/routes.csv": "#name1,name2,distance\n" + routes,
        "input_csv/sim_period.csv": f"StartDate,2020-01-01\nLength,{days}\n",
        "input_csv/conflicts.csv": "#Day,A\n" + "".join(f"{d},1\n" for d in range(days)),
        "simsetting.yml": SIMSETTING.format(per_day=per_day, speed=speed, town=town),
        **(extra or {})}
    flee = write(tmp_path / "flee", files)
    path, _ = import_flee(flee, tmp_path / "scen", movement="routes")
    return path


def run(path: Path, *overrides: str):
    model = DisplacementModel(load_scenario(path, list(overrides)), check_invariants=True)
    return model, model.run()


def camp(ds, name: str) -> np.ndarray:
    return ds["occupancy"].sel(region=name, place="camp").values


CHAIN = "A,R,X,1.0,1.0,conflict_zone,0,100000\nB,R,X,1.1,1.0,town,,1000\n" \
        "C,R,X,1.2,1.0,camp,,1000000\n"


def test_town_move_chance_zero_stops_everyone_at_the_town_and_one_sends_all_to_the_camp(
        tmp_path):
    path = case(tmp_path / "stop", CHAIN, "A,B,10\nB,C,10\n", 5, town=0.0)
    _, ds = run(path)
    assert camp(ds, "C").sum() == 0
    assert ds["occupancy"].sel(region="B", place="unsheltered").values[-1] == 500
    path = case(tmp_path / "go", CHAIN, "A,B,10\nB,C,10\n", 5, town=1.0)
    _, ds = run(path)
    # every day's 100 leave A, reach B within the day and go on to the camp the same day
    np.testing.assert_array_equal(camp(ds, "C"), [100, 200, 300, 400, 500])


def test_a_long_link_takes_distance_over_speed_days(tmp_path):
    path = case(tmp_path, "A,R,X,1.0,1.0,conflict_zone,0,100000\nC,R,X,1.2,1.0,camp,,1000000\n",
                "A,C,100\n", 8, per_day=10, speed=30)
    _, ds = run(path)
    # Flee: arrival once the km covered exceed the link, 30/60/90/120 -> the fourth day
    np.testing.assert_array_equal(camp(ds, "C"), [0, 0, 0, 10, 20, 30, 40, 50])
    _, ds = run(path, "placement.routes.start_on_foot=true",
                "placement.routes.walk_speed_km_per_day=25")
    np.testing.assert_array_equal(camp(ds, "C"), [0, 0, 0, 0, 10, 20, 30, 40])  # 125 > 100


def test_route_choice_follows_score_over_distance(tmp_path):
    locations = ("A,R,X,1.0,1.0,conflict_zone,0,100000\nB,R,X,1.1,1.0,camp,,1000000\n"
                 "C,R,X,1.2,1.0,camp,,1000000\n")
    path = case(tmp_path, locations, "A,B,10\nA,C,30\n", 2, per_day=20_000)
    _, ds = run(path)
    b, c = camp(ds, "B")[-1], camp(ds, "C")[-1]
    assert b + c == 40_000
    p = (1 / 10) / (1 / 10 + 1 / 30)  # weights 1/d with no softening: 0.75
    assert abs(b / 40_000 - p) < 4 * np.sqrt(p * (1 - p) / 40_000)
    _, ds = run(path, "placement.routes.camp_weight=5", "placement.distance_exponent=0")
    b = camp(ds, "B")[-1]  # distance no longer matters: an even split
    assert abs(b / 40_000 - 0.5) < 4 * np.sqrt(0.25 / 40_000)


def test_a_full_camp_is_never_overfilled_and_its_arrivals_wait_there(tmp_path):
    locations = "A,R,X,1.0,1.0,conflict_zone,0,100000\nC,R,X,1.2,1.0,camp,,250\n"
    path = case(tmp_path, locations, "A,C,10\n", 5)
    _, ds = run(path, "placement.soft_cap_start=1", "placement.routes.move_chance.camp=0")
    np.testing.assert_array_equal(camp(ds, "C"), [100, 200, 250, 250, 250])
    waiting = ds["occupancy"].sel(region="C", place="unsheltered").values
    # those waiting count as at the camp (Flee's numAgents): from day 3 it is over capacity,
    # its multiplier 0, and the rest stay at A
    np.testing.assert_array_equal(waiting, [0, 0, 50, 50, 50])
    assert ds["turned_away"].sel(region="C", place="camp").values.sum() > 0
    # Flee's check_dest_is_full_camp: a route to a camp whose multiplier is below 0.5 is
    # forgotten before setting off (the only route is still drawn when every weight is 0)
    path = case(tmp_path / "full", "A,R,X,1.0,1.0,conflict_zone,0,100000\nC,R,X,1.2,1.0,camp,,"
                "100\n", "A,C,10\n", 4)
    _, ds = run(path, "placement.soft_cap_start=0.5", "placement.routes.move_chance.camp=0")
    np.testing.assert_array_equal(camp(ds, "C"), [100, 100, 100, 100])
    assert ds["occupancy"].sel(region="C", place="unsheltered").values.sum() == 0
    np.testing.assert_array_equal(ds["occupancy"].sel(region="A", place="unsheltered").values,
                                  [0, 100, 200, 300])


def test_a_full_camp_is_avoided_for_another(tmp_path):
    locations = ("A,R,X,1.0,1.0,conflict_zone,0,100000\nB,R,X,1.1,1.0,camp,,150\n"
                 "C,R,X,1.2,1.0,camp,,1000000\n")
    path = case(tmp_path, locations, "A,B,10\nA,C,500\n", 10)
    _, ds = run(path, "placement.routes.move_chance.camp=0")  # nobody leaves a camp
    at_b = camp(ds, "B") + ds["occupancy"].sel(region="B", place="unsheltered").values
    # ~99% pick B (1/10 against 1/500) until B is full after day 1; from then on its weight
    # is 0 and everyone displaced goes to C, arriving the same day
    assert camp(ds, "B").max() == 150 and (at_b[2:] == at_b[1]).all()
    np.testing.assert_array_equal(np.diff(camp(ds, "C"))[2:], 100)


def test_a_closed_border_closes_its_links_until_it_reopens(tmp_path):
    locations = "A,R,X,1.0,1.0,conflict_zone,0,100000\nC,R,Y,1.2,1.0,camp,,1000000\n"
    closures = {"input_csv/closures.csv": "#closure_type,name1,name2,closure_start,closure_end\n"
                                          "country,X,Y,0,3\n"}
    path = case(tmp_path, locations, "A,C,10\n", 6, extra=closures)
    _, ds = run(path, "placement.routes.move_chance.camp=0")
    np.testing.assert_array_equal(camp(ds, "C"), [0, 0, 0, 400, 500, 600])
    crossed = ds["cross_border"].sum(dim=[d for d in ds["cross_border"].dims if d != "time"])
    np.testing.assert_array_equal(crossed.values, [0, 0, 0, 400, 100, 100])


def test_day0_camps_put_the_first_days_displaced_straight_into_camps(tmp_path):
    locations = ("A,R,X,1.0,1.0,conflict_zone,0,100000\nB,R,X,1.1,1.0,town,,1000\n"
                 "C,R,X,9.0,9.0,camp,,1000000\n")
    path = case(tmp_path, locations, "A,B,10\nB,C,5000\n", 2, town=0.0)
    _, ds = run(path, "placement.routes.day0_camps.C=60")
    np.testing.assert_array_equal(camp(ds, "C"), [60, 60])  # the rest cannot reach C
    _, ds = run(path, "placement.routes.day0_camps.C=6000")  # at most that day's displaced
    np.testing.assert_array_equal(camp(ds, "C"), [100, 100])


def test_reruns_are_bit_identical_and_seeds_differ(tmp_path):
    locations = ("A,R,X,1.0,1.0,conflict_zone,0,100000\nB,R,X,1.1,1.0,town,,1000\n"
                 "C,R,X,1.2,1.0,camp,,1000000\nD,R,X,1.0,1.3,camp,,1000000\n")
    path = case(tmp_path, locations, "A,B,30\nB,C,40\nB,D,20\nA,D,70\n", 10, speed=50,
                town=0.5)
    one, two = run(path)[1], run(path)[1]
    assert one["occupancy"].equals(two["occupancy"]) and one["flows"].equals(two["flows"])
    other = run(path, "seed=7")[1]
    assert not one["occupancy"].equals(other["occupancy"])


def test_the_import_writes_flees_move_rules_and_location_types(tmp_path):
    settings = {"simsetting.yml": """\
        move_rules:
          camp_weight: 2
          default_movechance: 0.4
          avoid_short_stints: True
          awareness_level: 2
        spawn_rules:
          conflict_spawn_decay: [1.0, 0.5]
        """}
    flee = write(tmp_path / "flee", {**settings, **{
        "input_csv/locations.csv": "#name,region,country,lat,lon,location_type,conflict_date,"
                                   "population\n" + CHAIN,
        "input_csv/routes.csv": "#name1,name2,distance\nA,B,10\nB,C,10\n",
        "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,2\n",
        "input_csv/conflicts.csv": "#Day,A\n0,1\n1,1\n"}})
    flee_settings = flee / "simsetting.yml"
    flee_settings.write_text(flee_settings.read_text() + "  conflict_driven_spawning:\n"
                             "    spawn_mode: constant\n    displaced_per_conflict_day: 5\n")
    assert main(["import-flee", str(flee), "--out", str(tmp_path / "s"), "--movement",
                 "routes"]) == 0
    cfg = load_scenario(tmp_path / "s" / "scenario.toml")
    r = cfg.placement.routes
    assert cfg.placement.movement == "routes" and r.camp_weight == 2 and r.awareness_level == 2
    assert r.move_chance.town == 0.4 and r.avoid_short_stints
    assert cfg.impact.conflict_decay == (1.0, 0.5)
    assert (tmp_path / "s" / "regions.csv").read_text().splitlines()[1:] == [
        "0,A,X,conflict_zone", "1,B,X,town", "2,C,X,camp"]


@pytest.mark.parametrize(("override", "message"), [
    ("placement.cascade=[\"host\",\"camp\"]", "placement.cascade: with movement = \"routes\""),
    ("step_days=2", "step_days: movement = \"routes\" walks a day's distance"),
])
def test_routes_needs_a_camp_cascade_and_daily_steps(tmp_path, capsys, override, message):
    path = case(tmp_path, CHAIN, "A,B,10\nB,C,10\n", 2)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--set", override]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "o").exists()


def test_a_bad_location_type_or_day0_camp_is_one_line(tmp_path, capsys):
    path = case(tmp_path, CHAIN, "A,B,10\nB,C,10\n", 2)
    regions = path.parent / "regions.csv"
    regions.write_text(regions.read_text().replace("town", "village"))
    assert main(["run", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "regions.names: line 3: location_type 'village' is not one of town, conflict_zone" \
        in capsys.readouterr().err
    regions.write_text(regions.read_text().replace("village", "town"))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--set",
                 "placement.routes.day0_camps.Nowhere=5"]) == 2
    assert "placement.routes.day0_camps: 'Nowhere' is not a region" in capsys.readouterr().err


# -- Flee's spawning weights and conflict zones ----------------------------------------------


def test_conflict_zones_start_on_the_rise_keep_their_intensity_and_decay():
    from simulator.world.conflicts import ConflictZones

    z = ConflictZones(2)
    for t, level in enumerate([[0, 0], [0.5, 0], [0.2, 0], [0, 1], [0.7, 1]]):
        z.update(t, np.array(level, dtype=float))
        z.update(t, np.array([9.0, 9.0]))  # a second call in one step changes nothing
    assert z.onset.tolist() == [4, 3] and z.level.tolist() == [0.7, 1.0]
    np.testing.assert_allclose(z.intensity(40, (1.0, 0.5), 30), [0.35, 0.5])
    z.update(5, np.array([0.0, 0.0]))  # calm: from 0.7 it stays a zone, from exactly 1 not
    assert z.zones.tolist() == [True, False]


def test_flee_example_spawns_where_population_times_conflict_says(tmp_path):
    locations = ("A,R,X,1.0,1.0,conflict_zone,0,30000\nB,R,X,1.5,1.0,conflict_zone,0,10000\n"
                 "C,R,X,1.2,1.0,camp,,1000000\n")
    files = {
        "input_csv/locations.csv": "#name,region,country,lat,lon,location_type,conflict_date,"
                                   "population\n" + locations,
        "input_csv/routes.csv": "#name1,name2,distance\nA,C,10\nB,C,10\n",
        "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,3\n",
        "input_csv/conflicts.csv": "#Day,A,B\n0,0.2,1\n1,0.2,1\n2,0.2,1\n",
        "source_data/data_layout.csv": "total,refugees.csv\nC,c.csv\n",
        "source_data/refugees.csv": "2020-01-01,0\n2020-01-03,6000\n",
        "source_data/c.csv": "2020-01-01,0\n2020-01-03,6000\n"}
    path, notes = import_flee(write(tmp_path / "flee", files), tmp_path / "scen")
    _, ds = run(path)
    left = ds["internal_displacements"].sum("time")
    # w = 30000 x 0.2 = 6000 at A and 10000 x 1 = 10000 at B: B sends 10/16 of them
    share_b = float(left.sel(region="B") / left.sum())
    assert abs(share_b - 10 / 16) < 4 * np.sqrt(10 / 16 * 6 / 16 / float(left.sum()))
    _, ds = run(path, "impact.prescribed_weights=residents")  # by persons at home: 1/4
    left = ds["internal_displacements"].sum("time")
    assert abs(float(left.sel(region="B") / left.sum()) - 0.25) < 0.05


def test_capacity_scaling_lets_walkers_crowd_a_camp_beyond_its_places_to_wait(tmp_path):
    locations = "A,R,X,1.0,1.0,conflict_zone,0,100000\nC,R,X,1.2,1.0,camp,,200\n"
    path = case(tmp_path, locations, "A,C,10\n", 5)
    over = ("placement.soft_cap_start=1", "placement.routes.move_chance.camp=0")
    _, ds = run(path, *over, "placement.routes.capacity_scaling=1.5")
    waiting = ds["occupancy"].sel(region="C", place="unsheltered").values
    # judged at 1.5 x 200 = 300 at the camp: with 300 there (200 in, 100 waiting) the
    # multiplier is still 1 (Flee tests "at most buffer x capacity" first), so 100 more come;
    # at 400 it is 0 and no one else does. Unscaled, the 100 of day 2 would have been the last
    np.testing.assert_array_equal(camp(ds, "C"), [100, 200, 200, 200, 200])
    np.testing.assert_array_equal(waiting, [0, 0, 100, 200, 200])


# -- DFlee's flood rules, and closures of links, locations and camps ---------------------------


def test_flood_rules_replace_the_move_chance_and_weigh_the_score_by_level():
    from simulator.rules.walk import flood_rules

    chance, weight = flood_rules(np.array([0.3, 0.3, 0.3, 0.3]), np.array([0, 1, 2.5, 9]),
                                 (0.3, 0.4, 0.7), (1.0, 0.5, 0.2))
    np.testing.assert_allclose(chance, [0.3, 0.4, 0.7, 0.7])  # beyond the list: the last
    np.testing.assert_allclose(weight, [1.0, 0.5, 0.2, 0.2])
    chance, weight = flood_rules(np.array([0.3]), np.array([2.0]), (), ())
    assert chance[0] == 0.3 and weight[0] == 1.0


def test_a_flood_level_with_move_chance_zero_keeps_everyone_where_it_floods(tmp_path):
    files = dict(FLOOD, **{  # flooded at level 1 on days 0-1, dry on day 2
        "input_csv/sim_period.csv": "StartDate,2023-08-01\nLength,3\n",
        "input_csv/flood_level.csv": "#Day,F\n0,1\n1,1\n2,0\n",
        "simsetting.yml": FLOOD["simsetting.yml"].rstrip(" ") + """\
        move_rules:
          flood_rules:
            flood_movechances: [0.3, 0.0]
            flood_loc_weights: [1.0, 0.5]
        """})
    path, _ = import_flee(write(tmp_path / "flee", files), tmp_path / "scen", movement="routes")
    cfg = load_scenario(path)
    assert cfg.placement.routes.flood_move_chances == (0.3, 0.0)
    _, ds = run(path, "placement.routes.move_chance.town=1")
    # flooded on days 0-1: nobody leaves F (chance 0 at level 1); dry on day 2: all go
    np.testing.assert_array_equal(camp(ds, "C")[:2], [0, 0])
    assert camp(ds, "C")[2] == ds["internal_displacements"].sum() > 0


CLOSURES = "#closure_type,name1,name2,closure_start,closure_end\n"


@pytest.mark.parametrize(("row", "expected", "at_b"), [
    ("link,B,C,0,3", [0, 0, 0, 400, 500], None),  # both ways until day 3
    # every route to and from B on day 1: that day's 100 cannot even reach B
    ("location,B,,1,2", [100, 100, 300, 400, 500], [0, 0, 0, 0, 0]),
])
def test_link_and_location_closures_hold_walkers_back_until_they_reopen(tmp_path, row, expected,
                                                                       at_b):
    path = case(tmp_path, CHAIN, "A,B,10\nB,C,10\n", 5, town=1.0,
                extra={"input_csv/closures.csv": CLOSURES + row + "\n"})
    _, ds = run(path, "placement.routes.move_chance.camp=0")
    np.testing.assert_array_equal(camp(ds, "C"), expected)
    if at_b is not None:
        np.testing.assert_array_equal(
            ds["occupancy"].sel(region="B", place="unsheltered").values, at_b)
    _, direct = run(path, "placement.movement=direct")
    np.testing.assert_array_equal(camp(direct, "C"), [100, 200, 300, 400, 500])  # ignored


def test_a_closed_camp_is_a_town_that_admits_nobody_until_it_reopens(tmp_path):
    locations = "A,R,X,1.0,1.0,conflict_zone,0,100000\nC,R,X,1.2,1.0,camp,,1000000\n"
    path = case(tmp_path, locations, "A,C,10\n", 5, town=0.0,
                extra={"input_csv/closures.csv": CLOSURES + "camp,C,,0,2\n"})
    assert load_scenario(path).placement.routes.closures[0].closed_days == ((0, 2),)
    _, ds = run(path)
    # days 0-1: C is a town; arrivals stay there (town move chance 0), unsheltered; when it
    # reopens on day 2 they move into the camp
    np.testing.assert_array_equal(camp(ds, "C"), [0, 0, 300, 400, 500])
    np.testing.assert_array_equal(ds["occupancy"].sel(region="C", place="unsheltered").values,
                                  [100, 200, 0, 0, 0])


def test_bad_closures_are_one_line(tmp_path, capsys):
    path = case(tmp_path, CHAIN, "A,B,10\nB,C,10\n", 2)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--set",
                 'placement.routes.closures=[{kind="link", names=["A","C"], '
                 'closed_days=[[0,1]]}]']) == 2
    assert "placement.routes.closures.0.names: no route joins 'A' and 'C'" in \
        capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--set",
                 'placement.routes.closures=[{kind="camp", names=["A","C"], '
                 'closed_days=[[0,1]]}]']) == 2
    assert "a camp closure names one location" in capsys.readouterr().err


def test_a_camp_with_no_places_open_yet_is_not_walked_to(tmp_path):
    locations = "A,R,X,1.0,1.0,conflict_zone,0,100000\nC,R,X,1.2,1.0,camp,,1000\n"
    path = case(tmp_path, locations, "A,C,10\n", 4)
    _, ds = run(path, "capacity.activation_ramp=[0.0, 1.0]", "capacity.ramp_days=2",
                "placement.routes.move_chance.camp=0")
    # closed for two days (multiplier 0, not Flee's "no capacity, no limit"): they stay at A
    np.testing.assert_array_equal(camp(ds, "C"), [0, 0, 300, 400])
    assert ds["occupancy"].sel(region="C", place="unsheltered").values.sum() == 0


@pytest.mark.parametrize(("routes", "message"), [
    ("", "regions.routes: movement = \"routes\" walks the routes, and this file has none"),
    ("A,B,0\nB,C,10\n", "placement.routes.softening_km: a route of 0 km needs a softening"),
])
def test_a_route_network_the_walk_cannot_use_is_one_line(tmp_path, capsys, routes, message):
    path = case(tmp_path, CHAIN, "A,B,10\nB,C,10\n", 2)
    (path.parent / "routes.csv").write_text("name1,name2,distance_km\n" + routes)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--set",
                 "placement.routes.softening_km=0"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_conflict_location_without_conflict_is_a_town_for_short_stints(tmp_path):
    # B is a conflict location whose conflict has not begun (no level in conflicts.csv): Flee
    # makes it a town, so avoid_short_stints forces on from it whoever came only 10 km today
    locations = ("A,R,X,1.0,1.0,conflict_zone,0,100000\nB,R,X,1.1,1.0,conflict_zone,50,1000\n"
                 "C,R,X,1.2,1.0,camp,,1000000\n")
    path = case(tmp_path, locations, "A,B,10\nB,C,10\n", 3, town=0.0)
    _, ds = run(path, "placement.routes.avoid_short_stints=true")
    np.testing.assert_array_equal(camp(ds, "C"), [100, 200, 300])
    _, ds = run(path)  # without the rule they stop at B (town move chance 0)
    np.testing.assert_array_equal(camp(ds, "C"), [0, 0, 0])
