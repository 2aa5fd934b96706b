"""Repeated floods and flood defences, event by event (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.steps.displace import displace
from simulator.steps.place import place_unsheltered
from simulator.steps.record import record
from simulator.steps.recover import return_home

from .tiny import Tiny, tiny


def _run(w: Tiny) -> None:
    """The impact, place, return and record phases of every step, as the model orders them."""
    for t in range(w.ctx.config.n_steps):
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
    _run(w)
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
    _run(w)
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
