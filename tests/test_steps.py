"""Each step of the step order on hand-made worlds of a few households (tests/tiny.py).

Before issue 13 the steps were methods of the model (or imported it back), so none could be run
alone; now each is a function of the world, the context and the step.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import InputError, InvariantError
from simulator.inputs.schema import RegionLevers
from simulator.kinds import for_scenario
from simulator.levers import PER_REGION, resolve
from simulator.states import NO_PLACE, Move, Place, State
from simulator.steps.decide import decide
from simulator.steps.displace import displace
from simulator.steps.place import place_unsheltered
from simulator.steps.record import record
from simulator.steps.recover import return_home
from simulator.steps.warn import Forecasts, warn_and_evacuate
from simulator.world.places import Places

from .tiny import BASE, run_step, tiny

SHELTER_ONLY = {"capacity": {"default": {"host": 0, "shelter": 4, "camp": 0, "rental": 0}},
                "placement": {"cascade": ["shelter"], "soft_cap_start": 1.0,
                              "shelter_seeking_by_income_quintile": [1, 1, 1, 1, 1]}}



def test_displace_takes_exactly_the_homes_at_or_above_the_depth_threshold():
    w = tiny(np.array([[0.0, 0.5, 1.0, 1.5, 3.0]]), cell=[0, 1, 2, 3, 4],
             region_of_cell=[0] * 5)
    owed = run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    assert owed == 0.0
    assert np.flatnonzero(w.hh.state == State.DISPLACED).tolist() == [2, 3, 4]
    assert w.hh.last_flood_step.tolist() == [-1, 0, 0, 0, 0]  # any water is experienced
    assert w.world.recorder.newly_displaced[0].tolist() == [12]
    assert w.persons_in(State.DISPLACED) == 12 and int(w.world.persons.sum()) == 20
    assert sorted(w.world.away_ids.tolist()) == [2, 3, 4] and (w.hh.place[2:] != NO_PLACE).all()
    w.world.verify()


def test_place_never_exceeds_capacity_and_the_rest_are_unmet():
    w = tiny(np.array([[2.0]]), cell=[0, 0, 0], region_of_cell=[0], size=[2, 2, 2],
             scenario=SHELTER_ONLY)
    run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    run_step(w, 0, record, w.ctx.intensity(0))
    assert (w.hh.place == Place.SHELTER).sum() == 2 and (w.hh.place == Place.UNSHELTERED).sum() == 1
    assert w.world.occupancy[0, Place.SHELTER] == 4 == w.world.capacity[0, Place.SHELTER]
    assert w.world.recorder.unmet_shelter[0].tolist() == [2]
    w.world.verify()


def test_the_soft_cap_turns_people_away_before_the_place_is_full():
    """Issue 17: a place throttled by the soft cap turns people away while occupancy < capacity.

    "Full" (occupancy == capacity) never happens here, yet 30 households of 4 sought 100 places
    admitted from 50 % occupancy with falling probability: whoever was not admitted is counted
    in ``turned_away`` on that step, and (one region, nowhere else to go) they are the unsheltered.
    """
    soft = {**SHELTER_ONLY,
            "capacity": {"default": {"host": 0, "shelter": 100, "camp": 0, "rental": 0}},
            "placement": {**SHELTER_ONLY["placement"], "soft_cap_start": 0.5}}
    w = tiny(np.array([[2.0]]), cell=[0] * 30, region_of_cell=[0], scenario=soft)
    run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    run_step(w, 0, record, w.ctx.intensity(0))
    occ, cap = w.world.occupancy[0, Place.SHELTER], w.world.capacity[0, Place.SHELTER]
    away = w.world.recorder.turned_away[0, 0]
    assert 50 <= occ < cap == 100  # throttled, never full
    assert away[Place.SHELTER] > 0 and away[Place.SHELTER] + occ == 120
    assert away[Place.SHELTER] == w.world.occupancy[0, Place.UNSHELTERED]
    assert away.sum() == away[Place.SHELTER]  # nobody sought any other place
    w.world.verify()


def test_a_closed_shelter_turns_away_everyone_who_seeks_it():
    ramp = {**SHELTER_ONLY, "capacity": {**SHELTER_ONLY["capacity"], "activation_ramp": [0, 1],
                                          "ramp_days": 1}}
    w = tiny(np.array([[2.0], [2.0]]), cell=[0, 0], region_of_cell=[0], size=[2, 3],
             scenario=ramp)
    run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    assert w.world.capacity[0, Place.SHELTER] == 0
    assert w.world.recorder.turned_away[0, 0, Place.SHELTER] == 5
    run_step(w, 1, place_unsheltered)  # open now: 4 places, the household of 2 or 3 gets in
    assert w.world.recorder.turned_away[1, 0, Place.SHELTER] in (2, 3)
    assert w.world.recorder.turned_away[1, 0, Place.SHELTER] + w.world.occupancy[
        0, Place.SHELTER] == 5


def test_shelters_open_on_the_ramp_and_the_unsheltered_look_again():
    ramp = {**SHELTER_ONLY, "capacity": {**SHELTER_ONLY["capacity"], "activation_ramp": [0.5, 1],
                                          "ramp_days": 1}}
    w = tiny(np.array([[2.0], [2.0]]), cell=[0, 0], region_of_cell=[0], size=[2, 2],
             scenario=ramp)
    run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    assert w.world.capacity[0, Place.SHELTER] == 2 and (w.hh.place == Place.SHELTER).sum() == 1
    run_step(w, 1, place_unsheltered)
    assert w.world.capacity[0, Place.SHELTER] == 4 and (w.hh.place == Place.SHELTER).sum() == 2
    w.world.verify()


def test_a_repaired_household_returns_and_frees_its_place():
    scenario = {**SHELTER_ONLY, "return": {"repair_days_total_loss": 0.0}}
    w = tiny(np.array([[2.0], [0.0]]), cell=[0], region_of_cell=[0], scenario=scenario)
    run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    run_step(w, 0, return_home, w.ctx.intensity(0))  # still wet: stays away
    assert w.hh.state[0] == State.DISPLACED and w.world.occupancy.sum() == 4
    run_step(w, 1, return_home, w.ctx.intensity(1))
    assert w.hh.state[0] == State.RETURNED and w.hh.place[0] == NO_PLACE
    assert w.world.occupancy.sum() == 0 and w.world.away_ids.size == 0
    assert w.world.recorder.returns[1].tolist() == [4]
    w.world.verify()


def _warned_world(coverage_override=None, trust=1.0):
    levers = {"warning_coverage": 1.0}
    if coverage_override is not None:
        levers["regions"] = {"Home": {"warning_coverage": coverage_override}}
    scenario = {**SHELTER_ONLY, "levers": levers,
                "warning": {"lead_time_days": 2, "forecast_error_sd": 0.0, "base_compliance": 1.0}}
    depth = np.zeros((3, 2))
    depth[2, 0] = 2.0  # cell 0 floods on day 2; cell 1 stays dry
    return tiny(depth, cell=[0, 0, 1], region_of_cell=[0, 0], trust=[trust] * 3,
                scenario=scenario)


def test_a_forecast_flood_warns_and_evacuates_only_where_it_will_flood():
    w, forecasts = _warned_world(), Forecasts()
    run_step(w, 0, warn_and_evacuate, w.ctx.intensity(0), forecasts)
    assert w.hh.state.tolist() == [State.EVACUATED, State.EVACUATED, State.AT_HOME]
    assert w.world.recorder.evacuations[0].tolist() == [8] and list(forecasts.pending) == [2]
    w.world.verify()


def test_a_region_override_of_warning_coverage_wins_over_the_scenario_value():
    w, forecasts = _warned_world(coverage_override=0.0), Forecasts()
    run_step(w, 0, warn_and_evacuate, w.ctx.intensity(0), forecasts)
    assert (w.hh.state == State.AT_HOME).all() and not forecasts.pending


def test_trust_rises_when_the_warned_flood_comes():
    w, forecasts = _warned_world(trust=0.5), Forecasts()
    for t in range(3):
        run_step(w, t, warn_and_evacuate, w.ctx.intensity(t), forecasts)
    assert w.hh.trust[:2].astype(float) == pytest.approx([0.55, 0.55], abs=1e-3)
    assert float(w.hh.trust[2]) == 0.5  # never warned


def test_decide_traps_who_cannot_afford_to_move_and_moves_who_can():
    scenario = {"behaviour": {"enabled": True, "migration_intention_share_per_year": 1.0,
                              "relocation_inflow_cap_share": 1.0},
                "hazard": {"return_period_years": 2}}
    # households 0 and 1 on a floodplain (5 m) just flooded; ten dry households elsewhere
    w = tiny(np.array([[5.0, 0.0]]), cell=[0, 0] + [1] * 10, region_of_cell=[0, 1],
             regions=("Valley", "Hills"), scenario=scenario,
             savings=[0.0, 1e6] + [0.0] * 10, last_flood_step=[0, 0] + [-1] * 10)
    w.world.remember(w.ctx.intensity(0), None)  # the hazard phase: they lived through it
    run_step(w, 0, decide)
    assert w.hh.state[0] == State.TRAPPED
    # the mover is now a resident of the hills, in its only populated cell
    assert w.hh.state[1] == State.RELOCATED and w.hh.region[1] == 1 and w.hh.cell[1] == 1
    assert w.world.recorder.flows[0, 0, 1] == 4
    assert w.world.recorder.relocations[0, 0, 1, Move.PROACTIVE] == 4
    assert w.hh.savings[1] < 1e6  # the move cost something
    w.world.verify()


def test_the_activation_ramp_follows_its_closed_form():
    full = np.zeros((1, 6), dtype=np.int64)
    full[0, Place.SHELTER] = 100
    places = Places(full, (0.2, 0.57, 1.0), ramp_days=30, step_days=10)
    assert places.capacity[0, Place.SHELTER] == 0  # no response yet
    places.start_response(3)
    opened = {}
    for t in (3, 5, 6, 9, 20):
        places.open(t)
        opened[t] = int(places.capacity[0, Place.SHELTER])
    assert opened == {3: 20, 5: 20, 6: 57, 9: 100, 20: 100}


def test_verify_catches_a_counter_that_drifted():
    w = tiny(np.array([[0.0]]), cell=[0, 0], region_of_cell=[0])
    w.world.verify()
    w.world.persons[0, State.AT_HOME] += 1
    with pytest.raises(InvariantError, match="persons counters differ"):
        w.world.verify()


def test_every_per_region_lever_is_a_region_override_field_and_resolves_by_one_pattern():
    assert set(PER_REGION) == set(RegionLevers.model_fields)
    from simulator.inputs.schema import Scenario

    cfg = Scenario.model_validate({**BASE, "n_steps": 1, "levers": {
        "cash_assistance_per_household": 100, "adaptation_subsidy_share": 0.5,
        "regions": {"B": {"cash_assistance_per_household": 7, "income_index": 2}}}})
    levers = resolve(cfg, ["A", "B"])
    assert levers.cash_assistance_per_household.tolist() == [100, 7]
    assert levers.income_index.tolist() == [1, 2]
    assert levers.adaptation_subsidy_share.tolist() == [0.5, 0.5]
    with pytest.raises(InputError, match=r"levers.regions.B: unknown region \(regions: A, C\)"):
        resolve(cfg, ["A", "C"], "s.toml")


def test_wind_is_not_stopped_by_flood_defences_or_dry_proofing():
    from simulator.inputs.schema import Scenario

    cfg = Scenario.model_validate({**BASE, "n_steps": 1, "hazard": {
        **BASE["hazard"], "kind": "wind_speed"}, "impact": {"method": "damage_ratio"}})
    kind = for_scenario(cfg)
    assert not kind.defences_apply and not kind.dry_proofing_applies
    assert kind.hit_above == kind.clear_below == 25.7 and kind.units == "m s-1"
    wind = np.array([30.0, 60.0])
    adapted = kind.damage(wind, np.zeros(2, int), np.ones(2, np.uint8), [],
                          [("dry_proofing", 1.0, 0.0)])
    assert adapted.tolist() == kind.damage(wind, np.zeros(2, int), np.zeros(2, np.uint8), [],
                                           []).tolist()
    assert 0 < adapted[0] < adapted[1] < 1
