"""Model properties: conservation, capacity, reproducibility, closed forms, common randomness."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import DisplacementModel, load_scenario
from simulator.inputs.load import load_inputs
from simulator.outputs.folders import open_run
from simulator.runs.run import run_scenario
from simulator.states import State

from .conftest import DEMO, NT


@pytest.fixture(scope="module")
def demo_run():
    """The demo scenario with every invariant recounted after every step."""
    cfg = load_scenario(DEMO, ["n_steps=120"])
    model = DisplacementModel(cfg, check_invariants=True)
    return model, model.run()


def test_persons_conserved_every_step(demo_run):
    _, ds = demo_run
    total = ds["persons"].sum(["region", "state"]).values
    assert (total == total[0]).all()
    assert ds["persons"].sel(state="displaced").max() > 0  # the check had something to conserve


def test_occupancy_never_exceeds_capacity(demo_run):
    _, ds = demo_run
    places = ["host", "shelter", "camp", "rental"]
    occ, cap = ds["occupancy"].sel(place=places), ds["capacity"].sel(place=places)
    assert (occ <= cap).all()
    assert (occ == cap).any()  # capacity does bind somewhere in the demo, so the check bites


def test_uncapped_places_have_no_capacity_not_zero(demo_run):
    """``self_arranged`` and ``unsheltered`` have capacity NaN (none), not 0 (no places)."""
    _, ds = demo_run
    cap = ds["capacity"]
    uncapped = ds["capacity"].attrs["no_capacity"].split()
    assert uncapped == ["self_arranged", "unsheltered"]
    assert cap.sel(place=uncapped).isnull().all()
    assert cap.sel(place=["host", "shelter", "camp", "rental"]).notnull().all()
    occ = ds["occupancy"]
    assert occ.sel(place=uncapped).max() > 0  # people are there, with no capacity to exceed
    assert ((occ <= cap) | cap.isnull()).all()  # the invariant wherever capacity exists


def test_persons_away_equal_occupancy(demo_run):
    _, ds = demo_run
    away = ds["persons"].sel(state=["displaced", "evacuated"]).sum(["region", "state"])
    staying = ds["occupancy"].sum(["region", "place"])
    assert (away == staying).all() and (ds["persons"].sel(state="evacuated") > 0).any()


def test_flows_balance_stocks(demo_run):
    """Displacement, return and settling are flows: in minus out equals the change of stock."""
    _, ds = demo_run
    displaced = ds["persons"].sel(state="displaced").sum("region").values
    change = np.diff(np.concatenate([[0], displaced]))
    out = ds["returns"] + ds["settled"]
    assert (change == (ds["newly_displaced"] - out).sum("region")).all()


def test_same_seed_bit_identical_and_different_seed_differs(tmp_path):
    cfg = load_scenario(DEMO, ["n_steps=70"])
    inputs = load_inputs(cfg)
    a, _ = run_scenario(cfg, out=tmp_path / "a", inputs=inputs)
    b, _ = run_scenario(cfg, out=tmp_path / "b", inputs=inputs)
    c, _ = run_scenario(cfg, out=tmp_path / "c", inputs=inputs, seed=43)
    da, db, dc = open_run(a), open_run(b), open_run(c)
    assert da.identical(db)
    for var in da.data_vars:
        assert da[var].equals(db[var]), var  # values, NaN (no capacity) equal to NaN
    assert not np.array_equal(da["persons"].values, dc["persons"].values)


def test_constant_hazard_displaces_whole_cell_on_first_step(case):
    path = case()  # 2 m at cell (0, 0) every step, threshold 1 m
    model = DisplacementModel(load_scenario(path))
    model.step()
    hh = model.households
    in_cell = hh.cell == 0
    assert in_cell.sum() > 50
    assert (hh.state[in_cell] == State.DISPLACED).all()
    assert (hh.state[~in_cell] == State.AT_HOME).all()


def test_displacement_probability_matches_closed_form(case):
    """With probability p per step of exposure, the share displaced after T steps is 1-(1-p)^T."""
    p, t_steps = 0.15, 6
    depth = np.full((NT, 4, 5), 2.0, dtype=np.float32)
    path = case(depth=depth, persons=np.full((4, 5), 45_000.0),
                scenario={"impact": {"displacement_probability": p}})
    model = DisplacementModel(load_scenario(path))
    n = len(model.households)
    for t in range(1, t_steps + 1):
        model.step()
        share = (model.households.state == State.DISPLACED).mean()
        expected = 1 - (1 - p) ** t
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n) + 1e-9, t


def test_more_shelter_does_not_change_who_is_displaced(tmp_path):
    """Common random numbers: a capacity lever changes placement, never forced displacement."""
    stochastic = ["n_steps=100", "impact.displacement_probability=0.5"]  # draws must matter
    base = load_scenario(DEMO, stochastic)
    more = load_scenario(DEMO, [*stochastic, "capacity.regions.Delta West.shelter=20000"])
    inputs = load_inputs(base)
    a = DisplacementModel(base, inputs=inputs)
    b = DisplacementModel(more, inputs=load_inputs(more))
    for t in range(100):
        a.step()
        b.step()
        new_a = np.flatnonzero((a.households.state == State.DISPLACED)
                               & (a.households.since_step == t))
        new_b = np.flatnonzero((b.households.state == State.DISPLACED)
                               & (b.households.since_step == t))
        assert np.array_equal(new_a, new_b), t
    ra, rb = a.results(), b.results()
    west = {"region": "Delta West", "place": "shelter"}
    assert rb["occupancy"].sel(**west).max() > ra["occupancy"].sel(**west).max()  # lever acted
    assert (ra["newly_displaced"] == rb["newly_displaced"]).all()


def test_return_after_recession_and_repair(case):
    """Flooded for 3 steps, then dry: the household returns once its repair time has passed."""
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[:3, 0, 0] = 2.0
    repair = 4.0
    path = case(depth=depth, scenario={
        "n_steps": 20, "return": {"repair_days_total_loss": repair, "repair_time_spread": 0.0}})
    model = DisplacementModel(load_scenario(path))
    ratio = float(np.interp(2.0, *[np.asarray(v) for v in (
        model.config.impact.curves["jrc_asia"].depths_m,
        model.config.impact.curves["jrc_asia"].damage_ratio)]))
    ds = model.run()
    displaced = ds["persons"].sel(state="displaced").sum("region").values
    dry_step, due = 3, 3 + int(np.ceil(ratio * repair))
    assert (displaced[:due] > 0).all() and (displaced[due:] == 0).all()
    assert ds["returns"].sum("region").values[due] == displaced[due - 1]
    assert dry_step < due


def test_soft_and_hard_cap_hold_with_tiny_capacity(case):
    depth = np.full((NT, 4, 5), 2.0, dtype=np.float32)
    path = case(depth=depth, scenario={"capacity": {"default": {"host": 37, "shelter": 53}}})
    model = DisplacementModel(load_scenario(path), check_invariants=True)
    ds = model.run()
    occ = ds["occupancy"].sel(place=["host", "shelter"]).max("time")
    assert (occ <= ds["capacity"].sel(place=["host", "shelter"]).isel(time=0)).all()
    assert (occ > 0).all()
    assert ds["unmet_shelter"].isel(time=-1).sum() == ds["occupancy"].sel(
        place="unsheltered").isel(time=-1).sum() > 0


def test_full_home_region_sends_people_to_other_region_by_gravity(case):
    """Home region has no shelter: the displaced go to the other region's shelter."""
    path = case(scenario={"capacity": {"regions": {"South": {"shelter": 0}},
                                       "default": {"shelter": 10_000}},
                          "placement": {"cascade": ["shelter"],  # everyone seeks shelter
                                        "shelter_seeking_by_income_quintile": [1.0] * 5}})
    model = DisplacementModel(load_scenario(path))
    ds = model.run()
    # cell (0, 0) lies in region 'South' (lower latitudes); its people shelter in 'North'
    north = ds["occupancy"].sel(region="North", place="shelter").isel(time=0).item()
    assert north == ds["persons"].sel(state="displaced").isel(time=0).sum().item() > 0
    assert ds["flows"].sel(origin="South", destination="North").isel(time=0).item() == north


def test_old_damage_does_not_displace_again_in_a_shallow_later_flood(case):
    """Displacement is decided on this step's damage, not on the worst damage ever seen."""
    depth = np.zeros((NT, 4, 5), dtype=np.float32)
    depth[0:3, 0, 0] = 2.0  # a deep flood; with p = 0.2 many households stay home damaged
    depth[6:10, 0, 0] = 0.1  # a shallow flood later: damage well below the threshold
    path = case(depth=depth, persons=np.full((4, 5), 4500.0), scenario={
        "impact": {"method": "damage_ratio", "displacement_probability": 0.2}})
    ds = DisplacementModel(load_scenario(path)).run()
    new = ds["newly_displaced"].sum("region").values
    assert new[:3].sum() > 0 and new[6:].sum() == 0


def test_zero_receded_depth_is_rejected(case):
    from simulator.errors import InputError

    with pytest.raises(InputError, match="return.receded_depth_m: Input should be greater than 0"):
        load_scenario(case(), ["return.receded_depth_m=0"])


def test_an_immediate_ramp_behaves_like_any_ramp_of_full_shares(case):
    """[1.0] and [1.0, 1.0] are the same ramp: identical results."""
    runs = [DisplacementModel(load_scenario(case(scenario={"capacity": {
        "activation_ramp": ramp, "regions": {"North": {"shelter": 0}}}}))).run()
        for ramp in ([1.0], [1.0, 1.0])]
    for var in ("persons", "occupancy", "capacity"):
        assert runs[0][var].equals(runs[1][var]), var  # values; NaN equals NaN


def test_households_never_see_the_scenarios_future(case):
    """Two scenarios identical up to day D give identical results up to day D (causality).

    Scenario B adds a deep flood on day 8 elsewhere in the delta. Before issue 14's causality
    fix, households priced the whole run's worst flood from day 0, so B's decisions (and all that
    follows) differed from the first day.
    """
    from simulator.inputs.config import load_scenario
    from simulator.model import DisplacementModel

    depth_a = np.zeros((NT, 4, 5), dtype=np.float32)
    depth_a[1:3, 0, :] = 0.5  # a shallow flood on days 1-2 along the first row (nobody leaves)
    depth_b = depth_a.copy()
    depth_b[8:, 2:, :] = 0.6  # only in B: another shallow flood from day 8, elsewhere
    # a flood-wary population (a flood a year ago everywhere: high risk perception), so any
    # knowledge of a flood shows in decisions at once
    scenario = {"behaviour": {"enabled": True, "decision_interval_days": 1,
                              "migration_intention_share_per_year": 1.0,
                              "initial_years_since_flood": 0.0},
                "hazard": {"return_period_years": 2},
                "levers": {"warning_coverage": 0.5}, "warning": {"lead_time_days": 2}}
    runs = [DisplacementModel(load_scenario(case(depth=d, scenario=scenario))).run()
            for d in (depth_a, depth_b)]
    same_until = 8 - 2  # day 8's flood may be forecast (warned) two days ahead
    for name, var in runs[0].data_vars.items():
        if "time" not in var.dims:
            continue
        a = var.isel(time=slice(0, same_until))
        b = runs[1][name].isel(time=slice(0, same_until))
        assert a.equals(b), f"{name} differs before day {same_until}"
    decided = [int(r["persons"].sel(state=["adapted", "trapped", "relocated"]).sum(
        ["region", "state"]).isel(time=same_until - 1)) for r in runs]
    assert min(decided) > 0  # decisions were taken early on, so the comparison says something
    later = [r["persons"].sel(state=["adapted", "trapped", "relocated"]).isel(time=-1)
             for r in runs]
    assert not later[0].equals(later[1])  # and B's later flood does change later decisions
