"""Warnings are issued per forecast event, so what they reach does not depend on the step length.

Before issue 15 coverage and the forecast error were drawn anew every step: nominal 30 % coverage
reached 65 % of households in deep water with daily steps and 45 % with weekly steps, and the
demo's evacuations were 68,710 / 41,710 / 34,643 at 1 / 3 / 7-day steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.inputs.config import load_scenario
from simulator.model import DisplacementModel
from simulator.states import NO_STEP
from simulator.steps.displace import displace
from simulator.steps.warn import Forecasts, warn_and_evacuate

from .conftest import REPO
from .tiny import run_step, tiny


def _long_flood(coverage: float, days: int = 12, n: int = 4000):
    depth = np.zeros((days + 4, 1))
    depth[2:2 + days, 0] = 2.0  # one event: twelve wet days in a row
    return tiny(depth, cell=[0] * n, region_of_cell=[0],
                scenario={"levers": {"warning_coverage": coverage},
                          "warning": {"forecast_error_sd": 0.0, "base_compliance": 0.0}})


def test_an_event_reaches_the_coverage_share_once_however_many_steps_it_lasts():
    w, forecasts = _long_flood(0.3), Forecasts()
    for t in range(w.ctx.config.n_steps):
        run_step(w, t, warn_and_evacuate, w.ctx.intensity(t), forecasts)
    warned = w.hh.warned_step != NO_STEP
    assert warned.mean() == pytest.approx(0.3, abs=0.03)  # per-step draws: 1 - 0.7^12 = 0.99
    assert (w.hh.warned_step[warned] == 0).all()  # at the event's first forecast, not later


def test_a_new_event_is_warned_again():
    depth = np.zeros((12, 1))
    depth[2:4, 0] = 2.0
    depth[8:10, 0] = 2.0  # a second event after four dry days
    w = tiny(depth, cell=[0] * 2000, region_of_cell=[0], trust=[0.0] * 2000,  # all stay
             scenario={"levers": {"warning_coverage": 1.0},
                       "warning": {"forecast_error_sd": 0.0, "base_compliance": 0.0}})
    forecasts, first = Forecasts(), None
    for t in range(12):
        run_step(w, t, warn_and_evacuate, w.ctx.intensity(t), forecasts)
        if t == 5:
            first = w.hh.warned_step.copy()
    assert (first == 0).all() and (w.hh.warned_step == 6).all()


def test_water_already_at_the_door_does_not_change_the_evacuation_decision():
    """Perception is the one the household brought into the event (step-length invariance)."""
    depth = np.zeros((6, 1))
    depth[1:6, 0] = [0.2, 0.3, 2.0, 2.0, 2.0]  # shallow onset, then deep water
    w = tiny(depth, cell=[0] * 4000, region_of_cell=[0],
             scenario={"levers": {"warning_coverage": 1.0},
                       "warning": {"forecast_error_sd": 0.0, "base_compliance": 0.2,
                                   "initial_trust": 1.0}})
    w.hh.trust[:] = 1.0
    forecasts = Forecasts()
    for t in range(4):
        w.world.track_events(t, w.ctx.intensity(t))
        if w.ctx.intensity(t).max() > 0:
            run_step(w, t, displace, w.ctx.intensity(t), 0.0)
        run_step(w, t, warn_and_evacuate, w.ctx.intensity(t), forecasts)
    assert (w.hh.last_flood_step[w.hh.warned_step != NO_STEP] >= 1).all()  # wet feet first
    evacuated = int(w.world.recorder.evacuations.sum()) / 4 / 4000
    assert evacuated == pytest.approx(0.2, abs=0.03)  # b x trust, not the fresh-flood value 1


@pytest.mark.parametrize("seed", [42, 7])
def test_the_same_hazard_at_1_3_and_7_day_steps_displaces_and_evacuates_alike(seed):
    out = []
    for days in (1, 3, 7):
        cfg = load_scenario(REPO / "scenarios" / "demo.toml",
                            [f"step_days={days}", f"n_steps={126 // days}", f"seed={seed}"])
        ds = DisplacementModel(cfg).run()
        out.append((int(ds["newly_displaced"].sum()), int(ds["evacuations"].sum())))
    displaced, evacuations = zip(*out)
    assert len(set(displaced)) == 1 and displaced[0] > 0
    assert max(evacuations) <= 1.1 * min(evacuations) and min(evacuations) > 0


def _deep_water(coverage: float):
    depth = np.zeros((6, 1))
    depth[3:5, 0] = 2.0
    return tiny(depth, cell=[0] * 50, region_of_cell=[0], trust=[1.0] * 50,
                scenario={"levers": {"warning_coverage": coverage},
                          "warning": {"forecast_error_sd": 0.0, "base_compliance": 1.0},
                          "impact": {"method": "depth_threshold", "depth_threshold_m": 3.0}})


@pytest.mark.parametrize("coverage, exposed", [(0.0, 2 * 200), (1.0, 0)])
def test_a_warning_everyone_heeds_takes_everyone_out_of_dangerous_water(coverage, exposed):
    w, forecasts = _deep_water(coverage), Forecasts()
    for t in range(6):
        w.world.track_events(t, w.ctx.intensity(t))
        run_step(w, t, warn_and_evacuate, w.ctx.intensity(t), forecasts)
        if w.ctx.intensity(t).max() > 0:
            run_step(w, t, displace, w.ctx.intensity(t), 0.0)
    rec = w.world.recorder
    assert int(rec.exposed_at_home.sum()) == exposed  # 200 persons on each of two wet days
    assert int(rec.newly_displaced.sum()) == 0  # 2 m stays below the 3 m threshold
    assert (rec.internal_displacements == rec.evacuations).all()
    assert int(rec.evacuations.sum()) == (200 if coverage else 0)
