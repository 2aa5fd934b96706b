"""Repeated floods and flood defences, event by event (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.states import State
from simulator.steps.displace import displace
from simulator.steps.place import place_unsheltered, seek
from simulator.steps.record import record
from simulator.steps.recover import return_home

from .tiny import Tiny, run_step, tiny


def _run_until(w: Tiny, stop: int | None = None, start: int = 0) -> None:
    """The impact, place, return and record phases of steps ``start``..``stop`` (default: all),
    as the model orders them."""
    for t in range(start, w.ctx.config.n_steps if stop is None else stop):
        d = w.ctx.intensity(t)
        w.world.step = t
        w.world.track_events(t, d if d.max() > 0 else None)
        if d.max() > 0:
            displace(w.world, w.ctx, t, d, 0.0)
        place_unsheltered(w.world, w.ctx, t)
        return_home(w.world, w.ctx, t, d)
        record(w.world, w.ctx, t, d)


def test_a_second_wave_displaces_households_who_came_home_after_the_first():
    depth = np.zeros((80, 1))
    depth[0:3, 0] = 2.0
    depth[40:43, 0] = 1.78  # the second wave, after every home was repaired
    w = tiny(depth, cell=[0] * 10, region_of_cell=[0],
             scenario={"return": {"repair_days_total_loss": 20.0}})
    _run_until(w)
    new = w.world.recorder.newly_displaced.sum(axis=1)
    assert np.flatnonzero(new).tolist() == [0, 40] and new[40] == new[0] == 40
    assert (w.hh.shocks == 2).all()
    w.world.verify()


def test_design_level_is_log_linear_in_the_return_period():
    from simulator.rules.impacts import design_level

    rps, depths = np.array([10.0, 100.0]), np.array([[0.8, 1.0], [2.0, 3.0]])
    level = design_level(np.array([25.0, 0.0]), rps, depths)
    w = np.log(25 / 10) / np.log(100 / 10)
    assert level.tolist() == pytest.approx([0.8 + w * 1.2, 0.0])  # no defence: holds nothing
    assert design_level(np.array([5.0, 1000.0]), rps, depths).tolist() == pytest.approx([
        0.8 * np.log(5) / np.log(10), 3.0])


def test_a_25_year_defence_holds_a_10_year_flood_and_fails_in_a_100_year_flood():
    """Protection per event: the event's depth against the standard's design depth."""
    maps = (np.array([10.0, 25.0, 100.0]), np.array([[0.8, 0.8], [1.2, 1.2], [2.0, 2.0]]))
    depth = np.zeros((60, 2))
    depth[0:3, :] = 0.8  # a 10-year flood in both cells
    depth[30:33, :] = 2.0  # a 100-year flood in both cells
    w = tiny(depth, cell=[0] * 5 + [1] * 5, region_of_cell=[0, 1],
             regions=("Walled", "Open"), design_maps=maps,
             scenario={"levers": {"regions": {"Walled": {"protection_return_period_years": 25}}},
                       "impact": {"method": "depth_threshold", "depth_threshold_m": 0.5},
                       "return": {"repair_days_total_loss": 10.0}})
    assert w.ctx.design.tolist() == pytest.approx([1.2, 0.0])
    _run_until(w)
    new = w.world.recorder.newly_displaced
    assert new[0].tolist() == [0, 20]  # the wall holds the 10-year flood
    assert new[30].tolist() == [20, 20]  # and fails in the 100-year one
    assert w.hh.shocks.tolist() == [1] * 5 + [2] * 5
    w.world.verify()


def test_defences_from_return_period_maps_hold_less_than_a_wall_and_more_with_the_standard():
    """The demo's return-period maps set design depths: a higher standard never displaces more."""
    from simulator.inputs.config import load_scenario
    from simulator.model import DisplacementModel

    from .conftest import REPO

    rp = REPO / "climate_inputs" / "demo" / "flood_return_periods.nc"
    maps = [f"defences.file={str(rp)!r}", "defences.variable='flood_depth'"]
    out = {}
    for name, extra in (("none", []), ("25", maps), ("100", maps)):
        std = [] if name == "none" else \
            [f"levers.regions.Harbour City.protection_return_period_years={name}"]
        cfg = load_scenario(REPO / "scenarios" / "demo.toml", ["n_steps=90", *std, *extra])
        out[name] = DisplacementModel(cfg).run()["newly_displaced"].sum("time")
    city = {k: int(v.sel(region="Harbour City")) for k, v in out.items()}
    assert 0 < city["100"] <= city["25"] < city["none"]
    others = out["none"]["region"] != "Harbour City"
    assert (out["25"][others] == out["none"][others]).all()


def test_short_reconstruction_capacity_makes_the_displaced_wait_in_turn():
    """One home a day (30.44 a month): repairs start one per step, first displaced first."""
    depth = np.zeros((40, 1))
    depth[0, 0] = 2.0
    depth[1, 0] = 2.0  # the same flood: the first five left on day 0, the next five on day 1
    w = tiny(depth, cell=[0] * 10, region_of_cell=[0],
             scenario={"levers": {"reconstruction_homes_per_month": 365.25 / 12},
                       "impact": {"method": "depth_threshold", "depth_threshold_m": 0.5},
                       "return": {"repair_days_total_loss": 10.0, "repair_time_spread": 0.0}})
    w.hh.since_step[:] = 0
    order = np.array([3, 7, 1, 9, 0, 5, 2, 8, 4, 6])
    _run_until(w, 2)
    w.world.set_state(order, State.DISPLACED, since=np.arange(10))  # the order they left in
    came_back = []
    for t in range(2, 40):
        away = w.hh.state == State.DISPLACED
        _run_until(w, t + 1, start=t)
        came_back += [(t, int(h)) for h in np.flatnonzero(away & (w.hh.state == State.RETURNED))]
    steps, who = zip(*came_back)
    assert list(who) == order.tolist()  # first displaced, first repaired
    assert list(steps) == list(range(steps[0], steps[0] + 10))  # one home a day
    w.world.verify()


def test_a_home_wet_for_longer_than_the_limit_is_lost_and_its_evacuees_displaced():
    depth = np.full((40, 1), 0.3)  # shallow: nobody is displaced by the water itself
    w = tiny(depth, cell=[0] * 3, region_of_cell=[0],
             scenario={"return": {"home_lost_after_wet_days": 30.0}})
    w.world.leave_home(np.arange(3), State.EVACUATED)  # evacuated on day 0
    seek(w.world, w.ctx, np.arange(3), 0, newly=True)
    _run_until(w, 40)
    new = w.world.recorder.newly_displaced.sum(axis=1)
    assert np.flatnonzero(new).tolist() == [30] and new[30] == 12
    assert (w.hh.state == State.DISPLACED).all() and (w.hh.damage == 1.0).all()
    # a lost home is a total loss: structure plus contents, less what the evacuees carried out
    home = w.ctx.assets_and_home(w.world, np.arange(3), w.hh.income.astype(float))[1]
    losses = w.world.recorder.home_losses.sum(axis=(0, 1))
    assert losses[0] == pytest.approx(home.sum())
    assert losses[1] + w.world.recorder.contents_saved.sum() == pytest.approx(0.5 * home.sum())
    w.world.verify()


def test_each_events_worst_damage_is_lost_once_and_evacuees_save_part_of_their_contents():
    """Home losses in closed form: Δd·V for the structure, Δd·c·V·(1 − s) for the contents."""
    depth = np.zeros((60, 1))
    depth[0:2, 0] = 0.4  # below the 1 m displacement threshold: everyone stays
    depth[2, 0] = 0.6  # the event's worst step
    depth[30:33, 0] = 0.6  # a second event, after the homes were repaired
    w = tiny(depth, cell=[0] * 2, region_of_cell=[0])
    w.world.leave_home(np.array([1]), State.EVACUATED)  # household 1 left on a warning
    seek(w.world, w.ctx, np.array([1]), 0, newly=True)
    ids = np.arange(2)
    d = w.ctx.damage(w.world, ids, np.full(2, 0.6)).astype(np.float16).astype(float)
    home = w.ctx.assets_and_home(w.world, ids, w.hh.income.astype(float))[1]
    c, s = 0.5, 0.3  # the defaults: contents worth half the home; a warning saves 30 %
    _run_until(w)
    rec = w.world.recorder
    # step 1 repeats step 0 and adds nothing; step 2 adds what is worse; step 30 starts afresh
    assert np.flatnonzero(rec.home_losses.sum(axis=(1, 2))).tolist() == [0, 2, 30]
    structure, contents = rec.home_losses.sum(axis=(0, 1))
    assert structure == pytest.approx(2 * (d * home).sum())  # worst damage, once per event
    assert contents == pytest.approx(2 * c * (d * home).sum() - s * c * d[1] * home[1])
    assert rec.contents_saved.sum() == pytest.approx(s * c * d[1] * home[1])
    # the evacuee earned nothing while away: a day's income for each day it was away
    away_days = int((rec.persons[:, 0, State.EVACUATED] > 0).sum())
    assert away_days > 0
    assert rec.income_forgone_away.sum() == pytest.approx(3000.0 * away_days / 365.25)


def test_host_places_shrink_with_the_share_of_residents_displaced():
    from simulator.rules.placement import host_places

    assert host_places(np.array([100, 12000]), np.array([0.28, 0.5]), 1.0).tolist() == [72,
                                                                                       6000]
    assert host_places(np.array([100]), np.array([0.28]), 0.0).tolist() == [100]  # static
    depth = np.zeros((3, 2))
    depth[0, 0] = 2.0  # half the households (cell 0) are displaced on day 0
    w = tiny(depth, cell=[0] * 5 + [1] * 5, region_of_cell=[0, 0],
             scenario={"capacity": {"default": {"host": 100, "shelter": 0, "camp": 0,
                                                "rental": 0}},
                       "impact": {"method": "depth_threshold", "depth_threshold_m": 0.5}})
    _run_until(w, 2)
    assert int(w.world.recorder.capacity[1, 0, 0]) == 50  # host: half the residents displaced
    assert int(w.world.occupancy[0, 0]) == 20 <= 50  # the displaced stay with kin
    w.world.verify()


def _flooded_before(subsidy: float):
    """Households who lived through a 1.3 m flood decide, then the same flood comes again."""
    from simulator.steps.decide import decide

    depth = np.zeros((2, 1))
    depth[:, 0] = 1.3
    options = {"dry": {"kind": "dry_proofing", "cost": 3000, "protection_m": 1.0},
               "wet": {"kind": "wet_proofing", "cost": 1000, "protection_m": 2.0,
                       "damage_reduction": 0.1},
               "raise": {"kind": "elevation", "cost": 6000, "protection_m": 1.5}}
    w = tiny(depth, cell=[0] * 20, region_of_cell=[0], last_flood_step=[0] * 20,
             scenario={"behaviour": {"enabled": True, "adaptation_options": options},
                       "levers": {"adaptation_subsidy_share": subsidy}})
    w.world.remember(w.ctx.intensity(0), None)
    w.world.step = 0
    decide(w.world, w.ctx, 0)
    w.world.step = 1
    displace(w.world, w.ctx, 1, w.ctx.intensity(1), 0.0)
    return w


def test_a_subsidy_that_makes_elevation_affordable_keeps_people_home_in_the_next_flood():
    """Elevation by 1.5 m protects a 1.3 m flood; dry-proofing (1 m) would not."""
    none, paid = _flooded_before(0.0), _flooded_before(0.8)
    assert (none.hh.adapted == 0).all()  # 6,000 on a loan is beyond 6 % of 3,000 a year
    assert int(none.world.recorder.newly_displaced.sum()) == 80
    assert (paid.hh.adapted == 3).all()  # elevation, the option that works at 1.3 m
    assert int(paid.world.recorder.newly_displaced.sum()) == 0
    assert (paid.hh.state == State.ADAPTED).all()


def test_money_holds_up_repairs_and_cash_shortens_the_wait():
    """With return.repair_income_share the unfunded repair is saved for first (Unbreakable)."""
    depth = np.zeros((800, 1))
    depth[0, 0] = 2.0
    w = tiny(depth, cell=[0] * 2, region_of_cell=[0], savings=[0.0, 1e5],
             scenario={"impact": {"method": "depth_threshold", "depth_threshold_m": 0.5},
                       "return": {"repair_days_total_loss": 100.0, "repair_time_spread": 0.0,
                                  "repair_income_share": 1.0}})
    _run_until(w, 2)
    damage = float(w.hh.damage[0])
    assert damage == float(w.hh.damage[1]) > 0
    _run_until(w, 800, start=2)
    back = w.world.recorder.returns[:, 0]
    rich, poor = (int(np.flatnonzero(back)[i]) for i in (0, 1))
    assert rich == int(np.ceil(1 + damage * 100))  # dry on day 1, then the work alone
    from simulator.rules.utility import annuity
    cost = damage * 9000.0  # the typical home: 3 median incomes
    loan = 0.06 * 3000 / float(annuity(np.array(1.0), 0.04, 16))
    assert poor == pytest.approx(rich + (cost - loan) / 3000 * 365.25, abs=1)
    assert float(w.hh.savings[1]) == pytest.approx(1e5 - cost, rel=1e-5)  # spent on repairs


def test_the_depth_band_audit_says_why_each_household_stayed_home():
    maps = (np.array([25.0]), np.array([[1.2, 1.2, 1.2, 1.2]]))
    depth = np.array([[0.8, 1.3, 0.6, 2.5]])  # one step; cells 1-3 are unprotected
    options = {"raise": {"kind": "elevation", "cost": 0, "protection_m": 1.5}}
    w = tiny(depth, cell=[0, 1, 2] + [3] * 400, region_of_cell=[0, 1, 1, 1],
             regions=("Walled", "Open"), design_maps=maps, adapted=[0, 1, 0] + [0] * 400,
             scenario={"levers": {"regions": {"Walled": {"protection_return_period_years": 25}}},
                       "behaviour": {"adaptation_options": options},
                       "impact": {"method": "depth_threshold", "depth_threshold_m": 1.0,
                                  "displacement_probability": 0.5}})
    run_step(w, 0, displace, w.ctx.intensity(0), 0.0)
    ds = w.world.recorder.dataset(pd.date_range("2030-01-01", periods=1),
                                  ["Walled", "Open"], {})
    audit = ds["stayed_home"].sum("region")
    stayed = int(audit.sum())
    left = int(w.world.recorder.newly_displaced.sum())
    assert stayed + left == 403 * 4  # everyone in a wet cell is counted once, or displaced
    assert int(audit.sel(depth_band="0.5-1 m", reason="defences")) == 4
    assert int(audit.sel(depth_band="1-2 m", reason="adaptation")) == 4
    assert int(audit.sel(depth_band="0.5-1 m", reason="below_threshold")) == 4
    chance = int(audit.sel(depth_band="over 2 m", reason="chance"))
    assert chance + left == 1600 and 0.4 < chance / 1600 < 0.6


def test_a_flooded_shelter_site_closes_its_occupants_leave_and_it_reopens_when_dry(tmp_path):
    """Sites as points: a site shuts while its location is under 0.5 m of water."""
    from simulator.inputs.sites import read_sites

    csv_file = tmp_path / "sites.csv"
    csv_file.write_text("name,lon,lat,places,type\nschool,0.0,0,40,shelter\n"
                        "hall,1.0,0,40,shelter\n")
    depth = np.zeros((6, 3))
    depth[0, 2] = 2.0  # day 0: the households' own cell floods, they go to the shelters
    depth[2:4, 0] = 1.0  # days 2-3: the school's location floods
    w = tiny(depth, cell=[2] * 15, region_of_cell=[0, 0, 0],
             scenario={"capacity": {"default": {"host": 0, "shelter": 0, "camp": 0,
                                                "rental": 0}},
                       "placement": {"cascade": ["shelter"], "soft_cap_start": 1.0,
                                     "shelter_seeking_by_income_quintile": [1, 1, 1, 1, 1]},
                       "impact": {"method": "depth_threshold", "depth_threshold_m": 0.5}})
    sites = read_sites(csv_file, np.zeros(3), np.arange(3.0), np.zeros(3, int))
    assert sites.cell.tolist() == [0, 1] and sites.places.tolist() == [40, 40]
    object.__setattr__(w.ctx.inputs, "sites", sites)
    w.world.places.full[0, 1] += 80  # as assemble adds the sites' places (shelter)
    w.world.places.open(0)
    cap = []
    for t in range(6):
        _run_until(w, t + 1, start=t)
        cap.append(int(w.world.capacity[0, 1]))
        assert (w.world.occupancy[:, :4] <= w.world.capacity[:, :4]).all()
        w.world.verify()
    assert cap == [80, 80, 40, 40, 80, 80]  # the school is shut on days 2 and 3
    occupancy = w.world.recorder.occupancy[:, 0, 1].tolist()
    assert occupancy == [60, 60, 40, 40, 60, 60]  # 20 had to leave the school, then came back
    assert w.world.recorder.unmet_shelter[:, 0].tolist() == [0, 0, 20, 20, 0, 0]


def test_sites_from_a_scenario_file_add_their_places(tmp_path):
    from simulator.inputs.config import load_scenario
    from simulator.model import DisplacementModel

    from .conftest import REPO

    sites = tmp_path / "sites.csv"
    sites.write_text("lon,lat,places,type\n0.6,0.5,1000,shelter\n0.3,0.2,500,camp\n")
    demo = REPO / "scenarios" / "demo.toml"
    runs = [DisplacementModel(load_scenario(demo, ["n_steps=120", *extra])).run()
            for extra in ([], [f"capacity.sites_file={str(sites)!r}"])]
    cap = [ds["capacity"].isel(time=-1).sum("region") for ds in runs]
    assert float(cap[1].sel(place="shelter") - cap[0].sel(place="shelter")) == 1000
    assert float(cap[1].sel(place="camp") - cap[0].sel(place="camp")) == 500


def test_a_site_of_an_unknown_type_is_a_one_line_error(case, tmp_path, capsys):
    from simulator.ui.cli import main

    sites = tmp_path / "sites.csv"
    sites.write_text("lon,lat,places,type\n0,0,10,hotel\n")
    path = case(scenario={"capacity": {"sites_file": str(sites)}})
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (f"error: {sites}: capacity.sites_file: type "
                                               "'hotel' is not shelter or camp")


def test_rented_homes_are_repaired_after_owner_occupied_ones():
    """Short reconstruction capacity: owners' homes first, then rentals (Peacock et al. 2014)."""
    depth = np.zeros((40, 1))
    depth[0, 0] = 2.0
    w = tiny(depth, cell=[0] * 10, region_of_cell=[0],
             scenario={"levers": {"reconstruction_homes_per_month": 365.25 / 12},
                       "population": {"renter_share": 0.5},
                       "impact": {"method": "depth_threshold", "depth_threshold_m": 0.5},
                       "return": {"repair_days_total_loss": 10.0, "repair_time_spread": 0.0}})
    renter = w.ctx.renters(np.arange(10))
    assert 0 < renter.sum() < 10
    back = np.full(10, -1)
    for t in range(40):
        away = w.hh.state == State.DISPLACED
        _run_until(w, t + 1, start=t)
        back[away & (w.hh.state == State.RETURNED)] = t
    assert (back >= 0).all()
    assert back[~renter].max() < back[renter].min()  # every owner before any renter
    duration = w.world.recorder.durations_by_tenure
    assert duration.sum(axis=1).tolist() == [4 * (~renter).sum(), 4 * renter.sum()]
    w.world.verify()


def test_a_landlord_funds_a_rented_home_so_a_poor_renter_waits_as_a_rich_one():
    """Repair money (return.repair_income_share): an owner's own income sets the wait."""
    depth = np.zeros((5000, 1))  # long enough that no repair date is past the end
    depth[0, 0] = 2.0
    scenario = {"impact": {"method": "depth_threshold", "depth_threshold_m": 0.5},
                "return": {"repair_days_total_loss": 100.0, "repair_time_spread": 0.0,
                           "repair_income_share": 1.0}}
    due = {}
    for share in (0.0, 1.0):
        w = tiny(depth, cell=[0] * 2, region_of_cell=[0], income=[1000.0, 9000.0],
                 savings=[0.0, 0.0],
                 scenario={**scenario, "population": {  # both own a typical home
                     "renter_share": share, "wealth_income_ratio": [6.0] * 6}})
        assert w.ctx.renters(np.arange(2)).tolist() == [share == 1.0] * 2
        _run_until(w, 2)
        due[share] = w.hh.due_step.astype(int)
    assert due[0.0][0] > due[0.0][1]  # owners: the poor one saves longer
    assert due[1.0][0] == due[1.0][1]  # renters: the landlord's money, the same for both
