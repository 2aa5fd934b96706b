"""Disaggregated people: groups add up, absent groups stay absent, hooks act, bad input errs."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import DisplacementModel, load_scenario
from simulator.states import GROUPS
from simulator.ui.cli import main
from simulator.world.tally import RUNS_FACTOR, group_sums

from .conftest import NT

NO_OLD = {"age_0_4": 0.2, "age_5_17": 0.3, "age_18_59": 0.5, "age_60_plus": 0.0}


def flooded_case(case, **scenario):
    depth = np.full((NT, 4, 5), 2.0, dtype=np.float32)
    return case(depth=depth, persons=np.full((4, 5), 2250.0), scenario=scenario)


def test_members_add_up_to_household_size_and_groups_to_persons(case):
    model = DisplacementModel(load_scenario(flooded_case(case)), check_invariants=True)
    hh = model.households
    assert (hh.members.astype(int).sum(axis=1) == hh.size).all()
    ds = model.run()
    ages = ds["persons_by_group"].sel(group=["children", "adults", "older_persons"]).sum("group")
    assert (ages == ds["persons"]).all()  # every step, region and state
    women = ds["persons_by_group"].sel(group="women")
    assert (women <= ds["persons"]).all() and (women.sum() > 0)
    assert list(ds["group"].values) == list(GROUPS)


def test_a_region_without_older_persons_never_shows_older_persons_displaced(case):
    path = flooded_case(case, population={"composition": {"regions": {"South": {
        "age_shares": NO_OLD}}}})
    ds = DisplacementModel(load_scenario(path)).run()
    older_south = ds["persons_by_group"].sel(region="South", group="older_persons")
    assert int(older_south.sum()) == 0
    assert int(ds["persons"].sel(region="South", state="displaced").max()) > 0
    assert int(ds["persons_by_group"].sel(region="North", group="older_persons").sum()) > 0


def test_mobility_obstacle_traps_more_older_and_disabled_households(case):
    """Same seed, higher cost factor: more trapped persons with disabilities, never fewer."""
    scenario = {"n_steps": 2, "hazard": {"return_period_years": 2},
                "behaviour": {"initial_years_since_flood": 0.0, "migration_cost_max": 2500.0}}
    trapped = []
    shallow = np.zeros((NT, 4, 5), dtype=np.float32)  # risky, but nobody is displaced,
    shallow[:, 2:, :] = 0.6  # in one region; the other is dry, somewhere safer to move to
    for factor in (1.0, 3.0):
        s = {**scenario, "behaviour": {**scenario["behaviour"],
                                       "mobility_cost_factor_older_or_disabled": factor}}
        path = case(depth=shallow, persons=np.full((4, 5), 2250.0), scenario=s)
        ds = DisplacementModel(load_scenario(path)).run()
        trapped.append(ds["persons_by_group"].sel(state="trapped").isel(time=0).sum("region"))
    low, high = trapped
    assert (high >= low).all()  # a gate only ever adds to the trapped
    assert int(high.sel(group="persons_with_disabilities")) > int(
        low.sel(group="persons_with_disabilities"))


def test_disability_barrier_lowers_evacuation_of_persons_with_disabilities(case):
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[4:, :, :] = 2.0
    evac = []
    for factor in (1.0, 0.2):
        path = case(depth=depth, persons=np.full((4, 5), 2250.0), scenario={
            "levers": {"warning_coverage": 1.0},
            "warning": {"lead_time_days": 2, "evacuation_factor_disability": factor}})
        ds = DisplacementModel(load_scenario(path)).run()
        evac.append(ds["persons_by_group"].sel(state="evacuated").sum("region").max("time"))
    full, barrier = evac
    assert int(barrier.sel(group="persons_with_disabilities")) < int(
        full.sel(group="persons_with_disabilities"))


@pytest.mark.parametrize("composition, message", [
    ({"age_shares": {"age_0_4": 0.5, "age_5_17": 0.5, "age_18_59": 0.5, "age_60_plus": 0.0}},
     "population.composition.age_shares: shares must be >= 0 and sum to 1"),
    ({"age_shares": {"age_0_4": -0.1, "age_5_17": 0.5, "age_18_59": 0.6, "age_60_plus": 0.0}},
     "population.composition.age_shares: shares must be >= 0 and sum to 1"),
    ({"disability_share": -0.2},
     "population.composition.disability_share: Input should be greater than or equal to 0"),
])
def test_bad_composition_is_one_line_exit_2(case, capsys, composition, message):
    path = case(scenario={"population": {"composition": composition}})
    assert main(["run", str(path), "--out", str(path.parent / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not (path.parent / "o").exists()


def test_report_shows_groups_and_group_needs(case, tmp_path):
    path = flooded_case(case)
    run = tmp_path / "run"
    assert main(["run", str(path), "--out", str(run), "--quiet"]) == 0
    assert main(["report", str(run), "--out", str(tmp_path / "rep")]) == 0
    import csv

    groups = list(csv.DictReader((tmp_path / "rep" / "groups.csv").open()))
    total = {r["group"]: int(r["peak_displaced"]) for r in groups if r["region"] == "TOTAL"}
    assert total["children"] + total["adults"] + total["older_persons"] >= total["women"] > 0
    needs = {r["region"]: r for r in csv.DictReader((tmp_path / "rep" / "needs.csv").open())}
    row = needs["South"]
    assert float(row["accessible_toilets"]) == np.ceil(0.15 * float(row["need_toilets"])) > 0
    assert 0 < int(row["children_in_sites"]) < int(row["persons_in_sites_peak"])


def test_evacuees_displaced_keep_their_shelter_seeking_decision(case):
    """The Hazus draw is per displacement episode, which begins when a household leaves home."""
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[3:, :, :] = 2.0  # forecast two days ahead: evacuate at step 1, displaced at step 3
    path = case(depth=depth, persons=np.full((4, 5), 2250.0), scenario={
        "levers": {"warning_coverage": 1.0},
        "warning": {"lead_time_days": 2, "initial_trust": 1.0},
        "capacity": {"default": {"shelter": 50, "host": 0}}})
    model = DisplacementModel(load_scenario(path))
    seen = {}
    for _ in range(NT):
        model.step()
        hh = model.households
        away = model.world.away_ids
        seekers = away[hh.place[away] != 4]  # 4 = self_arranged
        for i in away.tolist():
            seen.setdefault(i, set()).add(bool(hh.place[i] == 4))
    assert seekers.size and all(len(v) == 1 for v in seen.values())  # nobody switches


@pytest.mark.parametrize("table", ["levers.regions", "population.composition.regions"])
def test_unknown_region_in_any_region_table_is_an_error(case, capsys, table):
    field = "cash_assistance_per_household=1" if table == "levers.regions" else \
        "female_share=0.4"
    path = case()
    code = main(["run", str(path), "--out", str(path.parent / "o"), "--set",
                 f"{table}.Atlantis.{field}"])
    assert code == 2 and f"{table}.Atlantis: unknown region" in capsys.readouterr().err


def test_quoted_region_name_in_set_means_the_region(case):
    from simulator.levers import resolve

    cfg = load_scenario(case(), ['levers.regions."North".reconstruction_rate=2'])
    assert resolve(cfg, ["North", "South"]).reconstruction_rate.tolist() == [2.0, 1.0]


@pytest.mark.parametrize("runs", [True, False], ids=["long runs", "scattered keys"])
def test_group_sums_equal_adding_up_each_households_group_persons(case, runs):
    """``group_sums`` (keys in long runs or scattered) adds up ``group_persons`` exactly."""
    hh = DisplacementModel(load_scenario(flooded_case(case))).households
    rng = np.random.default_rng(5)
    ids = np.arange(len(hh))
    n_keys = 7
    key = np.repeat(rng.integers(0, n_keys, 4), -(-ids.size // 4))[:ids.size] if runs else \
        rng.integers(0, n_keys, ids.size)
    starts = np.flatnonzero(key[1:] != key[:-1]).size
    assert (starts * RUNS_FACTOR < ids.size) == runs  # the branch this case is for
    expected = np.zeros((n_keys, len(GROUPS)), dtype=np.int64)
    np.add.at(expected, key, hh.group_persons(ids))
    got = group_sums(hh.members[ids], hh.disabled[ids], key, n_keys)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    assert got[:, GROUPS.index("persons_with_disabilities")].sum() == hh.disabled.sum() > 0
