"""Step 6, return: evacuees go home when dry; the displaced once their home is repaired.

Evacuees return once their home is dry after the day their warning forecast. A displaced
household whose home is dry gets a repair time (damage × ``repair_days_total_loss`` with a
spread, divided by the region's reconstruction rate, at least ``min_days_away``); when it is due
the household returns, or after repeated shocks settles where it stays with the probability of
:func:`~simulator.rules.behaviour.return_probability` (Entwisle et al. 2020): it leaves its
temporary place and makes a new home in that region (``relocated``, a resident there), if anyone
lives there (a camp-only location has no dwellings; its households return instead).
"""

from __future__ import annotations

import numpy as np

from simulator.rules.behaviour import return_probability
from simulator.rules.impacts import repair_days
from simulator.states import NO_STEP, Move, State
from simulator.steps.context import Context
from simulator.steps.relocate import move
from simulator.world.ledger import World


def return_home(world: World, ctx: Context, t: int, depth: np.ndarray) -> None:
    """Bring evacuees and repaired displaced households home at step ``t`` (or settle them)."""
    hh = world.households
    ids = world.away_ids
    if ids.size == 0:
        return
    dry = ctx.home_depth(world, ids, depth, ctx.inputs.hazard.fraction_at(t)) \
        < ctx.kind.clear_below
    evac = hh.state[ids] == State.EVACUATED
    evac_back = ids[evac & dry & (t > hh.warned_step[ids] + ctx.lead_steps)]
    disp, disp_dry = ids[~evac], dry[~evac]
    _schedule_repairs(world, ctx, t, disp[disp_dry & (hh.due_step[disp] == NO_STEP)])
    due = disp[disp_dry & (hh.due_step[disp] != NO_STEP) & (hh.due_step[disp] <= t)]
    settle = ctx.streams.uniform("settle", t, due) >= return_probability(
        hh.shocks[due], ctx.config.return_.repeated_shock_penalty)
    settle &= ctx.region_has_homes[hh.stay_region[due]]  # a dwelling to settle in
    back = np.concatenate([evac_back, due[~settle]])
    stay = due[settle]
    world.vacate(back)
    world.vacate(stay)
    world.flow(hh.stay_region[back], hh.region[back], hh.size[back])
    rec = world.recorder
    np.add.at(rec.returns[t], hh.region[due[~settle]], hh.size[due[~settle]])
    np.add.at(rec.settled[t], hh.region[stay], hh.size[stay])
    # displacement episodes ending now, by return or by settling
    np.add.at(rec.durations, (hh.region[due], t - hh.since_step[due]), hh.size[due])
    world.come_home(evac_back, world.home_state(evac_back))
    world.come_home(due[~settle], State.RETURNED)
    world.end_away(np.concatenate([back, stay]))
    move(world, ctx, t, stay, hh.stay_region[stay].astype(np.int64), Move.SETTLED)


def _schedule_repairs(world: World, ctx: Context, t: int, ids: np.ndarray) -> None:
    """Give ``ids`` (displaced, home dry, no repair date yet) the step they can return."""
    if ids.size == 0:
        return
    hh, ret, step_days = world.households, ctx.config.return_, ctx.config.step_days
    days = repair_days(hh.damage[ids], ret.repair_days_total_loss, ret.repair_time_spread,
                       ctx.streams.uniform("return", t, ids))
    days = days / ctx.levers.reconstruction_rate[hh.region[ids]]
    days = np.maximum(days, ret.min_days_away - (t - hh.since_step[ids]) * step_days)
    due = t + np.ceil(days / step_days)
    hh.due_step[ids] = np.minimum(due, ctx.config.n_steps + 1)  # past the end: never
